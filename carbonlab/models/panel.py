"""A registry model on the province panel (ln per-capita emissions from drivers)."""


from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone

from carbonlab._util import DataError, ParameterError, check_fitted
from carbonlab.data import TRUE_DRIVERS, log_emissions_per_capita
from carbonlab.models.registry import PANEL_MODELS, get_model


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
