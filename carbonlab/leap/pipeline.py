"""One city end to end: data -> scored forecasts -> baseline -> LEAP model -> scenarios -> peaks.

:func:`run_city` reads the city's record (all observed years, short gaps interpolated),
scores the models rolling-origin (:func:`carbonlab.leap.forecast.evaluate_city`, cached),
forecasts the baseline with the city's winner (or the model or ensemble asked for),
calibrates the city's LEAP model to the inventory and that baseline, and runs baseline and
policy. Peaks use the one rule :func:`carbonlab.peaks.find_peak` on inventory + scenario.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.leap.city import CityModel, ScenarioResult
from carbonlab.leap.engine import diffusion_stage
from carbonlab.leap.forecast import (
    CITY_MODELS,
    HORIZON,
    LABELS,
    choose_model,
    city_series,
    evaluate_city,
    forecast_city,
    nested_selection,
    selection_sentence,
    windowed_reason,
)
from carbonlab.leap.pilots import BATCHES, REPRESENTATIVES, STUDY_PILOTS
from carbonlab.peaks import PEAK_TOL, find_peak

__all__ = ["STUDY_PEAKS", "CityRun", "agreement_sentence", "compare_cities", "evaluate_cached",
           "export_workbook", "forecast_cached", "nowcast_sentence", "peak_text", "pilot_effect", "pilot_sentence",
           "readings_table", "run_city", "scenario_peak", "scored_cities", "study_agreement",
           "with_nowcast"]

NUMERIC_RTOL = 1e-9
"""Values within this relative distance of a path's maximum tie with it in
:func:`scenario_peak` (the LEAP calibration reproduces a forecast to about 1e-10, so a flat
persistence path comes back with rounding noise that must not make a "peak")."""

STUDY_PEAKS: dict[str, dict[str, str]] = {
    "Beijing": {"baseline": "no year (growth slowing)", "policy": "2024"},
    "Lanzhou": {"baseline": "2028", "policy": "2025"},
    "Hohhot": {"baseline": "2032", "policy": "2027"},
    "Shangluo": {"baseline": "after 2035", "policy": "before 2035"},
}
"""The city study's peak years (its sections 1.6 and 2.3; for Beijing's SVR baseline it
gives no year, only slowing growth)."""


def scenario_peak(history: pd.Series, path: pd.Series | np.ndarray, years: Any = None,
                  tol: float = PEAK_TOL) -> Any:
    """The book's one peak rule (:func:`~carbonlab.peaks.find_peak`) on inventory + scenario.

    ``history``: the record (Mt CO2 by year); ``path``: the scenario's totals from the base
    year on (a Series by year, or values with ``years``). The inventory's years before the
    path come first. Values within :data:`NUMERIC_RTOL` of the maximum count as the maximum,
    so the peak year of a flat path (persistence) is the first year of its level, never a
    forecast year picked by rounding noise.
    """
    if years is None:
        years, path = path.index.to_numpy(int), path.to_numpy(float)
    yrs, vals = np.asarray(years, int), np.asarray(path, float)
    hist = history[history.index < yrs.min()]
    y = np.concatenate([hist.index.to_numpy(int), yrs])
    v = np.concatenate([hist.to_numpy(float), vals])
    top = float(np.max(v))
    v = np.where(np.abs(v - top) <= NUMERIC_RTOL * abs(top), top, v)
    return find_peak(y, v, tol=tol)


def peak_text(res: Any, end_year: int, first_forecast: int, nowcast: Sequence[int] = ()) -> str:
    """'2024', '2010 (in the inventory)', '2021 (nowcast)' or 'after 2035 (not peaked)'."""
    if not res.peaked:
        return f"after {end_year} (not peaked)"
    if res.peak_year in set(nowcast):
        return f"{res.peak_year} (nowcast)"
    if res.peak_year < first_forecast:
        return f"{res.peak_year} (in the inventory)"
    return str(res.peak_year)


@dataclass
class CityRun:
    """Everything chapter 5 shows for one city."""

    city: str
    pilot_year: int | None
    pilot_origin: str              # "the study", "pilot list", "city file", "never"
    history: pd.Series             # all observed years (+ flagged interpolations), Mt CO2
    evaluation: pd.DataFrame       # rolling-origin scores (forecast.evaluate_city)
    model: str                     # the baseline model ("ensemble" for a weighted mix)
    forecast: pd.Series            # the ML baseline, Mt CO2
    leap: CityModel                # calibrated
    baseline: ScenarioResult
    policy: ScenarioResult
    tol: float = PEAK_TOL
    selection: pd.Series | None = None  # the city's row of forecast.nested_selection

    def peak(self, scenario: str) -> Any:
        """:func:`~carbonlab.peaks.find_peak` of inventory + scenario path."""
        run = self.baseline if scenario == "baseline" else self.policy
        return scenario_peak(self.history, run.totals(), tol=self.tol)

    def summary(self) -> dict[str, Any]:
        """City, pilot, model, peak years (text and number), end-year reduction (%)."""
        end = int(self.leap.end_year)
        first = int(self.leap.base_year) + 1
        out: dict[str, Any] = {"city": self.city, "pilot_year": self.pilot_year,
                               "model": LABELS.get(self.model, self.model)}
        for sc in ("baseline", "policy"):
            res = self.peak(sc)
            out[f"{sc}_peak"] = peak_text(res, end, first, self.history.attrs.get("nowcast", []))
            out[f"{sc}_peak_year"] = res.peak_year if res.peaked else pd.NA
            out[f"{sc}_peak_mt"] = res.peak_value
        b = self.baseline.totals().loc[end]
        p = self.policy.totals().loc[end]
        out["end_year"] = end
        out["reduction_end_pct"] = float(100 * (1 - p / b))
        out["calibration_factor"] = float(self.leap.scale)
        acc = self.leap.spec.get("accounts")
        out["structure"] = acc["source"] if acc else "the city file's assumptions"
        out["nowcast_years"] = ", ".join(map(str, self.history.attrs.get("nowcast", []))) or "none"
        sel = self.selection
        out["oos_ratio_to_persistence"] = (float(sel["ratio_to_persistence"]) if sel is not None
                                           else float("nan"))
        return out

    def selection_text(self) -> str:
        """The nested model check in words (:func:`~carbonlab.leap.forecast.selection_sentence`)."""
        return selection_sentence(self.selection, self.model)


def _agrees(res: Any, first: int, study: str, end: int | None = None) -> bool | None:
    """Our peak against the study's words; a peak counts only if it lies in the forecast years.

    "after Y" agrees with a path still rising at its end only if that end (``end``) is Y or
    later: not peaked by 2030 says nothing about 2035.
    """
    words = str(study).split()
    in_fc = bool(res.peaked) and res.peak_year >= first
    if words and words[0].isdigit():
        return in_fc and res.peak_year == int(words[0])
    if words[:1] == ["after"]:    # still rising at the end: the maximum is the last forecast
        if end is not None and end < int(words[1]):
            return None           # our horizon stops before the study's bound
        return (not res.peaked) and res.peak_year >= first
    if words[:1] == ["before"]:
        return in_fc and res.peak_year < int(words[1])
    return None                   # e.g. "no year (growth slowing)": nothing to compare


def study_agreement(runs: Mapping[str, CityRun]) -> pd.DataFrame:
    """Our peak years next to the study's (:data:`STUDY_PEAKS`) for the cities it names.

    One row per city and scenario: ``city, scenario, study, ours, in_forecast, agrees``.
    A peak agrees only if it lies in the forecast years (a maximum in the inventory is the
    data's, not a forecast's); ``agrees`` is <NA> where the study gives nothing to compare.
    """
    rows = []
    for city, run in runs.items():
        if city not in STUDY_PEAKS:
            continue
        first, end = int(run.leap.base_year) + 1, int(run.leap.end_year)
        for sc in ("baseline", "policy"):
            res = run.peak(sc)
            ok = _agrees(res, first, STUDY_PEAKS[city][sc], end)
            rows.append({"city": city, "scenario": sc, "study": STUDY_PEAKS[city][sc],
                         "ours": peak_text(res, end, first, run.history.attrs.get("nowcast", [])),
                         "in_forecast": bool(res.peaked and res.peak_year >= first),
                         "agrees": pd.NA if ok is None else ok})
    out = pd.DataFrame(rows, columns=["city", "scenario", "study", "ours", "in_forecast",
                                      "agrees"])
    out["agrees"] = out["agrees"].astype("boolean")
    return out


def agreement_sentence(agreement: pd.DataFrame) -> str:
    """:func:`study_agreement` counted in words, per scenario."""
    parts = []
    for sc in ("baseline", "policy"):
        d = agreement[(agreement["scenario"] == sc) & agreement["agrees"].notna()]
        ok = list(d.loc[d["agrees"].astype(bool), "city"])
        parts.append(f"for the {sc} in {len(ok)} of {len(d)} cities"
                     + (f" ({', '.join(ok)})" if ok else ""))
    n_inv = int((~agreement["in_forecast"]).sum())
    return (f"Our peak years agree with the study's {parts[0]} and {parts[1]}, counting a peak "
            f"only where it lies in the forecast years; {n_inv} of our {len(agreement)} peak "
            "years lie outside them (the inventory's maximum, or no peak by the end).")


def with_nowcast(cities: pd.DataFrame, dataset: str, until: int = 2022) -> pd.DataFrame:
    """The cities table extended to ``until`` with each province's growth (flagged nowcast).

    The province totals are CEADs' 2001-2022 release for ``"ceads"`` and the panel's own
    emissions for ``"teaching"`` (:func:`carbonlab.data.cities.nowcast`).
    """
    from carbonlab.data import check_dataset, load_panel
    from carbonlab.data.cities import nowcast

    check_dataset(dataset)
    if dataset == "ceads":
        from carbonlab.data.ceads import ceads_province_totals

        totals = ceads_province_totals()  # the 2001-2022 release
    else:
        totals = load_panel(dataset)[["region", "year", "emissions_mt"]]
    return nowcast(cities, totals, until)


def nowcast_sentence(run: CityRun, without: CityRun) -> str:
    """The answer with and without the nowcast years, in words."""
    years = run.history.attrs.get("nowcast", [])
    if not years:
        return (f"{run.city}'s record reaches {int(run.history.index.max())}: no year is "
                "nowcast.")
    a, b = run.summary(), without.summary()
    same = (a["baseline_peak"] == b["baseline_peak"] and a["policy_peak"] == b["policy_peak"])
    return (f"Nowcast {years[0]}-{years[-1]} ({run.city} grown as its province, flagged, "
            f"never scored): baseline peak {a['baseline_peak']}, policy peak "
            f"{a['policy_peak']}, {a['end_year']} reduction {a['reduction_end_pct']:.1f} %. "
            f"Without it (forecast from {int(without.history.index.max())}): "
            f"{b['baseline_peak']}, {b['policy_peak']}, {b['reduction_end_pct']:.1f} %"
            + (" — the same peak years." if same else "."))


def export_workbook(run: CityRun, path: str | Path) -> Path:
    """Write a city's results as LEAP users expect them: one workbook, written atomically.

    Sheets: ``summary`` (the :meth:`CityRun.summary` fields), ``results`` (every branch,
    fuel, scenario and year: energy in TJ, emissions in Mt CO2, electricity also at the grid
    factor), ``levers`` (each lever by scenario and year, fraction), ``history`` (the
    record, Mt CO2, with the interpolated and nowcast years flagged).
    """
    from carbonlab._util import atomic_path

    summ = pd.DataFrame({"field": list(run.summary()),
                         "value": [str(v) for v in run.summary().values()]})
    results = pd.concat([run.baseline.results, run.policy.results], ignore_index=True)
    levers = pd.concat([r.levers.reset_index().assign(scenario=r.scenario)
                        for r in (run.baseline, run.policy)], ignore_index=True)
    h = run.history
    hist = pd.DataFrame({"year": h.index.to_numpy(int), "emissions_mt": h.to_numpy(float),
                         "interpolated": h.index.isin(h.attrs.get("interpolated", [])),
                         "nowcast": h.index.isin(h.attrs.get("nowcast", []))})
    with atomic_path(path, suffix=".xlsx") as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, df in (("summary", summ), ("results", results), ("levers", levers),
                             ("history", hist)):
                df.to_excel(xw, sheet_name=name, index=False)
    return Path(path)


def scored_cities(cities: pd.DataFrame, city: str, all_cities: int = 0,
                  fast: bool = False) -> list[str] | None:
    """The cities chapter 5 scores in its all-cities table, as :func:`all_cities` takes them.

    None (every city) by default; with ``all_cities=n`` (or ``fast``, n = 6) the first n
    cities of the table plus ``city`` and the study's four representative cities. Chapter 5,
    the city pages and their tests all call this, so they ask :func:`all_cities` for the
    same cache entry.
    """
    if all_cities < 0:
        raise ParameterError(f"all_cities: must be 0 (every city) or a positive count, "
                             f"got {all_cities}")
    if not (all_cities > 0 or fast):
        return None
    known = list(pd.unique(cities["city"]))
    wanted = (*known[: (all_cities or 6)], city, *REPRESENTATIVES)
    return list(dict.fromkeys(c for c in wanted if c in known))


def evaluate_cached(series: pd.Series, models: Sequence[str] = CITY_MODELS, *, window: int = 3,
                    horizon: int = HORIZON, n_origins: int = 8, random_state: int = 0,
                    fast: bool = False, cache: bool = True) -> pd.DataFrame:
    """:func:`~carbonlab.leap.forecast.evaluate_city` through the content-keyed cache."""
    from carbonlab.cache import cached

    parts = [series.to_frame(), sorted(series.attrs.get("interpolated", [])), tuple(models),
             window, horizon, n_origins, random_state, fast]
    return cached("leap-city-eval", parts,
                  lambda: evaluate_city(series, models, window=window, horizon=horizon,
                                        n_origins=n_origins, random_state=random_state,
                                        fast=fast), enabled=cache)


def _pilot(city: str, pilots: Any, model: CityModel) -> tuple[int | None, str]:
    if pilots is not None:
        table = dict(zip(pilots["city"], pilots["pilot_year"], strict=True)) \
            if isinstance(pilots, pd.DataFrame) else dict(pilots)
        if city in table:
            py = table[city]
            py = None if py is None or pd.isna(py) else int(py)
            if py is not None and py not in BATCHES:
                raise ParameterError(f"pilots: {city}: {py} is not a pilot batch {BATCHES}")
            return py, "pilot list"
    if city in STUDY_PILOTS:
        return STUDY_PILOTS[city], "the study"
    if model.pilot_year is not None:
        return model.pilot_year, "city file"
    return None, "never"


def forecast_cached(series: pd.Series, model: str | Mapping[str, float], horizon_end: int, *,
                    window: int = 3, random_state: int = 0, fast: bool = False,
                    cache: bool = True) -> pd.Series:
    """:func:`~carbonlab.leap.forecast.forecast_city` through the content-keyed cache.

    The key is the record (values, years and its interpolated and nowcast years), the model
    or ensemble weights and the settings, so chapter 5 and a city page that forecast the same
    city the same way fit the model once.
    """
    from carbonlab.cache import cached

    weights = sorted(model.items()) if isinstance(model, Mapping) else model
    parts = [series.to_frame(), sorted(series.attrs.get("interpolated", [])),
             sorted(series.attrs.get("nowcast", [])), weights, int(horizon_end), window,
             random_state, fast]
    out = cached("leap-city-forecast", parts,
                 lambda: forecast_city(series, model, horizon_end, window=window,
                                       random_state=random_state, fast=fast), enabled=cache)
    out.attrs.setdefault("model", model if isinstance(model, str) else "ensemble")
    return out


def _checked_forecast(hist: pd.Series, horizon_end: int, forecast: pd.Series) -> pd.Series:
    """A forecast passed to :func:`run_city`, if it covers the record's end to ``horizon_end``."""
    want = list(range(int(hist.index.max()) + 1, int(horizon_end) + 1))
    if [int(y) for y in forecast.index] != want:
        raise ParameterError(f"forecast: years must run {want[0]}-{want[-1]} (the record ends "
                             f"{int(hist.index.max())}), got {int(forecast.index.min())}-"
                             f"{int(forecast.index.max())}")
    return forecast


