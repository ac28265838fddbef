"""Peaks: detection edge cases, classes, forecasts, ensembles, backtest (the inverse problem:
tests/test_inverse.py)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.neural_network import MLPRegressor
from sklearn.svm import SVR

from carbonlab import peaks as peaks_mod
from carbonlab._util import DataError, ParameterError
from carbonlab.peaks import (
    CLASSES,
    KEY_DRIVERS,
    PanelModel,
    classify,
    find_peak,
    forecast,
    forecast_band,
    growth_table,
    national_curve,
    peak_adjustment,
    peak_probabilities,
    peak_table,
)
from carbonlab.regions import PROVINCES
from carbonlab.scenarios import population_path

BETA = {"fossil": -2.52, "gas": -1.6, "tertrate": -0.83, "lcar": 0.3575, "first": 1.13}


def make_panel(n_regions: int = 6, years=range(2005, 2022), seed: int = 0, noise: float = 0.01):
    """Small synthetic panel: ln per-capita emissions linear in the five drivers + region effect."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in PROVINCES[:n_regions]:
        fe, pop0 = rng.normal(1.5, 0.3), rng.uniform(500, 8000)
        f0, g0, t0 = rng.uniform(0.05, 0.15), rng.uniform(0.02, 0.08), rng.uniform(0.35, 0.5)
        c0, p0, cg = rng.uniform(3, 5), rng.uniform(0.05, 0.15), rng.uniform(0.08, 0.16)
        for k, y in enumerate(years):
            x = {"fossil": f0 + 0.006 * k + rng.normal(0, 0.003),
                 "gas": g0 + 0.003 * k + rng.normal(0, 0.002),
                 "tertrate": t0 + 0.008 * k + rng.normal(0, 0.004),
                 "lcar": c0 + cg * k - 0.002 * k * k + rng.normal(0, 0.01),
                 "first": p0 - 0.003 * k + rng.normal(0, 0.002)}
            lnpc = fe + sum(BETA[d] * x[d] for d in BETA) + rng.normal(0, noise)
            pop = pop0 * 1.005 ** k
            rows.append({"region": r, "year": y, "population_10k": pop,
                         "emissions_mt": np.exp(lnpc) * pop / 100, **x})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel()


def trend_paths(panel: pd.DataFrame, horizon: int = 2030, window: int = 5) -> pd.DataFrame:
    """Driver paths built here (independent of the scenario rules): each driver continues at
    the mean of its last ``window`` annual changes."""
    out = []
    for r, g in panel.sort_values("year").groupby("region"):
        h = g[["region", "year", *KEY_DRIVERS]].assign(projected=False)
        last, step = g[list(KEY_DRIVERS)].iloc[-1], g[list(KEY_DRIVERS)].diff().tail(window).mean()
        t0 = int(g["year"].max())
        fut = pd.DataFrame([{"region": r, "year": t, "projected": True,
                             **(last + step * (t - t0)).to_dict()} for t in range(t0 + 1, horizon + 1)])
        out += [h, fut]
    return pd.concat(out, ignore_index=True)[["region", "year", "projected", *KEY_DRIVERS]]


@pytest.fixture(scope="module")
def paths(panel) -> pd.DataFrame:
    return trend_paths(panel)


# --------------------------------------------------------------------------- find_peak


def test_find_peak_edge_cases():
    y = np.arange(2020, 2031)
    flat = find_peak(y, np.full(11, 5.0))  # max in the first year, flat tail: a plateau
    assert (flat.peak_year, flat.peak_value, flat.peaked) == (2020, 5.0, True)
    up = find_peak(y, np.linspace(1, 2, 11))  # monotone rise: maximum in the last year
    assert (up.peak_year, up.peaked) == (2030, False) and up.last_growth > 0
    down = find_peak(y, np.linspace(2, 1, 11))
    assert (down.peak_year, down.peak_value, down.peaked) == (2020, 2.0, True)
    hump = find_peak(y, -((y - 2026.0) ** 2) + 100)
    assert (hump.peak_year, hump.peaked) == (2026, True)
    # double peak, the second one higher and inside the horizon: the higher one counts
    dbl = find_peak(y, [1, 3, 2, 1, 2, 4, 3, 2.5, 2, 1.8, 1.5])
    assert (dbl.peak_year, dbl.peak_value, dbl.peaked) == (2025, 4.0, True)
    # a rebound at the end that stays well below the earlier maximum: peaked
    reb = find_peak(y, [1, 3, 2, 1.5, 1.2, 1.1, 1.0, 1.1, 1.2, 1.3, 1.4])
    assert (reb.peak_year, reb.peaked) == (2021, True)
    # maximum in the last year, however small the rise: not peaked
    last_max = find_peak(y, np.r_[np.full(10, 5.0), 5.0001])
    assert (last_max.peak_year, last_max.peaked) == (2030, False)
    # interior plateau then decline: peaked at the plateau's first year
    plat2 = find_peak(y, [1, 2, 3, 3, 3, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4])
    assert (plat2.peak_year, plat2.peaked) == (2022, True)
    assert "a peak in 2022" in str(plat2) and "PeakResult" not in plat2._repr_markdown_()
    assert "no peak" in str(up)


