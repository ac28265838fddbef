"""The inverse problem: the smallest driver change that makes a region peak by 2030 (Table 10).

- **Criterion**: the book's peak rule. The adjusted series (history + forecast to ``year``)
  must have peaked by :func:`find_peak` with tolerance ``tol``; :func:`peak_gap` writes that
  rule as one continuous function of the forecast (≤ 0 exactly when ``find_peak`` says
  peaked), so the optimiser works on the rule the book states, not on growth in 2030.
- **Bounds**: a driver's change by ``year`` is at most the largest change of that driver
  over the same number of years observed in any province of the panel
  (:func:`largest_changes`); shares stay in [0, 1]; each driver moves only in the
  direction that lowers emissions by the sign of its BMA posterior mean, and a driver whose
  BMA posterior inclusion probability is below ``min_pip`` is not moved
  (:func:`driver_evidence`: one BMA fit, cached, gives both).
- **Solver** (:func:`solve_adjustment`): multi-start, each feasible start shrunk to the
  boundary and polished by SLSQP; every polished point is checked (``res.success``) and
  projected onto the constraints (clipped to the bounds, then the point nearest it on the
  segment towards its feasible start that meets the rule); the least-norm feasible point
  wins and the result says when the optimiser did not converge.
"""


from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize

from carbonlab._util import ParameterError
from carbonlab.cache import cached
from carbonlab.data.drivers import adjustable
from carbonlab.forecast.paths import _offsets
from carbonlab.forecast.rule import KEY_DRIVERS, PEAK_TOL, PeakResult, find_peak
from carbonlab.forecast.table10 import change_phrase, natural_change
from carbonlab.models import PanelModel
from carbonlab.regions import resolve_region
from carbonlab.scenarios import DRIVERS, HORIZON, SHARE_DRIVERS, population_path

MIN_PIP: float = 0.5
"""Drivers whose BMA posterior inclusion probability is below this are not moved by default."""


# --------------------------------------------------------------------------- evidence, bounds


def driver_evidence(panel: pd.DataFrame, drivers: Sequence[str], *, cache: bool = True
                    ) -> pd.DataFrame:
    """BMA evidence on each driver: ``pip``, ``post_mean`` and ``direction`` (+1: raising the
    driver lowers emissions, −1: lowering it does), one within-region g-prior BMA fit on
    ``panel`` over ``drivers`` (UIP, uniform model prior), kept in the content-keyed cache."""
    from carbonlab.bma import BMA, design_from_panel

    ds = list(dict.fromkeys(drivers))
    sub = (panel[["region", "year", "emissions_mt", "population_10k", *ds]]
           .sort_values(["region", "year"]).reset_index(drop=True))

    def compute() -> pd.DataFrame:
        X, y, groups = design_from_panel(sub, ds)
        fit = BMA(g="UIP", mprior="uniform", within="individual").fit(X, y, groups=groups)
        s = fit.summary(order_by_pip=False).reindex(ds)
        return pd.DataFrame({"pip": s["pip"].to_numpy(float),
                             "post_mean": s["post_mean"].to_numpy(float)},
                            index=pd.Index(ds, name="driver"))

    ev = cached("driver_evidence", [sub, {"drivers": ds, "g": "UIP", "mprior": "uniform",
                                          "within": "individual"}], compute, enabled=cache)
    return ev.assign(direction=np.where(ev["post_mean"].to_numpy() > 0, -1, 1))


def largest_changes(panel: pd.DataFrame, drivers: Sequence[str], years: int) -> pd.DataFrame:
    """The largest change of each driver over ``years`` years observed in any province.

    Per driver: ``max_change`` = max over regions r and years t of |x_{r,t+years} − x_{r,t}|
    (driver units: ln for log drivers, fraction for shares), where it was seen (``region``,
    ``from_year``) and ``span_years`` (``years``, or the panel's longest span when it covers
    fewer years: then the largest change over that span).
    """
    if isinstance(years, bool) or int(years) != years or years < 1:
        raise ParameterError(f"years: expected a positive whole number, got {years!r}")
    rows = []
    y0, y1 = int(panel["year"].min()), int(panel["year"].max())
    span = int(min(years, y1 - y0))
    if span < 1:
        raise ParameterError("panel: needs at least two years to measure a driver's change")
    for d in drivers:
        if d not in panel.columns:
            raise ParameterError(f"drivers: {d!r} is not a column of the panel")
        pv = panel.pivot(index="year", columns="region", values=d).reindex(range(y0, y1 + 1))
        ch = (pv.shift(-span) - pv).abs().stack()
        if ch.empty:
            rows.append({"driver": d, "max_change": float("nan"), "span_years": span,
                         "region": None, "from_year": None})
            continue
        (t, r), v = ch.idxmax(), float(ch.max())
        rows.append({"driver": d, "max_change": v, "span_years": span, "region": r,
                     "from_year": int(t)})
    return pd.DataFrame(rows).set_index("driver")


