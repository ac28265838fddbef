"""Chapter 3's evaluation protocol: the model comparison, rolling-origin selection."""


from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from carbonlab._util import DataError, ParameterError
from carbonlab.data import TRUE_DRIVERS, log_emissions_per_capita
from carbonlab.models._base import (
    _cached,
    _check_xy,
    _positive_int,
    back_transform,
    design_matrix,
    regression_metrics,
)
from carbonlab.models.forests import _cum_mse
from carbonlab.models.nets import ACTIVATIONS, STUDY_MAX_PARAMS
from carbonlab.models.panel import PanelModel
from carbonlab.models.registry import (
    BASELINES,
    DIVERGED_FACTOR,
    MODEL_LABELS,
    NAIVE,
    PANEL_MODELS,
    get_model,
    model_spec,
)
from carbonlab.models.splits import (
    YearSplit,
    _check_split,
    _resolve_splits,
    _years,
    rolling_origin_splits,
)

DEFAULT_MODELS: tuple[str, ...] = ("bagging", "rf", "fe", "svr", "bpnn", "persistence", "drift")
"""The study's zoo (bagging, random forest, panel FE, SVR, BP networks) plus the naive baselines."""
SVR_KERNELS: tuple[str, ...] = ("rbf", "linear", "poly", "sigmoid")
STUDY_BPNN: tuple[tuple[int, ...], ...] = ((12,), (8, 7))
"""The study's two nets on 5 inputs: 85 and 119 parameters (its Table 5)."""

@dataclass
class Comparison:
    """Everything :func:`run_comparison` computed.

    table : one row per (model, variant): metrics on train and test rows (log scale and
        Mt CO2), see :func:`compare_models`.
    predictions : tidy model, variant, split, fold, region, year, set, y_true, y_pred
        (ln t CO2/person), population_10k.
    curves : tidy model, split, fold, n_trees, mse_test, mse_oob (tree-count curves).
    """

    table: pd.DataFrame
    predictions: pd.DataFrame
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> pd.DataFrame:
        """``table`` best first (least test MSE) with ``rank`` and ``diverged`` (test MSE over
        :data:`DIVERGED_FACTOR` times the median variant's: its RMSE in Mt means nothing)."""
        t = self.table.sort_values("mse_test", kind="stable").reset_index(drop=True)
        t["rank"] = np.arange(1, len(t) + 1)
        t["diverged"] = t["mse_test"] > DIVERGED_FACTOR * t["mse_test"].median()
        t.attrs = dict(self.table.attrs)
        return t

    def describe(self) -> str:
        """The comparison in sentences (every number computed from the table)."""
        t = self.summary()
        best = t.iloc[0]
        folds = self.predictions["fold"].nunique()
        s = (f"On the {best['split']} split ({folds} fold{'s' * (folds != 1)}) the lowest test MSE "
             f"of {len(t)} variants belongs to {best['model']} {best['variant']} "
             f"({best['mse_test']:.5f} (ln t CO2/person)², an RMSE of {best['rmse_mt_test']:,.1f} "
             f"Mt CO2 on provincial totals).")
        naive = t[t["name"].isin(NAIVE)]
        learned = t[~t["name"].isin(BASELINES)]
        if len(naive) and len(learned):
            nv = naive.iloc[0]
            worse = int((learned["mse_test"] > nv["mse_test"]).sum())
            s += (f" {worse} of the {len(learned)} learned variants do worse than the best naive "
                  f"baseline, {nv['model']} (rank {nv['rank']}).")
        div = t[t["diverged"]]
        s += (f" Diverged (test MSE over {DIVERGED_FACTOR:g} times the median): "
              + (", ".join(f"{m} {v}" for m, v in zip(div["model"], div["variant"], strict=True))
                 or "none") + ".")
        return s


