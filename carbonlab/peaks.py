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

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from carbonlab._util import DataError, ParameterError, atomic_path, repo_root
from carbonlab.data import log_emissions_per_capita
from carbonlab.models import PanelModel
from carbonlab.plotting import PALETTE, new_figure
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
    "backtest_peaks",
    "cache_dir",
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

    def __str__(self) -> str:
        if self.peaked:
            return (f"peaked in {self.peak_year} at {self.peak_value:,.1f} "
                    f"({self.peak_class}; last value {100 * self.end_gap:.1f} % below the peak)")
        return (f"not peaked: highest value {self.peak_value:,.1f} in {self.peak_year}, "
                f"last-year growth {100 * self.last_growth:+.2f} %")

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


def cache_dir() -> Path:
    """Cache folder: ``$CARBONLAB_CACHE_DIR`` or ``<repo>/.cache``."""
    return Path(os.environ.get("CARBONLAB_CACHE_DIR") or repo_root() / ".cache")


def _panel_hash(panel: pd.DataFrame, cols: Sequence[str]) -> str:
    h = pd.util.hash_pandas_object(panel[list(cols)].sort_values(["region", "year"]), index=False)
    return hashlib.sha256(h.to_numpy().tobytes()).hexdigest()


class PeakEnsemble:
    """A point model plus ``n_boot`` bootstrap refits, cached on disk.

    Bootstrap: within each region the years are resampled with replacement
    (stratified, so every region keeps its fixed effect); refit ``b`` uses seed
    ``random_state + 1 + b``. The fitted models are stored with joblib under
    :func:`cache_dir` keyed by a hash of the panel's columns used and all parameters.

    Parameters
    ----------
    model : str or estimator
        As :class:`PanelModel`'s ``estimator``.
    drivers, fixed_effects : as :class:`PanelModel`.
    n_boot : int
        Number of bootstrap refits (0 = point model only).
    random_state : int
    cache : bool
        Read/write the on-disk cache.
    """

    def __init__(self, model: Any = "bpnn", drivers: tuple[str, ...] = KEY_DRIVERS,
                 n_boot: int = 50, fixed_effects: str = "demean", random_state: int = 0,
                 cache: bool = True) -> None:
        if not isinstance(n_boot, int | np.integer) or n_boot < 0:
            raise ParameterError(f"n_boot: must be a non-negative integer, got {n_boot!r}")
        self.model = model
        self.drivers = tuple(drivers)
        self.n_boot = int(n_boot)
        self.fixed_effects = fixed_effects
        self.random_state = int(random_state)
        self.cache = cache

    def _key(self, panel: pd.DataFrame) -> str:
        import sklearn

        model = self.model if isinstance(self.model, str) else repr(self.model)
        params = json.dumps({"model": model, "drivers": self.drivers, "n_boot": self.n_boot,
                             "fe": self.fixed_effects, "seed": self.random_state,
                             "sklearn": sklearn.__version__, "v": 1}, sort_keys=True)
        cols = ["region", "year", "emissions_mt", "population_10k", *self.drivers]
        return hashlib.sha256((params + _panel_hash(panel, cols)).encode()).hexdigest()[:24]

    def _member(self, seed: int) -> PanelModel:
        return PanelModel(self.model, self.drivers, self.fixed_effects, seed)

    def fit(self, panel: pd.DataFrame) -> PeakEnsemble:
        """Fit (or load from the cache) the point model and the bootstrap refits."""
        import joblib

        path = cache_dir() / "peaks" / f"ensemble-{self._key(panel)}.joblib"
        self.cache_path_ = path
        if self.cache and path.exists():
            try:
                self.point_, self.members_ = joblib.load(path)
                self.from_cache_ = True
                return self
            except Exception:  # a corrupt cache entry is refitted, not trusted
                pass
        panel = panel.sort_values(["region", "year"], ignore_index=True)
        point = self._member(self.random_state).fit(panel)
        groups = [g.index.to_numpy() for _, g in panel.groupby("region", sort=True)]
        members = []
        for b in range(self.n_boot):
            rng = np.random.default_rng(self.random_state + 1 + b)
            idx = np.concatenate([rng.choice(ix, size=len(ix), replace=True) for ix in groups])
            members.append(self._member(self.random_state + 1 + b).fit(panel.loc[idx]))
        self.point_, self.members_ = point, members
        self.from_cache_ = False
        if self.cache:
            with atomic_path(path) as tmp:
                joblib.dump((point, members), tmp)
        return self

    def forecast(self, panel: pd.DataFrame, paths: pd.DataFrame,
                 population: pd.DataFrame | None = None, *, align: bool = True) -> pd.DataFrame:
        """Forecasts of every member: :func:`forecast` rows plus ``member`` (-1 = point model)."""
        if population is None:
            population = population_path(panel, horizon=int(paths["year"].max()))
        out = []
        for m, mod in [(-1, self.point_), *enumerate(self.members_)]:
            f = forecast(mod, panel, paths, population, align=align)
            f.insert(0, "member", m)
            out.append(f)
        return pd.concat(out, ignore_index=True)


