"""Sentences for the pages: the outlook's answer in words, every number computed.

The front page, chapter 4 and the region pages call these instead of assembling sentences
from glued numbers, so the same fact reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from carbonlab.forecast.calibrate import likelihood
from carbonlab.forecast.ensemble import peak_probabilities
from carbonlab.forecast.outlook import Outlook
from carbonlab.forecast.paths import growth_table
from carbonlab.forecast.rule import CLASS_BEFORE, CLASSES
from carbonlab.models import MODEL_LABELS, NAIVE
from carbonlab.regions import resolve_region

__all__ = ["front_summary", "forecaster_sentence", "region_verdict", "as_of_sentence", "mt",
           "scenario_sentence", "members_sentence", "national_sentence", "laggards_sentence",
           "example_laggard", "adjustment_sentence", "table10_sentence", "calibration_sentence",
           "calibration_table"]


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
    s += (f" Across {int(row['n_members'])} members (the forecaster's and the naive references' "
          f"points times their own backtest errors), peaking by 2030 is *{likelihood(p30)}* (P = {p30:.2f}; by 2025: "
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
            f"{nat_obs:,.0f} Mt CO2 was observed ({100 * (nat_pred / nat_obs - 1):+.1f} %)."
            + (f" With the data to {T} the backtest chose {MODEL_LABELS[then.model]} as "
               f"forecaster and {MODEL_LABELS[then.scenario_model]} as scenario model."
               if then.model and then.scenario_model else ""))


def scenario_sentence(scenario: Any, paths: pd.DataFrame, region: str) -> str:
    """What the scenario table shows: the region, the scenario, its inheritance and purpose."""
    r = resolve_region(region)
    proj = paths[(paths["region"] == r) & paths["projected"]]["year"]
    chain = " → ".join(scenario.chain) if scenario.chain else scenario.name
    return (f"The drivers of {r} under the scenario *{scenario.name}* (inheritance {chain}: "
            f"{scenario.description.strip() or 'no description'}), projected "
            f"{int(proj.min())}–{int(proj.max())}.")


def members_sentence(members: pd.DataFrame, region: str, *, forecaster: str | None = None
                     ) -> str:
    """One region's members in words: how many and from which models, the 5–95 % range in the
    last year (of ``forecaster``'s own members when given: the band of its point forecast) and
    P(peak) by 2025 / 2030 (shares of all members that have peaked by the book's rule)."""
    r = resolve_region(region)
    m = members[(members["region"] == r) & (members["member"] >= 0)]
    p = peak_probabilities(m).iloc[0]
    own = m[m["model"] == forecaster] if forecaster and "model" in m.columns else m
    end = own[own["year"] == own["year"].max()]["emissions_mt"]
    lo, hi = np.quantile(end.to_numpy(float), [0.05, 0.95])
    src = ""
    if "model" in m.columns:
        n = m.groupby("model", sort=False)["member"].nunique()
        src = " pooled over " + ", ".join(f"{MODEL_LABELS.get(k, k)} ({v})" for k, v in n.items())
    whose = (f"the members of {MODEL_LABELS.get(forecaster, forecaster)}" if own is not m
             else "the members")
    return (f"{int(p['n_members'])} members{src}. In {int(m['year'].max())} {whose} put {r}'s "
            f"emissions between {lo:,.0f} and {hi:,.0f} Mt CO2 (5–95 %); of all members "
            f"{100 * p['p_by_2025']:.0f} % have peaked by 2025 and {100 * p['p_by_2030']:.0f} % by "
            f"2030 — peaking by 2030 is *{likelihood(p['p_by_2030'])}*.")


def calibration_table(cal: dict[str, object]) -> pd.DataFrame:
    """The outlook's calibration (:attr:`Outlook.calibration`) as a one-row table; the pooled
    models (if listed) as their names in one column."""
    row = {k: v for k, v in cal.items() if k != "models"}
    if "models" in cal:
        row["models"] = ", ".join(MODEL_LABELS.get(str(k), str(k)) for k in cal["models"])  # type: ignore[union-attr]
    return pd.DataFrame([row])


def national_sentence(o: Outlook) -> str:
    """The national point forecast's peak and its members' 5–95 % range in the last year."""
    nb = o.national_band.set_index("year")
    y = int(nb.index.max())
    return (f"The national point forecast: {o.national_peak.describe('Mt CO2')}. In {y} the "
            f"members' sums lie between {nb.loc[y, 'lo_mt']:,.0f} and {nb.loc[y, 'hi_mt']:,.0f} "
            "Mt CO2 (5–95 %).")


def laggards_sentence(o: Outlook) -> str:
    """Which regions' point paths have not peaked by 2030 (Table 9's rows), or that none lags."""
    lag = o.laggards
    n = len(o.table)
    if not lag:
        return (f"No laggards: every one of the {n} regions' point forecasts has peaked by 2030 "
                f"on the *{o.scenario.name}* scenario, so Tables 9 and 10 have no rows.")
    return (f"{len(lag)} of the {n} regions' point forecasts have not peaked by 2030 on the "
            f"*{o.scenario.name}* scenario: {', '.join(lag)}.")


def example_laggard(o: Outlook, region: str, growth: pd.DataFrame | None = None) -> str:
    """The region the inverse problem is shown for: ``region`` if it lags, else the laggard
    growing fastest in the last year of ``growth`` (:func:`growth_table`), else ``region``."""
    r = resolve_region(region)
    lag = o.laggards
    if r in lag or not lag:
        return r
    if growth is None:
        pt = o.members[o.members["member"] == -1]
        growth = growth_table(pt, range(2030, 2031), regions=lag)
    return str(growth[growth.columns.max()].idxmax())


def adjustment_sentence(o: Outlook, region: str, adj: Any) -> str:
    """Why the inverse problem is shown for ``adj.region``, and its answer (``adj.message``)."""
    r, lag = resolve_region(region), o.laggards
    why = ("the chosen region, a laggard" if adj.region == r and r in lag
           else "the laggard growing fastest in 2030" if lag
           else "the chosen region; there is no laggard")
    return f"For {adj.region} ({why}): {adj.message}"


def table10_sentence(model: str, table: Any) -> str:
    """**What it means** for Table 10: the model that answered and the table's outcome
    (``table``: :class:`~carbonlab.forecast.table10.Table10`)."""
    return (f"**What it means.** The adjustments use {MODEL_LABELS.get(model, model)}, the "
            f"scenario model. {table.describe()}")


def calibration_sentence(cal: dict[str, float]) -> str:
    """The leakage-free check of the odds in words: coverage and Brier score against their
    targets (85–95 %; at most 0.9 × the base rate's)."""
    cov, ratio = cal["coverage_pct"], cal["brier_ratio"]
    return (f"The 90 % bands covered {cov:.1f} % of the years that followed ("
            + ("inside" if 85 <= cov <= 95 else "outside") + " the target of 85–95 %); the "
            f"peak calls scored {cal['brier']:.3f}, {ratio:.2f} × the base rate's "
            f"{cal['brier_base']:.3f} ("
            + ("better than the target of 0.9 ×)." if ratio <= 0.9 else
               "the target of 0.9 × is not met: read the probabilities with that in mind).")
            + f" Calls: {int(cal['n_calls'])} province-origins over {int(cal['n_origins'])} "
            "origins.")