@dataclass(frozen=True)
class ComparisonSettings:
    """What :func:`run_comparison` fits and how; the defaults are the study's.

    models : registry names of panel models (:data:`PANEL_MODELS`; default the study's
        zoo and the naive baselines); with ``baselines`` the :data:`BASELINES` are always
        added. Each enters the table as its registry row's ``variants`` says.
    n_trees, mtry_trees : forest size (the study: 10,000) and trees per mtry candidate.
        Forest variant "(1)" uses all trees, "(2)" the count ≤ n_trees with the least
        test MSE (the study's choice — it looks at the test rows).
    epochs, bpnn_hidden, activations, bpnn_trainer, max_params : BP networks: Keras epochs,
        hidden layers of each net, activations, trainer ("keras" or "fast" =
        :class:`FastMLP`) and parameter budget (< max_params, or None).
    svr_kernels : SVR kernels (ε = 0.1, C = 1, tol = 1e-4, e1071 scaling).
    n_train : training years of the study's random split.
    random_state : one seed for split, forests and networks.

    Lists are stored as tuples; a bad value raises :class:`ParameterError` on construction.
    """

    models: tuple[str, ...] = DEFAULT_MODELS
    baselines: bool = True
    n_trees: int = 10_000
    mtry_trees: int = 500
    epochs: int = 500
    bpnn_hidden: tuple[tuple[int, ...], ...] = STUDY_BPNN
    activations: tuple[str, ...] = ACTIVATIONS
    bpnn_trainer: str = "keras"
    max_params: int | None = STUDY_MAX_PARAMS
    svr_kernels: tuple[str, ...] = SVR_KERNELS
    n_train: int = 11
    random_state: int = 0

    def __post_init__(self) -> None:
        def names(v: Any) -> tuple[str, ...]:
            return (v,) if isinstance(v, str) else tuple(v)

        unknown = [k for k in names(self.models) if k not in PANEL_MODELS]
        if unknown:
            raise ParameterError(f"models: unknown model {unknown[0]!r} (not a panel model); "
                                 f"use {', '.join(PANEL_MODELS)}")
        if self.bpnn_trainer not in ("keras", "fast"):
            raise ParameterError(f"bpnn_trainer: expected 'keras' or 'fast', got {self.bpnn_trainer!r}")
        fixed = {"models": names(self.models), "activations": names(self.activations),
                 "svr_kernels": names(self.svr_kernels),
                 "bpnn_hidden": tuple(tuple(int(u) for u in h) for h in self.bpnn_hidden),
                 **{k: _positive_int(getattr(self, k), k)
                    for k in ("n_trees", "mtry_trees", "epochs", "n_train")}}
        for k, v in fixed.items():
            object.__setattr__(self, k, v)

    @property
    def model_names(self) -> tuple[str, ...]:
        """``models``, plus the :data:`BASELINES` when ``baselines``."""
        return tuple(dict.fromkeys([*self.models, *BASELINES])) if self.baselines else self.models


_SETTINGS = tuple(f.name for f in fields(ComparisonSettings))


@dataclass(frozen=True)
class _Fold:
    """One fold of the comparison: the whole design and the fold's train/test row masks."""

    split: str
    fold: YearSplit
    X: pd.DataFrame
    y: pd.Series
    population: pd.Series
    tr: np.ndarray
    te: np.ndarray

    def fit_predict(self, model: Any) -> tuple[np.ndarray, np.ndarray]:
        """Fit on the training rows; predictions on the training and the test rows."""
        model.fit(self.X[self.tr], self.y[self.tr].to_numpy())
        return model.predict(self.X[self.tr]), model.predict(self.X[self.te])


@dataclass(frozen=True)
class _Variant:
    """One fitted variant of a model on a fold (predictions in ln t CO2/person)."""

    variant: str
    p_train: np.ndarray
    p_test: np.ndarray
    detail: str = ""


def _forest_variants(key: str, d: _Fold, s: ComparisonSettings
                     ) -> tuple[list[_Variant], pd.DataFrame | None]:
    """One forest of ``n_trees``; variants (1) all trees and (2) the best count, and its
    tree-count curve (test and OOB MSE of the first 1…n_trees trees)."""
    est = get_model(key, s.random_state, n_estimators=s.n_trees)
    if "mtry_trees" in est.get_params():
        est.set_params(mtry_trees=s.mtry_trees)
    est.fit(d.X[d.tr], d.y[d.tr].to_numpy())
    P_tr, P_te = est.tree_predictions(d.X[d.tr]), est.tree_predictions(d.X[d.te])
    mse_te = _cum_mse(P_te, d.y[d.te].to_numpy())
    curve = pd.DataFrame({"n_trees": np.arange(1, s.n_trees + 1), "mse_test": mse_te,
                          "mse_oob": est.oob_curve()["mse_oob"].to_numpy()})
    best = int(np.argmin(mse_te)) + 1
    return [_Variant("(1) all trees", P_tr.mean(0), P_te.mean(0),
                     f"mtry={est.mtry_}, trees={s.n_trees}"),
            _Variant("(2) best count", P_tr[:best].mean(0), P_te[:best].mean(0),
                     f"mtry={est.mtry_}, trees={best}")], curve