def test_find_peak_study_shapes():
    # Beijing (real data): maximum 105.0 Mt in 2010, 66.7 Mt in 2030 still growing +0.11 %
    years = np.arange(2005, 2031)
    bj = np.r_[np.linspace(90, 105.0, 6), np.linspace(104, 66.63, 20)]
    bj[-1] = bj[-2] * 1.0011
    p = find_peak(years, bj)
    assert (p.peak_year, p.peak_value, p.peaked) == (2010, 105.0, True)
    assert classify(p.peak_year, p.peaked) == "peaked before 2020" == CLASSES[0]
    # Sichuan (teaching front page): maximum in 2017, 2030 below it while the tail grows
    sc = np.r_[np.linspace(250, 330, 13), np.linspace(320, 300, 6), np.linspace(303, 318, 7)]
    p = find_peak(years, sc)
    assert (p.peak_year, p.peaked) == (2017, True) and p.last_growth > 0
    assert p.peak_class == "peaked before 2020"


def test_find_peak_flat_tail_tolerance():
    y = np.arange(2020, 2031)
    # maximum in 2025, then flat within 1 %: peaked; the last value is 0.5 % below the max
    inside = np.r_[np.linspace(90, 100, 6), [99.8, 99.7, 99.6, 99.55, 99.5]]
    p = find_peak(y, inside)
    assert (p.peak_year, p.peaked) == (2025, True)
    # the same shape ending with a 2 % jump back to 0.5 % below the max: tail not flat
    outside = np.r_[np.linspace(90, 100, 6), [99.0, 98.5, 98.0, 97.5, 99.5]]
    p = find_peak(y, outside)
    assert (p.peak_year, p.peaked) == (2025, False)
    # with tol = 0 only a strictly lower, non-flat end counts as "below"
    assert find_peak(y, inside, tol=0.0).peaked
    assert not find_peak(y, [*np.full(10, 5.0), 5.0 * 1.001], tol=0.0).peaked
    with pytest.raises(ParameterError, match="tol"):
        find_peak(y, inside, tol=1.5)


@pytest.mark.parametrize(
    ("years", "values", "match"),
    [
        ([2020, 2021], [1.0], "equal length"),
        ([2020], [1.0], "at least two"),
        ([2020, 2021, 2022], [1.0, np.nan, 2.0], "2021"),
        ([2021, 2020], [1.0, 2.0], "strictly increasing"),
    ],
)
def test_find_peak_bad_input(years, values, match):
    with pytest.raises(ParameterError, match=match):
        find_peak(years, values)


def test_classify():
    assert classify(2018, True) == CLASSES[0] == "peaked before 2020"
    assert classify(2020, True) == CLASSES[1] == "by 2025"
    assert classify(2025, True) == "by 2025"
    assert classify(2026, True) == "by 2030"
    assert classify(2029, True) == "by 2030"
    assert classify(2031, True) == "not by 2030"
    assert classify(2022, False) == "not by 2030"
    assert classify(2027, True, early=2028) == "by 2025"


# --------------------------------------------------------------------------- model and forecast


