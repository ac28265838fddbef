"""The outlook: chapter 4's inputs, the chosen model, forecasts, ensembles and classes in one object."""


from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.cache import cached
from carbonlab.forecast.calibrate import (
    calibration_check,
    calibration_summary,
    class_from_probabilities,
    ensemble_models,
    likelihood,
    pooled_members,
)
from carbonlab.forecast.ensemble import (
    forecast_band,
    national_band,
    peak_probabilities,
)
from carbonlab.forecast.paths import forecast, peak_table
from carbonlab.forecast.rule import (
    ALREADY_P,
    CLASS_BEFORE,
    CLASSES,
    KEY_DRIVERS,
    PeakResult,
    find_peak,
)
from carbonlab.forecast.skill import Skill, skill
from carbonlab.models import (
    MODEL_LABELS,
    NAIVE,
    PANEL_MODELS,
    PanelModel,
    Selection,
    get_model,
)
from carbonlab.regions import resolve_region

AS_OF_YEARS: int = 9
"""Years of data an as-of year needs before it: the backtest's first origin is the sixth data
year and the calibration check needs four origins before the as-of year."""


def chapter_inputs(dataset: str = "teaching", data_dir: str | os.PathLike[str] | None = None,
                   *, as_of: int | None = None) -> dict[str, Any]:
    """Panel, drivers, targets and population projection for the chapter on ``dataset``.

    ``"teaching"``: the teaching panel, the five key drivers, the teaching targets.
    ``"ceads"``: the real panel over its whole span with the drivers that cover every year,
    the provincial targets and the population projection
    (:func:`carbonlab.data.panel.forecasting_inputs`). ``as_of``: only what was known in
    that year — the panel to ``as_of``, the targets published by then, and the population
    rule on the truncated panel instead of a projection made later.

    Returns a dict with keys ``panel, drivers, targets, population_projection, note``.
    """
    from carbonlab.data import check_dataset, load_panel, load_targets

    check_dataset(dataset)
    if dataset == "teaching":
        out = {"panel": load_panel("teaching"), "drivers": KEY_DRIVERS,
               "targets": load_targets("teaching"), "population_projection": None,
               "note": "teaching panel (synthetic), five key drivers, teaching targets"}
    else:
        from carbonlab.data import panel as real_panel

        out = real_panel.forecasting_inputs(data_dir)
    if as_of is None:
        return out
    p = out["panel"]
    y0, y1 = int(p["year"].min()), int(p["year"].max())
    if isinstance(as_of, bool) or not isinstance(as_of, int | np.integer) or not (
            y0 + AS_OF_YEARS <= as_of <= y1):
        raise ParameterError(f"as_of: a year from {y0 + AS_OF_YEARS} to {y1} (the data span "
                             f"{y0}–{y1}; the backtest and its calibration check need "
                             f"{AS_OF_YEARS} years before it), got {as_of!r}")
    cut = p[p["year"] <= as_of].reset_index(drop=True)
    # the UN WPP 2024 projection was not known in an earlier year: the population rule then
    # rolls each province's own trend forward from the cut data
    cut.attrs.update({k: v for k, v in p.attrs.items() if k != "national_population"})
    targets = _published(out["targets"], int(as_of), dataset)
    n_t = 0 if targets is None else len(targets)
    return {**out, "panel": cut, "targets": targets, "population_projection": None,
            "note": f"{out['note']}; as of {as_of}: data to {as_of}, {n_t} target rows "
                    f"published by then, population by the rule on the data to {as_of}"}


def chapter_skill(dataset: str = "teaching", *, as_of: int | None = None,
                  random_state: int = 0) -> Skill:
    """The chapter's backtest (:func:`~carbonlab.forecast.skill.skill`) on ``dataset``'s
    panel and drivers; it chooses the forecaster and the scenario model.

    ``as_of``: the backtest a reader could have run then — the full backtest's rows made with
    data up to ``as_of`` (:meth:`Skill.as_of`, equal to rerunning it on the cut panel), so an
    outlook and its as-of check share one cached backtest.
    """
    full = chapter_inputs(dataset)
    if as_of is None:
        return skill(full["panel"], tuple(full["drivers"]), random_state=random_state)
    chapter_inputs(dataset, as_of=as_of)  # checks the year
    origins = [int(y) for y in np.sort(full["panel"]["year"].unique())[5:-1]]
    return skill(full["panel"], tuple(full["drivers"]), origins=origins,
                 random_state=random_state).as_of(as_of)


