"""Honest univariate city forecasts: all observed years, tuned models, rolling-origin scores.

The city study forecasts each city's CO2 from its own past with sliding windows of the
last ``window`` years and four models (BP network, LSTM, SVR, random forest); it ranks
them by one-step test RMSE on one 7:3 split (LSTM > BP > RF > SVR, i.e. SVR best) and
forecasts with SVR. Here every model comes
from the one registry (:func:`carbonlab.models.get_model`) and is scored the way it is
used: **rolling origin, recursively over the horizon actually forecast** (h = 1 ... 5),
next to the naive baselines persistence and drift.

Data (:func:`city_series`)
    Every observed year; a run of at most ``max_gap`` missing years between two observed
    years is filled by linear interpolation and flagged (``attrs["interpolated"]``);
    longer gaps stay gaps. Lag windows never cross a gap; interpolated years are inputs
    but never scored as targets.

Models (:func:`city_model`)
    ``"bpnn"`` -- the registry's BP net (:class:`~carbonlab.models.FastMLP`) with
    validation early stopping (:class:`EarlyStoppedBP`); ``"lstm"`` -- the registry's
    :class:`~carbonlab.models.LSTMRegressor` (numpy) trained with validation-loss early stopping and
    best-weight restore (:class:`EarlyStoppedLSTM`); ``"svr"`` -- the registry's SVR with
    C, epsilon and gamma tuned by chronological inner cross-validation (:class:`TunedSVR`);
    ``"rf"`` -- the registry's random forest with mtry and leaf size tuned the same way
    (:class:`TunedRF`); ``"persistence"``, ``"drift"`` -- the registry's naive models, fitted
    on all observed years (irregular spacing is fine).

Scores (:func:`evaluate_city`)
    For origins T (the observed years among the last ``n_origins`` before the last one; an
    interpolated year is never an origin, since its value is made from the next year's),
    each model is fitted on years <= T and forecasts T+1 ... T+h recursively; the absolute
    percentage error (APE, %) is kept at every observed target year. A city's winner has
    the lowest mean APE; :func:`all_cities` counts winners and takes median APEs per
    horizon over cities.

Honest selection (:func:`nested_selection`)
    Choosing the winner on the same origins it is scored on flatters it. Nested: the model
    is chosen on the earlier origins (forecasts whose target year is known at the split
    origin) and scored on the later origins; its error there over persistence's on the same
    forecasts is the out-of-sample ratio. ``choose_model(ev, "auto")`` keeps the city's
    winner only where this ratio is below 1, else it forecasts with persistence.

Cost
    Every city, origin and model is a fresh tuned fit (with ``fast`` and a window of 3: up
    to 27 inner SVR fits and a refit, 12 inner forests of 25 trees and one of 60, 7 BP
    fits, one LSTM of at most 80 epochs), about 1 s of CPU per city. :func:`all_cities` spreads the cities over worker processes
    (:func:`carbonlab._util.n_jobs`); the table does not depend on their number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from threadpoolctl import threadpool_limits

from carbonlab._util import DataError, ParameterError, check_fitted
from carbonlab._util import n_jobs as _n_jobs
from carbonlab.data.cities import match_city
from carbonlab.models.registry import _Names, model_spec

__all__ = [
    "CITY_MODELS",
    "HORIZON",
    "LABELS",
    "ML_MODELS",
    "NAIVE_MODELS",
    "STUDY_RANKING",
    "EarlyStoppedBP",
    "EarlyStoppedLSTM",
    "TunedRF",
    "TunedSVR",
    "all_cities",
    "choose_model",
    "city_model",
    "city_series",
    "evaluate_city",
    "forecast_city",
    "lag_windows",
    "model_scores",
    "nested_selection",
    "nested_sentence",
    "ranking_sentence",
    "selection_sentence",
    "windowed_reason",
]

ML_MODELS: Sequence[str] = _Names(lambda s: s.city and not s.naive)
"""The city layer's learned models (the model table's rows with a ``city_label`` that are not
naive: the study's BP, SVR, RF and LSTM), a live view of the table."""
NAIVE_MODELS: Sequence[str] = _Names(lambda s: s.city and s.naive)
"""The city layer's naive baselines (persistence, drift), a live view of the table."""
CITY_MODELS: Sequence[str] = _Names(lambda s: s.city, order=lambda s: s.naive)
"""Every city model, learned first: the rows of the model table with a ``city_label``."""


class _CityLabels(Mapping[str, str]):
    """``{name: city_label}`` of the table's city rows, and the ensemble's label (live)."""

    def _d(self) -> dict[str, str]:
        return {**{n: model_spec(n).city_label for n in CITY_MODELS},
                "ensemble": "error-weighted ensemble"}

    def __getitem__(self, name: str) -> str:
        return self._d()[name]

    def __iter__(self) -> Any:
        return iter(self._d())

    def __len__(self) -> int:
        return len(self._d())

    def __repr__(self) -> str:
        return repr(self._d())


