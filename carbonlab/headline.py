"""The headline explained: the book's answer beside the study's, the true model's, and why.

The forecast chapter and the front page answer "who peaks by 2025 / 2030, and when does
the 30-province total peak?" on the teaching world. This module puts that answer in
context, as tidy tables:

* :func:`study_reference` — the provincial study's own answer, transcribed with its
  sentences: 17 provinces by 2025, 4 by 2030, 9 not by 2030 (Table 8); the national
  peak in 2029 at 121.5018 亿t (Table 7); its gas check (5,719 亿m³ in 2030 against
  the 5,500–6,000 亿m³ of the 2021 gas development report).
* :class:`TrueModel` / :func:`forecast_true` — on the teaching world the true model is
  known (:func:`carbonlab.data.load_truth`): forecasting with it on the same scenario
  inputs separates what the *inputs* imply from what a fitted model adds.
* :func:`summarise` / :func:`comparison` — class counts and the national peak of any
  forecast, side by side with the study's.
* :func:`extrapolation_contrast` / :func:`describe_extrapolation` — the study's own
  explanation tested: the same inputs through a model that cannot extrapolate (a forest
  with province effects) and one that can (panel FE), with the true model and the study.
* :func:`class_attribution` / :func:`describe_attribution` — whether a province's class
  differs from the truth because of the fit (the point model) or the ensemble.
* :func:`driver_sensitivity` — one driver at a time, its projected path is replaced
  (frozen at the last observed value; the other reading of the moving-average rule;
  for a saturating driver, the plain roll-forward) and the national peak recomputed.
  :func:`model_forecaster` turns a :func:`carbonlab.peaks.outlook` into the
  ``paths -> forecast`` callable it needs; :func:`plot_sensitivity` draws the result.
* :func:`rule_contrast` — how many rising drivers each reading of the moving-average
  rule turns down in the first projected year (the argument for the default).
* :func:`gas_check` — the national natural-gas use in 2030 that a scenario implies, in
  the teaching world's own units, against the study's plausibility range.
* :func:`answer_comparison` — the chapter's answer, its point model under the other reading
  of the rule and the true model's, above the study's; :func:`car_saturation` — private cars
  on the logistic against rolled forward. Each table has a ``describe_*`` sentence
  (:func:`describe_comparison`, :func:`describe_sensitivity`, :func:`describe_rules`,
  :func:`describe_cars`, :func:`describe_gas`) and :func:`show` formats any of them.

Peaks and classes come from :mod:`carbonlab.peaks` (``find_peak``, ``peak_table``,
``national_curve``, ``CLASSES``); nothing here re-implements them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from carbonlab import accounting, peaks, scenarios, synth
from carbonlab._util import DataError, ParameterError
from carbonlab.data import log_emissions_per_capita
from carbonlab.data.schemas import ELECTRICITY
from carbonlab.units import UNITS

__all__ = [
    "STUDY_CLASSES",
    "study_reference",
    "TrueModel",
    "forecast_true",
    "summarise",
    "summarise_outlook",
    "comparison",
    "EXTRAPOLATION_LABELS",
    "extrapolation_contrast",
    "describe_extrapolation",
    "class_attribution",
    "describe_attribution",
    "VARIANTS",
    "driver_sensitivity",
    "model_forecaster",
    "rule_contrast",
    "gas_check",
    "plot_sensitivity",
    "answer_comparison",
    "describe_comparison",
    "describe_sensitivity",
    "describe_rules",
    "car_saturation",
    "describe_cars",
    "describe_gas",
    "show",
]

_T8 = ("§2.4, Table 8: 表8的分类结果显示,北京等17个省域能够在提出碳达峰实施方案后3 a内实现碳达峰,"
       "天津等4个省域可在2030年前实现碳达峰 … 内蒙古等9个省域在基准情景下2030年前不能实现碳达峰")
_T7 = "§2.4, Table 7: 表7的预测结果显示,中国将于2029年实现碳达峰,同年的碳排放为121.501 8 亿t"
_GAS = ("§2.4: 基于此方法估算得到中国2030年的天然气消费总量为5 719.004亿m3 … 中国2030年的天然气"
        "消费总量将达到5 500~6 000亿m3 (《中国天然气发展报告(2021)》)")

STUDY_CLASSES: dict[str, int] = {"by 2025": 17, "by 2030": 4, "not by 2030": 9}
"""The study's Table 8 counts (its 'by 2025' class is 'peaks within 3 years of the 2022 plans')."""


def study_reference() -> pd.DataFrame:
    """The study's headline numbers, each with its unit and source sentence.

    Columns ``quantity, value, unit, source``; quantities ``by 2025``, ``by 2030``,
    ``not by 2030`` (provinces), ``national peak year``, ``national peak`` (Mt CO2),
    ``gas 2030`` (study's estimate, 10^8 m3), ``gas 2030 low`` / ``gas 2030 high`` (the
    report's range, 10^8 m3).
    """
    rows = [(k, float(v), "provinces", _T8) for k, v in STUDY_CLASSES.items()]
    rows += [("national peak year", 2029.0, "year", _T7),
             ("national peak", 121.5018 * 100, "Mt CO2", _T7),
             ("gas 2030", 5719.004, "10^8 m3", _GAS),
             ("gas 2030 low", 5500.0, "10^8 m3", _GAS),
             ("gas 2030 high", 6000.0, "10^8 m3", _GAS)]
    return pd.DataFrame(rows, columns=["quantity", "value", "unit", "source"])