def test_panel_model_demean_recovers_coefficients(panel):
    m = PanelModel(LinearRegression(), KEY_DRIVERS, "demean").fit(panel)
    # the within estimator, computed independently with numpy
    cols = list(KEY_DRIVERS)
    y = np.log(panel["emissions_mt"] * 100 / panel["population_10k"])
    xw = panel[cols] - panel.groupby("region")[cols].transform("mean")
    yw = y - y.groupby(panel["region"]).transform("mean")
    ref = np.linalg.lstsq(xw.to_numpy(), yw.to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(m.estimator_.coef_, ref, rtol=1e-6)
    assert np.sign(ref).tolist() == np.sign([BETA[d] for d in cols]).tolist()
    d = PanelModel(LinearRegression(), KEY_DRIVERS, "dummies").fit(panel)
    np.testing.assert_allclose(d.predict(panel), m.predict(panel), atol=1e-8)
    with pytest.raises(ParameterError, match="fixed_effects"):
        PanelModel("fe", KEY_DRIVERS, "both").fit(panel)
    with pytest.raises(ParameterError, match="unknown model 'xgb'; use one of bpnn"):
        PanelModel("xgb").fit(panel)
    bad = panel.copy()
    bad.loc[3, "gas"] = np.nan
    with pytest.raises(DataError, match="row 3: driver 'gas'"):
        PanelModel("fe").fit(bad)
    with pytest.raises(ParameterError, match="not in the training panel"):
        m.predict(panel.assign(region="Qinghai"))


def test_forecast_back_transform_and_alignment(panel):
    m = PanelModel("fe").fit(panel)
    # drivers held at their last values: the aligned forecast keeps the observed per-capita level
    last = panel.sort_values("year").groupby("region").tail(1)
    fut = pd.concat([last.assign(year=y) for y in range(2022, 2026)])
    held = pd.concat([panel.assign(projected=False), fut.assign(projected=True)])
    held = held[["region", "year", "projected", *KEY_DRIVERS]]
    pop = population_path(panel, horizon=2025)
    fc = forecast(m, panel, held, pop)
    f = fc[fc["projected"]].merge(last[["region", "emissions_mt", "population_10k"]], on="region",
                                  suffixes=("", "_t0"))
    np.testing.assert_allclose(f["emissions_mt"] / f["population_10k"],
                               f["emissions_mt_t0"] / f["population_10k_t0"], rtol=1e-10)
    np.testing.assert_allclose(np.exp(f["ln_pc"]) * f["population_10k"] / 100, f["emissions_mt"])
    h = fc[~fc["projected"]].sort_values(["region", "year"])
    np.testing.assert_allclose(h["emissions_mt"], panel.sort_values(["region", "year"])["emissions_mt"])
    bad_pop = pop[pop["year"] != 2024]
    with pytest.raises(DataError, match="population: no value for .* in 2024"):
        forecast(m, panel, held, bad_pop)


@pytest.mark.parametrize("est", [LinearRegression(), SVR(C=3.0),
                                 MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=500, random_state=0)])
def test_any_sklearn_regressor_gives_peak_table(panel, paths, est):
    m = PanelModel(est).fit(panel)
    fc = forecast(m, panel, paths)
    tab = peak_table(fc)
    assert len(tab) == panel["region"].nunique()
    assert set(tab["class"]) <= set(CLASSES)
    for _, row in tab.iterrows():
        g = fc[fc["region"] == row["region"]]
        p = find_peak(g["year"], g["emissions_mt"])
        assert (row["peak_year"], row["peaked"]) == (p.peak_year, p.peaked)
        assert row["class"] == classify(p.peak_year, p.peaked)


def test_growth_table_and_national_curve():
    yrs = np.arange(2020, 2031)
    fc = pd.concat([
        pd.DataFrame({"region": "Beijing", "year": yrs, "emissions_mt": 100 * 1.02 ** (yrs - 2020)}),
        pd.DataFrame({"region": "Ningxia", "year": yrs, "emissions_mt": 50 - (yrs - 2020.0)}),
    ])
    g = growth_table(fc, range(2026, 2031))
    np.testing.assert_allclose(g.loc["Beijing"], 2.0)
    np.testing.assert_allclose(g.loc["Ningxia", 2030], 100 * (40 / 41 - 1))
    assert list(growth_table(fc, regions=["宁夏"]).index) == ["Ningxia"]
    with pytest.raises(ParameterError, match="2019"):
        growth_table(fc, range(2020, 2031))
    nat = national_curve(fc)
    np.testing.assert_allclose(nat["emissions_mt"], 100 * 1.02 ** (yrs - 2020) + 50 - (yrs - 2020))
    p = find_peak(nat["year"], nat["emissions_mt"])
    assert p.peak_year == int(nat.loc[nat["emissions_mt"].idxmax(), "year"])


# --------------------------------------------------------------------------- ensembles


def _members(panel, paths, n=8, seed=0):
    """An ensemble as chapter 4 builds it: the FE point times error paths (synthetic errors)."""
    from carbonlab.forecast.calibrate import ErrorModel

    fc = forecast(PanelModel("fe").fit(panel), panel, paths)
    rng = np.random.default_rng(seed)
    errs = pd.DataFrame([{"origin": o, "region": "r", "h": h, "pred_mt": 1.0,
                          "emissions_mt": float(np.exp(rng.normal(0, 0.03 * h)))}
                         for o in range(6) for h in range(1, 5)])
    cols = ["region", "year", "projected", "emissions_mt"]
    mem = ErrorModel.from_backtest(errs).members(fc[cols], n, seed)
    return pd.concat([fc[cols].assign(member=-1), mem], ignore_index=True)