def _svr_variants(key: str, d: _Fold, s: ComparisonSettings
                  ) -> tuple[list[_Variant], pd.DataFrame | None]:
    """One SVR per kernel."""
    return [_Variant(k, *d.fit_predict(get_model(key, kernel=k))) for k in s.svr_kernels], None


def _bpnn_variants(key: str, d: _Fold, s: ComparisonSettings
                   ) -> tuple[list[_Variant], pd.DataFrame | None]:
    """One BP network per (hidden layers, activation)."""
    kw = {"epochs": s.epochs} if s.bpnn_trainer == "keras" else {}
    out = []
    for hidden, act in itertools.product(s.bpnn_hidden, s.activations):
        est = get_model(key, s.random_state, trainer=s.bpnn_trainer, hidden=hidden,
                        activation=act, max_params=s.max_params, **kw)
        out.append(_Variant(f"{'-'.join(map(str, hidden))} {act}", *d.fit_predict(est),
                            f"{est.n_params_} params"))
    return out, None


def _one_variant(key: str, d: _Fold, s: ComparisonSettings
                 ) -> tuple[list[_Variant], pd.DataFrame | None]:
    """The registry's model as it is (fe, persistence, drift): one row, the row's ``variant``."""
    variant = model_spec(key).variant
    return [_Variant(variant, *d.fit_predict(get_model(key, s.random_state)))], None


#: how a model enters the comparison, by its registry row's ``variants``
#: (:data:`~carbonlab.models.registry.VARIANT_KINDS`)
_VARIANTS: dict[str, Any] = {"single": _one_variant, "forest": _forest_variants,
                             "kernels": _svr_variants, "architectures": _bpnn_variants}


def _tidy_predictions(d: _Fold, model: str, v: _Variant) -> list[pd.DataFrame]:
    regions = d.X.index.get_level_values("region").to_numpy()
    years = d.X.index.get_level_values("year").to_numpy()
    return [pd.DataFrame({
        "model": model, "variant": v.variant, "split": d.split, "fold": d.fold.name,
        "region": regions[mask], "year": years[mask], "set": name,
        "y_true": d.y.to_numpy()[mask], "y_pred": np.asarray(p, dtype=float),
        "population_10k": d.population.to_numpy()[mask]})
        for name, mask, p in (("train", d.tr, v.p_train), ("test", d.te, v.p_test))]


def _compare(X: pd.DataFrame, y: pd.Series, pop: pd.Series, split_name: str,
             folds: Sequence[YearSplit], s: ComparisonSettings) -> Comparison:
    """Every model's variants on every fold, then the metrics table."""
    regions = X.index.get_level_values("region").to_numpy()
    years = X.index.get_level_values("year").to_numpy()
    preds: list[pd.DataFrame] = []
    curves: list[pd.DataFrame] = []
    details: dict[tuple[str, str], list[str]] = {}
    for fold in folds:
        tr, te = _check_split(regions, years, fold)
        _check_xy(X[tr], y[tr])
        d = _Fold(split_name, fold, X, y, pop, tr, te)
        for key in s.model_names:
            label = MODEL_LABELS[key]
            variants, curve = _VARIANTS[model_spec(key).variants](key, d, s)
            if curve is not None:
                curves.append(pd.concat([pd.DataFrame({"model": label, "split": split_name,
                                                       "fold": fold.name}, index=curve.index),
                                         curve], axis=1))
            for v in variants:
                preds += _tidy_predictions(d, label, v)
                details.setdefault((label, v.variant), []).append(v.detail)
    pred = pd.concat(preds, ignore_index=True)
    table = _metrics_table(pred, details)
    table.insert(1, "name", table["model"].map({v: k for k, v in MODEL_LABELS.items()}))
    pred.attrs["units"] = {"y_true": "ln t CO2/person", "y_pred": "ln t CO2/person",
                           "population_10k": "10^4 persons"}
    cur = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
        columns=["model", "split", "fold", "n_trees", "mse_test", "mse_oob"])
    return Comparison(table, pred, cur)


