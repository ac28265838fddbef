"""Forecasts over scenarios, peak years and classes, the national peak, the inverse problem.

The provincial study (section 2.4) forecasts ln per-capita emissions 2022–2030 from
five drivers with its best model, multiplies by population, finds each
province's peak year and classifies it: *by 2025* (leading), *by 2030*
(standard) or *not by 2030*. This module does the same for any scikit-learn
style regressor and adds an uncertainty layer (bootstrap ensembles → peak-year
probabilities), a backtest of peak calls, and the inverse problem (the smallest
driver change that makes a region peak by 2030).

Peak definition (:func:`find_peak`, the one rule of the whole book): over a series
``E_t`` (history + forecast) the peak is the first year of the maximum; the series has
*peaked* when its last value is below that maximum by more than ``tol`` (relative), or
when the maximum lies before the last year and the tail is flat within ``tol`` (the last
annual change is at most ``tol`` in size). Classes (:data:`CLASSES`, named only here):
*peaked before 2020* (maximum before the 2020 pledge and the plans), *by 2025*, *by
2030*, *not by 2030*.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from carbonlab._util import DataError, ParameterError
from carbonlab.cache import cache_path, cached
from carbonlab.data import log_emissions_per_capita
from carbonlab.models import (
    MODEL_LABELS,
    NAIVE,
    PANEL_MODELS,
    PanelModel,
    Selection,
    get_model,
    select,
)
from carbonlab.plotting import PALETTE, legend_outside, new_figure, palette, year_axis
from carbonlab.regions import resolve_region
from carbonlab.scenarios import (
    DRIVERS,
    HORIZON,
    SHARE_DRIVERS,
    Scenario,
    driver_paths,
    population_path,
)

__all__ = [
    "KEY_DRIVERS",
    "CLASSES",
    "CLASS_BEFORE",
    "CLASS_2025",
    "CLASS_2030",
    "CLASS_NOT",
    "CLASS_COLORS",
    "PEAK_TOL",
    "PLEDGE_YEAR",
    "Outlook",
    "outlook",
    "PeakResult",
    "find_peak",
    "classify",
    "PanelModel",
    "forecast",
    "peak_table",
    "growth_table",
    "national_curve",
    "PeakEnsemble",
    "peak_probabilities",
    "forecast_band",
    "national_band",
    "chapter_inputs",
    "AdjustmentResult",
    "peak_adjustment",
    "adjustment_drivers",
    "ADJUST_FIRST",
    "ADJUST_THEN",
    "backtest_peaks",
    "perturb_paths",
    "chosen_model",
    "resolve_model",
    "driver_directions",
    "AdjustmentProblem",
    "adjustment_problem",
    "solve_adjustment",
    "laggard_table",
    "plot_region",
    "plot_classes",
    "plot_growth",
    "plot_national",
    "plot_adjustment",
]

KEY_DRIVERS: tuple[str, ...] = ("fossil", "gas", "tertrate", "lcar", "first")
"""The five key drivers the study's BMA retained and forecasts with."""



# --------------------------------------------------------------------------- peaks


@dataclass(frozen=True)
class PeakResult:
    """Peak of a series (from :func:`find_peak`).

    ``peak_year``: first year of the maximum; ``peak_value``: the maximum (the series'
    unit, e.g. Mt CO2); ``peaked``: whether the series has peaked by its last year;
    ``last_growth``: relative change in the last year (fraction); ``end_gap``: last value
    below the maximum (fraction, ≥ 0).
    """

    peak_year: int
    peak_value: float
    peaked: bool
    last_growth: float = float("nan")
    end_gap: float = float("nan")

    @property
    def peak_class(self) -> str:
        """The class of :func:`classify` with the study's years."""
        return classify(self.peak_year, self.peaked)

    def describe(self, unit: str = "") -> str:
        """One line for a reader, e.g. "a peak in 2012 at 105.0 Mt CO2 (peaked before 2020; …)"
        (no tense: the peak year may be observed or forecast)."""
        u = f" {unit}" if unit else ""
        if self.peaked:
            return (f"a peak in {self.peak_year} at {self.peak_value:,.1f}{u} "
                    f"({self.peak_class}; last value {100 * self.end_gap:.1f} % below the peak)")
        return (f"no peak: highest value {self.peak_value:,.1f}{u} in {self.peak_year}, "
                f"last-year growth {100 * self.last_growth:+.2f} %")

    def __str__(self) -> str:
        return self.describe()

    def _repr_markdown_(self) -> str:
        return str(self)


PEAK_TOL: float = 0.01
"""Default relative tolerance of :func:`find_peak` (1 %)."""

PLEDGE_YEAR: int = 2020
"""The 2020 pledge; a maximum before it (and before the 2022 plans) is 'peaked before 2020'."""

CLASSES: tuple[str, ...] = (f"peaked before {PLEDGE_YEAR}", "by 2025", "by 2030", "not by 2030")
"""Peak classes: already peaked before the plans, then the study's Table 8 classes
(leading: by 2025, standard: by 2030, not peaked by 2030). The one place they are named."""

CLASS_BEFORE, CLASS_2025, CLASS_2030, CLASS_NOT = CLASSES

ALREADY_P: float = 0.9
"""A region is said to have *already peaked* when its class is :data:`CLASS_BEFORE`, or when
the median path's maximum lies before the last data year and at least this share of the
ensemble members peak by 2025 (:meth:`Outlook.region`). The one place the threshold is set."""

CLASS_COLORS: dict[str, str] = {CLASS_BEFORE: PALETTE[7], CLASS_2025: PALETTE[2],
                                CLASS_2030: PALETTE[4], CLASS_NOT: PALETTE[1]}
"""One colour per class in every figure."""


