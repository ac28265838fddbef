"""Stored notebooks carry no outputs and one annotated `parameters` cell; the overview runs."""

import json
from pathlib import Path

import pytest
from nbrun import run_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert any(p.name == "00_overview.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "papermill" not in nb.get("metadata", {}), "papermill metadata stored"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: stored outputs"
            assert cell.get("execution_count") is None, f"{path.name}: stored execution count"
        assert "papermill" not in cell.get("metadata", {}), f"{path.name}: papermill cell metadata"
        assert "execution" not in cell.get("metadata", {}), f"{path.name}: execution timing stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_annotated_parameters_cell(path):
    import papermill as pm

    nb = json.loads(path.read_text(encoding="utf-8"))
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} parameters cells"
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(
        nb["cells"][0]["source"]).lstrip().startswith("# "), f"{path.name}: starts without a title"
    params = pm.inspect_notebook(str(path))
    assert {"dataset", "seed"} <= set(params), f"{path.name}: needs dataset and seed parameters"
    for name, p in params.items():
        assert p["inferred_type_name"] not in ("None", ""), f"{path.name}: {name} not annotated"
    assert params["dataset"]["default"].strip("'\"") == "teaching"


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["teaching", "ceads"])
def test_overview_runs(tmp_path, dataset, data_dir):
    out = run_notebook("00_overview.ipynb", tmp_path, dataset=dataset, region="内蒙古")
    nb = json.loads(out.read_text(encoding="utf-8"))
    images = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]
              if "image/png" in o.get("data", {})]
    assert len(images) >= 1
    assert "Inner Mongolia" in out.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the method is visible
# Issue 25, item 1: per chapter at most 40 % of the code lines hidden, no visible cell reading a
# name that only hidden cells bind, glue statements at most 20 % of the code lines (measured by
# tests/nbmetrics.py; `python tests/nbmetrics.py` prints the table). Chapters still being
# rewritten are listed here: their checks report (xfail) instead of failing. Remove a chapter
# from the list once it meets the targets.
NOT_YET_CONVERTED: dict[str, str] = {
}
CHAPTERS = [p for p in NOTEBOOKS if p.stem[:2].isdigit()]


def _chapter_param(path: Path):
    reason = NOT_YET_CONVERTED.get(path.stem)
    marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
    return pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", [_chapter_param(p) for p in CHAPTERS])
def test_chapter_shows_its_method(path):
    from nbmetrics import measure

    m = measure(path)
    assert m.code_lines > 0, f"{path.name}: no code"
    problems = m.problems()
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_method_metrics_see_what_they_measure(tmp_path):
    """The measure on a made-up notebook: hidden lines, a hidden-only name, glue lines."""
    from nbmetrics import measure

    def code(src, *tags):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": src,
                "outputs": [], "execution_count": None}

    cells = [code('dataset: str = "teaching"', "parameters"),
             code("import numpy as np\nfrom myst_nb import glue\nhelper = 2  # set up", "remove-cell"),
             code("x = np.arange(3) * helper\n# a comment\n\ny = x.sum()"),
             code("glue('y', y,\n     display=False)\nz = y", "remove-cell"),
             code("print(z, dataset, len(x))"),
             code("w = 1", "solution")]
    nb = tmp_path / "99_made_up.ipynb"
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    m = measure(nb)
    assert (m.code_lines, m.hidden_lines, m.glue_lines) == (9, 6, 2)
    assert list(m.hidden_only.values()) == [["helper"], ["z"]]
    assert len(m.problems()) == 3
