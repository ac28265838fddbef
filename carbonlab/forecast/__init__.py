"""Forecasts over scenarios, peak years and classes, the national peak, the inverse problem.

The provincial study (section 2.4) forecasts ln per-capita emissions 2022–2030 from
five drivers with its best model, multiplies by population, finds each
province's peak year and classifies it: *by 2025* (leading), *by 2030*
(standard) or *not by 2030*. This module does the same for any scikit-learn
style regressor and adds an uncertainty layer (bootstrap ensembles → peak-year
probabilities), skill on unseen years, and the inverse problem (the smallest
driver change that makes a region peak by 2030).

Peak definition (:func:`find_peak`, the one rule of the whole book): over a series
``E_t`` (history + forecast) the peak is the first year of the maximum; the series has
*peaked* when its last value is below that maximum by more than ``tol`` (relative), or
when the maximum lies before the last year and the tail is flat within ``tol`` (the last
annual change is at most ``tol`` in size). Classes (:data:`CLASSES`, named only here):
*peaked before 2020* (maximum before the 2020 pledge and the plans), *by 2025*, *by
2030*, *not by 2030*.

Layout (``carbonlab.forecast.<module>``): ``rule`` (the one peak rule, classes), ``paths``
(point forecasts over driver paths, peak and growth tables), ``ensemble`` (noise, bands,
peak probabilities), ``outlook`` (chapter 4's whole pipeline in one object), ``inverse``
(Table 10's inverse problem), ``table10`` (Table 10 in natural units), ``skill`` (rolling-origin
skill, conditional and unconditional), ``calibrate`` (members from backtest errors, their
check, likelihood words), ``report`` (the pages' sentences), ``plots``.
``carbonlab.peaks`` re-exports all of it for code written before the move.
"""

from __future__ import annotations

from carbonlab.forecast.calibrate import (  # noqa: F401
    LIKELIHOOD,
    ErrorModel,
    calibration_check,
    calibration_summary,
    class_contradicts,
    class_from_probabilities,
    ensemble_models,
    likelihood,
    pooled_members,
)
from carbonlab.forecast.ensemble import (  # noqa: F401
    forecast_band,
    national_band,
    peak_probabilities,
)
from carbonlab.forecast.inverse import (  # noqa: F401
    ADJUST_FIRST,
    ADJUST_THEN,
    LAGGARD_COLUMNS,
    MIN_PIP,
    AdjustmentProblem,
    AdjustmentResult,
    Solution,
    adjustment_drivers,
    adjustment_problem,
    driver_evidence,
    laggard_table,
    largest_changes,
    peak_adjustment,
    peak_gap,
    solve_adjustment,
)
from carbonlab.forecast.observed import observed_peaks  # noqa: F401
from carbonlab.forecast.outlook import (  # noqa: F401
    AS_OF_YEARS,
    TEACHING_TARGETS_PUBLISHED,
    Outlook,
    chapter_inputs,
    chapter_skill,
    outlook,
    resolve_model,
)
from carbonlab.forecast.paths import (  # noqa: F401
    forecast,
    growth_table,
    national_curve,
    peak_table,
)
from carbonlab.forecast.plots import (  # noqa: F401
    plot_adjustment,
    plot_as_of,
    plot_classes,
    plot_growth,
    plot_national,
    plot_region,
)
from carbonlab.forecast.rule import (  # noqa: F401
    ALREADY_P,
    CLASS_2025,
    CLASS_2030,
    CLASS_BEFORE,
    CLASS_COLORS,
    CLASS_NOT,
    CLASSES,
    KEY_DRIVERS,
    PEAK_TOL,
    PLEDGE_YEAR,
    PeakResult,
    classify,
    find_peak,
)
from carbonlab.forecast.skill import (  # noqa: F401
    FORECASTERS,
    SCENARIO_HORIZONS,
    Skill,
    skill,
    skill_backtest,
    skill_table,
)
from carbonlab.forecast.table10 import (  # noqa: F401
    Table10,
    change_phrase,
    driver_kind,
    natural_change,
    table10,
)
from carbonlab.models import PanelModel  # noqa: F401 (re-exported as before)

__all__ = [
    "observed_peaks",
    "PanelModel",
    "KEY_DRIVERS",
    "CLASSES",
    "CLASS_BEFORE",
    "CLASS_2025",
    "CLASS_2030",
    "CLASS_NOT",
    "CLASS_COLORS",
    "PEAK_TOL",
    "PLEDGE_YEAR",
    "Outlook",
    "outlook",
    "PeakResult",
    "find_peak",
    "classify",
    "forecast",
    "peak_table",
    "growth_table",
    "national_curve",
    "peak_probabilities",
    "forecast_band",
    "national_band",
    "chapter_inputs",
    "chapter_skill",
    "AS_OF_YEARS",
    "AdjustmentResult",
    "peak_adjustment",
    "adjustment_drivers",
    "ADJUST_FIRST",
    "ADJUST_THEN",
    "resolve_model",
    "AdjustmentProblem",
    "adjustment_problem",
    "solve_adjustment",
    "laggard_table",
    "driver_evidence",
    "largest_changes",
    "peak_gap",
    "MIN_PIP",
    "Table10",
    "table10",
    "natural_change",
    "plot_region",
    "plot_classes",
    "plot_growth",
    "plot_national",
    "plot_adjustment",
    "plot_as_of",
    "ErrorModel",
    "LIKELIHOOD",
    "calibration_check",
    "calibration_summary",
    "class_contradicts",
    "class_from_probabilities",
    "likelihood",
    "ensemble_models",
    "pooled_members",
    "LAGGARD_COLUMNS",
    "Solution",
    "TEACHING_TARGETS_PUBLISHED",
    "ALREADY_P",
    "FORECASTERS",
    "SCENARIO_HORIZONS",
    "Skill",
    "skill_backtest",
    "skill_table",
    "change_phrase",
    "driver_kind",
]
