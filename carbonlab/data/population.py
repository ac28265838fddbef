"""Population projections that follow an official national path (the real data's rule).

:func:`official_projection` is the rule :func:`carbonlab.scenarios.population_path` applies
when the panel carries a national path (``attrs["national_population"]``, UN WPP 2024 for
the real panel); the teaching world keeps its own roll-forward rule.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from carbonlab._util import DataError

__all__ = ["TREND_YEARS", "official_projection"]

TREND_YEARS: int = 8
"""Years of provincial population shares the trend is fitted on (2015-2022 for data to 2022)."""


def official_projection(panel: pd.DataFrame, national: Mapping[int, float], horizon: int = 2030
                        ) -> pd.DataFrame:
    """Provincial population to ``horizon`` following a national path (10^4 persons).

    The provinces' total follows ``national`` (year -> persons, e.g. UN WPP 2024 medium
    variant) scaled to their total in the panel's last year ``t0``:
    total(t) = total(t0) x N(t) / N(t0). Each province's share of the total moves along its
    linear trend over the last :data:`TREND_YEARS` years (2015-2022 when the data end in
    2022), anchored at its ``t0`` share and never below half of it; the shares are rescaled
    to sum to one. Returns ``region, year, population_10k, projected``; ``attrs["rule"]``.
    """
    wide = panel.pivot_table(index="year", columns="region", values="population_10k",
                             aggfunc="first").sort_index()
    years = wide.index.to_numpy(dtype=int)
    t0 = int(years[-1])
    if not np.array_equal(years, np.arange(years[0], t0 + 1)):
        raise DataError(f"panel: population years are not consecutive ({years[0]}-{t0})")
    last = wide.loc[t0]
    if last.isna().any() or (wide.to_numpy() <= 0).any():
        bad = last.index[last.isna()][0] if last.isna().any() else wide.columns[
            (wide <= 0).any()][0]
        raise DataError(f"panel: population_10k must be positive for {bad} (up to {t0})")
    future = np.arange(t0 + 1, horizon + 1)
    nat = {int(y): float(v) for y, v in dict(national).items()}
    missing = [y for y in [t0, *future.tolist()] if y not in nat]
    if missing:
        raise DataError(f"national population path: no value for {missing[0]}")
    total0 = float(last.sum())
    total = np.array([total0 * nat[int(y)] / nat[t0] for y in future])
    recent = wide.loc[wide.index[-TREND_YEARS:]]
    shares = recent.div(recent.sum(axis=1), axis=0)
    ry = shares.index.to_numpy(dtype=float)
    slope = (np.polyfit(ry - ry.mean(), shares.to_numpy(), 1)[0] if len(ry) > 1
             else np.zeros(shares.shape[1]))
    s0 = shares.loc[t0].to_numpy()
    s = np.maximum(s0[None, :] + np.outer(future - t0, slope), 0.5 * s0[None, :])
    s = s / s.sum(axis=1, keepdims=True)
    proj = s * total[:, None]
    out = []
    for j, region in enumerate(wide.columns):
        out.append(pd.DataFrame({
            "region": region, "year": np.concatenate([years, future]),
            "population_10k": np.concatenate([wide[region].to_numpy(float), proj[:, j]]),
            "projected": np.r_[np.zeros(len(years), bool), np.ones(len(future), bool)],
        }))
    res = pd.concat(out, ignore_index=True)
    res.attrs["rule"] = (f"UN WPP 2024 medium variant scaled to the {t0} total; provincial "
                         f"shares on their {int(ry[0])}-{t0} trend")
    return res
