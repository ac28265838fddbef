"""carbonlab.bma: exact enumeration against a brute-force per-model implementation of the spec,
hyper-g ₂F₁ against mpmath, MC3, bad input, the teaching panel and the chapter notebook."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import pytest

from carbonlab._util import DataError, ParameterError
from carbonlab.bma import (
    BMA,
    bms_hexcode,
    evidence_class,
    log_hyp2f1,
    plot_coefficients,
    plot_model_size,
    plot_model_space,
    plot_pip,
    prior_sensitivity,
    within_transform,
)

DRIVERS = ["lconsume", "student", "first", "tertrate", "ltrade", "lrd", "gas", "fossil", "urban",
           "ledufund", "college", "lpatent", "lcar", "ltourist", "lfreight", "lenvfund",
           "lindustry", "garbage"]


def make_data(N: int = 70, K: int = 6, seed: int = 0, noise: float = 1.0
              ) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(N, K)) @ (np.eye(K) + 0.5 * np.eye(K, k=1)),
                     columns=[f"v{i}" for i in range(K)])
    y = pd.Series(2.0 + 0.8 * X["v0"] - 0.5 * X[f"v{K - 2}"] + noise * rng.normal(size=N))
    return X, y


def brute_force(X: pd.DataFrame, y: pd.Series, g: str, mprior: str) -> dict[str, np.ndarray]:
    """Every model fitted on its own (np.linalg.lstsq), the formulas of the spec §2–§7 in mpmath
    for the hyper-g ₂F₁: the slow, obvious implementation."""
    Xc = X.to_numpy() - X.to_numpy().mean(axis=0)
    yc = y.to_numpy() - y.mean()
    N, K = Xc.shape
    yty = yc @ yc
    a = 2 + 2 / N
    gval = {"UIP": N, "RIC": K * K}.get(g)
    Ls, E, E2, inc, ks = [], [], [], [], []
    for bits in itertools.product([0, 1], repeat=K):
        idx = np.flatnonzero(bits)
        k = idx.size
        e, v = np.zeros(K), np.zeros(K)
        r2 = 0.0
        if k:
            b, *_ = np.linalg.lstsq(Xc[:, idx], yc, rcond=None)
            r2 = 1 - np.sum((yc - Xc[:, idx] @ b) ** 2) / yty
            dd = np.diag(np.linalg.inv(Xc[:, idx].T @ Xc[:, idx]))
        if g == "hyper":
            ell = -(N - 1) / 2 * math.log(yty)
            if k:
                c = k + a - 2
                F = mpmath.hyp2f1((N - 1) / 2, 1, (k + a) / 2, r2)
                ell += math.log(a - 2) - math.log(c) + float(mpmath.log(F))
                Q = c / float(F)
                n3 = N - 3
                es = (Q - c + n3 * r2) / (r2 * (n3 - c))
                e[idx] = es * b
                v[idx] = (((1 + 2 / n3 * r2 / (1 - r2)) * Q + (n3 - 2) * r2 - c) * n3 * (1 - r2)
                          / ((n3 - c) * (n3 - c - 2) * r2) * (yty / n3) * dd)
        else:
            s = gval / (1 + gval)
            ell = -(N - 1) / 2 * math.log(yty) - k / 2 * math.log1p(gval) \
                - (N - 1) / 2 * math.log(1 - s * r2)
            if k:
                e[idx] = s * b
                v[idx] = yty / (N - 3) * s * (1 - s * r2) * dd
        lp = 0.0 if mprior == "uniform" else math.lgamma(1 + k) + math.lgamma(1 + K - k)
        Ls.append(ell + lp)
        E.append(e)
        E2.append(v + e * e)
        inc.append(bits)
        ks.append(k)
    L = np.array(Ls)
    w = np.exp(L - L.max())
    w /= w.sum()
    mean = w @ np.array(E)
    return {"pip": w @ np.array(inc), "mean": mean, "sd": np.sqrt(w @ np.array(E2) - mean ** 2),
            "L": L, "w": w, "k": np.array(ks), "inc": np.array(inc)}


@pytest.mark.parametrize("g,mprior", [("UIP", "uniform"), ("RIC", "random"), ("hyper", "uniform"),
                                      ("hyper", "random")])
def test_enumeration_equals_brute_force(g: str, mprior: str) -> None:
    X, y = make_data()
    ref = brute_force(X, y, g, mprior)
    fit = BMA(g=g, mprior=mprior, nmodel=2 ** X.shape[1]).fit(X, y)
    s = fit.summary(order_by_pip=False)
    np.testing.assert_allclose(s["pip"], ref["pip"], atol=1e-10)
    np.testing.assert_allclose(s["post_mean"], ref["mean"], atol=1e-10)
    np.testing.assert_allclose(s["post_sd"], ref["sd"], atol=1e-10)
    top = fit.top_models(2 ** X.shape[1])
    order = np.argsort(-ref["L"], kind="stable")
    np.testing.assert_allclose(top["log_marglik"] + top["log_prior"], ref["L"][order], rtol=1e-11)
    np.testing.assert_allclose(top["pmp"], ref["w"][order], atol=1e-12)
    assert top["pmp"].sum() == pytest.approx(1.0, abs=1e-12)
    size = fit.model_size()
    np.testing.assert_allclose(size["posterior"],
                               np.bincount(ref["k"], weights=ref["w"], minlength=X.shape[1] + 1),
                               atol=1e-12)
    assert size.attrs["posterior_mean"] == pytest.approx(s["pip"].sum(), abs=1e-10)
    assert size["prior"].sum() == pytest.approx(1.0)


def test_summary_columns_evidence_and_determinism() -> None:
    X, y = make_data(seed=3)
    a = BMA().fit(X, y).summary()
    b = BMA().fit(X, y).summary()
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["pip", "post_mean", "post_sd", "cond_pos_sign", "evidence"]
    assert a.index.name == "regressor" and a["pip"].is_monotonic_decreasing
    assert list(a["evidence"]) == list(evidence_class(a["pip"].to_numpy()))
    assert list(evidence_class([0.49, 0.5, 0.8, 0.96, 0.995])) == \
        ["none", "weak", "positive", "strong", "very strong"]
    # v0 has a positive true effect, so its conditional sign is positive with certainty
    assert a.loc["v0", "cond_pos_sign"] == 1.0 and a.loc["v0", "pip"] > 0.99


def test_larger_blocks_agree_with_small(monkeypatch: pytest.MonkeyPatch) -> None:
    """The block split (outer prefixes × vectorised inner tree) does not change the answer."""
    import carbonlab.bma as bma

    X, y = make_data(N=120, K=11, seed=5)
    ref = BMA(mprior="random").fit(X, y).summary(order_by_pip=False)
    monkeypatch.setattr(bma, "_BLOCK_ELEMENTS", 4 * 12 * 12)
    small = BMA(mprior="random").fit(X, y).summary(order_by_pip=False)
    pd.testing.assert_frame_equal(ref, small, check_exact=False, atol=1e-12, rtol=0)


def test_log_hyp2f1_matches_mpmath_and_bms_series_breaks() -> None:
    mpmath.mp.dps = 40
    worst = 0.0
    for N in (30, 510, 5000):
        A = (N - 1) / 2
        for k in (1, 5, 18):
            C = (k + 2 + 2 / N) / 2
            for z in (1e-9, 1e-3, 0.1, 0.5, 0.85, 0.93, 0.97, 0.999):
                exact = float(mpmath.log(mpmath.hyp2f1(A, 1, C, z)))
                worst = max(worst, abs(float(log_hyp2f1(A, C, z)) - exact) / max(abs(exact), 1e-3))
    assert worst < 1e-10
    A, C = 254.5, (9 + 2 + 2 / 510) / 2
    exact = float(mpmath.log(mpmath.hyp2f1(A, 1, C, 0.85)))
    assert float(log_hyp2f1(A, C, 0.85, method="bms")) == pytest.approx(exact, rel=1e-13)
    assert float(log_hyp2f1(A, C, 0.93, method="exact")) - \
        float(log_hyp2f1(A, C, 0.93, method="bms")) > 1.0


def test_hyper_bms_series_overflow_raises() -> None:
    X, y = make_data(N=510, K=4, noise=0.05)
    fit = BMA(g="hyper=UIP").fit(X, y)
    assert fit.r2_full_ > 0.96 and np.isfinite(fit.summary()["pip"]).all()
    with pytest.raises(ParameterError, match="overflows"):
        BMA(g="hyper=UIP", hyper_f21="bms").fit(X, y)


def test_g_options_and_priors() -> None:
    X, y = make_data(N=30, K=6)
    assert BMA(g="BRIC").fit(X, y).shrinkage()["mean"] == pytest.approx(36 / 37)
    assert BMA(g="uip").fit(X, y).shrinkage()["mean"] == pytest.approx(30 / 31)
    assert BMA(g="HQ").fit(X, y).shrinkage()["mean"] == pytest.approx(
        math.log(30) ** 3 / (1 + math.log(30) ** 3))
    ms = BMA(mprior="random").fit(X, y).model_size()
    np.testing.assert_allclose(ms["prior"], 1 / 7)  # beta-binomial, m = K/2: flat over sizes
    msf = BMA(mprior="fixed", mprior_size=2).fit(X, y).model_size()
    assert msf.attrs["prior_mean"] == pytest.approx(2.0)
    hb = BMA(g="hyper=BRIC").fit(X, y)
    assert hb.shrinkage()["sd"] > 0


def test_hexcode_like_bms() -> None:
    assert bms_hexcode(np.array([[1, 1, 1, 0, 1, 1, 1, 1]]))[0] == "0ef"
    assert bms_hexcode(np.array([[1, 0, 1]]))[0] == "5"
    assert len(bms_hexcode(np.zeros((1, 18)))[0]) == 5


def test_within_twoway_balanced_equals_formula() -> None:
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(5), 4)
    t = np.tile(np.arange(4), 5)
    v = rng.normal(size=(20, 2))
    out = within_transform(v, (g, t), "twoway")
    df = pd.DataFrame(v)
    expect = v - df.groupby(g).transform("mean").to_numpy() \
        - df.groupby(t).transform("mean").to_numpy() + v.mean(axis=0)
    np.testing.assert_allclose(out, expect, atol=1e-12)


def test_describe_says_what_the_fit_computed() -> None:
    """The results protocol: summary() is the table, describe() the fit in sentences."""
    X, y = make_data(seed=3)
    b = BMA().fit(X, y)
    s, text = b.summary(), b.describe()
    assert isinstance(s, pd.DataFrame) and isinstance(text, str) and "\n" not in text
    assert text.startswith(f"BMA of {len(y)} observations on {X.shape[1]} regressors (g = UIP, "
                           f"uniform model prior; all {2 ** X.shape[1]} models enumerated)")
    strong = s[s["pip"] >= 0.5]
    assert len(strong) and all(f"{r} ({p:.2f}, {e})" in text
                               for r, p, e in zip(strong.index, strong["pip"], strong["evidence"],
                                                  strict=True))
    assert all(f"{r} (" not in text for r in s.index[s["pip"] < 0.5])
    assert f"{100 * b.post_model_prob_.iloc[0]:.1f} %" in text
    assert f"size {b.model_size().attrs['posterior_mean']:.1f}" in text
    mc3 = BMA(method="mc3", n_iter=500, burn=50, random_state=1).fit(X, y).describe()
    assert "MC3, " in mc3 and "models visited" in mc3


def test_mc3_recovers_enumeration_and_is_seeded() -> None:
    X, y = make_data(N=100, K=10, seed=2)
    exact = BMA(nmodel=50).fit(X, y)
    m1 = BMA(method="mc3", n_iter=6000, burn=500, random_state=7, nmodel=50).fit(X, y)
    m2 = BMA(method="mc3", n_iter=6000, burn=500, random_state=7, nmodel=50).fit(X, y)
    pd.testing.assert_frame_equal(m1.summary(), m2.summary())
    s_an, s_fr = m1.summary(order_by_pip=False), m1.summary(order_by_pip=False, weights="freq")
    ex = exact.summary(order_by_pip=False)
    np.testing.assert_allclose(s_an["pip"], ex["pip"], atol=0.02)
    np.testing.assert_allclose(s_fr["pip"], ex["pip"], atol=0.08)
    t1, te = m1.top_models(3), exact.top_models(3)
    assert list(t1.index) == list(te.index) and "freq" in t1.columns
    np.testing.assert_allclose(t1["log_marglik"], te["log_marglik"], rtol=1e-12)


@pytest.mark.parametrize("make,err,match", [
    (lambda X, y: (X.assign(c=1.0), y), DataError, r"\['c'\] are constant"),
    (lambda X, y: (X.assign(d=2 * X["v1"] - X["v2"]), y), DataError, "collinear"),
    (lambda X, y: (X.assign(v3=X["v3"].where(X.index != 4)), y), DataError, r"NaN/inf in columns \['v3'\]"),
    (lambda X, y: (X, y.where(y.index != 2)), DataError, "y: NaN"),
    (lambda X, y: (X.iloc[:, :0], y), DataError, "K = 0"),
    (lambda X, y: (X.iloc[:7], y.iloc[:7]), DataError, "too few"),
    (lambda X, y: (X, y.iloc[:-1]), DataError, "y: expected"),
])
def test_bad_data(make, err, match) -> None:
    X, y = make_data()
    Xb, yb = make(X, y)
    with pytest.raises(err, match=match):
        BMA().fit(Xb, yb)


@pytest.mark.parametrize("kw,match", [
    ({"g": "nonsense"}, "g: unknown option"), ({"g": -1.0}, "positive"),
    ({"g": "hyper=5"}, r"\(2, 4\]"), ({"mprior": "beta"}, "mprior"),
    ({"mprior": "random", "mprior_size": 6}, "mprior_size"), ({"within": "oneway"}, "within"),
    ({"method": "gibbs"}, "method"), ({"hyper_f21": "approx"}, "hyper_f21"), ({"nmodel": 0}, "nmodel"),
    ({"max_exact": 5}, "pass method='mc3'"), ({"within": "individual"}, "groups: required"),
])
def test_bad_parameters(kw, match) -> None:
    X, y = make_data()
    with pytest.raises(ParameterError, match=match):
        BMA(**kw).fit(X, y)


def test_time_invariant_regressor_named_after_within() -> None:
    X, y = make_data(N=40)
    region = np.repeat(np.arange(8), 5)
    X["fixed"] = np.repeat(np.arange(8.0), 5)
    with pytest.raises(DataError, match=r"\['fixed'\] are constant after within='individual'"):
        BMA(within="individual").fit(X, y, groups=pd.Series(region))


def test_prior_sensitivity_and_plots() -> None:
    import matplotlib

    matplotlib.use("Agg")
    X, y = make_data(K=5)
    tab = prior_sensitivity(X, y, g=("UIP", "hyper"), mprior=("uniform", "random"))
    assert len(tab) == 4 * 5 and set(tab["g"]) == {"UIP", "hyper"}
    ref = BMA(g="hyper", mprior="random").fit(X, y).summary(order_by_pip=False)
    sub = tab[(tab.g == "hyper") & (tab.mprior == "random")].set_index("regressor")
    np.testing.assert_allclose(sub["pip"], ref["pip"])
    fit = BMA().fit(X, y)
    for ax in (plot_pip(fit.summary(), truth=["v0"]), plot_coefficients(fit.summary()),
               plot_model_size(fit.model_size()), plot_model_space(fit, n=10)):
        assert ax.figure is not None
    signs = fit.top_model_signs(3)
    assert (signs.abs().to_numpy() == fit.top_models(3)[list(X.columns)].to_numpy()).all()


@pytest.fixture(scope="module")
def teaching():
    from carbonlab.data import load_panel, log_emissions_per_capita

    try:
        panel = load_panel("teaching")
    except FileNotFoundError:  # pragma: no cover - the panel is committed
        pytest.skip("teaching panel not built")
    truth = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "teaching" / "truth.csv")
    return panel, log_emissions_per_capita(panel), truth


def test_teaching_panel_recovers_true_drivers(teaching) -> None:
    """On the truth's form (the non-fossil share scaled by the service share,
    ``synth.true_design``) BMA recovers the true drivers and rejects the others; on the plain
    linear design the interaction's misfit lets correlated proxies in."""
    from carbonlab import synth

    panel, y, truth = teaching
    plain = BMA(within="individual").fit(panel[DRIVERS], y, groups=panel["region"]).summary()
    fit = BMA(within="individual").fit(synth.true_design(panel[DRIVERS], truth), y,
                                       groups=panel["region"])
    s = fit.summary()
    true = set(truth.loc[truth["true"], "driver"])
    assert (plain.drop(index=sorted(true))["pip"] > 0.5).any()
    assert len(true) == 5
    assert (s.loc[sorted(true), "pip"] > 0.95).all(), s.loc[sorted(true)]
    assert (s.drop(index=sorted(true))["pip"] < 0.5).all(), s
    coef = truth.set_index("driver")["coefficient"]
    for d in true:  # the posterior means bracket the generator's coefficients
        assert abs(s.loc[d, "post_mean"] - coef[d]) < 4 * s.loc[d, "post_sd"]


