"""Chapter 3's model zoo: forests, SVR, BP networks, LSTM and panel fixed effects.

Every model is a scikit-learn style regressor (``fit``/``predict``/``get_params``/
``set_params``, ``random_state``) so the comparison, the splits and the sliding-window
forecaster treat them alike:

- :class:`Bagging`, :class:`RandomForest` — bootstrap forests of CART trees that keep
  their in-bag counts, so the whole tree-count curve (test MSE and out-of-bag MSE for
  1…N trees) comes from ONE forest's per-tree predictions as cumulative means;
  ``mtry`` (features tried per split) by out-of-bag error.
- :class:`SVRegressor` — libsvm ε-SVR (rbf/linear/poly/sigmoid) with R ``e1071``'s
  defaults made explicit: x and y standardised on the training rows (``scale=TRUE``,
  sd with n − 1), ``gamma = 1/n_features``, ``coef0 = 0``, ``degree = 3``.
- :class:`FastMLP` — a small numpy/scipy L-BFGS BP network (logistic/tanh/softplus);
  the trainer of the architecture search (:func:`bpnn_search`).
- :class:`LSTMRegressor` — the registry's LSTM (``"lstm"``): Keras' LSTM + Dense
  architecture, initialisers and Adam rule in numpy (exact backpropagation through time,
  optional validation early stopping); no TensorFlow.
- :class:`KerasMLP`, :class:`KerasLSTM` — Keras models wrapped as estimators
  (``KerasLSTM`` is the reference the numpy LSTM is tested against);
  TensorFlow is imported lazily, deterministically (see :func:`keras_backend`).
- :class:`PanelFE` — linearmodels ``PanelOLS`` with entity effects; the region comes
  from the ``region`` index level (or ``groups``).

Splits (:func:`random_year_split`, the study's; :func:`rolling_origin_splits`,
time-ordered), metrics on the log scale and back-transformed to Mt CO2
(:func:`regression_metrics`), the one-call comparison (:func:`compare_models`,
:func:`run_comparison`), univariate sliding windows (:class:`SlidingWindowForecaster`)
and the chapter's figures (:func:`plot_scatter_grid`, :func:`plot_tree_curves`).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from carbonlab._util import DataError, NotFittedError, ParameterError, check_fitted
from carbonlab.cache import cached
from carbonlab.data import TRUE_DRIVERS, log_emissions_per_capita
from carbonlab.plotting import PALETTE, legend_outside, new_figure, plain_log_axis

__all__ = [
    "MODELS",
    "BASELINES",
    "DIVERGED_FACTOR",
    "NAIVE",
    "PANEL_MODELS",
    "WINDOW_MODELS",
    "MODEL_LABELS",
    "get_model",
    "PanelModel",
    "Persistence",
    "Drift",
    "NotFittedError",
    "Selection",
    "rolling_origin_predictions",
    "select",
    "ACTIVATIONS",
    "STUDY_MAX_PARAMS",
    "YearSplit",
    "random_year_split",
    "rolling_origin_splits",
    "regression_metrics",
    "back_transform",
    "design_matrix",
    "Bagging",
    "RandomForest",
    "SVRegressor",
    "FastMLP",
    "KerasMLP",
    "KerasLSTM",
    "LSTMRegressor",
    "validation_rows",
    "PanelFE",
    "keras_backend",
    "bpnn_n_params",
    "bpnn_architectures",
    "check_bpnn_budget",
    "bpnn_search",
    "Comparison",
    "ComparisonSettings",
    "run_comparison",
    "compare_models",
    "usable_drivers",
    "split_ranking",
    "SlidingWindowForecaster",
    "sliding_window_predictions",
    "evaluate_sliding_window",
    "plot_scatter_grid",
    "plot_tree_curves",
    "plot_bpnn_search",
    "plot_split_ranking",
]

ACTIVATIONS: tuple[str, ...] = ("logistic", "tanh", "softplus")
"""The provincial study's three BP-network activations."""

STUDY_MAX_PARAMS: int = 155
"""The provincial study's parameter budget (eq. 12): total parameters < 155 for its 330
training rows. (Its stated rule "rows ≥ 2 × parameters" alone would allow ≤ 165; we
follow the printed bound.)"""

_KERAS_ACT = {"logistic": "sigmoid", "tanh": "tanh", "softplus": "softplus", "relu": "relu"}


# --------------------------------------------------------------------------- validation

class _DataTypeError(DataError, TypeError):
    """A DataError for input of the wrong type (also a TypeError, as scikit-learn expects)."""


def _as_2d(X: Any, name: str = "X") -> np.ndarray:
    """A finite 2-D float array (scikit-learn's ``check_array`` rules: no sparse, complex or
    1-D input, at least one row and column), or a one-line :class:`DataError`."""
    from sklearn.utils import check_array

    if type(X) is np.ndarray and X.dtype == np.float64 and X.ndim == 2 and X.size:
        arr = X  # check_array returns such an array as it is; skip its per-call overhead
    else:
        try:
            arr = check_array(X, dtype=float, ensure_all_finite=False, input_name=name)
        except TypeError as exc:
            raise _DataTypeError(f"{name}: {' '.join(str(exc).split())}") from None
        except ValueError as exc:
            msg = " ".join(str(exc).split())
            if "0 sample(s)" in msg:
                msg = f"empty training set (0 rows). {msg}"
            raise DataError(f"{name}: {msg}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        col = X.columns[c] if isinstance(X, pd.DataFrame) else c
        raise DataError(f"{name}: NaN or infinite value at row {r}, column {col}")
    return arr


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a training set: non-empty, finite, same length, non-constant target."""
    if y is None:
        raise DataError("y: this estimator requires y to be passed, but the target y is None")
    Xa = _as_2d(X)
    yv = np.asarray(y)
    if yv.ndim == 2 and yv.shape[1] == 1:
        from sklearn.utils import column_or_1d

        yv = column_or_1d(yv, warn=True)  # sklearn's DataConversionWarning
    if yv.ndim != 1:
        raise DataError(f"y: target must be 1-D, got shape {yv.shape}")
    try:
        ya = yv.astype(float)
    except (TypeError, ValueError):
        raise DataError("y: target must be numeric") from None
    if ya.size == 0:
        raise DataError("y: empty training set (0 rows)")
    if ya.size != Xa.shape[0]:
        raise DataError(f"y: {ya.size} values for {Xa.shape[0]} rows of X")
    if not np.all(np.isfinite(ya)):
        raise DataError(f"y: NaN or infinite target at row {int(np.flatnonzero(~np.isfinite(ya))[0])}")
    if ya.size < 2:
        raise DataError(f"y: {ya.size} sample, need at least 2 to fit")
    if np.ptp(ya) == 0:
        raise DataError("y: constant target (nothing to learn; every model would predict it)")
    return Xa, ya


def _check_n_features(est: Any, X: np.ndarray) -> None:
    if X.shape[1] != est.n_features_in_:
        raise DataError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                        f"{est.n_features_in_} features as input")


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"{name}: expected an integer ≥ {minimum}, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- metrics

def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MSE, RMSE and MAE of ``y_pred`` against ``y_true`` (in the units of y)."""
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.size == 0 or t.size != p.size:
        raise DataError(f"metrics: need equal non-empty arrays, got {t.size} and {p.size}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise DataError("metrics: NaN or infinite value in y_true or y_pred")
    err = p - t
    mse = float(np.mean(err**2))
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(err)))}


def back_transform(log_pc: Any, population_10k: Any) -> np.ndarray:
    """ln(t CO2/person) → total emissions in Mt CO2: exp(y) · population_10k · 10⁴ / 10⁶."""
    return np.exp(np.asarray(log_pc, dtype=float)) * np.asarray(population_10k, dtype=float) / 100.0


# --------------------------------------------------------------------------- splits

@dataclass(frozen=True)
class YearSplit:
    """A split of the panel by year: every province shares the same train and test years."""

    name: str
    train_years: tuple[int, ...]
    test_years: tuple[int, ...]

    def masks(self, years: Any) -> tuple[np.ndarray, np.ndarray]:
        """Boolean (train, test) masks for an array of years."""
        y = np.asarray(years)
        return np.isin(y, self.train_years), np.isin(y, self.test_years)


def _years(panel_or_years: Any) -> np.ndarray:
    if isinstance(panel_or_years, pd.DataFrame):
        if "year" not in panel_or_years.columns:
            raise DataError("panel: missing column year")
        years = panel_or_years["year"]
    else:
        years = panel_or_years
    out = np.unique(np.asarray(years, dtype=int))
    if out.size == 0:
        raise DataError("panel: no years")
    return out


def random_year_split(panel_or_years: Any, n_train: int = 11, random_state: int = 0
                      ) -> YearSplit:
    """The study's split: ``n_train`` years drawn at random (seeded) train, the rest test.

    Parameters
    ----------
    panel_or_years : the panel (its ``year`` column) or the years themselves.
    n_train : number of training years (the study: 11 of 2005–2021, so 6 test years).
    random_state : seed of the draw.
    """
    years = _years(panel_or_years)
    n_train = _positive_int(n_train, "n_train")
    if n_train >= years.size:
        raise ParameterError(f"n_train: {n_train} training years leave no test year "
                             f"({years.size} years in the panel)")
    rng = np.random.default_rng(random_state)
    train = np.sort(rng.choice(years, size=n_train, replace=False))
    test = np.setdiff1d(years, train)
    return YearSplit("random", tuple(int(v) for v in train), tuple(int(v) for v in test))


