"""Skill on unseen years: rolling origins, horizons 1–8, conditional and unconditional.

At each origin T every model is fitted on the years ≤ T only and forecasts T+1 … T+H
(anchored at T: ``ln e_t = ln e_T + f(x_t) − f(x_T)``, chapter 4's intercept correction):

- **conditional** — with the drivers that were later observed: does the model explain
  emissions when it is told the drivers? (the question a *scenario* model must answer);
- **unconditional** — with the driver paths the scenario rule would have drawn at T
  (no later data, no targets) and the population rule as at T: would it have forecast
  well? (the question the *outlook* must answer).

Errors are scored on emissions (Mt CO2) as absolute percentage errors and set beside the
two naive baselines at the same origins, regions and years: persistence (last value) and
drift (last value + mean change). :class:`Skill` picks the scenario model (the
driver-responsive model with the lowest conditional MAPE at horizons 3–8) and the
outlook's forecaster (the lowest unconditional MAPE over all horizons, naive or not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from carbonlab._util import ParameterError, n_jobs
from carbonlab.cache import cached
from carbonlab.forecast.paths import forecast
from carbonlab.models import MODEL_LABELS, NAIVE, PANEL_MODELS, PanelModel

__all__ = ["FORECASTERS", "SCENARIO_HORIZONS", "Skill", "skill_backtest",
           "skill", "skill_table"]

FORECASTERS = PANEL_MODELS
"""Models the backtest scores: the registry's panel models (a live view of the table)."""


SCENARIO_HORIZONS: tuple[int, int] = (3, 8)
"""Horizons (years) on which the scenario model is chosen: the medium run a scenario is about."""


