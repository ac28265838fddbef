"""Issue 23: the BMA-elasticity forecaster, skill on unseen years, calibrated members, as-of."""

import numpy as np
import pandas as pd
import pytest

from carbonlab import data
from carbonlab._util import ParameterError
from carbonlab.bma import BMA, design_from_panel
from carbonlab.forecast import CLASS_2025, CLASS_2030, CLASS_BEFORE, CLASS_NOT, find_peak
from carbonlab.forecast.calibrate import (
    ErrorModel,
    calibration_check,
    calibration_summary,
    class_contradicts,
    class_from_probabilities,
    likelihood,
)
from carbonlab.forecast.outlook import _published, chapter_inputs
from carbonlab.forecast.paths import forecast
from carbonlab.forecast.skill import skill, skill_backtest, skill_table
from carbonlab.models import NAIVE, PANEL_MODELS, BMAElasticity, PanelModel

DRIVERS = ("fossil", "gas", "tertrate", "lcar", "first")


@pytest.fixture(scope="module")
def panel():
    p = data.load_panel("teaching")
    keep = sorted(p["region"].unique())[:6]
    return p[p["region"].isin(keep)].reset_index(drop=True)


def _frozen_paths(panel, end=2030, bump=None):
    """History, then every driver frozen at its last value (plus ``bump`` in the last year)."""
    rows = []
    for r, g in panel.sort_values("year").groupby("region"):
        last = g.iloc[-1]
        for y in range(int(last["year"]) + 1, end + 1):
            row = {"region": r, "year": y, **{d: float(last[d]) for d in DRIVERS}}
            if bump and y == end:
                row[bump[0]] += bump[1]
            rows.append(row)
    fut = pd.DataFrame(rows).assign(projected=True)
    hist = panel[["region", "year", *DRIVERS]].assign(projected=False)
    return pd.concat([hist, fut], ignore_index=True)


def _population(panel, end=2030):
    last = panel.sort_values("year").groupby("region").tail(1)
    fut = [{"region": r, "year": y, "population_10k": float(v)}
           for r, v in zip(last["region"], last["population_10k"], strict=True)
           for y in range(int(last["year"].iloc[0]) + 1, end + 1)]
    return pd.concat([panel[["region", "year", "population_10k"]], pd.DataFrame(fut)])


def test_bma_elasticity_is_chapter_2s_posterior_mean(panel):
    pm = PanelModel(BMAElasticity(), DRIVERS).fit(panel)
    X, y, groups = design_from_panel(panel, list(DRIVERS))
    ref = BMA(g="UIP", mprior="uniform", within="individual").fit(X, y, groups=groups)
    np.testing.assert_allclose(pm.estimator_.coef_.to_numpy(),
                               ref.summary(order_by_pip=False)["post_mean"].to_numpy(), rtol=1e-10)
    assert "bma" in PANEL_MODELS


def test_anchored_forecast_moves_only_with_the_drivers(panel):
    pm = PanelModel("bma", DRIVERS).fit(panel)
    pop = _population(panel)
    flat = forecast(pm, panel, _frozen_paths(panel), pop)
    # frozen drivers, frozen population: every forecast year equals the last observation
    for r, g in flat.groupby("region"):
        last = panel[panel["region"] == r].sort_values("year")["emissions_mt"].iloc[-1]
        np.testing.assert_allclose(g.loc[g["projected"], "emissions_mt"], last, rtol=1e-12)
    moved = forecast(pm, panel, _frozen_paths(panel, bump=("fossil", 0.01)), pop)
    beta = pm.estimator_.coef_["fossil"]
    a = flat[flat["year"] == 2030]["emissions_mt"].to_numpy()
    b = moved[moved["year"] == 2030]["emissions_mt"].to_numpy()
    np.testing.assert_allclose(np.log(b / a), beta * 0.01, rtol=1e-9)


def test_posterior_draws_match_the_posterior(panel):
    est = PanelModel(BMAElasticity(), DRIVERS).fit(panel).estimator_
    d = est.coef_draws(4000, random_state=1)
    np.testing.assert_allclose(d.mean(), est.coef_, atol=4 * est.coef_sd_.max() / np.sqrt(4000) + 1e-3)
    assert d.equals(est.coef_draws(4000, random_state=1))
    assert ((d.std() / est.coef_sd_.clip(lower=1e-9)).between(0.7, 1.2) | (est.pip_ < 0.05)).all()


