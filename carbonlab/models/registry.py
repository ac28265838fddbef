"""The model registry: one table, one row (:class:`ModelSpec`) per model.

Everything that needs to know about a model reads its row: :func:`get_model` builds it
with the row's ``factory``; chapter 3's comparison fits it the way the row's ``variants``
says; :class:`~carbonlab.models.PanelModel`, the rolling-origin selection and chapter 4
accept it when ``panel``; the sliding window when ``window``; the city layer
(:mod:`carbonlab.leap.forecast`) reads ``city_label`` and ``city_grid``. The name lists
(:data:`MODELS`, :data:`PANEL_MODELS`, :data:`WINDOW_MODELS`, :data:`NAIVE`,
:data:`BASELINES`) and :data:`MODEL_LABELS` are live views of the table, so a row added
with :func:`register_model` reaches all of them.
"""


from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sklearn.base import BaseEstimator

from carbonlab._util import ParameterError, RowTable, RowView
from carbonlab.models.baselines import Drift, Persistence
from carbonlab.models.bma_elasticity import BMAElasticity
from carbonlab.models.fe import PanelFE
from carbonlab.models.forests import Bagging, RandomForest
from carbonlab.models.lstm import LSTMRegressor
from carbonlab.models.nets import FastMLP, KerasMLP
from carbonlab.models.svr import SVRegressor

DIVERGED_FACTOR: float = 100.0
"""A comparison variant whose test MSE exceeds this many times the median variant's is
reported as *diverged* (chapter 3's table), not with its back-transformed RMSE in Mt."""

STUDY_BPNN_WINNER: tuple[int, ...] = (8, 7)
"""The provincial study's forecaster: two hidden layers (8, 7), logistic (its Table 6)."""

VARIANT_KINDS: tuple[str, ...] = ("single", "forest", "kernels", "architectures")
"""How a model enters chapter 3's comparison (:func:`~carbonlab.models.run_comparison`):
``single`` one row (the model as built), ``forest`` all trees and the best tree count plus
the tree-count curve (needs ``tree_predictions``/``oob_curve``), ``kernels`` one row per
SVR kernel, ``architectures`` one row per BP network (hidden layers × activation)."""


@dataclass(frozen=True)
class ModelSpec:
    """One row of the model table.

    name, label : registry name (``get_model(name)``) and display name.
    factory : ``factory(random_state=..., **params)`` → a fresh unfitted scikit-learn style
        regressor; ``params`` override the row's defaults.
    panel : works on the province panel (:class:`PanelModel`, chapters 3–4).
    window : works on a univariate lag window (:class:`SlidingWindowForecaster`).
    naive : ignores the drivers (persistence, drift).
    baseline : shown in every ranking (chapter 3's comparison and selection).
    variants : one of :data:`VARIANT_KINDS`; ``variant`` names the ``single`` row.
    city_label : the city layer's short label; non-empty = a chapter 5 city model.
    city_grid, city_grid_fast : the city layer's hyper-parameters as ``{name: candidates}``
        (the full grid, and the small one of fast runs and the all-cities tables).
    """

    name: str
    label: str
    factory: Callable[..., BaseEstimator]
    panel: bool = True
    window: bool = True
    naive: bool = False
    baseline: bool = False
    variants: str = "single"
    variant: str = "defaults"
    city_label: str = ""
    city_grid: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    city_grid_fast: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ParameterError(f"name: a model name is an identifier, got {self.name!r}")
        if not callable(self.factory):
            raise ParameterError(f"factory: model {self.name} needs a callable factory")
        if self.variants not in VARIANT_KINDS:
            raise ParameterError(f"variants: model {self.name}: {self.variants!r} not in "
                                 f"{', '.join(VARIANT_KINDS)}")
        for k in ("city_grid", "city_grid_fast"):
            grid = {p: tuple(v) for p, v in dict(getattr(self, k)).items()}
            object.__setattr__(self, k, MappingProxyType(grid))

    @property
    def city(self) -> bool:
        """Used by the city layer (chapter 5)."""
        return bool(self.city_label)

    def build(self, random_state: int = 0, **params: Any) -> BaseEstimator:
        """A fresh, unfitted estimator (see :func:`get_model`)."""
        try:
            return self.factory(random_state=int(random_state), **params)
        except TypeError as exc:
            raise ParameterError(f"model {self.name}: {str(exc).splitlines()[0]}") from None