def _origin_paths(train: pd.DataFrame, drivers: Sequence[str], end: int, scenario: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Driver paths and population to ``end`` as the rules would have drawn them at T."""
    from carbonlab.scenarios import driver_paths, load_scenario, population_path

    sc = load_scenario(scenario)
    paths = driver_paths(train, sc, drivers=list(drivers), horizon=end, targets=False)
    return paths, population_path(train, horizon=end)


def _one_origin(panel: pd.DataFrame, T: int, drivers: tuple[str, ...], models: Sequence[str],
                max_horizon: int, scenario: str, random_state: int) -> list[pd.DataFrame]:
    end = min(int(panel["year"].max()), T + max_horizon)
    train = panel[panel["year"] <= T]
    test = panel[(panel["year"] > T) & (panel["year"] <= end)]
    obs_paths = pd.concat([train, test])[["region", "year", *drivers]].assign(
        projected=lambda d: d["year"] > T)
    obs_pop = pd.concat([train, test])[["region", "year", "population_10k"]]
    unc_paths, unc_pop = _origin_paths(train, drivers, end, scenario)
    actual = test.set_index(["region", "year"])["emissions_mt"]
    out = []
    for name in models:
        pm = PanelModel(name, drivers, random_state=random_state).fit(train)
        for mode, pth, pop in (("conditional", obs_paths, obs_pop),
                               ("unconditional", unc_paths, unc_pop)):
            f = forecast(pm, train, pth, pop)
            f = f[f["projected"]]
            keys = pd.MultiIndex.from_frame(f[["region", "year"]])
            out.append(pd.DataFrame({
                "model": name, "mode": mode, "origin": T, "region": f["region"].to_numpy(),
                "year": f["year"].to_numpy(), "h": f["year"].to_numpy() - T,
                "emissions_mt": actual.reindex(keys).to_numpy(dtype=float),
                "pred_mt": f["emissions_mt"].to_numpy(dtype=float)}))
    return out


def _origin_job(*args: Any) -> list[pd.DataFrame]:
    """:func:`_one_origin` with one maths thread (in a worker or in-process)."""
    with threadpool_limits(limits=1):
        return _one_origin(*args)


def skill_backtest(panel: pd.DataFrame, drivers: Sequence[str], *,
                   models: Sequence[str] = FORECASTERS, origins: Sequence[int] | None = None,
                   max_horizon: int = 8, scenario: str = "trend", random_state: int = 0,
                   cache: bool = True) -> pd.DataFrame:
    """Forecasts of every model at every origin, both modes (tidy, Mt CO2).

    ``origins`` default: every year from the sixth of the panel to the last but one.
    Returns ``model, mode, origin, region, year, h, emissions_mt, pred_mt`` with
    ``emissions_mt`` the observed value. Kept in the content-keyed cache.
    """
    drivers = tuple(drivers)
    years = np.sort(panel["year"].unique())
    if origins is None:
        origins = [int(y) for y in years[5:-1]]
    origins = [int(T) for T in origins]
    for T in origins:
        if not years[0] + 3 <= T < years[-1]:
            raise ParameterError(f"origins: {T} must leave ≥ 4 training years and ≥ 1 test "
                                 f"year (data {years[0]}–{years[-1]})")
    if isinstance(max_horizon, bool) or not isinstance(max_horizon, int) or max_horizon < 1:
        raise ParameterError(f"max_horizon: expected a positive integer, got {max_horizon!r}")
    models = tuple(dict.fromkeys([*models, *NAIVE]))
    cols = ["region", "year", "emissions_mt", "population_10k", *drivers]
    sub = panel[cols].sort_values(["region", "year"], ignore_index=True)
    sub.attrs = {}  # the real panel's attrs hold tables, which pandas cannot compare in concat

    def compute() -> pd.DataFrame:
        jobs = min(n_jobs(), len(origins))
        if jobs > 1:  # origins are independent and seeded: the same table for any job count
            from joblib import Parallel, delayed

            runs = Parallel(n_jobs=jobs)(delayed(_origin_job)(
                sub, T, drivers, models, max_horizon, scenario, random_state) for T in origins)
        else:
            runs = [_origin_job(sub, T, drivers, models, max_horizon, scenario, random_state)
                    for T in origins]
        return pd.concat([p for run in runs for p in run], ignore_index=True)

    from carbonlab.scenarios import load_scenario

    key = [sub, load_scenario(scenario),  # the scenario's content, not only its name
           {"drivers": list(drivers), "models": list(models), "origins": origins,
            "H": max_horizon, "seed": random_state}]
    out = cached("skill", key, compute, enabled=cache)
    out.attrs["units"] = {"emissions_mt": "Mt CO2", "pred_mt": "Mt CO2", "h": "years"}
    return out


def skill_table(pred: pd.DataFrame) -> pd.DataFrame:
    """MAPE (%) per model, mode and horizon, and its ratio to persistence's and drift's on
    the same rows: ``model, label, mode, h, n, mape_pct, ratio_persistence, ratio_drift``."""
    d = pred.assign(ape=100 * (pred["pred_mt"] / pred["emissions_mt"] - 1).abs())
    t = d.groupby(["mode", "h", "model"], sort=True).agg(
        n=("ape", "size"), mape_pct=("ape", "mean")).reset_index()
    for base in NAIVE:
        ref = t[t["model"] == base].set_index(["mode", "h"])["mape_pct"]
        t[f"ratio_{base}"] = (t["mape_pct"].to_numpy()
                              / ref.reindex(pd.MultiIndex.from_frame(t[["mode", "h"]])).to_numpy())
    t.insert(1, "label", t["model"].map(MODEL_LABELS))
    cols = ["model", "label", "mode", "h", "n", "mape_pct", "ratio_persistence", "ratio_drift"]
    t = t[cols].sort_values(["mode", "model", "h"], ignore_index=True)
    t.attrs["units"] = {"mape_pct": "%", "h": "years"}
    return t


def _mean_over(t: pd.DataFrame, mode: str, lo: int, hi: int) -> pd.DataFrame:
    sel = t[(t["mode"] == mode) & t["h"].between(lo, hi)]
    return (sel.groupby("model")[["mape_pct", "ratio_persistence", "ratio_drift"]].mean()
            .sort_values("mape_pct"))


@dataclass
class Skill:
    """The two-mode rolling-origin backtest and what it decides.

    ``predictions`` (:func:`skill_backtest`), ``table`` (:func:`skill_table`),
    ``scenario_model`` (driver-responsive, lowest conditional MAPE at
    :data:`SCENARIO_HORIZONS`), ``forecaster`` (lowest unconditional MAPE over all
    horizons), ``origins``, ``drivers``.
    """

    predictions: pd.DataFrame
    table: pd.DataFrame
    scenario_model: str
    forecaster: str
    origins: list[int]
    drivers: tuple[str, ...]

    @property
    def horizons(self) -> tuple[int, int]:
        """(1, largest horizon scored)."""
        return 1, int(self.table["h"].max())

    def conditional(self) -> pd.DataFrame:
        """Mean conditional MAPE and ratios per model over :data:`SCENARIO_HORIZONS` (best first)."""
        lo, hi = SCENARIO_HORIZONS
        return _mean_over(self.table, "conditional", lo, min(hi, self.horizons[1]))

    def unconditional(self) -> pd.DataFrame:
        """Mean unconditional MAPE and ratios per model over all horizons (best first)."""
        return _mean_over(self.table, "unconditional", *self.horizons)

    def summary(self) -> pd.DataFrame:
        """Wide table for a page: one row per model and mode, MAPE (%) per horizon, and the
        mean ratio to persistence over the horizons that choose (3–8 conditional, all
        unconditional)."""
        wide = self.table.pivot_table(index=["mode", "model"], columns="h", values="mape_pct")
        wide.columns = [f"h{h}" for h in wide.columns]
        c, u = self.conditional()["ratio_persistence"], self.unconditional()["ratio_persistence"]
        ratio = pd.concat([c.rename("conditional"), u.rename("unconditional")], axis=1)
        wide["vs_persistence"] = [ratio.loc[m, mode] for mode, m in wide.index]
        wide = wide.reset_index()
        wide.insert(2, "label", wide["model"].map(MODEL_LABELS))
        return wide.sort_values(["mode", "vs_persistence"], ignore_index=True)

    def as_of(self, year: int) -> Skill:
        """The backtest a reader could have run in ``year``: the origins before it and the
        forecasts of years up to it. Every row was made with data up to its origin only, so
        this equals :func:`skill` on the panel cut at ``year`` (tested) without refitting."""
        p = self.predictions
        keep = (p["origin"] < int(year)) & (p["year"] <= int(year))
        if not keep.any():
            raise ParameterError(f"as_of: no backtest origin before {year}")
        return _decide(p[keep].reset_index(drop=True), self.drivers)

    def plot(self, ax: Any = None) -> Any:
        """MAPE ratio to persistence by horizon, one line per model, conditional (solid) and
        unconditional (dashed); the 0.8 target and 1 (persistence) marked. Returns the Axes."""
        from carbonlab.plotting import legend_outside, new_figure, palette, plain_log_axis

        if ax is None:
            ax = new_figure(figsize=(7.5, 3.6))[1]
        models = [m for m in self.conditional().index if m != "persistence"]
        colours = dict(zip(models, palette(len(models)), strict=True))
        for (mode, m), g in self.table.groupby(["mode", "model"], sort=True):
            if m == "persistence":
                continue
            ax.plot(g["h"], g["ratio_persistence"], ls="-" if mode == "conditional" else "--",
                    color=colours[m], label=f"{MODEL_LABELS[m]}, {mode}", lw=1.4)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.axhline(0.8, color="k", lw=0.8, ls=":")
        ax.set_xlabel("years ahead")
        ax.set_ylabel("MAPE / persistence's")
        plain_log_axis(ax)
        legend_outside(ax)
        return ax

    def describe(self) -> str:
        """The backtest's verdict in sentences, every number computed."""
        lo, hi = SCENARIO_HORIZONS
        hi = min(hi, self.horizons[1])
        c, u = self.conditional(), self.unconditional()
        sm, fc = self.scenario_model, self.forecaster
        rc, ru = float(c.loc[sm, "ratio_persistence"]), float(u.loc[fc, "ratio_persistence"])
        o = f"{self.origins[0]}–{self.origins[-1]}"
        s = (f"Over the origins {o} the scenario model is {MODEL_LABELS[sm]}: with the observed "
             f"drivers its mean error at {lo}–{hi} years ahead is "
             f"{c.loc[sm, 'mape_pct']:.1f} %, {rc:.2f} × persistence's "
             f"({c.loc['persistence', 'mape_pct']:.1f} %) and "
             f"{float(c.loc[sm, 'ratio_drift']):.2f} × drift's.")
        if rc <= 0.8:
            s += " That meets the target of 0.8 × persistence."
        else:
            best = c.index[0]
            s += (f" That misses the target of 0.8 × persistence: with these {len(self.drivers)} "
                  f"drivers ({', '.join(self.drivers)}) no model explains the changes better "
                  "than carrying the last per-capita value forward"
                  + (f" (the best at {lo}–{hi} years is {MODEL_LABELS[best]}, {c.loc[best, 'ratio_persistence']:.2f} ×)"
                     if best != sm else "") + ", so the scenario analysis below rests on a "
                  "model that has not shown skill beyond persistence's.")
        s += (f" Forecasting as it could have at each origin (driver paths from the scenario "
              f"rule, no later data) the best model over 1–{self.horizons[1]} years is "
              f"{MODEL_LABELS[fc]} ({u.loc[fc, 'mape_pct']:.1f} %, {ru:.2f} × persistence's), "
              f"so the outlook forecasts with {MODEL_LABELS[fc]}")
        s += (", a naive baseline that ignores the drivers." if fc in NAIVE else ".")
        return s


def skill(panel: pd.DataFrame, drivers: Sequence[str], *, models: Sequence[str] = FORECASTERS,
          origins: Sequence[int] | None = None, max_horizon: int = 8, scenario: str = "trend",
          random_state: int = 0, cache: bool = True) -> Skill:
    """Run :func:`skill_backtest` and choose the scenario model and the forecaster."""
    pred = skill_backtest(panel, drivers, models=models, origins=origins,
                          max_horizon=max_horizon, scenario=scenario,
                          random_state=random_state, cache=cache)
    return _decide(pred, drivers)


def _decide(pred: pd.DataFrame, drivers: Sequence[str]) -> Skill:
    """:class:`Skill` from backtest rows: the table and the two choices."""
    table = skill_table(pred)
    lo, hi = SCENARIO_HORIZONS
    hmax = int(table["h"].max())
    cond = _mean_over(table, "conditional", lo, min(hi, hmax))
    responsive = [m for m in cond.index if m not in NAIVE]
    if not responsive:
        raise ParameterError("models: give at least one driver-responsive model")
    unc = _mean_over(table, "unconditional", 1, hmax)
    return Skill(pred, table, responsive[0], str(unc.index[0]),
                 sorted(int(T) for T in pred["origin"].unique()), tuple(drivers))