@pytest.fixture(scope="module")
def backtest(panel):
    return skill_backtest(panel, DRIVERS, models=("fe", "bma"), origins=[2012, 2014, 2016],
                          max_horizon=4, cache=False)


def test_skill_backtest_shapes_and_baselines(backtest, panel):
    assert set(backtest["model"]) == {"fe", "bma", *NAIVE}
    assert set(backtest["mode"]) == {"conditional", "unconditional"}
    assert backtest["h"].between(1, 4).all()
    assert (backtest["year"] == backtest["origin"] + backtest["h"]).all()
    t = skill_table(backtest)
    np.testing.assert_allclose(t.loc[t["model"] == "persistence", "ratio_persistence"], 1.0)
    np.testing.assert_allclose(t.loc[t["model"] == "drift", "ratio_drift"], 1.0)
    # persistence with the observed population: per-capita emissions stay at the origin's level
    c = backtest[(backtest["model"] == "persistence") & (backtest["mode"] == "conditional")]
    pc = panel.assign(pc=panel["emissions_mt"] / panel["population_10k"]).set_index(
        ["region", "year"])
    got = c["pred_mt"].to_numpy() / pc["population_10k"].reindex(
        pd.MultiIndex.from_frame(c[["region", "year"]])).to_numpy()
    want = pc["pc"].reindex(pd.MultiIndex.from_frame(c[["region", "origin"]])).to_numpy()
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_skill_never_sees_the_years_it_forecasts(panel, backtest):
    later = panel.copy()
    later.loc[later["year"] > 2012, ["emissions_mt", *DRIVERS[:1]]] *= 1.5
    again = skill_backtest(later, DRIVERS, models=("fe", "bma"), origins=[2012], max_horizon=4,
                           cache=False)
    a = backtest[(backtest["origin"] == 2012) & (backtest["mode"] == "unconditional")]
    b = again[again["mode"] == "unconditional"]
    np.testing.assert_allclose(a["pred_mt"].to_numpy(), b["pred_mt"].to_numpy(), rtol=1e-10)


def test_skill_chooses_a_driver_responsive_scenario_model(panel):
    s = skill(panel, DRIVERS, models=("fe", "bma"), origins=[2012, 2014, 2016], max_horizon=4,
              cache=False)
    assert s.scenario_model in ("fe", "bma")
    assert s.forecaster in ("fe", "bma", *NAIVE)
    text = s.describe()
    assert "× persistence's" in text and str(s.origins[0]) in text
    assert set(s.summary()["mode"]) == {"conditional", "unconditional"}


def test_error_model_reproduces_observed_paths_and_continues_them_from_the_process():
    pred = pd.DataFrame({"origin": [1, 1, 2], "region": ["a", "a", "a"], "h": [1, 2, 1],
                         "emissions_mt": [1.1, 1.2, 0.9], "pred_mt": [1.0, 1.0, 1.0]})
    em = ErrorModel.from_backtest(pred)
    assert em.horizon == 2
    s = em.sample(500, 4, np.random.default_rng(0))
    assert set(np.round(s[:, 0], 12)) <= set(np.round(np.log([1.1, 0.9]), 12))
    whole = np.isclose(s[:, 0], np.log(1.1))  # origin 1's path is observed to h = 2
    np.testing.assert_allclose(s[whole, 1], np.log(1.2))
    assert np.isfinite(s).all()


def test_error_process_continuation_slope_is_a_straight_line_and_walk_keeps_its_level():
    """Conditional on the observed part: a pure growth-rate error continues on its own line
    ε_k·h/k; a pure random walk continues at ε_k plus the drift with variance (h−k)·walk."""
    paths = np.array([[0.02, np.nan], [-0.01, np.nan]])
    slope = ErrorModel(paths, drift=0.0, variances=(0.0, 0.0, 4e-4))
    s = slope.sample(200, 5, np.random.default_rng(1))
    np.testing.assert_allclose(s, s[:, :1] * np.arange(1, 6), atol=1e-10)
    walk = ErrorModel(paths, drift=0.01, variances=(0.0, 1e-4, 0.0))
    w = walk.sample(40000, 3, np.random.default_rng(2))
    step = w[:, 2] - w[:, 0]
    assert abs(step.mean() - 0.02) < 5e-4 and abs(step.var() - 2e-4) < 1e-5