def _bpnn(random_state: int = 0, trainer: str = "fast", **params: Any) -> BaseEstimator:
    """The study's BP network: hidden (8, 7), logistic; ``trainer`` "fast" or "keras"."""
    kw = {"hidden": STUDY_BPNN_WINNER, "activation": "logistic",
          "random_state": random_state, **params}
    if trainer == "keras":
        return KerasMLP(**kw)
    if trainer != "fast":
        raise ParameterError(f"trainer: expected 'fast' or 'keras', got {trainer!r}")
    return FastMLP(**kw)


def _no_seed(cls: type) -> Callable[..., BaseEstimator]:
    """Factory of a deterministic estimator (``random_state`` accepted and unused)."""
    def make(random_state: int = 0, **params: Any) -> BaseEstimator:
        return cls(**params)
    make.__doc__ = f"{cls.__name__} (deterministic)."
    return make


def _trees(cls: type) -> Callable[..., BaseEstimator]:
    """Factory of a forest with 500 trees by default."""
    def make(random_state: int = 0, **params: Any) -> BaseEstimator:
        return cls(**{"n_estimators": 500, "random_state": random_state, **params})
    make.__doc__ = f"{cls.__name__}, 500 trees unless n_estimators is given."
    return make


_TABLE = RowTable("model", "name", ModelSpec)


register_model = _TABLE.register
"""Add a row to the model table (an existing key only with ``replace=True``)."""
registered = _TABLE.registered
"""Context manager: a row is in the model table inside the ``with`` block and gone after it."""
model_spec = _TABLE.row
"""The row of a model; an unknown one raises :class:`ParameterError` listing them."""


def model_specs() -> tuple[ModelSpec, ...]:
    """Every row, in table order."""
    return tuple(_TABLE.values())


class _Names(Sequence[str]):
    """A read-only, live view of the names whose row satisfies a condition (a tuple's API)."""

    def __init__(self, keep: Callable[[ModelSpec], bool],
                 order: Callable[[ModelSpec], Any] = lambda s: 0) -> None:
        self._keep, self._order = keep, order

    def _names(self) -> tuple[str, ...]:
        return tuple(s.name for s in sorted((s for s in _TABLE.values() if self._keep(s)),
                                            key=self._order))

    def __getitem__(self, i: Any) -> Any:
        return self._names()[i]

    def __len__(self) -> int:
        return len(self._names())

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(other) == self._names()

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Sequence[str]) -> tuple[str, ...]:
        return self._names() + tuple(other)

    def __radd__(self, other: Sequence[str]) -> tuple[str, ...]:
        return tuple(other) + self._names()

    def __repr__(self) -> str:
        return repr(self._names())

    def __reduce__(self) -> Any:  # pickles (and content-hashes) as the tuple it shows
        return (tuple, (self._names(),))


MODELS: Sequence[str] = _Names(lambda s: True)
"""Every model name the book uses; :func:`get_model` builds each one."""

BASELINES: Sequence[str] = _Names(lambda s: s.baseline, order=lambda s: not s.naive)
"""The baselines every ranking shows, naive ones first: last value, last value + mean change,
fixed-effects OLS."""

NAIVE: Sequence[str] = _Names(lambda s: s.naive)
"""The naive baselines among :data:`BASELINES` (they ignore the drivers); fixed-effects OLS is
the simple statistical baseline."""

PANEL_MODELS: Sequence[str] = _Names(lambda s: s.panel)
"""Names that work on the province panel (``lstm`` needs a univariate window)."""

WINDOW_MODELS: Sequence[str] = _Names(lambda s: s.window)
"""Names that work in :class:`SlidingWindowForecaster` (univariate city series)."""