def rolling_origin_splits(panel_or_years: Any, n_folds: int = 3, horizon: int = 2,
                          min_train: int = 5) -> list[YearSplit]:
    """Time-ordered splits: train on every year up to an origin, test the next ``horizon``.

    The last fold's test window ends in the last year; origins step back by ``horizon``,
    so with 2005–2021, ``n_folds=3, horizon=2`` tests 2016–17, 2018–19 and 2020–21
    (the same 6 test years as the study's split, none seen in training), and
    ``n_folds=1, horizon=6`` is the plain time holdout 2005–2015 | 2016–2021.
    """
    years = _years(panel_or_years)
    n_folds = _positive_int(n_folds, "n_folds")
    horizon = _positive_int(horizon, "horizon")
    min_train = _positive_int(min_train, "min_train")
    first_test = years.size - n_folds * horizon
    if first_test < min_train:
        raise ParameterError(
            f"n_folds: {n_folds} folds of {horizon} years leave {max(first_test, 0)} training "
            f"years in the first fold (min_train={min_train}, {years.size} years)")
    out = []
    for k in range(n_folds):
        start = first_test + k * horizon
        train, test = years[:start], years[start:start + horizon]
        out.append(YearSplit(f"rolling@{int(train[-1])}", tuple(int(v) for v in train),
                             tuple(int(v) for v in test)))
    return out


def _resolve_splits(panel: pd.DataFrame, split: Any, random_state: int, n_train: int
                    ) -> tuple[str, list[YearSplit]]:
    if isinstance(split, str):
        if split == "random":
            return "random", [random_year_split(panel, n_train=n_train, random_state=random_state)]
        if split == "rolling":
            return "rolling", rolling_origin_splits(panel)
        raise ParameterError(f"split: unknown split {split!r}; use 'random', 'rolling', "
                             "a YearSplit or a list of them")
    if isinstance(split, YearSplit):
        return split.name, [split]
    if isinstance(split, Sequence) and split and all(isinstance(s, YearSplit) for s in split):
        name = "rolling" if all(s.name.startswith("rolling") for s in split) else split[0].name
        return name, list(split)
    raise ParameterError(f"split: expected 'random', 'rolling' or YearSplit(s), got {split!r}")


def _check_split(regions: np.ndarray, years: np.ndarray, split: YearSplit) -> tuple[np.ndarray,
                                                                                     np.ndarray]:
    train, test = split.masks(years)
    if not train.any():
        raise DataError(f"split {split.name}: empty training set (no rows in years "
                        f"{list(split.train_years)})")
    if not test.any():
        raise DataError(f"split {split.name}: empty test set (no rows in years "
                        f"{list(split.test_years)})")
    missing = sorted(set(regions[test]) - set(regions[train]))
    if missing:
        raise DataError(f"split {split.name}: province {missing[0]} has no training years "
                        f"({len(missing)} such province(s))")
    return train, test


# --------------------------------------------------------------------------- design

