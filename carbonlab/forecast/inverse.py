"""The inverse problem: the smallest driver change that makes a region peak by 2030 (Table 10)."""


from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from carbonlab._util import ParameterError
from carbonlab.cache import cached
from carbonlab.forecast.paths import _offsets
from carbonlab.forecast.rule import KEY_DRIVERS, PeakResult, find_peak
from carbonlab.models import (
    PanelModel,
)
from carbonlab.regions import resolve_region
from carbonlab.scenarios import (
    DRIVERS,
    HORIZON,
    SHARE_DRIVERS,
    population_path,
)


def driver_directions(panel: pd.DataFrame, drivers: Sequence[str]) -> pd.Series:
    """The direction (+1 raise, −1 lower) of each driver's change that lowers emissions,
    from the sign of its BMA posterior mean (within-region g-prior BMA on ``panel``).

    The inverse problem moves drivers only this way, so no region "peaks" by, say,
    cutting its non-fossil share because a fitted model bends the wrong way.
    """
    from carbonlab.bma import BMA, design_from_panel

    X, y, groups = design_from_panel(panel, list(drivers))
    fit = BMA(g="UIP", mprior="uniform", within="individual").fit(X, y, groups=groups)
    mean = fit.summary(order_by_pip=False)["post_mean"].reindex(list(drivers))
    return pd.Series(np.where(mean.to_numpy() > 0, -1, 1), index=list(drivers), name="direction")


@dataclass
class AdjustmentProblem:
    """The inverse problem for one region: minimise ‖z‖₂ subject to growth(z) ≤ −margin.

    ``z_d = delta_d / s_d`` (driver change in ``year`` in units of the region's historical
    s.d.), ramped linearly from the last data year; ``lo``/``hi`` bound z (|z| ≤ max_sd,
    shares in [0, 1], and the sign constraint: only the direction in ``directions``).
    ``emissions(z)`` gives the forecast years' emissions (Mt CO2), ``growth(z)`` the
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
    max_sd: float
    hist_years: np.ndarray
    hist_mt: np.ndarray
    years: np.ndarray
    base_levels: np.ndarray
    emissions: Callable[[np.ndarray], np.ndarray]

    def growth(self, z: np.ndarray) -> float:
        e = self.emissions(np.asarray(z, dtype=float))
        prev = e[-2] if len(e) > 1 else self.hist_mt[-1]
        return float(e[-1] / prev - 1.0)

    def gap(self, z: np.ndarray) -> float:
        """growth + margin: ≤ 0 means feasible."""
        return self.growth(z) + self.margin

    def series(self, z: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"year": np.r_[self.hist_years, self.years],
                             "emissions_mt": np.r_[self.hist_mt, self.emissions(np.asarray(z, float))]})


def adjustment_problem(model: Any, panel: pd.DataFrame, paths: pd.DataFrame, region: str,
                       drivers: Sequence[str], *, population: pd.DataFrame | None = None,
                       year: int = HORIZON, max_sd: float = 3.0, margin: float = 1e-4,
                       align: bool = True, directions: pd.Series | None = None,
                       base: pd.DataFrame | None = None) -> AdjustmentProblem:
    """Build the :class:`AdjustmentProblem` (checks every input; see :func:`peak_adjustment`).

    ``base`` (tidy ``region, year, emissions_mt``, e.g. an :class:`Outlook`'s median path,
    member −1) is the unchanged path: the model then supplies only the response to a driver
    change, ``E_t(z) = base_t · exp(f(x_t + δ_t) − f(x_t))``, so the adjustment starts from
    the same path, and the same peak, as the forecast the book reports.
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
    if not (np.isfinite(max_sd) and max_sd > 0):
        raise ParameterError(f"max_sd: must be positive, got {max_sd}")
    rp = paths[paths["region"] == region].sort_values("year")
    if rp.empty:
        raise ParameterError(f"region: {region!r} is not in the scenario paths")
    hist = rp[~rp["projected"]]
    t0 = int(hist["year"].max())
    if not t0 < year <= int(rp["year"].max()):
        raise ParameterError(f"year: {year} must be after {t0} and within the paths (to {int(rp['year'].max())})")
    if directions is None:
        directions = pd.Series(0, index=drivers)
    missing = [d for d in drivers if d not in directions.index]
    if missing:
        raise ParameterError(f"directions: no direction for driver {missing[0]!r}")
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
    scale, lo, hi = [], [], []
    for d in drivers:
        sd = float(np.nanstd(hist[d].to_numpy(dtype=float), ddof=1))
        sd = sd if sd > 0 else float(np.nanstd(paths[d].to_numpy(dtype=float), ddof=1)) or 1.0
        lo_d, hi_d = -max_sd, max_sd
        if d in SHARE_DRIVERS:
            base = fut[d].to_numpy(dtype=float)
            lo_d = max(lo_d, float(np.max(-base / ramp)) / sd)
            hi_d = min(hi_d, float(np.min((1 - base) / ramp)) / sd)
        if int(directions[d]) > 0:
            lo_d = 0.0
        elif int(directions[d]) < 0:
            hi_d = 0.0
        scale.append(sd)
        lo.append(min(lo_d, 0.0))
        hi.append(max(hi_d, 0.0))
    scale_a = np.array(scale)
    X0 = fut[drivers].to_numpy(dtype=float)

    def emissions(z: np.ndarray) -> np.ndarray:
        f = fut.copy()
        f[drivers] = X0 + np.outer(ramp, z * scale_a)
        return np.exp(model.predict(f) + off) * popv / 100.0

    return AdjustmentProblem(
        region=region, year=year, drivers=tuple(drivers), scale=scale_a, lo=np.array(lo),
        hi=np.array(hi), directions=directions.reindex(drivers).astype(int), margin=margin,
        max_sd=float(max_sd), hist_years=rpan["year"].to_numpy(),
        hist_mt=rpan["emissions_mt"].to_numpy(dtype=float), years=fyears,
        base_levels=X0[-1].copy(), emissions=emissions)


