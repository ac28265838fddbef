"""The pinned environment keeps notebook runs cheap: what every kernel and runner imports."""

from __future__ import annotations

import subprocess
import sys


def test_nbformat_and_glue_do_not_compile_a_uri_grammar() -> None:
    """``myst_nb.glue`` (every chapter's kernel) and papermill import nbformat → jsonschema.

    jsonschema ≥ 4.24 imports rfc3987-syntax, which builds a lark grammar at import time
    (3.7 s per process on the 2-core build machine, × 40 notebooks in the book); the lock
    pins jsonschema < 4.24 (pyproject.toml says why).
    """
    code = ("import sys; from myst_nb import glue; glue('x', 1, display=False); import nbformat; "
            "print(sorted(m for m in ('rfc3987_syntax', 'lark') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, object]:
    """pyproject.toml's dependencies and extras: normalised name → Requirement."""
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    reqs = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values()
                                         for r in extra)]
    return {_norm(Requirement(r).name): Requirement(r) for r in reqs}


def test_every_import_of_the_package_is_declared() -> None:
    """Every third-party module imported anywhere in carbonlab/ (also inside functions) comes
    from a distribution pyproject.toml declares (dependencies or an extra)."""
    import ast
    from importlib.metadata import packages_distributions
    from pathlib import Path

    pkg = Path(__file__).parent.parent / "carbonlab"
    where: dict[str, str] = {}
    for path in sorted(pkg.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                     and node.module else [])
            for n in names:
                where.setdefault(n.split(".")[0], f"{path.relative_to(pkg.parent)}:{node.lineno}")
    third = {m: w for m, w in where.items() if m not in sys.stdlib_module_names and m != "carbonlab"}
    assert {"numpy", "sklearn", "joblib"} <= set(third)  # the scan sees the package's imports
    dists = packages_distributions()
    declared = _declared()
    missing = [f"{m} ({w}): not installed" if m not in dists else
               f"{m} ({w}): distribution {dists[m][0]} not in pyproject.toml"
               for m, w in sorted(third.items())
               if m not in dists or not any(_norm(d) in declared for d in dists[m])]
    assert not missing, missing


def test_declared_dependencies_are_locked_at_versions_they_allow() -> None:
    """requirements.lock pins every declared distribution, at a version its specifier allows."""
    from pathlib import Path

    lock = {}
    for line in (Path(__file__).parent.parent / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split(";")[0].strip().split("==")
            lock[_norm(name.split("[")[0])] = version.strip()
    bad = [f"{n}: not in requirements.lock" if n not in lock else
           f"{n}: locked {lock[n]}, pyproject.toml says {r.specifier}"
           for n, r in _declared().items()
           if n not in lock or not r.specifier.contains(lock[n], prereleases=True)]
    assert not bad, bad