def design_matrix(panel: pd.DataFrame, drivers: Sequence[str] | str = TRUE_DRIVERS
                  ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The study's regression data: X (drivers), y = ln(t CO2/person), population.

    All three are indexed by a (region, year) MultiIndex. ``drivers`` may be a list or a
    comma-separated string (the notebook parameter).
    """
    if isinstance(drivers, str):
        drivers = [d.strip() for d in drivers.split(",") if d.strip()]
    drivers = list(drivers)
    if not drivers:
        raise ParameterError("drivers: no driver given")
    for col in ("region", "year", *drivers):
        if col not in panel.columns:
            raise DataError(f"panel: missing column {col}")
    if len(set(drivers)) != len(drivers):
        raise ParameterError(f"drivers: duplicated driver in {drivers}")
    y = log_emissions_per_capita(panel)
    idx = pd.MultiIndex.from_arrays([panel["region"].astype(str), panel["year"].astype(int)],
                                    names=["region", "year"])
    X = panel[drivers].astype(float).set_axis(idx)
    for c in drivers:
        bad = ~np.isfinite(X[c].to_numpy())
        if bad.any():
            r = X.index[int(np.flatnonzero(bad)[0])]
            raise DataError(f"panel: NaN in column {c} at {r[0]} {r[1]}")
    return X, y.set_axis(idx), panel["population_10k"].astype(float).set_axis(idx)


# --------------------------------------------------------------------------- forests

class _Forest(RegressorMixin, BaseEstimator):
    """Bootstrap forest of CART trees that remembers each tree's in-bag counts."""

    def _mtry_spec(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _grow(self, X: np.ndarray, y: np.ndarray, n_trees: int, mtry: int,
              rng: np.random.Generator) -> tuple[list[DecisionTreeRegressor], np.ndarray]:
        n = X.shape[0]
        trees, inbag = [], np.zeros((n_trees, n), dtype=np.uint16)
        seeds = rng.integers(0, 2**31 - 1, size=n_trees)
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        # X, y and the tree's parameters are checked in fit: skip scikit-learn's per-tree
        # checks (most of a small tree's fit time; the trees are identical)
        with config_context(skip_parameter_validation=True):
            for b in range(n_trees):
                idx = rng.integers(0, n, size=n)
                inbag[b] = np.bincount(idx, minlength=n)
                tree = DecisionTreeRegressor(max_features=mtry,
                                             min_samples_leaf=self.min_samples_leaf,
                                             random_state=int(seeds[b]))
                trees.append(tree.fit(X32[idx], y[idx], check_input=False))
        return trees, inbag

    def fit(self, X: Any, y: Any) -> _Forest:
        """Grow ``n_estimators`` trees on bootstrap samples of (X, y)."""
        Xa, ya = _check_xy(X, y)
        n_trees = _positive_int(self.n_estimators, "n_estimators")
        _positive_int(self.min_samples_leaf, "min_samples_leaf")
        p = Xa.shape[1]
        rng = np.random.default_rng(self.random_state)
        spec = self._mtry_spec()
        self.mtry_oob_ = None
        if spec == "oob":
            n_sel = _positive_int(self.mtry_trees, "mtry_trees")
            rows = []
            for m in range(1, p + 1):
                trees, inbag = self._grow(Xa, ya, n_sel, m, np.random.default_rng(
                    [self.random_state, m]))
                mse = _oob_curve(trees, inbag, Xa, ya)[-1]
                rows.append({"mtry": m, "mse_oob": mse})
            self.mtry_oob_ = pd.DataFrame(rows)
            mtry = int(self.mtry_oob_.loc[self.mtry_oob_["mse_oob"].idxmin(), "mtry"])
        elif spec is None:
            mtry = p
        else:
            mtry = _positive_int(spec, "max_features")
            if mtry > p:
                raise ParameterError(f"max_features: {mtry} > {p} features")
        self.mtry_ = mtry
        self.n_features_in_ = p
        self.estimators_, self.inbag_ = self._grow(Xa, ya, n_trees, mtry, rng)
        self._X_train, self._y_train = Xa, ya
        return self

    def tree_predictions(self, X: Any) -> np.ndarray:
        """Per-tree predictions, shape (n_trees, n_rows)."""
        check_fitted(self, "estimators_")
        Xa = _as_2d(X)
        _check_n_features(self, Xa)
        return _tree_preds(self.estimators_, Xa)

    def predict(self, X: Any, n_trees: int | None = None) -> np.ndarray:
        """Mean prediction of the first ``n_trees`` trees (all by default)."""
        P = self.tree_predictions(X)
        k = P.shape[0] if n_trees is None else _positive_int(n_trees, "n_trees")
        if k > P.shape[0]:
            raise ParameterError(f"n_trees: {k} > {P.shape[0]} trees in the forest")
        return P[:k].mean(axis=0)

    def tree_curve(self, X: Any, y: Any) -> pd.DataFrame:
        """MSE of the first k trees' mean on (X, y) for k = 1…n_trees (cumulative means)."""
        P = self.tree_predictions(X)
        ya = np.asarray(y, dtype=float).ravel()
        if ya.size != P.shape[1]:
            raise DataError(f"y: {ya.size} values for {P.shape[1]} rows of X")
        return pd.DataFrame({"n_trees": np.arange(1, P.shape[0] + 1), "mse": _cum_mse(P, ya)})

    def oob_curve(self) -> pd.DataFrame:
        """Out-of-bag MSE for k = 1…n_trees (R randomForest's ``mse``), from the in-bag counts."""
        check_fitted(self, "estimators_")
        mse = _oob_curve(self.estimators_, self.inbag_, self._X_train, self._y_train)
        return pd.DataFrame({"n_trees": np.arange(1, mse.size + 1), "mse_oob": mse})


def _tree_preds(trees: Sequence[DecisionTreeRegressor], X: np.ndarray) -> np.ndarray:
    X32 = np.ascontiguousarray(X, dtype=np.float32)
    # Tree.predict of a one-output regression tree: (n, 1) leaf values, as tree.predict
    # without its per-call checks (the forest checks X once)
    return np.stack([t.tree_.predict(X32)[:, 0] for t in trees]).astype(float)


def _cum_mse(P: np.ndarray, y: np.ndarray) -> np.ndarray:
    cum = np.cumsum(P, axis=0) / np.arange(1, P.shape[0] + 1)[:, None]
    return np.mean((cum - y[None, :]) ** 2, axis=1)


def _oob_curve(trees: Sequence[DecisionTreeRegressor], inbag: np.ndarray, X: np.ndarray,
               y: np.ndarray) -> np.ndarray:
    P = _tree_preds(trees, X)
    oob = inbag == 0
    s = np.cumsum(np.where(oob, P, 0.0), axis=0)
    c = np.cumsum(oob, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = (s / c - y[None, :]) ** 2
    err[c == 0] = np.nan
    out = np.full(P.shape[0], np.nan)
    seen = c > 0
    has = seen.any(axis=1)
    out[has] = np.nansum(err[has], axis=1) / seen[has].sum(axis=1)
    return out


class RandomForest(_Forest):
    """Random forest regressor (Breiman 2001) with mtry chosen by out-of-bag error.

    Parameters
    ----------
    n_estimators : trees in the forest (the study: 10,000).
    max_features : "oob" (default: try mtry = 1…p with ``mtry_trees`` trees each, keep
        the smallest final OOB MSE) or an int.
    mtry_trees : trees per candidate mtry in the OOB selection.
    min_samples_leaf : smallest leaf (5, R randomForest's regression ``nodesize``).
    random_state : seed of bootstraps and split-feature draws.
    """

    def __init__(self, n_estimators: int = 500, max_features: int | str = "oob",
                 mtry_trees: int = 500, min_samples_leaf: int = 5, random_state: int = 0):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.mtry_trees = mtry_trees
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _mtry_spec(self) -> Any:
        if isinstance(self.max_features, str) and self.max_features != "oob":
            raise ParameterError(f"max_features: expected 'oob' or an int, got {self.max_features!r}")
        return self.max_features


class Bagging(_Forest):
    """Bagging: a forest whose trees try every feature at every split (mtry = p).

    Parameters as :class:`RandomForest` without ``max_features``.
    """

    def __init__(self, n_estimators: int = 500, min_samples_leaf: int = 5, random_state: int = 0):
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def _mtry_spec(self) -> Any:
        return None


# --------------------------------------------------------------------------- SVR

class SVRegressor(RegressorMixin, BaseEstimator):
    """ε-SVR (libsvm) with e1071's defaults stated: x and y standardised, gamma = 1/p.

    Parameters
    ----------
    kernel : "rbf" (e1071 "radial"), "linear", "poly" ("polynomial"), "sigmoid".
    C, epsilon, tol : cost, ε-insensitive width (in standardised y units when
        ``scale``), libsvm stopping tolerance (the study: 1, 0.1, 1e-4).
    gamma : kernel coefficient; "auto" = 1/n_features (e1071's default).
    coef0, degree : as e1071 (0 and 3).
    scale : standardise each x column and y on the training rows (mean, sd with n − 1),
        as e1071's ``scale=TRUE``; predictions are returned in y's units.
    """

    def __init__(self, kernel: str = "rbf", C: float = 1.0, epsilon: float = 0.1,
                 tol: float = 1e-4, gamma: float | str = "auto", coef0: float = 0.0,
                 degree: int = 3, scale: bool = True):
        self.kernel = kernel
        self.C = C
        self.epsilon = epsilon
        self.tol = tol
        self.gamma = gamma
        self.coef0 = coef0
        self.degree = degree
        self.scale = scale

    def fit(self, X: Any, y: Any) -> SVRegressor:
        Xa, ya = _check_xy(X, y)
        if self.kernel not in ("rbf", "linear", "poly", "sigmoid"):
            raise ParameterError(f"kernel: unknown kernel {self.kernel!r}")
        for name in ("C", "epsilon", "tol"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ParameterError(f"{name}: must be positive, got {v!r}")
        p = Xa.shape[1]
        if self.scale:
            self.x_mean_ = Xa.mean(axis=0)
            sd = Xa.std(axis=0, ddof=1) if Xa.shape[0] > 1 else np.ones(p)
            self.x_scale_ = np.where(sd > 0, sd, 1.0)  # e1071 leaves constant columns unscaled
            self.y_mean_, self.y_scale_ = float(ya.mean()), float(ya.std(ddof=1))
        else:
            self.x_mean_, self.x_scale_ = np.zeros(p), np.ones(p)
            self.y_mean_, self.y_scale_ = 0.0, 1.0
        gamma = 1.0 / p if self.gamma == "auto" else float(self.gamma)
        self.svr_ = SVR(kernel=self.kernel, C=self.C, epsilon=self.epsilon, tol=self.tol,
                        gamma=gamma, coef0=self.coef0, degree=self.degree)
        self.svr_.fit((Xa - self.x_mean_) / self.x_scale_, (ya - self.y_mean_) / self.y_scale_)
        self.n_features_in_ = p
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "svr_")
        Xa = _as_2d(X)
        _check_n_features(self, Xa)
        z = self.svr_.predict((Xa - self.x_mean_) / self.x_scale_)
        return z * self.y_scale_ + self.y_mean_


# --------------------------------------------------------------------------- BP networks

def bpnn_n_params(n_inputs: int, hidden: Sequence[int]) -> int:
    """Number of weights and biases of a fully connected net with one linear output.

    ``n_inputs`` inputs, hidden layer widths ``hidden``: Σ (fan_in + 1)·width + (last + 1).
    The study's nets on 5 inputs: (12,) → 85 and (8, 7) → 119 (6x + xy + 2y + 1).
    """
    n_inputs = _positive_int(n_inputs, "n_inputs")
    if isinstance(hidden, int | np.integer):
        hidden = (int(hidden),)
    hidden = tuple(hidden)
    if not hidden:
        raise ParameterError("hidden: at least one hidden layer")
    widths = [_positive_int(h, "hidden") for h in hidden]
    sizes = [n_inputs, *widths, 1]
    return int(sum((a + 1) * b for a, b in itertools.pairwise(sizes)))


def check_bpnn_budget(n_inputs: int, hidden: Sequence[int],
                      max_params: int = STUDY_MAX_PARAMS) -> int:
    """Parameter count of the architecture; ParameterError if not < ``max_params``."""
    n = bpnn_n_params(n_inputs, hidden)
    if n >= max_params:
        raise ParameterError(f"hidden: architecture {tuple(hidden)} on {n_inputs} inputs has {n} "
                             f"parameters, over the budget (< {max_params})")
    return n


def bpnn_architectures(n_inputs: int = 5, max_params: int = STUDY_MAX_PARAMS,
                       max_layers: int = 2) -> pd.DataFrame:
    """Every architecture with 1…``max_layers`` hidden layers and < ``max_params`` parameters.

    Returns a table ``hidden`` (tuple), ``n_layers``, ``n_params``. For 5 inputs and
    the study's budget: one layer ≤ 21 nodes; two layers (x, y) with 6x + xy + 2y + 1 < 155.
    """
    n_inputs = _positive_int(n_inputs, "n_inputs")
    max_layers = _positive_int(max_layers, "max_layers")
    _positive_int(max_params, "max_params", minimum=2)
    rows: list[dict[str, Any]] = []

    def grow(prefix: tuple[int, ...]) -> None:
        width = 1
        while True:
            arch = (*prefix, width)
            # the smallest completion (more layers of width 1) is no cheaper than arch itself
            if bpnn_n_params(n_inputs, arch) >= max_params:
                break
            rows.append({"hidden": arch, "n_layers": len(arch),
                         "n_params": bpnn_n_params(n_inputs, arch)})
            if len(arch) < max_layers:
                grow(arch)
            width += 1

    grow(())
    if not rows:
        raise ParameterError(f"max_params: no architecture on {n_inputs} inputs fits < {max_params}")
    out = pd.DataFrame(rows).sort_values(["n_layers", "hidden"], kind="stable")
    return out.reset_index(drop=True)


def _act(name: str) -> tuple[Any, Any]:
    """Activation and its derivative expressed through (z, a)."""
    if name == "logistic":
        return special.expit, lambda z, a: a * (1.0 - a)
    if name == "tanh":
        return np.tanh, lambda z, a: 1.0 - a * a
    if name == "softplus":
        return (lambda z: np.logaddexp(0.0, z)), (lambda z, a: special.expit(z))
    if name == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z, a: (z > 0).astype(float))
    raise ParameterError(f"activation: unknown activation {name!r}; use one of "
                         f"{', '.join(_KERAS_ACT)}")


class _Standardised(RegressorMixin, BaseEstimator):
    """Shared: standardise x (mean, sd) and y on the training rows; predictions in y units."""

    def _scale_fit(self, Xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.x_mean_ = Xa.mean(axis=0)
        sd = Xa.std(axis=0)
        self.x_scale_ = np.where(sd > 0, sd, 1.0)
        self.y_mean_, self.y_scale_ = float(ya.mean()), float(ya.std())
        self.n_features_in_ = Xa.shape[1]
        return (Xa - self.x_mean_) / self.x_scale_, (ya - self.y_mean_) / self.y_scale_

    def _scale_x(self, X: Any) -> np.ndarray:
        Xa = _as_2d(X)
        _check_n_features(self, Xa)
        return (Xa - self.x_mean_) / self.x_scale_

    def _check_hidden(self, n_inputs: int) -> tuple[int, ...]:
        hidden = (self.hidden,) if isinstance(self.hidden, int | np.integer) else tuple(self.hidden)
        n = bpnn_n_params(n_inputs, hidden)
        if self.max_params is not None and n >= self.max_params:
            check_bpnn_budget(n_inputs, hidden, self.max_params)
        self.n_params_ = n
        return hidden


class FastMLP(_Standardised):
    """BP network trained by full-batch L-BFGS (numpy forward/backward, scipy optimiser).

    The architecture search's trainer: scikit-learn's MLPRegressor has no softplus.
    x and y are standardised on the training rows; the loss is ½·mean squared error
    + ½·alpha·‖W‖²/n (as scikit-learn's); Glorot-uniform initial weights.

    Parameters
    ----------
    hidden : hidden layer widths, e.g. (8, 7).
    activation : "logistic", "tanh", "softplus" (or "relu").
    alpha : L2 penalty.
    max_iter : L-BFGS iterations.
    n_init : random restarts (best training loss kept).
    max_params : parameter budget (< max_params) or None for none.
    random_state : seed of the initial weights.
    """

    def __init__(self, hidden: Sequence[int] = (12,), activation: str = "logistic",
                 alpha: float = 1e-4, max_iter: int = 300, n_init: int = 1,
                 max_params: int | None = None, random_state: int = 0):
        self.hidden = hidden
        self.activation = activation
        self.alpha = alpha
        self.max_iter = max_iter
        self.n_init = n_init
        self.max_params = max_params
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> FastMLP:
        Xa, ya = _check_xy(X, y)
        hidden = self._check_hidden(Xa.shape[1])
        f, df = _act(self.activation)
        Xs, ys = self._scale_fit(Xa, ya)
        ys = ys[:, None]
        sizes = [Xs.shape[1], *hidden, 1]
        shapes = list(itertools.pairwise(sizes))
        n, nl = Xs.shape[0], len(shapes)
        alpha = float(self.alpha)

        def unpack(theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
            out, i = [], 0
            for a, b in shapes:
                W = theta[i:i + a * b].reshape(a, b)
                i += a * b
                out.append((W, theta[i:i + b]))
                i += b
            return out

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            layers = unpack(theta)
            acts, zs = [Xs], []
            for k, (W, b) in enumerate(layers):
                z = acts[-1] @ W + b
                zs.append(z)
                acts.append(z if k == nl - 1 else f(z))
            r = acts[-1] - ys
            loss = 0.5 * float(np.mean(r**2))
            loss += 0.5 * alpha * sum(float(np.sum(W * W)) for W, _ in layers) / n
            grads: list[np.ndarray] = []
            delta = r / n
            for k in range(nl - 1, -1, -1):
                W = layers[k][0]
                grads.append(delta.sum(axis=0))
                grads.append((acts[k].T @ delta + alpha * W / n).ravel())
                if k:
                    delta = (delta @ W.T) * df(zs[k - 1], acts[k])
            return loss, np.concatenate(grads[::-1])

        rng = np.random.default_rng(self.random_state)
        best = None
        for _ in range(_positive_int(self.n_init, "n_init")):
            parts = []
            for a, b in shapes:
                # scikit-learn's Glorot-uniform bound (factor 2 for logistic, else 6)
                bound = np.sqrt((2.0 if self.activation == "logistic" else 6.0) / (a + b))
                parts += [rng.uniform(-bound, bound, a * b), rng.uniform(-bound, bound, b)]
            res = optimize.minimize(loss_grad, np.concatenate(parts), jac=True, method="L-BFGS-B",
                                    options={"maxiter": _positive_int(self.max_iter, "max_iter"),
                                             "gtol": 1e-8, "ftol": 1e-12})
            if best is None or res.fun < best.fun:
                best = res
        self.coefs_ = unpack(best.x)
        self.loss_ = float(best.fun)
        self.n_iter_ = int(best.nit)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "coefs_")
        a = self._scale_x(X)
        f, _ = _act(self.activation)
        for k, (W, b) in enumerate(self.coefs_):
            a = a @ W + b
            if k < len(self.coefs_) - 1:
                a = f(a)
        return a[:, 0] * self.y_scale_ + self.y_mean_


# --------------------------------------------------------------------------- Keras

def keras_backend() -> Any:
    """Import Keras (TensorFlow backend) deterministically and return the ``keras`` module.

    Before TensorFlow is first imported: ``TF_DETERMINISTIC_OPS=1``,
    ``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN's reordered float sums differ run to run),
    ``PYTHONHASHSEED`` (default "0"; it only affects child processes),
    ``TF_CPP_MIN_LOG_LEVEL=2``, ``KERAS_BACKEND=tensorflow``; then
    ``tf.config.experimental.enable_op_determinism()`` and one CPU thread per op pool
    (the nets are tiny; fewer threads also share the machine better).
    """
    if "tensorflow" not in sys.modules:
        os.environ["TF_DETERMINISTIC_OPS"] = "1"
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
        os.environ.setdefault("PYTHONHASHSEED", "0")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        import keras
        import tensorflow as tf
    except ImportError:  # pragma: no cover - the deep extra is part of the lock
        raise ParameterError("Keras models need tensorflow-cpu and keras (pip install "
                             "carbonlab[deep])") from None
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")  # each fit traces its own loop: no retracing warnings
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:
        pass  # the runtime is already initialised: keep its thread pools
    return keras


def _full_batch_train(model: Any, X: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    """``epochs`` full-batch steps in ONE compiled ``tf.function`` loop.

    The same updates as ``model.fit(batch_size=n, shuffle=False)`` (identical
    predictions), without Keras' per-epoch Python overhead (~30× faster for tiny nets).
    """
    import tensorflow as tf

    Xt, yt = tf.constant(X), tf.constant(y)
    opt = model.optimizer
    weights = model.trainable_variables
    opt.build(weights)  # create the optimizer's slots outside the loop

    def step(i: Any, losses: Any) -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(Xt, training=True) - yt))
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        return i + 1, losses.write(i, loss)

    @tf.function(autograph=False)  # an explicit while_loop: no source inspection needed
    def train(n: Any) -> Any:
        losses = tf.TensorArray(tf.float32, size=n)
        _, losses = tf.while_loop(lambda i, _: i < n, step, (tf.constant(0), losses))
        return losses.stack()

    return [float(v) for v in train(tf.constant(epochs)).numpy()]


class _KerasRegressor(_Standardised):
    """Shared fit/predict of the Keras wrappers (full-batch Adam on standardised x and y)."""

    def _build(self, keras: Any, n_features: int) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _shape(self, Xs: np.ndarray) -> np.ndarray:
        return Xs

    def fit(self, X: Any, y: Any) -> _KerasRegressor:
        Xa, ya = _check_xy(X, y)
        epochs = _positive_int(self.epochs, "epochs")
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ParameterError(f"learning_rate: must be positive, got {self.learning_rate!r}")
        keras = keras_backend()
        Xs, ys = self._scale_fit(Xa, ya)
        keras.backend.clear_session()
        keras.utils.set_random_seed(int(self.random_state))
        model = self._build(keras, Xa.shape[1])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate), loss="mse")
        Xf, yf = self._shape(Xs).astype("float32"), ys.astype("float32")[:, None]
        if self.batch_size is None:
            self.loss_curve_ = _full_batch_train(model, Xf, yf, epochs)
        else:
            hist = model.fit(Xf, yf, epochs=epochs, shuffle=False, verbose=0,
                             batch_size=_positive_int(self.batch_size, "batch_size"))
            self.loss_curve_ = [float(v) for v in hist.history["loss"]]
        self.model_ = model
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "model_")
        Xs = self._shape(self._scale_x(X)).astype("float32")
        z = np.asarray(self.model_(Xs, training=False), dtype=float)[:, 0]
        return z * self.y_scale_ + self.y_mean_


