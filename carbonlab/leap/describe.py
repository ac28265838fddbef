"""Chapter 5 in words: each section's "what it means" computed from its results.

Every function takes what the chapter's visible calls return (the record, the scores, a
:class:`~carbonlab.leap.pipeline.CityRun`, the Sobol table ...) and returns one paragraph of
Markdown whose numbers, orders and directions are computed here, never typed. Tables the
reader sees are tidied here too (:func:`record_table`, :func:`all_cities_table`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from carbonlab.leap.forecast import (
    HORIZON,
    LABELS,
    ML_MODELS,
    choose_model,
    model_scores,
    nested_selection,
    nested_sentence,
    ranking_sentence,
    selection_sentence,
    windowed_reason,
)
from carbonlab.leap.pipeline import STUDY_PEAKS, CityRun, nowcast_sentence
from carbonlab.leap.plots import sobol_label
from carbonlab.leap.results import (
    balance_residual,
    comparison_table,
    emissions_table,
    energy_balance,
)
from carbonlab.plotting import fmt

__all__ = ["SCORE_NAMES", "all_cities_sentence", "all_cities_table", "balance_sentence",
           "branch_cut_sentence", "city_answer", "forecast_sentence", "levers_sentence", "lmdi_sentence",
           "monte_carlo_sentence", "pilot_page_sentence", "readings_sentence", "record_sentence", "record_table",
           "scenarios_sentence", "scores_sentence", "sobol_table", "summary_points", "within"]

SCORE_NAMES: dict[str, str] = {**{f"h{h}": f"{h} yr (%)" for h in range(1, HORIZON + 1)},
                               "all": "mean (%)", "n": "forecasts scored", "wins": "cities won"}
"""Column headers of the score tables (horizon h -> "h yr (%)")."""

_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def within(x: float, unit: str) -> str:
    """A residual as a bound: 'exactly', 'to within 10⁻¹⁰ TJ (rounding)', 'to within 0.012 TJ'."""
    x = abs(float(x))
    if x == 0:
        return "exactly"
    k = math.ceil(math.log10(x))
    if k <= -3:
        return f"to within 10{str(k).translate(_SUP)} {unit} (rounding)"
    return f"to within {fmt(x)} {unit}"


def _years(ys: Sequence[int]) -> str:
    return ", ".join(map(str, ys)) if len(ys) else "none"


def record_table(history: pd.Series) -> pd.DataFrame:
    """The record as a table: ``year, emissions_mt`` and the flags ``interpolated``, ``nowcast``."""
    out = history.rename_axis("year").reset_index(name="emissions_mt")
    out["interpolated"] = out["year"].isin(history.attrs.get("interpolated", []))
    out["nowcast"] = out["year"].isin(history.attrs.get("nowcast", []))
    return out


def record_sentence(history: pd.Series, window: int) -> str:
    """The record in words: observed years, interpolations, gaps, nowcast, windowed models."""
    a = history.attrs
    reason = windowed_reason(history, window)
    run = ("Windowed models can run on this record." if reason is None else
           f"Windowed models cannot run on this record: {reason}; the city is forecast with "
           "the naive models, which use all observed years.")
    return (f"**What it means.** {a['city']} has {a['observed']} observed years between "
            f"{int(history.index.min())} and {int(history.index.max())}; interpolated: "
            f"{_years(a.get('interpolated', []))}; gaps left open: {_years(a.get('gaps', []))}; "
            f"nowcast from the province's growth (flagged, never scored): "
            f"{_years(a.get('nowcast', []))}. {run}")


def scores_sentence(evaluation: pd.DataFrame, model: str = "auto") -> str:
    """One city's scores in words: the in-sample winner, the naive baselines, the nested check."""
    scores = model_scores(evaluation)
    city = str(evaluation["city"].iloc[0])
    winner = str(scores.index[0])
    ml = [m for m in scores.index if m in ML_MODELS]
    naive = [m for m in ("persistence", "drift") if m in scores.index]
    best_naive = min(naive, key=lambda m: scores.loc[m, "all"]) if naive else None
    if not ml:
        naive_text = "The study's models could not run on this record."
    elif best_naive is None:
        naive_text = ""
    else:
        beat = [LABELS[m] for m in ml if scores.loc[m, "all"] < scores.loc[best_naive, "all"]]
        naive_text = (f"The better naive baseline, {LABELS[best_naive]}, reaches "
                      f"{fmt(scores.loc[best_naive, 'all'], 1)} %; of the study's models, "
                      f"{', '.join(beat) if beat else 'none'} beat it.")
    ranking = (f" On this city, the study's models rank {ranking_sentence(ml)}."
               if len(ml) >= 2 else "")
    nested = nested_selection(evaluation)
    row = nested.loc[city] if city in nested.index else None
    chosen = choose_model(evaluation, model)
    used = chosen if isinstance(chosen, str) else "ensemble"
    return (f"**What it means.** On {city}, chosen and scored on the same origins (in sample), "
            f"the lowest mean error over all horizons is {LABELS.get(winner, winner)}'s "
            f"({scores.loc[winner, 'all']:.1f} %, up to {int(scores['n'].max())} scored "
            f"forecasts per model). {naive_text}{ranking} A choice scored on the forecasts it "
            "was chosen on flatters the winner; the nested check chooses on the earlier "
            f"origins and scores on the later ones. {selection_sentence(row, used)}")


