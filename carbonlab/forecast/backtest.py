"""Backtests of peak calls on held-out years."""


from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.cache import cached
from carbonlab.forecast.ensemble import PeakEnsemble, forecast_band
from carbonlab.forecast.paths import forecast
from carbonlab.forecast.rule import KEY_DRIVERS, find_peak
from carbonlab.models import (
    PanelModel,
)
from carbonlab.scenarios import (
    Scenario,
    driver_paths,
)


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
    paths = {T: driver_paths(panel[panel["year"] <= T], sc, drivers=list(drivers), horizon=end,
                            targets=False)
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
