"""Chapters 0-3: the as-of cut (issue 23 item 4), the sentences they read from the package and
the teaching truth they compare models with (issue 25 items 1 and 2)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from nbrun import ROOT, run_notebook

from carbonlab import bma, data, synth
from carbonlab._util import ParameterError
from carbonlab.forecast import observed
from carbonlab.models import report
from carbonlab.models.evaluation import Comparison
from carbonlab.runner import PARAMETER_RULES, check_parameters

CHAPTERS = ("00_overview", "01_accounting", "02_bma", "03_models")


@pytest.mark.parametrize("stem", CHAPTERS)
def test_every_real_data_chapter_takes_as_of(stem):
    """Declared in the notebook and in PARAMETER_RULES: 0 or a year of the panel is accepted,
    a year after the teaching panel's last one fails before the kernel starts."""
    nb = ROOT / "notebooks" / f"{stem}.ipynb"
    assert "as_of" in PARAMETER_RULES[stem]
    last = int(data.load_panel("teaching")["year"].max())
    assert check_parameters(nb, {"as_of": "2015"})["as_of"] == 2015
    assert check_parameters(nb, {"as_of": 0})["as_of"] == 0
    with pytest.raises(ParameterError, match="as_of"):
        check_parameters(nb, {"as_of": last + 1})


def test_known_in_cuts_the_years_and_names_a_bad_year():
    p = data.load_panel("teaching")
    cut = observed.known_in(p, 2012)
    assert int(cut["year"].max()) == 2012 and len(cut) == (p["year"] <= 2012).sum()
    assert observed.known_in(p, 0) is p
    with pytest.raises(ParameterError, match="as_of: a year from 2005 to 2021"):
        observed.known_in(p, 2030)
    assert observed.as_of_note(0) == ""
    assert "As of 2012" in observed.as_of_note(2012, "the panel")


def test_coverage_as_known_in_a_year():
    """A driver whose series starts after the cut is unavailable then; no year after it."""
    cov = pd.DataFrame({"driver": ["a", "b"], "meaning": ["", ""], "status": ["real", "real"],
                        "first_year": [2005, 2014], "last_year": [2022, 2022],
                        "source": ["s", "s"], "how": ["h", "h"]})
    p = pd.DataFrame({"region": "X", "year": range(2005, 2013), "emissions_mt": 1.0})
    p.attrs["coverage"] = cov
    out = observed.coverage(p).set_index("driver")
    assert out.loc["a", "to"] == 2012 and out.loc["a", "status"] == "real"
    assert out.loc["b", "status"] == "unavailable" and pd.isna(out.loc["b", "from"])


def _comparison(panel: pd.DataFrame, preds: dict[str, np.ndarray]) -> Comparison:
    rows = [pd.DataFrame({"model": m, "variant": "v", "split": "rolling", "fold": "f",
                          "region": panel["region"], "year": panel["year"], "set": "test",
                          "y_true": data.log_emissions_per_capita(panel).to_numpy(),
                          "y_pred": y, "population_10k": panel["population_10k"]})
            for m, y in preds.items()]
    return Comparison(pd.DataFrame(), pd.concat(rows, ignore_index=True))


def test_truth_distance_is_zero_for_the_truth_and_ranks_the_rest():
    p = data.load_panel("teaching")
    truth = data.load_truth()
    y = data.log_emissions_per_capita(p).to_numpy()
    f = synth.true_index(p, truth)
    star = pd.Series(y - f).groupby(p["region"].to_numpy()).transform("mean").to_numpy() + f
    dist = report.truth_distance(_comparison(p, {"oracle": star, "data": y, "off": star + 0.1}),
                                 p, truth)
    d = dist.set_index("model")["mse_truth"]
    assert d["oracle"] == pytest.approx(0, abs=1e-20)
    assert d["off"] == pytest.approx(0.01)
    assert list(dist["model"]) == ["oracle", "data", "off"]
    assert d["data"] == pytest.approx(dist.attrs["noise_mse"])
    assert "Closest to the noise-free truth on the test years is oracle" in \
        report.describe_truth_distance(dist)


def test_truth_check_linear_stand_in_is_exact_for_a_linear_truth():
    """Without the interaction the best linear stand-in is the truth's own coefficients; with
    it, the scaled driver's stand-in differs and the interaction's range is reported."""
    p = data.load_panel("teaching")
    truth = data.load_truth()
    X, y, g = bma.design_from_panel(p)
    summary = bma.BMA().fit(X, y, g).summary()
    linear = truth.drop(columns=["scaled_by", "floor", "reference"])
    check = bma.truth_check(summary, p, linear)
    true = check[check["true"]]
    assert np.allclose(true["linear"], true["coefficient"], atol=1e-9)
    assert check.attrs["interaction"] == {}
    nonlin = bma.truth_check(summary, p, truth)
    inter = nonlin.attrs["interaction"]
    assert inter["driver"] == "fossil" and inter["lo"] < inter["hi"]
    assert abs(nonlin.loc["fossil", "linear"] - nonlin.loc["fossil", "coefficient"]) > 0.05
    text = bma.describe_recovery(summary, nonlin)
    n = int((nonlin.loc[nonlin["true"], "pip"] > 0.95).sum())
    assert f"PIP > 0.95 to {n} of the 5 true drivers" in text and "not linear" in text
    assert "no known truth" in bma.describe_recovery(summary)


@pytest.mark.slow
def test_chapter_2_as_of_uses_only_the_years_known_then(tmp_path, data_dir):
    """Chapter 2 on the real data as of 2017: the note at the top, no year after 2017 in the fit."""
    out = run_notebook("02_bma.ipynb", tmp_path, dataset="ceads", as_of=2017)
    text = out.read_text(encoding="utf-8")
    nb = json.loads(text)
    assert "As of 2017" in text
    errors = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    glued = {o["metadata"]["scrapbook"]["name"]: o["data"] for c in nb["cells"]
             for o in c.get("outputs", []) if "scrapbook" in o.get("metadata", {})}
    X, _, _ = bma.design_from_panel(observed.known_in(data.load_panel("ceads"), 2017))
    assert glued["fit_n_obs"]["application/papermill.record/text/plain"] == str(len(X))
    assert len(X) < len(bma.design_from_panel(data.load_panel("ceads"))[0])
