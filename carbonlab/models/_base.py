"""Shared checks, metrics, the design matrix and the cache wrapper of :mod:`carbonlab.models`."""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.cache import cached
from carbonlab.data import TRUE_DRIVERS, log_emissions_per_capita


class _DataTypeError(DataError, TypeError):
    """A DataError for input of the wrong type (also a TypeError, as scikit-learn expects)."""


def _as_2d(X: Any, name: str = "X") -> np.ndarray:
    """A finite 2-D float array (scikit-learn's ``check_array`` rules: no sparse, complex or
    1-D input, at least one row and column), or a one-line :class:`DataError`."""
    from sklearn.utils import check_array

    if type(X) is np.ndarray and X.dtype == np.float64 and X.ndim == 2 and X.size:
        arr = X  # check_array returns such an array as it is; skip its per-call overhead
    else:
        try:
            arr = check_array(X, dtype=float, ensure_all_finite=False, input_name=name)
        except TypeError as exc:
            raise _DataTypeError(f"{name}: {' '.join(str(exc).split())}") from None
        except ValueError as exc:
            msg = " ".join(str(exc).split())
            if "0 sample(s)" in msg:
                msg = f"empty training set (0 rows). {msg}"
            raise DataError(f"{name}: {msg}") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        col = X.columns[c] if isinstance(X, pd.DataFrame) else c
        raise DataError(f"{name}: NaN or infinite value at row {r}, column {col}")
    return arr


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a training set: non-empty, finite, same length, non-constant target."""
    if y is None:
        raise DataError("y: this estimator requires y to be passed, but the target y is None")
    Xa = _as_2d(X)
    yv = np.asarray(y)
    if yv.ndim == 2 and yv.shape[1] == 1:
        from sklearn.utils import column_or_1d

        yv = column_or_1d(yv, warn=True)  # sklearn's DataConversionWarning
    if yv.ndim != 1:
        raise DataError(f"y: target must be 1-D, got shape {yv.shape}")
    try:
        ya = yv.astype(float)
    except (TypeError, ValueError):
        raise DataError("y: target must be numeric") from None
    if ya.size == 0:
        raise DataError("y: empty training set (0 rows)")
    if ya.size != Xa.shape[0]:
        raise DataError(f"y: {ya.size} values for {Xa.shape[0]} rows of X")
    if not np.all(np.isfinite(ya)):
        raise DataError(f"y: NaN or infinite target at row {int(np.flatnonzero(~np.isfinite(ya))[0])}")
    if ya.size < 2:
        raise DataError(f"y: {ya.size} sample, need at least 2 to fit")
    if np.ptp(ya) == 0:
        raise DataError("y: constant target (nothing to learn; every model would predict it)")
    return Xa, ya


def _check_n_features(est: Any, X: np.ndarray) -> None:
    if X.shape[1] != est.n_features_in_:
        raise DataError(f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
                        f"{est.n_features_in_} features as input")


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"{name}: expected an integer ≥ {minimum}, got {value!r}")
    return int(value)


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MSE, RMSE and MAE of ``y_pred`` against ``y_true`` (in the units of y)."""
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.size == 0 or t.size != p.size:
        raise DataError(f"metrics: need equal non-empty arrays, got {t.size} and {p.size}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise DataError("metrics: NaN or infinite value in y_true or y_pred")
    err = p - t
    mse = float(np.mean(err**2))
    return {"mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(err)))}


def back_transform(log_pc: Any, population_10k: Any) -> np.ndarray:
    """ln(t CO2/person) → total emissions in Mt CO2: exp(y) · population_10k · 10⁴ / 10⁶."""
    return np.exp(np.asarray(log_pc, dtype=float)) * np.asarray(population_10k, dtype=float) / 100.0


def design_matrix(panel: pd.DataFrame, drivers: Sequence[str] | str = TRUE_DRIVERS
                  ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The study's regression data: X (drivers), y = ln(t CO2/person), population.

    All three are indexed by a (region, year) MultiIndex. ``drivers`` may be a list or a
    comma-separated string (the notebook parameter).
    """
    if isinstance(drivers, str):
        drivers = [d.strip() for d in drivers.split(",") if d.strip()]
    drivers = list(drivers)
    if not drivers:
        raise ParameterError("drivers: no driver given")
    for col in ("region", "year", *drivers):
        if col not in panel.columns:
            raise DataError(f"panel: missing column {col}")
    if len(set(drivers)) != len(drivers):
        raise ParameterError(f"drivers: duplicated driver in {drivers}")
    y = log_emissions_per_capita(panel)
    idx = pd.MultiIndex.from_arrays([panel["region"].astype(str), panel["year"].astype(int)],
                                    names=["region", "year"])
    X = panel[drivers].astype(float).set_axis(idx)
    for c in drivers:
        bad = ~np.isfinite(X[c].to_numpy())
        if bad.any():
            r = X.index[int(np.flatnonzero(bad)[0])]
            raise DataError(f"panel: NaN in column {c} at {r[0]} {r[1]}")
    return X, y.set_axis(idx), panel["population_10k"].astype(float).set_axis(idx)


def _cached(kind: str, parts: Sequence[Any], compute: Any) -> Any:
    """:func:`carbonlab.cache.cached` with the scikit-learn version in the key."""
    import sklearn

    return cached(kind, [sklearn.__version__, *parts], compute)