def solve_adjustment(problem: AdjustmentProblem, *, n_starts: int = 8, random_state: int = 0
                     ) -> tuple[np.ndarray, bool]:
    """The least-norm feasible z (multi-start), or the z with the lowest growth if none is.

    Starts: the steepest-descent ray (bracketed by bisection), the far corner of the
    allowed box and ``n_starts`` random points in it; each feasible start is shrunk along
    its ray to the boundary and polished by SLSQP. Never returns a z whose growth is above
    no change's (z = 0 then).
    """
    g, lo, hi = problem.gap, problem.lo, problem.hi
    k = len(problem.drivers)
    z0 = np.zeros(k)
    g0 = g(z0)
    if g0 <= 0:
        return z0, True
    rng = np.random.default_rng(random_state)
    eps = 1e-3
    grad = np.array([(g(np.clip(z0 + eps * e, lo, hi)) - g(np.clip(z0 - eps * e, lo, hi)))
                     / (2 * eps) for e in np.eye(k)])
    starts = [hi.copy(), lo.copy(), np.where(np.abs(lo) > np.abs(hi), lo, hi)]
    if np.linalg.norm(grad) > 0:
        starts.append(np.clip(-grad / np.linalg.norm(grad) * problem.max_sd * np.sqrt(k), lo, hi))
    starts += list(rng.uniform(lo, hi, size=(n_starts, k)))
    bnds = list(zip(lo, hi, strict=True))

    def shrink(z: np.ndarray) -> np.ndarray:
        """Smallest t in [0, 1] with g(t z) ≤ 0 (bisection; g(z) ≤ 0 assumed)."""
        a, b = 0.0, 1.0
        for _ in range(40):
            mid = 0.5 * (a + b)
            a, b = (a, mid) if g(mid * z) <= 0 else (mid, b)
        return b * z

    feasible = []
    for s in starts:
        if g(s) <= 0:
            z = shrink(s)
            res = optimize.minimize(lambda v: float(v @ v), z, jac=lambda v: 2 * v, method="SLSQP",
                                    bounds=bnds, constraints=[{"type": "ineq", "fun": lambda v: -g(v)}],
                                    options={"maxiter": 200, "ftol": 1e-12})
            zr = np.clip(res.x, lo, hi) if res.x is not None else z
            feasible.append(zr if g(zr) <= 0 and zr @ zr < z @ z else z)
    if feasible:
        return min(feasible, key=lambda v: float(v @ v)), True
    best, best_g = z0, g0
    for s in starts:
        res = optimize.minimize(g, s, method="L-BFGS-B", bounds=bnds)
        z = np.clip(res.x, lo, hi)
        if g(z) < best_g - 1e-12:
            best, best_g = z, g(z)
    return best, False


