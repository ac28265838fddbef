"""Chapter 3's model zoo (a package: one module per idea): forests, SVR, BP networks, LSTM and panel fixed effects.

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

Layout (``carbonlab.models.<module>``): ``registry`` (the one table of models),
``baselines``, ``forests``, ``svr``, ``nets`` (BP networks, Keras references, the
architecture search), ``lstm``, ``fe`` (panel fixed effects), ``panel``
(:class:`PanelModel`), ``splits``, ``evaluation`` (comparison, rolling-origin selection),
``windows`` (sliding windows), ``plots``. Every public name is re-exported here, so
``from carbonlab.models import X`` works as it did when this was one module.
"""

from __future__ import annotations

from carbonlab._util import NotFittedError  # noqa: F401
from carbonlab.models._base import (  # noqa: F401
    back_transform,
    design_matrix,
    regression_metrics,
)
from carbonlab.models.baselines import (  # noqa: F401
    Drift,
    Persistence,
)
from carbonlab.models.bma_elasticity import BMAElasticity  # noqa: F401
from carbonlab.models.evaluation import (  # noqa: F401
    DEFAULT_MODELS,
    STUDY_BPNN,
    SVR_KERNELS,
    Comparison,
    ComparisonSettings,
    Selection,
    compare_models,
    rolling_origin_predictions,
    run_comparison,
    select,
    split_ranking,
    usable_drivers,
)
from carbonlab.models.fe import (  # noqa: F401
    PanelFE,
)
from carbonlab.models.forests import (  # noqa: F401
    Bagging,
    RandomForest,
)
from carbonlab.models.lstm import (  # noqa: F401
    LSTMRegressor,
    validation_rows,
)
from carbonlab.models.nets import (  # noqa: F401
    ACTIVATIONS,
    STUDY_MAX_PARAMS,
    FastMLP,
    KerasLSTM,
    KerasMLP,
    bpnn_architectures,
    bpnn_n_params,
    bpnn_search,
    check_bpnn_budget,
    keras_backend,
)
from carbonlab.models.panel import (  # noqa: F401
    PanelModel,
)
from carbonlab.models.plots import (  # noqa: F401
    plot_bpnn_search,
    plot_scatter_grid,
    plot_split_ranking,
    plot_tree_curves,
    plot_truth_distance,
)
from carbonlab.models.registry import (  # noqa: F401
    BASELINES,
    DIVERGED_FACTOR,
    MODEL_LABELS,
    MODELS,
    NAIVE,
    PANEL_MODELS,
    STUDY_BPNN_WINNER,
    VARIANT_KINDS,
    WINDOW_MODELS,
    ModelSpec,
    get_model,
    model_spec,
    model_specs,
    register_model,
    registered,
)
from carbonlab.models.splits import (  # noqa: F401
    YearSplit,
    random_year_split,
    rolling_origin_splits,
)
from carbonlab.models.svr import (  # noqa: F401
    SVRegressor,
)
from carbonlab.models.windows import (  # noqa: F401
    SlidingWindowForecaster,
    evaluate_sliding_window,
    sliding_window_predictions,
)

__all__ = [
    "MODELS",
    "BASELINES",
    "DIVERGED_FACTOR",
    "NAIVE",
    "PANEL_MODELS",
    "WINDOW_MODELS",
    "MODEL_LABELS",
    "get_model",
    "ModelSpec",
    "VARIANT_KINDS",
    "model_spec",
    "model_specs",
    "register_model",
    "registered",
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
    "BMAElasticity",
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
    "plot_truth_distance",
]
