"""BP networks: the study's parameter budget, the numpy/scipy L-BFGS net and the Keras references."""


from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special
from sklearn.base import BaseEstimator, RegressorMixin
from threadpoolctl import threadpool_limits

from carbonlab._util import ParameterError, check_fitted
from carbonlab.data import TRUE_DRIVERS
from carbonlab.models._base import (
    _as_2d,
    _cached,
    _check_n_features,
    _check_xy,
    _positive_int,
    design_matrix,
    regression_metrics,
)
from carbonlab.models.splits import _check_split, _resolve_splits

ACTIVATIONS: tuple[str, ...] = ("logistic", "tanh", "softplus")
"""The provincial study's three BP-network activations."""

STUDY_MAX_PARAMS: int = 155
"""The provincial study's parameter budget (eq. 12): total parameters < 155 for its 330
training rows. (Its stated rule "rows ≥ 2 × parameters" alone would allow ≤ 165; we
follow the printed bound.)"""

_KERAS_ACT = {"logistic": "sigmoid", "tanh": "tanh", "softplus": "softplus", "relu": "relu"}


def bpnn_n_params(n_inputs: int, hidden: Sequence[int]) -> int:
    """Number of weights and biases of a fully connected net with one linear output.

    ``n_inputs`` inputs, hidden layer widths ``hidden``: Σ (fan_in + 1)·width + (last + 1).
    The study's nets on 5 inputs: (12,) → 85 and (8, 7) → 119 (6x + xy + 2y + 1).
    """
    n_inputs = _positive_int(n_inputs, "n_inputs")
    if isinstance(hidden, int | np.integer):
        hidden = (int(hidden),)
    hidden = tuple(hidden)
    if not hidden:
        raise ParameterError("hidden: at least one hidden layer")
    widths = [_positive_int(h, "hidden") for h in hidden]
    sizes = [n_inputs, *widths, 1]
    return int(sum((a + 1) * b for a, b in itertools.pairwise(sizes)))


def check_bpnn_budget(n_inputs: int, hidden: Sequence[int],
                      max_params: int = STUDY_MAX_PARAMS) -> int:
    """Parameter count of the architecture; ParameterError if not < ``max_params``."""
    n = bpnn_n_params(n_inputs, hidden)
    if n >= max_params:
        raise ParameterError(f"hidden: architecture {tuple(hidden)} on {n_inputs} inputs has {n} "
                             f"parameters, over the budget (< {max_params})")
    return n


def bpnn_architectures(n_inputs: int = 5, max_params: int = STUDY_MAX_PARAMS,
                       max_layers: int = 2) -> pd.DataFrame:
    """Every architecture with 1…``max_layers`` hidden layers and < ``max_params`` parameters.

    Returns a table ``hidden`` (tuple), ``n_layers``, ``n_params``. For 5 inputs and
    the study's budget: one layer ≤ 21 nodes; two layers (x, y) with 6x + xy + 2y + 1 < 155.
    """
    n_inputs = _positive_int(n_inputs, "n_inputs")
    max_layers = _positive_int(max_layers, "max_layers")
    _positive_int(max_params, "max_params", minimum=2)
    rows: list[dict[str, Any]] = []

    def grow(prefix: tuple[int, ...]) -> None:
        width = 1
        while True:
            arch = (*prefix, width)
            # the smallest completion (more layers of width 1) is no cheaper than arch itself
            if bpnn_n_params(n_inputs, arch) >= max_params:
                break
            rows.append({"hidden": arch, "n_layers": len(arch),
                         "n_params": bpnn_n_params(n_inputs, arch)})
            if len(arch) < max_layers:
                grow(arch)
            width += 1

    grow(())
    if not rows:
        raise ParameterError(f"max_params: no architecture on {n_inputs} inputs fits < {max_params}")
    out = pd.DataFrame(rows).sort_values(["n_layers", "hidden"], kind="stable")
    return out.reset_index(drop=True)


