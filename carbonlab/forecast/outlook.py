"""The outlook: chapter 4's inputs, the chosen model, forecasts, ensembles and classes in one object."""


from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.cache import cached
from carbonlab.forecast.ensemble import (
    PeakEnsemble,
    forecast_band,
    national_band,
    peak_probabilities,
)
from carbonlab.forecast.paths import peak_table
from carbonlab.forecast.rule import (
    ALREADY_P,
    CLASS_BEFORE,
    CLASSES,
    KEY_DRIVERS,
    PeakResult,
    find_peak,
)
from carbonlab.models import (
    MODEL_LABELS,
    NAIVE,
    PANEL_MODELS,
    PanelModel,
    Selection,
    get_model,
    select,
)
from carbonlab.regions import resolve_region


def chapter_inputs(dataset: str = "teaching", data_dir: str | os.PathLike[str] | None = None
                   ) -> dict[str, Any]:
    """Panel, drivers, targets and population projection for the chapter on ``dataset``.

    ``"teaching"``: the teaching panel 2005–2021, the five key drivers, the teaching
    targets. ``"ceads"``: the real panel over its whole span with the drivers that cover
    every year, the provincial targets and the observed population
    (:func:`carbonlab.data.panel.forecasting_inputs`).

    Returns a dict with keys ``panel, drivers, targets, population_projection, note``.
    """
    from carbonlab.data import check_dataset, load_panel, load_targets

    check_dataset(dataset)
    if dataset == "teaching":
        return {"panel": load_panel("teaching"), "drivers": KEY_DRIVERS,
                "targets": load_targets("teaching"), "population_projection": None,
                "note": "teaching panel (synthetic), five key drivers, teaching targets"}
    from carbonlab.data import panel as real_panel

    return real_panel.forecasting_inputs(data_dir)


def chosen_model(dataset: str = "teaching", *, seed: int = 0) -> Selection:
    """Chapter 3's rolling-origin selection on ``dataset``'s forecasting inputs (cached).

    The same call in chapter 3, chapter 4, the front page and the region pages, so they
    agree on the forecaster: ``chosen_model(dataset).winner``.
    """
    inputs = chapter_inputs(dataset)
    return select(inputs["panel"], inputs["drivers"], random_state=seed)


def resolve_model(model: str, selection: Selection) -> str:
    """``"auto"`` → the selection's winner; any other registry name is kept (checked)."""
    if model == "auto":
        return selection.winner
    if model not in PANEL_MODELS:
        get_model(model)  # unknown names: the registry's one-line error
        raise ParameterError(f"model: {model!r} needs a univariate window; on the panel use "
                             f"auto or one of {', '.join(PANEL_MODELS)}")
    return model


