"""Data flows one way: a module imports only modules to its left (CONTRIBUTING.md)."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "carbonlab"

RANK = {
    "_util": 0, "cache": 1, "regions": 1, "units": 1, "plotting": 1, "data": 2,
    "accounting": 3, "synth": 4, "bma": 5, "models": 6, "scenarios": 7, "peaks": 8, "headline": 8.5,
    "leap": 9,
    "runner": 10, "batch": 11, "book": 12, "cli": 13, "__main__": 14,
}


def _module_of(path: Path) -> str:
    rel = path.relative_to(PKG).with_suffix("")
    return rel.parts[0] if rel.parts[0] != "__init__" else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("carbonlab"):
            parts = node.module.split(".")
            if len(parts) == 1:  # from carbonlab import x
                out += [(node.lineno, a.name) for a in node.names]
            else:
                out.append((node.lineno, parts[1]))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("carbonlab."):
                    out.append((node.lineno, a.name.split(".")[1]))
    return out


FILES = sorted(p for p in PKG.rglob("*.py") if p.name != "__init__.py" or p.parent != PKG)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_point_left(path):
    me = _module_of(path)
    assert me in RANK, f"{path}: add the new module to RANK and CONTRIBUTING.md"
    for line, target in _imports(path):
        if target == "__version__":
            continue
        assert target in RANK, f"{path}:{line} imports unknown carbonlab.{target}"
        same_package = target == me
        assert same_package or RANK[target] < RANK[me], (
            f"{path.relative_to(PKG)}:{line} imports carbonlab.{target}, which is not to its left")


def test_package_init_is_light():
    """``import carbonlab`` imports no submodule (no TensorFlow, no pandas at import)."""
    assert _imports(PKG / "__init__.py") == []