class TrueModel(RegressorMixin, BaseEstimator):
    """The teaching world's true model: ln(t CO2/person) = α_region + the true index.

    The index is :func:`carbonlab.synth.true_index`: Σ β_k x_k with the non-fossil
    share's effect scaled by the service share (the interaction in ``truth.csv``).

    Parameters
    ----------
    truth : DataFrame, optional
        A table like ``truth.csv`` (``driver, coefficient`` and the interaction columns
        ``scaled_by, floor, reference``); default :func:`carbonlab.data.load_truth`.

    ``fit(panel)`` estimates only the region effects α (mean over the years of
    ``y − index``); ``predict(frame)`` needs ``region`` and the true drivers.
    """

    def __init__(self, truth: pd.DataFrame | None = None) -> None:
        self.truth = truth

    def _index(self, frame: pd.DataFrame, where: str) -> np.ndarray:
        missing = [d for d in [*self.coef_, "region"] if d not in frame.columns]
        if missing:
            raise DataError(f"{where}: missing column(s) {', '.join(missing)}")
        return synth.true_index(frame, self.truth_)

    def fit(self, panel: pd.DataFrame, y: Any = None) -> TrueModel:
        """Region effects from the panel (``y`` defaults to ln emissions per capita)."""
        from carbonlab.data import load_truth

        self.truth_ = load_truth() if self.truth is None else self.truth
        self.coef_ = {str(d): float(b) for d, b in
                      zip(self.truth_["driver"], self.truth_["coefficient"], strict=True) if b != 0}
        yv = log_emissions_per_capita(panel).to_numpy() if y is None else np.asarray(y, float)
        a = pd.Series(yv - self._index(panel, "panel")).groupby(panel["region"].to_numpy()).mean()
        self.alpha_ = a.to_dict()
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """ln(t CO2/person) for each row of ``frame``."""
        unknown = set(frame["region"]) - set(self.alpha_)
        if unknown:
            raise ParameterError(f"predict: region {sorted(unknown)[0]!r} was not in the panel")
        return frame["region"].map(self.alpha_).to_numpy(dtype=float) + self._index(frame, "frame")


def forecast_true(panel: pd.DataFrame, paths: pd.DataFrame,
                  population: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`carbonlab.peaks.forecast` with the true model (teaching world only)."""
    return peaks.forecast(TrueModel().fit(panel), panel, paths, population)


def summarise(fc: pd.DataFrame, label: str, *, start: int | None = None) -> dict[str, Any]:
    """Class counts and national peak of a forecast (``region, year, emissions_mt``).

    Returns ``source`` (= ``label``), one count per :data:`carbonlab.peaks.CLASSES`,
    ``by 2025 (study)`` (= peaked before the plans + by 2025: the study's leading class
    counts every province whose peak is in 2025 or earlier), ``national peak year``,
    ``national peak (Mt)``, ``national peaked`` (bool).
    """
    table = peaks.peak_table(fc, start=start)
    counts = table["class"].value_counts().reindex(list(peaks.CLASSES), fill_value=0)
    nat = peaks.national_curve(fc)
    p = peaks.find_peak(nat["year"].to_numpy(), nat["emissions_mt"].to_numpy())
    before, by25, by30, never = (int(counts[c]) for c in peaks.CLASSES)
    return {"source": label, **{c: int(counts[c]) for c in peaks.CLASSES},
            "by 2025 (study)": before + by25, "national peak year": p.peak_year,
            "national peak (Mt)": p.peak_value, "national peaked": p.peaked}


def summarise_outlook(outlook: Any, label: str) -> dict[str, Any]:
    """:func:`summarise`'s row from a :func:`carbonlab.peaks.outlook` (its ensemble's
    classes and national peak, the numbers the chapter and the front page quote)."""
    c = {k: int(outlook.counts.get(k, 0)) for k in peaks.CLASSES}
    p = outlook.national_peak
    return {"source": label, **c, "by 2025 (study)": c[peaks.CLASS_BEFORE] + c[peaks.CLASS_2025],
            "national peak year": p.peak_year, "national peak (Mt)": p.peak_value,
            "national peaked": p.peaked}


def comparison(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows of :func:`summarise` above the study's own answer (last row).

    Columns ``source, by 2025 (study), by 2030, not by 2030, peaked before 2020,
    national peak year, national peak (Mt), national peaked``. The study's classes are
    since its 2022 plans, so its row has no "peaked before" count.
    """
    ref = study_reference().set_index("quantity")["value"]
    study = {"source": "the study (Tables 7, 8)", "by 2025 (study)": int(ref["by 2025"]),
             peaks.CLASS_2030: int(ref["by 2030"]), peaks.CLASS_NOT: int(ref["not by 2030"]),
             peaks.CLASS_BEFORE: pd.NA, "national peak year": int(ref["national peak year"]),
             "national peak (Mt)": float(ref["national peak"]), "national peaked": True}
    cols = ["source", "by 2025 (study)", peaks.CLASS_2030, peaks.CLASS_NOT, peaks.CLASS_BEFORE,
            "national peak year", "national peak (Mt)", "national peaked"]
    out = pd.DataFrame([*rows, study])[cols]
    out[peaks.CLASS_BEFORE] = out[peaks.CLASS_BEFORE].astype("Int64")
    return out