def all_cities_table(table: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Median over cities of each model's mean APE by horizon, and the cities each model won."""
    med = table["median_ape"].sort_values("all")
    out = med.join(table["wins"])
    out["wins"] = out["wins"].fillna(0).astype(int)
    return out.rename(index=LABELS)


def all_cities_sentence(table: dict[str, pd.DataFrame], sample: Sequence[str] | None = None
                        ) -> str:
    """The all-cities scores in words: most wins, naive wins, ranking, nested check, growth."""
    wins = table["wins"].sort_values(ascending=False)
    med = table["median_ape"].sort_values("all")
    n_cmp, n_skip = len(table["winners"]), len(table["skipped"])
    ml = [m for m in med.index if m in ML_MODELS]
    grows = [m for m in med.index if med.loc[m, f"h{HORIZON}"] > med.loc[m, "h1"]]
    naive_wins = int(table["wins"].reindex(["persistence", "drift"]).fillna(0).sum())
    over = "Over all cities, " if sample is None else "Over the sampled cities, "
    ranking = (over + "the study's models rank " + ranking_sentence(ml, measure="median APE")
               if len(ml) >= 2 else over + "the study's models could not be ranked")
    nested = nested_selection(table["evaluation"])
    nested = nested.loc[nested.index.isin(table["winners"].index)]
    grow = (f"Median errors grow from one to {HORIZON} years ahead for {len(grows)} of "
            f"{len(med)} models" + (": a one-step score says little about a model that is then "
                                    "used many years ahead." if 2 * len(grows) > len(med)
                                    else "."))
    skip = ("Every city could be compared with every model." if n_skip == 0 else
            f"{n_skip} cities could not be compared with every model (records too short for "
            "the windowed models).")
    note = "" if sample is None else f" The table covers a sample of {len(sample)} cities."
    return (f"**What it means.** Over {n_cmp} cities where every model ran, "
            f"**{LABELS.get(wins.index[0], wins.index[0])}** wins most often in sample "
            f"({int(wins.iloc[0])} cities); persistence and drift together win {naive_wins}. "
            f"{ranking}. {nested_sentence(nested)} {skip} {grow}{note}")


def forecast_sentence(history: pd.Series, forecast: pd.Series) -> str:
    """Where the baseline forecast goes from the record's last year, in words."""
    start, end = float(history.iloc[-1]), float(forecast.iloc[-1])
    y0, y1 = int(history.index[-1]), int(forecast.index[-1])
    change = 100 * (end / start - 1)
    model = forecast.attrs.get("model", "the model")
    where = (f"rises to {fmt(end, 1)} Mt in {y1} (+{fmt(change, 0)} %)" if change >= 1 else
             f"falls to {fmt(end, 1)} Mt in {y1} ({fmt(change, 0)} %)" if change <= -1 else
             f"stays near that level ({fmt(end, 1)} Mt in {y1})")
    return (f"**What it means.** The baseline of {history.attrs.get('city', 'the city')} is "
            f"forecast with **{LABELS.get(model, model)}**: from {fmt(start, 1)} Mt CO2 in {y0} "
            f"the forecast {where}. The LEAP model below is calibrated to reproduce this path.")


def balance_sentence(run: CityRun) -> str:
    """The base year's energy balance and emissions by sector, in words."""
    base = int(run.leap.base_year)
    res = run.baseline.results
    res0 = res[res["year"] == base]
    by_sector = res0.groupby("sector")["emissions_attributed_mt"].sum()
    elec = 100 * float(res0.loc[res0["fuel"] == "electricity", "emissions_attributed_mt"].sum()
                       / res0["emissions_mt"].sum())
    resid = float(balance_residual(energy_balance(run.baseline))["residual_tj"].abs().max())
    note = (" This city has no LEAP file of its own and uses the generic template."
            if getattr(run.leap, "template", False) else "")
    return (f"**What it means.** Per fuel, supply and use agree {within(resid, 'TJ')}. In "
            f"{base} {by_sector.idxmax()} causes {100 * by_sector.max() / by_sector.sum():.0f} % "
            f"of {run.city}'s emissions (electricity counted at the grid factor), and "
            f"electricity as a whole {elec:.0f} %. The calibration factor is "
            f"{float(run.leap.scale):.2f}: the base-year activity levels, scaled by it, "
            f"reproduce the inventory exactly — a factor far from 1 says the structure is off "
            f"for this city.{note}")


def levers_sentence(run: CityRun) -> str:
    """EV sales against stock and the grid factor at the end of the policy, in words."""
    end = int(run.leap.end_year)
    ev = 100 * float(run.policy.levers["ev_sales_share"].iloc[-1])
    stock = 100 * float(run.policy.activity["ev_stock_share"].iloc[-1])
    g = comparison_table(run.baseline, run.policy)
    ev_text = (f"By {end} the policy sells {fmt(ev, 0)} % EVs, "
               + (f"but only {fmt(stock, 0)} % of the cars on the road are electric: the fleet "
                  "turns over at the pace of its survival curve." if stock < ev else
                  f"and {fmt(stock, 0)} % of the cars on the road are electric."))
    return (f"**What it means.** {ev_text} With PV and renewables the policy's grid factor "
            f"goes from {g['grid_policy_tco2_per_mwh'].iloc[0]:.3f} to "
            f"{g['grid_policy_tco2_per_mwh'].iloc[-1]:.3f} t CO₂/MWh by {end} (baseline: "
            f"{g['grid_baseline_tco2_per_mwh'].iloc[-1]:.3f}); the electricity used by EVs "
            "and heat pumps is counted at that factor.")


def scenarios_sentence(run: CityRun) -> str:
    """Peak years of both scenarios, the end-year reduction and the study's years, in words."""
    s = run.summary()
    study = STUDY_PEAKS.get(run.city)
    study_text = (f"The study reports {study['baseline']} for the baseline and "
                  f"{study['policy']} for the policy of {run.city}." if study else
                  f"The study reports no peak years for {run.city}.")
    inside = any(w in s["baseline_peak"] + s["policy_peak"] for w in ("inventory", "nowcast"))
    note = (" Where the maximum lies in the record, no policy that starts in the base year can "
            "move it; the reduction is then the better measure of the policy." if inside else "")
    return (f"**What it means.** Peak years: baseline **{s['baseline_peak']}**, policy "
            f"**{s['policy_peak']}**; in {s['end_year']} the policy emits "
            f"**{s['reduction_end_pct']:.1f} %** less than the baseline. {study_text}{note}")


def branch_cut_sentence(run: CityRun) -> str:
    """The branch and fuel the policy cuts most in the last year, in words."""
    end = int(run.leap.end_year)
    et = emissions_table([run.baseline, run.policy], [end], by=("branch", "fuel"))
    cut = (et[("policy", end)] - et[("baseline", end)]).drop(index=("total", ""), errors="ignore")
    if not len(cut) or cut.min() >= 0:
        return f"By branch and fuel, the policy cuts no branch's direct emissions in {end}."
    br, fuel = cut.idxmin()
    return (f"By branch and fuel, the policy cuts most from {str(br).replace('_', ' ')} "
            f"({str(fuel).replace('_', ' ')}), {fmt(-cut.min(), 2)} Mt CO2 less than the "
            f"baseline in {end}.")


def readings_sentence(readings: pd.DataFrame, run: CityRun) -> str:
    """:func:`~carbonlab.leap.pipeline.readings_table` in words."""
    end = int(run.leap.end_year)
    col = f"reduction_{end}_pct"
    rd = readings.set_index("reading")[col]
    rel = float(rd[[i for i in rd.index if i.startswith("relative")][0]])
    pp = float(rd[[i for i in rd.index if i.startswith("percentage")][0]])
    why = (" A lever that starts at a few percent grows by a few percent of itself a year and "
           "barely moves." if rel < pp else "")
    used = "percentage points" if run.leap.reading == "pp" else "relative growth"
    return (f"**What it means.** Read as percentage points a year, the policy lowers {end} "
            f"emissions by {pp:.1f} %; read as relative growth, by {rel:.1f} %.{why} This run "
            f"uses **{used}** (parameter `reading`).")


def lmdi_sentence(run: CityRun, dec: pd.DataFrame) -> str:
    """The LMDI decomposition of the last year's gap, in words."""
    end = int(run.leap.end_year)
    gap = float((run.policy.totals() - run.baseline.totals()).loc[end])
    eff = dec[dec["year"] == end].groupby("factor")["effect"].sum()
    share = float(100 * eff.get("emission_factor", 0.0) / gap) if gap else 0.0
    return (f"**What it means.** The effects add up to the gap of {gap:.2f} Mt in {end} "
            f"{within(float(eff.sum()) - gap, 'Mt')}. Activity does not appear: both scenarios "
            "share it. The emission-factor effect — for electricity the grid factor; the fossil "
            f"fuels' factors are constants — carries {share:.0f} % of the gap; intensities "
            "(energy saving, EVs, shared mobility, electrification) the rest.")


def monte_carlo_sentence(mc: pd.DataFrame, year: int) -> str:
    """The Monte Carlo sample's reduction band and policy peak years, in words."""
    q = mc[f"reduction_{year}_pct"].quantile([0.05, 0.95])
    years = ", ".join(f"{int(y)} ({100 * p:.0f} %)" for y, p in
                      mc["policy_peak_year"].value_counts(normalize=True).sort_index().items())
    return (f"In the Monte Carlo sample of {len(mc)} draws the {year} reduction lies between "
            f"{q.iloc[0]:.1f} % and {q.iloc[1]:.1f} % (5–95 %); the policy peak years (share of "
            f"draws): {years}.")



def sobol_table(si: pd.DataFrame, year: int) -> pd.DataFrame:
    """The Sobol indices of the ``year`` reduction, inputs in words, largest total index first."""
    d = si[si["output"] == f"reduction_{year}_pct"].drop(columns="output")
    d = d.sort_values("ST", ascending=False).reset_index(drop=True)
    d["parameter"] = d["parameter"].map(sobol_label)
    return d


def summary_points(table: dict[str, pd.DataFrame], run: CityRun, readings: pd.DataFrame,
                   si: pd.DataFrame) -> str:
    """The chapter's summary as Markdown bullets, every number from the run's results."""
    end = int(run.leap.end_year)
    s = run.summary()
    wins = table["wins"].sort_values(ascending=False)
    nested = nested_selection(table["evaluation"])
    nested = nested.loc[nested.index.isin(table["winners"].index)]
    rd = readings.set_index("reading")[f"reduction_{end}_pct"]
    red = si[si["output"] == f"reduction_{end}_pct"].sort_values("ST", ascending=False)
    top = sobol_label(str(red["parameter"].iloc[0])) if len(red) else "no input"
    return "\n".join([
        f"- Scored as used (rolling origin, recursive, one to {HORIZON} years ahead) over "
        f"{len(table['winners'])} cities, {LABELS.get(wins.index[0], wins.index[0])} wins most "
        f"often in sample; persistence and drift together win "
        f"{int(table['wins'].reindex(['persistence', 'drift']).fillna(0).sum())}. "
        f"{nested_sentence(nested)}",
        f"- {run.city}: baseline peak {s['baseline_peak']}, policy peak {s['policy_peak']}; in "
        f"{end} the policy emits {s['reduction_end_pct']:.1f} % less than the baseline, "
        f"the largest total Sobol index being {top}'s.",
        "- Reading the study's rates as relative growth or as percentage points gives a "
        + " or ".join(f"{float(v):.1f} %" for v in rd.to_numpy()) + f" reduction in {end} "
        f"({' and '.join(rd.index)}, in that order).",
    ])


def _mt(v: float) -> str:
    """Mt CO2 with its value in 亿t (100 Mt), as the studies quote it."""
    return f"{v:,.1f} Mt CO2 ({v / 100:.2f} 亿t)"


def _peak_phrase(run: CityRun, res: Any, verb: str = "peaks") -> str:
    end, base = int(run.leap.end_year), int(run.leap.base_year)
    if not res.peaked:
        return (f"does not peak by {end}: its highest value is {_mt(res.peak_value)}, "
                f"in {res.peak_year}")
    after = (f"stays within {100 * run.tol:g} % of it" if res.end_gap <= run.tol else "stays below it")
    seen = (f" (a nowcast year: the forecast {after})"
            if res.peak_year in run.history.attrs.get("nowcast", []) else
            f" (an observed year: the forecast {after})" if res.peak_year <= base else "")
    return f"{verb} in {res.peak_year}{seen} at {_mt(res.peak_value)}"


def _forecaster_text(run: CityRun, model: str) -> str:
    scores = model_scores(run.evaluation)
    used = LABELS.get(run.model, run.model)
    ape = scores["all"]
    if model == "auto":
        chosen = f"**{used}** (`model=\"auto\"`)"
    elif model == "ensemble":
        chosen = "an **error-weighted ensemble** (weights 1/mean error)"
    else:
        chosen = (f"**{used}** (parameter `model`; the winner is "
                  f"{LABELS[str(scores.index[0])]})")
    err = (f" ({ape[run.model]:.1f} % mean absolute error over one to five years ahead)"
           if run.model in ape.index else "")
    naive = ("" if run.model == "persistence" or "persistence" not in ape.index else
             f"; persistence (next year = this year) errs by {ape['persistence']:.1f} %")
    return (f"**Baseline forecaster:** {chosen}{err}{naive}; up to {int(scores['n'].max())} "
            f"scored forecasts per model. {run.selection_text()}")


def city_answer(run: CityRun, without: CityRun, model: str, window: int, name_zh: str = ""
                ) -> str:
    """A city page's opening answer: peaks, reduction, the study's years, the forecaster,
    the pilot year, the record and the nowcast, in Markdown (every number from ``run``)."""
    s = run.summary()
    end = int(s["end_year"])
    pb, pp = run.peak("baseline"), run.peak("policy")
    if pb.peaked and pp.peaked and pb.peak_year == pp.peak_year:
        peaks = f"baseline and smart-city policy both {_peak_phrase(run, pb, 'peak')}"
    else:
        peaks = (f"the baseline {_peak_phrase(run, pb)}; with the smart-city policy it "
                 f"{_peak_phrase(run, pp)}")
    b_end, p_end = float(run.baseline.totals().loc[end]), float(run.policy.totals().loc[end])
    study = STUDY_PEAKS.get(run.city)
    study_text = (f" **Peak years, the study against ours:** baseline {study['baseline']} "
                  f"against {s['baseline_peak']}, policy {study['policy']} against "
                  f"{s['policy_peak']}." if study else
                  " The study gives no peak years for this city.")
    source = {"the study": "the study's batch", "pilot list": "from the pilot list",
              "city file": "from the city file"}
    pilot = ("never (the policy starts in the first forecast year)" if run.pilot_year is None
             else f"{run.pilot_year} ({source.get(run.pilot_origin, run.pilot_origin)})")
    h = run.history
    reason = windowed_reason(h, window)
    record = (f"{int(h.index.min())}–{int(h.index.max())}, {h.attrs['observed']} observed "
              f"years; interpolated (flagged): {_years(h.attrs.get('interpolated', []))}; "
              f"nowcast (flagged): {_years(h.attrs.get('nowcast', []))}"
              + (f"; gaps left open: {_years(h.attrs['gaps'])}" if h.attrs.get("gaps") else "")
              + (f". Windowed models cannot run: {reason}; only the naive models forecast it"
                 if reason else ""))
    head = f"**{run.city} ({name_zh})" if name_zh else f"**{run.city}"
    return (f"{head}: {peaks}.** In {end} the policy emits **{s['reduction_end_pct']:.1f} % "
            f"less** than the baseline ({p_end:,.1f} against {b_end:,.1f} Mt CO2).{study_text}"
            f"\n\n{_forecaster_text(run, model)} **Pilot year:** {pilot}. **Record:** "
            f"{record}.\n\n**Nowcast.** {nowcast_sentence(run, without)}")


def pilot_page_sentence(run: CityRun, table: pd.DataFrame, others: Sequence[int | None]) -> str:
    """A city page's pilot line: its own pilot year's reduction beside the other batches'."""
    end = int(run.leap.end_year)
    col = f"reduction_{end}_pct"
    red = float(run.summary()["reduction_end_pct"])
    parts = [f"{r[col]:.1f} % " + (f"with a pilot in {y}" if y is not None else
                                    f"without a pilot (policy from {r['t0']})")
             for y, (_, r) in zip(others, table.iterrows(), strict=True)]
    own = "never" if run.pilot_year is None else str(run.pilot_year)
    listing = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    return (f"**When the pilot started.** With its own pilot year, {own}, the policy cuts "
            f"{run.city}'s {end} emissions by {red:.1f} %; the same city would cut them by "
            f"{listing}.")