@pytest.mark.slow
def test_chapter_notebook_runs(tmp_path: Path) -> None:
    from nbrun import run_notebook

    out = run_notebook("02_bma.ipynb", tmp_path, dataset="teaching", seed=0, g="UIP",
                       mprior="uniform", within="individual")
    assert out.exists()


def test_design_from_panel(teaching) -> None:
    from carbonlab.bma import design_from_panel

    panel, y, _ = teaching
    X, yy, groups = design_from_panel(panel)
    assert list(X.columns) == DRIVERS and X.attrs["unavailable"] == []
    np.testing.assert_allclose(yy.to_numpy(), y.to_numpy())
    holed = panel.drop(columns=["garbage", "student"]).copy()
    holed.loc[3, "gas"] = np.nan
    X2, y2, g2 = design_from_panel(holed)
    assert X2.attrs["unavailable"] == ["student", "garbage"]
    assert X2.attrs["dropped_rows"] == [(panel.loc[3, "region"], int(panel.loc[3, "year"]))]
    assert len(X2) == len(y2) == len(g2) == len(panel) - 1
    with pytest.raises(DataError, match=r"\['garbage'\] are missing"):
        design_from_panel(holed, drivers=["gas", "garbage"])


def test_fitted_attributes_match_the_tables() -> None:
    """The scikit-learn style fitted attributes are the summary's and top_models' numbers."""
    X, y = make_data(N=80, K=6, seed=4)
    fit = BMA(nmodel=20).fit(X, y)
    s = fit.summary(order_by_pip=False)
    for attr, col in (("pip_", "pip"), ("coef_mean_", "post_mean"), ("coef_sd_", "post_sd"),
                      ("cond_pos_sign_", "cond_pos_sign")):
        got = getattr(fit, attr)
        assert isinstance(got, pd.Series) and list(got.index) == list(X.columns), attr
        assert got.index.name == "regressor"
        np.testing.assert_array_equal(got.to_numpy(), s[col].to_numpy())
    # v0 (true +0.8) is in; the posterior mean brackets it; v1 (no effect) is doubtful
    assert fit.pip_["v0"] > 0.99 and abs(fit.coef_mean_["v0"] - 0.8) < 3 * fit.coef_sd_["v0"]
    assert fit.pip_["v1"] < 0.5
    assert fit.n_models_ == 2 ** 6 and fit.n_features_in_ == 6 and fit.n_obs_ == 80
    assert list(fit.feature_names_in_) == list(X.columns)
    assert len(fit.models_) == 20 and fit.models_["pmp"].is_monotonic_decreasing
    pd.testing.assert_frame_equal(fit.models_.iloc[:5], fit.top_models(5))
    np.testing.assert_array_equal(fit.post_model_prob_.to_numpy(), fit.models_["pmp"].to_numpy())
    assert list(fit.post_model_prob_.index) == list(fit.models_.index)
    # PIP = posterior mass of the models that include the regressor (all 64 kept here)
    full = BMA(nmodel=64).fit(X, y)
    np.testing.assert_allclose(full.post_model_prob_ @ full.models_[list(X.columns)],
                               full.pip_.to_numpy(), atol=1e-12)
    assert full.post_model_prob_.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("use", [
    lambda b: b.pip_, lambda b: b.coef_mean_, lambda b: b.coef_sd_, lambda b: b.models_,
    lambda b: b.post_model_prob_, lambda b: b.n_models_, lambda b: b.summary(),
    lambda b: b.top_models(3), lambda b: b.model_size(), lambda b: b.shrinkage(),
    lambda b: b.describe(),
])
def test_not_fitted_raises_sklearn_not_fitted_error(use) -> None:
    from sklearn.exceptions import NotFittedError as SkNotFittedError
    from sklearn.utils.validation import check_is_fitted

    from carbonlab._util import NotFittedError
    from carbonlab.models import NotFittedError as ModelsNotFittedError

    assert NotFittedError is ModelsNotFittedError  # one error class for the idiom
    with pytest.raises(NotFittedError, match="BMA: call fit") as info:
        use(BMA())
    assert isinstance(info.value, SkNotFittedError) and isinstance(info.value, ParameterError)
    with pytest.raises(SkNotFittedError):
        check_is_fitted(BMA())
    X, y = make_data(N=40, K=3)
    fitted = BMA().fit(X, y)
    check_is_fitted(fitted)
    use(fitted)
    with pytest.raises(AttributeError, match="no attribute 'nonsense_'"):
        _ = fitted.nonsense_
