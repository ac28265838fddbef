"""Sentences for the pages: the outlook's answer in words, every number computed.

The front page, chapter 4 and the region pages call these instead of assembling sentences
from glued numbers, so the same fact reads the same everywhere.
"""

from __future__ import annotations

import numpy as np

from carbonlab.forecast.calibrate import likelihood
from carbonlab.forecast.outlook import Outlook
from carbonlab.forecast.rule import CLASS_BEFORE, CLASSES
from carbonlab.models import MODEL_LABELS, NAIVE

__all__ = ["front_summary", "forecaster_sentence", "region_verdict", "as_of_sentence", "mt"]


def mt(v: float) -> str:
    """Mt CO2 with its value in 亿t (100 Mt), as the studies quote it."""
    return f"{v:,.1f} Mt CO2 ({v / 100:.2f} 亿t)"


def forecaster_sentence(o: Outlook) -> str:
    """Which model forecasts and which answers scenario questions, and why (from the backtest)."""
    f, s = MODEL_LABELS[o.model], MODEL_LABELS[o.scenario_model]
    unc = cond = ""
    if o.skill is not None:
        u, c = o.skill.unconditional(), o.skill.conditional()
        if o.model in u.index:
            unc = (f" (forecasting as it could have at each origin, its error was "
                   f"{u.loc[o.model, 'ratio_persistence']:.2f} × persistence's)")
        if o.scenario_model in c.index:
            cond = (f" (told the drivers that were later observed, its error 3–8 years ahead "
                    f"was {c.loc[o.scenario_model, 'ratio_persistence']:.2f} × persistence's)")
    if o.model == o.scenario_model:
        txt = (f"The outlook forecasts with {f}{unc}, and {f} is also the scenario model that "
               f"answers \"what if the drivers change\"{cond}.")
    else:
        txt = (f"The outlook forecasts with {f}{unc}; the scenario model that answers \"what if "
               f"the drivers change\" is {s}{cond}.")
    if o.model in NAIVE:
        txt += (f" {f.capitalize()} ignores the drivers, so the scenario does not move the "
                "outlook; it moves only the scenario analysis.")
    return txt


def front_summary(o: Outlook) -> str:
    """The front page's answer: classes in counts and words, the national point, calibration."""
    c = o.counts
    n = int(c.sum())
    t = o.table
    likely30 = int((t["p_by_2030"] >= 0.66).sum())
    unlikely30 = int((t["p_by_2030"] < 0.33).sum())
    npk = o.national_peak
    last = int(o.national["year"].max())
    s = (f"Of {n} provinces, {c[CLASSES[0]]} had already peaked before 2020, {c[CLASSES[1]]} peak "
         f"by 2025, {c[CLASSES[2]]} by 2030 and {c[CLASSES[3]]} not by 2030 (the class of the "
         f"median ensemble member). Peaking by 2030 is *likely* or more (P ≥ 0.66) for "
         f"{likely30} of them and *unlikely* or less (P < 0.33) for {unlikely30}. ")
    s += (f"The national point forecast peaks in {npk.peak_year} at {mt(npk.peak_value)}. "
          if npk.peaked else f"The national point forecast has not peaked by {last}. ")
    cal = o.calibration
    if cal:
        s += (f"How far to trust the odds: on the backtest, the 90 % bands covered "
              f"{cal['coverage_pct']:.0f} % of the years that followed, and the peak calls "
              f"scored a Brier score of {cal['brier']:.3f} against {cal['brier_base']:.3f} for "
              f"always answering the base rate ({cal['brier_ratio']:.2f} ×; lower is better).")
    return s