EXTRAPOLATION_LABELS: dict[str, str] = {
    "rf": "random forest with province effects (cannot extrapolate)",
    "bagging": "bagging with province effects (cannot extrapolate)",
    "fe": "panel FE (extrapolates linearly)",
}
"""Row labels of :func:`extrapolation_contrast` (other registry names keep their own)."""


def extrapolation_contrast(panel: pd.DataFrame, paths: pd.DataFrame,
                           population: pd.DataFrame | None = None, *,
                           models: Sequence[str] = ("rf", "fe"),
                           drivers: Sequence[str] = peaks.KEY_DRIVERS, truth: bool = False,
                           n_trees: int = 200, random_state: int = 0) -> pd.DataFrame:
    """The study's own explanation tested: a model that cannot extrapolate vs one that can.

    The same panel, driver ``paths`` and population through each registry model in
    ``models`` (point models fitted on the whole panel, province effects by the within
    transformation; a tree ensemble predicts a driver beyond its training range as at the
    edge, so a rising driver stops moving the forecast), and, with ``truth=True`` (teaching
    world only), the true model. Returns :func:`comparison`'s table (class counts and
    national peak per row, the study's Tables 7–8 last) plus ``model`` (registry name,
    ``"true"`` or ``"study"``) and ``beyond_history`` (provinces whose 2030 drivers leave
    their own observed range in at least one driver; the same in every row). ``n_trees``:
    trees of a forest or bagging (and per candidate of the forest's out-of-bag mtry choice).
    """
    from carbonlab.models import PanelModel, get_model

    if isinstance(n_trees, bool) or not isinstance(n_trees, int | np.integer) or n_trees < 1:
        raise ParameterError(f"n_trees: must be a positive integer, got {n_trees!r}")

    if population is None:
        population = scenarios.population_path(panel, horizon=int(paths["year"].max()))
    rows, names = [], []
    for name in models:
        trees = ({"n_estimators": int(n_trees), "mtry_trees": int(n_trees)} if name == "rf" else
                 {"n_estimators": int(n_trees)} if name == "bagging" else {})
        est = get_model(name, random_state, **trees) if trees else name
        m = PanelModel(est, tuple(drivers), random_state=random_state).fit(panel)
        fc = peaks.forecast(m, panel, paths, population)
        rows.append(summarise(fc, EXTRAPOLATION_LABELS.get(name, name)))
        names.append(name)
    if truth:
        rows.append(summarise(forecast_true(panel, paths, population), "true model"))
        names.append("true")
    out = comparison(rows)
    out.insert(1, "model", [*names, "study"])
    out["beyond_history"] = _beyond_history(panel, paths, drivers)
    return out


def _beyond_history(panel: pd.DataFrame, paths: pd.DataFrame, drivers: Sequence[str]) -> int:
    """Provinces whose last projected drivers leave their observed range in some driver."""
    d = list(drivers)
    lo, hi = panel.groupby("region")[d].min(), panel.groupby("region")[d].max()
    last = paths[paths["year"] == paths["year"].max()].set_index("region")[d]
    out = (last < lo.reindex(last.index) - 1e-12) | (last > hi.reindex(last.index) + 1e-12)
    return int(out.any(axis=1).sum())


def describe_extrapolation(table: pd.DataFrame) -> str:
    """Sentences reading :func:`extrapolation_contrast`'s table (numbers from the table)."""
    def nat(r: pd.Series) -> str:
        if bool(r["national peaked"]):
            return f"a national peak in {int(r['national peak year'])}"
        return "no national peak by 2030"

    t = table.set_index("model")
    parts = [f"{r['source']}: {int(r[peaks.CLASS_NOT])} "
             f"province{'' if int(r[peaks.CLASS_NOT]) == 1 else 's'} not peaked by 2030 and {nat(r)}"
             for m, r in t.iterrows() if m != "study"]
    s = t.loc["study"]
    r0 = table.iloc[0]
    n = int(r0["by 2025 (study)"] + r0[peaks.CLASS_2030] + r0[peaks.CLASS_NOT])
    text = (f"On the same inputs (in 2030 the drivers of {int(table['beyond_history'].iloc[0])} "
            f"of the {n} provinces lie outside their own history): " + "; ".join(parts)
            + f". The study found {int(s[peaks.CLASS_NOT])} and {nat(s)}.")
    models = [m for m in t.index if m not in ("study", "true")]
    flat = [m for m in models if m in ("rf", "bagging")]
    if flat and "fe" in t.index:
        a, b = t.loc[flat[0]], t.loc["fe"]
        more = int(a[peaks.CLASS_NOT]) - int(b[peaks.CLASS_NOT])
        text += (f" The model that cannot extrapolate leaves {abs(more)} "
                 + ("more" if more >= 0 else "fewer")
                 + " provinces unpeaked than the one that can"
                 + (", as the study's explanation predicts." if more > 0 else
                    ", so here the explanation does not hold."))
    return text


