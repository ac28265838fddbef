"""Summaries of an ensemble of forecasts (``member``, ``region``, ``year``, ``emissions_mt``):
peak probabilities per region, bands per region and year, the national band.

The members themselves come from :class:`carbonlab.forecast.calibrate.ErrorModel`."""


from __future__ import annotations

import pandas as pd

from carbonlab.forecast.rule import PLEDGE_YEAR, find_peak


def peak_probabilities(members: pd.DataFrame, *, start: int | None = None, early: int = 2025,
                       target: int = 2030, before: int = PLEDGE_YEAR) -> pd.DataFrame:
    """Per region over members ≥ 0: ``p_peaked`` (peaked by the last year), ``p_before`` (peaked
    with the maximum before ``before``, the class *peaked before 2020*), P(peak ≤ early),
    P(peak ≤ target), the median peak year and the number of members.

    ``members`` holds ``member, region, year, emissions_mt`` (e.g. ``Outlook.members``); the
    point (member -1) is excluded unless it is the only one. A member that has not peaked counts as not ≤ target.
    """
    m = members[members["member"] >= 0] if (members["member"] >= 0).any() else members
    rows = []
    for (member, region), g in m.sort_values("year").groupby(["member", "region"], sort=True):
        if start is not None:
            g = g[g["year"] >= start]
        p = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
        rows.append((member, region, p.peak_year, p.peaked))
    t = pd.DataFrame(rows, columns=["member", "region", "peak_year", "peaked"])
    t["before"] = t["peaked"] & (t["peak_year"] < before)
    t["by_early"] = t["peaked"] & (t["peak_year"] <= early)
    t["by_target"] = t["peaked"] & (t["peak_year"] <= target)
    t["peak_year_or_nan"] = t["peak_year"].where(t["peaked"])
    out = t.groupby("region").agg(
        p_peaked=("peaked", "mean"), p_before=("before", "mean"), p_by_2025=("by_early", "mean"), p_by_2030=("by_target", "mean"),
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