def region_verdict(o: Outlook, region: str) -> str:
    """One region's answer (markdown): the point path's peak, the class with its probability
    in words, the 2030 band, and where the point and the members disagree."""
    from carbonlab.regions import province_table

    a = o.region(region)
    r, pk = a["region"], a["peak"]
    who = f"{r} ({province_table().set_index('region').loc[r, 'name_zh']})"
    last = int(o.panel["year"].max())
    row = o.table.set_index("region").loc[r]
    sc = o.scenario.name
    if a["already"] and pk.peak_year <= last:
        s = (f"**{who} has already peaked.** Its emissions reached their maximum, "
             f"{mt(pk.peak_value)}, in {pk.peak_year}; the data end in {last}, and on the *{sc}* "
             f"scenario the point forecast stays below that peak to 2030.")
    elif pk.peaked:
        s = (f"**{who} peaks in {pk.peak_year} in the point forecast** at {mt(pk.peak_value)} on the "
             f"*{sc}* scenario (data end in {last}"
             + (", so the data do not yet show a decline" if pk.peak_year == last else "") + ").")
    else:
        s = (f"**{who} does not peak by 2030 in the point forecast** on the *{sc}* scenario: emissions "
             f"still grow in 2030 ({100 * pk.last_growth:+.2f} % that year, reaching "
             f"{mt(pk.peak_value)}).")
    p25, p30 = a["p_by_2025"], a["p_by_2030"]
    lo, hi = a["band_2030_mt"]
    s += (f" Across {int(row['n_members'])} members whose spread is the forecaster's own "
          f"backtest errors, peaking by 2030 is *{likelihood(p30)}* (P = {p30:.2f}; by 2025: "
          f"P = {p25:.2f}), so the class is *{a['class']}*; the 5–95 % band in 2030 is "
          f"{lo:,.0f}–{hi:,.0f} Mt CO2.")
    if row["point_class"] != a["class"] and not (a["class"] == CLASS_BEFORE and a["already"]):
        s += (f" The point path alone would read *{row['point_class']}*: the members say how "
              "sure that is, and the class follows them.")
    med = a["median_peak_year"]
    if pk.peaked and not np.isnan(med) and abs(med - pk.peak_year) >= 1:
        s += f" The members that peak do so in {med:.0f} (median)."
    return s


def as_of_sentence(then: Outlook, now_panel: object, *, start: int | None = None) -> str:
    """How the outlook made with data to ``then.as_of`` did on the years observed since:
    its MAPE beside persistence's (the last per-capita value × the same population path the
    outlook used, so both knew only the data to ``as_of``)."""
    import pandas as pd

    p: pd.DataFrame = now_panel  # type: ignore[assignment]
    T = int(then.as_of) if then.as_of is not None else int(then.panel["year"].max())
    obs = p[p["year"] > T].set_index(["region", "year"])["emissions_mt"]
    pt = then.point.set_index(["region", "year"])["emissions_mt"].reindex(obs.index)
    last = p[p["year"] == T].set_index("region")
    pc = last["emissions_mt"] / last["population_10k"]
    pop = then.population.set_index(["region", "year"])["population_10k"].reindex(obs.index)
    pers = pc.reindex(obs.index.get_level_values("region")).to_numpy() * pop.to_numpy()
    e_model = float(100 * np.mean(np.abs(pt.to_numpy() / obs.to_numpy() - 1)))
    e_pers = float(100 * np.mean(np.abs(pers / obs.to_numpy() - 1)))
    y0, y1 = int(obs.index.get_level_values("year").min()), int(obs.index.get_level_values("year").max())
    nat_pred = float(pt.groupby(level="year").sum().iloc[-1])
    nat_obs = float(obs.groupby(level="year").sum().iloc[-1])
    return (f"Made with the data to {T}, the outlook's point forecast missed the provinces' "
            f"emissions in {y0}–{y1} by {e_model:.1f} % on average (persistence with the same population path: "
            f"{e_pers:.1f} %); "
            f"for the 30-province total in {y1} it said {nat_pred:,.0f} Mt CO2, and "
            f"{nat_obs:,.0f} Mt CO2 was observed ({100 * (nat_pred / nat_obs - 1):+.1f} %).")