def _structure(lm: CityModel, cities: pd.DataFrame, hist: pd.Series, accounts: str
               ) -> CityModel:
    """The city model with its base-year structure from data (``"ceads"``) or its file."""
    if accounts == "auto":
        accounts = "ceads" if str(cities.attrs.get("source", "")).startswith("CEADs") else "file"
    if accounts not in ("ceads", "file"):
        raise ParameterError(f"accounts: {accounts!r} is not 'auto', 'ceads' or 'file'")
    if accounts == "file":
        return lm
    prov = cities.loc[cities["city"] == hist.attrs["city"], "province"].iloc[0]
    return lm.with_accounts(str(prov), int(hist.index.max()), float(hist.iloc[-1]))


def run_city(
    cities: pd.DataFrame, city: str, *, model: str = "auto", horizon_end: int = 2035,
    window: int = 3, pilots: pd.DataFrame | Mapping[str, Any] | None = None,
    reading: str = "relative", baseline: str = "ml", max_gap: int = 1, n_origins: int = 8,
    fast: bool = False, tol: float = PEAK_TOL, random_state: int = 0, cache: bool = True,
    leap_model: CityModel | None = None, models: Sequence[str] | None = None,
    evaluation: pd.DataFrame | None = None, forecast: pd.Series | None = None,
    accounts: str = "auto",
) -> CityRun:
    """Run one city end to end (see the module docstring).

    ``model``: ``"auto"`` (the city's rolling-origin winner where choosing it beats
    persistence out of sample, else persistence: :func:`~carbonlab.leap.forecast.choose_model`), ``"ensemble"`` (weights
    1/mean APE) or a name in :data:`~carbonlab.leap.forecast.CITY_MODELS`.
    ``baseline``: ``"ml"`` (LEAP baseline reproduces the ML forecast, as the study) or
    ``"drivers"`` (LEAP's own GDP/population-driven projection). ``reading``: how the
    study's yearly rates are read (``"relative"``, the study's, or ``"pp"``). ``pilots``: a mapping or a
    :func:`~carbonlab.leap.pilots.read_pilot_list` table; default the study's four.
    ``models``: the candidates (default all six; without the LSTM when ``fast``).
    ``evaluation``: scores already computed (e.g. ``all_cities(...)["evaluation"]``; the
    rows of this city are used) instead of scoring the city here; ``fast`` then should
    match the setting they were computed with, since the chosen model is refitted with it.
    ``forecast``: the ML baseline already made with the chosen model
    (:func:`~carbonlab.leap.forecast.forecast_city`, Mt CO2 from the year after the record to
    ``horizon_end``) instead of refitting it here.
    ``accounts``: where the base-year structure comes from: ``"ceads"`` (the province's
    CEADs structure scaled to the city, :meth:`CityModel.with_accounts`), ``"file"`` (the
    city file's assumptions) or ``"auto"`` (``"ceads"`` for CEADs city data).
    """
    if baseline not in ("ml", "drivers"):
        raise ParameterError(f"baseline: {baseline!r} is not 'ml' or 'drivers'")
    hist = city_series(cities, city, max_gap=max_gap)
    name = hist.attrs["city"]
    if models is None:
        models = [m for m in CITY_MODELS if not (fast and m == "lstm")]
    if evaluation is not None:
        ev = evaluation[(evaluation["city"] == name) & evaluation["model"].isin(models)].copy()
        ev.attrs["reason"] = windowed_reason(hist, window)
    else:
        ev = evaluate_cached(hist, models, window=window, n_origins=n_origins,
                             random_state=random_state, fast=fast, cache=cache)
    if ev.empty:
        raise DataError(f"{name}: no year can be scored ({ev.attrs.get('reason')})")
    choice = choose_model(ev, model)
    fc = _checked_forecast(hist, horizon_end, forecast) if forecast is not None else \
        forecast_cached(hist, choice, horizon_end, window=window, random_state=random_state,
                        fast=fast, cache=cache)
    lm = (leap_model or CityModel.for_city(name)).copy()
    py, origin = _pilot(name, pilots, lm)
    lm.pilot_year = py
    lm.city = name
    lm = _structure(lm, cities, hist, accounts).with_policy(reading=reading)
    lm.end_year = int(horizon_end)
    cal = lm.calibrate(hist, fc if baseline == "ml" else None)
    used = str(fc.attrs.get("model", choice if isinstance(choice, str) else "ensemble"))
    nested = nested_selection(ev)
    sel = nested.loc[name] if name in nested.index else None
    return CityRun(name, py, origin, hist, ev, used, fc, cal, cal.run("baseline"),
                   cal.run("policy"), tol, sel)


