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