def find_peak(years: Sequence[int] | np.ndarray, values: Sequence[float] | np.ndarray,
              tol: float = PEAK_TOL) -> PeakResult:
    """Year and value of the maximum of ``values`` and whether the series has peaked.

    Parameters
    ----------
    years : sequence of int
        Strictly increasing years (at least two).
    values : sequence of float
        The series (any unit, e.g. Mt CO2; history + forecast), finite.
    tol : float
        Relative tolerance (default 1 %).

    Returns
    -------
    PeakResult
        ``peak_year`` is the first year of the maximum. ``peaked`` is True when the last
        value is below the maximum by more than ``tol`` (``E_T < (1 - tol)·max``), or when
        the maximum lies before the last year and the tail is flat within ``tol``
        (``|E_T/E_{T-1} - 1| <= tol``). A maximum in the last year is never a peak.
    """
    y = np.asarray(years)
    v = np.asarray(values, dtype=float)
    if y.ndim != 1 or v.ndim != 1 or len(y) != len(v):
        raise ParameterError(f"find_peak: years ({y.shape}) and values ({v.shape}) must be 1-D of equal length")
    if len(v) < 2:
        raise ParameterError("find_peak: need at least two years")
    if not np.all(np.isfinite(v)):
        raise ParameterError(f"find_peak: values has a missing or infinite entry at year {y[~np.isfinite(v)][0]}")
    if not np.all(np.diff(y.astype(float)) > 0):
        raise ParameterError("find_peak: years must be strictly increasing")
    if isinstance(tol, bool) or not (np.isfinite(tol) and 0 <= tol < 1):
        raise ParameterError(f"find_peak: tol must be in [0, 1), got {tol!r}")
    i = int(np.argmax(v))
    vmax = float(v[i])
    growth = float(v[-1] / v[-2] - 1.0) if v[-2] != 0 else float(np.sign(v[-1] - v[-2]))
    gap = float(1.0 - v[-1] / vmax) if vmax > 0 else 0.0
    below = bool(v[-1] < vmax - tol * abs(vmax))
    flat_tail = i < len(v) - 1 and abs(growth) <= tol
    return PeakResult(peak_year=int(y[i]), peak_value=vmax, peaked=bool(below or flat_tail),
                      last_growth=growth, end_gap=gap)


def classify(peak_year: int, peaked: bool, *, before: int = PLEDGE_YEAR, early: int = 2025,
             target: int = 2030) -> str:
    """The peak class (:data:`CLASSES`) of a peak year and ``peaked`` flag.

    ``"peaked before 2020"`` for a peaked series whose maximum is before ``before``;
    ``"by 2025"`` / ``"by 2030"`` for a peak up to ``early`` / ``target``; ``"not by 2030"``
    for a series that has not peaked or peaks after ``target``. With other years the
    labels keep the default names (the classes are named in one place).
    """
    if isinstance(peak_year, float) and not np.isfinite(peak_year):
        raise ParameterError(f"classify: peak_year {peak_year!r} is not a year")
    if not peaked or peak_year > target:
        return CLASS_NOT
    if peak_year < before:
        return CLASS_BEFORE
    return CLASS_2025 if peak_year <= early else CLASS_2030


# --------------------------------------------------------------------------- forecasts


def _offsets(model: Any, panel: pd.DataFrame) -> dict[str, float]:
    """Observed minus fitted ln per-capita emissions in each region's last year."""
    if hasattr(model, "offsets"):
        return model.offsets(panel)
    last = panel.sort_values("year").groupby("region").tail(1)
    res = log_emissions_per_capita(last).to_numpy() - model.predict(last)
    return dict(zip(last["region"], res, strict=True))


def forecast(
    model: Any,
    panel: pd.DataFrame,
    paths: pd.DataFrame,
    population: pd.DataFrame | None = None,
    *,
    align: bool = True,
) -> pd.DataFrame:
    """Forecast emissions over scenario paths with a fitted model.

    Parameters
    ----------
    model : fitted regressor
        ``predict(frame)`` returning ln(t CO2/person) from ``region`` + drivers
        (e.g. :class:`PanelModel`).
    panel : DataFrame
        The history (``region, year, emissions_mt, population_10k``).
    paths : DataFrame
        From :func:`carbonlab.scenarios.driver_paths` (``projected`` marks forecast rows).
    population : DataFrame, optional
        From :func:`carbonlab.scenarios.population_path` (default: computed from ``panel``).
    align : bool
        Add each region's last-year residual (observed − fitted ln per capita) to its
        forecast so the path starts from the observed level (intercept correction).

    Returns
    -------
    DataFrame
        ``region, year, projected, ln_pc, population_10k, emissions_mt``: observed values
        for history rows, forecasts (Mt CO2) for projected rows.
    """
    horizon = int(paths["year"].max())
    if population is None:
        population = population_path(panel, horizon=horizon)
    fut = paths[paths["projected"]].copy()
    fut = fut.merge(population[["region", "year", "population_10k"]], on=["region", "year"], how="left")
    if fut["population_10k"].isna().any():
        r = fut.loc[fut["population_10k"].isna()].iloc[0]
        raise DataError(f"population: no value for {r['region']} in {r['year']}")
    ln_pc = model.predict(fut)
    if align:
        off = _offsets(model, panel)
        ln_pc = ln_pc + fut["region"].map(off).to_numpy(dtype=float)
    fut["ln_pc"] = ln_pc
    fut["emissions_mt"] = np.exp(ln_pc) * fut["population_10k"].to_numpy() * 1e4 / 1e6
    hist = panel[["region", "year", "population_10k", "emissions_mt"]].copy()
    hist["ln_pc"] = log_emissions_per_capita(panel).to_numpy()
    hist["projected"] = False
    hist = hist[hist["region"].isin(set(fut["region"]))]
    cols = ["region", "year", "projected", "ln_pc", "population_10k", "emissions_mt"]
    out = pd.concat([hist[cols], fut[cols]], ignore_index=True)
    out = out.sort_values(["region", "year"], ignore_index=True)
    out.attrs["units"] = {"emissions_mt": "Mt CO2", "population_10k": "10^4 persons",
                          "ln_pc": "ln(t CO2/person)"}
    return out


