"""The naive baselines: persistence and drift."""


from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from carbonlab._util import DataError, check_fitted
from carbonlab.models._base import _as_2d, _check_n_features, _check_xy


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