LABELS: Mapping[str, str] = _CityLabels()
"""Short labels of the city models (the table's ``city_label``) and of the ensemble."""
STUDY_RANKING: tuple[str, ...] = ("svr", "rf", "bpnn", "lstm")
"""The city study's models from best to worst: its test RMSE was LSTM > BP > RF > SVR
(section 1.6: "LSTM ... worst, SVM ... best"), so it forecast with SVR."""
HORIZON: int = 5
MIN_TRAIN_WINDOWS: int = 6
"""Fewest lag windows a windowed model is fitted on (inner validation needs >= 2 + 2)."""


# --------------------------------------------------------------------------- data

def city_series(cities: pd.DataFrame, city: str, *, max_gap: int = 1) -> pd.Series:
    """One city's emissions (Mt CO2) over all observed years, short gaps interpolated.

    ``city`` may be English or Chinese (``"兰州"``, ``"甘肃兰州"``, ``"兰州市"``).
    Runs of at most ``max_gap`` missing years between observed years are filled linearly
    and listed in ``attrs["interpolated"]``; longer gaps remain (``attrs["gaps"]``). Rows
    flagged in a ``nowcast`` column (:func:`carbonlab.data.cities.nowcast`) are kept and
    listed in ``attrs["nowcast"]``: forecasts start after them, but like interpolated
    years they are never scored or used as forecast origins.
    """
    need = {"city", "year", "emissions_mt"}
    if not need <= set(cities.columns):
        raise DataError(f"cities table: missing columns {sorted(need - set(cities.columns))}")
    if isinstance(max_gap, bool) or not isinstance(max_gap, int | np.integer) or max_gap < 0:
        raise ParameterError(f"max_gap must be an integer >= 0, got {max_gap!r}")
    name = match_city(cities, city)
    cols = ["year", "emissions_mt"] + (["nowcast"] if "nowcast" in cities.columns else [])
    sub = cities.loc[cities["city"].astype(str) == name, cols]
    nowcast = sorted(int(y) for y in sub.loc[sub["nowcast"].astype(bool), "year"]) \
        if "nowcast" in sub.columns else []
    if sub["year"].duplicated().any():
        y = int(sub.loc[sub["year"].duplicated(), "year"].iloc[0])
        raise DataError(f"cities table: city {name!r} has year {y} twice")
    s = sub.set_index("year")["emissions_mt"].astype(float).sort_index().dropna()
    s = s[s > 0]
    n_obs = len(s) - len([y for y in nowcast if y in s.index])   # a nowcast is no observation
    if n_obs < 2:
        raise DataError(f"cities table: city {name!r} has {n_obs} positive observations, "
                        "need at least 2")
    yrs = s.index.to_numpy(dtype=int)
    filled, gaps = [], []
    for a, b in zip(yrs[:-1], yrs[1:], strict=True):
        missing = list(range(int(a) + 1, int(b)))
        if not missing:
            continue
        (filled if len(missing) <= max_gap else gaps).extend(missing)
    full = s.reindex(sorted([*yrs.tolist(), *filled])).interpolate(method="index")
    full.index = pd.Index(full.index.astype(int), name="year")
    full.name = "emissions_mt"
    full.attrs.update({"city": name, "interpolated": filled, "gaps": gaps,
                       "observed": n_obs,
                       "nowcast": [y for y in nowcast if y in s.index]})
    return full


def _segments(years: np.ndarray) -> list[np.ndarray]:
    """Positions of runs of consecutive years."""
    breaks = np.flatnonzero(np.diff(years) != 1) + 1
    return np.split(np.arange(len(years)), breaks)


