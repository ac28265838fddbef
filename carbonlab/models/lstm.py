"""The registry's LSTM in numpy (Keras' architecture, initialisers and Adam rule)."""


from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from carbonlab._util import DataError, ParameterError, check_fitted
from carbonlab.models._base import _check_xy, _positive_int
from carbonlab.models.nets import _Standardised


def validation_rows(n: int, fraction: float) -> int:
    """Rows kept for training when the last ``fraction`` of ``n`` rows (time order, at
    least 2) validate; at least 2 rows train."""
    if not (isinstance(fraction, float | int) and 0 < fraction < 1):
        raise ParameterError(f"validation_fraction: must be in (0, 1), got {fraction!r}")
    n_val = max(2, int(round(fraction * n)))
    return max(n - n_val, 2)


def _lstm_init(units: int, random_state: int) -> np.ndarray:
    """Seeded initial weights of the one-input LSTM + Dense(1) net, packed in one vector.

    Keras' defaults: Glorot-uniform input kernel, orthogonal recurrent kernel, zero bias
    with the forget gate's set to 1 (``unit_forget_bias``), Glorot-uniform Dense kernel and
    zero Dense bias. Layout (Keras' gate order i, f, c, o): kernel (1, 4u), recurrent
    kernel (u, 4u), bias (4u), Dense kernel (u, 1), Dense bias (1).
    """
    u = units
    rng = np.random.default_rng(random_state)
    lim = np.sqrt(6.0 / (1 + 4 * u))
    w = rng.uniform(-lim, lim, size=(1, 4 * u))
    a = rng.standard_normal((4 * u, u))  # Keras' Orthogonal: QR of a (max, min) normal
    q, r = np.linalg.qr(a)
    q = (q * np.sign(np.diag(r))).T       # (u, 4u), orthonormal rows
    b = np.zeros(4 * u)
    b[u:2 * u] = 1.0
    lim_d = np.sqrt(6.0 / (u + 1))
    wd = rng.uniform(-lim_d, lim_d, size=(u, 1))
    return np.concatenate([w.ravel(), q.ravel(), b, wd.ravel(), [0.0]])


def _lstm_views(theta: np.ndarray, u: int) -> tuple[np.ndarray, ...]:
    """(kernel (1,4u), recurrent (u,4u), bias (4u,), dense (u,1), dense bias (1,)) views."""
    k = 4 * u
    s = np.cumsum([0, k, u * k, k, u, 1])
    return (theta[s[0]:s[1]].reshape(1, k), theta[s[1]:s[2]].reshape(u, k), theta[s[2]:s[3]],
            theta[s[3]:s[4]].reshape(u, 1), theta[s[4]:s[5]])


def _lstm_forward(theta: np.ndarray, u: int, x: np.ndarray, keep: bool = False
                  ) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    """Predictions (n,) for windows ``x`` (n, T); with ``keep`` the per-step states."""
    W, U, b, Wd, bd = _lstm_views(theta, u)
    n = x.shape[0]
    h, c = np.zeros((n, u)), np.zeros((n, u))
    steps = []
    for t in range(x.shape[1]):
        z = x[:, t, None] * W + h @ U + b
        s = special.expit(z)
        g = np.tanh(z[:, 2 * u:3 * u])
        i, f, o = s[:, :u], s[:, u:2 * u], s[:, 3 * u:]
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        if keep:
            steps.append((h, c, i, f, g, o, tc))
        h, c = o * tc, c_new
    return (h @ Wd)[:, 0] + bd[0], steps if keep else [h]


def _lstm_loss_grad(theta: np.ndarray, u: int, x: np.ndarray, y: np.ndarray
                    ) -> tuple[float, np.ndarray]:
    """Mean squared error on (x, y) and its gradient (backpropagation through time)."""
    pred, steps = _lstm_forward(theta, u, x, keep=True)
    W, U, _, Wd, _ = _lstm_views(theta, u)
    grad = np.zeros_like(theta)
    gW, gU, gb, gWd, gbd = _lstm_views(grad, u)
    n = len(y)
    r = pred - y
    dy = (2.0 / n) * r
    h_last = steps[-1][5] * steps[-1][6]
    gWd[:, 0] = h_last.T @ dy
    gbd[0] = dy.sum()
    dh = dy[:, None] * Wd[:, 0]
    dc = np.zeros_like(dh)
    dz = np.empty((n, 4 * u))
    for t in range(x.shape[1] - 1, -1, -1):
        h_prev, c_prev, i, f, g, o, tc = steps[t]
        dc = dc + dh * o * (1.0 - tc * tc)
        dz[:, :u] = dc * g * i * (1.0 - i)
        dz[:, u:2 * u] = dc * c_prev * f * (1.0 - f)
        dz[:, 2 * u:3 * u] = dc * i * (1.0 - g * g)
        dz[:, 3 * u:] = dh * tc * o * (1.0 - o)
        gW[0] += x[:, t] @ dz
        gU += h_prev.T @ dz
        gb += dz.sum(axis=0)
        dh = dz @ U.T
        dc = dc * f
    return float(np.mean(r * r)), grad