def class_attribution(outlook: Any, true_fc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Where each province's class comes from: the fit or the ensemble.

    Three classes per province: ``true`` (of ``true_fc``, e.g. :func:`forecast_true` on the
    outlook's inputs; missing on real data), ``point`` (the forecaster fitted on the whole
    panel, on the outlook's paths — the fit alone: the outlook table's ``point_class``, or
    computed with :func:`model_forecaster`) and ``ensemble`` (the outlook's ``class``, which
    the ensemble members decide). ``source`` says why the outlook's class differs from the
    truth: ``"same class"``; ``"fit"`` (the point model already differs and the ensemble
    keeps its class); ``"ensemble"`` (the point model agrees with the truth, the members
    move it); ``"fit and ensemble"``. Without ``true_fc`` the reference is the point model
    (``"same class"`` or ``"ensemble"``).
    """
    tab = outlook.table.set_index("region")
    if "point_class" in tab.columns:
        point = tab["point_class"]
    else:
        point = peaks.peak_table(model_forecaster(outlook)(outlook.paths)).set_index("region")["class"]
    out = pd.DataFrame({"region": point.index, "point": point.to_numpy(),
                        "ensemble": tab["class"].reindex(point.index).to_numpy()})
    if true_fc is not None:
        truth = peaks.peak_table(true_fc).set_index("region")["class"].reindex(point.index)
        out.insert(1, "true", truth.to_numpy())
        ref = out["true"]
    else:
        ref = out["point"]
    out["source"] = np.where(out["ensemble"] == ref, "same class",
                             np.where(out["point"] == ref, "ensemble",
                                      np.where(out["ensemble"] == out["point"], "fit",
                                               "fit and ensemble")))
    return out


def describe_attribution(table: pd.DataFrame) -> str:
    """One sentence counting :func:`class_attribution`'s sources (computed, not typed)."""
    n = len(table)
    c = table["source"].value_counts()
    moved = n - int(c.get("same class", 0))
    if "true" not in table.columns:
        return (f"The ensemble puts {moved} of {n} provinces in a different class than the "
                "point model fitted on the whole panel." if moved else
                f"The ensemble and the point model agree on all {n} provinces.")
    if not moved:
        return f"The forecast puts all {n} provinces in the true model's class."
    fit, ens = int(c.get("fit", 0)), int(c.get("ensemble", 0))
    both = int(c.get("fit and ensemble", 0))
    return (f"{moved} of {n} provinces are in a different class than under the true model: "
            f"{ens} from the ensemble alone (the point model fitted on the whole panel puts "
            f"them in the true class), {fit} from the fit (the point model already differs "
            "and the ensemble keeps its class)" + (f" and {both} from both" if both else "")
            + ".")


VARIANTS: tuple[str, ...] = ("frozen", "other rule", "rolled forward")
"""One-at-a-time replacements of a driver's projected path (see :func:`driver_sensitivity`)."""


def _variant_paths(panel: pd.DataFrame, base: pd.DataFrame, scenario: scenarios.Scenario,
                   driver: str, variant: str, targets: pd.DataFrame | None,
                   drivers: Sequence[str]) -> pd.DataFrame | None:
    out = base.copy()
    proj = out["projected"].to_numpy(dtype=bool)
    if variant == "frozen":
        last = panel.sort_values("year").groupby("region")[driver].last()
        out.loc[proj, driver] = out.loc[proj, "region"].map(last).to_numpy()
        return out
    if variant == "other rule":
        other = [r for r in scenarios.RULES if r != scenario.rule][0]
        alt = scenarios.driver_paths(panel, scenario, drivers=list(drivers), targets=targets,
                                     rule=other)
    elif variant == "rolled forward":
        if driver not in scenario.saturate:
            return None
        plain = dataclasses.replace(scenario, saturate=())
        alt = scenarios.driver_paths(panel, plain, drivers=list(drivers), targets=targets)
    else:
        raise ParameterError(f"variant: {variant!r} is not one of {', '.join(VARIANTS)}")
    key = ["region", "year"]
    m = out[key].merge(alt[[*key, driver]], on=key, how="left")
    out[driver] = m[driver].to_numpy()
    return out


def driver_sensitivity(
    forecaster: Callable[[pd.DataFrame], pd.DataFrame],
    panel: pd.DataFrame,
    scenario: scenarios.Scenario | str = "baseline",
    *,
    drivers: Sequence[str] = peaks.KEY_DRIVERS,
    vary: Sequence[str] | None = None,
    targets: pd.DataFrame | None = None,
    variants: Iterable[str] = VARIANTS,
) -> pd.DataFrame:
    """One-at-a-time sensitivity of the national peak to each scenario driver.

    ``forecaster(paths)`` returns a forecast (``region, year, emissions_mt``), e.g.
    ``lambda p: forecast_true(panel, p)``. For each driver and variant the driver's
    projected path is replaced — ``"frozen"``: held at its last observed value;
    ``"other rule"``: the other reading of the moving-average rule (:data:`scenarios.RULES`);
    ``"rolled forward"``: a saturating driver rolled forward by the rule instead (skipped
    for the others) — and the national peak and class counts are recomputed. ``drivers``
    are the forecast's inputs, ``vary`` the ones replaced in turn (default all).

    Returns ``driver, variant, national peak year, national peaked, national peak (Mt),
    national 2030 (Mt), change 2030 %`` (against the scenario), ``by 2030 (any)`` (regions
    peaked by 2030 in any class), one row ``driver="(none)"`` for the scenario itself.
    """
    sc = scenarios.load_scenario(scenario) if isinstance(scenario, str) else scenario
    base = scenarios.driver_paths(panel, sc, drivers=list(drivers), targets=targets)

    def row(driver: str, variant: str, fc: pd.DataFrame) -> dict[str, Any]:
        s = summarise(fc, f"{driver}: {variant}")
        nat = peaks.national_curve(fc).set_index("year")["emissions_mt"]
        return {"driver": driver, "variant": variant,
                "national peak year": s["national peak year"],
                "national peaked": s["national peaked"],
                "national peak (Mt)": s["national peak (Mt)"],
                "national 2030 (Mt)": float(nat.iloc[-1]),
                "by 2030 (any)": s[peaks.CLASS_BEFORE] + s[peaks.CLASS_2025] + s[peaks.CLASS_2030]}

    rows = [row("(none)", f"scenario {sc.name} ({sc.rule})", forecaster(base))]
    variants = list(variants)
    for d in drivers if vary is None else vary:
        if d not in drivers:
            raise ParameterError(f"vary: {d!r} is not one of the drivers {', '.join(drivers)}")
        for v in variants:
            p = _variant_paths(panel, base, sc, d, v, targets, drivers)
            if p is not None:
                rows.append(row(d, v, forecaster(p)))
    out = pd.DataFrame(rows)
    out["change 2030 %"] = 100 * (out["national 2030 (Mt)"] / out["national 2030 (Mt)"].iloc[0] - 1)
    return out


def model_forecaster(outlook: Any, which: str = "point") -> Callable[[pd.DataFrame], pd.DataFrame]:
    """``paths -> forecast`` with a model of a :func:`carbonlab.peaks.outlook`.

    ``which="point"``: the outlook's point model (its forecaster fitted on the whole panel);
    ``"scenario"``: its scenario model (driver-responsive, chosen on conditional skill,
    ``outlook.adjustment_model()``), the one for "what if the drivers change" questions such
    as :func:`driver_sensitivity`. The outlook's population; cheap enough to call once per
    sensitivity row.
    """
    if which == "scenario":
        model = outlook.adjustment_model()[1]
    elif which == "point":
        model = getattr(outlook, "point_model", None) or outlook.ensemble.point_
    else:
        raise ParameterError(f"which: 'point' or 'scenario', got {which!r}")
    return lambda paths: peaks.forecast(model, outlook.panel, paths, outlook.population)


def rule_contrast(panel: pd.DataFrame, scenario: scenarios.Scenario | str = "baseline", *,
                  drivers: Sequence[str] = peaks.KEY_DRIVERS,
                  targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """How each reading of the moving-average rule treats a trend, per driver.

    For every driver: ``rising`` — regions whose driver rose in the last observed year;
    and per rule, ``turns_<rule>`` — of those, the regions whose first projected value is
    *below* the last observation (the trend reverses at once). Drivers set by planning
    anchors in the first projected year count like the others.
    """
    sc = scenarios.load_scenario(scenario) if isinstance(scenario, str) else scenario
    last_year = int(panel["year"].max())
    last = panel[panel["year"] == last_year].set_index("region")[list(drivers)]
    prev = panel[panel["year"] == last_year - 1].set_index("region")[list(drivers)]
    rising = last > prev.reindex(last.index)
    rows = {d: {"driver": d, "rising": int(rising[d].sum())} for d in drivers}
    for rule in scenarios.RULES:
        paths = scenarios.driver_paths(panel, sc, drivers=list(drivers), targets=targets, rule=rule)
        nxt = paths[paths["year"] == last_year + 1].set_index("region")[list(drivers)]
        turns = rising & (nxt.reindex(last.index) < last)
        for d in drivers:
            rows[d][f"turns_{rule}"] = int(turns[d].sum())
    return pd.DataFrame(list(rows.values()))


def gas_check(fc: pd.DataFrame, paths: pd.DataFrame, fuel_use: pd.DataFrame, *,
              year: int = 2030, factors: str = "ndrc2011") -> pd.DataFrame:
    """National natural-gas use implied by a forecast, in the teaching world's units.

    For each region, the year's energy consumption is backed out of its forecast
    emissions with the region's last observed mix: fossil emissions CE1 = CE × (CE1/CE of
    the last year); energy E = CE1 / (g·f_gas + (1 − g − nf)·f_other), with the CO2 per TJ
    of gas (incl. LNG) and of the other fossil fuels in the last year, and the scenario's
    gas share g and non-fossil share nf. Gas use = g·E in 10^8 m3 of natural gas. A check
    of plausibility, not a forecast of gas demand.

    Returns ``region, year, gas_share, energy_tj, gas_1e8m3`` for the last observed year
    and ``year``, plus a row ``region="China"`` with the sums.
    """
    ef = accounting.emission_factors(factors)
    acc = accounting.account(fuel_use, factors=factors).set_index(["region", "year"])
    last = int(fuel_use["year"].max())
    fu = fuel_use[(fuel_use["year"] == last) & (fuel_use["fuel"] != ELECTRICITY)].copy()
    base = fu["quantity"].to_numpy(float) * fu["unit"].map(lambda u: UNITS[u][1]).to_numpy(float)
    fu["tj"] = base * ef.loc[fu["fuel"], "tj_per_base"].to_numpy(float)
    fu["tco2"] = base * ef.loc[fu["fuel"], "tco2_per_base"].to_numpy(float)
    gas = fu["fuel"].isin(["natural_gas", "lng"])
    by = fu.assign(gas=gas).groupby(["region", "gas"])[["tj", "tco2"]].sum().unstack("gas")
    f_gas = (by[("tco2", True)] / by[("tj", True)]).to_dict()
    f_other = (by[("tco2", False)] / by[("tj", False)]).to_dict()
    tj_per_1e8m3 = float(ef.loc["natural_gas", "tj_per_base"]) * UNITS["10^8 m3"][1]
    p = paths.set_index(["region", "year"])
    f = fc.set_index(["region", "year"])["emissions_mt"]
    rows = []
    for region in sorted(set(fc["region"])):
        share1 = float(acc.loc[(region, last), "ce1_mt"] / acc.loc[(region, last), "ce_mt"])
        for y in (last, year):
            if (region, y) not in p.index or (region, y) not in f.index:
                raise DataError(f"gas_check: no forecast or path for {region} in {y}")
            g, nf = float(p.loc[(region, y), "gas"]), float(p.loc[(region, y), "fossil"])
            ce1 = float(f.loc[(region, y)]) * share1 * 1e6  # t CO2
            e = ce1 / (g * f_gas[region] + (1 - g - nf) * f_other[region])
            rows.append({"region": region, "year": y, "gas_share": g, "energy_tj": e,
                         "gas_1e8m3": g * e / tj_per_1e8m3})
    out = pd.DataFrame(rows)
    tot = out.groupby("year")[["energy_tj", "gas_1e8m3"]].sum().reset_index()
    tot["gas_share"] = tot["gas_1e8m3"] * tj_per_1e8m3 / tot["energy_tj"]
    tot["region"] = "China"
    return pd.concat([out, tot[out.columns]], ignore_index=True)


def plot_sensitivity(table: pd.DataFrame, ax: Any = None) -> Any:
    """Bars of :func:`driver_sensitivity`'s change in 2030 national emissions (%), one per
    driver and variant, labelled with the national peak year. Returns the Axes."""
    from carbonlab.plotting import PALETTE, new_figure

    t = table[table["driver"] != "(none)"].reset_index(drop=True)
    if ax is None:
        _, ax = new_figure(figsize=(7, 0.35 * len(t) + 1.2))
    colours = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(dict.fromkeys(t["variant"]))}
    y = np.arange(len(t))[::-1]
    ax.barh(y, t["change 2030 %"], color=[colours[v] for v in t["variant"]])
    for yi, (_, r) in zip(y, t.iterrows(), strict=True):
        peak = f"peak {r['national peak year']}" if r["national peaked"] else "no peak by 2030"
        ax.annotate(peak, (max(r["change 2030 %"], 0.0), yi), xytext=(4, 0),
                    textcoords="offset points", va="center", ha="left", fontsize=8)
    ax.set_yticks(y, [f"{d}: {v}" for d, v in zip(t["driver"], t["variant"], strict=True)])
    ax.axvline(0, color="0.4", lw=0.8)
    ax.margins(x=0.2)  # room for the labels
    base = table.iloc[0]
    ax.set(xlabel="national emissions in 2030 vs the scenario (%)",
           title=f"one driver at a time (scenario: national peak {base['national peak year']})")
    return ax


def answer_comparison(outlook: Any, *, truth: bool = False) -> pd.DataFrame:
    """The chapter's answer beside the study's, under both readings of the moving-average rule.

    Rows: the outlook (classes from its members, the national peak of its point forecast,
    its scenario's rule); the outlook's point model on the paths of the other reading; with
    ``truth`` (teaching world only) the true model under each reading; the study's Tables
    7–8 last. :func:`comparison`'s columns plus ``model`` (``"outlook"``, ``"point"``,
    ``"true"``, ``"study"``) and ``rule`` (missing for the study).
    """
    from carbonlab.models import MODEL_LABELS

    name = MODEL_LABELS.get(outlook.model, outlook.model)
    rule = outlook.scenario.rule
    other = next(r for r in scenarios.RULES if r != rule)
    other_paths = scenarios.driver_paths(outlook.panel, outlook.scenario,
                                         drivers=list(outlook.drivers), targets=outlook.targets,
                                         rule=other)
    rows = [summarise_outlook(outlook, f"{name}: members, {rule}"),
            summarise(model_forecaster(outlook)(other_paths), f"{name}: point model, {other}")]
    kinds, rules = ["outlook", "point"], [rule, other]
    if truth:
        for r, p in ((rule, outlook.paths), (other, other_paths)):
            rows.append(summarise(forecast_true(outlook.panel, p, outlook.population),
                                  f"true model, {r}"))
            kinds.append("true")
            rules.append(r)
    out = comparison(rows)
    out.insert(1, "model", [*kinds, "study"])
    out.insert(2, "rule", pd.Series([*rules, None], dtype=object))
    return out


_COUNT_KEYS = ("by 2025 (study)", peaks.CLASS_2030, peaks.CLASS_NOT)


def _counts(r: pd.Series) -> str:
    return " / ".join(str(int(r[k])) for k in _COUNT_KEYS)


def _national(r: pd.Series) -> str:
    if bool(r["national peaked"]):
        return (f"peaks in {int(r['national peak year'])} at {r['national peak (Mt)']:,.0f} Mt "
                f"({r['national peak (Mt)'] / 100:.1f} 亿t)")
    return (f"does not peak by 2030 (highest {r['national peak (Mt)']:,.0f} Mt, "
            f"in {int(r['national peak year'])})")


def describe_comparison(table: pd.DataFrame) -> str:
    """Sentences reading :func:`answer_comparison`'s table (every number from the table)."""
    t = table.set_index("model", drop=False)
    ch, study = t.loc["outlook"], t.loc["study"]
    s = (f"This chapter's forecast ({ch['source']}) puts the provinces at {_counts(ch)} (by "
         "2025, counting those already past their maximum / by 2030 / not by 2030), and the "
         f"national sum {_national(ch)}; the study found {_counts(study)} and a national sum "
         f"that {_national(study)}.")
    true = table[table["model"] == "true"]
    if true.empty:
        return s + " The real data have no true model to compare with."
    t0 = true.iloc[0]
    s += (f" The true model on the same inputs ({t0['rule']}) gives {_counts(t0)} and a "
          f"national sum that {_national(t0)}.")
    for _, r in true.iloc[1:].iterrows():
        s += (f" With the other reading of the rule ({r['rule']}) the true model gives "
              f"{_counts(r)} and a national sum that {_national(r)}.")
    return s


def describe_sensitivity(table: pd.DataFrame, model: str = "the model") -> str:
    """Sentences reading :func:`driver_sensitivity`'s table: the largest lever on 2030
    emissions and the replacements that move the national peak year (``model``: its name)."""
    from carbonlab.data.schemas import DRIVERS

    base, t = table.iloc[0], table.iloc[1:]
    if t.empty:
        return "No driver was replaced."
    big = t.loc[t["change 2030 %"].abs().idxmax()]
    if abs(big["change 2030 %"]) < 0.05:
        s = (f"The model ({model}) does not respond to the drivers: no replacement changes "
             "national emissions in 2030, so on these data the scenario inputs do not decide the "
             "headline.")
    else:
        s = (f"The largest single lever is {big['driver']} "
             f"({DRIVERS.get(big['driver'], ('the driver',))[0]}, {big['variant']}): national "
             f"emissions in 2030 {big['change 2030 %']:+.1f} % against the scenario "
             f"({base['national 2030 (Mt)']:,.0f} Mt).")

    def pk(r: pd.Series) -> str:
        return f"peak {int(r['national peak year'])}" if r["national peaked"] else "no peak by 2030"

    moved = t[(t["national peak year"] != base["national peak year"])
              | (t["national peaked"] != base["national peaked"])]
    if moved.empty:
        return s + " No single replacement moves the national peak year."
    s += (f" The national peak year ({pk(base)} on the scenario) moves in {len(moved)} of the "
          f"{len(t)} replacements: "
          + "; ".join(f"{r['driver']} {r['variant']} ({pk(r)})" for _, r in moved.iterrows()))
    rest = len(t) - len(moved)
    return s + (f"; the other {rest} leave it unchanged." if rest else ".")


def describe_rules(table: pd.DataFrame) -> str:
    """One sentence reading :func:`rule_contrast`'s table: of the province–driver pairs that
    rose in the last observed year, how many each reading turns down in the next year."""
    n = int(table["rising"].sum())
    turns = {r: int(table[f"turns_{r}"].sum()) for r in scenarios.RULES}
    words = {"level_ma": "the literal average of levels (`level_ma`)",
             "mean_change": "the mean of changes (`mean_change`)"}
    return (f"Of the {n} province–driver pairs that rose in the last observed year, "
            + " and ".join(f"{words.get(r, f'`{r}`')} turns {k} down" for r, k in turns.items())
            + " in the very next year (drivers anchored on targets follow them under either rule).")


def car_saturation(panel: pd.DataFrame, scenario: scenarios.Scenario, paths: pd.DataFrame,
                   targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Private cars on the scenario's logistic against rolled forward by the rule.

    One row per ``how`` (``"saturating"``: ``paths``; ``"rolled"``: the scenario without
    saturation): ``year``, ``cars_1e8`` (the regions' private cars in the last projected
    year, 10^8 vehicles) and ``max_growth_pct`` (the fastest annual growth of any region in a
    projected year, %). Empty when the scenario does not saturate ``lcar``.
    """
    cols = ["how", "year", "cars_1e8", "max_growth_pct"]
    if "lcar" not in paths.columns or "lcar" not in scenario.saturate:
        return pd.DataFrame(columns=cols)
    plain = dataclasses.replace(scenario, saturate=())
    rolled = scenarios.driver_paths(panel, plain, drivers=["lcar"], targets=targets)
    last = int(panel["year"].max())
    rows = []
    for how, p in (("saturating", paths), ("rolled", rolled)):
        c = np.exp(p.pivot(index="region", columns="year", values="lcar"))  # 10^4 vehicles
        g = c.pct_change(axis=1).loc[:, last + 1:]
        rows.append({"how": how, "year": int(c.columns.max()),
                     "cars_1e8": float(c[c.columns.max()].sum() / 1e4),
                     "max_growth_pct": float(100 * g.max().max())})
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["units"] = {"cars_1e8": "10^8 vehicles", "max_growth_pct": "%"}
    return out


def describe_cars(table: pd.DataFrame) -> str:
    """One sentence reading :func:`car_saturation`'s table."""
    if table.empty:
        return "This dataset's scenario does not project private cars on a logistic."
    t = table.set_index("how")
    s, r = t.loc["saturating"], t.loc["rolled"]
    return (f"On the logistic, the regions' private cars sum to {s['cars_1e8']:.2f} 亿 "
            f"({100 * s['cars_1e8']:,.0f} million) in {int(s['year'])} and no region's cars "
            f"grow faster than {s['max_growth_pct']:.1f} % in any projected year; rolled forward "
            f"by the rule they would reach {r['cars_1e8']:.2f} 亿 ({100 * r['cars_1e8']:,.0f} "
            f"million), with growth up to {r['max_growth_pct']:.1f} % a year.")


def describe_gas(gas: pd.DataFrame | None, year: int = 2030) -> str:
    """Sentences reading :func:`gas_check`'s table (None: not computed, e.g. on real data)
    against the study's range (:func:`study_reference`)."""
    if gas is None or gas.empty:
        return ("The gas check needs the teaching world's fuel-use table; on the real data it "
                "is not computed.")
    ref = study_reference().set_index("quantity")["value"]
    g = gas[gas["region"] == "China"].set_index("year")["gas_1e8m3"]
    lo, hi, v = ref["gas 2030 low"], ref["gas 2030 high"], float(g[year])
    where = "inside" if lo <= v <= hi else "below" if v < lo else "above"
    return (f"In the teaching world's units the scenario implies a national natural-gas use of "
            f"{v:,.0f} 亿m³ in {year} ({g.index[0]}: {g.iloc[0]:,.0f} 亿m³), {where} the "
            f"{lo:,.0f}–{hi:,.0f} 亿m³ against which the study checks its own "
            f"{ref['gas 2030']:,.0f} 亿m³. Energy consumption is backed out of the forecast "
            "emissions with each province's last observed fuel mix: a check of plausibility, "
            "not a forecast of gas demand.")


_SHOW_NAMES = {"peaked before 2020": "before 2020", "national peak year": "peak year",
               "national peak (Mt)": "peak (Mt)", "national 2030 (Mt)": "2030 (Mt)",
               "by 2030 (any)": "provinces by 2030", "change 2030 %": "2030 change (%)",
               "gas_share": "gas share", "energy_tj": "energy (TJ)", "gas_1e8m3": "gas (10⁸ m³)",
               "cars_1e8": "private cars (10⁸)", "max_growth_pct": "fastest growth (%)"}
_SHOW_PRECISION = {"national peak (Mt)": 0, "national 2030 (Mt)": 0, "change 2030 %": 1,
                   "gas_share": 3, "energy_tj": 0, "gas_1e8m3": 0, "cars_1e8": 2,
                   "max_growth_pct": 1}


def show(table: pd.DataFrame) -> Any:
    """Any of this module's tables as a reader sees it (:func:`carbonlab.plotting.show_table`):
    the national peak year where the sum peaks and "none" otherwise, helper columns
    (``national peaked``, ``beyond_history``) dropped, Mt without decimals, plain headers."""
    from carbonlab.plotting import show_table

    t = table.copy()
    if "national peaked" in t.columns:
        t["national peak year"] = [str(int(y)) if ok else "none" for y, ok in
                                   zip(t["national peak year"], t["national peaked"], strict=True)]
        t = t.drop(columns="national peaked")
    t = t.drop(columns=[c for c in ("beyond_history",) if c in t.columns])
    if "variant" in t.columns:
        t["variant"] = t["variant"].str.replace("scenario ", "", regex=False)
    return show_table(t, precision={c: p for c, p in _SHOW_PRECISION.items() if c in t.columns},
                      names={c: n for c, n in _SHOW_NAMES.items() if c in t.columns})
