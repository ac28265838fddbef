"""The model registry: one name → one estimator factory."""


from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator

from carbonlab._util import ParameterError
from carbonlab.models.baselines import Drift, Persistence
from carbonlab.models.fe import PanelFE
from carbonlab.models.forests import Bagging, RandomForest
from carbonlab.models.lstm import LSTMRegressor
from carbonlab.models.nets import FastMLP, KerasMLP
from carbonlab.models.svr import SVRegressor

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
