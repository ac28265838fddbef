"""Bootstrap forests of CART trees (bagging, random forest) with tree-count curves."""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.tree import DecisionTreeRegressor

from carbonlab._util import DataError, ParameterError, check_fitted
from carbonlab.models._base import _as_2d, _check_n_features, _check_xy, _positive_int


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