def peak_table(fc: pd.DataFrame, *, start: int | None = None, early: int = 2025,
               target: int = 2030) -> pd.DataFrame:
    """Peak year, peak value (Mt CO2), peaked flag, last-year growth and class per region.

    ``start`` restricts the search to years ≥ start (default: the whole series).
    """
    rows = []
    for region, g in fc.sort_values("year").groupby("region", sort=True):
        if start is not None:
            g = g[g["year"] >= start]
        p = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
        rows.append({"region": region, "peak_year": p.peak_year, "peak_mt": p.peak_value,
                     "peaked": p.peaked, "last_growth_pct": 100 * p.last_growth,
                     "class": classify(p.peak_year, p.peaked, early=early, target=target)})
    return pd.DataFrame(rows)


def growth_table(fc: pd.DataFrame, years: Iterable[int] = range(2026, 2031),
                 regions: Iterable[str] | None = None) -> pd.DataFrame:
    """Annual growth of emissions (%) per region (rows) and year (columns), as Table 9."""
    wide = fc.pivot_table(index="region", columns="year", values="emissions_mt")
    years = list(years)
    missing = [y for y in [years[0] - 1, *years] if y not in wide.columns]
    if missing:
        raise ParameterError(f"years: {missing[0]} is not in the forecast")
    g = 100 * (wide[years].to_numpy() / wide[[y - 1 for y in years]].to_numpy() - 1)
    out = pd.DataFrame(g, index=wide.index, columns=years)
    if regions is not None:
        out = out.loc[[resolve_region(r) for r in regions]]
    out.columns.name = "growth_pct"
    return out


def national_curve(fc: pd.DataFrame) -> pd.DataFrame:
    """Sum over regions per year (Mt CO2); the years every region covers."""
    n = fc.groupby("region")["year"].nunique().min()
    g = fc.groupby("year").agg(emissions_mt=("emissions_mt", "sum"), n_regions=("region", "nunique"))
    g = g[g["n_regions"] == g["n_regions"].max()].reset_index()
    if len(g) < 2 or n < 2:
        raise DataError("forecast: fewer than two years covered by every region")
    return g


# --------------------------------------------------------------------------- ensembles


def _residual_noise(pm: PanelModel, panel: pd.DataFrame) -> tuple[dict[str, np.ndarray], bool]:
    """Per-region residual series for the block bootstrap, and whether they accumulate.

    Regressors: in-sample residuals (observed − fitted ln per capita), demeaned per region.
    Naive baselines (persistence, drift) fit the history exactly; their error is the
    next year's change, so their residuals are the demeaned one-step changes and the noise
    accumulates as a random walk.
    """
    p = panel.sort_values(["region", "year"])
    y = log_emissions_per_capita(p).to_numpy()
    walk = bool(getattr(pm.estimator_, "random_walk", False))
    out = {}
    if walk:
        for r, g in pd.Series(y, index=p["region"].to_numpy()).groupby(level=0):
            d = np.diff(g.to_numpy())
            out[r] = d - d.mean() if d.size else np.zeros(1)
    else:
        res = y - pm.predict(p)
        for r, g in pd.Series(res, index=p["region"].to_numpy()).groupby(level=0):
            out[r] = g.to_numpy() - g.mean()
    return out, walk