@dataclass
class AdjustmentResult:
    """Outcome of :func:`peak_adjustment`.

    ``delta`` holds the driver changes in ``year`` (driver units), ``z`` the same in
    units of each driver's historical s.d. (``norm = ||z||_2``); ``feasible`` says whether
    the region peaks by ``year`` with them; ``binding`` lists the drivers at a bound
    (|z| = max_sd or a share at 0/1), ``corner`` is True when every moved driver binds;
    ``directions`` the allowed direction of each driver; ``sign_binding`` the unmoved
    drivers the model would move against that direction; ``message`` states it in one line;
    ``levels`` the drivers' values in ``year`` (base, adjusted).
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

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        return self.message


def _result(problem: AdjustmentProblem, z: np.ndarray, feasible: bool, stage: int,
            base_peak: PeakResult) -> AdjustmentResult:
    ds = problem.drivers
    tol = 1e-6 * max(1.0, problem.max_sd)
    moved = np.abs(z) > tol
    z = np.where(moved, z, 0.0)
    delta = z * problem.scale
    bind = moved & ((np.abs(z - problem.lo) < tol) | (np.abs(z - problem.hi) < tol))
    binding = tuple(d for d, b in zip(ds, bind, strict=True) if b)
    g_here = problem.growth(z)
    against = []  # unmoved drivers the model would move the forbidden way
    for i, d in enumerate(ds):
        sgn = int(problem.directions.iloc[i])
        if stage and not moved[i] and sgn != 0:
            zz = z.copy()
            zz[i] = -sgn * 0.01
            if problem.growth(zz) < g_here - 1e-12:
                against.append(d)
    sign_binding = tuple(against)
    corner = bool(moved.any() and bind[moved].all())
    base_df, adj_df = problem.series(np.zeros(len(ds))), problem.series(z)
    pk = find_peak(adj_df["year"], adj_df["emissions_mt"])
    feasible = bool(feasible and pk.peaked and pk.peak_year < problem.year)
    lg, bg = 100 * problem.growth(z), 100 * problem.growth(np.zeros(len(ds)))
    levels = pd.DataFrame({"driver": ds, "base": problem.base_levels,
                           "adjusted": problem.base_levels + delta, "delta": delta, "z": z,
                           "direction": problem.directions.to_numpy(),
                           "binding": [d in binding for d in ds]})
    who, moved_names = problem.region, [d for d, m in zip(ds, moved, strict=True) if m]
    if stage == 0:
        t_last = int(np.max(problem.hist_years))
        msg = (f"{who} has already peaked ({base_peak.peak_year}, before the last data year "
               f"{t_last}) on the scenario; no change needed" if base_peak.peak_year < t_last
               else f"{who} peaks in {base_peak.peak_year} on the scenario: no change needed")
    elif feasible:
        msg = (f"{who} peaks in {pk.peak_year} with {', '.join(moved_names)} changed by "
               f"{problem.year} (norm {np.linalg.norm(z):.2f} s.d.; growth in {problem.year} "
               f"{lg:.2f} % instead of {bg:.2f} %)")
        if corner:
            msg += f"; a corner solution: {', '.join(binding)} at their bounds"
        elif binding:
            msg += f"; at a bound: {', '.join(binding)}"
    elif not moved.any():
        msg = (f"infeasible: no allowed change of {', '.join(ds)} lowers {who}'s growth in "
               f"{problem.year} ({bg:.2f} %); best found is no change")
    else:
        msg = (f"infeasible: no change of {', '.join(ds)} within {problem.max_sd:g} s.d. "
               f"(shares in [0, 1], each in its emission-lowering direction) makes {who} peak by "
               f"{problem.year}; best found leaves growth {lg:.2f} % (unchanged: {bg:.2f} %)"
               + (f"; bounds bind for {', '.join(binding)}" if binding else ""))
    if stage and not feasible and pk.peaked:  # the peak rule is looser than the growth criterion
        msg += (f"; by the book's peak rule the adjusted path has peaked (its {problem.year} value "
                f"is {100 * pk.end_gap:.0f} % below its {pk.peak_year} maximum), but the inverse "
                f"problem asks for more, emissions falling in {problem.year} itself, which no "
                "allowed change reaches")
    if sign_binding:
        msg += (f"; the sign constraint holds {', '.join(sign_binding)} (the model would lower "
                "emissions by moving it against its BMA direction)")
    return AdjustmentResult(
        region=who, year=problem.year, drivers=ds, delta=pd.Series(delta, index=list(ds)),
        z=pd.Series(z, index=list(ds)), norm=float(np.linalg.norm(z)), feasible=feasible,
        stage=stage, last_growth_pct=lg, base=base_df, adjusted=adj_df, message=msg,
        levels=levels, binding=binding, corner=corner, base_growth_pct=bg,
        directions=problem.directions, sign_binding=sign_binding)


ADJUST_FIRST: tuple[str, ...] = ("lcar", "tertrate", "gas")
"""The drivers the inverse problem moves first (the study's private cars, tertiary share, gas share)."""
ADJUST_THEN: tuple[str, ...] = ("fossil",)
"""The drivers it moves only when the first cannot make the region peak (the non-fossil share)."""


def adjustment_drivers(drivers: Sequence[str]) -> tuple[list[str], list[str]]:
    """(first, then) for :func:`peak_adjustment` among the ``drivers`` a panel has:
    :data:`ADJUST_FIRST` present (else the first driver), then :data:`ADJUST_THEN` present."""
    first = [d for d in ADJUST_FIRST if d in drivers] or list(drivers[:1])
    return first, [d for d in ADJUST_THEN if d in drivers and d not in first]


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
    max_sd: float = 3.0,
    margin: float = 1e-4,
    align: bool = True,
    directions: pd.Series | str | None = "bma",
    random_state: int = 0,
    base: pd.DataFrame | None = None,
) -> AdjustmentResult:
    """The smallest change of ``drivers`` by ``year`` that makes ``region`` peak by ``year``.

    Each driver ``d`` changes by ``delta_d`` in ``year``, ramped linearly from the last data
    year. Minimised: ``||z||_2`` with ``z_d = delta_d / s_d``, ``s_d`` the s.d. of ``d`` in
    the region's history. Constraints: ``|z_d| <= max_sd``, shares stay in [0, 1], each
    driver moves only in the direction that lowers emissions (``directions``: ``"bma"`` =
    :func:`driver_directions` on ``panel``, a Series of ±1, or None = any direction), and
    the growth in ``year`` is at most ``-margin`` (so the region has peaked by ``year - 1``).
    Problem (:func:`adjustment_problem`), solver (:func:`solve_adjustment`, multi-start)
    and result (:class:`AdjustmentResult`, with binding bounds and corners) are separate.

    The study's ordering: ``drivers`` first (cars, tertiary share, gas share); only if they
    cannot do it are the drivers in ``then`` (the non-fossil share) added (stage 2). An
    infeasible search reports the change with the lowest growth, never one worse than no
    change; no exception is raised. ``base`` (see :func:`adjustment_problem`): the path to
    start from, e.g. ``outlook.members`` member −1, so the peak quoted here is the outlook's.
    """
    drivers, then = list(drivers), [d for d in then if d not in drivers]
    allds = drivers + then
    if isinstance(directions, str):
        if directions != "bma":
            raise ParameterError(f"directions: expected 'bma', a Series or None, got {directions!r}")
        ds = dict.fromkeys([*getattr(model, "drivers", KEY_DRIVERS), *allds])
        directions = driver_directions(panel, [d for d in ds if d in panel.columns])
    elif directions is None:  # any direction: both signs allowed
        directions = pd.Series(0, index=allds)
    kw = {"population": population, "year": year, "max_sd": max_sd, "margin": margin,
          "align": align, "base": base}
    stages = [drivers] + ([allds] if then else [])
    if not isinstance(directions, pd.Series):
        raise ParameterError("directions: expected 'bma', a Series of ±1 or None")
    probs = [adjustment_problem(model, panel, paths, region, ds, directions=directions, **kw)
             for ds in stages]
    p0 = probs[0]
    base_peak = find_peak(*p0.series(np.zeros(len(p0.drivers))).to_numpy().T)
    if p0.gap(np.zeros(len(p0.drivers))) <= 0 or base_peak.peaked:
        return _result(p0, np.zeros(len(p0.drivers)), True, 0, base_peak)
    tried = []
    for k, prob in enumerate(probs, start=1):
        z, ok = solve_adjustment(prob, random_state=random_state)
        tried.append((prob, z, ok, k))
        if ok:
            break
    prob, z, ok, k = tried[-1] if tried[-1][2] else min(tried, key=lambda t: t[0].growth(t[1]))
    return _result(prob, z, ok, k, base_peak)


