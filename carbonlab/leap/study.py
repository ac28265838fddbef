"""The city study's four cities explained by computation (issue 24, item 6).

For Beijing, Lanzhou, Hohhot and Shangluo the study gives peak years
(:data:`~carbonlab.leap.pipeline.STUDY_PEAKS`). :func:`study_factors` runs each city with
the chapter's settings (the *reference*) and then changes one choice at a time:

- **data end**: the city's record ends ``cut`` years earlier (the model scores are those
  known by then, the nowcast still reaches the same year);
- **nowcast**: no nowcast, so the forecast starts after the inventory's last year;
- **baseline model**: the study's model (SVR) instead of the reference's (persistence
  when the reference already uses SVR);
- **structure**: on the CEADs data the city's own LEAP file (assumed structure) instead of
  its province's CEADs structure scaled to the city; elsewhere the generic template
  instead of the city's file;
- **policy reading**: the study's yearly rates read the other way (percentage points
  instead of relative growth, or back).

Every peak comes from the book's one rule on inventory + scenario
(:func:`~carbonlab.leap.pipeline.scenario_peak` via :meth:`CityRun.peak`); a peak agrees with
the study's only if it lies in the forecast years (:func:`~carbonlab.leap.pipeline.study_agreement`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.leap.city import CityModel
from carbonlab.leap.engine import scenario_dir
from carbonlab.leap.forecast import LABELS, city_series
from carbonlab.leap.pilots import REPRESENTATIVES
from carbonlab.leap.pipeline import STUDY_PEAKS, CityRun, run_city, study_agreement, with_nowcast

__all__ = ["FACTORS", "study_factors", "study_factors_sentence", "study_factors_table"]

FACTORS: tuple[str, ...] = ("reference", "data end", "nowcast", "baseline model", "structure",
                            "policy reading")
"""The rows of :func:`study_factors` for each city: the reference, then one change each."""

_COLUMNS = ["city", "factor", "setting", "baseline_peak", "policy_peak", "baseline_in_forecast",
            "policy_in_forecast", "baseline_agrees", "policy_agrees", "moves_baseline",
            "moves_policy", "reduction_end_pct", "note"]


def _cut(cities: pd.DataFrame, city: str, years: int) -> tuple[pd.DataFrame, int]:
    """The cities table with ``city``'s record ending ``years`` observed years earlier."""
    end = int(city_series(cities, city).index.max()) - years
    keep = (cities["city"] != city) | (cities["year"] <= end)
    return cities[keep].reset_index(drop=True), end


def _variants(cities: pd.DataFrame, nc: pd.DataFrame, dataset: str, city: str,
              kw: dict[str, Any], evaluation: pd.DataFrame | None, cut: int, nowcast_until: int
              ) -> list[tuple[str, str, Callable[[], CityRun]]]:
    """(factor, setting in words, run) for the reference and each one-at-a-time change
    (``nc``: ``cities`` with the nowcast)."""
    ref_model, ref_reading = kw["model"], kw["reading"]
    ev = evaluation

    def run(table: pd.DataFrame, **over: Any) -> CityRun:
        return run_city(table, city, **{**kw, "evaluation": ev, **over})

    def data_end() -> CityRun:
        short, end = _cut(cities, city, cut)
        known = None if ev is None else ev[(ev["city"] != city) | (ev["year"] <= end)]
        return run_city(with_nowcast(short, dataset, nowcast_until), city,
                        **{**kw, "evaluation": known})

    alt_model = "persistence" if ref_model == "svr" else "svr"
    alt_reading = "pp" if ref_reading == "relative" else "relative"
    template = scenario_dir() / "template.yaml"
    last = int(city_series(cities, city).index.max())
    if str(cities.attrs.get("source", "")).startswith("CEADs"):  # accounts from the province
        structure = "its province's CEADs structure"
        other = ("the city's LEAP file (assumed structure) instead of the province's",
                 lambda: run(nc, accounts="file"))
    else:
        structure = "the city's LEAP file"
        other = ("the generic template instead of the city's LEAP file",
                 lambda: run(nc, leap_model=CityModel.from_yaml(template)))
    return [
        ("reference", f"model {ref_model}, {ref_reading} reading, nowcast to {nowcast_until}, "
                      f"{structure}", lambda: run(nc)),
        ("data end", f"the record ends {last - cut} (not {last}), nowcast to {nowcast_until}",
         data_end),
        ("nowcast", f"no nowcast: the forecast starts after {last}", lambda: run(cities)),
        ("baseline model", f"model {LABELS.get(alt_model, alt_model)}",
         lambda: run(nc, model=alt_model)),
        ("structure", *other),
        ("policy reading", "percentage points" if alt_reading == "pp" else "relative growth",
         lambda: run(nc, reading=alt_reading)),
    ]


def _row(city: str, factor: str, setting: str, make: Callable[[], CityRun],
         ref_years: dict[str, Any]) -> dict[str, Any]:
    """One row of :func:`study_factors` (``ref_years`` holds the reference's peak years)."""
    row: dict[str, Any] = {"city": city, "factor": factor, "setting": setting, "note": ""}
    try:
        r = make()
    except (DataError, ParameterError) as exc:
        row["note"] = str(exc).replace(" (None)", " (not scored on this record)")
        return row
    if factor == "baseline model":
        row["setting"] = f"model {LABELS.get(r.model, r.model)}"
    agr = study_agreement({city: r}).set_index("scenario")
    for sc in ("baseline", "policy"):
        res = r.peak(sc)
        year = res.peak_year if res.peaked else None
        if factor == "reference":
            ref_years[sc] = year
        row[f"{sc}_peak"] = agr.loc[sc, "ours"]
        row[f"{sc}_in_forecast"] = bool(agr.loc[sc, "in_forecast"])
        row[f"{sc}_agrees"] = agr.loc[sc, "agrees"]
        row[f"moves_{sc}"] = factor != "reference" and year != ref_years.get(sc)
    row["reduction_end_pct"] = float(r.summary()["reduction_end_pct"])
    return row


