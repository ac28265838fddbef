"""Tests of carbonlab.models: the zoo, splits, metrics, BPNN budget/search, windows, errors."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression

from carbonlab import models as m
from carbonlab._util import DataError, ParameterError

DRIVERS = ["fossil", "gas", "tertrate", "lcar", "first"]


def make_panel(n_regions: int = 8, years: range = range(2005, 2022), seed: int = 0) -> pd.DataFrame:
    """A small province-year panel with region effects and a known linear truth."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_regions):
        a = rng.normal(1.8, 0.4)
        base = rng.uniform([0.05, 0.01, 0.35, 4.0, 0.05], [0.2, 0.08, 0.5, 6.0, 0.2])
        trend = np.array([0.006, 0.002, 0.008, 0.12, -0.003])
        for k, yr in enumerate(years):
            x = base + trend * k + rng.normal(0, [0.01, 0.005, 0.01, 0.03, 0.005])
            ly = a + x @ np.array([-2.52, -1.6, -0.83, 0.3575, 1.13]) + rng.normal(0, 0.03)
            pop = rng.uniform(500, 8000)
            rows.append({"region": f"R{i:02d}", "year": yr, "population_10k": pop,
                         "emissions_mt": np.exp(ly) * pop / 100, **dict(zip(DRIVERS, x, strict=True))})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel()


@pytest.fixture(scope="module")
def xy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 2] + rng.normal(0, 0.05, 120)
    return X, y


# --------------------------------------------------------------------------- BPNN budget

def test_bpnn_n_params_study_nets():
    assert m.bpnn_n_params(5, (12,)) == 85
    assert m.bpnn_n_params(5, (8, 7)) == 119
    for x, y in itertools.product(range(1, 25), range(1, 25)):
        assert m.bpnn_n_params(5, (x, y)) == 6 * x + x * y + 2 * y + 1


def test_bpnn_budget_boundary():
    assert m.check_bpnn_budget(5, (21,)) == 148
    with pytest.raises(ParameterError, match="over the budget"):
        m.check_bpnn_budget(5, (22,))  # 155 is not < 155
    archs = m.bpnn_architectures(5)
    one = archs[archs["n_layers"] == 1]
    assert one["hidden"].map(lambda h: h[0]).max() == 21
    brute = {(x,) for x in range(1, 200) if 7 * x + 1 < 155}
    brute |= {(x, y) for x in range(1, 200) for y in range(1, 200) if 6 * x + x * y + 2 * y + 1 < 155}
    assert set(archs["hidden"]) == brute
    assert (archs["n_params"] < 155).all()


def test_bpnn_over_budget_estimators(xy):
    X, y = xy
    with pytest.raises(ParameterError, match="hidden"):
        m.FastMLP((40, 40), max_params=155).fit(X, y)
    with pytest.raises(ParameterError, match="hidden"):
        m.KerasMLP((40, 40), epochs=1, max_params=155).fit(X, y)
    with pytest.raises(ParameterError, match="hidden"):
        m.bpnn_n_params(5, (3, 0))


# --------------------------------------------------------------------------- splits

def test_random_year_split(panel):
    s = m.random_year_split(panel, n_train=11, random_state=3)
    assert len(s.train_years) == 11 and len(s.test_years) == 6
    assert set(s.train_years).isdisjoint(s.test_years)
    assert set(s.train_years) | set(s.test_years) == set(range(2005, 2022))
    assert s == m.random_year_split(panel, n_train=11, random_state=3)
    assert s != m.random_year_split(panel, n_train=11, random_state=4)
    tr, te = s.masks(panel["year"])
    assert tr.sum() == 8 * 11 and te.sum() == 8 * 6
    with pytest.raises(ParameterError, match="n_train"):
        m.random_year_split(panel, n_train=17)


def test_rolling_origin_splits(panel):
    folds = m.rolling_origin_splits(panel, n_folds=3, horizon=2)
    assert [f.test_years for f in folds] == [(2016, 2017), (2018, 2019), (2020, 2021)]
    for f in folds:
        assert max(f.train_years) < min(f.test_years)
        assert f.train_years == tuple(range(2005, min(f.test_years)))
    (hold,) = m.rolling_origin_splits(panel, n_folds=1, horizon=6)
    assert hold.train_years == tuple(range(2005, 2016))
    with pytest.raises(ParameterError, match="n_folds"):
        m.rolling_origin_splits(panel, n_folds=8, horizon=2)


def test_split_leaving_a_province_without_training_years(panel):
    s = m.random_year_split(panel, random_state=0)
    bad = panel[~((panel["region"] == "R03") & panel["year"].isin(s.train_years))]
    with pytest.raises(DataError, match="R03 has no training years"):
        m.compare_models(bad, DRIVERS, s, models=("fe",))