@dataclass
class Outlook:
    """Who peaks when on a scenario: the book's headline answer (stable fields).

    ``table``: one row per region — ``region, peak_year, peak_mt, peaked, end_gap_pct,
    last_growth_pct, class`` (of the median forecast) and ``p_by_2025, p_by_2030,
    median_peak_year, n_members`` (over the ensemble members);
    ``band``: region, year, lo_mt, hi_mt, point_mt, projected (5–95 % band, median point);
    ``national``: year, emissions_mt (median of the members' 30-region sums);
    ``national_band``: year, lo_mt, hi_mt, point_mt; ``national_peak``: its
    :class:`PeakResult`; ``counts``: regions per class (:data:`CLASSES`);
    ``model``: the registry name forecast with; ``selection``: chapter 3's rolling-origin
    :class:`~carbonlab.models.Selection` on the same data (its ``winner`` is the model when
    ``model="auto"``); ``note``: one line naming data, model, ensemble and scenario.
    The inputs are kept for further analysis: ``panel``, ``drivers``, ``targets``,
    ``scenario``, driver ``paths``, ``population``, the fitted ``ensemble`` and its
    ``members`` (member −1 is the median). :meth:`region` gives one region's answer,
    :meth:`adjustment_model` the model for :func:`peak_adjustment`; ``naive`` whether the
    forecaster is a naive baseline (:data:`~carbonlab.models.NAIVE`) that ignores the drivers.
    """

    table: pd.DataFrame
    national: pd.DataFrame
    national_peak: PeakResult
    counts: pd.Series
    note: str
    panel: pd.DataFrame
    drivers: tuple[str, ...]
    targets: pd.DataFrame | None
    scenario: Any
    paths: pd.DataFrame
    population: pd.DataFrame
    ensemble: PeakEnsemble
    members: pd.DataFrame
    model: str = ""
    selection: Selection | None = None
    band: pd.DataFrame = field(default_factory=pd.DataFrame)
    national_band: pd.DataFrame = field(default_factory=pd.DataFrame)
    _adjustment: tuple[str, Any] | None = field(default=None, init=False, repr=False)

    @property
    def naive(self) -> bool:
        """True when the forecaster is a naive baseline that ignores the drivers."""
        return self.model in NAIVE

    def adjustment_model(self) -> tuple[str, Any]:
        """(name, fitted model) for the inverse problem: the forecaster if it responds to the
        drivers, otherwise the best driver-based model of the selection (the naive baselines
        persistence and drift ignore the drivers, so no driver change could move them).
        Fitted once per outlook."""
        if self._adjustment is None:
            if not self.naive:
                self._adjustment = (self.model, self.ensemble.point_)
            else:
                name = self.selection.best_driver_model if self.selection is not None else "fe"
                self._adjustment = (name, PanelModel(
                    name, self.drivers, random_state=self.ensemble.random_state).fit(self.panel))
        return self._adjustment

    def region(self, region: str) -> dict[str, Any]:
        """One region's answer: ``region, class, peak_year, peak_mt, peaked, p_by_2025,
        p_by_2030, band_2030_mt`` (5–95 % in 2030), ``peak`` (:class:`PeakResult`),
        ``median_peak_year`` (of the members that peak), ``already`` (class
        :data:`CLASS_BEFORE`, or maximum before the last data year with P(peak ≤ 2025) ≥
        :data:`ALREADY_P`), ``disagree`` (the median path's peak year differs from the
        members' median peak year, or its peak lies below the 2030 band's top) and
        ``caveat``: a sentence saying what the median path does and where the members
        disagree (empty when the path has not peaked, or has already peaked and the members
        agree)."""
        r = resolve_region(region)
        rows = self.table[self.table["region"] == r]
        if rows.empty:
            raise ParameterError(f"region: {r!r} is not in the outlook")
        row = rows.iloc[0]
        b = self.band[(self.band["region"] == r)]
        last = b[b["year"] == b["year"].max()].iloc[0]
        pt = self.members[(self.members["member"] == -1) & (self.members["region"] == r)]
        pk = find_peak(pt["year"].to_numpy(), pt["emissions_mt"].to_numpy())
        t_last = int(self.panel["year"].max())
        p25, p30 = float(row["p_by_2025"]), float(row["p_by_2030"])
        med = float(row["median_peak_year"]) if "median_peak_year" in row else float("nan")
        lo, hi = float(last["lo_mt"]), float(last["hi_mt"])
        already = bool(row["class"] == CLASS_BEFORE
                       or (pk.peaked and pk.peak_year < t_last and p25 >= ALREADY_P))
        above = pk.peaked and hi > pk.peak_value
        disagree = bool(pk.peaked and (np.isnan(med) or abs(med - pk.peak_year) >= 1 or above))
        caveat = ""
        if pk.peaked and not already:
            caveat = (f"The median path's maximum is in {pk.peak_year}"
                      + (", the last data year, so the data do not yet show a decline"
                         if pk.peak_year == t_last else "")
                      + f"; P(peak ≤ 2025) = {p25:.2f} and P(peak ≤ 2030) = {p30:.2f} across "
                      "the ensemble members.")
        if disagree:
            caveat += ((" " if caveat else "") + "The median path and the members disagree: "
                       + (f"the members that peak do so in {med:.0f} (median)"
                          if not np.isnan(med) else "no member peaks by 2030")
                       + (f", and the 2030 band ({lo:,.0f}–{hi:,.0f} Mt CO2) reaches above "
                          f"the path's peak ({pk.peak_value:,.0f} Mt CO2)" if above else "")
                       + ".")
        return {"region": r, "class": row["class"], "peak_year": int(row["peak_year"]),
                "peak_mt": float(row["peak_mt"]), "peaked": bool(row["peaked"]),
                "p_by_2025": p25, "p_by_2030": p30, "band_2030_mt": (lo, hi), "peak": pk,
                "median_peak_year": med, "already": already, "disagree": disagree,
                "caveat": caveat}


def outlook(dataset: str = "teaching", *, model: str = "auto", n_boot: int = 50, seed: int = 0,
            scenario: str = "baseline") -> Outlook:
    """Forecast every region on ``scenario`` with a (cached) ensemble and classify.

    ``model="auto"`` forecasts with chapter 3's rolling-origin winner on the same data
    (:func:`chosen_model`); a registry name overrides it. The forecast chapter, the front
    page and the region pages all call this, so they quote the same numbers and share the
    cache.
    """
    from carbonlab import scenarios

    inputs = chapter_inputs(dataset)
    panel, drivers = inputs["panel"], tuple(inputs["drivers"])
    selection = select(panel, drivers, random_state=seed)
    name = resolve_model(model, selection)
    sc = scenarios.load_scenario(scenario)
    paths = scenarios.driver_paths(panel, sc, drivers=list(drivers), targets=inputs["targets"])
    population = scenarios.population_path(panel, projection=inputs["population_projection"])
    ens = PeakEnsemble(name, drivers=drivers, n_boot=n_boot, random_state=seed).fit(panel)
    cols = ["region", "year", "emissions_mt", "population_10k", *drivers]
    members = cached("members", [panel[cols].sort_values(["region", "year"], ignore_index=True),
                                 paths, population, {"model": name, "drivers": list(drivers),
                                                     "n_boot": n_boot, "seed": seed}],
                     lambda: ens.forecast(panel, paths, population))
    point = members[members["member"] == -1]
    table = peak_table(point).merge(peak_probabilities(members), on="region")
    nband = national_band(members)
    nat = nband.rename(columns={"point_mt": "emissions_mt"})[["year", "emissions_mt"]]
    counts = table["class"].value_counts().reindex(list(CLASSES), fill_value=0)
    how = "chapter 3's rolling-origin winner" if model == "auto" else "chosen by the reader"
    note = (f"{inputs['note']}; model {MODEL_LABELS[name]} ({how}), {n_boot} ensemble members, "
            f"scenario {sc.name}")
    return Outlook(table, nat, find_peak(nat["year"], nat["emissions_mt"]), counts, note,
                   panel, drivers, inputs["targets"], sc, paths, population, ens, members,
                   model=name, selection=selection, band=forecast_band(members),
                   national_band=nband)