class KerasMLP(_KerasRegressor):
    """BP network in Keras (Dense layers, linear output, MSE, Adam), sklearn-wrapped.

    Parameters
    ----------
    hidden : hidden layer widths, e.g. (8, 7).
    activation : "logistic", "tanh", "softplus" (or "relu").
    epochs : passes over the training rows.
    learning_rate : Adam step.
    batch_size : rows per step; None = full batch (one step per epoch).
    max_params : parameter budget (< max_params) or None.
    random_state : seed (``keras.utils.set_random_seed``); two fits → identical predictions.
    """

    def __init__(self, hidden: Sequence[int] = (8, 7), activation: str = "logistic",
                 epochs: int = 500, learning_rate: float = 0.01, batch_size: int | None = None,
                 max_params: int | None = None, random_state: int = 0):
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_params = max_params
        self.random_state = random_state

    def _build(self, keras: Any, n_features: int) -> Any:
        hidden = self._check_hidden(n_features)
        if self.activation not in _KERAS_ACT:
            _act(self.activation)
        layers = [keras.Input((n_features,))]
        layers += [keras.layers.Dense(h, activation=_KERAS_ACT[self.activation]) for h in hidden]
        return keras.Sequential([*layers, keras.layers.Dense(1)])


class KerasLSTM(_KerasRegressor):
    """LSTM regressor: each row of X is a window of a univariate series (columns = lags).

    Parameters
    ----------
    units : LSTM cells.
    epochs, learning_rate, batch_size, random_state : as :class:`KerasMLP`.
    """

    def __init__(self, units: int = 16, epochs: int = 200, learning_rate: float = 0.01,
                 batch_size: int | None = None, random_state: int = 0):
        self.units = units
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state

    def _scale_fit(self, Xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # one series: the window's columns share y's location and scale
        self.y_mean_, self.y_scale_ = float(ya.mean()), float(ya.std())
        self.x_mean_ = np.full(Xa.shape[1], self.y_mean_)
        self.x_scale_ = np.full(Xa.shape[1], self.y_scale_)
        self.n_features_in_ = Xa.shape[1]
        return (Xa - self.x_mean_) / self.x_scale_, (ya - self.y_mean_) / self.y_scale_

    def _shape(self, Xs: np.ndarray) -> np.ndarray:
        return Xs[:, :, None]

    def _build(self, keras: Any, n_features: int) -> Any:
        units = _positive_int(self.units, "units")
        return keras.Sequential([keras.Input((n_features, 1)), keras.layers.LSTM(units),
                                 keras.layers.Dense(1)])


# --------------------------------------------------------------------------- LSTM (numpy)

def validation_rows(n: int, fraction: float) -> int:
    """Rows kept for training when the last ``fraction`` of ``n`` rows (time order, at
    least 2) validate; at least 2 rows train."""
    if not (isinstance(fraction, float | int) and 0 < fraction < 1):
        raise ParameterError(f"validation_fraction: must be in (0, 1), got {fraction!r}")
    n_val = max(2, int(round(fraction * n)))
    return max(n - n_val, 2)


def _lstm_init(units: int, random_state: int) -> np.ndarray:
    """Seeded initial weights of the one-input LSTM + Dense(1) net, packed in one vector.

    Keras' defaults: Glorot-uniform input kernel, orthogonal recurrent kernel, zero bias
    with the forget gate's set to 1 (``unit_forget_bias``), Glorot-uniform Dense kernel and
    zero Dense bias. Layout (Keras' gate order i, f, c, o): kernel (1, 4u), recurrent
    kernel (u, 4u), bias (4u), Dense kernel (u, 1), Dense bias (1).
    """
    u = units
    rng = np.random.default_rng(random_state)
    lim = np.sqrt(6.0 / (1 + 4 * u))
    w = rng.uniform(-lim, lim, size=(1, 4 * u))
    a = rng.standard_normal((4 * u, u))  # Keras' Orthogonal: QR of a (max, min) normal
    q, r = np.linalg.qr(a)
    q = (q * np.sign(np.diag(r))).T       # (u, 4u), orthonormal rows
    b = np.zeros(4 * u)
    b[u:2 * u] = 1.0
    lim_d = np.sqrt(6.0 / (u + 1))
    wd = rng.uniform(-lim_d, lim_d, size=(u, 1))
    return np.concatenate([w.ravel(), q.ravel(), b, wd.ravel(), [0.0]])


def _lstm_views(theta: np.ndarray, u: int) -> tuple[np.ndarray, ...]:
    """(kernel (1,4u), recurrent (u,4u), bias (4u,), dense (u,1), dense bias (1,)) views."""
    k = 4 * u
    s = np.cumsum([0, k, u * k, k, u, 1])
    return (theta[s[0]:s[1]].reshape(1, k), theta[s[1]:s[2]].reshape(u, k), theta[s[2]:s[3]],
            theta[s[3]:s[4]].reshape(u, 1), theta[s[4]:s[5]])


def _lstm_forward(theta: np.ndarray, u: int, x: np.ndarray, keep: bool = False
                  ) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    """Predictions (n,) for windows ``x`` (n, T); with ``keep`` the per-step states."""
    W, U, b, Wd, bd = _lstm_views(theta, u)
    n = x.shape[0]
    h, c = np.zeros((n, u)), np.zeros((n, u))
    steps = []
    for t in range(x.shape[1]):
        z = x[:, t, None] * W + h @ U + b
        s = special.expit(z)
        g = np.tanh(z[:, 2 * u:3 * u])
        i, f, o = s[:, :u], s[:, u:2 * u], s[:, 3 * u:]
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        if keep:
            steps.append((h, c, i, f, g, o, tc))
        h, c = o * tc, c_new
    return (h @ Wd)[:, 0] + bd[0], steps if keep else [h]


def _lstm_loss_grad(theta: np.ndarray, u: int, x: np.ndarray, y: np.ndarray
                    ) -> tuple[float, np.ndarray]:
    """Mean squared error on (x, y) and its gradient (backpropagation through time)."""
    pred, steps = _lstm_forward(theta, u, x, keep=True)
    W, U, _, Wd, _ = _lstm_views(theta, u)
    grad = np.zeros_like(theta)
    gW, gU, gb, gWd, gbd = _lstm_views(grad, u)
    n = len(y)
    r = pred - y
    dy = (2.0 / n) * r
    h_last = steps[-1][5] * steps[-1][6]
    gWd[:, 0] = h_last.T @ dy
    gbd[0] = dy.sum()
    dh = dy[:, None] * Wd[:, 0]
    dc = np.zeros_like(dh)
    dz = np.empty((n, 4 * u))
    for t in range(x.shape[1] - 1, -1, -1):
        h_prev, c_prev, i, f, g, o, tc = steps[t]
        dc = dc + dh * o * (1.0 - tc * tc)
        dz[:, :u] = dc * g * i * (1.0 - i)
        dz[:, u:2 * u] = dc * c_prev * f * (1.0 - f)
        dz[:, 2 * u:3 * u] = dc * i * (1.0 - g * g)
        dz[:, 3 * u:] = dh * tc * o * (1.0 - o)
        gW[0] += x[:, t] @ dz
        gU += h_prev.T @ dz
        gb += dz.sum(axis=0)
        dh = dz @ U.T
        dc = dc * f
    return float(np.mean(r * r)), grad


class LSTMRegressor(_Standardised):
    """LSTM regressor in numpy, the registry's ``"lstm"``: each row of X is a window of a
    univariate series (columns = lags, oldest first).

    The architecture of ``keras.Sequential([Input((T, 1)), LSTM(units), Dense(1)])``
    (tanh cell, sigmoid gates, Keras' initialisers, :func:`_lstm_init`), trained on the mean
    squared error by Adam with Keras' update rule (β₁ = 0.9, β₂ = 0.999, ε = 1e-7), in
    float64 with exact backpropagation through time. A Keras fit of these tiny nets is
    dominated by framework overhead; this one is 20-100× faster and imports no TensorFlow.
    x and y share y's location and scale (one series), taken from the training rows.

    Parameters
    ----------
    units : LSTM cells.
    epochs : passes over the training rows.
    learning_rate : Adam step.
    batch_size : rows per Adam step, in time order (Keras ``shuffle=False``); None = full batch.
    validation_fraction : None, or the last fraction of the rows (time order, at least 2)
        that validate: after every epoch the loss on them is computed and the weights with
        the lowest validation loss are restored at the end (Keras
        ``EarlyStopping(restore_best_weights=True)`` without patience).
    random_state : seed of the initial weights; two fits → identical predictions.
    """

    def __init__(self, units: int = 16, epochs: int = 200, learning_rate: float = 0.01,
                 batch_size: int | None = None, validation_fraction: float | None = None,
                 random_state: int = 0):
        self.units = units
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _scale_fit(self, Xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # one series: the window's columns share y's location and scale
        sd = float(ya.std())
        self.y_mean_, self.y_scale_ = float(ya.mean()), sd if sd > 0 else 1.0
        self.x_mean_ = np.full(Xa.shape[1], self.y_mean_)
        self.x_scale_ = np.full(Xa.shape[1], self.y_scale_)
        self.n_features_in_ = Xa.shape[1]
        return (Xa - self.x_mean_) / self.x_scale_, (ya - self.y_mean_) / self.y_scale_

    def fit(self, X: Any, y: Any) -> LSTMRegressor:
        Xa, ya = _check_xy(X, y)
        u = _positive_int(self.units, "units")
        epochs = _positive_int(self.epochs, "epochs")
        lr = self.learning_rate
        if not (isinstance(lr, float | int) and np.isfinite(lr) and lr > 0):
            raise ParameterError(f"learning_rate: must be positive, got {lr!r}")
        n = len(ya)
        ntr = n if self.validation_fraction is None else validation_rows(
            n, self.validation_fraction)
        if ntr >= n and self.validation_fraction is not None:
            raise DataError(f"y: {n} rows leave none to validate on")
        bs = ntr if self.batch_size is None else _positive_int(self.batch_size, "batch_size")
        self._scale_fit(Xa[:ntr], ya[:ntr])
        xs = (Xa - self.x_mean_) / self.x_scale_
        ys = (ya - self.y_mean_) / self.y_scale_
        xt, yt, xv, yv = xs[:ntr], ys[:ntr], xs[ntr:], ys[ntr:]
        theta = _lstm_init(u, int(self.random_state))
        m1, m2 = np.zeros_like(theta), np.zeros_like(theta)
        b1, b2, eps = 0.9, 0.999, 1e-7
        step = 0
        losses, val = [], []
        best, best_loss, best_epoch = theta.copy(), np.inf, 0
        for epoch in range(1, epochs + 1):
            tot = 0.0
            for a in range(0, ntr, bs):
                loss, g = _lstm_loss_grad(theta, u, xt[a:a + bs], yt[a:a + bs])
                tot += loss * len(yt[a:a + bs])
                step += 1
                m1 += (g - m1) * (1 - b1)
                m2 += (g * g - m2) * (1 - b2)
                alpha = lr * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
                theta -= alpha * m1 / (np.sqrt(m2) + eps)
            losses.append(tot / ntr)
            if len(yv):
                vl = float(np.mean((_lstm_forward(theta, u, xv)[0] - yv) ** 2))
                val.append(vl)
                if vl < best_loss:
                    best, best_loss, best_epoch = theta.copy(), vl, epoch
        self.loss_curve_ = losses
        if len(yv):
            theta = best
            self.validation_curve_ = val
            self.best_epoch_, self.best_validation_loss_ = best_epoch, best_loss
        self.coef_ = theta
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "coef_")
        Xs = self._scale_x(X)
        return _lstm_forward(self.coef_, int(self.units), Xs)[0] * self.y_scale_ + self.y_mean_


# --------------------------------------------------------------------------- panel FE

class PanelFE(RegressorMixin, BaseEstimator):
    """Panel fixed-effects (within) regression via linearmodels ``PanelOLS(entity_effects)``.

    Registry name ``"fe"`` (fixed-effects OLS, a baseline of every ranking).

    The entity comes from X's index level ``entity`` (``design_matrix`` makes a
    (region, year) MultiIndex) or from ``groups``. ``predict`` adds the fitted region
    effect α_i = mean_i(y − Xβ); a region unseen in training is an error.
    """

    _panel_aware = True

    def __init__(self, entity: str = "region"):
        self.entity = entity

    def _groups(self, X: Any, groups: Any) -> np.ndarray:
        if groups is not None:
            return np.asarray(groups).astype(str)
        if isinstance(X, pd.DataFrame | pd.Series) and self.entity in (X.index.names or []):
            return X.index.get_level_values(self.entity).astype(str).to_numpy()
        raise DataError(f"X: PanelFE needs the {self.entity!r} index level or groups=")

    def fit(self, X: Any, y: Any, groups: Any = None) -> PanelFE:
        from linearmodels.panel import PanelOLS

        Xa, ya = _check_xy(X, y)
        g = self._groups(X, groups)
        if g.size != ya.size:
            raise DataError(f"groups: {g.size} labels for {ya.size} rows")
        names = list(X.columns) if isinstance(X, pd.DataFrame) else [f"x{i}" for i in
                                                                      range(Xa.shape[1])]
        if isinstance(X, pd.DataFrame) and "year" in (X.index.names or []):
            t = X.index.get_level_values("year").to_numpy(int)
        else:
            t = np.arange(ya.size)
        idx = pd.MultiIndex.from_arrays([g, t], names=["entity", "time"])
        if idx.has_duplicates:
            idx = pd.MultiIndex.from_arrays([g, np.arange(ya.size)], names=["entity", "time"])
        exog = pd.DataFrame(Xa, index=idx, columns=names)
        dep = pd.Series(ya, index=idx, name="y")
        try:
            res = PanelOLS(dep, exog, entity_effects=True).fit()
        except ValueError as exc:
            raise DataError(f"X: fixed-effects fit failed ({str(exc).splitlines()[0]})") from None
        self.coef_ = res.params.reindex(names).to_numpy(float)
        self.feature_names_ = names
        resid = ya - Xa @ self.coef_
        self.effects_ = pd.Series(resid, index=g).groupby(level=0).mean()
        self.n_features_in_ = Xa.shape[1]
        self.std_errors_ = res.std_errors.reindex(names).to_numpy(float)
        return self

    def predict(self, X: Any, groups: Any = None) -> np.ndarray:
        check_fitted(self, "coef_")
        Xa = _as_2d(X)
        _check_n_features(self, Xa)
        g = self._groups(X, groups)
        unknown = sorted(set(g) - set(self.effects_.index))
        if unknown:
            raise DataError(f"X: region {unknown[0]} has no training rows (no fixed effect)")
        return Xa @ self.coef_ + self.effects_.reindex(g).to_numpy()


# --------------------------------------------------------------------------- naive baselines

def _panel_index(X: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(region, year) arrays when X carries a (region, year) index, else None."""
    names = list(getattr(getattr(X, "index", None), "names", None) or [])
    if "region" in names and "year" in names:
        return (X.index.get_level_values("region").astype(str).to_numpy(),
                X.index.get_level_values("year").to_numpy(dtype=int))
    return None


class _Naive(RegressorMixin, BaseEstimator):
    """Shared code of :class:`Persistence` and :class:`Drift` (two input modes).

    *Window mode* (a plain array, e.g. from :class:`SlidingWindowForecaster`): each row is
    a window of lags, the last column the newest value. *Panel mode* (X with a
    ``(region, year)`` index, as :func:`design_matrix` and :class:`PanelModel` give): the
    drivers are ignored and each region's own training history is extrapolated from its
    latest training year at or before the year asked for.
    """

    _drift = False
    _panel_aware = True
    random_walk = True  # forecast errors accumulate (used by peaks' residual bootstrap)

    def fit(self, X: Any, y: Any, groups: Any = None) -> _Naive:
        Xa, ya = _check_xy(X, y)
        idx = _panel_index(X)
        self.n_features_in_ = Xa.shape[1]
        if idx is None:
            self.mode_ = "window"
            self.step_ = float(np.mean(ya - Xa[:, -1])) if self._drift else 0.0
            return self
        self.mode_ = "panel"
        df = pd.DataFrame({"region": idx[0], "year": idx[1], "y": ya}).sort_values(["region", "year"])
        self.history_ = {r: (g["year"].to_numpy(), g["y"].to_numpy()) for r, g in df.groupby("region")}
        self.step_ = {}
        for r, (yr, v) in self.history_.items():
            span = yr[-1] - yr[0]
            self.step_[r] = float((v[-1] - v[0]) / span) if self._drift and span > 0 else 0.0
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "mode_")
        if self.mode_ == "window":
            Xa = _as_2d(X)
            _check_n_features(self, Xa)
            return Xa[:, -1] + self.step_
        idx = _panel_index(X)
        if idx is None:
            raise DataError(f"X: {type(self).__name__} was fitted on a panel; predict needs the "
                            "(region, year) index")
        out = np.empty(len(idx[0]))
        for i, (r, t) in enumerate(zip(*idx, strict=True)):
            if r not in self.history_:
                raise DataError(f"X: region {r} has no training rows")
            yr, v = self.history_[r]
            k = max(int(np.searchsorted(yr, t, side="right")) - 1, 0)
            out[i] = v[k] + self.step_[r] * (t - yr[k])
        return out


class Persistence(_Naive):
    """Naive baseline: the last value (window mode: the newest lag; panel mode: each
    region's latest training value)."""


class Drift(_Naive):
    """Naive baseline: the last value plus the mean historical change per step (window mode:
    mean of y − newest lag over the training windows; panel mode: each region's mean annual
    change over its training years, times the years ahead)."""

    _drift = True


# --------------------------------------------------------------------------- registry

MODELS: tuple[str, ...] = ("bpnn", "svr", "rf", "bagging", "fe", "lstm", "persistence", "drift")
"""Every model name the book uses; :func:`get_model` builds each one."""

BASELINES: tuple[str, ...] = ("persistence", "drift", "fe")
"""The baselines every ranking shows: last value, last value + mean change, fixed-effects OLS."""

DIVERGED_FACTOR: float = 100.0
"""A comparison variant whose test MSE exceeds this many times the median variant's is
reported as *diverged* (chapter 3's table), not with its back-transformed RMSE in Mt."""

NAIVE: tuple[str, ...] = ("persistence", "drift")
"""The naive baselines among :data:`BASELINES` (they ignore the drivers); fixed-effects OLS is
the simple statistical baseline."""

PANEL_MODELS: tuple[str, ...] = ("bpnn", "svr", "rf", "bagging", "fe", "persistence", "drift")
"""Names that work on the province panel (``lstm`` needs a univariate window)."""

WINDOW_MODELS: tuple[str, ...] = ("bpnn", "lstm", "svr", "rf", "persistence", "drift")
"""Names that work in :class:`SlidingWindowForecaster` (univariate city series)."""

MODEL_LABELS: dict[str, str] = {
    "bpnn": "BP network", "svr": "SVR", "rf": "random forest", "bagging": "bagging",
    "fe": "panel FE", "lstm": "LSTM", "persistence": "persistence", "drift": "drift"}
"""Display names of :data:`MODELS`."""

STUDY_BPNN_WINNER: tuple[int, ...] = (8, 7)
"""The provincial study's forecaster: two hidden layers (8, 7), logistic (its Table 6)."""


def get_model(name: str, random_state: int = 0, **params: Any) -> BaseEstimator:
    """A fresh, unfitted model by registry name; ``params`` override its defaults.

    - ``"bpnn"``: the study's BP network, hidden layers (8, 7), logistic
      (:class:`FastMLP`; ``trainer="keras"`` gives the same net as :class:`KerasMLP`);
    - ``"svr"``: :class:`SVRegressor` (e1071 defaults, radial kernel);
    - ``"rf"``: :class:`RandomForest` (500 trees, mtry by OOB error; chapter 3's
      comparison passes the study's 10,000);
    - ``"bagging"``: :class:`Bagging` (500 trees);
    - ``"fe"``: :class:`PanelFE`, fixed-effects OLS (panel only: needs the region);
    - ``"lstm"``: :class:`LSTMRegressor` (numpy; univariate windows only);
    - ``"persistence"``, ``"drift"``: :class:`Persistence`, :class:`Drift`.

    Every name in :data:`WINDOW_MODELS` works as
    ``SlidingWindowForecaster(get_model(name), window)`` on one series; every name in
    :data:`PANEL_MODELS` works as ``PanelModel(name, drivers)`` on the panel.
    An unknown name raises :class:`ParameterError` listing :data:`MODELS`.
    """
    if not isinstance(name, str) or name not in MODELS:
        raise ParameterError(f"model: unknown model {name!r}; use one of {', '.join(MODELS)}")
    rs = {"random_state": int(random_state)}
    try:
        if name == "bpnn":
            trainer = params.pop("trainer", "fast")
            kw = {"hidden": STUDY_BPNN_WINNER, "activation": "logistic", **rs, **params}
            if trainer == "keras":
                return KerasMLP(**kw)
            if trainer != "fast":
                raise ParameterError(f"trainer: expected 'fast' or 'keras', got {trainer!r}")
            return FastMLP(**kw)
        if name == "svr":
            return SVRegressor(**params)
        if name == "rf":
            return RandomForest(**{"n_estimators": 500, **rs, **params})
        if name == "bagging":
            return Bagging(**{"n_estimators": 500, **rs, **params})
        if name == "fe":
            return PanelFE(**params)
        if name == "lstm":
            return LSTMRegressor(**{**rs, **params})
        return (Persistence if name == "persistence" else Drift)(**params)
    except TypeError as exc:
        raise ParameterError(f"model {name}: {str(exc).splitlines()[0]}") from None


# --------------------------------------------------------------------------- panel model

class PanelModel(RegressorMixin, BaseEstimator):
    """A registry model on the province panel: ln per-capita emissions from drivers.

    Parameters
    ----------
    estimator : str or sklearn regressor
        A name in :data:`PANEL_MODELS` (built by :func:`get_model`) or an unfitted
        estimator (cloned).
    drivers : tuple of str
        Driver columns used as features.
    fixed_effects : {"demean", "dummies", "none"}
        For the regressors that do not see the region: ``"demean"`` fits
        ``y - ȳ_r = f(x - x̄_r)`` and predicts ``ȳ_r + f(x - x̄_r)`` (the within
        transformation; exact FE for a linear ``f``); ``"dummies"`` appends region one-hot
        columns; ``"none"`` pools all regions. Panel-aware models (``fe``,
        ``persistence``, ``drift``) receive the raw drivers with the (region, year) index.
    random_state : int
        Seed for the estimator.

    ``fit(panel)`` takes the tidy panel; ``predict(frame)`` takes ``region``, ``year`` +
    drivers and returns ln(t CO2/person).
    """

    def __init__(self, estimator: Any = "bpnn", drivers: tuple[str, ...] = TRUE_DRIVERS,
                 fixed_effects: str = "demean", random_state: int = 0) -> None:
        self.estimator = estimator
        self.drivers = drivers
        self.fixed_effects = fixed_effects
        self.random_state = random_state

    def _check(self, frame: pd.DataFrame, where: str) -> None:
        if self.fixed_effects not in ("demean", "dummies", "none"):
            raise ParameterError(f"fixed_effects: {self.fixed_effects!r} not in demean, dummies, none")
        for c in ("region", "year", *self.drivers):
            if c not in frame.columns:
                raise DataError(f"{where}: missing column {c!r}")
        x = frame[list(self.drivers)].to_numpy(dtype=float)
        if not np.all(np.isfinite(x)):
            r, c = np.argwhere(~np.isfinite(x))[0]
            raise DataError(f"{where}, row {frame.index[r]}: driver {self.drivers[c]!r} is missing")

    def _aware(self) -> bool:
        return bool(getattr(self.estimator_, "_panel_aware", False))

    def _features(self, frame: pd.DataFrame) -> Any:
        x = frame[list(self.drivers)].to_numpy(dtype=float)
        if self._aware():
            idx = pd.MultiIndex.from_arrays([frame["region"].astype(str).to_numpy(),
                                             frame["year"].to_numpy(dtype=int)],
                                            names=["region", "year"])
            return pd.DataFrame(x, index=idx, columns=list(self.drivers))
        if self.fixed_effects == "demean":
            unknown = set(frame["region"]) - set(self.x_means_)
            if unknown:
                raise ParameterError(f"predict: region {sorted(unknown)[0]!r} was not in the training panel")
            return x - np.vstack([self.x_means_[r] for r in frame["region"]])
        if self.fixed_effects == "dummies":
            d = (frame["region"].to_numpy()[:, None] == np.asarray(self.regions_)[None, :]).astype(float)
            return np.hstack([x, d])
        return x

    def fit(self, panel: pd.DataFrame, y: Any = None) -> PanelModel:
        """Fit on the tidy panel (``y`` defaults to ln per-capita emissions)."""
        self._check(panel, "panel")
        if isinstance(self.estimator, str) and self.estimator not in PANEL_MODELS:
            get_model(self.estimator)  # unknown names: the registry's error
            raise ParameterError(f"model: {self.estimator!r} needs a univariate window; on the "
                                 f"panel use one of {', '.join(PANEL_MODELS)}")
        est = (get_model(self.estimator, self.random_state) if isinstance(self.estimator, str)
               else clone(self.estimator))
        self.estimator_ = est
        yv = (log_emissions_per_capita(panel) if y is None
              else pd.Series(np.asarray(y, float), index=panel.index))
        self.regions_ = sorted(panel["region"].unique())
        reg = panel["region"].to_numpy()
        yfit = yv.to_numpy()
        if self.fixed_effects == "demean" and not self._aware():
            xs = panel[list(self.drivers)].astype(float)
            self.x_means_ = {r: v.to_numpy() for r, v in xs.groupby(reg).mean().iterrows()}
            self.y_means_ = yv.groupby(reg).mean().to_dict()
            yfit = yfit - np.array([self.y_means_[r] for r in reg])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # iteration-limit notices
            est.fit(self._features(panel), yfit)
        return self

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """ln(t CO2/person) for each row of ``frame`` (``region``, ``year`` + drivers)."""
        check_fitted(self, "estimator_")
        self._check(frame, "frame")
        out = np.asarray(self.estimator_.predict(self._features(frame)), dtype=float)
        if self.fixed_effects == "demean" and not self._aware():
            out = out + np.array([self.y_means_[r] for r in frame["region"]])
        return out

    def offsets(self, panel: pd.DataFrame) -> dict[str, float]:
        """Observed minus fitted ln per-capita emissions in each region's last year of ``panel``
        (the intercept correction that makes a forecast start from the observed level)."""
        last = panel.sort_values("year").groupby("region").tail(1)
        res = log_emissions_per_capita(last).to_numpy() - self.predict(last)
        return dict(zip(last["region"], res, strict=True))


# --------------------------------------------------------------------------- BPNN search

def bpnn_search(panel: pd.DataFrame, drivers: Sequence[str] | str = TRUE_DRIVERS,
                split: Any = "random", *, activations: Sequence[str] = ACTIVATIONS,
                max_params: int = STUDY_MAX_PARAMS, max_layers: int = 2, max_iter: int = 300,
                n_train: int = 11, random_state: int = 0, n_jobs: int = 1,
                cache: bool = False) -> pd.DataFrame:
    """Fit every architecture inside the budget × activation with :class:`FastMLP`.

    Returns one row per (hidden, activation): ``hidden`` (e.g. "8-7"), ``n_layers``,
    ``n_params``, ``activation``, ``mse_train``, ``mse_test``, ``mae_test``, ``seconds``,
    sorted by test MSE (on the log scale, pooled over the split's folds). ``cache`` as in
    :func:`run_comparison` (the ``seconds`` column then records the first run).
    """
    X, y, _ = design_matrix(panel, drivers)
    _, folds = _resolve_splits(panel, split, random_state, n_train)
    if cache:
        kw = {"activations": tuple(activations), "max_params": max_params,
              "max_layers": max_layers, "max_iter": max_iter, "n_train": n_train,
              "random_state": random_state, "n_jobs": n_jobs}
        return _cached("bpnn_search", [X, y, folds, sorted(kw.items())],
                       lambda: bpnn_search(panel, drivers, split, **kw))
    regions = X.index.get_level_values("region").to_numpy()
    years = X.index.get_level_values("year").to_numpy()
    masks = [_check_split(regions, years, s) for s in folds]
    archs = bpnn_architectures(X.shape[1], max_params=max_params, max_layers=max_layers)
    for a in activations:
        _act(a)
    Xa, ya = X.to_numpy(), y.to_numpy()
    jobs = [(h, a) for h in archs["hidden"] for a in activations]

    def one(hidden: tuple[int, ...], act: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        tr_t, tr_p, te_t, te_p = [], [], [], []
        for tr, te in masks:
            m = FastMLP(hidden, act, max_iter=max_iter, random_state=random_state)
            m.fit(Xa[tr], ya[tr])
            tr_t.append(ya[tr])
            tr_p.append(m.predict(Xa[tr]))
            te_t.append(ya[te])
            te_p.append(m.predict(Xa[te]))
        mtr = regression_metrics(np.concatenate(tr_t), np.concatenate(tr_p))
        mte = regression_metrics(np.concatenate(te_t), np.concatenate(te_p))
        return {"hidden": "-".join(map(str, hidden)), "n_layers": len(hidden),
                "n_params": bpnn_n_params(X.shape[1], hidden), "activation": act,
                "mse_train": mtr["mse"], "mse_test": mte["mse"], "mae_test": mte["mae"],
                "seconds": time.perf_counter() - t0}

    # tiny matrices: BLAS threads only add contention (10× slower on a loaded machine)
    with threadpool_limits(limits=1):
        if n_jobs == 1:
            rows = [one(h, a) for h, a in jobs]
        else:
            from joblib import Parallel, delayed

            rows = Parallel(n_jobs=n_jobs)(delayed(one)(h, a) for h, a in jobs)
    out = pd.DataFrame(rows).sort_values(["mse_test", "n_params"], kind="stable")
    out.attrs["units"] = {"mse_train": "(ln t CO2/person)^2", "mse_test": "(ln t CO2/person)^2",
                          "mae_test": "ln t CO2/person", "seconds": "s"}
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- cache

def _cached(kind: str, parts: Sequence[Any], compute: Any) -> Any:
    """:func:`carbonlab.cache.cached` with the scikit-learn version in the key."""
    import sklearn

    return cached(kind, [sklearn.__version__, *parts], compute)


# --------------------------------------------------------------------------- comparison

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


_VARIANT = {"fe": "entity effects", "persistence": "last value", "drift": "last value + mean change"}


@dataclass(frozen=True)
class ComparisonSettings:
    """What :func:`run_comparison` fits and how; the defaults are the study's.

    models : registry names (:data:`MODELS`) among "bagging", "rf", "fe", "svr", "bpnn",
        "persistence", "drift"; with ``baselines`` the :data:`BASELINES` are always added.
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

        unknown = [k for k in names(self.models) if k not in DEFAULT_MODELS]
        if unknown:
            raise ParameterError(f"models: unknown model {unknown[0]!r}; use {', '.join(DEFAULT_MODELS)}")
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
    kw = {"mtry_trees": s.mtry_trees} if key == "rf" else {}
    est = get_model(key, s.random_state, n_estimators=s.n_trees, **kw)
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
    """fe, persistence, drift: the registry's model as it is."""
    return [_Variant(_VARIANT[key], *d.fit_predict(get_model(key, s.random_state)))], None


#: how each registry model enters the comparison (default :func:`_one_variant`)
_VARIANTS: dict[str, Any] = {"bagging": _forest_variants, "rf": _forest_variants,
                             "svr": _svr_variants, "bpnn": _bpnn_variants}


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
            variants, curve = _VARIANTS.get(key, _one_variant)(key, d, s)
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
    networks: one per architecture × activation, the others: one row) is looked up in
    ``_VARIANTS``.
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


# --------------------------------------------------------------------------- selection

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

    def __str__(self) -> str:
        folds = ", ".join(f"{f.test_years[0]}–{f.test_years[-1]}" for f in self.folds)
        return (f"rolling-origin winner: {MODEL_LABELS.get(self.winner, self.winner)} "
                f"({self.winner}), test MSE {self.table['mse_test'].iloc[0]:.4f}, "
                f"{self.margin_pct():.0f} % below {MODEL_LABELS.get(self.runner_up, self.runner_up)}; "
                f"test windows {folds}")

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


# --------------------------------------------------------------------------- sliding windows

def _series(series: Any) -> pd.Series:
    s = series if isinstance(series, pd.Series) else pd.Series(np.asarray(series, dtype=float))
    try:
        s = s.astype(float)
    except (TypeError, ValueError):
        raise DataError("series: values must be numeric") from None
    if s.isna().any() or not np.all(np.isfinite(s.to_numpy())):
        raise DataError(f"series: NaN or infinite value at {s.index[int(np.flatnonzero(~np.isfinite(s.to_numpy()))[0])]}")
    return s


def _lagged(values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    n = values.size - window
    X = np.lib.stride_tricks.sliding_window_view(values, window)[:n]
    return np.ascontiguousarray(X), values[window:]


class SlidingWindowForecaster:
    """Univariate forecasting with any zoo regressor on sliding windows of ``window`` values.

    ``fit(series)`` trains ``estimator`` on (x_{t−n}, …, x_{t−1}) → x_t;
    ``forecast(h)`` predicts recursively, feeding each prediction back as the newest lag.
    The series' index (years) is carried to the forecasts (last index + 1, + 2, …).
    """

    def __init__(self, estimator: Any, window: int = 3):
        self.estimator = estimator
        self.window = window

    def fit(self, series: Any) -> SlidingWindowForecaster:
        s = _series(series)
        w = _positive_int(self.window, "window")
        if s.size < w + 2:
            raise DataError(f"series: {s.size} values, need at least window + 2 = {w + 2}")
        X, y = _lagged(s.to_numpy(), w)
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.series_ = s
        return self

    def predict_in_sample(self) -> pd.Series:
        """One-step-ahead fitted values for the training series (from its ``window``-th value)."""
        check_fitted(self, "estimator_")
        X, _ = _lagged(self.series_.to_numpy(), self.window)
        return pd.Series(self.estimator_.predict(X), index=self.series_.index[self.window:])

    def forecast(self, horizon: int, last: Any = None) -> pd.Series:
        """Recursive ``horizon``-step forecast after the training series (or after ``last``)."""
        check_fitted(self, "estimator_")
        horizon = _positive_int(horizon, "horizon")
        hist = self.series_ if last is None else _series(last)
        if hist.size < self.window:
            raise DataError(f"last: {hist.size} values, need the last {self.window}")
        buf = list(hist.to_numpy()[-self.window:])
        out = []
        for _ in range(horizon):
            v = float(self.estimator_.predict(np.asarray(buf[-self.window:])[None, :])[0])
            out.append(v)
            buf.append(v)
        idx = hist.index
        if pd.api.types.is_integer_dtype(idx):
            new = pd.RangeIndex(int(idx[-1]) + 1, int(idx[-1]) + 1 + horizon, name=idx.name)
        else:
            new = pd.RangeIndex(len(idx), len(idx) + horizon)
        return pd.Series(out, index=new, name="forecast")


def sliding_window_predictions(series: Any, estimator: Any, window: int = 3,
                               test_size: float | int = 0.2) -> pd.DataFrame:
    """Train on the first part of ``series``, forecast the rest recursively.

    ``test_size``: fraction (the city study: 0.2, the last 20 %) or number of values.
    Returns tidy ``year`` (the series index), ``set`` (train/test), ``actual``,
    ``predicted`` (train: one step ahead; test: recursive from the end of training),
    ``predicted_one_step`` (test rows: one step ahead from the actual lags).
    """
    s = _series(series)
    w = _positive_int(window, "window")
    if isinstance(test_size, float):
        if not 0 < test_size < 1:
            raise ParameterError(f"test_size: fraction must be in (0, 1), got {test_size}")
        n_test = max(1, int(round(test_size * s.size)))
    else:
        n_test = _positive_int(test_size, "test_size")
    if s.size - n_test < w + 2:
        raise DataError(f"series: {s.size} values leave {s.size - n_test} for training, "
                        f"need window + 2 = {w + 2}")
    train, test = s.iloc[:-n_test], s.iloc[-n_test:]
    fc = SlidingWindowForecaster(estimator, w).fit(train)
    ins = fc.predict_in_sample()
    rec = fc.forecast(n_test).to_numpy()
    X_all, _ = _lagged(s.to_numpy(), w)
    one = fc.estimator_.predict(X_all[-n_test:])
    return pd.concat([
        pd.DataFrame({"year": ins.index, "set": "train", "actual": train.to_numpy()[w:],
                      "predicted": ins.to_numpy(), "predicted_one_step": ins.to_numpy()}),
        pd.DataFrame({"year": test.index, "set": "test", "actual": test.to_numpy(),
                      "predicted": rec, "predicted_one_step": one}),
    ], ignore_index=True)


def evaluate_sliding_window(series: Any, estimator: Any, window: int = 3,
                            test_size: float | int = 0.2) -> pd.DataFrame:
    """RMSE on train (one step) and test (recursive and one step), in the series' units.

    Returns one row: ``window``, ``n_train``, ``n_test``, ``rmse_train``, ``rmse_test``
    (recursive multi-step), ``rmse_test_one_step``.
    """
    p = sliding_window_predictions(series, estimator, window, test_size)
    tr, te = p[p["set"] == "train"], p[p["set"] == "test"]
    return pd.DataFrame([{
        "window": int(window), "n_train": int(len(tr) + window), "n_test": int(len(te)),
        "rmse_train": regression_metrics(tr["actual"], tr["predicted"])["rmse"],
        "rmse_test": regression_metrics(te["actual"], te["predicted"])["rmse"],
        "rmse_test_one_step": regression_metrics(te["actual"], te["predicted_one_step"])["rmse"],
    }])


# --------------------------------------------------------------------------- figures

def plot_scatter_grid(predictions: pd.DataFrame, panels: Iterable[tuple[str, str]],
                      band: float = 0.15, subset: str = "test", fold_split: str | None = None,
                      axes: Any = None) -> Any:
    """2×2 predicted-vs-actual scatter (the study's Figure 1): 45° line and ±``band`` lines.

    ``predictions`` is :attr:`Comparison.predictions`; ``panels`` four (model, variant)
    pairs; x = predicted, y = actual ln(t CO2/person), on ``subset`` rows. The title of
    each panel gives the share of points outside the bands. The axes span the actual values
    of the plotted rows (plus ``band`` and a margin); a prediction beyond them (a diverged
    model) is drawn clipped at the edge as a triangle, and the title counts the clipped points.
    ``axes``: a 2×2 array of Axes (new ones when None). Returns the 2×2 array of Axes.
    """
    panels = list(panels)
    if len(panels) != 4:
        raise ParameterError(f"panels: the grid needs 4 (model, variant) pairs, got {len(panels)}")
    d = predictions[predictions["set"] == subset]
    if fold_split is not None:
        d = d[d["split"] == fold_split]
    if axes is None:
        _, axes = new_figure(2, 2, figsize=(7.5, 7.0), sharex=True, sharey=True)
    axes = np.asarray(axes, dtype=object)
    if axes.shape != (2, 2):
        raise ParameterError(f"axes: plot_scatter_grid needs a 2×2 array of Axes, got shape {axes.shape}")
    hs = []
    for model, variant in panels:
        h = d[(d["model"] == model) & (d["variant"] == variant)]
        if h.empty:
            raise ParameterError(f"panels: no {subset} predictions for {model} / {variant}")
        hs.append(h)
    yt = pd.concat([h["y_true"] for h in hs])
    pad = band + 0.05 * float(yt.max() - yt.min())
    lo, hi = float(yt.min()) - pad, float(yt.max()) + pad
    line = np.array([lo, hi])
    for ax, h, (model, variant), color in zip(axes.ravel(), hs, panels, PALETTE, strict=False):
        outside = float(np.mean(np.abs(h["y_true"] - h["y_pred"]) > band))
        clip = (h["y_pred"] < lo) | (h["y_pred"] > hi)
        ax.scatter(h["y_pred"][~clip], h["y_true"][~clip], s=12, alpha=0.7, color=color,
                   edgecolor="none")
        if clip.any():
            ax.scatter(h["y_pred"][clip].clip(lo, hi), h["y_true"][clip], s=18, marker="^",
                       color=color, edgecolor="black", lw=0.5)
        ax.plot(line, line, color="black", lw=1)
        for off in (-band, band):
            ax.plot(line, line + off, color="grey", lw=0.8, ls="--")
        note = f"; {int(clip.sum())} clipped" if clip.any() else ""
        ax.set_title(f"{model} {variant}\n{outside:.0%} outside ±{band:g}{note}")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
    for ax in axes[1]:
        ax.set_xlabel("predicted ln(t CO2/person)")
    for ax in axes[:, 0]:
        ax.set_ylabel("actual ln(t CO2/person)")
    return axes


def plot_tree_curves(curves: pd.DataFrame, fold: str | None = None, ax: Any = None) -> Any:
    """Test MSE and out-of-bag MSE against the number of trees (log x), per forest; the Axes."""
    if curves.empty:
        raise ParameterError("curves: empty (no forest was fitted)")
    fold = fold or curves["fold"].iloc[0]
    d = curves[curves["fold"] == fold]
    if ax is None:
        _, ax = new_figure(1, 1)
    for (model, g), color in zip(d.groupby("model", sort=False), PALETTE, strict=False):
        ax.plot(g["n_trees"], g["mse_test"], color=color, label=f"{model}: test")
        ax.plot(g["n_trees"], g["mse_oob"], color=color, ls="--", label=f"{model}: out-of-bag")
        k = int(g["n_trees"].to_numpy()[np.argmin(g["mse_test"].to_numpy())])
        ax.axvline(k, color=color, lw=0.8, ls=":")
    plain_log_axis(ax, "x")
    ax.set_xlabel("number of trees")
    ax.set_ylabel("MSE, (ln t CO2/person)²")
    ax.set_title(f"Tree-count curves ({fold}); dotted: best test count")
    ax.legend()
    return ax


def plot_bpnn_search(table: pd.DataFrame, ax: Any = None) -> Any:
    """Test MSE of every searched net against its parameter count, by activation; the Axes."""
    if table.empty:
        raise ParameterError("table: empty search table")
    if ax is None:
        _, ax = new_figure(1, 1)
    for (act, g), color in zip(table.groupby("activation", sort=True), PALETTE, strict=False):
        for n_layers, marker in ((1, "o"), (2, "^")):
            h = g[g["n_layers"] == n_layers]
            ax.scatter(h["n_params"], h["mse_test"], s=14, alpha=0.6, color=color, marker=marker,
                       edgecolor="none", label=f"{act}, {n_layers} layer{'s' * (n_layers > 1)}")
    plain_log_axis(ax, "y")
    ax.set_xlabel("parameters (weights + biases)")
    ax.set_ylabel("test MSE, (ln t CO2/person)²")
    ax.set_title("Every BP network inside the budget")
    legend_outside(ax, "bottom", ncols=2)  # inside the axes it covered some nets
    return ax


def plot_split_ranking(ranking: pd.DataFrame, metric: str = "mse_test", ax: Any = None) -> Any:
    """Each model's ``metric`` under two splits (log scale), one line per model, best first;
    the Axes."""
    cols = [c for c in ranking.columns if c.startswith(f"{metric}_")]
    if len(cols) != 2:
        raise ParameterError(f"ranking: needs exactly two splits, got {cols}")
    if ax is None:
        _, ax = new_figure(1, 1, figsize=(7.0, 5.0))
    labels = ranking["model"] + " " + ranking["variant"]
    ypos = np.arange(len(ranking))[::-1]
    for col, color, marker in zip(cols, PALETTE, ("o", "s"), strict=False):
        ax.scatter(ranking[col], ypos, color=color, marker=marker, zorder=3,
                   label=col.removeprefix(f"{metric}_"))
    for yv, a, b in zip(ypos, ranking[cols[0]], ranking[cols[1]], strict=True):
        ax.plot([a, b], [yv, yv], color="#999999", lw=1, zorder=2)
    ax.set_yticks(ypos, labels)
    plain_log_axis(ax, "x")
    ax.set_xlabel(f"{metric.replace('_', ' ')}, log scale")
    ax.set_title("The same models under two splits")
    ax.legend(title="split")
    return ax
