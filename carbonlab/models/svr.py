"""ε-SVR with R e1071's defaults made explicit."""


from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.svm import SVR

from carbonlab._util import ParameterError, check_fitted
from carbonlab.models._base import _as_2d, _check_n_features, _check_xy


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