def _act(name: str) -> tuple[Any, Any]:
    """Activation and its derivative expressed through (z, a)."""
    if name == "logistic":
        return special.expit, lambda z, a: a * (1.0 - a)
    if name == "tanh":
        return np.tanh, lambda z, a: 1.0 - a * a
    if name == "softplus":
        return (lambda z: np.logaddexp(0.0, z)), (lambda z, a: special.expit(z))
    if name == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z, a: (z > 0).astype(float))
    raise ParameterError(f"activation: unknown activation {name!r}; use one of "
                         f"{', '.join(_KERAS_ACT)}")


class _Standardised(RegressorMixin, BaseEstimator):
    """Shared: standardise x (mean, sd) and y on the training rows; predictions in y units."""

    def _scale_fit(self, Xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.x_mean_ = Xa.mean(axis=0)
        sd = Xa.std(axis=0)
        self.x_scale_ = np.where(sd > 0, sd, 1.0)
        self.y_mean_, self.y_scale_ = float(ya.mean()), float(ya.std())
        self.n_features_in_ = Xa.shape[1]
        return (Xa - self.x_mean_) / self.x_scale_, (ya - self.y_mean_) / self.y_scale_

    def _scale_x(self, X: Any) -> np.ndarray:
        Xa = _as_2d(X)
        _check_n_features(self, Xa)
        return (Xa - self.x_mean_) / self.x_scale_

    def _check_hidden(self, n_inputs: int) -> tuple[int, ...]:
        hidden = (self.hidden,) if isinstance(self.hidden, int | np.integer) else tuple(self.hidden)
        n = bpnn_n_params(n_inputs, hidden)
        if self.max_params is not None and n >= self.max_params:
            check_bpnn_budget(n_inputs, hidden, self.max_params)
        self.n_params_ = n
        return hidden


class FastMLP(_Standardised):
    """BP network trained by full-batch L-BFGS (numpy forward/backward, scipy optimiser).

    The architecture search's trainer: scikit-learn's MLPRegressor has no softplus.
    x and y are standardised on the training rows; the loss is ½·mean squared error
    + ½·alpha·‖W‖²/n (as scikit-learn's); Glorot-uniform initial weights.

    Parameters
    ----------
    hidden : hidden layer widths, e.g. (8, 7).
    activation : "logistic", "tanh", "softplus" (or "relu").
    alpha : L2 penalty.
    max_iter : L-BFGS iterations.
    n_init : random restarts (best training loss kept).
    max_params : parameter budget (< max_params) or None for none.
    random_state : seed of the initial weights.
    """

    def __init__(self, hidden: Sequence[int] = (12,), activation: str = "logistic",
                 alpha: float = 1e-4, max_iter: int = 300, n_init: int = 1,
                 max_params: int | None = None, random_state: int = 0):
        self.hidden = hidden
        self.activation = activation
        self.alpha = alpha
        self.max_iter = max_iter
        self.n_init = n_init
        self.max_params = max_params
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> FastMLP:
        Xa, ya = _check_xy(X, y)
        hidden = self._check_hidden(Xa.shape[1])
        f, df = _act(self.activation)
        Xs, ys = self._scale_fit(Xa, ya)
        ys = ys[:, None]
        sizes = [Xs.shape[1], *hidden, 1]
        shapes = list(itertools.pairwise(sizes))
        n, nl = Xs.shape[0], len(shapes)
        alpha = float(self.alpha)

        def unpack(theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
            out, i = [], 0
            for a, b in shapes:
                W = theta[i:i + a * b].reshape(a, b)
                i += a * b
                out.append((W, theta[i:i + b]))
                i += b
            return out

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            layers = unpack(theta)
            acts, zs = [Xs], []
            for k, (W, b) in enumerate(layers):
                z = acts[-1] @ W + b
                zs.append(z)
                acts.append(z if k == nl - 1 else f(z))
            r = acts[-1] - ys
            loss = 0.5 * float(np.mean(r**2))
            loss += 0.5 * alpha * sum(float(np.sum(W * W)) for W, _ in layers) / n
            grads: list[np.ndarray] = []
            delta = r / n
            for k in range(nl - 1, -1, -1):
                W = layers[k][0]
                grads.append(delta.sum(axis=0))
                grads.append((acts[k].T @ delta + alpha * W / n).ravel())
                if k:
                    delta = (delta @ W.T) * df(zs[k - 1], acts[k])
            return loss, np.concatenate(grads[::-1])

        rng = np.random.default_rng(self.random_state)
        best = None
        for _ in range(_positive_int(self.n_init, "n_init")):
            parts = []
            for a, b in shapes:
                # scikit-learn's Glorot-uniform bound (factor 2 for logistic, else 6)
                bound = np.sqrt((2.0 if self.activation == "logistic" else 6.0) / (a + b))
                parts += [rng.uniform(-bound, bound, a * b), rng.uniform(-bound, bound, b)]
            res = optimize.minimize(loss_grad, np.concatenate(parts), jac=True, method="L-BFGS-B",
                                    options={"maxiter": _positive_int(self.max_iter, "max_iter"),
                                             "gtol": 1e-8, "ftol": 1e-12})
            if best is None or res.fun < best.fun:
                best = res
        self.coefs_ = unpack(best.x)
        self.loss_ = float(best.fun)
        self.n_iter_ = int(best.nit)
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "coefs_")
        a = self._scale_x(X)
        f, _ = _act(self.activation)
        for k, (W, b) in enumerate(self.coefs_):
            a = a @ W + b
            if k < len(self.coefs_) - 1:
                a = f(a)
        return a[:, 0] * self.y_scale_ + self.y_mean_


def keras_backend() -> Any:
    """Import Keras (TensorFlow backend) deterministically and return the ``keras`` module.

    Before TensorFlow is first imported: ``TF_DETERMINISTIC_OPS=1``,
    ``TF_ENABLE_ONEDNN_OPTS=0`` (oneDNN's reordered float sums differ run to run),
    ``PYTHONHASHSEED`` (default "0"; it only affects child processes),
    ``TF_CPP_MIN_LOG_LEVEL=2``, ``KERAS_BACKEND=tensorflow``; then
    ``tf.config.experimental.enable_op_determinism()`` and one CPU thread per op pool
    (the nets are tiny; fewer threads also share the machine better).
    """
    if "tensorflow" not in sys.modules:
        os.environ["TF_DETERMINISTIC_OPS"] = "1"
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
        os.environ.setdefault("PYTHONHASHSEED", "0")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        import keras
        import tensorflow as tf
    except ImportError:  # pragma: no cover - the deep extra is part of the lock
        raise ParameterError("Keras models need tensorflow-cpu and keras (pip install "
                             "carbonlab[deep])") from None
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")  # each fit traces its own loop: no retracing warnings
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:
        pass  # the runtime is already initialised: keep its thread pools
    return keras


def _full_batch_train(model: Any, X: np.ndarray, y: np.ndarray, epochs: int) -> list[float]:
    """``epochs`` full-batch steps in ONE compiled ``tf.function`` loop.

    The same updates as ``model.fit(batch_size=n, shuffle=False)`` (identical
    predictions), without Keras' per-epoch Python overhead (~30× faster for tiny nets).
    """
    import tensorflow as tf

    Xt, yt = tf.constant(X), tf.constant(y)
    opt = model.optimizer
    weights = model.trainable_variables
    opt.build(weights)  # create the optimizer's slots outside the loop

    def step(i: Any, losses: Any) -> tuple[Any, Any]:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(Xt, training=True) - yt))
        opt.apply_gradients(zip(tape.gradient(loss, weights), weights, strict=True))
        return i + 1, losses.write(i, loss)

    @tf.function(autograph=False)  # an explicit while_loop: no source inspection needed
    def train(n: Any) -> Any:
        losses = tf.TensorArray(tf.float32, size=n)
        _, losses = tf.while_loop(lambda i, _: i < n, step, (tf.constant(0), losses))
        return losses.stack()

    return [float(v) for v in train(tf.constant(epochs)).numpy()]