def test_empty_split_training_set(panel):
    s = m.YearSplit("odd", (1990,), (2010,))
    with pytest.raises(DataError, match="empty training set"):
        m.compare_models(panel, DRIVERS, s, models=("svr",))


# --------------------------------------------------------------------------- bad input

CHEAP = [m.Bagging(5), m.RandomForest(5, mtry_trees=3), m.SVRegressor(), m.FastMLP((3,)),
         m.KerasMLP((3,), epochs=1), m.KerasLSTM(epochs=1)]


@pytest.mark.parametrize("est", CHEAP, ids=lambda e: type(e).__name__)
def test_bad_training_sets(est, xy):
    X, y = xy
    with pytest.raises(DataError, match="empty training set"):
        clone(est).fit(X[:0], y[:0])
    with pytest.raises(DataError, match="constant target"):
        clone(est).fit(X, np.full(len(y), 2.0))
    Xn = X.copy()
    Xn[7, 1] = np.nan
    with pytest.raises(DataError, match="row 7, column 1"):
        clone(est).fit(Xn, y)
    yn = y.copy()
    yn[4] = np.nan
    with pytest.raises(DataError, match="row 4"):
        clone(est).fit(X, yn)


def test_nan_in_panel_names_cell(panel):
    bad = panel.copy()
    bad.loc[5, "gas"] = np.nan
    with pytest.raises(DataError, match="column gas at R00 2010"):
        m.design_matrix(bad, DRIVERS)
    with pytest.raises(DataError, match="missing column nope"):
        m.design_matrix(panel, ["fossil", "nope"])
    with pytest.raises(ParameterError, match="models"):
        m.compare_models(panel, DRIVERS, models=("ols",))
    with pytest.raises(ParameterError, match="split"):
        m.compare_models(panel, DRIVERS, split="kfold")


def test_predict_before_fit_and_wrong_width(xy):
    X, y = xy
    with pytest.raises(ParameterError, match="fit before predict"):
        m.SVRegressor().predict(X)
    est = m.SVRegressor().fit(X, y)
    with pytest.raises(DataError, match="X has 2 features, but SVRegressor is expecting 3"):
        est.predict(X[:, :2])


# --------------------------------------------------------------------------- forests

def test_forest_tree_curve_is_cumulative_mean(xy):
    X, y = xy
    f = m.RandomForest(60, max_features=2, random_state=0).fit(X[:80], y[:80])
    curve = f.tree_curve(X[80:], y[80:])
    assert len(curve) == 60
    for k in (1, 7, 60):
        mse = np.mean((f.predict(X[80:], n_trees=k) - y[80:]) ** 2)
        assert curve.loc[k - 1, "mse"] == pytest.approx(mse, rel=1e-12)


def test_forest_oob_curve_matches_brute_force(xy):
    X, y = xy
    f = m.Bagging(30, random_state=2).fit(X, y)
    oob = f.oob_curve()["mse_oob"].to_numpy()
    k = 30
    P = np.stack([t.predict(X.astype(np.float32)) for t in f.estimators_[:k]])
    out = f.inbag_[:k] == 0
    seen = out.any(axis=0)
    pred = (P * out).sum(0)[seen] / out.sum(0)[seen]
    assert oob[k - 1] == pytest.approx(np.mean((pred - y[seen]) ** 2), rel=1e-10)


def test_forest_mtry_by_oob_and_reproducible(xy):
    X, y = xy
    f = m.RandomForest(40, mtry_trees=40, random_state=5).fit(X, y)
    tab = f.mtry_oob_
    assert list(tab["mtry"]) == [1, 2, 3]
    assert f.mtry_ == int(tab.loc[tab["mse_oob"].idxmin(), "mtry"])
    g = m.RandomForest(40, mtry_trees=40, random_state=5).fit(X, y)
    np.testing.assert_array_equal(f.predict(X), g.predict(X))
    h = m.RandomForest(40, mtry_trees=40, random_state=6).fit(X, y)
    assert not np.array_equal(f.predict(X), h.predict(X))
    assert m.Bagging(10).fit(X, y).mtry_ == 3


# --------------------------------------------------------------------------- SVR, FE, MLP

@pytest.mark.parametrize("kernel", m.SVR_KERNELS)
def test_svr_scaling_makes_it_unit_free(kernel, xy):
    X, y = xy
    A = np.array([10.0, 0.01, 3.0])
    p1 = m.SVRegressor(kernel).fit(X, y).predict(X)
    p2 = m.SVRegressor(kernel).fit(X * A + 5.0, y * 100 + 7).predict(X * A + 5.0)
    np.testing.assert_allclose(p2, p1 * 100 + 7, rtol=1e-6, atol=1e-6)
    with pytest.raises(ParameterError, match="kernel"):
        m.SVRegressor("laplace").fit(X, y)