def compare_cities(
    cities: pd.DataFrame, names: Sequence[str] = REPRESENTATIVES, skip_errors: bool = True,
    **kw: Any,
) -> tuple[pd.DataFrame, dict[str, CityRun]]:
    """:func:`run_city` for several cities: a summary table and the runs by city.

    With ``skip_errors`` a city that cannot run is left out and its one-line reason kept in
    ``table.attrs["skipped"]``.
    """
    runs: dict[str, CityRun] = {}
    skipped: dict[str, str] = {}
    for c in names:
        try:
            r = run_city(cities, c, **kw)
            runs[r.city] = r
        except (DataError, ParameterError) as exc:
            if not skip_errors:
                raise
            skipped[c] = str(exc)
    tab = pd.DataFrame([r.summary() for r in runs.values()])
    tab.attrs["skipped"] = skipped
    return tab, runs


def pilot_effect(run: CityRun, pilot_years: Sequence[int | None] = (2012, 2015, None)
                 ) -> pd.DataFrame:
    """The same calibrated city with different pilot years: policy peak and reductions.

    ``strength_left_pct`` is the diffusion still to come after the base year,
    ``100 (1 - S(t_b))`` (%): the base year's data contain the rest, so only this part
    moves the levers (:func:`~carbonlab.leap.engine.diffuse`).
    """
    rows = []
    end = run.leap.end_year
    base = run.baseline.totals()
    r = float(next(iter(run.leap.levers.values()))["r"])
    for py in pilot_years:
        m = run.leap.with_policy(pilot_year=py)
        pol = pd.Series(m.total_emissions("policy"), index=m.years())
        res = scenario_peak(run.history, pol, tol=run.tol)
        left = 100 * (1 - float(diffusion_stage([m.base_year], r, m.t0())[0]))
        row = {"pilot_year": "never (hypothetical start " + str(int(m.t0())) + ")" if py is None
               else str(py), "t0": int(m.t0()), "strength_left_pct": left,
               "policy_peak": peak_text(res, end, m.base_year + 1)}
        for y in (2025, 2030, end):
            if y in pol.index:
                row[f"reduction_{y}_pct"] = float(100 * (1 - pol.loc[y] / base.loc[y]))
        rows.append(row)
    return pd.DataFrame(rows)


