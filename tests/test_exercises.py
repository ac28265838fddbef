"""Course material: every exercise has a hidden solution, and solutions that compute run.

Convention (CONTRIBUTING.md, "Exercises and solutions"): an exercise is a sphinx-exercise
directive with a label, its solution is hidden (``:class: dropdown``). Solution code is
either a code cell tagged ``solution`` inside a gated solution (``{solution-start} <label>``
... ``{solution-end}``; it runs in the book) or a fenced ```` ```python ```` block inside a
``{solution}`` directive whose own fence is longer (```` ````{solution} ````; shown, not run,
in the book). Either runs on its own right after the notebook's ``parameters`` cell (it
imports and loads what it needs), so each one is checked here without running the rest of
the chapter.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import TEST_PARAMS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# the chapters, and the city page (a gallery page with an exercise of its own)
CHAPTERS = [p for p in NOTEBOOKS if re.match(r"\d\d_", p.name) or p.stem == "city"]

_EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[^\n]*\n(?::[^\n]*\n)*?:label:\s*(\S+)", re.M)
_SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution(?:-start)?\}\s+(\S+)\s*\n((?::[^\n]*\n)*)", re.M)
_OLD_STYLE = re.compile(r"\{admonition\}\s*Exercise", re.I)
_PYTHON = re.compile(r"^(`{3,}|~{3,})\s*(?:python|py|ipython3?|\{code-cell\}\s*(?:python|ipython3)?)\s*\n"
                     r"(?:(?::[^\n]*\n))*(.*?)^\1\s*$", re.M | re.S)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _markdown(path: Path) -> str:
    return "\n".join(_text(c) for c in _cells(path) if c["cell_type"] == "markdown")


def _solution_cells(path: Path) -> list[dict]:
    return [c for c in _cells(path) if c["cell_type"] == "code"
            and "solution" in c.get("metadata", {}).get("tags", [])]


def _solution_bodies(md: str) -> dict[str, str]:
    """label -> text inside each ``{solution}`` directive (up to its closing fence)."""
    out = {}
    for m in _SOLUTION.finditer(md):
        fence = m[1]
        end = re.compile(rf"^{re.escape(fence)}\s*$", re.M).search(md, m.end())
        out[m[2]] = md[m.end(): end.start() if end else len(md)]
    return out


def _solution_code(path: Path) -> list[str]:
    """Every piece of solution code: cells tagged ``solution`` and fenced python blocks."""
    code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in _solution_cells(path)]
    for body in _solution_bodies(_markdown(path)).values():
        code += [m[2] for m in _PYTHON.finditer(body)]
    return code


def test_parsers_find_exercises_and_solutions():
    md = ("```{exercise} Title\n:label: ex-a\n\nQ\n```\n"
          "````{solution} ex-a\n:class: dropdown\n\nA\n```python\nx = 1\n```\n````\n"
          "```{exercise}\n:label: ex-b\n```\n"
          "```{solution-start} ex-b\n:class: dropdown\n```\n")
    assert [m[2] for m in _EXERCISE.finditer(md)] == ["ex-a", "ex-b"]
    assert [(m[2], ":class: dropdown" in m[3]) for m in _SOLUTION.finditer(md)] == [
        ("ex-a", True), ("ex-b", True)]
    bodies = _solution_bodies(md)
    assert [m[2] for m in _PYTHON.finditer(bodies["ex-a"])] == ["x = 1\n"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_hidden_solution(path):
    md = _markdown(path)
    assert not _OLD_STYLE.search(md), (
        f"{path.name}: an exercise written as an admonition; use ```{{exercise}} with a :label:")
    exercises = [m[2] for m in _EXERCISE.finditer(md)]
    assert exercises, f"{path.name}: no {{exercise}} directive"
    assert len(exercises) == len(set(exercises)), f"{path.name}: duplicate exercise labels"
    solutions = {m[2]: m[3] for m in _SOLUTION.finditer(md)}
    missing = [e for e in exercises if e not in solutions]
    assert not missing, f"{path.name}: exercises without a solution: {missing}"
    shown = [e for e in exercises if ":class: dropdown" not in solutions[e]]
    assert not shown, f"{path.name}: solutions not hidden (:class: dropdown): {shown}"
    if _solution_cells(path):
        assert md.count("{solution-start}") == md.count("{solution-end}"), path.name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_has_a_solution_that_computes(path):
    assert _solution_code(path), (
        f"{path.name}: no solution code (a code cell tagged 'solution' or a ```python block in a "
        "{solution}; at least one exercise per chapter is checked by running its solution)")


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in CHAPTERS if _solution_code(p)], ids=lambda p: p.stem)
def test_solution_code_runs(path, tmp_path):
    """Each piece of solution code, after the parameters cell alone, runs without error."""
    import nbformat
    import papermill as pm

    nb = nbformat.read(str(path), as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    solutions = [nbformat.v4.new_code_cell(code, metadata={"tags": ["solution"]})
                 for code in _solution_code(path)]
    nb.cells = params + solutions
    src = tmp_path / path.name
    nbformat.write(nb, str(src))
    declared = pm.inspect_notebook(str(src))
    overrides = {k: v for k, v in TEST_PARAMS.get(path.stem, {}).items() if k in declared}
    out = tmp_path / f"out_{path.name}"
    pm.execute_notebook(str(src), str(out), parameters={"dataset": "teaching", **overrides},
                        kernel_name="python3", cwd=str(ROOT), progress_bar=False, log_output=False)
    ran = [c for c in nbformat.read(str(out), as_version=4).cells
           if "solution" in c.metadata.get("tags", [])]
    assert len(ran) == len(solutions)
    for cell in ran:
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source[:200]
