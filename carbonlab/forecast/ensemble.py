"""Ensembles of forecasts: residual noise, driver perturbations, peak probabilities, bands."""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.cache import cache_path, cached
from carbonlab.data import log_emissions_per_capita
from carbonlab.forecast.paths import forecast
from carbonlab.forecast.rule import KEY_DRIVERS, find_peak
from carbonlab.models import (
    PanelModel,
)
from carbonlab.scenarios import (
    SHARE_DRIVERS,
    population_path,
)


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