def lag_windows(series: pd.Series, window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lag windows (x_{t-w}, ..., x_{t-1}) -> x_t that never cross a gap.

    Returns ``X`` (n, window), ``y`` (n,) and the target years (n,), in time order.
    """
    v = series.to_numpy(dtype=float)
    yrs = series.index.to_numpy(dtype=int)
    xs, ys, ts = [], [], []
    for seg in _segments(yrs):
        if len(seg) <= window:
            continue
        sv = v[seg]
        xs.append(np.lib.stride_tricks.sliding_window_view(sv[:-1], window))
        ys.append(sv[window:])
        ts.append(yrs[seg][window:])
    if not xs:
        return np.empty((0, window)), np.empty(0), np.empty(0, dtype=int)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ts)


def windowed_reason(series: pd.Series, window: int, min_windows: int = MIN_TRAIN_WINDOWS
                    ) -> str | None:
    """Why windowed models cannot forecast ``series`` (None when they can)."""
    yrs = series.index.to_numpy(dtype=int)
    last = _segments(yrs)[-1]
    n_last = len(last)
    if n_last < window:
        return (f"its latest run of consecutive years ({yrs[last[0]]}-{yrs[last[-1]]}, "
                f"{n_last} years) is shorter than the window of {window} years")
    x, _, _ = lag_windows(series, window)
    if len(x) < min_windows + 1:
        return (f"it has {len(x)} lag windows of {window} consecutive years; windowed models "
                f"need at least {min_windows + 1} (fit + one scored origin)")
    return None


# --------------------------------------------------------------------------- tuned models

def _chrono_folds(n: int, n_splits: int, min_train: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds over rows in time order: train on the past, validate next."""
    n_val = n - min_train
    if n_val < 1:
        return []
    k = min(n_splits, n_val)
    edges = np.linspace(min_train, n, k + 1).round().astype(int)
    return [(np.arange(0, a), np.arange(a, b)) for a, b in zip(edges[:-1], edges[1:], strict=True)
            if b > a]


def _inner_search(make: Any, grid: Sequence[Mapping[str, Any]], X: np.ndarray, y: np.ndarray,
                  n_splits: int) -> dict[str, Any]:
    folds = [(tr, va) for tr, va in _chrono_folds(len(y), n_splits, max(3, len(y) // 2))
             if np.ptp(y[tr]) > 0]  # a constant training target has nothing to tune on
    if not folds or len(grid) == 1:
        return dict(grid[0])
    best, best_err = None, np.inf
    for params in grid:
        err = 0.0
        for tr, va in folds:
            m = make(**params).fit(X[tr], y[tr])
            err += float(np.sum((m.predict(X[va]) - y[va]) ** 2))
        if err < best_err - 1e-12:
            best, best_err = dict(params), err
    return best  # type: ignore[return-value]


class _CityWrapper(RegressorMixin, BaseEstimator):
    """Input checks and ``predict`` shared by the city wrappers (scikit-learn's contract)."""

    def _fit_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        from carbonlab.models._base import _check_xy

        Xa, ya = _check_xy(X, y)
        self.n_features_in_ = Xa.shape[1]
        return Xa, ya

    def predict(self, X: Any) -> np.ndarray:
        from carbonlab.models._base import _as_2d, _check_n_features

        check_fitted(self, "estimator_")
        Xa = _as_2d(X)
        _check_n_features(self, Xa)
        return self.estimator_.predict(Xa)


class TunedSVR(_CityWrapper):
    """The registry's SVR (``get_model("svr")``) with C, epsilon, gamma chosen by inner CV.

    The inner folds are chronological (expanding window over the training rows);
    squared one-step error is summed over folds; the best triple is refitted on all rows.
    ``gamma`` values are multiples of 1/n_features (e1071's default is 1x).
    """

    def __init__(self, C: Sequence[float] = (0.3, 1.0, 3.0, 10.0, 30.0),
                 epsilon: Sequence[float] = (0.01, 0.1), gamma: Sequence[float] = (0.3, 1.0, 3.0),
                 n_splits: int = 3, random_state: int = 0) -> None:
        self.C = C
        self.epsilon = epsilon
        self.gamma = gamma
        self.n_splits = n_splits
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> TunedSVR:
        from carbonlab.models import get_model

        X, y = self._fit_xy(X, y)
        p = X.shape[1]
        grid = [{"C": c, "epsilon": e, "gamma": g / p} for c in self.C for e in self.epsilon
                for g in self.gamma]
        self.best_params_ = _inner_search(lambda **kw: get_model("svr", **kw), grid, X, y,
                                          self.n_splits)
        self.estimator_ = get_model("svr", **self.best_params_).fit(X, y)
        return self


class TunedRF(_CityWrapper):
    """The registry's random forest with mtry and leaf size chosen by chronological inner CV."""

    def __init__(self, n_estimators: int = 200, max_features: Sequence[int | str] = (1, "all"),
                 min_samples_leaf: Sequence[int] = (1, 3), n_splits: int = 3,
                 random_state: int = 0) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.n_splits = n_splits
        self.random_state = random_state

    def _make(self, n_estimators: int) -> Any:
        from carbonlab.models import get_model

        return lambda **kw: get_model("rf", random_state=self.random_state,
                                      n_estimators=n_estimators, **kw)

    def fit(self, X: Any, y: Any) -> TunedRF:
        X, y = self._fit_xy(X, y)
        p = X.shape[1]
        grid = [{"max_features": p if m == "all" else min(int(m), p), "min_samples_leaf": leaf}
                for m in self.max_features for leaf in self.min_samples_leaf]
        grid = [dict(t) for t in dict.fromkeys(tuple(sorted(g.items())) for g in grid)]
        inner = max(25, self.n_estimators // 4)
        self.best_params_ = _inner_search(self._make(inner), grid, X, y, self.n_splits)
        self.estimator_ = self._make(self.n_estimators)(**self.best_params_).fit(X, y)
        return self


def _split_validation(n: int, fraction: float) -> int:
    """Rows kept for training when the last ``fraction`` (at least 2 rows) validate."""
    from carbonlab.models import validation_rows

    return validation_rows(n, fraction)


class EarlyStoppedBP(_CityWrapper):
    """The registry's BP net (``get_model("bpnn")``) with validation early stopping.

    The last ``validation_fraction`` of the training rows (in time order, at least two)
    validate: the net is trained on the earlier rows for each L-BFGS iteration budget in
    ``max_iter`` (one initialisation, so the budgets are checkpoints of one path), the
    budget with the lowest validation error is kept and the net refitted on all rows with it.
    """

    def __init__(self, hidden: Sequence[int] = (4,), max_iter: Sequence[int] = (5, 10, 20, 50,
                 100, 200), validation_fraction: float = 0.25, random_state: int = 0) -> None:
        self.hidden = hidden
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> EarlyStoppedBP:
        from carbonlab.models import get_model

        X, y = self._fit_xy(X, y)
        ntr = _split_validation(len(y), self.validation_fraction)
        curve = []
        for it in self.max_iter:
            m = get_model("bpnn", random_state=self.random_state, hidden=tuple(self.hidden),
                          max_iter=int(it)).fit(X[:ntr], y[:ntr])
            curve.append(float(np.mean((m.predict(X[ntr:]) - y[ntr:]) ** 2)))
        self.validation_curve_ = dict(zip(self.max_iter, curve, strict=True))
        self.best_iter_ = int(self.max_iter[int(np.argmin(curve))])
        self.estimator_ = get_model("bpnn", random_state=self.random_state,
                                    hidden=tuple(self.hidden), max_iter=self.best_iter_).fit(X, y)
        self.n_iter_ = int(self.estimator_.n_iter_)
        return self


class EarlyStoppedLSTM(_CityWrapper):
    """The registry's LSTM (``get_model("lstm")``) with validation-loss early stopping.

    Full-batch Adam on the earlier rows for up to ``max_epochs`` epochs; after every epoch
    the loss on the last ``validation_fraction`` of the rows (time order, at least two) is
    computed and the weights with the lowest validation loss are restored (Keras'
    ``EarlyStopping(restore_best_weights=True)`` without patience; see
    :class:`~carbonlab.models.LSTMRegressor`, ``validation_fraction``).
    """

    def __init__(self, units: int = 8, max_epochs: int = 200, learning_rate: float = 0.01,
                 validation_fraction: float = 0.25, random_state: int = 0) -> None:
        self.units = units
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> EarlyStoppedLSTM:
        from carbonlab.models import get_model

        est = get_model("lstm", random_state=self.random_state, units=self.units,
                        epochs=self.max_epochs, learning_rate=self.learning_rate,
                        validation_fraction=self.validation_fraction)
        self.estimator_ = est.fit(*self._fit_xy(X, y))
        self.best_epoch_ = int(est.best_epoch_)
        self.best_validation_loss_ = float(est.best_validation_loss_)
        return self


_TUNERS: dict[str, tuple[type, frozenset[str], dict[str, str]]] = {
    "svr": (TunedSVR, frozenset({"C", "epsilon", "gamma"}), {}),
    "rf": (TunedRF, frozenset({"max_features", "min_samples_leaf"}), {}),
    "bpnn": (EarlyStoppedBP, frozenset({"max_iter"}), {}),
    "lstm": (EarlyStoppedLSTM, frozenset(), {"epochs": "max_epochs"}),
}
"""How a windowed registry model is fitted on a city: the wrapper that tunes or early-stops
it, the parameters it searches over (given all candidates) and the registry grid keys it
names differently. The candidates themselves are the registry row's ``city_grid`` /
``city_grid_fast`` (:func:`carbonlab.models.model_spec`)."""


def city_model(name: str, random_state: int = 0, fast: bool = False) -> Any:
    """A fresh city forecaster by registry name (see the module docstring).

    The hyper-parameter candidates come from the model's registry row (``city_grid``, or
    ``city_grid_fast`` with ``fast``: the small grids and budgets of tests and the
    all-cities tables); a key with one candidate is passed as that value, the others as the
    candidates the wrapper searches. Naive models are the registry's own.
    """
    from carbonlab.models import get_model, model_spec

    if name not in CITY_MODELS:
        raise ParameterError(f"model: unknown city model {name!r}; use one of "
                             f"{', '.join(CITY_MODELS)}")
    spec = model_spec(name)
    if spec.naive or name not in _TUNERS:
        return get_model(name, random_state=random_state)
    cls, searched, rename = _TUNERS[name]
    kw: dict[str, Any] = {}
    for key, cands in (spec.city_grid_fast if fast else spec.city_grid).items():
        arg = rename.get(key, key)
        kw[arg] = tuple(cands) if arg in searched else cands[0]
    return cls(random_state=random_state, **kw)


# --------------------------------------------------------------------------- fit + forecast

def _naive_forecast(series: pd.Series, name: str, years: np.ndarray) -> np.ndarray:
    """Registry persistence/drift in panel mode: all observed years, irregular spacing ok."""
    from carbonlab.models import get_model

    obs = series.drop(index=[y for y in series.attrs.get("interpolated", []) if y in series.index])
    idx = pd.MultiIndex.from_arrays([["c"] * len(obs), obs.index.to_numpy(int)],
                                    names=["region", "year"])
    X = pd.DataFrame({"x": np.zeros(len(obs))}, index=idx)
    m = get_model(name).fit(X, obs.to_numpy(float))
    q = pd.DataFrame({"x": np.zeros(len(years))},
                     index=pd.MultiIndex.from_arrays([["c"] * len(years), years],
                                                     names=["region", "year"]))
    return np.asarray(m.predict(q), float)


def _fit_forecast(series: pd.Series, name: str, horizon: int, window: int, random_state: int,
                  fast: bool) -> np.ndarray:
    last = int(series.index.max())
    if name in NAIVE_MODELS:
        return _naive_forecast(series, name, np.arange(last + 1, last + 1 + horizon))
    X, y, _ = lag_windows(series, window)
    est = city_model(name, random_state, fast).fit(X, y)
    buf = list(series.to_numpy(float)[-window:])
    out = []
    for _ in range(horizon):
        v = float(np.ravel(est.predict(np.asarray(buf[-window:])[None, :]))[0])
        out.append(v)
        buf.append(v)
    return np.asarray(out)


def _models_for(series: pd.Series, models: Sequence[str], window: int) -> tuple[list[str], str | None]:
    reason = windowed_reason(series, window)
    if reason is None:
        return list(models), None
    return [m for m in models if m in NAIVE_MODELS], reason


_EVAL_DTYPES = {"city": object, "model": object, "origin": "int64", "h": "int64", "year": "int64",
                "actual_mt": "float64", "forecast_mt": "float64", "ape_pct": "float64"}


def _typed_evaluation(df: pd.DataFrame) -> pd.DataFrame:
    """Evaluation rows with numeric columns, also when empty (pandas 3 makes a float column
    concatenated with an empty, untyped frame ``object``, and tables of it print raw reprs)."""
    return df.astype(_EVAL_DTYPES)


def evaluate_city(
    series: pd.Series, models: Sequence[str] = CITY_MODELS, *, window: int = 3,
    horizon: int = HORIZON, n_origins: int = 8, random_state: int = 0, fast: bool = False,
) -> pd.DataFrame:
    """Rolling-origin, recursive scores of each model on one city (see module docstring).

    Returns tidy rows ``city, model, origin, h, year, actual_mt, forecast_mt, ape_pct``;
    ``attrs["reason"]`` says why windowed models were left out (None if they ran).
    """
    for m in models:
        if m not in CITY_MODELS:
            raise ParameterError(f"models: unknown city model {m!r}; use {', '.join(CITY_MODELS)}")
    if n_origins < 1 or horizon < 1:
        raise ParameterError(f"n_origins and horizon must be >= 1, got {n_origins}, {horizon}")
    yrs = series.index.to_numpy(int)
    observed = set(yrs.tolist()) - set(series.attrs.get("interpolated", [])) \
        - set(series.attrs.get("nowcast", []))
    last = int(yrs.max())
    use, reason = _models_for(series, models, window)
    rows = []
    # tiny matrices: BLAS/OpenMP threads only add contention (BP scoring of one city took
    # 8.2 s CPU with the default threads, 0.48 s with one)
    with threadpool_limits(limits=1):
        for origin in [int(t) for t in yrs if last - n_origins <= t < last and t in observed]:
            hist = series.loc[:origin].copy()
            hist.attrs = {**series.attrs,
                          "interpolated": [y for y in series.attrs.get("interpolated", []) if y <= origin]}
            targets = [origin + h for h in range(1, horizon + 1) if origin + h in observed]
            if not targets:
                continue
            hmax = max(targets) - origin
            for m in use:
                if m not in NAIVE_MODELS and windowed_reason(hist, window) is not None:
                    continue
                fc = _fit_forecast(hist, m, hmax, window, random_state, fast)
                for t in targets:
                    a, f = float(series.loc[t]), float(fc[t - origin - 1])
                    rows.append({"city": series.attrs.get("city", ""), "model": m, "origin": origin,
                                 "h": t - origin, "year": t, "actual_mt": a, "forecast_mt": f,
                                 "ape_pct": 100.0 * abs(f - a) / a})
    df = _typed_evaluation(pd.DataFrame(rows, columns=list(_EVAL_DTYPES)))
    df.attrs["reason"] = reason
    df.attrs["units"] = {"actual_mt": "Mt CO2", "forecast_mt": "Mt CO2", "ape_pct": "%"}
    return df


def model_scores(ev: pd.DataFrame) -> pd.DataFrame:
    """Mean APE (%) by model and horizon, plus the mean over all scored forecasts (``all``).

    Rows sorted best first; columns ``h1 ... hH, all, n``.
    """
    if ev.empty:
        raise DataError("evaluation: no scored forecasts (series too short for any origin)")
    tab = ev.pivot_table(index="model", columns="h", values="ape_pct", aggfunc="mean")
    tab.columns = [f"h{int(h)}" for h in tab.columns]
    tab["all"] = ev.groupby("model")["ape_pct"].mean()
    tab["n"] = ev.groupby("model")["ape_pct"].size()
    return tab.sort_values(["all"], kind="stable")


_NESTED_COLUMNS = ["chosen", "split_origin", "n_select", "n_scored", "select_ape_pct",
                   "oos_ape_pct", "persistence_oos_ape_pct", "ratio_to_persistence",
                   "beats_persistence"]


def nested_selection(ev: pd.DataFrame) -> pd.DataFrame:
    """Per city: the model chosen on earlier origins, scored on later ones against persistence.

    The origins of a city (sorted) are split at the middle one, T_s. The choice uses the
    forecasts from origins before T_s whose target year is <= T_s (known at T_s): the lowest
    mean APE wins. The score uses every forecast from origins >= T_s:
    ``ratio_to_persistence`` = the chosen model's mean APE there / persistence's on the same
    forecasts (< 1: the selection beats persistence out of sample). Cities with fewer than
    two origins, or without persistence scores, are left out. One row per city, columns
    ``chosen, split_origin, n_select, n_scored, select_ape_pct, oos_ape_pct,
    persistence_oos_ape_pct, ratio_to_persistence, beats_persistence``.
    """
    rows = {}
    for city, d in ev.groupby("city", sort=True):
        if "persistence" not in set(d["model"]):
            continue
        origins = np.sort(d["origin"].unique())
        if len(origins) < 2:
            continue
        split = int(origins[len(origins) // 2])
        sel = d[(d["origin"] < split) & (d["year"] <= split)]
        later = d[d["origin"] >= split]
        # only models scored on every forecast of both parts compete
        full = [m for m in pd.unique(d["model"])
                if (sel["model"] == m).sum() == (sel["model"] == "persistence").sum()
                and (later["model"] == m).sum() == (later["model"] == "persistence").sum()]
        sel, later = sel[sel["model"].isin(full)], later[later["model"].isin(full)]
        if sel.empty or later.empty:
            continue
        sel_ape = sel.groupby("model", sort=True)["ape_pct"].mean()
        chosen = str(sel_ape.idxmin())
        oos = later.groupby("model")["ape_pct"].mean()
        ratio = float(oos[chosen] / oos["persistence"]) if oos["persistence"] > 0 else np.nan
        rows[city] = {"chosen": chosen, "split_origin": split,
                      "n_select": int((sel["model"] == chosen).sum()),
                      "n_scored": int((later["model"] == chosen).sum()),
                      "select_ape_pct": float(sel_ape[chosen]), "oos_ape_pct": float(oos[chosen]),
                      "persistence_oos_ape_pct": float(oos["persistence"]),
                      "ratio_to_persistence": ratio, "beats_persistence": bool(ratio < 1.0)}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=_NESTED_COLUMNS)
    out.index.name = "city"
    out.attrs["units"] = {"select_ape_pct": "%", "oos_ape_pct": "%",
                          "persistence_oos_ape_pct": "%"}
    return out


def selection_sentence(row: pd.Series | None, used: str) -> str:
    """What the nested check says about a city's forecaster, in words (numbers computed).

    ``row`` is the city's row of :func:`nested_selection` (None: too few origins), ``used``
    the model the baseline forecasts with.
    """
    if row is None:
        return (f"The baseline is forecast with {LABELS.get(used, used)}; the record has too few "
                "forecast origins to test a model choice out of sample.")
    chosen = LABELS.get(row["chosen"], row["chosen"])
    where = (f"chosen on the forecasts known by {int(row['split_origin'])} and scored on the "
             f"later ones ({row['n_scored']} forecasts)")
    if row["chosen"] == "persistence":
        return (f"Out of sample the selection picks persistence itself ({where}: "
                f"{row['oos_ape_pct']:.1f} % mean error), so no winner is claimed; the "
                f"baseline uses {LABELS.get(used, used)}.")
    verdict = ("beats persistence" if row["beats_persistence"] else
               "does not beat persistence")
    tail = (f"so the baseline uses {LABELS.get(used, used)}" if row["beats_persistence"] else
            f"so no winner is claimed and the baseline uses {LABELS.get(used, used)}")
    return (f"Out of sample the selection {verdict}: {chosen}, {where}, errs by "
            f"{row['oos_ape_pct']:.1f} % against persistence's {row['persistence_oos_ape_pct']:.1f} %"
            f" (ratio {row['ratio_to_persistence']:.2f}), {tail}.")


def nested_sentence(nested: pd.DataFrame) -> str:
    """:func:`nested_selection` over many cities in words (counts and medians computed)."""
    n = len(nested)
    if n == 0:
        return "No city has enough forecast origins to test a model choice out of sample."
    beats = int(nested["beats_persistence"].sum())
    med = float(nested["ratio_to_persistence"].median())
    ml = nested[nested["chosen"].isin(ML_MODELS)]
    lose = int((~ml["beats_persistence"]).sum())
    ml_part = (f"; where an ML model was chosen ({len(ml)} cities) it lost to persistence "
               f"out of sample in {lose}" if len(ml) else "")
    return (f"Chosen on the earlier origins and scored on the later ones, the per-city choice "
            f"beats persistence in {beats} of {n} cities (median ratio of its error to "
            f"persistence's {med:.3f}){ml_part}.")


def choose_model(ev: pd.DataFrame, how: str = "auto") -> str | dict[str, float]:
    """The baseline model of a city from its evaluation.

    ``"auto"``: the winner (lowest mean APE) where the nested check
    (:func:`nested_selection`) says choosing this way beats persistence out of sample, else
    persistence (a city with too few origins for the check keeps its winner);
    ``"ensemble"``: weights proportional to 1 / mean APE over the scored models (a dict
    model -> weight); a model name: that model.
    """
    scores = model_scores(ev)
    if how == "auto":
        nested = nested_selection(ev)
        if len(nested) and not bool(nested["beats_persistence"].iloc[0]) \
                and "persistence" in scores.index:
            return "persistence"
        return str(scores.index[0])
    if how == "ensemble":
        w = 1.0 / np.maximum(scores["all"].to_numpy(float), 1e-9)
        return dict(zip(scores.index, w / w.sum(), strict=True))
    if how not in CITY_MODELS:
        raise ParameterError(f"model: {how!r} is not 'auto', 'ensemble' or one of "
                             f"{', '.join(CITY_MODELS)}")
    if how not in scores.index:
        raise ParameterError(f"model: {how!r} cannot run on this city ({ev.attrs.get('reason')})")
    return how


def forecast_city(
    series: pd.Series, model: str | Mapping[str, float], horizon_end: int, *, window: int = 3,
    random_state: int = 0, fast: bool = False,
) -> pd.Series:
    """Forecast (Mt CO2) from the year after the series to ``horizon_end`` with one model or
    an ensemble (mapping model -> weight, weights summing to 1)."""
    last = int(series.index.max())
    if horizon_end <= last:
        raise ParameterError(f"horizon_end must be after the last observed year {last}")
    h = horizon_end - last
    weights = {model: 1.0} if isinstance(model, str) else dict(model)
    out = np.zeros(h)
    with threadpool_limits(limits=1):
        for m, w in weights.items():
            out += w * _fit_forecast(series, m, h, window, random_state, fast)
    s = pd.Series(out, index=pd.RangeIndex(last + 1, horizon_end + 1, name="year"),
                  name="emissions_mt")
    if not np.all(s.to_numpy() > 0):
        y = int(s.index[np.argmax(s.to_numpy() <= 0)])
        raise DataError(f"forecast of {series.attrs.get('city', 'the city')} with {model} is not "
                        f"positive in {y}; choose another model")
    s.attrs["model"] = model if isinstance(model, str) else "ensemble"
    s.attrs["weights"] = weights
    return s


# --------------------------------------------------------------------------- all cities

def _one_city(cities: pd.DataFrame, city: str, models: Sequence[str], window: int, horizon: int,
              n_origins: int, random_state: int, fast: bool, max_gap: int) -> pd.DataFrame:
    s = city_series(cities, city, max_gap=max_gap)
    return evaluate_city(s, models, window=window, horizon=horizon, n_origins=n_origins,
                         random_state=random_state, fast=fast)


def _city_or_reason(cities: pd.DataFrame, city: str, *args: Any) -> pd.DataFrame | str:
    """One city's evaluation, or the one-line reason it cannot be scored (a worker's job)."""
    try:
        return _one_city(cities, city, *args)
    except (DataError, ParameterError) as exc:
        return str(exc)


def all_cities(
    cities: pd.DataFrame, models: Sequence[str] = CITY_MODELS, *, names: Sequence[str] | None = None,
    window: int = 3, horizon: int = HORIZON, n_origins: int = 6, random_state: int = 0,
    fast: bool = True, max_gap: int = 1, cache: bool = True, n_jobs: int | None = None,
) -> dict[str, pd.DataFrame]:
    """Evaluate every city (or ``names``) and summarise.

    Returns ``{"evaluation": all rows, "winners": city -> winner and its mean APE,
    "wins": model -> number of cities won, "median_ape": model x horizon median over cities
    of the city's mean APE (%)}``. Only cities where every model in ``models`` ran are
    compared (``winners`` lists the others with their reason). Cached by content.

    The cities are scored on ``n_jobs`` worker processes (:func:`carbonlab._util.n_jobs`; 1 = in
    this process); each city's fits are seeded by ``random_state`` alone, so the result does
    not depend on ``n_jobs`` (it is not part of the cache key).
    """
    from carbonlab.cache import cached

    names = list(pd.unique(cities["city"])) if names is None else [match_city(cities, n)
                                                                    for n in names]
    sub = cities[cities["city"].isin(names)].sort_values(["city", "year"]).reset_index(drop=True)
    parts = [sub, tuple(models), tuple(names), window, horizon, n_origins, random_state, fast,
             max_gap]

    jobs = min(_n_jobs(n_jobs), max(1, len(names)))

    def compute() -> dict[str, pd.DataFrame]:
        args = (tuple(models), window, horizon, n_origins, random_state, fast, max_gap)
        own = {c: sub[sub["city"] == c] for c in names}
        if jobs == 1:
            out = [_city_or_reason(own[c], c, *args) for c in names]
        else:
            from joblib import Parallel, delayed, parallel_config

            # one maths thread per worker (set in the worker's environment at its start)
            with parallel_config(backend="loky", inner_max_num_threads=1):
                out = Parallel(n_jobs=jobs)(
                    delayed(_city_or_reason)(own[c], c, *args) for c in names)
        evs, notes = [], {}
        for c, ev in zip(names, out, strict=True):
            if isinstance(ev, str):
                notes[c] = ev
                continue
            ran = set(ev["model"])
            if ran != set(models):
                notes[c] = ev.attrs.get("reason") or "not every model could be scored"
            evs.append(ev)
        ev = _typed_evaluation(pd.concat(evs, ignore_index=True) if evs else
                               pd.DataFrame(columns=list(_EVAL_DTYPES)))
        full = [c for c in names if c not in notes]
        evf = ev[ev["city"].isin(full)]
        per_city = evf.groupby(["city", "model"])["ape_pct"].mean().unstack()
        winners = pd.DataFrame({"winner": per_city.idxmin(axis=1),
                                "mean_ape_pct": per_city.min(axis=1)}) if len(per_city) else \
            pd.DataFrame(columns=["winner", "mean_ape_pct"])
        wins = winners["winner"].value_counts().reindex(list(models), fill_value=0)
        med = (evf.groupby(["city", "model", "h"])["ape_pct"].mean()
               .groupby(["model", "h"]).median().unstack())
        med.columns = [f"h{int(h)}" for h in med.columns]
        med["all"] = per_city.median(axis=0)
        med = med.reindex(list(models))
        skipped = pd.Series(notes, name="reason", dtype=object)
        return {"evaluation": ev, "winners": winners, "wins": wins.rename("wins"),
                "median_ape": med, "skipped": skipped}

    return cached("leap-all-cities", parts, compute, enabled=cache)


def ranking_sentence(order: Sequence[str], study: Sequence[str] = STUDY_RANKING, *,
                     measure: str = "mean APE") -> str:
    """Our order of the study's models next to the study's own, in words (never ``>``).

    ``order`` lists models from lowest to highest ``measure`` (best first); so does
    ``study`` (the study's one-step test RMSE, which it wrote as "LSTM > BP > RF > SVR":
    SVR lowest). Says whether the two orders agree and which places they share.
    """
    ours_l = [m for m in order if m in study]
    theirs_l = [m for m in study if m in ours_l]
    ours = ", ".join(LABELS[m] for m in ours_l)
    theirs = ", ".join(LABELS[m] for m in theirs_l)
    places = ("first", "second", "third", "fourth", "fifth", "sixth")
    shared = [f"{LABELS[a]} {places[i]}"
              for i, (a, b) in enumerate(zip(ours_l, theirs_l, strict=True)) if a == b]
    if ours_l == theirs_l:
        agree = "the same order"
    elif shared:
        agree = f"a different order, though both put {', '.join(shared[:-1])}" + (
            f" and {shared[-1]}" if len(shared) > 1 else shared[-1])
    else:
        agree = "a different order, with no model in the same place"
    left = [LABELS[m] for m in study if m not in ours_l]
    note = f" ({', '.join(left)} not scored)" if left else ""
    return (f"from lowest to highest {measure}: {ours}; the study, from lowest to highest "
            f"one-step test RMSE: {theirs}{note} — {agree}")