def resolve_model(model: str, selection: Selection | None = None) -> str:
    """``"auto"`` → the selection's winner (a :class:`~carbonlab.models.Selection`); any other
    registry name is kept (checked: it must work on the panel)."""
    if model == "auto":
        if selection is None:
            raise ParameterError("model: 'auto' needs a selection")
        return selection.winner
    if model not in PANEL_MODELS:
        get_model(model)  # unknown names: the registry's one-line error
        raise ParameterError(f"model: {model!r} needs a univariate window; on the panel use "
                             f"auto or one of {', '.join(PANEL_MODELS)}")
    return model


@dataclass
class Outlook:
    """Who peaks when on a scenario: the book's headline answer (stable fields).

    ``table``: one row per region — the point path's ``peak_year, peak_mt, peaked,
    last_growth_pct, point_class``; over the members ``p_before, p_by_2025, p_by_2030,
    median_peak_year, n_members``; ``class`` (from the probabilities:
    :func:`~carbonlab.forecast.calibrate.class_from_probabilities`) and ``likelihood_2030``
    (P(peak ≤ 2030) in the IPCC's words);
    ``band``: region, year, lo_mt, hi_mt, point_mt, projected (5–95 % of the members, the
    deterministic point); ``national``: year, emissions_mt (the point's 30-region sum);
    ``national_band``: year, lo_mt, hi_mt, point_mt; ``national_peak``: its
    :class:`PeakResult`; ``counts``: regions per class (:data:`CLASSES`);
    ``model``: the forecaster; ``scenario_model``: the driver-responsive model for scenario
    analysis; ``skill``: the backtest (:class:`~carbonlab.forecast.skill.Skill`) that chose
    both; ``calibration``: coverage and Brier score of the members on that backtest
    (leakage-free); ``point_model``: the fitted forecaster; ``members`` (member −1 is the
    point); ``as_of``; ``note``: one line naming data, models, members and scenario.
    The inputs are kept: ``panel``, ``drivers``, ``targets``, ``scenario``, driver ``paths``,
    ``population``. :attr:`point` is the point forecast (tidy); :meth:`region` one region's
    answer; :meth:`adjustment_model` the scenario model, fitted; ``naive`` whether the
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
    point_model: PanelModel
    members: pd.DataFrame
    model: str = ""
    selection: Selection | None = None
    band: pd.DataFrame = field(default_factory=pd.DataFrame)
    national_band: pd.DataFrame = field(default_factory=pd.DataFrame)
    skill: Skill | None = None
    scenario_model: str = ""
    calibration: dict[str, float] = field(default_factory=dict)
    as_of: int | None = None
    _adjustment: tuple[str, Any] | None = field(default=None, init=False, repr=False)

    @property
    def point(self) -> pd.DataFrame:
        """The point forecast, tidy: ``region, year, emissions_mt`` (Mt CO2) of the forecast
        years (the forecaster fitted on all the data, on the scenario's driver paths)."""
        m = self.members
        p = m[(m["member"] == -1) & m["projected"]][["region", "year", "emissions_mt"]]
        p = p.reset_index(drop=True)
        p.attrs["units"] = {"emissions_mt": "Mt CO2"}
        return p

    @property
    def ensemble(self) -> Any:
        """Deprecated: ``ensemble.point_`` is :attr:`point_model` (the fitted forecaster)."""
        from types import SimpleNamespace

        return SimpleNamespace(point_=self.point_model, random_state=0)

    @property
    def laggards(self) -> list[str]:
        """Regions whose point path has not peaked by 2030 (the paths Table 10 adjusts)."""
        return self.table.loc[~self.table["peaked"].astype(bool), "region"].tolist()

    @property
    def naive(self) -> bool:
        """True when the forecaster is a naive baseline that ignores the drivers."""
        return self.model in NAIVE

    def adjustment_model(self) -> tuple[str, Any]:
        """(name, fitted model) for scenario analysis and the inverse problem: the scenario
        model (driver-responsive, chosen on conditional skill), fitted once per outlook."""
        if self._adjustment is None:
            name = self.scenario_model or self.model
            fitted = (self.point_model if name == self.model else
                      PanelModel(name, self.drivers, random_state=0).fit(self.panel))
            self._adjustment = (name, fitted)
        return self._adjustment

    def describe(self) -> str:
        """The headline in sentences, every number computed."""
        c = self.counts
        npk = self.national_peak
        cal = self.calibration
        s = (f"{c.iloc[0]} regions have already peaked (before 2020), {c.iloc[1]} peak by 2025, "
             f"{c.iloc[2]} by 2030 and {c.iloc[3]} not by 2030 (class of the median member). ")
        s += (f"The national point forecast {'peaks in ' + str(npk.peak_year) if npk.peaked else 'has not peaked by ' + str(int(self.national['year'].max()))}"
              f" at {npk.peak_value:,.0f} Mt CO2. ")
        if cal:
            s += (f"On the backtest the 90 % bands covered {cal['coverage_pct']:.0f} % of the "
                  f"observed years and the peak calls scored a Brier score of {cal['brier']:.3f} "
                  f"against {cal['brier_base']:.3f} for the base rate.")
        return s

    def region(self, region: str) -> dict[str, Any]:
        """One region's answer: ``region, class, peak_year, peak_mt, peaked, p_by_2025,
        p_by_2030, band_2030_mt`` (5–95 % in 2030), ``peak`` (:class:`PeakResult`),
        ``median_peak_year`` (of the members that peak), ``already`` (class
        :data:`CLASS_BEFORE`, or maximum before the last data year with P(peak ≤ 2025) ≥
        :data:`ALREADY_P`), ``disagree`` (the point path's peak year differs from the
        members' median peak year, or its peak lies below the 2030 band's top) and
        ``caveat``: a sentence saying what the point path does and where the members
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
            caveat = (f"The point path's maximum is in {pk.peak_year}"
                      + (", the last data year, so the data do not yet show a decline"
                         if pk.peak_year == t_last else "")
                      + f"; P(peak ≤ 2025) = {p25:.2f} and P(peak ≤ 2030) = {p30:.2f} across "
                      "the ensemble members.")
        if disagree:
            caveat += ((" " if caveat else "") + "The point path and the members disagree: "
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


def _published(targets: pd.DataFrame | None, as_of: int, dataset: str) -> pd.DataFrame | None:
    """The targets a reader could have known in ``as_of``: rows whose document gives a year
    of publication ≤ ``as_of`` (``〔YYYY〕`` or ``YYYY-MM-DD`` in ``document``). The teaching
    targets stand for the provincial 14th Five-Year and peaking plans the study uses
    (published from :data:`TEACHING_TARGETS_PUBLISHED` on). Rows of unknown date are left out."""
    if targets is None or targets.empty:
        return targets
    if dataset == "teaching" or "document" not in targets.columns:
        return targets if as_of >= TEACHING_TARGETS_PUBLISHED else targets.iloc[0:0]
    doc = targets["document"].fillna("").astype(str)
    year = doc.str.extract(r"(?:〔|\b)(20\d\d)(?:〕|-\d\d-\d\d)")[0].astype(float)
    return targets[year.le(as_of).to_numpy()]


TEACHING_TARGETS_PUBLISHED: int = 2021
"""The year the plans behind the teaching targets were published: the provincial study takes
its non-fossil targets from the 14th Five-Year Plans of 2021 (see its section 2.4)."""


def _point_and_members(name: str, panel: pd.DataFrame, drivers: tuple[str, ...],
                       paths: pd.DataFrame, population: pd.DataFrame, sk: Skill,
                       n_members: int, seed: int) -> tuple[PanelModel, pd.DataFrame, dict]:
    """The deterministic point (``name`` fitted on all of ``panel``), members pooled over
    ``name`` and the naive references (:func:`ensemble_models`), each its own point times its
    own backtest errors, and the leakage-free calibration of that pool."""
    cols = ["region", "year", "emissions_mt", "population_10k", *drivers]
    cols_pt = ["region", "year", "projected", "emissions_mt"]
    pool = ensemble_models(name)
    points, fitted = {}, {}
    for m in pool:
        key = [panel[cols].sort_values(["region", "year"], ignore_index=True), paths,
               population, {"model": m, "drivers": list(drivers), "n": n_members, "seed": seed}]
        fitted[m] = cached("outlook-point", key, lambda m=m: PanelModel(
            m, drivers, random_state=seed).fit(panel))
        points[m] = forecast(fitted[m], panel, paths, population)[cols_pt]
    errs = sk.predictions[sk.predictions["model"].isin(pool)
                          & (sk.predictions["mode"] == "unconditional")]
    members = pooled_members(points, errs, n_members, seed)
    members = pd.concat([points[name].assign(member=-1, model=name), members],
                        ignore_index=True)[["member", "model", *cols_pt]]
    calib = cached("outlook-calibration", [errs, panel[cols], {"n": n_members, "seed": seed}],
                   lambda: calibration_summary(calibration_check(panel, errs, models=pool,
                                                                 random_state=seed)))
    calib["models"] = list(pool)
    return fitted[name], members, calib


def _classes(point: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Point path's peak per region with the members' probabilities and the class that
    follows from them (:func:`class_from_probabilities`), in words too."""
    table = peak_table(point).rename(columns={"class": "point_class"})
    probs = peak_probabilities(members).drop(columns="p_peaked")
    table = table.merge(probs, on="region")
    table["class"] = [class_from_probabilities(a, b, c) for a, b, c in
                      zip(table["p_before"], table["p_by_2025"], table["p_by_2030"], strict=True)]
    table["likelihood_2030"] = [likelihood(p) for p in table["p_by_2030"]]
    return table


def outlook(dataset: str = "teaching", *, model: str = "auto", scenario_model: str = "auto",
            n_members: int = 200, seed: int = 0, scenario: str = "baseline",
            as_of: int | None = None, n_boot: int | None = None) -> Outlook:
    """Who peaks when on a scenario, with honest probabilities: the book's headline answer.

    1. :func:`carbonlab.forecast.skill.skill` scores every panel model on unseen years
       (rolling origins, horizons 1–8, conditional and unconditional); ``model="auto"`` is
       the best unconditional forecaster (naive or not), ``scenario_model="auto"`` the
       driver-responsive model with the best conditional skill at 3–8 years (the one that
       answers "what if the drivers change": Table 10, sensitivities).
    2. The point forecast is ``model`` fitted on all the data, on the scenario's driver paths,
       anchored at the last observed year (deterministic).
    3. ``n_members`` members, pooled over the forecaster and the naive references
       (:func:`~carbonlab.forecast.calibrate.ensemble_models`), each that model's point times
       error paths it made in the backtest (:class:`~carbonlab.forecast.calibrate.ErrorModel`);
       bands and P(peak) come from them, and the class from the probabilities, with the IPCC
       likelihood words.
    4. ``as_of``: the whole pipeline on the data up to that year and the targets published
       by then (``Outlook.point`` then forecasts the years that followed).

    ``n_boot`` is the earlier name of ``n_members`` (kept for a release).
    """
    from carbonlab import scenarios

    if n_boot is not None:
        n_members = max(int(n_boot), 1)
    inputs = chapter_inputs(dataset, as_of=as_of)
    panel, drivers = inputs["panel"], tuple(inputs["drivers"])
    sk = chapter_skill(dataset, as_of=as_of, random_state=seed)
    name = sk.forecaster if model == "auto" else resolve_model(model, None)
    sname = sk.scenario_model if scenario_model == "auto" else resolve_model(scenario_model, None)
    if sname in NAIVE:
        raise ParameterError(f"scenario_model: {sname!r} ignores the drivers; a scenario model "
                             "must respond to them")
    sc = scenarios.load_scenario(scenario)
    paths = scenarios.driver_paths(panel, sc, drivers=list(drivers), targets=inputs["targets"])
    population = scenarios.population_path(panel, projection=inputs["population_projection"])
    pm, members, calib = _point_and_members(name, panel, drivers, paths, population, sk,
                                            n_members, seed)
    point = members[members["member"] == -1]
    table = _classes(point, members)
    own = members[members["model"] == name]  # the band is the point forecast's own
    band = forecast_band(own)
    nband = national_band(own)
    nat = point.groupby("year", as_index=False)["emissions_mt"].sum()
    nband["point_mt"] = nat.set_index("year")["emissions_mt"].reindex(nband["year"]).to_numpy()
    counts = table["class"].value_counts().reindex(list(CLASSES), fill_value=0)
    how = "the best unconditional forecaster of the backtest" if model == "auto" else \
        "chosen by the reader"
    note = (f"{inputs['note']}; forecaster {MODEL_LABELS[name]} ({how}), scenario model "
            f"{MODEL_LABELS[sname]}, {n_members} members from the backtest's errors, scenario "
            f"{sc.name}" + (f", as of {as_of}" if as_of is not None else ""))
    out = Outlook(table, nat, find_peak(nat["year"], nat["emissions_mt"]), counts, note,
                  panel, drivers, inputs["targets"], sc, paths, population, pm, members,
                  model=name, selection=None, band=band, national_band=nband)
    out.skill, out.scenario_model, out.calibration, out.as_of = sk, sname, calib, as_of
    return out