class _KerasRegressor(_Standardised):
    """Shared fit/predict of the Keras wrappers (full-batch Adam on standardised x and y)."""

    def _build(self, keras: Any, n_features: int) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _shape(self, Xs: np.ndarray) -> np.ndarray:
        return Xs

    def fit(self, X: Any, y: Any) -> _KerasRegressor:
        Xa, ya = _check_xy(X, y)
        epochs = _positive_int(self.epochs, "epochs")
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ParameterError(f"learning_rate: must be positive, got {self.learning_rate!r}")
        keras = keras_backend()
        Xs, ys = self._scale_fit(Xa, ya)
        keras.backend.clear_session()
        keras.utils.set_random_seed(int(self.random_state))
        model = self._build(keras, Xa.shape[1])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate), loss="mse")
        Xf, yf = self._shape(Xs).astype("float32"), ys.astype("float32")[:, None]
        if self.batch_size is None:
            self.loss_curve_ = _full_batch_train(model, Xf, yf, epochs)
        else:
            hist = model.fit(Xf, yf, epochs=epochs, shuffle=False, verbose=0,
                             batch_size=_positive_int(self.batch_size, "batch_size"))
            self.loss_curve_ = [float(v) for v in hist.history["loss"]]
        self.model_ = model
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "model_")
        Xs = self._shape(self._scale_x(X)).astype("float32")
        z = np.asarray(self.model_(Xs, training=False), dtype=float)[:, 0]
        return z * self.y_scale_ + self.y_mean_