class LSTMRegressor(_Standardised):
    """LSTM regressor in numpy, the registry's ``"lstm"``: each row of X is a window of a
    univariate series (columns = lags, oldest first).

    The architecture of ``keras.Sequential([Input((T, 1)), LSTM(units), Dense(1)])``
    (tanh cell, sigmoid gates, Keras' initialisers, :func:`_lstm_init`), trained on the mean
    squared error by Adam with Keras' update rule (β₁ = 0.9, β₂ = 0.999, ε = 1e-7), in
    float64 with exact backpropagation through time. A Keras fit of these tiny nets is
    dominated by framework overhead; this one is 20-100× faster and imports no TensorFlow.
    x and y share y's location and scale (one series), taken from the training rows.

    Parameters
    ----------
    units : LSTM cells.
    epochs : passes over the training rows.
    learning_rate : Adam step.
    batch_size : rows per Adam step, in time order (Keras ``shuffle=False``); None = full batch.
    validation_fraction : None, or the last fraction of the rows (time order, at least 2)
        that validate: after every epoch the loss on them is computed and the weights with
        the lowest validation loss are restored at the end (Keras
        ``EarlyStopping(restore_best_weights=True)`` without patience).
    random_state : seed of the initial weights; two fits → identical predictions.
    """

    def __init__(self, units: int = 16, epochs: int = 200, learning_rate: float = 0.01,
                 batch_size: int | None = None, validation_fraction: float | None = None,
                 random_state: int = 0):
        self.units = units
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def _scale_fit(self, Xa: np.ndarray, ya: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # one series: the window's columns share y's location and scale
        sd = float(ya.std())
        self.y_mean_, self.y_scale_ = float(ya.mean()), sd if sd > 0 else 1.0
        self.x_mean_ = np.full(Xa.shape[1], self.y_mean_)
        self.x_scale_ = np.full(Xa.shape[1], self.y_scale_)
        self.n_features_in_ = Xa.shape[1]
        return (Xa - self.x_mean_) / self.x_scale_, (ya - self.y_mean_) / self.y_scale_

    def fit(self, X: Any, y: Any) -> LSTMRegressor:
        Xa, ya = _check_xy(X, y)
        u = _positive_int(self.units, "units")
        epochs = _positive_int(self.epochs, "epochs")
        lr = self.learning_rate
        if not (isinstance(lr, float | int) and np.isfinite(lr) and lr > 0):
            raise ParameterError(f"learning_rate: must be positive, got {lr!r}")
        n = len(ya)
        ntr = n if self.validation_fraction is None else validation_rows(
            n, self.validation_fraction)
        if ntr >= n and self.validation_fraction is not None:
            raise DataError(f"y: {n} rows leave none to validate on")
        bs = ntr if self.batch_size is None else _positive_int(self.batch_size, "batch_size")
        self._scale_fit(Xa[:ntr], ya[:ntr])
        xs = (Xa - self.x_mean_) / self.x_scale_
        ys = (ya - self.y_mean_) / self.y_scale_
        xt, yt, xv, yv = xs[:ntr], ys[:ntr], xs[ntr:], ys[ntr:]
        theta = _lstm_init(u, int(self.random_state))
        m1, m2 = np.zeros_like(theta), np.zeros_like(theta)
        b1, b2, eps = 0.9, 0.999, 1e-7
        step = 0
        losses, val = [], []
        best, best_loss, best_epoch = theta.copy(), np.inf, 0
        for epoch in range(1, epochs + 1):
            tot = 0.0
            for a in range(0, ntr, bs):
                loss, g = _lstm_loss_grad(theta, u, xt[a:a + bs], yt[a:a + bs])
                tot += loss * len(yt[a:a + bs])
                step += 1
                m1 += (g - m1) * (1 - b1)
                m2 += (g * g - m2) * (1 - b2)
                alpha = lr * np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
                theta -= alpha * m1 / (np.sqrt(m2) + eps)
            losses.append(tot / ntr)
            if len(yv):
                vl = float(np.mean((_lstm_forward(theta, u, xv)[0] - yv) ** 2))
                val.append(vl)
                if vl < best_loss:
                    best, best_loss, best_epoch = theta.copy(), vl, epoch
        self.loss_curve_ = losses
        if len(yv):
            theta = best
            self.validation_curve_ = val
            self.best_epoch_, self.best_validation_loss_ = best_epoch, best_loss
        self.coef_ = theta
        return self

    def predict(self, X: Any) -> np.ndarray:
        check_fitted(self, "coef_")
        Xs = self._scale_x(X)
        return _lstm_forward(self.coef_, int(self.units), Xs)[0] * self.y_scale_ + self.y_mean_
