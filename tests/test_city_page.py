"""The city page (notebooks/city.ipynb): the answer comes first and matches chapter 5's API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import TEST_PARAMS

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "notebooks" / "city.ipynb"


def _markdown_outputs(path: Path) -> list[tuple[str, int]]:
    """Every Markdown output of the executed page with the index of its cell."""
    out = []
    for i, c in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for o in c.get("outputs", []):
            md = o.get("data", {}).get("text/markdown")
            if md:
                out.append(("".join(md) if isinstance(md, list) else md, i))
    assert out, f"{path.name}: no Markdown answer in the outputs"
    return out


def _shown_before(path: Path, cell: int) -> list[dict]:
    """Visible code cells before ``cell`` (only hidden bookkeeping may come first)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in cells[:cell] if c["cell_type"] == "code"
            and not {"remove-cell", "parameters", "injected-parameters"}
            & set(c.get("metadata", {}).get("tags", []))]


@pytest.mark.slow
def test_city_page_opens_with_the_computed_answer(tmp_path):

    from carbonlab import leap
    from carbonlab.data import load_cities
    from carbonlab.runner import run_notebook

    params = {"dataset": "teaching", **TEST_PARAMS.get("city", {}), "city": "兰州"}
    out = Path(run_notebook(PAGE, params, tmp_path / "city_Lanzhou.ipynb"))
    (text, cell), *rest = _markdown_outputs(out)

    # the same run through the API, with chapter 5's evaluation (the cache entry the page read)
    fast, end = params.get("fast", False), params.get("horizon_end", 2035)
    cities = load_cities("teaching")
    models = tuple(m for m in leap.CITY_MODELS if not (fast and m == "lstm"))
    names = leap.scored_cities(cities, "Lanzhou", 0, fast)
    ev = leap.all_cities(cities, models, names=names, n_origins=6, fast=True)["evaluation"]
    run = leap.run_city(cities, "Lanzhou", horizon_end=end, models=models, fast=True,
                        evaluation=ev)
    summ = run.summary()
    scores = leap.model_scores(run.evaluation)

    assert text.startswith("**Lanzhou (兰州): ")
    assert f"In {end} the policy emits **{summ['reduction_end_pct']:.1f} % less**" in text
    pb = run.peak("baseline")
    assert f"{pb.peak_value:,.1f} Mt CO2 ({pb.peak_value / 100:.2f} 亿t)" in text
    used = leap.LABELS[run.model]
    assert f"**Baseline forecaster:** **{used}** (`model=\"auto\"`) ({scores.loc[run.model, 'all']:.1f} %" in text
    if run.model != "persistence":
        assert f"persistence (next year = this year) errs by {scores.loc['persistence', 'all']:.1f} %" in text
    # the nested check is on the page, and no winner that loses out of sample is claimed
    assert run.selection_text() in text
    sel = run.selection
    if sel is not None and not sel["beats_persistence"]:
        assert run.model == "persistence" and "no winner is claimed" in text
    elif sel is not None:
        assert run.model == str(scores.index[0]) and "beats persistence" in text
    study = leap.STUDY_PEAKS["Lanzhou"]
    assert (f"baseline {study['baseline']} against {summ['baseline_peak']}, policy "
            f"{study['policy']} against {summ['policy_peak']}") in text
    assert "interpolated (flagged): none" in text
    assert not _shown_before(out, cell), "a visible code cell comes before the answer"
    # the pilot-year line is computed from the same run
    pilot = next(t for t, _ in rest if t.startswith("**When the pilot started.**"))
    pe = leap.pilot_effect(run, (2012, 2015, None))
    assert f"{pe.iloc[-1][f'reduction_{end}_pct']:.1f} % without a pilot" in pilot
    # nothing raw anywhere: no repr, no dtype line, no scientific notation
    shown = [t for c in json.loads(out.read_text(encoding="utf-8"))["cells"]
             for o in c.get("outputs", []) for k, t in o.get("data", {}).items()
             if k in ("text/markdown", "text/html", "text/plain")]
    assert not [o for c in json.loads(out.read_text(encoding="utf-8"))["cells"]
                for o in c.get("outputs", []) if o.get("output_type") in ("stream", "error")]
    for bad in ("dtype:", "e+0", "e-0", "CityRun(", "PeakResult("):
        assert not [t for t in shown if bad in "".join(t)], bad


@pytest.mark.slow
def test_city_that_cannot_run_says_why(tmp_path, data_dir):
    """On the CEADs inventories Pingliang has one positive year: the page says so in one line."""
    from carbonlab.runner import run_notebook

    params = {"dataset": "ceads", **TEST_PARAMS.get("city", {}), "city": "Pingliang"}
    out = Path(run_notebook(PAGE, params, tmp_path / "city_Pingliang.ipynb"))
    text, _ = _markdown_outputs(out)[0]
    assert text.startswith("**Pingliang (") and "cannot be run on the ceads data:**" in text
    assert "1 positive observations, need at least 2" in text
    assert "\n" not in text.strip()