def peak_gap(hist_log: np.ndarray, future_log: np.ndarray, tol: float = PEAK_TOL) -> np.ndarray:
    """The book's peak rule as one continuous function: ≤ 0 when the series has peaked.

    ``hist_log``: ln emissions of the history (fixed); ``future_log``: (n, T) ln emissions of
    the forecast years to the target year (one row per candidate). With ``L_T`` the last
    value, ``M`` the maximum before it and ``L_{T−1}`` the one before, :func:`find_peak`
    says peaked iff ``L_T < M + ln(1 − tol)`` (below the maximum by more than ``tol``) or
    ``L_T ≤ M`` and ``|L_T − L_{T−1}| ≤ ln(1 ± tol)`` (flat tail after an earlier maximum);
    the lower bound of the flat tail is implied by the first branch, so the rule is
    ``min(L_T − M − ln(1 − tol), max(L_T − M, L_T − L_{T−1} − ln(1 + tol)))``: negative
    exactly when the first branch holds, ≤ 0 exactly when the second does.
    """
    f = np.atleast_2d(np.asarray(future_log, dtype=float))
    h = np.asarray(hist_log, dtype=float)
    lt = f[:, -1]
    before = np.concatenate([np.broadcast_to(h, (len(f), len(h))), f[:, :-1]], axis=1)
    m, prev = before.max(axis=1), before[:, -1]
    below = lt - m - np.log1p(-tol)
    flat = np.maximum(lt - m, lt - prev - np.log1p(tol))
    return np.minimum(below, flat)


# --------------------------------------------------------------------------- the problem


@dataclass
class AdjustmentProblem:
    """The inverse problem for one region: minimise ‖z‖₂ subject to ``gap(z) ≤ 0``.

    ``z_d = delta_d / s_d`` (driver change in ``year`` in units of the region's historical
    s.d.), ramped linearly from the last data year; ``lo``/``hi`` bound z (the largest
    observed change, ``max_sd`` if given, shares in [0, 1], the sign constraint, and 0 for a
    driver held for its low PIP). ``gap(z)`` is :func:`peak_gap` of the adjusted series plus
    ``margin`` (≤ 0: peaked by the book's rule with a little room); ``emissions_many(Z)`` the
    forecast years' emissions (Mt CO2) for a batch of z (one model call), ``growth(z)`` the
    relative change in ``year``.
    """

    region: str
    year: int
    drivers: tuple[str, ...]
    scale: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    directions: pd.Series
    margin: float
    max_sd: float | None
    hist_years: np.ndarray
    hist_mt: np.ndarray
    years: np.ndarray
    base_levels: np.ndarray
    emissions_many: Callable[[np.ndarray], np.ndarray]
    tol: float = PEAK_TOL
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)
    pips: pd.Series = field(default_factory=pd.Series)
    held: tuple[str, ...] = ()

    def emissions(self, z: np.ndarray) -> np.ndarray:
        """Forecast emissions (Mt CO2) in :attr:`years` with the change ``z``."""
        return self.emissions_many(np.atleast_2d(np.asarray(z, dtype=float)))[0]

    def gaps(self, Z: np.ndarray) -> np.ndarray:
        """:meth:`gap` for each row of ``Z`` (one model call)."""
        with np.errstate(divide="ignore"):
            e = np.log(self.emissions_many(np.atleast_2d(np.asarray(Z, dtype=float))))
            return peak_gap(np.log(self.hist_mt), e, self.tol) + self.margin

    def gap(self, z: np.ndarray) -> float:
        """Peak-rule gap + margin: ≤ 0 means the adjusted series has peaked (feasible)."""
        return float(self.gaps(np.atleast_2d(z))[0])

    def growth(self, z: np.ndarray) -> float:
        e = self.emissions(z)
        prev = e[-2] if len(e) > 1 else self.hist_mt[-1]
        return float(e[-1] / prev - 1.0)

    def series(self, z: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"year": np.r_[self.hist_years, self.years],
                             "emissions_mt": np.r_[self.hist_mt, self.emissions(z)]})


