"""The inverse problem (Table 10): the peak rule as constraint, observed-change bounds, PIP
holds, natural units, and a solver that checks convergence and projects its answer.

Most tests use :class:`_Linear`, a model whose prediction is elementwise numpy arithmetic
(no BLAS, no threads), with ``min_pip=None`` and explicit directions (no BMA), so their
numbers do not depend on the machine.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest

from carbonlab._util import ParameterError
from carbonlab.forecast import inverse
from carbonlab.forecast.inverse import (
    adjustment_problem,
    driver_evidence,
    laggard_table,
    largest_changes,
    peak_adjustment,
    peak_gap,
    solve_adjustment,
)
from carbonlab.forecast.rule import PEAK_TOL, find_peak
from carbonlab.forecast.table10 import driver_kind, natural_change, table10
from carbonlab.regions import PROVINCES
from tests.test_peaks import BETA, make_panel, trend_paths

SIGNS = pd.Series({d: -int(np.sign(b)) for d, b in BETA.items()})  # the direction that lowers


class _Linear:
    """ln per capita = region level + Σ β_d x_d, computed elementwise (machine-independent)."""

    def __init__(self, panel: pd.DataFrame, beta: dict[str, float] = BETA) -> None:
        self.beta = dict(beta)
        self.drivers = tuple(beta)
        y = np.log(panel["emissions_mt"].to_numpy() * 100 / panel["population_10k"].to_numpy())
        lvl = pd.Series(y - self._sum(panel), index=panel.index)
        self.level = lvl.groupby(panel["region"]).mean().to_dict()

    def _sum(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros(len(frame))
        for d, b in self.beta.items():
            out = out + b * frame[d].to_numpy(dtype=float)
        return out

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return frame["region"].map(self.level).to_numpy(dtype=float) + self._sum(frame)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel()


@pytest.fixture(scope="module")
def paths(panel) -> pd.DataFrame:
    return trend_paths(panel)


def _s_star(prob, margin: float) -> float:
    """The smallest reduction s = Σ β_d δ_d (ln units, s < 0) that makes the linear model's
    path peak by find_peak, the last value raised by ``margin`` (the solver's room): bisection
    on find_peak itself, independent of :func:`peak_gap`."""
    e0 = prob.emissions(np.zeros(len(prob.drivers)))
    t0 = int(prob.hist_years.max())
    ramp = np.minimum(1.0, (prob.years - t0) / (prob.year - t0))
    years = np.r_[prob.hist_years, prob.years]

    def peaked(s: float) -> bool:
        e = e0 * np.exp(ramp * s)
        e[-1] *= np.exp(margin)
        return find_peak(years, np.r_[prob.hist_mt, e], tol=prob.tol).peaked

    assert not peaked(0.0) and peaked(-5.0)
    lo, hi = -5.0, 0.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if peaked(mid) else (lo, mid)
    return lo


def _waterfill(a: np.ndarray, s: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """argmin ||z|| subject to a·z ≤ s (s < 0), lo ≤ z ≤ hi: z = clip(−t a), a·z(t) = s."""
    t_lo, t_hi = 0.0, 1e6
    for _ in range(200):
        t = 0.5 * (t_lo + t_hi)
        t_lo, t_hi = (t_lo, t) if a @ np.clip(-t * a, lo, hi) <= s else (t, t_hi)
    return np.clip(-t_hi * a, lo, hi)


# --------------------------------------------------------------------------- the peak rule


def test_peak_gap_is_find_peaks_rule():
    rng = np.random.default_rng(3)
    n = 0
    for tol in (0.0, PEAK_TOL, 0.05):
        for _ in range(400):
            h = np.log(rng.uniform(50, 150, size=rng.integers(1, 6)))
            steps = rng.choice([-0.03, -0.005, 0.0, 0.004, 0.02], size=rng.integers(2, 9))
            f = h[-1] + np.cumsum(steps + rng.normal(0, 0.003, len(steps)) * rng.integers(0, 2))
            g = float(peak_gap(h, f[None], tol)[0])
            years = np.arange(len(h) + len(f))
            pk = find_peak(years, np.exp(np.r_[h, f]), tol=tol)
            if abs(g) > 1e-12:
                assert (g < 0) == pk.peaked, (tol, h, f, g)
                n += 1
    assert n > 1000
    # the two branches: 1 % below an earlier maximum while rising; flat after an earlier maximum
    assert peak_gap(np.log([100.0]), np.log([[95.0, 98.0]]))[0] < 0
    assert peak_gap(np.log([100.0]), np.log([[99.5, 99.9]]))[0] < 0
    assert peak_gap(np.log([100.0]), np.log([[99.0, 101.0]]))[0] > 0
    assert peak_gap(np.log([90.0]), np.log([[95.0, 99.0]]))[0] > 0


def test_feasible_iff_find_peak_on_the_adjusted_path(panel, paths):
    m = _Linear(panel)
    seen = set()
    for r in PROVINCES[:6]:
        for kw in ({}, {"max_sd": 0.02, "bounds": None}, {"then": ()}, {"tol": 0.03}):
            res = peak_adjustment(m, panel, paths, r, directions=SIGNS, min_pip=None, **kw)
            pk = find_peak(res.adjusted["year"], res.adjusted["emissions_mt"],
                           tol=kw.get("tol", PEAK_TOL))
            assert res.feasible == pk.peaked, res.message
            assert res.peak == pk
            seen.add((res.stage, res.feasible))
    assert {(0, True), (1, True)} <= seen and any(not f for _, f in seen)


# --------------------------------------------------------------------------- the solver


def _bound_case(panel, paths, region="Beijing"):
    """A linear case whose least-norm answer has two drivers on their bounds."""
    m = _Linear(panel)
    ds = ["lcar", "tertrate", "gas"]
    prob = adjustment_problem(m, panel, paths, region, ds, directions=SIGNS, bounds=None,
                              max_sd=100.0)
    a = np.array([BETA[d] for d in ds]) * prob.scale
    s = _s_star(prob, prob.margin)
    order = np.argsort(-np.abs(a))
    # two drivers at |z| = box, the third takes the rest at a share f of its bound, with
    # |a3|/|a2| < f < 1 so that it stays inside while the second is clipped
    a1, a2, a3 = np.abs(a[order])
    f = 0.5 * (1 + a3 / a2)
    box = abs(s) / (a1 + a2 + f * a3)
    prob = adjustment_problem(m, panel, paths, region, ds, directions=SIGNS, bounds=None,
                              max_sd=box)
    z_star = _waterfill(a, s, prob.lo, prob.hi)
    return m, ds, prob, z_star, box, [ds[i] for i in order[:2]]


def test_slsqp_case_two_drivers_on_their_bounds(panel, paths):
    """The case that failed on a fresh machine: the least-norm point has two drivers on their
    bounds; the solver must return it (not a worse start), feasible and converged."""
    m, ds, prob, z_star, box, on_bound = _bound_case(panel, paths)
    sol = solve_adjustment(prob)
    assert sol.feasible and sol.converged
    assert prob.gap(sol.z) <= 0
    np.testing.assert_allclose(sol.z, z_star, rtol=1e-4, atol=1e-6 * box)
    res = peak_adjustment(m, panel, paths, "Beijing", drivers=ds, then=(), directions=SIGNS,
                          bounds=None, max_sd=box, min_pip=None)
    assert res.feasible and res.converged and set(res.binding) == set(on_bound)
    assert "at a bound" in res.message and "did not converge" not in res.message
    np.testing.assert_allclose(res.z.to_numpy(), z_star, rtol=1e-4, atol=1e-6 * box)


def _fake_minimize(x, success):
    def minimize(*args, **kwargs):
        return types.SimpleNamespace(x=np.array(x, dtype=float), success=success,
                                     message="Iteration limit reached")
    return types.SimpleNamespace(minimize=minimize)


def test_a_hair_infeasible_polish_is_projected_not_dropped(panel, paths, monkeypatch):
    """SLSQP's point a hair outside the constraint (and outside the box) is projected back
    (clipped, then moved towards its feasible start) and kept; a failed run is reported."""
    m, ds, prob, z_star, box, _ = _bound_case(panel, paths)
    hair = z_star * (1 - 1e-7) + np.where(np.abs(z_star) >= box * (1 - 1e-9), 1e-9, 0) * np.sign(z_star)
    assert prob.gap(hair) > 0  # infeasible as returned
    monkeypatch.setattr(inverse, "optimize", _fake_minimize(hair, True))
    sol = solve_adjustment(prob)
    assert sol.feasible and sol.converged and prob.gap(sol.z) <= 0
    assert np.all(sol.z >= prob.lo) and np.all(sol.z <= prob.hi)
    np.testing.assert_allclose(sol.z, z_star, rtol=1e-5, atol=1e-6 * box)
    # the same point from a run that did not converge: kept, and said
    monkeypatch.setattr(inverse, "optimize", _fake_minimize(hair, False))
    sol = solve_adjustment(prob)
    assert sol.feasible and not sol.converged and "Iteration limit" in sol.note
    np.testing.assert_allclose(sol.z, z_star, rtol=1e-5, atol=1e-6 * box)
    res = peak_adjustment(m, panel, paths, "Beijing", drivers=ds, then=(), directions=SIGNS,
                          bounds=None, max_sd=box, min_pip=None)
    assert not res.converged and "the optimiser did not converge (Iteration limit reached)" in res.message


def test_study_ordering_and_infeasible(panel, paths):
    """Cars, tertiary and gas shares first; the non-fossil share only when they cannot."""
    m, region = _Linear(panel), "Beijing"
    kw = {"directions": SIGNS, "bounds": None, "min_pip": None}
    p3 = adjustment_problem(m, panel, paths, region, ["lcar", "tertrate", "gas"], max_sd=1.0, **kw)
    p4 = adjustment_problem(m, panel, paths, region, ["lcar", "tertrate", "gas", "fossil"],
                            max_sd=1.0, **kw)
    c = abs(_s_star(p3, p3.margin))
    three = sum(abs(BETA[d]) * s for d, s in zip(p3.drivers, p3.scale, strict=True))
    four = three + abs(BETA["fossil"]) * p4.scale[-1]
    m_sd = 0.5 * (c / three + c / four)  # the three cannot, the four can
    res = peak_adjustment(m, panel, paths, region, max_sd=m_sd, **kw)
    assert res.feasible and res.stage == 2 and res.drivers[-1] == "fossil"
    assert res.delta["fossil"] > 0 and res.delta["lcar"] < 0
    res2 = peak_adjustment(m, panel, paths, region, max_sd=m_sd, then=(), **kw)
    assert not res2.feasible and res2.message.startswith("infeasible")
    assert "best found" in res2.message and f"within {m_sd:g} s.d." in res2.message
    np.testing.assert_allclose(np.abs(res2.z), m_sd, rtol=1e-6)  # the corner of the box
    assert res2.corner and "bounds bind for lcar, tertrate, gas" in res2.message
    assert res2.last_growth_pct < res2.base_growth_pct
    res3 = peak_adjustment(m, panel, paths, region, max_sd=1.02 * c / three, then=(), **kw)
    assert res3.feasible and res3.binding and ("corner solution" in res3.message) == res3.corner


def test_already_peaked_and_bad_input(panel):
    pk = panel.copy()
    sel = pk["region"] == PROVINCES[1]
    pk.loc[sel, "fossil"] = np.linspace(0.05, 0.5, sel.sum())
    pk.loc[sel, "emissions_mt"] = np.linspace(200, 100, sel.sum())
    p = trend_paths(pk)
    m = _Linear(pk)
    res = peak_adjustment(m, pk, p, PROVINCES[1], directions=SIGNS, min_pip=None)
    assert res.feasible and res.stage == 0 and res.norm == 0 and "already peaked" in res.message
    cases = [({"drivers": ["cars"]}, "unknown driver 'cars'"), ({"year": 2035}, "year: 2035"),
             ({"max_sd": 0}, "max_sd"), ({"bounds": None}, "bounds: give"),
             ({"bounds": "3sd"}, "bounds: expected"), ({"tol": 1.5}, "tol"),
             ({"min_pip": 2}, "min_pip"), ({"directions": "ols"}, "directions")]
    for kw, msg in cases:
        with pytest.raises(ParameterError, match=msg):
            peak_adjustment(m, pk, p, "Beijing", **{"directions": SIGNS, "min_pip": None, **kw})
    with pytest.raises(ParameterError, match="'Qinghai' is not in the scenario paths"):
        peak_adjustment(m, pk, p, "青海", directions=SIGNS, min_pip=None)


# --------------------------------------------------------------------------- bounds and PIPs


def test_bounds_are_the_largest_observed_change(panel, paths):
    ds = ["lcar", "tertrate", "gas", "fossil"]
    lim = largest_changes(panel, ds, 9)
    for d in ds:  # brute force over every region and start year
        best = max(abs(g[d].iloc[i + 9] - g[d].iloc[i]) for _, g in panel.sort_values("year")
                   .groupby("region") for i in range(len(g) - 9))
        assert lim.at[d, "max_change"] == pytest.approx(best, rel=1e-12)
    assert (lim["span_years"] == 9).all()
    assert (largest_changes(panel, ds, 40)["span_years"] == 16).all()  # the panel spans 16 years
    m = _Linear(panel)
    tab = laggard_table(m, panel, paths, PROVINCES[:6], directions=SIGNS, min_pip=None)
    assert (tab["delta"].abs() <= tab["max_change"] * (1 + 1e-9)).all()
    assert (tab["span_years"] == 2030 - 2021).all()
    with pytest.raises(ParameterError, match="years"):
        largest_changes(panel, ds, 0)


def test_low_pip_drivers_are_held_unless_asked(panel, paths):
    m = _Linear(panel)
    pips = pd.Series({"lcar": 0.18, "tertrate": 0.9, "gas": 0.9, "fossil": 0.9})
    held = peak_adjustment(m, panel, paths, "Beijing", directions=SIGNS, pips=pips, bounds=None,
                           max_sd=50)
    assert held.delta["lcar"] == 0 and held.held == ("lcar",)
    assert "lcar (PIP 0.18)" in held.message
    free = peak_adjustment(m, panel, paths, "Beijing", directions=SIGNS, pips=pips, bounds=None,
                           max_sd=50, min_pip=None)
    assert free.delta["lcar"] < 0 and free.held == () and free.norm < held.norm


def test_pips_and_directions_come_from_one_cached_bma_fit(panel, paths, tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    ev = driver_evidence(panel, list(BETA))
    assert list(ev.index) == list(BETA) and ev["pip"].between(0, 1).all()
    assert (ev["direction"] == SIGNS.reindex(ev.index)).all()  # the true signs are recovered
    assert len(list((tmp_path / "driver_evidence").glob("*.pkl"))) == 1
    calls = []
    monkeypatch.setattr("carbonlab.bma.BMA.fit", lambda *a, **k: calls.append(1))
    again = driver_evidence(panel, list(BETA))  # read from the cache: BMA is not refitted
    pd.testing.assert_frame_equal(again, ev)
    assert not calls
    res = peak_adjustment(_Linear(panel), panel, paths, "Beijing", bounds=None, max_sd=50)
    pd.testing.assert_series_equal(res.pips, ev["pip"].reindex(list(res.pips.index)),
                                   check_names=False)


# --------------------------------------------------------------------------- natural units


def test_natural_units():
    assert driver_kind("lcar") == ("log", "10^4 vehicles")
    assert driver_kind("gas") == ("share", "%") and driver_kind("student")[0] == "level"
    c = natural_change("lcar", np.log(1000.0), np.log(0.9))
    assert c["base_level"] == pytest.approx(1000) and c["adjusted_level"] == pytest.approx(900)
    assert c["change_level"] == pytest.approx(-100) and c["change_pct"] == pytest.approx(-10)
    s = natural_change("tertrate", 0.5, 0.02)
    assert (s["base_level"], s["adjusted_level"]) == pytest.approx((50, 52))
    assert s["change_pp"] == pytest.approx(2) and s["change_pct"] == pytest.approx(4)
    v = natural_change("student", 2000.0, 100.0)
    assert v["change_pct"] == pytest.approx(5) and np.isnan(v["change_pp"])
    with pytest.raises(ParameterError, match="unknown driver 'cars'"):
        natural_change("cars", 1.0, 0.1)


def test_laggard_table_and_table10(panel, paths):
    m = _Linear(panel)
    regions = ["Beijing", "天津", "Tianjin", PROVINCES[2]]  # one row set per region
    tab = laggard_table(m, panel, paths, regions, directions=SIGNS, min_pip=None)
    assert list(tab.columns) == list(inverse.LAGGARD_COLUMNS)
    assert list(dict.fromkeys(tab["region"])) == ["Beijing", "Tianjin", PROVINCES[2]]
    np.testing.assert_allclose(tab["adjusted"] - tab["base"], tab["delta"])
    assert tab["unit"].notna().all() and np.isfinite(tab[["base_level", "adjusted_level"]]).all().all()
    car = tab[tab["driver"] == "lcar"]
    np.testing.assert_allclose(car["change_pct"], 100 * np.expm1(car["delta"]))
    np.testing.assert_allclose(car["base_level"], np.exp(car["base"]))
    sh = tab[tab["driver"] == "gas"]
    np.testing.assert_allclose(sh["change_pp"], 100 * sh["delta"])
    bj = tab[tab["region"] == "Beijing"].set_index("driver")
    res = peak_adjustment(m, panel, paths, "Beijing", directions=SIGNS, min_pip=None)
    assert bool(bj["feasible"].iloc[0]) == res.feasible
    np.testing.assert_allclose(bj.loc["lcar", "delta"], res.delta["lcar"])
    shown = res.table()  # one region's drivers as a reader sees them (the region page)
    assert list(shown["driver"]) == ["private cars", "tertiary-industry share of GDP",
                                     "natural-gas share of energy consumption"]
    assert list(shown["unit"]) == ["10^4 vehicles", "%", "%"]
    np.testing.assert_allclose(shown["change_pct"].iloc[0], 100 * np.expm1(res.delta["lcar"]))
    t10 = table10(tab)
    assert list(t10.table.index) == ["Beijing", "Tianjin", PROVINCES[2]]
    assert "private cars (10^4 vehicles)" in t10.table.columns
    cells = t10.table.filter(like="(").drop(columns="norm (s.d.)").to_numpy().ravel()
    assert all(("→" in c) or ("no change" in c) or ("held" in c) for c in cells)
    info = tab.groupby("region").first()
    n0 = int((info["stage"] == 0).sum())
    text = t10.describe()
    assert text.startswith(f"Of the 3 regions, {n0} already") and "9-year change" in text
    assert "Table 10 is empty" in table10(tab.iloc[:0]).describe()
    with pytest.raises(ParameterError, match="missing column"):
        table10(tab.drop(columns="pip"))


# --------------------------------------------------------------------------- moved from test_peaks


def test_interior_answer_is_the_analytic_minimum_norm(panel, paths):
    """No bound binds: z* = s* a / (a·a), s* the smallest reduction find_peak accepts."""
    m, ds = _Linear(panel), ["lcar", "tertrate", "gas"]
    res = peak_adjustment(m, panel, paths, "Beijing", drivers=ds, then=(), directions=SIGNS,
                          min_pip=None, bounds=None, max_sd=50)
    assert res.feasible and res.stage == 1 and res.converged and not res.binding
    prob = adjustment_problem(m, panel, paths, "Beijing", ds, directions=SIGNS, bounds=None,
                              max_sd=50)
    a = np.array([BETA[d] for d in ds]) * prob.scale
    z_star = _s_star(prob, prob.margin) * a / (a @ a)
    np.testing.assert_allclose(res.z.to_numpy(), z_star, rtol=1e-4, atol=1e-7)
    assert res.norm == pytest.approx(np.linalg.norm(z_star), rel=1e-4)


class _WrongSignModel:
    """ln per capita = region level + 3 * fossil + 0.3 * lcar: non-fossil energy *raises* emissions."""

    def __init__(self, panel):
        y = np.log(panel["emissions_mt"] * 100 / panel["population_10k"])
        lvl = y - 3 * panel["fossil"] - 0.3 * panel["lcar"]
        self.level = lvl.groupby(panel["region"]).mean().to_dict()

    def predict(self, frame):
        return (frame["region"].map(self.level).to_numpy() + 3 * frame["fossil"].to_numpy()
                + 0.3 * frame["lcar"].to_numpy())


def test_sign_constraint_and_no_change_best(panel, paths, tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    m, region = _WrongSignModel(panel), "Beijing"
    kw = {"then": (), "bounds": None, "max_sd": 50}
    free = peak_adjustment(m, panel, paths, region, drivers=["fossil"], directions=None, **kw)
    assert free.feasible and free.delta["fossil"] < 0  # "peaks" by cutting non-fossil energy
    # the BMA posterior says more non-fossil energy lowers emissions: only raising it is allowed,
    # which this model says raises emissions -- so the best allowed change is no change
    res = peak_adjustment(m, panel, paths, region, drivers=["fossil"], **kw)
    assert res.directions["fossil"] == 1
    assert not res.feasible and res.norm == 0 and "best found is no change" in res.message
    assert res.sign_binding == ("fossil",) and "sign constraint holds fossil" in res.message
    assert res.last_growth_pct == pytest.approx(res.base_growth_pct)
    both = peak_adjustment(m, panel, paths, region, drivers=["lcar", "fossil"], **kw)
    assert both.feasible and both.delta["fossil"] == 0 and both.delta["lcar"] < 0
    assert both.sign_binding == ("fossil",)


def test_adjustment_starts_from_the_given_base_path(panel):
    """With ``base`` the adjustment starts from that path, so it quotes the same peak."""
    p = trend_paths(panel)
    m, r = _Linear(panel), PROVINCES[0]
    fut = p[(p["region"] == r) & p["projected"]].sort_values("year")
    last = float(panel.loc[panel["region"] == r, "emissions_mt"].iloc[-1])
    # rises for three years, then falls: a peak three years after the data end
    shape = np.r_[1.05, 1.10, 1.15, np.linspace(1.1, 0.9, len(fut) - 3)]
    base = pd.DataFrame({"region": r, "year": fut["year"].to_numpy(), "emissions_mt": last * shape})
    res = peak_adjustment(m, panel, p, r, base=base, directions=SIGNS, min_pip=None)
    got = res.base.set_index("year")["emissions_mt"].reindex(base["year"])
    np.testing.assert_allclose(got.to_numpy(), base["emissions_mt"].to_numpy(), rtol=1e-9)
    assert res.stage == 0 and f"peaks in {int(fut['year'].iloc[2])}" in res.message
    with pytest.raises(ParameterError, match="base: no emissions_mt"):
        peak_adjustment(m, panel, p, r, base=base.iloc[:-1], directions=SIGNS, min_pip=None)


def test_plot_adjustment_marks_the_adjusted_maximum(panel, paths):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from carbonlab.forecast.plots import plot_adjustment

    res = peak_adjustment(_Linear(panel), panel, paths, "Beijing", directions=SIGNS, min_pip=None)
    fig, ax = plt.subplots()
    assert plot_adjustment(res, ax=ax) is ax
    labels = [ln.get_label() for ln in ax.lines]
    assert labels[:2] == ["scenario", "adjusted"] and f"adjusted maximum ({res.peak.peak_year})" in labels
    plt.close(fig)
