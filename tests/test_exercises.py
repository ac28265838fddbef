"""Course material: every exercise has a hidden solution, and solutions that compute run.

Convention (CONTRIBUTING.md, "Exercises and solutions"): an exercise is a sphinx-exercise
directive with a label, its solution is hidden (``:class: dropdown``); a solution with code
is gated — a ``{solution-start} <label>`` Markdown cell, code cells tagged ``solution``, a
``{solution-end}`` cell. A ``solution`` cell runs on its own right after the notebook's
``parameters`` cell (it imports and loads what it needs), so each one is checked here
without running the rest of the chapter.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import TEST_PARAMS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if re.match(r"\d\d_", p.name)]

_EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[^\n]*\n(?::[^\n]*\n)*?:label:\s*(\S+)", re.M)
_SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution(?:-start)?\}\s+(\S+)\s*\n((?::[^\n]*\n)*)", re.M)
_OLD_STYLE = re.compile(r"\{admonition\}\s*Exercise", re.I)


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


def test_parsers_find_exercises_and_solutions():
    md = ("```{exercise} Title\n:label: ex-a\n\nQ\n```\n"
          "```{solution} ex-a\n:class: dropdown\n\nA\n```\n"
          "```{exercise}\n:label: ex-b\n```\n"
          "```{solution-start} ex-b\n:class: dropdown\n```\n")
    assert [m[2] for m in _EXERCISE.finditer(md)] == ["ex-a", "ex-b"]
    assert [(m[2], ":class: dropdown" in m[3]) for m in _SOLUTION.finditer(md)] == [
        ("ex-a", True), ("ex-b", True)]


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
    assert _solution_cells(path), (
        f"{path.name}: no code cell tagged 'solution' (at least one exercise per chapter is "
        "checked by running its solution)")


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in CHAPTERS if _solution_cells(p)], ids=lambda p: p.stem)
def test_solution_cells_run(path, tmp_path):
    """Each ``solution`` cell, after the parameters cell alone, runs without error."""
    import nbformat
    import papermill as pm

    nb = nbformat.read(str(path), as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    solutions = [c for c in nb.cells if c.cell_type == "code" and "solution" in c.metadata.get("tags", [])]
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
        assert cell.outputs, f"{path.name}: a solution cell shows nothing:\n{cell.source[:200]}"
        assert not [o for o in cell.outputs if o.output_type == "error"]