class KerasMLP(_KerasRegressor):
    """BP network in Keras (Dense layers, linear output, MSE, Adam), sklearn-wrapped.

    Parameters
    ----------
    hidden : hidden layer widths, e.g. (8, 7).
    activation : "logistic", "tanh", "softplus" (or "relu").
    epochs : passes over the training rows.
    learning_rate : Adam step.
    batch_size : rows per step; None = full batch (one step per epoch).
    max_params : parameter budget (< max_params) or None.
    random_state : seed (``keras.utils.set_random_seed``); two fits → identical predictions.
    """

    def __init__(self, hidden: Sequence[int] = (8, 7), activation: str = "logistic",
                 epochs: int = 500, learning_rate: float = 0.01, batch_size: int | None = None,
                 max_params: int | None = None, random_state: int = 0):
        self.hidden = hidden
        self.activation = activation
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_params = max_params
        self.random_state = random_state

    def _build(self, keras: Any, n_features: int) -> Any:
        hidden = self._check_hidden(n_features)
        if self.activation not in _KERAS_ACT:
            _act(self.activation)
        layers = [keras.Input((n_features,))]
        layers += [keras.layers.Dense(h, activation=_KERAS_ACT[self.activation]) for h in hidden]
        return keras.Sequential([*layers, keras.layers.Dense(1)])