def test_error_process_moments_are_recovered_from_simulated_paths():
    rng = np.random.default_rng(3)
    n, H = 4000, 8
    h = np.arange(1, H + 1)
    eps = (0.01 * h + rng.normal(0, 0.02, (n, H)) + np.cumsum(rng.normal(0, 0.03, (n, H)), 1)
           + h * rng.normal(0, 0.01, (n, 1)))
    rows = [{"origin": i, "region": "a", "h": int(k), "pred_mt": 1.0,
             "emissions_mt": float(np.exp(eps[i, k - 1]))} for i in range(n) for k in h]
    em = ErrorModel.from_backtest(pd.DataFrame(rows))
    np.testing.assert_allclose(em.drift, 0.01, atol=2e-3)
    np.testing.assert_allclose(em.variances, (4e-4, 9e-4, 1e-4), rtol=0.3, atol=1e-4)


def test_pooled_members_split_over_the_forecaster_and_the_naive_references():
    from carbonlab.forecast.calibrate import ensemble_models, pooled_members

    assert ensemble_models("bma") == ("bma", "persistence", "drift")
    assert ensemble_models("persistence") == ("persistence", "drift")
    errs = pd.DataFrame([{"model": m, "origin": o, "region": "a", "h": h, "pred_mt": 1.0,
                          "emissions_mt": 1.0} for m in ("x", "y") for o in (1, 2)
                         for h in (1, 2)])
    def point(v):
        return pd.DataFrame({"region": "r", "year": [2020, 2021, 2022],
                             "projected": [False, True, True], "emissions_mt": [5.0, v, v]})
    m = pooled_members({"x": point(6.0), "y": point(4.0)}, errs, 7, random_state=0)
    assert sorted(m["member"].unique()) == list(range(7))
    per = m.groupby("model")["member"].nunique()
    assert per["x"] == 4 and per["y"] == 3
    last = m[m["year"] == 2022].set_index("model")["emissions_mt"]
    assert (last["x"] == 6.0).all() and (last["y"] == 4.0).all()  # no error: each its own point
    with pytest.raises(ParameterError, match="no backtest rows for model 'z'"):
        pooled_members({"z": point(1.0)}, errs, 3)


def test_members_equal_the_point_when_the_backtest_made_no_error():
    pred = pd.DataFrame({"origin": [1, 1], "region": ["a", "a"], "h": [1, 2],
                         "emissions_mt": [2.0, 3.0], "pred_mt": [2.0, 3.0]})
    point = pd.DataFrame({"region": "x", "year": [2020, 2021, 2022],
                          "projected": [False, True, True], "emissions_mt": [5.0, 6.0, 7.0]})
    m = ErrorModel.from_backtest(pred).members(point, 7, random_state=3)
    assert m["member"].nunique() == 7
    for _, g in m.groupby("member"):
        np.testing.assert_allclose(g["emissions_mt"], [5.0, 6.0, 7.0])


def test_calibration_check_uses_only_errors_known_at_the_origin(backtest, panel):
    p = backtest[(backtest["model"] == "fe") & (backtest["mode"] == "unconditional")]
    c1 = calibration_check(panel, p, n_members=50, min_origins=1)
    spoiled = p.copy()
    late = spoiled["origin"] == 2016
    spoiled.loc[late, "pred_mt"] *= 10  # the last origin's errors are huge
    c2 = calibration_check(panel, spoiled, n_members=50, min_origins=1)
    early = c1["origin"] < 2016
    pd.testing.assert_frame_equal(c1[early].reset_index(drop=True),
                                  c2[c2["origin"] < 2016].reset_index(drop=True))
    summ = calibration_summary(c1)
    assert 0 <= summ["coverage_pct"] <= 100 and summ["brier_base"] >= 0