CITY_MODELS: Sequence[str] = _Names(lambda s: s.city)
"""Names the city layer (chapter 5) forecasts with (rows with a ``city_label``)."""

MODEL_LABELS: Mapping[str, str] = RowView(_TABLE, lambda s: s.label)
"""Display names of :data:`MODELS`."""


def get_model(name: str, random_state: int = 0, **params: Any) -> BaseEstimator:
    """A fresh, unfitted model by registry name; ``params`` override its defaults.

    - ``"bpnn"``: the study's BP network, hidden layers (8, 7), logistic
      (:class:`FastMLP`; ``trainer="keras"`` gives the same net as :class:`KerasMLP`);
    - ``"svr"``: :class:`SVRegressor` (e1071 defaults, radial kernel);
    - ``"rf"``: :class:`RandomForest` (500 trees, mtry by OOB error; chapter 3's
      comparison passes the study's 10,000);
    - ``"bagging"``: :class:`Bagging` (500 trees);
    - ``"fe"``: :class:`PanelFE`, fixed-effects OLS (panel only: needs the region);
    - ``"bma"``: :class:`BMAElasticity`, chapter 2's posterior-mean coefficients with
      region intercepts (panel only);
    - ``"lstm"``: :class:`LSTMRegressor` (numpy; univariate windows only);
    - ``"persistence"``, ``"drift"``: :class:`Persistence`, :class:`Drift`;
    - any row added with :func:`register_model`.

    Every name in :data:`WINDOW_MODELS` works as
    ``SlidingWindowForecaster(get_model(name), window)`` on one series; every name in
    :data:`PANEL_MODELS` works as ``PanelModel(name, drivers)`` on the panel.
    An unknown name raises :class:`ParameterError` listing :data:`MODELS`.
    """
    return model_spec(name).build(random_state, **params)


for _spec in (
    ModelSpec("bpnn", "BP network", _bpnn, variants="architectures", city_label="BP",
              city_grid={"hidden": ((4,),), "max_iter": (5, 10, 20, 50, 100, 200)},
              city_grid_fast={"hidden": ((4,),), "max_iter": (5, 10, 20, 50, 100, 200)}),
    ModelSpec("svr", "SVR", _no_seed(SVRegressor), variants="kernels", city_label="SVR",
              # gamma in multiples of 1/n_features (e1071's default is 1x)
              city_grid={"C": (0.3, 1.0, 3.0, 10.0, 30.0), "epsilon": (0.01, 0.1),
                         "gamma": (0.3, 1.0, 3.0)},
              city_grid_fast={"C": (0.3, 3.0, 30.0), "epsilon": (0.1,),
                              "gamma": (0.3, 1.0, 3.0)}),
    ModelSpec("rf", "random forest", _trees(RandomForest), variants="forest", city_label="RF",
              city_grid={"n_estimators": (200,), "max_features": (1, "all"),
                         "min_samples_leaf": (1, 3)},
              city_grid_fast={"n_estimators": (60,), "max_features": (1, "all"),
                              "min_samples_leaf": (1, 3)}),
    ModelSpec("bagging", "bagging", _trees(Bagging), window=False, variants="forest"),
    ModelSpec("fe", "panel FE", _no_seed(PanelFE), window=False, baseline=True,
              variant="entity effects"),
    ModelSpec("bma", "BMA elasticities", BMAElasticity, window=False,
              variant="posterior mean"),
    ModelSpec("lstm", "LSTM", LSTMRegressor, panel=False, city_label="LSTM",
              city_grid={"units": (8,), "epochs": (200,), "learning_rate": (0.01,)},
              city_grid_fast={"units": (8,), "epochs": (80,), "learning_rate": (0.01,)}),
    ModelSpec("persistence", "persistence", _no_seed(Persistence), naive=True, baseline=True,
              variant="last value", city_label="persistence"),
    ModelSpec("drift", "drift", _no_seed(Drift), naive=True, baseline=True,
              variant="last value + mean change", city_label="drift"),
):
    register_model(_spec)
del _spec
