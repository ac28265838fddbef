"""How much of a chapter's method the reader sees: hidden code, hidden-only names, glue.

Issue 25 (item 1) asks that each chapter shows its method in visible calls. Measured over a
stored notebook's code cells, leaving out the ``parameters`` cell and exercise solutions
(code cells tagged ``solution``, which sit in hidden dropdowns by design):

- ``code_lines``: non-blank lines that are not only a comment;
- ``hidden_share``: share of those lines in cells the book hides (tags ``remove-cell``,
  ``remove-input``, ``hide-input``, ``hide-cell``); target at most 40 %;
- ``hidden_only``: names a visible cell reads that no earlier visible cell (nor the
  parameters cell, nor an import) binds but a hidden cell does, i.e. what a student retyping
  the visible cells could not run; target none. Names bound by ``import`` are allowed:
  CONTRIBUTING lets a chapter hide its imports;
- ``glue_share``: share of code lines in statements that call ``glue`` or ``glue_result``
  (the whole statement, arguments included); target at most 20 %.

``python tests/nbmetrics.py`` prints the table for every notebook.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HIDDEN_TAGS = frozenset({"remove-cell", "remove-input", "hide-input", "hide-cell"})
SKIPPED_TAGS = frozenset({"parameters", "injected-parameters", "solution"})
GLUE_NAMES = frozenset({"glue", "glue_result"})
TARGET_HIDDEN = 0.40
TARGET_GLUE = 0.20
_BUILTINS = frozenset(dir(builtins)) | {"display", "get_ipython", "In", "Out", "__file__"}
_MAGIC = re.compile(r"^\s*[%!]")


@dataclass
class Metrics:
    """The three measures of one notebook (see the module docstring)."""

    notebook: str
    code_lines: int = 0
    hidden_lines: int = 0
    glue_lines: int = 0
    hidden_only: dict[str, list[str]] = field(default_factory=dict)
    """visible cell's first line -> names it reads that only hidden cells bind"""

    @property
    def hidden_share(self) -> float:
        return self.hidden_lines / self.code_lines if self.code_lines else 0.0

    @property
    def glue_share(self) -> float:
        return self.glue_lines / self.code_lines if self.code_lines else 0.0

    @property
    def n_hidden_only(self) -> int:
        return sum(len(v) for v in self.hidden_only.values())

    def problems(self) -> list[str]:
        """What misses a target, one phrase each (empty when all three are met)."""
        out = []
        if self.hidden_share > TARGET_HIDDEN:
            out.append(f"{self.hidden_share:.0%} of {self.code_lines} code lines hidden "
                       f"(target ≤ {TARGET_HIDDEN:.0%})")
        if self.hidden_only:
            names = sorted({n for v in self.hidden_only.values() for n in v})
            out.append(f"visible cells read {len(names)} names bound only in hidden cells: "
                       f"{', '.join(names[:12])}{' …' if len(names) > 12 else ''}")
        if self.glue_share > TARGET_GLUE:
            out.append(f"glue statements are {self.glue_share:.0%} of code lines "
                       f"(target ≤ {TARGET_GLUE:.0%})")
        return out

    def row(self) -> str:
        return (f"{self.notebook:<22} {self.code_lines:>5} {self.hidden_share:>7.0%} "
                f"{self.n_hidden_only:>12} {self.glue_share:>6.0%}")


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _parse(src: str) -> ast.Module:
    """The cell as Python (IPython magics and shell lines blanked); empty if it is not Python."""
    code = "\n".join("" if _MAGIC.match(ln) else ln for ln in src.splitlines())
    try:
        return ast.parse(code)
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _code_lines(src: str) -> set[int]:
    return {i for i, ln in enumerate(src.splitlines(), start=1)
            if ln.strip() and not ln.strip().startswith("#")}


def _is_glue(stmt: ast.stmt) -> bool:
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in GLUE_NAMES:
                return True
    return False


def bound_names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names bound by imports, names bound otherwise) anywhere in ``tree``."""
    imports: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for a in node.names:
                imports.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            other.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            other.add(node.name)
        elif isinstance(node, ast.arg):
            other.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            other.add(node.name)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            other.add(node.name)
    return imports, other


def read_names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def measure(path: str | Path) -> Metrics:
    """The :class:`Metrics` of the stored notebook at ``path``."""
    path = Path(path)
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    m = Metrics(path.stem)
    visible_bound: set[str] = set(_BUILTINS)
    hidden_bound: set[str] = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        src = _source(cell)
        tree = _parse(src)
        imports, other = bound_names(tree)
        if tags & SKIPPED_TAGS:
            if tags & {"parameters", "injected-parameters"}:
                visible_bound |= imports | other
            continue
        lines = _code_lines(src)
        hidden = bool(tags & HIDDEN_TAGS)
        m.code_lines += len(lines)
        m.hidden_lines += len(lines) if hidden else 0
        glued: set[int] = set()
        for stmt in tree.body:
            if _is_glue(stmt):
                glued |= set(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
        m.glue_lines += len(lines & glued)
        visible_bound |= imports  # imports may stay hidden (CONTRIBUTING)
        if hidden:
            hidden_bound |= other
            continue
        missing = sorted((read_names(tree) - other - visible_bound) & hidden_bound)
        if missing:
            first = next((ln.strip() for ln in src.splitlines() if ln.strip()), "")
            m.hidden_only[first[:60]] = missing
        visible_bound |= other
    return m


HEADER = f"{'notebook':<22} {'lines':>5} {'hidden':>7} {'hidden-only':>12} {'glue':>6}"


def main(paths: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    paths = paths or [str(p) for p in sorted((root / "notebooks").glob("*.ipynb"))]
    print(HEADER)
    for p in paths:
        m = measure(p)
        print(m.row())
        for where, names in m.hidden_only.items():
            print(f"    {where!r}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