@pytest.mark.parametrize("p,word", [(1.0, "virtually certain"), (0.95, "very likely"),
                                    (0.66, "likely"), (0.5, "about as likely as not"),
                                    (0.2, "unlikely"), (0.05, "very unlikely"),
                                    (0.0, "exceptionally unlikely")])
def test_likelihood_words(p, word):
    assert likelihood(p) == word


def test_likelihood_refuses_non_probabilities():
    with pytest.raises(ParameterError, match="p: a probability"):
        likelihood(1.2)


def test_class_from_probabilities_never_contradicts_them():
    grid = np.linspace(0, 1, 21)
    for pb in grid:
        for p25 in grid[grid >= pb]:
            for p30 in grid[grid >= p25]:
                c = class_from_probabilities(pb, p25, p30)
                assert c in (CLASS_BEFORE, CLASS_2025, CLASS_2030, CLASS_NOT)
                assert not class_contradicts(c, p25, p30)
    assert class_contradicts(CLASS_NOT, 0.2, 0.72)  # the old pages' Hebei case


def test_as_of_truncates_data_and_targets():
    full = chapter_inputs("teaching")
    cut = chapter_inputs("teaching", as_of=2016)
    assert int(cut["panel"]["year"].max()) == 2016
    assert len(cut["targets"]) == 0 and len(full["targets"]) > 0
    assert "as of 2016" in cut["note"]
    assert "national_population" not in cut["panel"].attrs  # no projection made later
    with pytest.raises(ParameterError, match="as_of"):
        chapter_inputs("teaching", as_of=2030)


def test_published_targets_are_read_from_the_documents():
    t = pd.DataFrame({"region": ["a", "b", "c"], "document": [
        "北京市碳达峰实施方案 (京政发〔2022〕31号, 2022-10-11)", "plan (notice dated 2017-03-01)",
        "no date"]})
    assert list(_published(t, 2020, "ceads")["region"]) == ["b"]
    assert list(_published(t, 2022, "ceads")["region"]) == ["a", "b"]


def test_find_peak_is_the_rule_the_members_use():
    assert find_peak([2020, 2021, 2022], [1.0, 2.0, 1.5]).peaked


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["teaching", "ceads"])
def test_outlook_separates_forecaster_and_scenario_model(dataset, tmp_path, monkeypatch):
    """The outlook forecasts with the backtest's best unconditional model and answers scenario
    questions with its best driver-responsive conditional model; point is deterministic."""
    import os

    from carbonlab.forecast import outlook

    if dataset == "ceads" and not os.environ.get("CARBONLAB_DATA_DIR"):
        pytest.skip("CARBONLAB_DATA_DIR not set")
    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    out = outlook(dataset, n_members=20)
    assert out.model == out.skill.forecaster and out.model in PANEL_MODELS
    assert out.scenario_model == out.skill.scenario_model and out.scenario_model not in NAIVE
    name, fitted = out.adjustment_model()
    assert name == out.scenario_model and out.adjustment_model()[1] is fitted
    # the point is the forecaster on all the data, not a median of members
    again = outlook(dataset, n_members=5)
    pd.testing.assert_frame_equal(out.point, again.point)
    assert out.point["year"].min() == int(out.panel["year"].max()) + 1
    assert set(out.table["class"]) <= set(out.counts.index)
    for _, r in out.table.iterrows():
        assert not class_contradicts(r["class"], r["p_by_2025"], r["p_by_2030"]), r["region"]
    naive = outlook(dataset, n_members=5, model="persistence")
    assert naive.naive and naive.adjustment_model()[0] == out.scenario_model
    # the scenario model responds to the drivers: freezing the non-fossil share moves 2030
    from carbonlab.forecast.paths import forecast

    frozen = out.paths.copy()
    last = frozen[~frozen["projected"]].sort_values("year").groupby("region")["fossil"].last()
    proj = frozen["projected"].to_numpy()
    frozen.loc[proj, "fossil"] = frozen.loc[proj, "region"].map(last).to_numpy()
    a = forecast(fitted, out.panel, out.paths, out.population)
    b = forecast(fitted, out.panel, frozen, out.population)
    assert abs(b[b["year"] == 2030]["emissions_mt"].sum() / a[a["year"] == 2030]["emissions_mt"].sum()
               - 1) > 1e-3
    with pytest.raises(ParameterError, match="unknown model"):
        outlook(dataset, n_members=2, model="xgb")
    with pytest.raises(ParameterError, match="scenario_model"):
        outlook(dataset, n_members=2, scenario_model="persistence")


