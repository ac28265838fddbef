"""Panel fixed-effects OLS (linearmodels PanelOLS with entity effects)."""


from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from carbonlab._util import DataError, check_fitted
from carbonlab.models._base import _as_2d, _check_n_features, _check_xy


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