def _batched(model: Any, fut: pd.DataFrame, drivers: list[str], ramp: np.ndarray,
             scale: np.ndarray, off: Any, popv: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``Z (n, k) -> emissions (n, T)`` with one ``model.predict`` on n stacked copies of
    ``fut``, checked once against one call per row (a model that is not row-wise gets
    the loop)."""
    X0, T = fut[drivers].to_numpy(dtype=float), len(fut)
    offv = np.broadcast_to(np.asarray(off, dtype=float), (T,))
    frames: dict[int, pd.DataFrame] = {}

    def stacked(Z: np.ndarray) -> np.ndarray:
        n = len(Z)
        if n not in frames:
            frames[n] = pd.concat([fut] * n, ignore_index=True)
        f = frames[n]
        x = X0[None] + ramp[None, :, None] * (Z * scale)[:, None, :]
        f[drivers] = x.reshape(n * T, len(drivers))
        ln_pc = np.asarray(model.predict(f), dtype=float).reshape(n, T)
        return np.exp(ln_pc + offv) * popv / 100.0

    probe = np.vstack([np.zeros(len(drivers)), np.linspace(0.3, -0.2, len(drivers))])
    together = stacked(probe)
    alone = np.vstack([stacked(p[None])[0] for p in probe])
    if np.allclose(together, alone, rtol=1e-9, atol=0):
        return stacked
    return lambda Z: np.vstack([stacked(z[None])[0] for z in np.atleast_2d(Z)])


def _limits(panel: pd.DataFrame, hist: pd.DataFrame, fut: pd.DataFrame, drivers: list[str],
            ramp: np.ndarray, span: int, bounds: Any, max_sd: float | None,
            directions: pd.Series, held: set[str]) -> tuple[np.ndarray, ...]:
    """(scale, lo, hi, limits) of z: the observed-change, s.d., share, sign and PIP bounds."""
    if isinstance(bounds, str):
        limits = largest_changes(panel, drivers, span)
    elif isinstance(bounds, pd.Series):
        miss = [d for d in drivers if d not in bounds.index]
        if miss:
            raise ParameterError(f"bounds: no bound for driver {miss[0]!r}")
        vals = bounds.reindex(drivers).astype(float)
        if not (np.all(np.isfinite(vals)) and (vals >= 0).all()):
            raise ParameterError("bounds: every largest change must be finite and ≥ 0")
        limits = pd.DataFrame({"max_change": vals,
                               "span_years": span, "region": None, "from_year": None})
    else:
        limits = pd.DataFrame({"max_change": np.inf, "span_years": span, "region": None,
                               "from_year": None}, index=pd.Index(drivers, name="driver"))
    scale, lo, hi = [], [], []
    for d in drivers:
        sd = float(np.nanstd(hist[d].to_numpy(dtype=float), ddof=1))
        sd = sd if np.isfinite(sd) and sd > 0 else 1.0
        cap = float(limits.at[d, "max_change"]) / sd
        cap = min(cap, max_sd) if max_sd is not None else cap
        cap = cap if np.isfinite(cap) else 0.0  # no observed change: not moved
        lo_d, hi_d = -cap, cap
        if d in SHARE_DRIVERS:
            base = fut[d].to_numpy(dtype=float)
            lo_d = max(lo_d, float(np.max(-base / ramp)) / sd)
            hi_d = min(hi_d, float(np.min((1 - base) / ramp)) / sd)
        if int(directions[d]) > 0:
            lo_d = 0.0
        elif int(directions[d]) < 0:
            hi_d = 0.0
        if d in held:
            lo_d = hi_d = 0.0
        scale.append(sd)
        lo.append(min(lo_d, 0.0))
        hi.append(max(hi_d, 0.0))
    return np.array(scale), np.array(lo), np.array(hi), limits


def adjustment_problem(model: Any, panel: pd.DataFrame, paths: pd.DataFrame, region: str,
                       drivers: Sequence[str], *, population: pd.DataFrame | None = None,
                       year: int = HORIZON, max_sd: float | None = None, margin: float = 1e-4,
                       align: bool = True, directions: pd.Series | None = None,
                       base: pd.DataFrame | None = None, bounds: Any = "observed",
                       tol: float = PEAK_TOL, pips: pd.Series | None = None,
                       min_pip: float | None = None) -> AdjustmentProblem:
    """Build the :class:`AdjustmentProblem` (checks every input; see :func:`peak_adjustment`).

    ``base`` (tidy ``region, year, emissions_mt``, e.g. an :class:`Outlook`'s point path) is
    the unchanged path: the model then supplies only the response to a driver change,
    ``E_t(z) = base_t · exp(f(x_t + δ_t) − f(x_t))``, so the adjustment starts from the same
    path, and the same peak, as the forecast the book reports.
    """
    region = resolve_region(region)
    drivers = list(drivers)
    for d in drivers:
        if d not in DRIVERS:
            raise ParameterError(f"drivers: unknown driver {d!r}")
        if d not in paths.columns:
            raise ParameterError(f"drivers: {d!r} is not in the scenario paths")
    if not drivers:
        raise ParameterError("drivers: give at least one driver to adjust")
    if max_sd is not None and not (np.isfinite(max_sd) and max_sd > 0):
        raise ParameterError(f"max_sd: must be positive, got {max_sd}")
    if bounds is None and max_sd is None:
        raise ParameterError("bounds: give bounds='observed', a Series of largest changes, or max_sd")
    if isinstance(bounds, str) and bounds != "observed":
        raise ParameterError(f"bounds: expected 'observed', a Series or None, got {bounds!r}")
    if isinstance(tol, bool) or not (np.isfinite(tol) and 0 <= tol < 1):
        raise ParameterError(f"tol: must be in [0, 1), got {tol!r}")
    rp = paths[paths["region"] == region].sort_values("year")
    if rp.empty:
        raise ParameterError(f"region: {region!r} is not in the scenario paths")
    hist = rp[~rp["projected"]]
    t0 = int(hist["year"].max())
    if not t0 < year <= int(rp["year"].max()):
        raise ParameterError(f"year: {year} must be after {t0} and within the paths (to {int(rp['year'].max())})")
    directions = pd.Series(0, index=drivers) if directions is None else directions
    missing = [d for d in drivers if d not in directions.index]
    if missing:
        raise ParameterError(f"directions: no direction for driver {missing[0]!r}")
    pips = pd.Series(np.nan, index=drivers) if pips is None else pips.reindex(drivers)
    held = {d for d in drivers if min_pip and not pips[d] >= min_pip}
    rpan = panel[panel["region"] == region].sort_values("year")
    if population is None:
        population = population_path(panel, horizon=int(paths["year"].max()))
    pop = population[population["region"] == region].set_index("year")["population_10k"]
    fut = rp[rp["projected"] & (rp["year"] <= year)].reset_index(drop=True)
    fyears = fut["year"].to_numpy()
    ramp = np.minimum(1.0, (fyears - t0) / (year - t0))
    popv = pop.reindex(fyears).to_numpy(dtype=float)
    off: Any = _offsets(model, rpan)[region] if align else 0.0
    if base is not None:
        bp = base[base["region"] == region].set_index("year")["emissions_mt"].reindex(fyears)
        if bp.isna().any():
            raise ParameterError(f"base: no emissions_mt for {region!r} in every year "
                                 f"{int(fyears[0])}–{int(fyears[-1])}")
        off = np.log(bp.to_numpy(dtype=float) * 100.0 / popv) - model.predict(fut)
    scale, lo, hi, limits = _limits(panel, hist, fut, drivers, ramp, year - t0, bounds, max_sd,
                                    directions, held)
    return AdjustmentProblem(
        region=region, year=year, drivers=tuple(drivers), scale=scale, lo=lo, hi=hi,
        directions=directions.reindex(drivers).astype(int), margin=margin,
        max_sd=None if max_sd is None else float(max_sd), hist_years=rpan["year"].to_numpy(),
        hist_mt=rpan["emissions_mt"].to_numpy(dtype=float), years=fyears,
        base_levels=fut[drivers].to_numpy(dtype=float)[-1].copy(),
        emissions_many=_batched(model, fut, drivers, ramp, scale, off, popv), tol=float(tol),
        limits=limits, pips=pips.astype(float), held=tuple(d for d in drivers if d in held))


# --------------------------------------------------------------------------- the solver


class Solution(NamedTuple):
    """:func:`solve_adjustment`'s answer: ``z``; ``feasible`` (the rule holds at ``z``);
    ``converged`` (the optimiser run that produced ``z`` reported success, or none was
    needed); ``note`` (the optimiser's message when it did not converge)."""

    z: np.ndarray
    feasible: bool
    converged: bool
    note: str = ""


def _first_feasible(g: Callable[[np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray,
                    rounds: int = 6, grid: int = 16) -> np.ndarray:
    """The point nearest ``a`` on the segment a→b with g ≤ 0 (g(b) ≤ 0 assumed): a grid
    search refined ``rounds`` times (one batched call of g per round)."""
    lo_t, hi_t = 0.0, 1.0
    for _ in range(rounds):
        ts = np.linspace(lo_t, hi_t, grid + 1)[1:]
        ok = g(a[None] + ts[:, None] * (b - a)[None]) <= 0
        if not ok.any():
            break
        i = int(np.argmax(ok))
        lo_t, hi_t = (ts[i - 1] if i else lo_t), ts[i]
    return a + hi_t * (b - a)


def _fd(g: Callable[[np.ndarray], np.ndarray], z: np.ndarray, lo: np.ndarray, hi: np.ndarray,
        h: float = 1e-6) -> tuple[float, np.ndarray]:
    """g(z) and its central-difference gradient (one batched call; steps kept in the box)."""
    k = len(z)
    up = np.minimum(z + h, np.maximum(hi, z))
    dn = np.maximum(z - h, np.minimum(lo, z))
    pts = np.vstack([z, np.where(np.eye(k, dtype=bool), up, z), np.where(np.eye(k, dtype=bool), dn, z)])
    v = g(pts)
    width = np.where(up - dn > 0, up - dn, 1.0)
    return float(v[0]), (v[1:k + 1] - v[k + 1:]) / width


def _polish(g: Callable[[np.ndarray], np.ndarray], start: np.ndarray, anchor: np.ndarray,
            lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, bool, str]:
    """SLSQP from a feasible ``start``, checked and projected: (point, converged, message).

    The projection clips to the box, then takes the point nearest the clipped one on the
    segment towards ``anchor``, a feasible point with room to spare (the unshrunk start:
    towards a point on the boundary itself the nearest feasible point can lie far away)."""
    memo: dict[bytes, tuple[float, np.ndarray]] = {}

    def vg(v: np.ndarray) -> tuple[float, np.ndarray]:
        key = np.asarray(v, float).tobytes()
        if key not in memo:
            memo[key] = _fd(g, np.asarray(v, float), lo, hi)
        return memo[key]

    res = optimize.minimize(lambda v: float(v @ v), start, jac=lambda v: 2 * v, method="SLSQP",
                            bounds=list(zip(lo, hi, strict=True)),
                            constraints=[{"type": "ineq", "fun": lambda v: -vg(v)[0],
                                          "jac": lambda v: -vg(v)[1]}],
                            options={"maxiter": 200, "ftol": 1e-12})
    x = np.clip(res.x, lo, hi) if res.x is not None and np.all(np.isfinite(res.x)) else start
    if g(x[None])[0] > 0:  # a hair outside: the nearest point towards the feasible start
        x = _first_feasible(g, x, anchor, rounds=8)
    return x, bool(res.success), str(res.message)


def solve_adjustment(problem: AdjustmentProblem, *, n_starts: int = 8, random_state: int = 0,
                     n_polish: int = 4) -> Solution:
    """The least-norm feasible z (multi-start), or the z with the lowest gap if none is.

    Starts: the box's corners towards each bound, the steepest-descent ray and ``n_starts``
    random points in the box; each feasible start is shrunk along its ray to the boundary,
    and the ``n_polish`` smallest are polished by SLSQP (:func:`_polish`: success checked,
    the answer projected onto the constraints). The least-norm feasible point wins;
    ``converged`` says whether a successful run reached it. Without a feasible start,
    L-BFGS-B lowers the gap from the best start; never a z whose gap is above no change's.
    """
    lo, hi = problem.lo, problem.hi
    free = hi > lo
    k = len(lo)
    z0 = np.zeros(k)

    def embed(Zf: np.ndarray) -> np.ndarray:
        Z = np.zeros((len(Zf), k))
        Z[:, free] = Zf
        return Z

    def g(Zf: np.ndarray) -> np.ndarray:
        return problem.gaps(embed(np.atleast_2d(Zf)))

    g0 = problem.gap(z0)
    if g0 <= 0 or not free.any():
        return Solution(z0, bool(g0 <= 0), True)
    lf, hf = lo[free], hi[free]
    rng = np.random.default_rng(random_state)
    _, grad = _fd(g, np.zeros(free.sum()), lf, hf, h=1e-3)
    starts = [hf, lf, np.where(np.abs(lf) > np.abs(hf), lf, hf)]
    if np.linalg.norm(grad) > 0:
        starts.append(np.clip(-grad / np.linalg.norm(grad) * np.abs(np.r_[lf, hf]).max()
                              * np.sqrt(free.sum()), lf, hf))
    starts += list(rng.uniform(lf, hf, size=(n_starts, int(free.sum()))))
    S = np.vstack(starts)
    gs = g(S)
    pairs = sorted(((_first_feasible(g, np.zeros_like(s), s), s) for s in S[gs <= 0]),
                   key=lambda p: float(p[0] @ p[0]))
    if pairs:
        cands = [(pairs[0][0], False, "the start was not polished")]
        for s, anchor in pairs[:n_polish]:
            cands.append(_polish(g, s, anchor, lf, hf))
        cands = [c for c in cands if g(c[0][None])[0] <= 0]
        best = min(cands, key=lambda c: float(c[0] @ c[0]))
        n2 = float(best[0] @ best[0])
        conv = [c for c in cands if c[1] and float(c[0] @ c[0]) <= n2 * (1 + 1e-6) + 1e-12]
        z = embed(best[0][None])[0]
        return Solution(z, True, bool(conv), "" if conv else best[2] or "polishing failed")
    i = int(np.argmin(gs))
    s0, g_s0 = (S[i], gs[i]) if gs[i] < g0 else (np.zeros_like(lf), g0)
    res = optimize.minimize(lambda v: float(g(v[None])[0]), s0, method="L-BFGS-B",
                            jac=lambda v: _fd(g, v, lf, hf)[1], bounds=list(zip(lf, hf, strict=True)))
    zr = np.clip(res.x, lf, hf)
    g_r = float(g(zr[None])[0])
    best, best_g = (zr, g_r) if g_r < g_s0 else (s0, g_s0)
    if best_g <= 0:  # the descent found the rule met: shrink it like a feasible start
        best = _first_feasible(g, np.zeros_like(best), best)
    conv = bool(res.success)
    return Solution(embed(best[None])[0], bool(best_g <= 0), conv, "" if conv else str(res.message))


# --------------------------------------------------------------------------- the result


@dataclass
class AdjustmentResult:
    """Outcome of :func:`peak_adjustment`.

    ``delta`` holds the driver changes in ``year`` (driver units), ``z`` the same in
    units of each driver's historical s.d. (``norm = ||z||_2``); ``feasible`` says whether
    the adjusted path has peaked by ``year`` by :func:`find_peak` (``peak``: its result);
    ``binding`` lists the drivers at a bound, ``corner`` is True when every moved driver
    binds; ``directions`` the allowed direction of each driver; ``sign_binding`` the unmoved
    drivers the model would move against that direction; ``held`` the drivers not moved for
    their low BMA PIP (``pips``); ``limits`` the largest observed change of each driver
    (:func:`largest_changes`); ``converged`` whether the optimiser reported success for the
    answer (``note``: its message if not); ``message`` states it all in one line; ``levels``
    one row per driver, model units (``base``, ``adjusted``, ``delta``) beside natural units
    (``base_level``, ``adjusted_level``, ``change_level`` in ``unit``, ``change_pct``,
    ``change_pp`` for shares); :meth:`table` is that table ready to show.
    """

    region: str
    year: int
    drivers: tuple[str, ...]
    delta: pd.Series
    z: pd.Series
    norm: float
    feasible: bool
    stage: int
    last_growth_pct: float
    base: pd.DataFrame
    adjusted: pd.DataFrame
    message: str
    levels: pd.DataFrame = field(default_factory=pd.DataFrame)
    binding: tuple[str, ...] = ()
    corner: bool = False
    base_growth_pct: float = float("nan")
    directions: pd.Series = field(default_factory=pd.Series)
    sign_binding: tuple[str, ...] = ()
    converged: bool = True
    note: str = ""
    held: tuple[str, ...] = ()
    pips: pd.Series = field(default_factory=pd.Series)
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)
    peak: PeakResult | None = None

    def table(self) -> pd.DataFrame:
        """One row per driver for a reader: meaning, unit, level in ``year`` in the scenario
        and adjusted, change in the level's unit, in % and (shares) in pp, the log/fraction
        change, the largest observed change, the PIP and whether it was held."""
        from carbonlab.data import DRIVERS as META

        lv = self.levels
        return pd.DataFrame({
            "driver": [META[d][0] for d in lv["driver"]], "unit": lv["unit"],
            "scenario": lv["base_level"], "adjusted": lv["adjusted_level"],
            "change": lv["change_level"], "change_pct": lv["change_pct"],
            "change_pp": lv["change_pp"], "delta (model units)": lv["delta"],
            "largest observed change (model units)": lv["max_change"], "pip": lv["pip"],
            "held": lv["held"]})

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return self.message


def _bounds_words(problem: AdjustmentProblem) -> str:
    span = int(problem.limits["span_years"].iloc[0]) if len(problem.limits) else 0
    observed = len(problem.limits) and np.isfinite(problem.limits["max_change"]).all()
    parts = ([f"the largest {span}-year change of each driver observed in any province"]
             if observed else []) + ([f"{problem.max_sd:g} s.d."] if problem.max_sd else [])
    return " and ".join(parts)


def _levels(problem: AdjustmentProblem, z: np.ndarray, binding: tuple[str, ...]) -> pd.DataFrame:
    ds, delta = problem.drivers, z * problem.scale
    nat = pd.DataFrame([natural_change(d, b, x) for d, b, x in
                        zip(ds, problem.base_levels, delta, strict=True)])
    lim = problem.limits.reindex(list(ds))
    return pd.DataFrame({"driver": ds, "base": problem.base_levels,
                         "adjusted": problem.base_levels + delta, "delta": delta, "z": z,
                         "direction": problem.directions.to_numpy(),
                         "binding": [d in binding for d in ds]}).join(nat).assign(
        max_change=lim["max_change"].to_numpy(float), span_years=lim["span_years"].to_numpy(),
        pip=problem.pips.reindex(list(ds)).to_numpy(float),
        held=[d in problem.held for d in ds])


def _message(problem: AdjustmentProblem, z: np.ndarray, sol: Solution, stage: int,
             base_peak: PeakResult, pk: PeakResult, feasible: bool, binding: tuple[str, ...],
             corner: bool) -> str:
    who, y, ds = problem.region, problem.year, problem.drivers
    moved = [i for i in range(len(ds)) if z[i] != 0]
    lg, bg = 100 * problem.growth(z), 100 * problem.growth(np.zeros(len(ds)))
    if stage == 0:
        t_last = int(np.max(problem.hist_years))
        return (f"{who} has already peaked ({base_peak.peak_year}, before the last data year "
                f"{t_last}) on the scenario; no change needed" if base_peak.peak_year < t_last
                else f"{who} peaks in {base_peak.peak_year} on the scenario: no change needed")
    changes = "; ".join(change_phrase(ds[i], problem.base_levels[i], z[i] * problem.scale[i])
                        for i in moved)
    if feasible:
        msg = (f"{who} has peaked by {y} by the book's peak rule with {changes} by {y} "
               f"(maximum in {pk.peak_year}, {y} emissions {100 * pk.end_gap:.2f} % below it, "
               f"growth in {y} {lg:.2f} % instead of {bg:.2f} %; norm {np.linalg.norm(z):.2f} s.d.)")
        if corner:
            msg += f"; a corner solution: {', '.join(binding)} at their bounds"
        elif binding:
            msg += f"; at a bound: {', '.join(binding)}"
    elif not moved:
        free = [d for d in ds if d not in problem.held]
        msg = (f"infeasible: no allowed change of {', '.join(free)} makes {who} peak by {y} "
               f"(growth in {y} {bg:.2f} %); best found is no change" if free else
               f"infeasible: no driver may move, so {who} does not peak by {y}; best found is "
               "no change")
    else:
        msg = (f"infeasible: no change of {', '.join(ds)} within {_bounds_words(problem)} "
               f"(shares in [0, 1], each in its emission-lowering direction) makes {who} peak by "
               f"{y}; best found ({changes}) leaves growth {lg:.2f} % (unchanged: {bg:.2f} %)"
               + (f"; bounds bind for {', '.join(binding)}" if binding else ""))
    if problem.held:
        msg += ("; not moved for a BMA inclusion probability below the threshold: "
                + ", ".join(f"{d} (PIP {problem.pips[d]:.2f})" for d in problem.held))
    if not sol.converged:
        msg += (f"; the optimiser did not converge ({sol.note.rstrip('.')}), so "
                + ("a smaller change may exist" if feasible else "a feasible change may exist"))
    return msg


def _result(problem: AdjustmentProblem, sol: Solution, stage: int, base_peak: PeakResult,
            everyone: AdjustmentProblem) -> AdjustmentResult:
    """The result of ``problem``; ``everyone`` (the last stage's problem) gives the limits,
    PIPs and held drivers of every driver the search could move."""
    ds = problem.drivers
    tol = 1e-6 * max(1.0, float(np.abs(np.r_[problem.lo, problem.hi]).max()))
    moved = np.abs(sol.z) > tol
    z = np.where(moved, sol.z, 0.0)
    bind = moved & ((np.abs(z - problem.lo) < tol) | (np.abs(z - problem.hi) < tol))
    binding = tuple(d for d, b in zip(ds, bind, strict=True) if b)
    g_here = problem.gap(z)
    against = []  # unmoved drivers the model would move the forbidden way
    for i, d in enumerate(ds):
        sgn = int(problem.directions.iloc[i])
        if stage and not moved[i] and sgn != 0 and d not in problem.held:
            zz = z.copy()
            zz[i] = -sgn * 0.01
            if problem.gap(zz) < g_here - 1e-12:
                against.append(d)
    corner = bool(moved.any() and bind[moved].all())
    base_df, adj_df = problem.series(np.zeros(len(ds))), problem.series(z)
    pk = find_peak(adj_df["year"], adj_df["emissions_mt"], tol=problem.tol)
    feasible = bool(sol.feasible and pk.peaked)
    msg = _message(problem, z, sol, stage, base_peak, pk, feasible, binding, corner)
    if against:
        msg += (f"; the sign constraint holds {', '.join(against)} (the model would lower "
                "emissions by moving it against its BMA direction)")
    delta = z * problem.scale
    return AdjustmentResult(
        region=problem.region, year=problem.year, drivers=ds,
        delta=pd.Series(delta, index=list(ds)), z=pd.Series(z, index=list(ds)),
        norm=float(np.linalg.norm(z)), feasible=feasible, stage=stage,
        last_growth_pct=100 * problem.growth(z), base=base_df, adjusted=adj_df, message=msg,
        levels=_levels(problem, z, binding), binding=binding, corner=corner,
        base_growth_pct=100 * problem.growth(np.zeros(len(ds))), directions=problem.directions,
        sign_binding=tuple(against), converged=sol.converged, note=sol.note, held=everyone.held,
        pips=everyone.pips, limits=everyone.limits, peak=pk)


ADJUST_FIRST: tuple[str, ...] = adjustable("first")
"""The drivers the inverse problem moves first (the study's private cars, tertiary share, gas
share): the driver table's ``adjust="first"`` rows."""
ADJUST_THEN: tuple[str, ...] = adjustable("then")
"""The drivers it moves only when the first cannot make the region peak (the non-fossil share):
the driver table's ``adjust="then"`` rows."""


def adjustment_drivers(drivers: Sequence[str]) -> tuple[list[str], list[str]]:
    """(first, then) for :func:`peak_adjustment` among the ``drivers`` a panel has:
    the table's ``first`` rows present (else the first driver), then its ``then`` rows present."""
    first = [d for d in adjustable("first") if d in drivers] or list(drivers[:1])
    return first, [d for d in adjustable("then") if d in drivers and d not in first]


def _evidence_for(model: Any, panel: pd.DataFrame, drivers: Sequence[str],
                  directions: Any, min_pip: float | None, pips: pd.Series | None
                  ) -> tuple[pd.Series, pd.Series | None]:
    """(directions, pips) from one BMA fit when they are asked for and not given."""
    if isinstance(directions, str) and directions != "bma":
        raise ParameterError(f"directions: expected 'bma', a Series or None, got {directions!r}")
    if min_pip is not None and (isinstance(min_pip, bool) or not 0 <= min_pip <= 1):
        raise ParameterError(f"min_pip: expected a probability in [0, 1] or None, got {min_pip!r}")
    if isinstance(directions, str) or (min_pip and pips is None):
        ds = dict.fromkeys([*getattr(model, "drivers", KEY_DRIVERS), *drivers])
        ev = driver_evidence(panel, [d for d in ds if d in panel.columns])
        directions = ev["direction"] if isinstance(directions, str) else directions
        pips = ev["pip"] if pips is None else pips
    if directions is None:  # any direction: both signs allowed
        directions = pd.Series(0, index=list(drivers))
    if not isinstance(directions, pd.Series):
        raise ParameterError("directions: expected 'bma', a Series of ±1 or None")
    return directions, pips


def peak_adjustment(
    model: Any,
    panel: pd.DataFrame,
    paths: pd.DataFrame,
    region: str,
    *,
    drivers: Sequence[str] = ADJUST_FIRST,
    then: Sequence[str] = ADJUST_THEN,
    population: pd.DataFrame | None = None,
    year: int = HORIZON,
    max_sd: float | None = None,
    margin: float = 1e-4,
    align: bool = True,
    directions: pd.Series | str | None = "bma",
    random_state: int = 0,
    base: pd.DataFrame | None = None,
    bounds: Any = "observed",
    min_pip: float | None = MIN_PIP,
    pips: pd.Series | None = None,
    tol: float = PEAK_TOL,
) -> AdjustmentResult:
    """The smallest change of ``drivers`` by ``year`` that makes ``region`` peak by ``year``.

    Each driver ``d`` changes by ``delta_d`` in ``year``, ramped linearly from the last data
    year. Minimised: ``||z||_2`` with ``z_d = delta_d / s_d``, ``s_d`` the s.d. of ``d`` in
    the region's history. Constraint: the adjusted path (history + forecast to ``year``)
    has peaked by :func:`find_peak` with tolerance ``tol`` (:func:`peak_gap` ≤ −``margin``,
    ln units). Bounds: ``bounds="observed"`` caps |delta_d| at the largest change of ``d``
    over the same number of years observed in any province of ``panel``
    (:func:`largest_changes`; a Series gives the caps, None none), ``max_sd`` (optional)
    caps |z_d|, shares stay in [0, 1], each driver moves only in the direction that lowers
    emissions (``directions``: ``"bma"`` = the sign of its BMA posterior mean, a Series of
    ±1, or None = any direction), and a driver whose BMA PIP (``pips``, default from the same
    BMA fit, :func:`driver_evidence`) is below ``min_pip`` is held (``min_pip=None``: every
    driver may move). Problem (:func:`adjustment_problem`), solver (:func:`solve_adjustment`)
    and result (:class:`AdjustmentResult`) are separate.

    The study's ordering: ``drivers`` first (cars, tertiary share, gas share); only if they
    cannot do it are the drivers in ``then`` (the non-fossil share) added (stage 2). An
    infeasible search reports the change closest to the rule, never one worse than no
    change; no exception is raised. ``base`` (see :func:`adjustment_problem`): the path to
    start from, e.g. the outlook's point path, so the peak quoted here is the outlook's.
    """
    drivers, then = list(drivers), [d for d in then if d not in drivers]
    allds = drivers + then
    directions, pips = _evidence_for(model, panel, allds, directions, min_pip, pips)
    kw = {"population": population, "year": year, "max_sd": max_sd, "margin": margin,
          "align": align, "base": base, "bounds": bounds, "tol": tol, "pips": pips,
          "min_pip": min_pip}
    stages = [drivers] + ([allds] if then else [])
    probs = [adjustment_problem(model, panel, paths, region, ds, directions=directions, **kw)
             for ds in stages]
    p0 = probs[0]
    zero = np.zeros(len(p0.drivers))
    base_peak = find_peak(*p0.series(zero).to_numpy().T, tol=tol)
    if base_peak.peaked:
        return _result(p0, Solution(zero, True, True), 0, base_peak, probs[-1])
    tried = []
    for k, prob in enumerate(probs, start=1):
        sol = solve_adjustment(prob, random_state=random_state)
        tried.append((prob, sol, k))
        if sol.feasible:
            break
    prob, sol, k = tried[-1] if tried[-1][1].feasible else min(tried, key=lambda t: t[0].gap(t[1].z))
    return _result(prob, sol, k, base_peak, probs[-1])


LAGGARD_COLUMNS: tuple[str, ...] = (
    "region", "year", "driver", "base", "adjusted", "delta", "z", "unit", "base_level",
    "adjusted_level", "change_level", "change_pct", "change_pp", "max_change", "span_years",
    "pip", "held", "moved", "binding", "feasible", "corner", "stage", "norm", "converged",
    "peak_year", "growth_pct", "base_growth_pct")
"""The columns of :func:`laggard_table` (model units, then natural units, then the outcome)."""


def _rows(res: AdjustmentResult, paths: pd.DataFrame, allds: list[str]) -> list[dict[str, Any]]:
    rp = paths[(paths["region"] == res.region) & (paths["year"] == res.year)]
    lv, lim = res.levels.set_index("driver"), res.limits.reindex(allds)
    out = []
    for d in allds:
        if d not in paths.columns:
            continue
        base = float(rp[d].iloc[0])
        dz, dd = float(res.z.get(d, 0.0)), float(res.delta.get(d, 0.0))
        out.append({"region": res.region, "year": res.year, "driver": d, "base": base,
                    "adjusted": base + dd, "delta": dd, "z": dz, **natural_change(d, base, dd),
                    "max_change": float(lim.at[d, "max_change"]),
                    "span_years": lim.at[d, "span_years"],
                    "pip": float(res.pips.get(d, np.nan)), "held": d in res.held,
                    "moved": abs(dz) > 1e-6, "binding": bool(d in lv.index and lv.at[d, "binding"]),
                    "feasible": res.feasible, "corner": res.corner, "stage": res.stage,
                    "norm": res.norm, "converged": res.converged,
                    "peak_year": res.peak.peak_year if res.peak else None,
                    "growth_pct": res.last_growth_pct, "base_growth_pct": res.base_growth_pct})
    return out


def laggard_table(model: Any, panel: pd.DataFrame, paths: pd.DataFrame, regions: Iterable[str],
                  *, model_drivers: Sequence[str] = KEY_DRIVERS, random_state: int = 0,
                  cache: bool = False, **kwargs: Any) -> pd.DataFrame:
    """The study's Table 10: for every laggard, each adjustable driver's value in ``year`` in
    the scenario and in the peak scenario, in model units and natural units, and feasibility.

    ``model`` is a fitted model, or a registry name fitted here as
    ``PanelModel(model, model_drivers, random_state=random_state)`` on ``panel`` (then
    ``cache`` keeps the table in the content-keyed cache, keyed by the panel, the paths,
    the population and every parameter). ``kwargs`` go to :func:`peak_adjustment`
    (drivers, then, population, year, bounds, min_pip, directions ...; the BMA evidence is
    computed once). Returns one row per region and driver, :data:`LAGGARD_COLUMNS`: model
    units (``base``, ``adjusted``, ``delta``, ``z``), natural units (``unit``, ``base_level``,
    ``adjusted_level``, ``change_level``, ``change_pct``, ``change_pp`` for shares), the
    bound (``max_change`` over ``span_years``), ``pip``/``held`` and the region's outcome.
    :func:`carbonlab.forecast.table10` turns it into the table a reader sees.
    """
    regions = list(dict.fromkeys(resolve_region(r) for r in regions))
    if isinstance(model, str):
        name, mds = model, tuple(model_drivers)
        cols = ["region", "year", "emissions_mt", "population_10k", *mds]
        extra = [d for d in dict.fromkeys([*kwargs.get("drivers", ADJUST_FIRST),
                                          *kwargs.get("then", ADJUST_THEN)])
                 if d in panel.columns and d not in cols]
        parts = [panel[cols + extra].sort_values(["region", "year"]).reset_index(drop=True),
                 paths, kwargs.get("population"), kwargs.get("base"),
                 {"model": name, "drivers": list(mds), "seed": random_state, "regions": regions,
                  **{k: v for k, v in kwargs.items() if k not in ("population", "base")}}]
        return cached("laggards", parts, lambda: laggard_table(
            PanelModel(name, mds, random_state=random_state).fit(panel), panel, paths, regions,
            **kwargs), enabled=cache)
    drivers = list(kwargs.get("drivers", ADJUST_FIRST))
    allds = list(dict.fromkeys([*drivers, *kwargs.get("then", ADJUST_THEN)]))
    kwargs["directions"], kwargs["pips"] = _evidence_for(
        model, panel, allds, kwargs.get("directions", "bma"), kwargs.get("min_pip", MIN_PIP),
        kwargs.get("pips"))
    rows = []
    for r in regions:
        rows += _rows(peak_adjustment(model, panel, paths, r, **kwargs), paths, allds)
    return pd.DataFrame(rows, columns=list(LAGGARD_COLUMNS))