def pilot_sentence(run: CityRun, table: pd.DataFrame) -> str:
    """What :func:`pilot_effect`'s table says, in words (every number and order computed)."""
    end = run.leap.end_year
    col = f"reduction_{end}_pct"
    names = [("a city that never joined (policy from " + str(int(t0)) + ")"
              if str(py).startswith("never") else f"a {py} pilot")
             for py, t0 in zip(table["pilot_year"], table["t0"], strict=True)]

    def listing(vals: Sequence[str]) -> str:
        return ", ".join(vals[:-1]) + (" and " if len(vals) > 1 else "") + vals[-1]

    left = listing([f"{n} {v:.0f} %" for n, v in zip(names, table["strength_left_pct"],
                                                      strict=True)])
    reds = listing([f"{v:.1f} %" for v in table[col]])
    order = np.argsort(table["strength_left_pct"].to_numpy())
    red_sorted = table[col].to_numpy()[order]
    if np.all(np.diff(red_sorted) > 0):
        link = "the more diffusion is left, the larger the reduction"
    elif np.all(np.diff(red_sorted) < 0):
        link = "the reduction shrinks as more diffusion is left (the caps bind)"
    else:
        link = "the reduction does not follow the diffusion left in one direction"
    return (f"The data up to {run.leap.base_year} already contain the diffusion so far, so "
            f"only the strength still to come moves the levers: {left} of it. In {end} the "
            f"policy cuts emissions by {reds} respectively; {link}.")


def readings_table(run: CityRun) -> pd.DataFrame:
    """Both readings of the study's yearly rates: lever levels and reductions at the end."""
    rows = []
    end = run.leap.end_year
    base = run.baseline.totals()
    for reading, label in (("relative", "relative growth a year"), ("pp", "percentage points a year")):
        m = run.leap.with_policy(reading=reading)
        lv = m.lever_paths("policy")
        pol = pd.Series(m.total_emissions("policy"), index=m.years())
        res = scenario_peak(run.history, pol, tol=run.tol)
        row = {"reading": label, "used": reading == run.leap.reading}
        for k in ("ev_sales_share", "industrial_pv", "energy_saving"):
            row[f"{k}_{end}_pct"] = float(100 * lv[k].loc[end])
        row[f"reduction_{end}_pct"] = float(100 * (1 - pol.loc[end] / base.loc[end]))
        row["policy_peak"] = peak_text(res, end, m.base_year + 1)
        rows.append(row)
    return pd.DataFrame(rows)