def test_panel_fe_is_the_within_estimator(panel):
    X, y, _ = m.design_matrix(panel, DRIVERS)
    fe = m.PanelFE().fit(X, y.to_numpy())
    g = X.index.get_level_values("region")
    Xd = X - X.groupby(level="region").transform("mean")
    yd = y - y.groupby(level="region").transform("mean")
    beta = np.linalg.lstsq(Xd.to_numpy(), yd.to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(fe.coef_, beta, rtol=0, atol=1e-10)
    alpha = (y - X.to_numpy() @ beta).groupby(g).mean()
    np.testing.assert_allclose(fe.predict(X), X.to_numpy() @ beta + alpha.reindex(g).to_numpy(),
                               atol=1e-10)
    with pytest.raises(DataError, match="region R99"):
        fe.predict(X.iloc[:3], groups=["R99"] * 3)
    with pytest.raises(DataError, match="groups"):
        m.PanelFE().fit(X.to_numpy(), y.to_numpy())


@pytest.mark.parametrize("activation", m.ACTIVATIONS)
def test_fast_mlp_learns_and_is_seeded(activation, xy):
    X, y = xy
    a = m.FastMLP((6,), activation, random_state=0).fit(X, y)
    mse = np.mean((a.predict(X) - y) ** 2)
    assert mse < 0.1 * np.var(y)
    b = m.FastMLP((6,), activation, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = m.FastMLP((6,), activation, random_state=1).fit(X, y)
    assert not np.array_equal(a.predict(X), c.predict(X))
    assert a.n_params_ == m.bpnn_n_params(3, (6,))


def test_keras_models_are_reproducible(xy):
    X, y = xy
    k1 = m.KerasMLP((4, 3), "softplus", epochs=40).fit(X, y)
    k2 = m.KerasMLP((4, 3), "softplus", epochs=40).fit(X, y)
    np.testing.assert_array_equal(k1.predict(X), k2.predict(X))
    assert k1.loss_curve_[-1] < k1.loss_curve_[0]
    assert k1.get_params()["hidden"] == (4, 3)
    lag = np.lib.stride_tricks.sliding_window_view(y, 3)[:-1]
    l1 = m.KerasLSTM(units=4, epochs=20).fit(lag, y[3:])
    l2 = m.KerasLSTM(units=4, epochs=20).fit(lag, y[3:])
    np.testing.assert_array_equal(l1.predict(lag), l2.predict(lag))


def test_importing_models_does_not_import_tensorflow():
    code = "import sys, carbonlab.models; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- comparison

def test_compare_models_table(panel):
    kw = {"n_trees": 50, "mtry_trees": 20, "bpnn_trainer": "fast", "bpnn_hidden": ((3,), (3, 2)),
          "random_state": 1}
    res = m.run_comparison(panel, DRIVERS, "random", **kw)
    t = res.table
    assert len(t) == 2 + 2 + 1 + 4 + 2 * 3 + 2  # forests, FE, SVR kernels, nets, naive baselines
    assert set(m.BASELINES) <= set(t["name"]) and set(t["name"]) <= set(m.MODELS)
    naive = t.set_index("name").loc[["persistence", "drift"], "mse_test"]
    assert np.isfinite(naive).all()
    for c in ("mse", "rmse", "mae", "rmse_mt", "mae_mt"):
        for s in ("train", "test"):
            assert np.isfinite(t[f"{c}_{s}"]).all()
    np.testing.assert_allclose(t["rmse_test"], np.sqrt(t["mse_test"]))
    forest = t[t["model"] == "bagging"].set_index("variant")
    assert forest.loc["(2) best count", "mse_test"] <= forest.loc["(1) all trees", "mse_test"]
    best = res.curves[res.curves["model"] == "bagging"]["mse_test"].min()
    assert forest.loc["(2) best count", "mse_test"] == pytest.approx(best, rel=1e-12)
    # back-transformed metrics are about totals in Mt CO2
    p = res.predictions.query("model == 'panel FE' and set == 'test'")
    mt = m.back_transform(p["y_pred"], p["population_10k"]) - p["y_true"].map(np.exp) * \
        p["population_10k"] / 100
    fe = t[t["model"] == "panel FE"].iloc[0]
    assert fe["mae_mt_test"] == pytest.approx(np.mean(np.abs(mt)), rel=1e-10)
    # FE is the true model family of this panel: it must beat every other model on test
    assert fe["mse_test"] == t["mse_test"].min()
    again = m.compare_models(panel, DRIVERS, "random", **kw)
    pd.testing.assert_frame_equal(t, again)
    # the results protocol: summary() the table best first, describe() the sentences
    s = res.summary()
    assert s["mse_test"].is_monotonic_increasing and list(s["rank"]) == list(range(1, len(t) + 1))
    assert set(s["model"] + s["variant"]) == set(t["model"] + t["variant"])
    assert (s["diverged"] == (s["mse_test"] > m.DIVERGED_FACTOR * t["mse_test"].median())).all()
    text = res.describe()
    assert f"lowest test MSE of {len(t)} variants belongs to {s['model'][0]} {s['variant'][0]} " \
           f"({s['mse_test'][0]:.5f}" in text
    learned = s[~s["name"].isin(m.BASELINES)]
    naive_best = s[s["name"].isin(m.NAIVE)]["mse_test"].min()
    assert f"{int((learned['mse_test'] > naive_best).sum())} of the {len(learned)} learned" in text


def test_comparison_settings_group_the_options(panel):
    """Options are a frozen ComparisonSettings; keywords override it; bad ones are named."""
    import dataclasses

    st = m.ComparisonSettings(models=["svr"], svr_kernels=["rbf", "linear"], baselines=False)
    assert st.models == ("svr",) and st.svr_kernels == ("rbf", "linear")  # lists → tuples
    assert st.model_names == ("svr",)
    assert m.ComparisonSettings(models=("svr",)).model_names == ("svr", *m.BASELINES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.n_trees = 5
    by_settings = m.run_comparison(panel, DRIVERS, "random", st)
    by_keywords = m.run_comparison(panel, DRIVERS, "random", models=("svr",),
                                   svr_kernels=("rbf", "linear"), baselines=False)
    pd.testing.assert_frame_equal(by_settings.table, by_keywords.table)
    assert list(by_settings.table["variant"]) == ["rbf", "linear"]
    # a keyword overrides the settings it is given with
    lin = m.run_comparison(panel, DRIVERS, "random", st, svr_kernels=("linear",)).table
    assert list(lin["variant"]) == ["linear"]
    assert lin["mse_test"].iloc[0] == by_settings.table["mse_test"].iloc[1]
    with pytest.raises(ParameterError, match="n_tree: not an option of run_comparison"):
        m.run_comparison(panel, DRIVERS, n_tree=5)
    with pytest.raises(ParameterError, match="bpnn_trainer"):
        m.ComparisonSettings(bpnn_trainer="torch")
    with pytest.raises(ParameterError, match="n_trees"):
        m.run_comparison(panel, DRIVERS, st, n_trees=0)
    with pytest.raises(ParameterError, match="unknown model 'ols'"):
        m.ComparisonSettings(models=("ols",))


def test_comparison_builds_every_model_from_the_registry(panel, monkeypatch):
    """run_comparison dispatches through get_model: every fitted estimator comes from it."""
    built = []
    real = m.get_model

    def spy(name, random_state=0, **params):
        built.append(name)
        return real(name, random_state, **params)

    monkeypatch.setattr(m.evaluation, "get_model", spy)  # where the comparison looks it up
    m.run_comparison(panel, DRIVERS, "random", n_trees=5, mtry_trees=3, bpnn_trainer="fast",
                     bpnn_hidden=((2,),), activations=("tanh",), svr_kernels=("rbf",))
    assert sorted(set(built)) == sorted(m.DEFAULT_MODELS)
    assert len(built) == len(m.DEFAULT_MODELS)  # one fold, one variant each here


def test_compare_models_rolling_never_trains_on_the_future(panel):
    res = m.run_comparison(panel, DRIVERS, "rolling", models=("svr", "fe"))
    assert set(res.table["split"]) == {"rolling"}
    p = res.predictions
    for _fold, g in p.groupby("fold"):
        assert g.loc[g["set"] == "train", "year"].max() < g.loc[g["set"] == "test", "year"].min()
    test_years = p.loc[(p["set"] == "test") & (p["model"] == "SVR"), "year"]
    assert sorted(test_years.unique()) == list(range(2016, 2022))


def test_bpnn_search_covers_the_budget(panel):
    s = m.bpnn_search(panel, DRIVERS, max_params=40, max_iter=30)
    archs = m.bpnn_architectures(5, max_params=40)
    assert len(s) == 3 * len(archs)
    assert set(s["activation"]) == set(m.ACTIVATIONS)
    assert (s["n_params"] < 40).all()
    assert s["mse_test"].is_monotonic_increasing


# --------------------------------------------------------------------------- sliding windows

def test_sliding_window_linear_series_is_exact():
    s = pd.Series(2.0 * np.arange(15) + 1.0, index=pd.RangeIndex(2002, 2017, name="year"))
    fc = m.SlidingWindowForecaster(LinearRegression(), window=3).fit(s)
    out = fc.forecast(4)
    assert list(out.index) == [2017, 2018, 2019, 2020]
    np.testing.assert_allclose(out.to_numpy(), 2.0 * np.arange(15, 19) + 1.0, atol=1e-9)
    ev = m.evaluate_sliding_window(s, LinearRegression(), window=3, test_size=0.2)
    assert ev.loc[0, "n_test"] == 3 and ev.loc[0, "rmse_test"] < 1e-9


def test_sliding_window_recursive_differs_from_one_step():
    rng = np.random.default_rng(0)
    s = pd.Series(np.cumsum(rng.normal(1, 1, 21)), index=range(2002, 2023))
    p = m.sliding_window_predictions(s, m.SVRegressor(), window=3, test_size=0.2)
    te = p[p["set"] == "test"]
    assert len(te) == 4 and list(te["year"]) == [2019, 2020, 2021, 2022]
    # the first test step uses only observed lags: recursive = one-step there
    assert te["predicted"].iloc[0] == pytest.approx(te["predicted_one_step"].iloc[0])
    assert not np.allclose(te["predicted"], te["predicted_one_step"])


def test_sliding_window_bad_input():
    with pytest.raises(DataError, match="NaN"):
        m.SlidingWindowForecaster(LinearRegression(), 3).fit([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    with pytest.raises(DataError, match="window"):
        m.SlidingWindowForecaster(LinearRegression(), 5).fit([1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(ParameterError, match="window"):
        m.SlidingWindowForecaster(LinearRegression(), 0).fit(np.arange(10.0))


# --------------------------------------------------------------------------- figures

def test_plots(panel):
    res = m.run_comparison(panel, DRIVERS, models=("bagging", "rf", "svr"),
                           n_trees=20, mtry_trees=10)
    panels = [("bagging", "(2) best count"), ("random forest", "(2) best count"),
              ("SVR", "rbf"), ("SVR", "linear")]
    axes = m.plot_scatter_grid(res.predictions, panels)
    assert axes.shape == (2, 2) and len(axes[0, 0].figure.axes) == 4
    # the axes follow the actual values; a diverged prediction is clipped and counted
    pred = res.predictions.copy()
    rows = (pred["set"] == "test") & (pred["model"] == "SVR") & (pred["variant"] == "linear")
    pred.loc[pred.index[rows][:3], "y_pred"] = 1e6
    axes3 = m.plot_scatter_grid(pred, panels)
    yt = pred.loc[pred["set"] == "test", "y_true"]
    lo, hi = axes3[1, 1].get_xlim()
    assert lo >= yt.min() - 1 and hi <= yt.max() + 1
    assert "3 clipped" in axes3[1, 1].get_title() and "clipped" not in axes3[0, 0].get_title()
    with pytest.raises(ParameterError, match="4"):
        m.plot_scatter_grid(res.predictions, panels[:3])
    assert len(m.plot_tree_curves(res.curves).lines) == 6


# --------------------------------------------------------------------------- notebook

@pytest.mark.slow
def test_notebook_03_models(tmp_path):
    from tests.nbrun import run_notebook

    out = run_notebook("03_models.ipynb", tmp_path, n_trees=200, epochs=30, rolling_trees=50,
                       search_iter=20)
    text = out.read_text()
    assert "Under the time-ordered split the best model is" in text  # models.report sentences
    assert "Closest to the noise-free truth on the test years is" in text


# --------------------------------------------------------------------------- helpers, cache

def test_usable_drivers_and_ranking(panel):
    assert m.usable_drivers(panel, "fossil, nope,gas") == ["fossil", "gas"]
    with pytest.raises(DataError, match="none of the drivers"):
        m.usable_drivers(panel, ["nope"])
    a = m.compare_models(panel, DRIVERS, "random", models=("svr", "fe"))
    b = m.compare_models(panel, DRIVERS, "rolling", models=("svr", "fe"))
    r = m.split_ranking(a, b)
    assert list(r.columns) == ["model", "variant", "mse_test_random", "rank_random",
                               "mse_test_rolling", "rank_rolling"]
    assert sorted(r["rank_rolling"]) == list(range(1, 8))  # 4 kernels, FE and 2 naive baselines
    best = b.loc[b["mse_test"].idxmin()]
    top = r[r["rank_rolling"] == 1].iloc[0]
    assert (top["model"], top["variant"]) == (best["model"], best["variant"])
    assert len(m.plot_split_ranking(r).figure.axes) == 1
    with pytest.raises(ParameterError, match="metric"):
        m.split_ranking(a, metric="r2")


def test_comparison_cache(panel, tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    kw = {"models": ("svr",), "svr_kernels": ("rbf",), "cache": True}
    first = m.run_comparison(panel, DRIVERS, "random", **kw)
    files = list((tmp_path / "comparison").glob("*.pkl"))
    assert len(files) == 1
    again = m.run_comparison(panel, DRIVERS, "random", **kw)
    pd.testing.assert_frame_equal(first.table, again.table)
    m.run_comparison(panel, DRIVERS, "random", random_state=1, **kw)
    assert len(list((tmp_path / "comparison").glob("*.pkl"))) == 2
    other = panel.copy()
    other.loc[0, "gas"] += 0.01  # changed data → a new key
    m.run_comparison(other, DRIVERS, "random", **kw)
    assert len(list((tmp_path / "comparison").glob("*.pkl"))) == 3
    s = m.bpnn_search(panel, DRIVERS, max_params=12, max_iter=5, cache=True)
    assert len(m.plot_bpnn_search(s).figure.axes) == 1


# --------------------------------------------------------------------------- registry

def test_registry_names_and_errors():
    from sklearn.exceptions import NotFittedError

    assert set(m.BASELINES) <= set(m.MODELS) and set(m.PANEL_MODELS) <= set(m.MODELS)
    for name in m.MODELS:
        est = m.get_model(name, random_state=3)
        assert clone(est).get_params() == est.get_params()
    assert m.get_model("bpnn").hidden == m.STUDY_BPNN_WINNER == (8, 7)
    assert isinstance(m.get_model("bpnn", trainer="keras"), m.KerasMLP)
    assert m.get_model("rf", n_estimators=7).n_estimators == 7
    with pytest.raises(ParameterError, match="unknown model 'xgb'; use one of bpnn, svr"):
        m.get_model("xgb")
    with pytest.raises(ParameterError, match="model svr"):
        m.get_model("svr", n_estimators=3)
    with pytest.raises(NotFittedError):
        m.get_model("svr").predict(np.zeros((2, 3)))
    with pytest.raises(ParameterError, match="call fit"):
        m.get_model("drift").predict(np.zeros((2, 3)))


def test_registry_is_one_table():
    """The name lists and labels are views of the rows; each row's fields say where it goes."""
    from carbonlab.models import evaluation, registry

    specs = m.model_specs()
    assert tuple(s.name for s in specs) == tuple(m.MODELS)
    assert tuple(m.PANEL_MODELS) == tuple(s.name for s in specs if s.panel)
    assert tuple(m.WINDOW_MODELS) == tuple(s.name for s in specs if s.window)
    assert set(m.NAIVE) == {s.name for s in specs if s.naive} == {"persistence", "drift"}
    assert m.BASELINES == ("persistence", "drift", "fe")  # naive baselines first
    assert dict(m.MODEL_LABELS) == {s.name: s.label for s in specs}
    assert set(evaluation._VARIANTS) == set(m.VARIANT_KINDS)  # every kind has its dispatch
    assert set(m.DEFAULT_MODELS) <= set(m.PANEL_MODELS)
    assert set(registry.CITY_MODELS) == {"bpnn", "lstm", "svr", "rf", "persistence", "drift"}
    for s in specs:
        assert type(m.get_model(s.name)) is type(s.build())
        assert set(s.city_grid_fast) <= set(s.city_grid)
    with pytest.raises(ParameterError, match="already registered"):
        m.register_model(m.model_spec("svr"))
    with pytest.raises(ParameterError, match="variants: model x"):
        m.ModelSpec("x", "X", LinearRegression, variants="grid")


def _ols(random_state: int = 0, **params):
    return LinearRegression(**params)


def test_a_model_added_to_the_table_reaches_chapter_3(panel):
    """One row, no other edit: the comparison, the selection and PanelModel take it."""
    spec = m.ModelSpec("ols", "pooled OLS", _ols, variant="least squares")
    assert "ols" not in m.MODELS
    with m.registered(spec):
        assert "ols" in m.MODELS and "ols" in m.PANEL_MODELS and m.MODEL_LABELS["ols"] == "pooled OLS"
        res = m.run_comparison(panel, DRIVERS, "random", models=("ols", "svr"),
                               svr_kernels=("rbf",))
        row = res.table.set_index("name").loc["ols"]
        assert (row["model"], row["variant"]) == ("pooled OLS", "least squares")
        assert set(res.table["name"]) == {"ols", "svr", *m.BASELINES}
        sel = m.select(panel, DRIVERS, models=("ols",), cache=False)
        t = sel.table.set_index("model")
        assert t.loc["ols", "label"] == "pooled OLS" and not t.loc["ols", "baseline"]
        assert np.isfinite(t.loc["ols", "mse_test"])
        pm = m.PanelModel("ols", tuple(DRIVERS)).fit(panel)
        assert isinstance(pm.estimator_, LinearRegression)
    assert "ols" not in m.MODELS and "ols" not in m.MODEL_LABELS
    with pytest.raises(ParameterError, match="unknown model 'ols'"):
        m.ComparisonSettings(models=("ols",))


@pytest.mark.parametrize("name", [n for n in m.WINDOW_MODELS if n != "lstm"])
def test_registry_models_in_sliding_windows(name):
    s = pd.Series(100 + 3.0 * np.arange(20) + np.sin(np.arange(20)), index=range(2000, 2020))
    params = {"n_estimators": 30, "mtry_trees": 10} if name == "rf" else {}
    fc = m.SlidingWindowForecaster(m.get_model(name, **params), window=3).fit(s).forecast(4)
    assert list(fc.index) == [2020, 2021, 2022, 2023] and np.isfinite(fc).all()
    if name == "persistence":
        assert (fc == s.iloc[-1]).all()
    if name == "drift":
        step = np.mean(np.diff(s.to_numpy())[2:])  # mean change over the training windows
        np.testing.assert_allclose(fc.to_numpy(), s.iloc[-1] + step * np.arange(1, 5))


def test_naive_baselines_on_the_panel(panel):
    ly = np.log(panel["emissions_mt"] * 100 / panel["population_10k"])
    train, test = panel[panel["year"] <= 2018], panel[panel["year"] > 2018]
    for name in ("persistence", "drift"):
        pm = m.PanelModel(name, tuple(DRIVERS)).fit(train)
        pred = pm.predict(test)
        for r in ("R00", "R05"):
            h = ly[(panel["region"] == r) & (panel["year"] <= 2018)].to_numpy()
            step = (h[-1] - h[0]) / (len(h) - 1) if name == "drift" else 0.0
            got = pred[(test["region"] == r).to_numpy()]
            np.testing.assert_allclose(got, h[-1] + step * np.arange(1, 4))
    fe = m.PanelModel("fe", tuple(DRIVERS)).fit(train)
    lt = ly[panel["year"] <= 2018]
    xw = train[DRIVERS] - train.groupby("region")[DRIVERS].transform("mean")
    yw = lt - lt.groupby(train["region"]).transform("mean")
    ref = np.linalg.lstsq(xw.to_numpy(), yw.to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(fe.estimator_.coef_, ref, rtol=1e-6)
    with pytest.raises(ParameterError, match="univariate window"):
        m.PanelModel("lstm", tuple(DRIVERS)).fit(train)


# --------------------------------------------------------------------------- selection

def test_select_rolling_origin_is_leakage_free_and_cached(panel, tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    names = ("svr", "fe", "persistence")
    sel = m.select(panel, DRIVERS, models=names)
    assert set(m.BASELINES) <= set(sel.table["model"])  # baselines always ranked
    assert sel.winner == sel.table["model"].iloc[0]
    assert sel.table["mse_test"].is_monotonic_increasing
    assert list(sel.table["rank"]) == list(range(1, len(sel.table) + 1))
    assert sel.winner in str(sel) and "PeakResult" not in sel._repr_markdown_()
    assert str(sel) == sel.describe() and f"test MSE {sel.table['mse_test'].iloc[0]:.4f}" in str(sel)
    pd.testing.assert_frame_equal(sel.summary(), sel.table)
    # the truth is linear with region effects: fixed effects beat SVR and the naive baselines
    assert sel.winner == "fe"
    # no leakage: changing emissions after a fold's origin leaves that fold's predictions alone
    first = sel.folds[0]
    T = first.train_years[-1]
    bumped = panel.assign(emissions_mt=np.where(panel["year"] > T, panel["emissions_mt"] * 1.5,
                                                panel["emissions_mt"]))
    p0 = m.rolling_origin_predictions(panel, DRIVERS, names)
    p1 = m.rolling_origin_predictions(bumped, DRIVERS, names)
    f0, f1 = p0[p0["fold"] == first.name], p1[p1["fold"] == first.name]
    np.testing.assert_allclose(f0["y_pred"], f1["y_pred"])
    assert not np.allclose(f0["y_true"], f1["y_true"])
    # cached: same content, same answer, read back; other content, other key
    again = m.select(panel, DRIVERS, models=names)
    pd.testing.assert_frame_equal(again.table, sel.table)
    assert any(tmp_path.rglob("*.pkl"))
    with pytest.raises(ParameterError, match="'lstm' does not work on the panel"):
        m.select(panel, DRIVERS, models=("lstm",), cache=False)


# --------------------------------------------------------------------------- numpy LSTM

def _lstm_data(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    s = np.cumsum(rng.normal(1.0, 0.5, n)) + 10.0
    return np.lib.stride_tricks.sliding_window_view(s, 3)[:-1], s[3:]


def test_lstm_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    u = 4
    theta = m.lstm._lstm_init(u, 0) + rng.normal(0, 0.3, m.lstm._lstm_init(u, 0).size)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=7)
    _, grad = m.lstm._lstm_loss_grad(theta, u, x, y)
    num = np.array([(m.lstm._lstm_loss_grad(theta + e, u, x, y)[0]
                     - m.lstm._lstm_loss_grad(theta - e, u, x, y)[0]) / 2e-6
                    for e in np.eye(theta.size) * 1e-6])
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-8)
    assert np.abs(grad).max() > 1e-3   # not a trivially zero gradient


def test_lstm_is_the_registry_model_seeded_and_without_tensorflow():
    X, y = _lstm_data()
    a = m.get_model("lstm", units=6, epochs=40, random_state=3)
    assert isinstance(a, m.LSTMRegressor)
    pa = a.fit(X, y).predict(X)
    np.testing.assert_array_equal(pa, m.get_model("lstm", units=6, epochs=40,
                                                  random_state=3).fit(X, y).predict(X))
    assert not np.array_equal(pa, m.get_model("lstm", units=6, epochs=40,
                                              random_state=4).fit(X, y).predict(X))
    assert a.loss_curve_[-1] < 0.5 * a.loss_curve_[0]
    code = ("import sys, numpy as np, carbonlab.models as m; x = np.arange(30.0);"
            "w = np.lib.stride_tricks.sliding_window_view(x, 3)[:-1];"
            "m.get_model('lstm', epochs=3).fit(w, x[3:]); print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lstm_early_stopping_restores_the_best_epoch():
    X, y = _lstm_data(24, seed=2)
    est = m.LSTMRegressor(units=8, epochs=150, learning_rate=0.05, validation_fraction=0.25,
                          random_state=0).fit(X, y)
    val = np.asarray(est.validation_curve_)
    assert len(val) == 150 and len(est.loss_curve_) == 150
    assert est.best_epoch_ == int(np.argmin(val)) + 1 < 150   # stopped before the end
    assert est.best_validation_loss_ == pytest.approx(val.min())
    # the kept weights are the best epoch's: refitting for exactly that many epochs on the
    # same training rows (same scaling) gives the same predictions
    ntr = m.validation_rows(len(y), 0.25)
    ref = m.LSTMRegressor(units=8, epochs=est.best_epoch_, learning_rate=0.05,
                          random_state=0).fit(X[:ntr], y[:ntr])
    np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=1e-12)
    with pytest.raises(ParameterError, match="validation_fraction"):
        m.LSTMRegressor(validation_fraction=1.5).fit(X, y)


def test_lstm_mini_batches_and_bad_parameters():
    X, y = _lstm_data()
    full = m.LSTMRegressor(units=4, epochs=5).fit(X, y)
    mini = m.LSTMRegressor(units=4, epochs=5, batch_size=4).fit(X, y)
    assert not np.allclose(full.predict(X), mini.predict(X))   # 4 Adam steps an epoch, not 1
    for bad in ({"units": 0}, {"epochs": 0}, {"learning_rate": -1.0}, {"batch_size": 0}):
        with pytest.raises(ParameterError):
            m.LSTMRegressor(**bad).fit(X, y)


def test_numpy_lstm_matches_keras_from_the_same_weights():
    """The numpy LSTM and Keras' LSTM + Dense, started from the same weights and trained
    by full-batch Adam, agree to float32 precision after 40 epochs."""
    X, y = _lstm_data()
    u, epochs = 8, 40
    est = m.LSTMRegressor(units=u, epochs=epochs, random_state=5).fit(X, y)
    keras = m.keras_backend()
    ref = m.KerasLSTM(units=u, epochs=epochs)
    ref._scale_fit(X, y)
    model = ref._build(keras, X.shape[1])
    model.set_weights([w.astype("float32") for w in m.lstm._lstm_views(m.lstm._lstm_init(u, 5), u)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    xs = ((X - ref.y_mean_) / ref.y_scale_)[:, :, None].astype("float32")
    ys = ((y - ref.y_mean_) / ref.y_scale_).astype("float32")[:, None]
    curve = m.nets._full_batch_train(model, xs, ys, epochs)
    pk = np.asarray(model(xs), dtype=float)[:, 0] * ref.y_scale_ + ref.y_mean_
    np.testing.assert_allclose(est.predict(X), pk, atol=1e-4 * np.std(y))
    np.testing.assert_allclose(est.loss_curve_, curve, rtol=1e-4)
    assert curve[-1] < 0.5 * curve[0]


def test_forest_trees_skip_only_redundant_checks():
    """The forest grows its trees without scikit-learn's per-tree input checks; the trees
    are the ones the checked path grows."""
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 3)), rng.normal(size=30)
    f = m.RandomForest(20, mtry_trees=5, random_state=1).fit(X, y)
    rs = np.random.default_rng(1)
    seeds = rs.integers(0, 2**31 - 1, size=20)
    X32 = X.astype(np.float32)
    for b, tree in enumerate(f.estimators_[:5]):
        idx = rs.integers(0, 30, size=30)
        ref = DecisionTreeRegressor(max_features=f.mtry_, min_samples_leaf=f.min_samples_leaf,
                                    random_state=int(seeds[b]))
        ref.fit(X32[idx], y[idx])
        np.testing.assert_array_equal(tree.predict(X32), ref.predict(X32))