def peak_probabilities(members: pd.DataFrame, *, start: int | None = None, early: int = 2025,
                       target: int = 2030) -> pd.DataFrame:
    """P(peak ≤ early), P(peak ≤ target) and the median peak year per region, over members ≥ 0.

    ``members`` is :meth:`PeakEnsemble.forecast` output; the point model (member -1) is
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
    """Point forecast and quantile band (Mt CO2) per region and year over the members."""
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
    """National (sum over regions) point curve and quantile band per year over the members."""
    tot = members.groupby(["member", "year"])["emissions_mt"].sum().reset_index()
    point = tot[tot["member"] == -1].set_index("year")["emissions_mt"].rename("point_mt")
    boot = tot[tot["member"] >= 0] if (tot["member"] >= 0).any() else tot
    qs = boot.groupby("year")["emissions_mt"].quantile(list(q)).unstack()
    qs.columns = ["lo_mt", "hi_mt"]
    return qs.join(point).reset_index()


def chapter_inputs(dataset: str = "teaching", data_dir: str | os.PathLike[str] | None = None
                   ) -> dict[str, Any]:
    """Panel, drivers, targets and population projection for the chapter on ``dataset``.

    ``"teaching"``: the teaching panel 2005–2021, the five key drivers, the teaching
    targets. ``"ceads"``: CEADs emissions with the drivers the real files carry
    (``fossil`` and ``gas`` proxies, ``urban``) from the first year ≥ 2005 in which all
    are present (the ``fossil`` proxy is missing in 2006) to 2017; no targets (the
    ``fossil`` proxy is the non-fossil share of *power generation*, not comparable with
    the plans' energy-consumption targets); observed population to 2019 as projection.

    Returns a dict with keys ``panel, drivers, targets, population_projection, note``.
    """
    from carbonlab.data import check_dataset, load_panel, load_targets

    check_dataset(dataset)
    if dataset == "teaching":
        return {"panel": load_panel("teaching"), "drivers": KEY_DRIVERS,
                "targets": load_targets("teaching"), "population_projection": None,
                "note": "teaching panel (synthetic), five key drivers, teaching targets"}
    from carbonlab.data import real

    panel = load_panel("ceads", data_dir=data_dir)
    drivers = tuple(d for d in ("fossil", "gas", "urban") if d in panel.columns)
    ok = panel[list(drivers)].notna().all(axis=1).groupby(panel["year"]).all()
    bad = ok.index[~ok.to_numpy()]
    start = max(2005, int(bad.max()) + 1 if len(bad) else 2005)
    panel = panel[panel["year"] >= start].reset_index(drop=True)
    return {"panel": panel, "drivers": drivers, "targets": None,
            "population_projection": real.population(data_dir=data_dir),
            "note": f"CEADs {start}-{int(panel['year'].max())}, drivers {', '.join(drivers)} "
                    "(fossil, gas are proxies), no targets"}


@dataclass
class Outlook:
    """Who peaks by 2025 / 2030 on a scenario: the book's headline answer.

    ``table``: region, peak_year, peak_mt, peaked, class, p_by_2025, p_by_2030, …;
    ``national``: year, emissions_mt (sum of the regions' point forecasts and history);
    ``national_peak``: its :class:`PeakResult`; ``counts``: regions per class. The
    inputs behind them are kept for further analysis: ``panel``, ``drivers``,
    ``scenario``, driver ``paths``, ``population``, the fitted ``ensemble`` and its
    ``members`` (member −1 is the point forecast).
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


def outlook(dataset: str = "teaching", *, model: str = "bpnn", n_boot: int = 50, seed: int = 0,
            scenario: str = "baseline") -> Outlook:
    """Forecast every region on ``scenario`` with a (cached) bootstrap ensemble and classify.

    The forecast chapter and the front page both call this, so they quote the same
    numbers (and share the on-disk cache of the fitted ensemble).
    """
    from carbonlab import scenarios

    inputs = chapter_inputs(dataset)
    panel, drivers = inputs["panel"], tuple(inputs["drivers"])
    sc = scenarios.load_scenario(scenario)
    paths = scenarios.driver_paths(panel, sc, drivers=list(drivers), targets=inputs["targets"])
    population = scenarios.population_path(panel, projection=inputs["population_projection"])
    ens = PeakEnsemble(model, drivers=drivers, n_boot=n_boot, random_state=seed).fit(panel)
    members = ens.forecast(panel, paths, population)
    point = members[members["member"] == -1]
    table = peak_table(point).merge(peak_probabilities(members), on="region")
    nat = national_curve(point)
    counts = table["class"].value_counts().reindex(list(CLASSES), fill_value=0)
    note = f"{inputs['note']}; model {model}, {n_boot} bootstrap refits, scenario {sc.name}"
    return Outlook(table, nat, find_peak(nat["year"], nat["emissions_mt"]), counts, note,
                   panel, drivers, inputs["targets"], sc, paths, population, ens, members)


# --------------------------------------------------------------------------- inverse problem


@dataclass
class AdjustmentResult:
    """Outcome of :func:`peak_adjustment`.

    ``delta`` holds the driver changes in ``year`` (driver units), ``z`` the same in
    units of each driver's historical s.d. (``norm = ||z||_2``); ``feasible`` says whether
    the region peaks by ``year`` with them; ``message`` states the outcome in one line.
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


def peak_adjustment(
    model: Any,
    panel: pd.DataFrame,
    paths: pd.DataFrame,
    region: str,
    *,
    drivers: Sequence[str] = ("lcar", "tertrate", "gas"),
    then: Sequence[str] = ("fossil",),
    population: pd.DataFrame | None = None,
    year: int = HORIZON,
    max_sd: float = 3.0,
    margin: float = 1e-4,
    align: bool = True,
) -> AdjustmentResult:
    """The smallest change of ``drivers`` by ``year`` that makes ``region`` peak by ``year``.

    Each driver ``d`` changes by ``delta_d`` in ``year``, ramped linearly from the last data
    year ``t0`` (``delta_d (t - t0)/(year - t0)``). The norm is the weighted L2 norm
    ``||z||_2`` with ``z_d = delta_d / s_d`` and ``s_d`` the s.d. of ``d`` in the region's
    history. Constraints: ``|z_d| <= max_sd``, shares stay in [0, 1] in every year, and the
    emissions growth in ``year`` is at most ``-margin`` (so ``E_year < E_{year-1}``: the
    peak is at most ``year - 1``). Solved by a bracketing search along the steepest
    descent direction, then polished with SLSQP.

    With ``then`` non-empty the study's ordering is used: ``drivers`` first (cars, tertiary
    share, gas share); only if no change within the bounds suffices are the drivers in
    ``then`` (the non-fossil share) added (stage 2). If even that fails the result has
    ``feasible=False``, the change that gets closest (lowest final-year growth) and a
    message saying so; no exception is raised.
    """
    region = resolve_region(region)
    drivers, then = list(drivers), list(then)
    for d in [*drivers, *then]:
        if d not in DRIVERS:
            raise ParameterError(f"drivers: unknown driver {d!r}")
        if d not in paths.columns:
            raise ParameterError(f"drivers: {d!r} is not in the scenario paths")
    if not drivers:
        raise ParameterError("drivers: give at least one driver to adjust")
    if max_sd <= 0:
        raise ParameterError(f"max_sd: must be positive, got {max_sd}")
    rp = paths[paths["region"] == region].sort_values("year")
    if rp.empty:
        raise ParameterError(f"region: {region!r} is not in the scenario paths")
    hist = rp[~rp["projected"]]
    t0 = int(hist["year"].max())
    if not t0 < year <= int(rp["year"].max()):
        raise ParameterError(f"year: {year} must be after {t0} and within the paths (to {int(rp['year'].max())})")
    rpan = panel[panel["region"] == region]
    if population is None:
        population = population_path(panel, horizon=int(paths["year"].max()))
    pop = population[population["region"] == region].set_index("year")["population_10k"]
    fut = rp[rp["projected"] & (rp["year"] <= year)].reset_index(drop=True)
    fyears = fut["year"].to_numpy()
    ramp = np.minimum(1.0, (fyears - t0) / (year - t0))
    popv = pop.reindex(fyears).to_numpy(dtype=float)
    off = _offsets(model, rpan)[region] if align else 0.0
    hist_e = rpan.sort_values("year")["emissions_mt"].to_numpy(dtype=float)
    hist_y = rpan.sort_values("year")["year"].to_numpy()

    def emissions(ds: Sequence[str], delta: np.ndarray) -> np.ndarray:
        f = fut.copy()
        for d, dv in zip(ds, delta, strict=True):
            f[d] = f[d].to_numpy() + dv * ramp
        return np.exp(model.predict(f) + off) * popv / 100.0

    def growth(ds: Sequence[str], delta: np.ndarray) -> float:
        e = emissions(ds, delta)
        prev = e[-2] if len(e) > 1 else hist_e[-1]
        return float(e[-1] / prev - 1.0)

    def bounds(ds: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s, lo, hi = [], [], []
        for d in ds:
            sd = float(np.nanstd(hist[d].to_numpy(dtype=float), ddof=1))
            sd = sd if sd > 0 else float(np.nanstd(paths[d].to_numpy(dtype=float), ddof=1)) or 1.0
            lo_d, hi_d = -max_sd, max_sd
            if d in SHARE_DRIVERS:
                base = fut[d].to_numpy(dtype=float)
                lo_d = max(lo_d, float(np.max(-base / ramp)) / sd)
                hi_d = min(hi_d, float(np.min((1 - base) / ramp)) / sd)
            s.append(sd)
            lo.append(min(lo_d, 0.0))
            hi.append(max(hi_d, 0.0))
        return np.array(s), np.array(lo), np.array(hi)

    def solve(ds: Sequence[str]) -> tuple[np.ndarray, bool]:
        s, lo, hi = bounds(ds)

        def g(z: np.ndarray) -> float:
            return growth(ds, z * s) + margin

        z0 = np.zeros(len(ds))
        eps = 1e-3
        grad = np.array([(g(z0 + eps * e) - g(z0 - eps * e)) / (2 * eps) for e in np.eye(len(ds))])
        best_z, best_g = z0, g(z0)
        if np.linalg.norm(grad) > 0:
            u = -grad / np.linalg.norm(grad)
            tmax = max_sd * np.sqrt(len(ds))

            def along(t: float) -> np.ndarray:
                return np.clip(t * u, lo, hi)

            if g(along(tmax)) <= 0:
                a, b = 0.0, tmax
                for _ in range(50):
                    mid = 0.5 * (a + b)
                    a, b = (a, mid) if g(along(mid)) <= 0 else (mid, b)
                best_z, best_g = along(b), g(along(b))
            else:
                best_z, best_g = along(tmax), g(along(tmax))
        bnds = list(zip(lo, hi, strict=True))
        if best_g <= 0:
            res = optimize.minimize(lambda z: float(z @ z), best_z, jac=lambda z: 2 * z,
                                    method="SLSQP", bounds=bnds,
                                    constraints=[{"type": "ineq", "fun": lambda z: -g(z)}],
                                    options={"maxiter": 200, "ftol": 1e-10})
            if res.x is not None and g(res.x) <= 0 and res.x @ res.x < best_z @ best_z:
                best_z = np.clip(res.x, lo, hi)
            return best_z, True
        # infeasible along the direction: find the lowest growth within the bounds
        res = optimize.minimize(g, best_z, method="L-BFGS-B", bounds=bnds)
        z = np.clip(res.x, lo, hi)
        if g(z) < best_g:
            best_z = z
        if g(best_z) <= 0:  # the search found a feasible point after all: polish its norm
            return solve_from(ds, best_z, g, bnds), True
        return best_z, False

    def solve_from(ds: Sequence[str], z: np.ndarray, g: Callable[[np.ndarray], float],
                   bnds: list[tuple[float, float]]) -> np.ndarray:
        res = optimize.minimize(lambda v: float(v @ v), z, jac=lambda v: 2 * v, method="SLSQP",
                                bounds=bnds, constraints=[{"type": "ineq", "fun": lambda v: -g(v)}])
        return res.x if g(res.x) <= 0 and res.x @ res.x < z @ z else z

    base_e = emissions(drivers, np.zeros(len(drivers)))
    base_df = pd.DataFrame({"year": np.r_[hist_y, fyears], "emissions_mt": np.r_[hist_e, base_e]})
    base_peak = find_peak(base_df["year"], base_df["emissions_mt"])
    stages = [drivers] + ([drivers + [d for d in then if d not in drivers]] if then else [])
    if base_peak.peaked and base_peak.peak_year < year:
        ds, z, ok, stage = drivers, np.zeros(len(drivers)), True, 0
    else:
        stage = 0
        for ds in stages:
            stage += 1
            z, ok = solve(ds)
            if ok:
                break
    s, _, _ = bounds(ds)
    delta = z * s
    adj_e = emissions(ds, delta)
    adj_df = pd.DataFrame({"year": np.r_[hist_y, fyears], "emissions_mt": np.r_[hist_e, adj_e]})
    pk = find_peak(adj_df["year"], adj_df["emissions_mt"])
    ok = bool(ok and pk.peaked and pk.peak_year < year)
    lg = 100 * growth(ds, delta)
    levels = pd.DataFrame({"driver": ds, "base": fut[ds].iloc[-1].to_numpy(dtype=float),
                           "adjusted": fut[ds].iloc[-1].to_numpy(dtype=float) + delta,
                           "delta": delta, "z": z})
    if stage == 0:
        msg = f"{region} already peaks in {base_peak.peak_year} under the scenario; no change needed"
    elif ok:
        msg = (f"{region} peaks in {pk.peak_year} with {', '.join(ds)} changed by {year} "
               f"(norm {np.linalg.norm(z):.3f} s.d.; growth in {year} {lg:.2f} %)")
    else:
        msg = (f"infeasible: no change of {', '.join(ds)} within {max_sd} s.d. (shares in [0, 1]) "
               f"makes {region} peak by {year}; best found leaves growth {lg:.2f} % in {year}")
    return AdjustmentResult(
        region=region, year=year, drivers=tuple(ds), delta=pd.Series(delta, index=list(ds)),
        z=pd.Series(z, index=list(ds)), norm=float(np.linalg.norm(z)), feasible=ok, stage=stage,
        last_growth_pct=lg, base=base_df, adjusted=adj_df, message=msg, levels=levels,
    )


# --------------------------------------------------------------------------- backtest


def backtest_peaks(
    panel: pd.DataFrame,
    cutoffs: Iterable[int],
    *,
    model: Any = "bpnn",
    drivers: tuple[str, ...] = KEY_DRIVERS,
    scenario: Scenario | str = "trend",
    fixed_effects: str = "demean",
    random_state: int = 0,
    align: bool = True,
    cache: bool = False,
) -> pd.DataFrame:
    """Score peak calls made at cutoff years against what the data later showed.

    For each cutoff ``T``: fit on years ≤ T, project drivers with ``scenario`` (default
    ``trend``: the moving-average rule, no targets — a forecaster at T knows no later
    data) and population by its rule to the panel's last year ``E``, and call the peak
    on history ≤ T + forecast T+1…E. The truth is :func:`find_peak` on the observed
    series to E. ``held`` is True when the called ``peaked`` flag matches the truth and,
    for peaked series, the peak year is within one year.

    Returns one row per cutoff and region: ``cutoff, region, called_peaked,
    called_year, true_peaked, true_year, held, mape_pct`` (mean absolute % error of the
    forecast T+1…E). With ``cache`` the table is stored under :func:`cache_dir`, keyed by
    a hash of the panel and all parameters.
    """
    cutoffs = [int(T) for T in cutoffs]
    path = None
    if cache:
        import joblib
        import sklearn

        sc = scenario if isinstance(scenario, str) else repr(scenario)
        mod = model if isinstance(model, str) else repr(model)
        params = json.dumps([cutoffs, mod, list(drivers), sc, fixed_effects, random_state, align,
                             sklearn.__version__, 1])
        cols = ["region", "year", "emissions_mt", "population_10k", *drivers]
        key = hashlib.sha256((params + _panel_hash(panel, cols)).encode()).hexdigest()[:24]
        path = cache_dir() / "peaks" / f"backtest-{key}.joblib"
        if path.exists():
            try:
                return joblib.load(path)
            except Exception:  # a corrupt cache entry is recomputed, not trusted
                pass
    out = _backtest(panel, cutoffs, model, drivers, scenario, fixed_effects, random_state, align)
    if path is not None:
        with atomic_path(path) as tmp:
            joblib.dump(out, tmp)
    return out


def _backtest(panel: pd.DataFrame, cutoffs: list[int], model: Any, drivers: tuple[str, ...],
              scenario: Scenario | str, fixed_effects: str, random_state: int,
              align: bool) -> pd.DataFrame:
    end = int(panel["year"].max())
    truth = {r: find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
             for r, g in panel.sort_values("year").groupby("region")}
    rows = []
    for T in cutoffs:
        T = int(T)
        if not int(panel["year"].min()) + 3 <= T < end:
            raise ParameterError(f"cutoffs: {T} must leave ≥ 4 training years and ≥ 1 test year (data to {end})")
        train = panel[panel["year"] <= T]
        mod = PanelModel(model, drivers, fixed_effects, random_state).fit(train)
        paths = driver_paths(train, scenario, drivers=list(drivers), horizon=end)
        fc = forecast(mod, train, paths, align=align)
        obs = panel.set_index(["region", "year"])["emissions_mt"]
        for r, g in fc.sort_values("year").groupby("region"):
            p = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
            t = truth[r]
            fut = g[g["projected"]]
            actual = obs.reindex(list(zip(fut["region"], fut["year"], strict=True))).to_numpy()
            mape = float(np.mean(np.abs(fut["emissions_mt"].to_numpy() / actual - 1)) * 100)
            held = (p.peaked == t.peaked) and (not t.peaked or abs(p.peak_year - t.peak_year) <= 1)
            rows.append({"cutoff": T, "region": r, "called_peaked": p.peaked,
                         "called_year": p.peak_year, "true_peaked": t.peaked,
                         "true_year": t.peak_year, "held": bool(held), "mape_pct": mape})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- plots


def plot_region(band: pd.DataFrame, region: str, *, paths: pd.DataFrame | None = None,
                drivers: Sequence[str] = KEY_DRIVERS, peak: PeakResult | None = None) -> Any:
    """History, point forecast, ensemble band and peak of one region; driver paths beside it."""
    region = resolve_region(region)
    b = band[band["region"] == region].sort_values("year")
    ncols = 2 if paths is not None else 1
    fig, axes = new_figure(1, ncols, figsize=(11 if ncols == 2 else 7, 4.2), squeeze=False)
    ax = axes[0, 0]
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
        ax2 = axes[0, 1]
        p = paths[paths["region"] == region].sort_values("year")
        for i, d in enumerate(drivers):
            v = p[d].to_numpy(dtype=float)
            z = (v - v[~p["projected"].to_numpy()].mean()) / (v[~p["projected"].to_numpy()].std() or 1)
            ax2.plot(p["year"], z, color=PALETTE[i % len(PALETTE)], label=d)
        ax2.axvline(p.loc[~p["projected"], "year"].max(), color="k", lw=0.8, ls=":")
        ax2.set(title="scenario inputs (standardised on history)", xlabel="year", ylabel="z-score")
        ax2.legend(ncols=2)
    return fig


def plot_classes(table: pd.DataFrame, probs: pd.DataFrame | None = None) -> Any:
    """Peak year per region, coloured by class; P(peak ≤ 2030) as text when ``probs`` is given."""
    t = table.sort_values(["peak_year", "region"]).reset_index(drop=True)
    colors = CLASS_COLORS
    fig, ax = new_figure(figsize=(7, 7.5))
    y = np.arange(len(t))
    ax.barh(y, t["peak_year"] - t["peak_year"].min() + 1, left=t["peak_year"].min() - 1,
            color=[colors[c] for c in t["class"]])
    ax.set_yticks(y, t["region"])
    if probs is not None:
        pmap = probs.set_index("region")["p_by_2030"]
        for i, r in enumerate(t["region"]):
            ax.text(t["peak_year"].iloc[i] + 0.2, i, f"P≤2030 {pmap.get(r, np.nan):.2f}",
                    va="center", fontsize=7)
    for c, col in colors.items():
        ax.barh([np.nan], [np.nan], color=col, label=c)
    ax.set(xlabel="peak year (not peaked: last year)", title="peak year and class per region")
    ax.legend(loc="lower right")
    return fig


def plot_growth(growth: pd.DataFrame) -> Any:
    """Annual growth (%) of the laggards, one line per region (Table 9 as a figure)."""
    fig, ax = new_figure()
    for i, (r, row) in enumerate(growth.iterrows()):
        ax.plot(growth.columns, row.to_numpy(), marker="o", color=PALETTE[i % len(PALETTE)], label=r)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="year", ylabel="growth (%)", title="laggards: emissions growth")
    if len(growth):
        ax.legend(ncols=2)
    return fig


def plot_national(nat: pd.DataFrame, peak: PeakResult, band: pd.DataFrame | None = None) -> Any:
    """The national (30-province) curve with its peak; optional band columns lo_mt/hi_mt."""
    fig, ax = new_figure()
    ax.plot(nat["year"], nat["emissions_mt"], color=PALETTE[0], label="sum of 30 provinces")
    if band is not None:
        ax.fill_between(band["year"], band["lo_mt"], band["hi_mt"], color=PALETTE[0], alpha=0.2,
                        label="ensemble 5–95 %")
    ax.plot([peak.peak_year], [peak.peak_value], "o", color=PALETTE[1],
            label=f"peak {peak.peak_year}" + ("" if peak.peaked else " (not peaked)"))
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)", title="national emissions")
    ax.legend()
    return fig


def plot_adjustment(res: AdjustmentResult) -> Any:
    """Baseline vs adjusted emissions for the inverse problem's region."""
    fig, ax = new_figure()
    ax.plot(res.base["year"], res.base["emissions_mt"], color=PALETTE[1], label="scenario")
    ax.plot(res.adjusted["year"], res.adjusted["emissions_mt"], color=PALETTE[2], ls="--",
            label="adjusted" + ("" if res.feasible else " (best found, infeasible)"))
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)", title=f"{res.region}: what it takes to peak by {res.year}")
    ax.legend()
    return fig