def run_comparison(panel: pd.DataFrame, drivers: Sequence[str] | str = TRUE_DRIVERS,
                   split: Any = "random", settings: ComparisonSettings | None = None, *,
                   cache: bool = False, **options: Any) -> Comparison:
    """Fit the zoo on a split of the panel and collect metrics, predictions and curves.

    Parameters
    ----------
    panel : the province-year panel (``carbonlab.data.load_panel``).
    drivers : regressors (list or comma-separated string); y = ln(t CO2/person).
    split : "random" (the study: ``n_train`` random years train, seeded), "rolling"
        (:func:`rolling_origin_splits` defaults: three 2-year folds), a YearSplit or a
        list of them. Metrics pool the predictions of all folds.
    settings : the models and their options (:class:`ComparisonSettings`; default the
        study's); ``options`` are fields of it that override ``settings``, e.g.
        ``run_comparison(panel, drivers, n_trees=200, epochs=30)``.
    cache : keep the result in the content-keyed cache (:mod:`carbonlab.cache`), keyed by
        the data, the split, the settings and the package source.

    Every model is built by name from the registry (:func:`get_model`); how a model
    enters the table (forests: two tree counts and a curve, SVR: one row per kernel, BP
    networks: one per architecture × activation, the others: one row) is the model's
    registry row's ``variants`` (:class:`~carbonlab.models.registry.ModelSpec`).
    """
    unknown = [k for k in options if k not in _SETTINGS]
    if unknown:
        raise ParameterError(f"{unknown[0]}: not an option of run_comparison; use "
                             f"{', '.join(_SETTINGS)}, settings or cache")
    s = replace(settings or ComparisonSettings(), **options)
    X, y, pop = design_matrix(panel, drivers)
    split_name, folds = _resolve_splits(panel, split, s.random_state, s.n_train)
    if cache:
        key = [X, y, pop, split_name, folds, sorted(asdict(s).items())]
        return _cached("comparison", key, lambda: _compare(X, y, pop, split_name, folds, s))
    return _compare(X, y, pop, split_name, folds, s)


def _metrics_table(pred: pd.DataFrame, details: dict[tuple[str, str], list[str]]) -> pd.DataFrame:
    rows = []
    for (model, variant, split), g in pred.groupby(["model", "variant", "split"], sort=False):
        row: dict[str, Any] = {"model": model, "variant": variant, "split": split}
        for s in ("train", "test"):
            h = g[g["set"] == s]
            m = regression_metrics(h["y_true"], h["y_pred"])
            row.update({f"{k}_{s}": v for k, v in m.items()})
        for s in ("train", "test"):
            h = g[g["set"] == s]
            m = regression_metrics(back_transform(h["y_true"], h["population_10k"]),
                                   back_transform(h["y_pred"], h["population_10k"]))
            row.update({f"rmse_mt_{s}": m["rmse"], f"mae_mt_{s}": m["mae"]})
        row["detail"] = "; ".join(dict.fromkeys(details.get((model, variant), [])))
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["units"] = {
        **{f"{k}_{s}": u for s in ("train", "test") for k, u in
           (("mse", "(ln t CO2/person)^2"), ("rmse", "ln t CO2/person"),
            ("mae", "ln t CO2/person"), ("rmse_mt", "Mt CO2"), ("mae_mt", "Mt CO2"))}}
    return table


def compare_models(panel: pd.DataFrame, drivers: Sequence[str] | str = TRUE_DRIVERS,
                   split: Any = "random", **kwargs: Any) -> pd.DataFrame:
    """The tidy results table of :func:`run_comparison` (same parameters).

    Columns: ``model``, ``variant``, ``split``, ``mse_/rmse_/mae_train`` and ``_test``
    on the log scale (ln t CO2/person), ``rmse_mt_/mae_mt_train|test`` back-transformed
    to provincial totals (Mt CO2), ``detail`` (mtry and tree count, parameter count).
    """
    return run_comparison(panel, drivers, split, **kwargs).table


def usable_drivers(panel: pd.DataFrame, drivers: Sequence[str] | str = TRUE_DRIVERS
                   ) -> list[str]:
    """The requested drivers the panel carries (real data lack some); error if none."""
    if isinstance(drivers, str):
        drivers = [d.strip() for d in drivers.split(",") if d.strip()]
    out = [d for d in drivers if d in panel.columns]
    if not out:
        raise DataError(f"panel: none of the drivers {list(drivers)} is available")
    return out


def split_ranking(*tables: pd.DataFrame, metric: str = "mse_test") -> pd.DataFrame:
    """Side by side ``metric`` and rank (1 = best) of each (model, variant) per split.

    ``tables`` are :func:`compare_models` results for different splits; returns
    ``model``, ``variant`` and per split ``<metric>_<split>``, ``rank_<split>``.
    """
    if not tables:
        raise ParameterError("tables: give at least one comparison table")
    out = None
    for t in tables:
        if metric not in t.columns:
            raise ParameterError(f"metric: {metric!r} is not a column of the table")
        name = str(t["split"].iloc[0])
        part = t[["model", "variant", metric]].rename(columns={metric: f"{metric}_{name}"})
        part[f"rank_{name}"] = part[f"{metric}_{name}"].rank(method="min").astype(int)
        out = part if out is None else out.merge(part, on=["model", "variant"], how="outer")
    return out.sort_values(out.columns[3]).reset_index(drop=True)