def test_peak_probabilities_and_band(panel, paths, tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    mem = _members(panel, paths, 8)
    pr = peak_probabilities(mem)
    assert (pr["n_members"] == 8).all()
    assert ((pr["p_by_2025"] <= pr["p_by_2030"]) & (pr["p_by_2030"] <= 1)).all()
    # recompute one region's probability by hand
    r = pr["region"].iloc[0]
    calls = [find_peak(g["year"], g["emissions_mt"]) for _, g in
             mem[(mem["region"] == r) & (mem["member"] >= 0)].groupby("member")]
    assert pr["p_by_2030"].iloc[0] == pytest.approx(np.mean([c.peaked and c.peak_year <= 2030 for c in calls]))
    band = forecast_band(mem)
    f = band[band["projected"]]
    assert (f["lo_mt"] <= f["hi_mt"]).all()
    assert len(band) == mem[mem["member"] == -1].shape[0]


# --------------------------------------------------------------------------- inverse problem


def _linear_case(panel, paths, region):
    m = PanelModel("fe").fit(panel)
    beta = dict(zip(KEY_DRIVERS, m.estimator_.coef_, strict=True))
    return m, beta


# --------------------------------------------------------------------------- notebook


@pytest.mark.slow
def test_notebooks_forecast_with_the_winner_and_print_no_raw_output(tmp_path):
    import json

    from tests.nbrun import run_notebook

    env = os.environ.copy()
    os.environ["CARBONLAB_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        out4 = run_notebook("04_forecast_peaks.ipynb", tmp_path, region="宁夏", n_members=4,
                            seed=1)
        out0 = run_notebook("index.ipynb", tmp_path, n_members=4, seed=1)
        winner = peaks_mod.outlook("teaching", n_members=4, seed=1).model
    finally:
        os.environ.clear()
        os.environ.update(env)
    from carbonlab.models import MODEL_LABELS

    for out in (out4, out0):
        nb = json.loads(out.read_text(encoding="utf-8"))
        text = json.dumps([c.get("outputs", []) for c in nb["cells"] if c["cell_type"] == "code"],
                          ensure_ascii=False)
        for bad in ("PeakResult(", "generalised best", "dtype:", "AdjustmentResult("):
            assert bad not in text, f"{out.name}: {bad!r} in the outputs"
        assert MODEL_LABELS[winner] in text  # the forecaster the backtest chose is named
    assert "Ningxia" in out4.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- plots


def test_plots_draw_into_the_given_axes(panel, paths, tmp_path, monkeypatch):
    """Every peaks plot takes ``ax``/``axes`` and returns what it drew on (house style)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    mem = _members(panel, paths, 4)
    band = forecast_band(mem)
    point = mem[mem["member"] == -1]
    table = peak_table(point).merge(peak_probabilities(mem), on="region")
    nat = national_curve(point)
    npk = find_peak(nat["year"], nat["emissions_mt"])
    region = table["region"].iloc[0]
    m, _ = _linear_case(panel, paths, region)
    adj = peak_adjustment(m, panel, paths, region)
    growth = growth_table(point, range(2026, 2031))
    fig, axs = plt.subplots(2, 3)
    calls = [
        (peaks_mod.plot_classes, (table, table)),
        (peaks_mod.plot_growth, (growth,)),
        (peaks_mod.plot_national, (nat, npk)),
        (peaks_mod.plot_adjustment, (adj,)),
    ]
    for ax, (fn, args) in zip(axs.ravel(), calls, strict=False):
        assert fn(*args, ax=ax) is ax, fn.__name__
        assert ax.lines or ax.patches, fn.__name__
    g_ax = axs.ravel()[1]  # plot_growth: one colour per region, whole years, legend off the data
    colours = [ln.get_color() for ln in g_ax.lines if ln.get_label() in set(growth.index)]
    assert len(colours) == len(growth) == len(set(colours))
    assert all(float(t).is_integer() for t in g_ax.get_xticks())
    leg = g_ax.get_legend()
    assert leg is not None and leg.get_bbox_to_anchor().x0 >= g_ax.get_window_extent().x1
    got = peaks_mod.plot_region(band, region, paths=paths, axes=axs[1, 1:])
    assert list(got) == list(axs[1, 1:]) and got[0].lines and got[1].lines
    assert len(fig.axes) == 6  # nothing drew a figure of its own
    with pytest.raises(ParameterError, match="axes: plot_region needs 2"):
        peaks_mod.plot_region(band, region, paths=paths, axes=axs[0, 0])
    alone = peaks_mod.plot_region(band, region)  # new axes when none are given
    assert len(alone) == 1 and alone[0].figure is not fig
    plt.close("all")