def study_factors(
    cities: pd.DataFrame, dataset: str, *, names: Sequence[str] = REPRESENTATIVES,
    model: str = "auto", reading: str = "relative", horizon_end: int = 2035, window: int = 3,
    models: Sequence[str] | None = None, fast: bool = True,
    evaluation: pd.DataFrame | None = None, cut: int = 3, nowcast_until: int = 2022,
    random_state: int = 0,
) -> pd.DataFrame:
    """One-at-a-time table: which choice moves each study city's peak years (see module doc).

    ``cities``: the inventories without the nowcast (it is added here, to ``nowcast_until``);
    ``evaluation``: the chapter's rolling-origin scores (``all_cities(...)["evaluation"]``),
    so no city is scored again. One row per city and :data:`FACTORS` entry with columns
    ``city, factor, setting, baseline_peak, policy_peak`` (peak texts), ``*_in_forecast``
    (the peak lies in the forecast years), ``*_agrees`` (with the study's, counted only in the
    forecast years; <NA> where the study gives nothing to compare), ``moves_*`` (the peak
    year differs from the reference's), ``reduction_end_pct`` and ``note`` (why a change
    could not run, else empty).
    """
    if cut < 1:
        raise ParameterError(f"cut: the record must end at least one year earlier, got {cut}")
    kw = dict(model=model, reading=reading, horizon_end=horizon_end, window=window,
              models=models, fast=fast, random_state=random_state)
    rows = []
    nc = with_nowcast(cities, dataset, nowcast_until)
    for city in names:
        if city not in STUDY_PEAKS:
            raise ParameterError(f"names: {city!r} is not one of the study's cities "
                                 f"({', '.join(STUDY_PEAKS)})")
        ref_years: dict[str, Any] = {}
        for factor, setting, make in _variants(cities, nc, dataset, city, kw, evaluation, cut,
                                               nowcast_until):
            rows.append(_row(city, factor, setting, make, ref_years))
    out = pd.DataFrame(rows).reindex(columns=_COLUMNS)
    for c in ("baseline_agrees", "policy_agrees", "moves_baseline", "moves_policy",
              "baseline_in_forecast", "policy_in_forecast"):
        out[c] = out[c].astype("boolean")
    out.attrs["units"] = {"reduction_end_pct": "%"}
    out.attrs["horizon_end"] = int(horizon_end)
    return out


def study_factors_table(factors: pd.DataFrame, scenario: str = "baseline") -> pd.DataFrame:
    """The one-at-a-time table for a reader: city x factor, our peak text, the study's beside.

    Short cells so the table fits a page: ``2014 inv.`` (the maximum lies in the
    inventory), ``2022 nc`` (in a nowcast year), ``after 2035`` (not peaked), a bare year for
    a peak in the forecast years; ``*`` marks a change that moves the peak year from the
    reference's, ``–`` a change that cannot run.
    """
    if scenario not in ("baseline", "policy"):
        raise ParameterError(f"scenario: {scenario!r} is not 'baseline' or 'policy'")
    d = factors.copy()
    text = (d[f"{scenario}_peak"].astype(object).astype(str)
            .str.replace(" (in the inventory)", " inv.", regex=False)
            .str.replace(" (nowcast)", " nc", regex=False)
            .str.replace(" (not peaked)", "", regex=False))
    moved = d[f"moves_{scenario}"].fillna(False).astype(bool)
    text = text.where(~moved, text + " *")
    text = text.where(d[f"{scenario}_peak"].notna(), "–")
    d["cell"] = text
    tab = d.pivot(index="city", columns="factor", values="cell")
    tab = tab.reindex(index=list(pd.unique(d["city"])),
                      columns=[f for f in FACTORS if f in tab.columns])
    tab.insert(0, "study", [STUDY_PEAKS[c][scenario] for c in tab.index])
    tab.columns.name = None
    return tab


def study_factors_sentence(factors: pd.DataFrame) -> str:
    """What the one-at-a-time table says, in words (every count computed)."""
    ref = factors[factors["factor"] == "reference"]
    parts = []
    for sc in ("baseline", "policy"):
        agree = ref[f"{sc}_agrees"]
        n_cmp = int(agree.notna().sum())
        n_ok = int(agree.fillna(False).astype(bool).sum())
        n_fc = int(ref[f"{sc}_in_forecast"].fillna(False).astype(bool).sum())
        moves = factors[(factors["factor"] != "reference")
                        & factors[f"moves_{sc}"].fillna(False).astype(bool)]
        by = moves.groupby("factor")["city"].apply(list)
        which = "; ".join(f"{f} ({', '.join(cs)})" for f, cs in by.items()) or "none"
        parts.append(f"the {sc} peak lies in the forecast years for {n_fc} of {len(ref)} "
                     f"cities and agrees with the study's for {n_ok} of {n_cmp}; what moves it: "
                     f"{which}")
    failed = factors[factors["note"].fillna("") != ""]
    tail = ("" if failed.empty else " Changes that could not run: "
            + "; ".join(f"{r.city}, {r.factor} ({r.note})" for r in failed.itertuples()) + ".")
    return (f"With the chapter's settings, {parts[0]}. For the policy, {parts[1]}.{tail}")