@dataclass
class Selection:
    """The rolling-origin evaluation of the forecasting pipeline and its winner.

    ``winner``: the registry name with the least pooled test MSE (ln t CO2/person);
    ``table``: one row per model, best first: ``model``, ``label``, ``baseline``,
    ``mse_test``, ``rmse_test``, ``mae_test`` (log scale), ``mape_pct`` (emissions, %),
    ``rank``; ``predictions``: tidy ``model, fold, region, year, y_true, y_pred,
    emissions_mt, emissions_pred_mt``; ``folds``: the :class:`YearSplit` s; ``drivers``.
    """

    winner: str
    table: pd.DataFrame
    predictions: pd.DataFrame
    folds: list[YearSplit]
    drivers: tuple[str, ...]

    @property
    def runner_up(self) -> str:
        """The second-best model's name."""
        return str(self.table["model"].iloc[1]) if len(self.table) > 1 else self.winner

    @property
    def best_baseline(self) -> str:
        """The best of :data:`BASELINES` in the table."""
        b = self.table[self.table["baseline"]]
        return str(b["model"].iloc[0]) if len(b) else ""

    @property
    def best_naive(self) -> str:
        """The best naive baseline (:data:`NAIVE`: persistence, drift) in the table."""
        b = self.table[self.table["model"].isin(NAIVE)]
        return str(b["model"].iloc[0]) if len(b) else ""

    @property
    def best_driver_model(self) -> str:
        """The best model that responds to the drivers (not persistence or drift): the one
        that can answer "what if the drivers change" (scenarios, the inverse problem)."""
        t = self.table[~self.table["model"].isin(NAIVE)]
        return str(t["model"].iloc[0]) if len(t) else self.winner

    def margin_pct(self, other: str | None = None) -> float:
        """How much lower the winner's test MSE is than ``other``'s (default runner-up), in %."""
        t = self.table.set_index("model")["mse_test"]
        o = self.runner_up if other is None else other
        return float(100 * (1 - t[self.winner] / t[o])) if t[o] > 0 else 0.0

    def summary(self) -> pd.DataFrame:
        """The ranking (``table``: one row per model, best first)."""
        return self.table.copy()

    def describe(self) -> str:
        """The winner, its test MSE and margin, and the test windows, in one sentence."""
        folds = ", ".join(f"{f.test_years[0]}–{f.test_years[-1]}" for f in self.folds)
        return (f"rolling-origin winner: {MODEL_LABELS.get(self.winner, self.winner)} "
                f"({self.winner}), test MSE {self.table['mse_test'].iloc[0]:.4f}, "
                f"{self.margin_pct():.0f} % below {MODEL_LABELS.get(self.runner_up, self.runner_up)}; "
                f"test windows {folds}")

    def __str__(self) -> str:
        return self.describe()

    def _repr_markdown_(self) -> str:
        return str(self)


def _fitting_folds(panel: pd.DataFrame, n_folds: int, horizon: int, min_train: int = 4
                   ) -> list[YearSplit]:
    """:func:`rolling_origin_splits`, with fewer folds (then 1-year windows) on short panels."""
    n_years = _years(panel).size
    n_folds, horizon = _positive_int(n_folds, "n_folds"), _positive_int(horizon, "horizon")
    while n_folds > 1 and n_years - n_folds * horizon < min_train:
        n_folds -= 1
    if n_years - n_folds * horizon < min_train:
        horizon, n_folds = 1, max(1, min(n_folds * horizon, n_years - min_train))
    return rolling_origin_splits(panel, n_folds=n_folds, horizon=horizon, min_train=min_train)


