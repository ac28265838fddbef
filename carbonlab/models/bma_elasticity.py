"""Chapter 2's BMA posterior as a forecaster: elasticities applied to the drivers' changes.

Within-region Zellner g-prior BMA (:class:`carbonlab.bma.BMA`, ``within="individual"``)
explains ln per-capita emissions by the drivers:
``y_rt = α_r + Σ_j β_j x_rtj + ε``. The posterior mean over the model space, ``β̄``, is a
set of (semi-)elasticities; forecast with the intercept correction of chapter 4 (anchored
at each region's last observed year T), the model reads

    ln e_rt = ln e_rT + Σ_j β̄_j (x_rtj − x_rTj),

so chapter 2's result drives chapter 4 directly: a driver moves the forecast exactly by
its posterior-mean effect, and nothing else does. :meth:`BMAElasticity.coef_draws` samples
β from the posterior (a model drawn by its posterior probability among the kept best
models, then β given the model) for the uncertainty of the elasticities themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from carbonlab._util import DataError, ParameterError, check_fitted

__all__ = ["BMAElasticity"]


class BMAElasticity(RegressorMixin, BaseEstimator):
    """ln per-capita emissions = region intercept + BMA posterior-mean coefficients · drivers.

    Parameters
    ----------
    g, mprior : the BMA priors (:class:`carbonlab.bma.BMA`; chapter 2's defaults).
    method : "auto" (exact enumeration up to 2^22 models, else MC3) as in BMA.
    random_state : int
        Seed of the MC3 sampler when the model space is too large to enumerate.

    Fitted attributes: ``coef_`` (Series, posterior mean per driver, y units per driver
    unit), ``coef_sd_``, ``pip_`` (posterior inclusion probabilities), ``intercepts_``
    (dict region → α_r), ``bma_`` (the fitted :class:`~carbonlab.bma.BMA`).

    Panel-aware: ``fit(X, y)`` takes X with a (region, year) index (as
    :class:`~carbonlab.models.PanelModel` passes it).
    """

    _panel_aware = True

    def __init__(self, g: str | float = "UIP", mprior: str = "uniform", method: str = "auto",
                 random_state: int = 0) -> None:
        self.g = g
        self.mprior = mprior
        self.method = method
        self.random_state = random_state

    @staticmethod
    def _regions(X: Any) -> np.ndarray:
        if not isinstance(X, pd.DataFrame) or "region" not in (X.index.names or []):
            raise DataError("BMAElasticity: X needs a (region, year) index (use PanelModel)")
        return X.index.get_level_values("region").astype(str).to_numpy()

    def fit(self, X: pd.DataFrame, y: Any) -> BMAElasticity:
        """Within-region BMA of ``y`` (ln t CO2/person) on the columns of ``X``."""
        from carbonlab.bma import BMA

        regions = self._regions(X)
        Xf = X.astype(float).reset_index(drop=True)
        yv = np.asarray(y, dtype=float)
        if yv.shape != (len(Xf),) or not np.all(np.isfinite(yv)):
            raise DataError("BMAElasticity: y must be finite, one value per row of X")
        fit = BMA(g=self.g, mprior=self.mprior, within="individual", method=self.method,
                  random_state=self.random_state).fit(Xf, pd.Series(yv), groups=regions)
        s = fit.summary(order_by_pip=False)
        self.bma_ = fit
        self.coef_ = s["post_mean"].rename("coef")
        self.coef_sd_ = s["post_sd"].rename("coef_sd")
        self.pip_ = s["pip"].rename("pip")
        self.feature_names_in_ = np.asarray(Xf.columns, dtype=object)
        self.n_features_in_ = Xf.shape[1]
        beta = self.coef_.to_numpy()
        df = pd.DataFrame(Xf.to_numpy() @ beta, columns=["xb"]).assign(y=yv, region=regions)
        m = df.groupby("region")[["y", "xb"]].mean()
        self.intercepts_ = (m["y"] - m["xb"]).to_dict()
        self._within = (Xf.to_numpy() - Xf.groupby(regions).transform("mean").to_numpy(),
                        yv - pd.Series(yv).groupby(regions).transform("mean").to_numpy())
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """ln(t CO2/person) = α_r + β̄ · x for each row (regions seen in fit)."""
        check_fitted(self, "coef_")
        regions = self._regions(X)
        unknown = sorted(set(regions) - set(self.intercepts_))
        if unknown:
            raise ParameterError(f"predict: region {unknown[0]!r} was not in the training panel")
        xb = X.astype(float).to_numpy() @ self.coef_.to_numpy()
        return xb + np.array([self.intercepts_[r] for r in regions])

    def coef_draws(self, n: int = 1000, random_state: int = 0) -> pd.DataFrame:
        """``n`` draws of the coefficient vector from the BMA posterior (rows; one column per
        driver): a model M by its posterior probability among ``bma_.models_`` (renormalised),
        then β | M ~ N(s·β̂_M, s·σ̂²_M (X_M'X_M)⁻¹) with s = g/(1+g) (the g-prior's shrinkage,
        normal approximation of the Student-t), zero for excluded drivers."""
        check_fitted(self, "coef_")
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ParameterError(f"n: expected a positive integer, got {n!r}")
        rng = np.random.default_rng(random_state)
        Xw, yw = self._within
        names = list(self.coef_.index)
        top = self.bma_.models_
        p = top["pmp"].to_numpy(dtype=float)
        incl = top[names].to_numpy(dtype=bool)
        s = float(self.bma_.shrinkage()["mean"])
        pick = rng.choice(len(top), size=int(n), p=p / p.sum())
        out = np.zeros((int(n), len(names)))
        for m in np.unique(pick):
            rows = np.flatnonzero(pick == m)
            idx = np.flatnonzero(incl[m])
            if not idx.size:
                continue
            Xm = Xw[:, idx]
            G = Xm.T @ Xm
            b = np.linalg.solve(G, Xm.T @ yw)
            resid = yw - s * Xm @ b
            sigma2 = float(resid @ resid) / max(len(yw) - idx.size, 1)
            cov = s * sigma2 * np.linalg.inv(G)
            out[np.ix_(rows, idx)] = rng.multivariate_normal(s * b, cov, size=rows.size,
                                                             method="cholesky")
        return pd.DataFrame(out, columns=names)