def laggard_table(model: Any, panel: pd.DataFrame, paths: pd.DataFrame, regions: Iterable[str],
                  *, model_drivers: Sequence[str] = KEY_DRIVERS, random_state: int = 0,
                  cache: bool = False, **kwargs: Any) -> pd.DataFrame:
    """The study's Table 10: for every laggard, each adjustable driver's 2030 value in the
    scenario and in the peak scenario, whether it had to move, and feasibility.

    ``model`` is a fitted model, or a registry name fitted here as
    ``PanelModel(model, model_drivers, random_state=random_state)`` on ``panel`` (then
    ``cache`` keeps the table in the content-keyed cache, keyed by the panel, the paths,
    the population and every parameter). ``kwargs`` go to :func:`peak_adjustment`
    (drivers, then, population, year, max_sd, directions ...; the BMA directions are
    computed once). Returns one row per region and driver: ``region, driver, base,
    adjusted, delta, z, moved, binding, feasible, corner, stage, norm, growth_pct,
    base_growth_pct``.
    """
    regions = [resolve_region(r) for r in regions]
    if isinstance(model, str):
        name, mds = model, tuple(model_drivers)
        cols = ["region", "year", "emissions_mt", "population_10k", *mds]
        parts = [panel[cols].sort_values(["region", "year"]).reset_index(drop=True), paths,
                 kwargs.get("population"), kwargs.get("base"),
                 {"model": name, "drivers": list(mds), "seed": random_state, "regions": regions,
                  **{k: v for k, v in kwargs.items() if k not in ("population", "base")}}]
        return cached("laggards", parts, lambda: laggard_table(
            PanelModel(name, mds, random_state=random_state).fit(panel), panel, paths, regions,
            **kwargs), enabled=cache)
    drivers = list(kwargs.get("drivers", ADJUST_FIRST))
    allds = list(dict.fromkeys([*drivers, *kwargs.get("then", ADJUST_THEN)]))
    if isinstance(kwargs.get("directions", "bma"), str):
        ds = [*getattr(model, "drivers", KEY_DRIVERS), *allds]
        kwargs["directions"] = driver_directions(panel, [d for d in dict.fromkeys(ds)
                                                         if d in panel.columns])
    rows = []
    for r in regions:
        res = peak_adjustment(model, panel, paths, r, **kwargs)
        rp = paths[(paths["region"] == res.region) & (paths["year"] == res.year)]
        for d in allds:
            if d not in paths.columns:
                continue
            base = float(rp[d].iloc[0])
            dz = float(res.z.get(d, 0.0))
            dd = float(res.delta.get(d, 0.0))
            rows.append({"region": res.region, "driver": d, "base": base, "adjusted": base + dd,
                         "delta": dd, "z": dz, "moved": abs(dz) > 1e-6,
                         "binding": d in res.binding, "feasible": res.feasible,
                         "corner": res.corner, "stage": res.stage, "norm": res.norm,
                         "growth_pct": res.last_growth_pct, "base_growth_pct": res.base_growth_pct})
    cols = ["region", "driver", "base", "adjusted", "delta", "z", "moved", "binding", "feasible",
            "corner", "stage", "norm", "growth_pct", "base_growth_pct"]
    return pd.DataFrame(rows, columns=cols)