@pytest.mark.slow
def test_outlook_as_of_forecasts_the_years_that_followed(tmp_path, monkeypatch):
    from carbonlab.forecast import outlook
    from carbonlab.forecast.report import as_of_sentence

    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    then = outlook("teaching", n_members=10, as_of=2016)
    assert then.as_of == 2016 and int(then.panel["year"].max()) == 2016
    assert then.point["year"].min() == 2017 and then.point["year"].max() == 2030
    text = as_of_sentence(then, data.load_panel("teaching"))
    assert "2017–2021" in text and "persistence" in text


class _Tables:
    """The tables of an HTML page as lists of rows of cell texts (stdlib parser)."""

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        tables: list[list[list[str]]] = []

        class P(HTMLParser):
            cell: list[str] | None = None

            def handle_starttag(self, tag, attrs):
                if tag == "table":
                    tables.append([])
                elif tag == "tr" and tables:
                    tables[-1].append([])
                elif tag in ("td", "th") and tables and tables[-1]:
                    self.cell = []

            def handle_endtag(self, tag):
                if tag in ("td", "th") and self.cell is not None:
                    tables[-1][-1].append(" ".join("".join(self.cell).split()))
                    self.cell = None

            def handle_data(self, data):
                if self.cell is not None:
                    self.cell.append(data)

        P().feed(html)
        self.tables = tables


@pytest.mark.slow
def test_no_page_states_a_class_its_probability_contradicts(built_book):
    """Every built table with a class and P(by 2025)/P(by 2030) columns agrees with them."""
    checked = 0
    for page in built_book.parent.rglob("*.html"):
        for rows in _Tables(page.read_text(encoding="utf-8")).tables:
            head = next((r for r in rows if "class" in r and "P(by 2030)" in r), None)
            if head is None:
                continue
            ci, i25, i30 = head.index("class"), head.index("P(by 2025)"), head.index("P(by 2030)")
            for r in rows[rows.index(head) + 1:]:
                if len(r) != len(head):
                    continue
                assert not class_contradicts(r[ci], float(r[i25]), float(r[i30])), (page.name, r)
                checked += 1
    assert checked >= 30  # chapter 4's table of the 30 provinces at least


def test_skill_as_of_equals_the_backtest_on_the_cut_panel(panel):
    """Every backtest row uses data up to its origin only, so filtering the full backtest to
    what was known in a year is the same as rerunning it on the panel cut there."""
    kw = {"models": ("fe", "bma"), "origins": [2012, 2014, 2016], "max_horizon": 4,
          "cache": False}
    full = skill(panel, DRIVERS, **kw).as_of(2017)
    cut = skill(panel[panel["year"] <= 2017].reset_index(drop=True), DRIVERS, **kw)
    cols = ["model", "mode", "origin", "region", "year", "h"]
    a = full.predictions.sort_values(cols, ignore_index=True)
    b = cut.predictions.sort_values(cols, ignore_index=True)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)
    assert (full.scenario_model, full.forecaster) == (cut.scenario_model, cut.forecaster)
    with pytest.raises(ParameterError, match="as_of"):
        full.as_of(2005)


def test_calibration_check_needs_the_pool_named_when_the_backtest_holds_several_models(
        backtest, panel):
    p = backtest[backtest["mode"] == "unconditional"]
    with pytest.raises(ParameterError, match="name the pooled ones, the forecaster first"):
        calibration_check(panel, p, n_members=10)
    one = calibration_check(panel, p[p["model"] == "fe"], n_members=20, min_origins=1)
    pooled = calibration_check(panel, p, models=("fe", "persistence"), n_members=40,
                               min_origins=1)
    assert one.shape == pooled.shape and pooled["p_peaked"].between(0, 1).all()