class KerasLSTM(_KerasRegressor):
    """LSTM regressor: each row of X is a window of a univariate series (columns = lags).

    Parameters
    ----------
    units : LSTM cells.
    epochs, learning_rate, batch_size, random_state : as :class:`KerasMLP`.
    """

    def __init__(self, units: int = 16, epochs: int = 200, learning_rate: float = 0.01,
                 batch_size: int | None = None, random_state: int = 0):
        self.units = units
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.random_state = random_state

    def _scale_fit(self, Xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # one series: the window's columns share y's location and scale
        self.y_mean_, self.y_scale_ = float(ya.mean()), float(ya.std())
        self.x_mean_ = np.full(Xa.shape[1], self.y_mean_)
        self.x_scale_ = np.full(Xa.shape[1], self.y_scale_)
        self.n_features_in_ = Xa.shape[1]
        return (Xa - self.x_mean_) / self.x_scale_, (ya - self.y_mean_) / self.y_scale_

    def _shape(self, Xs: np.ndarray) -> np.ndarray:
        return Xs[:, :, None]

    def _build(self, keras: Any, n_features: int) -> Any:
        units = _positive_int(self.units, "units")
        return keras.Sequential([keras.Input((n_features, 1)), keras.layers.LSTM(units),
                                 keras.layers.Dense(1)])


def bpnn_search(panel: pd.DataFrame, drivers: Sequence[str] | str = TRUE_DRIVERS,
                split: Any = "random", *, activations: Sequence[str] = ACTIVATIONS,
                max_params: int = STUDY_MAX_PARAMS, max_layers: int = 2, max_iter: int = 300,
                n_train: int = 11, random_state: int = 0, n_jobs: int = 1,
                cache: bool = False) -> pd.DataFrame:
    """Fit every architecture inside the budget × activation with :class:`FastMLP`.

    Returns one row per (hidden, activation): ``hidden`` (e.g. "8-7"), ``n_layers``,
    ``n_params``, ``activation``, ``mse_train``, ``mse_test``, ``mae_test``, ``seconds``,
    sorted by test MSE (on the log scale, pooled over the split's folds). ``cache`` as in
    :func:`run_comparison` (the ``seconds`` column then records the first run).
    """
    X, y, _ = design_matrix(panel, drivers)
    _, folds = _resolve_splits(panel, split, random_state, n_train)
    if cache:
        kw = {"activations": tuple(activations), "max_params": max_params,
              "max_layers": max_layers, "max_iter": max_iter, "n_train": n_train,
              "random_state": random_state, "n_jobs": n_jobs}
        return _cached("bpnn_search", [X, y, folds, sorted(kw.items())],
                       lambda: bpnn_search(panel, drivers, split, **kw))
    regions = X.index.get_level_values("region").to_numpy()
    years = X.index.get_level_values("year").to_numpy()
    masks = [_check_split(regions, years, s) for s in folds]
    archs = bpnn_architectures(X.shape[1], max_params=max_params, max_layers=max_layers)
    for a in activations:
        _act(a)
    Xa, ya = X.to_numpy(), y.to_numpy()
    jobs = [(h, a) for h in archs["hidden"] for a in activations]

    def one(hidden: tuple[int, ...], act: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        tr_t, tr_p, te_t, te_p = [], [], [], []
        for tr, te in masks:
            m = FastMLP(hidden, act, max_iter=max_iter, random_state=random_state)
            m.fit(Xa[tr], ya[tr])
            tr_t.append(ya[tr])
            tr_p.append(m.predict(Xa[tr]))
            te_t.append(ya[te])
            te_p.append(m.predict(Xa[te]))
        mtr = regression_metrics(np.concatenate(tr_t), np.concatenate(tr_p))
        mte = regression_metrics(np.concatenate(te_t), np.concatenate(te_p))
        return {"hidden": "-".join(map(str, hidden)), "n_layers": len(hidden),
                "n_params": bpnn_n_params(X.shape[1], hidden), "activation": act,
                "mse_train": mtr["mse"], "mse_test": mte["mse"], "mae_test": mte["mae"],
                "seconds": time.perf_counter() - t0}

    # tiny matrices: BLAS threads only add contention (10× slower on a loaded machine)
    with threadpool_limits(limits=1):
        if n_jobs == 1:
            rows = [one(h, a) for h, a in jobs]
        else:
            from joblib import Parallel, delayed

            rows = Parallel(n_jobs=n_jobs)(delayed(one)(h, a) for h, a in jobs)
    out = pd.DataFrame(rows).sort_values(["mse_test", "n_params"], kind="stable")
    out.attrs["units"] = {"mse_train": "(ln t CO2/person)^2", "mse_test": "(ln t CO2/person)^2",
                          "mae_test": "ln t CO2/person", "seconds": "s"}
    return out.reset_index(drop=True)