def _block_bootstrap(res: np.ndarray, n: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` values of moving blocks of length ``block`` drawn from ``res``."""
    L = max(1, min(block, res.size))
    starts = rng.integers(0, res.size - L + 1, size=-(-n // L))
    return np.concatenate([res[s:s + L] for s in starts])[:n]


def perturb_paths(paths: pd.DataFrame, drivers: Sequence[str], rng: np.random.Generator
                  ) -> pd.DataFrame:
    """Driver paths with random-walk noise on the projected years.

    Each region's driver gets cumulative N(0, s²) steps, ``s`` the s.d. of its historical
    year-to-year changes; shares are clipped to [0, 1]. History rows are unchanged.
    """
    out = paths.sort_values(["region", "year"]).reset_index(drop=True)
    proj = out["projected"].to_numpy(dtype=bool)
    ds = list(drivers)
    vals = out[ds].to_numpy(dtype=float).copy()
    share = np.array([d in SHARE_DRIVERS for d in ds])
    for idx in out.groupby("region", sort=True).indices.values():
        h, f = idx[~proj[idx]], idx[proj[idx]]
        if not len(f):
            continue
        steps = np.diff(vals[h], axis=0)
        s = np.std(steps, axis=0, ddof=1) if len(steps) > 1 else np.zeros(len(ds))
        v = vals[f] + np.cumsum(rng.normal(0.0, 1.0, (len(f), len(ds))) * s, axis=0)
        v[:, share] = np.clip(v[:, share], 0.0, 1.0)
        vals[f] = v
    out[ds] = vals
    return out


class PeakEnsemble:
    """A model's forecast ensemble: refits × residual noise × driver-path noise.

    Member ``b`` (seed ``random_state + 1 + b``) is the model refitted on a bootstrap
    sample of the panel (years resampled within each region, so every region keeps its
    level), forecast on driver paths perturbed by :func:`perturb_paths`, plus a moving-block
    bootstrap (``block`` years) of the region's residuals (:func:`_residual_noise`). Bands
    are quantiles over the members; the point forecast (member −1 in
    :meth:`forecast`) is the members' median, inside every band by construction. The
    fitted models are kept in the content-keyed cache (panel content + parameters).

    Parameters
    ----------
    model : str or estimator
        A registry name (:data:`carbonlab.models.PANEL_MODELS`) or an unfitted estimator.
    drivers, fixed_effects : as :class:`~carbonlab.models.PanelModel`.
    n_boot : int
        Ensemble members (0 = the point model alone, no bands).
    random_state : int
    cache : bool
        Read/write the cache.
    residuals, driver_noise : bool
        Add residual noise / perturb the driver paths (both on by default).
    block : int
        Block length (years) of the residual bootstrap.
    """

    def __init__(self, model: Any = "fe", drivers: tuple[str, ...] = KEY_DRIVERS,
                 n_boot: int = 50, fixed_effects: str = "demean", random_state: int = 0,
                 cache: bool = True, residuals: bool = True, driver_noise: bool = True,
                 block: int = 3) -> None:
        if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
            raise ParameterError(f"n_boot: must be a non-negative integer, got {n_boot!r}")
        if isinstance(block, bool) or not isinstance(block, int | np.integer) or block < 1:
            raise ParameterError(f"block: must be a positive integer, got {block!r}")
        self.model = model
        self.drivers = tuple(drivers)
        self.n_boot = int(n_boot)
        self.fixed_effects = fixed_effects
        self.random_state = int(random_state)
        self.cache = cache
        self.residuals = residuals
        self.driver_noise = driver_noise
        self.block = int(block)

    def _member(self, seed: int) -> PanelModel:
        return PanelModel(self.model, self.drivers, self.fixed_effects, seed)

    def _refits(self, panel: pd.DataFrame) -> list[PanelModel]:
        groups = [g.index.to_numpy() for _, g in panel.groupby("region", sort=True)]
        members = []
        for b in range(self.n_boot):
            rng = np.random.default_rng(self.random_state + 1 + b)
            idx = np.concatenate([rng.choice(ix, size=len(ix), replace=True) for ix in groups])
            members.append(self._member(self.random_state + 1 + b).fit(panel.loc[idx]))
        return members

    def fit(self, panel: pd.DataFrame) -> PeakEnsemble:
        """Fit (or load from the cache) the point model; the refits are fitted (or loaded)
        on first use of ``members_``."""
        panel = panel.sort_values(["region", "year"], ignore_index=True)
        cols = ["region", "year", "emissions_mt", "population_10k", *self.drivers]
        model = self.model if isinstance(self.model, str) else self.model.get_params()
        parts = [panel[cols], {"model": model, "drivers": list(self.drivers),
                               "n_boot": self.n_boot, "fe": self.fixed_effects,
                               "seed": self.random_state}]
        computed = []

        def point() -> PanelModel:
            computed.append(True)
            return self._member(self.random_state).fit(panel)

        self.cache_path_ = cache_path("ensemble", parts)
        self.point_ = cached("ensemble-point", parts, point, enabled=self.cache)
        self.from_cache_ = not computed
        self._parts, self._panel, self._members = parts, panel, None
        self.noise_, self.noise_walk_ = _residual_noise(self.point_, panel)
        return self

    @property
    def members_(self) -> list[PanelModel]:
        """The ``n_boot`` bootstrap refits (fitted or loaded from the cache on first use)."""
        if getattr(self, "_panel", None) is None:
            raise ParameterError("PeakEnsemble: call fit before using the members")
        if self._members is None:
            self._members = cached("ensemble", self._parts, lambda: self._refits(self._panel),
                                   enabled=self.cache)
        return self._members

    def forecast(self, panel: pd.DataFrame, paths: pd.DataFrame,
                 population: pd.DataFrame | None = None, *, align: bool = True) -> pd.DataFrame:
        """Forecasts of every member: :func:`forecast` rows plus ``member``; member −1 is
        the median over the members (the point model's forecast when ``n_boot`` is 0)."""
        if population is None:
            population = population_path(panel, horizon=int(paths["year"].max()))
        if not self.members_:
            f = forecast(self.point_, panel, paths, population, align=align)
            f.insert(0, "member", -1)
            return f
        out = []
        for b, mod in enumerate(self.members_):
            rng = np.random.default_rng(self.random_state + 100_003 + b)
            p_b = perturb_paths(paths, self.drivers, rng) if self.driver_noise else paths
            f = forecast(mod, panel, p_b, population, align=align)
            if self.residuals:
                proj = f["projected"].to_numpy(dtype=bool)
                ln = f["ln_pc"].to_numpy(dtype=float).copy()
                for r, idx in f.groupby("region").indices.items():
                    fi = idx[proj[idx]]
                    e = _block_bootstrap(self.noise_[r], len(fi), self.block, rng)
                    ln[fi] += np.cumsum(e) if self.noise_walk_ else e
                f["ln_pc"] = ln
                f.loc[proj, "emissions_mt"] = (np.exp(ln[proj]) * f.loc[proj, "population_10k"]
                                               .to_numpy(dtype=float) / 100.0)
            f.insert(0, "member", b)
            out.append(f)
        mem = pd.concat(out, ignore_index=True)
        med = (mem.groupby(["region", "year"], sort=True)
               .agg(projected=("projected", "first"), population_10k=("population_10k", "first"),
                    emissions_mt=("emissions_mt", "median")).reset_index())
        med["ln_pc"] = np.log(med["emissions_mt"] * 100.0 / med["population_10k"])
        med.insert(0, "member", -1)
        return pd.concat([med[mem.columns], mem], ignore_index=True)


def peak_probabilities(members: pd.DataFrame, *, start: int | None = None, early: int = 2025,
                       target: int = 2030) -> pd.DataFrame:
    """P(peak ≤ early), P(peak ≤ target) and the median peak year per region, over members ≥ 0.

    ``members`` is :meth:`PeakEnsemble.forecast` output; the point (member -1) is
    excluded unless it is the only one. A member that has not peaked counts as not ≤ target.
    """
    m = members[members["member"] >= 0] if (members["member"] >= 0).any() else members
    rows = []
    for (member, region), g in m.sort_values("year").groupby(["member", "region"], sort=True):
        if start is not None:
            g = g[g["year"] >= start]
        p = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
        rows.append((member, region, p.peak_year, p.peaked))
    t = pd.DataFrame(rows, columns=["member", "region", "peak_year", "peaked"])
    t["by_early"] = t["peaked"] & (t["peak_year"] <= early)
    t["by_target"] = t["peaked"] & (t["peak_year"] <= target)
    t["peak_year_or_nan"] = t["peak_year"].where(t["peaked"])
    out = t.groupby("region").agg(
        p_by_2025=("by_early", "mean"), p_by_2030=("by_target", "mean"),
        median_peak_year=("peak_year_or_nan", "median"), n_members=("member", "nunique"),
    ).reset_index()
    out.attrs["early"], out.attrs["target"] = early, target
    return out


def forecast_band(members: pd.DataFrame, q: tuple[float, float] = (0.05, 0.95)) -> pd.DataFrame:
    """Point forecast (member −1: the members' median) and quantile band (Mt CO2) per
    region and year over the members."""
    boot = members[members["member"] >= 0]
    point = members[members["member"] == -1].set_index(["region", "year"])["emissions_mt"]
    if boot.empty:
        boot = members
    qs = boot.groupby(["region", "year"])["emissions_mt"].quantile(list(q)).unstack()
    qs.columns = ["lo_mt", "hi_mt"]
    out = qs.join(point.rename("point_mt"), how="left").reset_index()
    proj = members.drop_duplicates(["region", "year"]).set_index(["region", "year"])["projected"]
    out["projected"] = proj.reindex(pd.MultiIndex.from_frame(out[["region", "year"]])).to_numpy()
    return out


def national_band(members: pd.DataFrame, q: tuple[float, float] = (0.05, 0.95)) -> pd.DataFrame:
    """National (sum over regions) median curve and quantile band per year over the members."""
    tot = members.groupby(["member", "year"])["emissions_mt"].sum().reset_index()
    boot = tot[tot["member"] >= 0] if (tot["member"] >= 0).any() else tot
    qs = boot.groupby("year")["emissions_mt"].quantile([q[0], 0.5, q[1]]).unstack()
    qs.columns = ["lo_mt", "point_mt", "hi_mt"]
    return qs[["lo_mt", "hi_mt", "point_mt"]].reset_index()


def chapter_inputs(dataset: str = "teaching", data_dir: str | os.PathLike[str] | None = None
                   ) -> dict[str, Any]:
    """Panel, drivers, targets and population projection for the chapter on ``dataset``.

    ``"teaching"``: the teaching panel 2005–2021, the five key drivers, the teaching
    targets. ``"ceads"``: the real panel over its whole span with the drivers that cover
    every year, the provincial targets and the observed population
    (:func:`carbonlab.data.panel.forecasting_inputs`).

    Returns a dict with keys ``panel, drivers, targets, population_projection, note``.
    """
    from carbonlab.data import check_dataset, load_panel, load_targets

    check_dataset(dataset)
    if dataset == "teaching":
        return {"panel": load_panel("teaching"), "drivers": KEY_DRIVERS,
                "targets": load_targets("teaching"), "population_projection": None,
                "note": "teaching panel (synthetic), five key drivers, teaching targets"}
    from carbonlab.data import panel as real_panel

    return real_panel.forecasting_inputs(data_dir)


def chosen_model(dataset: str = "teaching", *, seed: int = 0) -> Selection:
    """Chapter 3's rolling-origin selection on ``dataset``'s forecasting inputs (cached).

    The same call in chapter 3, chapter 4, the front page and the region pages, so they
    agree on the forecaster: ``chosen_model(dataset).winner``.
    """
    inputs = chapter_inputs(dataset)
    return select(inputs["panel"], inputs["drivers"], random_state=seed)


def resolve_model(model: str, selection: Selection) -> str:
    """``"auto"`` → the selection's winner; any other registry name is kept (checked)."""
    if model == "auto":
        return selection.winner
    if model not in PANEL_MODELS:
        get_model(model)  # unknown names: the registry's one-line error
        raise ParameterError(f"model: {model!r} needs a univariate window; on the panel use "
                             f"auto or one of {', '.join(PANEL_MODELS)}")
    return model


@dataclass
class Outlook:
    """Who peaks when on a scenario: the book's headline answer (stable fields).

    ``table``: one row per region — ``region, peak_year, peak_mt, peaked, end_gap_pct,
    last_growth_pct, class`` (of the median forecast) and ``p_by_2025, p_by_2030,
    median_peak_year, n_members`` (over the ensemble members);
    ``band``: region, year, lo_mt, hi_mt, point_mt, projected (5–95 % band, median point);
    ``national``: year, emissions_mt (median of the members' 30-region sums);
    ``national_band``: year, lo_mt, hi_mt, point_mt; ``national_peak``: its
    :class:`PeakResult`; ``counts``: regions per class (:data:`CLASSES`);
    ``model``: the registry name forecast with; ``selection``: chapter 3's rolling-origin
    :class:`~carbonlab.models.Selection` on the same data (its ``winner`` is the model when
    ``model="auto"``); ``note``: one line naming data, model, ensemble and scenario.
    The inputs are kept for further analysis: ``panel``, ``drivers``, ``targets``,
    ``scenario``, driver ``paths``, ``population``, the fitted ``ensemble`` and its
    ``members`` (member −1 is the median). :meth:`region` gives one region's answer,
    :meth:`adjustment_model` the model for :func:`peak_adjustment`; ``naive`` whether the
    forecaster is a naive baseline (:data:`~carbonlab.models.NAIVE`) that ignores the drivers.
    """

    table: pd.DataFrame
    national: pd.DataFrame
    national_peak: PeakResult
    counts: pd.Series
    note: str
    panel: pd.DataFrame
    drivers: tuple[str, ...]
    targets: pd.DataFrame | None
    scenario: Any
    paths: pd.DataFrame
    population: pd.DataFrame
    ensemble: PeakEnsemble
    members: pd.DataFrame
    model: str = ""
    selection: Selection | None = None
    band: pd.DataFrame = field(default_factory=pd.DataFrame)
    national_band: pd.DataFrame = field(default_factory=pd.DataFrame)
    _adjustment: tuple[str, Any] | None = field(default=None, init=False, repr=False)

    @property
    def naive(self) -> bool:
        """True when the forecaster is a naive baseline that ignores the drivers."""
        return self.model in NAIVE

    def adjustment_model(self) -> tuple[str, Any]:
        """(name, fitted model) for the inverse problem: the forecaster if it responds to the
        drivers, otherwise the best driver-based model of the selection (the naive baselines
        persistence and drift ignore the drivers, so no driver change could move them).
        Fitted once per outlook."""
        if self._adjustment is None:
            if not self.naive:
                self._adjustment = (self.model, self.ensemble.point_)
            else:
                name = self.selection.best_driver_model if self.selection is not None else "fe"
                self._adjustment = (name, PanelModel(
                    name, self.drivers, random_state=self.ensemble.random_state).fit(self.panel))
        return self._adjustment

    def region(self, region: str) -> dict[str, Any]:
        """One region's answer: ``region, class, peak_year, peak_mt, peaked, p_by_2025,
        p_by_2030, band_2030_mt`` (5–95 % in 2030), ``peak`` (:class:`PeakResult`),
        ``median_peak_year`` (of the members that peak), ``already`` (class
        :data:`CLASS_BEFORE`, or maximum before the last data year with P(peak ≤ 2025) ≥
        :data:`ALREADY_P`), ``disagree`` (the median path's peak year differs from the
        members' median peak year, or its peak lies below the 2030 band's top) and
        ``caveat``: a sentence saying what the median path does and where the members
        disagree (empty when the path has not peaked, or has already peaked and the members
        agree)."""
        r = resolve_region(region)
        rows = self.table[self.table["region"] == r]
        if rows.empty:
            raise ParameterError(f"region: {r!r} is not in the outlook")
        row = rows.iloc[0]
        b = self.band[(self.band["region"] == r)]
        last = b[b["year"] == b["year"].max()].iloc[0]
        pt = self.members[(self.members["member"] == -1) & (self.members["region"] == r)]
        pk = find_peak(pt["year"].to_numpy(), pt["emissions_mt"].to_numpy())
        t_last = int(self.panel["year"].max())
        p25, p30 = float(row["p_by_2025"]), float(row["p_by_2030"])
        med = float(row["median_peak_year"]) if "median_peak_year" in row else float("nan")
        lo, hi = float(last["lo_mt"]), float(last["hi_mt"])
        already = bool(row["class"] == CLASS_BEFORE
                       or (pk.peaked and pk.peak_year < t_last and p25 >= ALREADY_P))
        above = pk.peaked and hi > pk.peak_value
        disagree = bool(pk.peaked and (np.isnan(med) or abs(med - pk.peak_year) >= 1 or above))
        caveat = ""
        if pk.peaked and not already:
            caveat = (f"The median path's maximum is in {pk.peak_year}"
                      + (", the last data year, so the data do not yet show a decline"
                         if pk.peak_year == t_last else "")
                      + f"; P(peak ≤ 2025) = {p25:.2f} and P(peak ≤ 2030) = {p30:.2f} across "
                      "the ensemble members.")
        if disagree:
            caveat += ((" " if caveat else "") + "The median path and the members disagree: "
                       + (f"the members that peak do so in {med:.0f} (median)"
                          if not np.isnan(med) else "no member peaks by 2030")
                       + (f", and the 2030 band ({lo:,.0f}–{hi:,.0f} Mt CO2) reaches above "
                          f"the path's peak ({pk.peak_value:,.0f} Mt CO2)" if above else "")
                       + ".")
        return {"region": r, "class": row["class"], "peak_year": int(row["peak_year"]),
                "peak_mt": float(row["peak_mt"]), "peaked": bool(row["peaked"]),
                "p_by_2025": p25, "p_by_2030": p30, "band_2030_mt": (lo, hi), "peak": pk,
                "median_peak_year": med, "already": already, "disagree": disagree,
                "caveat": caveat}


def outlook(dataset: str = "teaching", *, model: str = "auto", n_boot: int = 50, seed: int = 0,
            scenario: str = "baseline") -> Outlook:
    """Forecast every region on ``scenario`` with a (cached) ensemble and classify.

    ``model="auto"`` forecasts with chapter 3's rolling-origin winner on the same data
    (:func:`chosen_model`); a registry name overrides it. The forecast chapter, the front
    page and the region pages all call this, so they quote the same numbers and share the
    cache.
    """
    from carbonlab import scenarios

    inputs = chapter_inputs(dataset)
    panel, drivers = inputs["panel"], tuple(inputs["drivers"])
    selection = select(panel, drivers, random_state=seed)
    name = resolve_model(model, selection)
    sc = scenarios.load_scenario(scenario)
    paths = scenarios.driver_paths(panel, sc, drivers=list(drivers), targets=inputs["targets"])
    population = scenarios.population_path(panel, projection=inputs["population_projection"])
    ens = PeakEnsemble(name, drivers=drivers, n_boot=n_boot, random_state=seed).fit(panel)
    cols = ["region", "year", "emissions_mt", "population_10k", *drivers]
    members = cached("members", [panel[cols].sort_values(["region", "year"], ignore_index=True),
                                 paths, population, {"model": name, "drivers": list(drivers),
                                                     "n_boot": n_boot, "seed": seed}],
                     lambda: ens.forecast(panel, paths, population))
    point = members[members["member"] == -1]
    table = peak_table(point).merge(peak_probabilities(members), on="region")
    nband = national_band(members)
    nat = nband.rename(columns={"point_mt": "emissions_mt"})[["year", "emissions_mt"]]
    counts = table["class"].value_counts().reindex(list(CLASSES), fill_value=0)
    how = "chapter 3's rolling-origin winner" if model == "auto" else "chosen by the reader"
    note = (f"{inputs['note']}; model {MODEL_LABELS[name]} ({how}), {n_boot} ensemble members, "
            f"scenario {sc.name}")
    return Outlook(table, nat, find_peak(nat["year"], nat["emissions_mt"]), counts, note,
                   panel, drivers, inputs["targets"], sc, paths, population, ens, members,
                   model=name, selection=selection, band=forecast_band(members),
                   national_band=nband)


# --------------------------------------------------------------------------- inverse problem


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


# --------------------------------------------------------------------------- backtest


def backtest_peaks(
    panel: pd.DataFrame,
    cutoffs: Iterable[int],
    *,
    model: Any = "fe",
    drivers: tuple[str, ...] = KEY_DRIVERS,
    scenario: Scenario | str = "trend",
    fixed_effects: str = "demean",
    random_state: int = 0,
    align: bool = True,
    n_boot: int = 0,
    q: tuple[float, float] = (0.05, 0.95),
    cache: bool = False,
) -> pd.DataFrame:
    """Score peak calls and bands made at cutoff years against what the data later showed.

    For each cutoff ``T``: fit on years ≤ T, project drivers with ``scenario`` (default
    ``trend``: the moving-average rule, no targets — a forecaster at T knows no later
    data) and population by its rule to the panel's last year ``E``, and call the peak
    on history ≤ T + forecast T+1…E. The truth is :func:`find_peak` on the observed
    series to E. ``held`` is True when the called ``peaked`` flag matches the truth and,
    for peaked series, the peak year is within one year.

    Returns one row per cutoff and region: ``cutoff, region, called_peaked,
    called_year, true_peaked, true_year, held, mape_pct`` (mean absolute % error of the
    forecast T+1…E). With ``n_boot`` > 0 the call comes from a :class:`PeakEnsemble`'s
    median and three columns are added: ``p_peaked`` (share of members that peaked by E),
    ``brier`` (``(p_peaked − true_peaked)²``) and ``covered_pct`` (share of the observed
    years T+1…E inside the ``q`` band). With ``cache`` the table is kept in the
    content-keyed cache (panel content, the scenario's driver paths, every parameter).
    """
    from carbonlab.scenarios import load_scenario

    cutoffs = [int(T) for T in cutoffs]
    end = int(panel["year"].max())
    for T in cutoffs:
        if not int(panel["year"].min()) + 3 <= T < end:
            raise ParameterError(f"cutoffs: {T} must leave ≥ 4 training years and ≥ 1 test year (data to {end})")
    sc = load_scenario(scenario) if isinstance(scenario, str) else scenario
    paths = {T: driver_paths(panel[panel["year"] <= T], sc, drivers=list(drivers), horizon=end)
             for T in cutoffs}
    cols = ["region", "year", "emissions_mt", "population_10k", *drivers]
    mod = model if isinstance(model, str) else model.get_params()
    parts = [panel[cols].sort_values(["region", "year"]).reset_index(drop=True),
             [paths[T] for T in cutoffs],
             {"cutoffs": cutoffs, "model": mod, "drivers": list(drivers), "fe": fixed_effects,
              "seed": random_state, "align": align, "n_boot": n_boot, "q": list(q)}]
    return cached("backtest", parts, lambda: _backtest(panel, paths, model, drivers, fixed_effects,
                                                       random_state, align, n_boot, q),
                  enabled=cache)


def _backtest(panel: pd.DataFrame, paths: dict[int, pd.DataFrame], model: Any,
              drivers: tuple[str, ...], fixed_effects: str, random_state: int, align: bool,
              n_boot: int, q: tuple[float, float]) -> pd.DataFrame:
    truth = {r: find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
             for r, g in panel.sort_values("year").groupby("region")}
    obs = panel.set_index(["region", "year"])["emissions_mt"]
    rows = []
    for T, pth in paths.items():
        train = panel[panel["year"] <= T]
        if n_boot:
            ens = PeakEnsemble(model, drivers, n_boot, fixed_effects, random_state,
                               cache=False).fit(train)
            mem = ens.forecast(train, pth, align=align)
        else:
            mod = PanelModel(model, drivers, fixed_effects, random_state).fit(train)
            mem = forecast(mod, train, pth, align=align).assign(member=-1)
        fc = mem[mem["member"] == -1]
        band = forecast_band(mem, q).set_index(["region", "year"]) if n_boot else None
        for r, g in fc.sort_values("year").groupby("region"):
            p = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
            t = truth[r]
            fut = g[g["projected"]]
            keys = list(zip(fut["region"], fut["year"], strict=True))
            actual = obs.reindex(keys).to_numpy()
            mape = float(np.mean(np.abs(fut["emissions_mt"].to_numpy() / actual - 1)) * 100)
            held = (p.peaked == t.peaked) and (not t.peaked or abs(p.peak_year - t.peak_year) <= 1)
            row = {"cutoff": T, "region": r, "called_peaked": p.peaked,
                   "called_year": p.peak_year, "true_peaked": t.peaked,
                   "true_year": t.peak_year, "held": bool(held), "mape_pct": mape}
            if n_boot:
                mm = mem[(mem["member"] >= 0) & (mem["region"] == r)]
                pk = [find_peak(h["year"].to_numpy(), h["emissions_mt"].to_numpy()).peaked
                      for _, h in mm.sort_values("year").groupby("member")]
                pp = float(np.mean(pk))
                b = band.reindex(keys)
                inside = (actual >= b["lo_mt"].to_numpy()) & (actual <= b["hi_mt"].to_numpy())
                row.update({"p_peaked": pp, "brier": (pp - float(t.peaked)) ** 2,
                            "covered_pct": 100 * float(np.mean(inside))})
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- plots


def plot_region(band: pd.DataFrame, region: str, *, paths: pd.DataFrame | None = None,
                drivers: Sequence[str] = KEY_DRIVERS, peak: PeakResult | None = None,
                axes: Any = None) -> Any:
    """History, point forecast, ensemble band and peak of one region (Mt CO2); with
    ``paths``, the standardised driver paths in a second panel.

    ``axes``: one Axes, or two with ``paths``; new ones when None. Returns the array of Axes.
    """
    region = resolve_region(region)
    b = band[band["region"] == region].sort_values("year")
    ncols = 2 if paths is not None else 1
    if axes is None:
        _, axes = new_figure(1, ncols, figsize=(11 if ncols == 2 else 7, 4.2), squeeze=False)
    axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
    if len(axes) != ncols:
        raise ParameterError(f"axes: plot_region needs {ncols} Axes "
                             f"({'with' if paths is not None else 'without'} paths), got {len(axes)}")
    ax = axes[0]
    h, f = b[~b["projected"]], b[b["projected"]]
    ax.plot(h["year"], h["point_mt"], color=PALETTE[7], label="history")
    ax.fill_between(f["year"], f["lo_mt"], f["hi_mt"], color=PALETTE[0], alpha=0.25, label="ensemble 5–95 %")
    ax.plot(np.r_[h["year"].iloc[-1:], f["year"]], np.r_[h["point_mt"].iloc[-1:], f["point_mt"]],
            color=PALETTE[0], label="forecast")
    if peak is not None:
        ax.plot([peak.peak_year], [peak.peak_value], "o", color=PALETTE[1],
                label=f"peak {peak.peak_year}" + ("" if peak.peaked else " (not peaked)"))
    ax.set(title=region, xlabel="year", ylabel="emissions (Mt CO2)")
    ax.legend()
    if paths is not None:
        ax2 = axes[1]
        p = paths[paths["region"] == region].sort_values("year")
        for i, d in enumerate(drivers):
            v = p[d].to_numpy(dtype=float)
            z = (v - v[~p["projected"].to_numpy()].mean()) / (v[~p["projected"].to_numpy()].std() or 1)
            ax2.plot(p["year"], z, color=PALETTE[i % len(PALETTE)], label=d)
        ax2.axvline(p.loc[~p["projected"], "year"].max(), color="k", lw=0.8, ls=":")
        ax2.set(title="scenario inputs (standardised on history)", xlabel="year", ylabel="z-score")
        ax2.legend(ncols=2)
    return axes


def plot_classes(table: pd.DataFrame, probs: pd.DataFrame | None = None, ax: Any = None) -> Any:
    """Peak year per region, coloured by class; P(peak ≤ 2030) as text when ``probs`` is given.
    Returns the Axes."""
    t = table.sort_values(["peak_year", "region"]).reset_index(drop=True)
    colors = CLASS_COLORS
    if ax is None:
        _, ax = new_figure(figsize=(7, 7.5))
    y = np.arange(len(t))
    ax.barh(y, t["peak_year"] - t["peak_year"].min() + 1, left=t["peak_year"].min() - 1,
            color=[colors[c] for c in t["class"]])
    ax.set_yticks(y, t["region"])
    if probs is not None:
        pmap = probs.set_index("region")["p_by_2030"]
        for i, r in enumerate(t["region"]):
            ax.text(t["peak_year"].iloc[i] + 0.3, i, f"{pmap.get(r, np.nan):.2f}",
                    va="center", fontsize=9)
        ax.set_xlim(right=t["peak_year"].max() + 3.0)  # room for the labels inside the axes
        ax.text(1.0, 1.0, "labels: P(peak ≤ 2030)", transform=ax.transAxes, ha="right",
                va="bottom", fontsize=9)
    for c, col in colors.items():
        ax.barh([np.nan], [np.nan], color=col, label=c)
    ax.set(xlabel="peak year (not peaked: last year)", title="peak year and class per region")
    year_axis(ax)
    ax.legend(loc="lower right")
    return ax


def plot_growth(growth: pd.DataFrame, ax: Any = None) -> Any:
    """Annual growth (%) of the laggards, one line per region (Table 9 as a figure); the Axes."""
    if ax is None:
        _, ax = new_figure()
    for colour, (r, row) in zip(palette(len(growth)), growth.iterrows(), strict=True):
        ax.plot(growth.columns, row.to_numpy(), marker="o", color=colour, label=r)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="year", ylabel="growth (%)", title="laggards: emissions growth")
    year_axis(ax, step=1)
    legend_outside(ax)  # one line per laggard: the legend beside the axes, off the data
    return ax


def plot_national(nat: pd.DataFrame, peak: PeakResult, band: pd.DataFrame | None = None,
                  ax: Any = None) -> Any:
    """The national (30-province) curve with its peak (Mt CO2); optional band columns
    lo_mt/hi_mt. Returns the Axes."""
    if ax is None:
        _, ax = new_figure()
    ax.plot(nat["year"], nat["emissions_mt"], color=PALETTE[0], label="sum of 30 provinces")
    if band is not None:
        ax.fill_between(band["year"], band["lo_mt"], band["hi_mt"], color=PALETTE[0], alpha=0.2,
                        label="ensemble 5–95 %")
    ax.plot([peak.peak_year], [peak.peak_value], "o", color=PALETTE[1],
            label=f"peak {peak.peak_year}" + ("" if peak.peaked else " (not peaked)"))
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)", title="national emissions")
    ax.legend()
    return ax


def plot_adjustment(res: AdjustmentResult, ax: Any = None) -> Any:
    """Baseline vs adjusted emissions (Mt CO2) for the inverse problem's region; the Axes."""
    if ax is None:
        _, ax = new_figure()
    ax.plot(res.base["year"], res.base["emissions_mt"], color=PALETTE[1], label="scenario")
    ax.plot(res.adjusted["year"], res.adjusted["emissions_mt"], color=PALETTE[2], ls="--",
            label="adjusted" + ("" if res.feasible else " (best found, infeasible)"))
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)", title=f"{res.region}: what it takes to peak by {res.year}")
    ax.legend()
    return ax