def rolling_origin_predictions(panel: pd.DataFrame, drivers: Sequence[str] = TRUE_DRIVERS,
                               models: Sequence[str] = PANEL_MODELS, *, n_folds: int = 3,
                               horizon: int = 2, random_state: int = 0) -> pd.DataFrame:
    """Leakage-free forecasts of the pipeline chapter 4 uses, at several origins.

    For each fold (:func:`rolling_origin_splits`: fit on years ≤ T, score T+1…T+horizon;
    on panels too short for ``n_folds`` folds fewer, or 1-year, windows) and model: ``PanelModel(name, drivers)`` is fitted on the training years only, its
    predictions for the test years use the observed drivers and the intercept correction
    of chapter 4 (each region's last training residual carried forward). Returns tidy
    ``model, fold, region, year, y_true, y_pred`` (ln t CO2/person) and
    ``emissions_mt``, ``emissions_pred_mt`` (Mt CO2).
    """
    drivers = tuple(drivers)
    unknown = [n for n in models if n not in PANEL_MODELS]
    if unknown:
        get_model(unknown[0])
        raise ParameterError(f"models: {unknown[0]!r} does not work on the panel; use "
                             f"{', '.join(PANEL_MODELS)}")
    folds = _fitting_folds(panel, n_folds, horizon)
    y = log_emissions_per_capita(panel)
    rows = []
    with threadpool_limits(limits=1):
        for fold in folds:
            tr, te = fold.masks(panel["year"].to_numpy())
            train, test = panel[tr], panel[te]
            for name in models:
                pm = PanelModel(name, drivers, random_state=random_state).fit(train)
                off = pm.offsets(train)
                pred = pm.predict(test) + test["region"].map(off).to_numpy(dtype=float)
                rows.append(pd.DataFrame({
                    "model": name, "fold": fold.name, "region": test["region"].to_numpy(),
                    "year": test["year"].to_numpy(), "y_true": y[te].to_numpy(), "y_pred": pred,
                    "emissions_mt": test["emissions_mt"].to_numpy(dtype=float),
                    "emissions_pred_mt": back_transform(pred, test["population_10k"])}))
    out = pd.concat(rows, ignore_index=True)
    out.attrs["units"] = {"y_true": "ln t CO2/person", "y_pred": "ln t CO2/person",
                          "emissions_mt": "Mt CO2", "emissions_pred_mt": "Mt CO2"}
    return out


def select(panel: pd.DataFrame, drivers: Sequence[str] = TRUE_DRIVERS, *,
           models: Sequence[str] = PANEL_MODELS, n_folds: int = 3, horizon: int = 2,
           random_state: int = 0, cache: bool = True) -> Selection:
    """Rank the registry's panel models on a rolling-origin evaluation; return the winner.

    The score is the test MSE of ln per-capita emissions pooled over the folds of
    :func:`rolling_origin_predictions`; ties go to the earlier name in ``models``.
    The baselines (:data:`BASELINES`) are always evaluated. With ``cache`` the result is
    kept in the content-keyed cache (keyed by the panel's columns used, the drivers, the
    models, the folds, the seed and the package source), so every chapter reuses it.
    """
    drivers = tuple(drivers)
    models = tuple(dict.fromkeys([*models, *BASELINES]))
    if cache:
        cols = ["region", "year", "emissions_mt", "population_10k", *drivers]
        key = [panel[cols].sort_values(["region", "year"]).reset_index(drop=True), drivers,
               models, n_folds, horizon, random_state]
        return _cached("selection", key, lambda: select(panel, drivers, models=models,
                                                        n_folds=n_folds, horizon=horizon,
                                                        random_state=random_state, cache=False))
    pred = rolling_origin_predictions(panel, drivers, models, n_folds=n_folds, horizon=horizon,
                                      random_state=random_state)
    rows = []
    for name in models:
        g = pred[pred["model"] == name]
        met = regression_metrics(g["y_true"], g["y_pred"])
        mape = float(100 * np.mean(np.abs(g["emissions_pred_mt"] / g["emissions_mt"] - 1)))
        rows.append({"model": name, "label": MODEL_LABELS[name], "baseline": name in BASELINES,
                     "mse_test": met["mse"], "rmse_test": met["rmse"], "mae_test": met["mae"],
                     "mape_pct": mape})
    table = pd.DataFrame(rows)
    table["order"] = np.arange(len(table))
    table = table.sort_values(["mse_test", "order"], kind="stable").drop(columns="order")
    table["rank"] = np.arange(1, len(table) + 1)
    table = table.reset_index(drop=True)
    table.attrs["units"] = {"mse_test": "(ln t CO2/person)^2", "rmse_test": "ln t CO2/person",
                            "mae_test": "ln t CO2/person", "mape_pct": "%"}
    folds = _fitting_folds(panel, n_folds, horizon)
    return Selection(str(table["model"].iloc[0]), table, pred, folds, drivers)
