"""Univariate sliding-window forecasting (city series)."""


from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from carbonlab._util import DataError, ParameterError, check_fitted
from carbonlab.models._base import _positive_int, regression_metrics


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
