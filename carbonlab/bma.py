"""Zellner g-prior Bayesian model averaging (BMA), equal to R's BMS 0.3.5, by fast exact enumeration.

The maths follows ``shared/docs/bma-g-prior.md`` (what ``BMS::bms(mcmc="enumerate")`` computes):
y and X are centred (the intercept is in every model with a flat prior), each model M gets

    ℓ(M) = −(N−1)/2·ln(yty) − k/2·ln(1+g) − (N−1)/2·ln(1 − s·R²_M),    s = g/(1+g)

(or the hyper-g form with ₂F₁), a model prior π(M), and the BMA summaries (PIP, unconditional
posterior mean and SD, conditional positive-sign probability) are weighted sums over all 2^K models.

Speed: the 2^K models are visited as the leaves of a binary tree of *sweep* operations on the
(K+1)×(K+1) Gram matrix of the standardised data ``[X | y]``: sweeping a regressor in is a
rank-one update, each tree level is one vectorised NumPy operation over a block of models, and the
blocks are streamed (log-sum-exp accumulators), so memory stays O(2^m·K²) for a block of 2^m
models and nothing of size 2^K × K is kept.  Beyond ``max_exact`` regressors use ``method="mc3"``
(birth/death/swap Metropolis sampler, seeded), which reports both visit frequencies and the
analytic posterior model probabilities of the visited models.

Panels: ``within="individual"`` / ``"twoway"`` demean by group (and year) first.  Like BMS — which
is simply handed the demeaned data — no degrees of freedom are removed for the absorbed effects.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from scipy import special
from sklearn.base import BaseEstimator

from carbonlab._util import DataError, NotFittedError, ParameterError, check_fitted
from carbonlab.plotting import PALETTE, legend_outside, new_figure

__all__ = [
    "BMA",
    "EVIDENCE_BANDS",
    "evidence_class",
    "log_hyp2f1",
    "bms_hexcode",
    "within_transform",
    "design_from_panel",
    "prior_sensitivity",
    "truth_check",
    "describe_recovery",
    "plot_pip",
    "plot_coefficients",
    "plot_model_size",
    "plot_model_space",
]

#: Kass & Raftery (1995) classes of the posterior inclusion probability (lower bound, label)
EVIDENCE_BANDS: list[tuple[float, str]] = [
    (0.0, "none"), (0.5, "weak"), (0.75, "positive"), (0.95, "strong"), (0.99, "very strong"),
]

_BLOCK_ELEMENTS = 1 << 21  # float64 elements carried by one block of models (16 MB)


def evidence_class(pip: float | np.ndarray | pd.Series) -> np.ndarray:
    """Kass–Raftery evidence class of PIPs: <0.5 none, 0.5–0.75 weak, 0.75–0.95 positive,
    0.95–0.99 strong, >0.99 very strong (a bound belongs to the upper class)."""
    p = np.atleast_1d(np.asarray(pip, dtype=float))
    bounds = np.array([b for b, _ in EVIDENCE_BANDS[1:]])
    labels = np.array([lab for _, lab in EVIDENCE_BANDS], dtype=object)
    return labels[np.searchsorted(bounds, p, side="right")]


# ----------------------------------------------------------------------------- ₂F₁ for hyper-g


def log_hyp2f1(A: float, C: np.ndarray | float, z: np.ndarray | float,
               method: str = "exact") -> np.ndarray:
    """ln ₂F₁(A, 1; C; z) for the hyper-g prior (A = (N−1)/2, C = (k+a)/2, z = R² in [0, 1)).

    ``method="exact"``: stable in log space.  Below the mean (C−1)/A of Beta(C−1, A−C+1) the power
    series is summed to convergence (its term ratio z(A+n)/(C+n) < 1 there, F is moderate); above
    it the identity
    ₂F₁(A,1;C;z) = (C−1)(1−z)^(C−1−A) z^(1−C) B(C−1, A−C+1) I_z(C−1, A−C+1)
    (I = regularised incomplete beta) is evaluated in logs, so F never overflows.
    ``method="bms"``: BMS 0.3.5's truncated power series (``.f21_4hyperg``), term for term,
    including its truncation at 200/600/1400/3000 terms and its overflow to ``inf``.
    """
    C = np.asarray(C, dtype=float)
    z = np.asarray(z, dtype=float)
    C, z = np.broadcast_arrays(C, z)
    out = np.zeros(C.shape)
    if method == "bms":
        return _log_f21_bms(A, C, z)
    if method != "exact":
        raise ParameterError(f"hyper_f21: expected 'exact' or 'bms', got {method!r}")
    pos = z > 0
    low = pos & (z * A <= C - 1)
    if low.any():
        out[low] = _log_f21_series(A, C[low], z[low])
    high = pos & ~low
    if high.any():
        c1, zz = C[high] - 1.0, z[high]
        b2 = A - C[high] + 1.0
        out[high] = (np.log(c1) + (c1 - A) * np.log1p(-zz) - c1 * np.log(zz)
                     + special.betaln(c1, b2) + np.log(special.betainc(c1, b2, zz)))
    return out


def _log_f21_series(A: float, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """ln of the ₂F₁(A, 1; C; z) power series summed to double precision (needs zA < C)."""
    r0 = z * A / C
    with np.errstate(divide="ignore"):
        need = np.ceil(-41.5 / np.log(np.maximum(r0, 1e-300))) + 2
    need = np.clip(need, 4, 1 << 16)
    length = (2 ** np.ceil(np.log2(need))).astype(np.int64)
    out = np.empty(C.shape)
    for T in np.unique(length):
        sel = length == T
        j = np.arange(T)
        terms = np.cumprod(z[sel, None] * (A + j) / (C[sel, None] + j), axis=1)
        out[sel] = np.log1p(terms.sum(axis=1))
    return out


def _log_f21_bms(A: float, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """BMS's ``.f21_4hyperg``: 1 + Σ_{n=1}^{L+1} Π_{j<n} z(A+j)/(C+j), L by 1.5|A−C|/(1−z)."""
    out = np.empty(C.shape)
    bounds = np.array([0, 200, 600, 1400])
    lengths = np.array([200, 600, 1400, 3000])
    flat_c, flat_z, flat_o = C.ravel(), z.ravel(), out.reshape(-1)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        m = np.ceil(np.abs(A - flat_c) / (1.0 - flat_z) * 1.5)
        nb = (m[:, None] >= bounds[None, :]).sum(axis=1) - 1
        for cval in np.unique(flat_c):
            for li in np.unique(nb[flat_c == cval]):
                sel = (flat_c == cval) & (nb == li)
                j = np.arange(lengths[li] + 1)
                terms = (A + j) / (cval + j)
                zz = flat_z[sel]
                prods = np.cumprod(zz[:, None] * terms[None, :], axis=1)
                flat_o[sel] = np.log(prods.sum(axis=1) + 1.0)
    return out


# ----------------------------------------------------------------------------- priors


def _parse_g(g: Any, N: int, K: int) -> tuple[str, float]:
    """Return ("fixed", g) or ("hyper", a) following BMS's option names."""
    if isinstance(g, bool):
        raise ParameterError(f"g: expected a number or 'UIP'/'BRIC'/'RIC'/'HQ'/'hyper...', got {g!r}")
    if isinstance(g, numbers.Real):
        if not np.isfinite(g) or g <= 0:
            raise ParameterError(f"g: a fixed g must be a positive finite number, got {g!r}")
        return "fixed", float(g)
    if not isinstance(g, str):
        raise ParameterError(f"g: expected a number or a string, got {type(g).__name__}")
    s = g.strip().lower()
    if s == "uip":
        return "fixed", float(N)
    if s in ("bric", "fls"):
        return "fixed", float(max(N, K * K))
    if s == "ric":
        return "fixed", float(K * K)
    if s in ("hq", "hannan"):
        return "fixed", float(np.log(N) ** 3)
    if s.startswith("hyper"):
        rest = s[5:].strip()
        if rest in ("", "=uip"):
            return "hyper", 2.0 + 2.0 / N
        if rest == "=bric":
            return "hyper", 2.0 + 2.0 / max(N, K * K)
        if rest.startswith("="):
            try:
                a = float(rest[1:])
            except ValueError:
                a = float("nan")
            if not (2.0 < a <= 4.0):
                raise ParameterError(f"g={g!r}: the hyper-g parameter a must lie in (2, 4]")
            return "hyper", a
    try:
        val = float(s)
    except ValueError:
        raise ParameterError(
            f"g: unknown option {g!r} (use 'UIP', 'BRIC', 'RIC', 'HQ', a number, 'hyper', "
            "'hyper=UIP', 'hyper=BRIC' or 'hyper=<a>')") from None
    return _parse_g(val, N, K)


def _log_model_prior(mprior: str, size: float | None, K: int) -> tuple[np.ndarray, float]:
    """BMS's (unnormalised) log prior kernel by model size k = 0..K, and the prior mean size."""
    k = np.arange(K + 1, dtype=float)
    if mprior == "uniform":
        return np.zeros(K + 1), K / 2.0
    m = K / 2.0 if size is None else float(size)
    if not (0.0 < m < K):
        raise ParameterError(f"mprior_size: must lie in (0, K={K}), got {size!r}")
    if mprior == "fixed":
        th = m / K
        return k * np.log(th) + (K - k) * np.log1p(-th), m
    if mprior == "random":
        b = (K - m) / m
        return special.gammaln(1.0 + k) + special.gammaln(b + K - k), m
    raise ParameterError(f"mprior: expected 'uniform', 'fixed' or 'random', got {mprior!r}")


def bms_hexcode(incl: np.ndarray) -> np.ndarray:
    """BMS model ids: inclusion rows (x1 = most significant bit) as floor(K/4)+1 hex digits."""
    incl = np.atleast_2d(np.asarray(incl, dtype=np.int64))
    K = incl.shape[1]
    weights = np.left_shift(np.int64(1), np.arange(K - 1, -1, -1, dtype=np.int64))
    vals = incl @ weights
    nd = K // 4 + 1
    return np.array([format(int(v), f"0{nd}x") for v in vals], dtype=object)


# ----------------------------------------------------------------------------- data preparation


def _group_codes(g: Any, n: int, name: str) -> np.ndarray:
    arr = pd.Series(np.asarray(g).ravel() if not isinstance(g, pd.Series) else g.to_numpy())
    if len(arr) != n:
        raise DataError(f"groups: {name} has {len(arr)} entries, X has {n} rows")
    if arr.isna().any():
        raise DataError(f"groups: {name} has missing values (row {int(np.flatnonzero(arr.isna())[0])})")
    return pd.factorize(arr)[0]


def within_transform(values: np.ndarray, groups: Any, within: str | None,
                     tol: float = 1e-13, max_iter: int = 1000) -> np.ndarray:
    """Demean the columns of ``values`` by group (``"individual"``) or by group and period
    (``"twoway"``; alternating projections, exact in one pass for balanced panels).

    ``groups``: one label per row for "individual"; for "twoway" a DataFrame with two columns
    or a tuple of two Series/arrays (group, period).
    """
    v = np.asarray(values, dtype=float)
    if within is None:
        return v.copy()
    n = v.shape[0]
    if groups is None:
        raise ParameterError(f"groups: required when within={within!r}")
    if within == "individual":
        if isinstance(groups, pd.DataFrame):
            groups = groups.iloc[:, 0]
        elif isinstance(groups, tuple):
            groups = groups[0]
        codes = [_group_codes(groups, n, "group")]
    elif within == "twoway":
        if isinstance(groups, pd.DataFrame) and groups.shape[1] == 2:
            parts = [groups.iloc[:, 0], groups.iloc[:, 1]]
        elif isinstance(groups, tuple | list) and len(groups) == 2:
            parts = list(groups)
        else:
            raise ParameterError(
                "groups: within='twoway' needs a two-column DataFrame or a tuple (group, period)")
        codes = [_group_codes(parts[0], n, "group"), _group_codes(parts[1], n, "period")]
    else:
        raise ParameterError(f"within: expected None, 'individual' or 'twoway', got {within!r}")

    def demean(x: np.ndarray, c: np.ndarray) -> np.ndarray:
        cnt = np.bincount(c).astype(float)
        sums = np.zeros((cnt.size, x.shape[1]))
        np.add.at(sums, c, x)
        return x - (sums / cnt[:, None])[c]

    out = v.copy()
    scale = np.maximum(np.abs(v).max(axis=0), 1e-300)
    for _ in range(max_iter if len(codes) == 2 else 1):
        prev = out
        for c in codes:
            out = demean(out, c)
        if len(codes) == 1 or np.max(np.abs(out - prev) / scale) < tol:
            break
    return out


def _prepare(X: Any, y: Any, groups: Any, within: str | None
             ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, float]:
    if not isinstance(X, pd.DataFrame):
        raise DataError(f"X: expected a pandas DataFrame of regressors, got {type(X).__name__}")
    names = [str(c) for c in X.columns]
    if len(names) == 0:
        raise DataError("X: no regressors (K = 0)")
    if len(set(names)) != len(names):
        dup = sorted({c for c in names if names.count(c) > 1})
        raise DataError(f"X: duplicate column names {dup}")
    nonnum = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if nonnum:
        raise DataError(f"X: non-numeric columns {[str(c) for c in nonnum]}")
    yv = y.to_numpy(dtype=float) if isinstance(y, pd.Series) else np.asarray(y, dtype=float)
    if yv.ndim != 1 or yv.shape[0] != X.shape[0]:
        raise DataError(f"y: expected a Series of length {X.shape[0]} (rows of X), got shape {yv.shape}")
    if isinstance(y, pd.Series) and not y.index.equals(X.index):
        raise DataError("y: its index differs from X's index (align them first)")
    Xv = X.to_numpy(dtype=float)
    bad_cols = [names[j] for j in np.flatnonzero(~np.isfinite(Xv).all(axis=0))]
    if bad_cols:
        row = int(np.flatnonzero(~np.isfinite(Xv).all(axis=1))[0])
        raise DataError(f"X: NaN/inf in columns {bad_cols} (first at row {X.index[row]!r})")
    if not np.isfinite(yv).all():
        row = int(np.flatnonzero(~np.isfinite(yv))[0])
        raise DataError(f"y: NaN/inf at row {X.index[row]!r}")
    N, K = Xv.shape
    if N <= K + 1 or N < 4:
        raise DataError(f"X: N = {N} rows is too few for K = {K} regressors (need N > K + 1 and N ≥ 4)")
    Xw = within_transform(Xv, groups, within)
    yw = within_transform(yv[:, None], groups, within)[:, 0]
    Xc = Xw - Xw.mean(axis=0)
    yc = yw - yw.mean()
    sx = np.sqrt((Xc * Xc).sum(axis=0))
    ref = math.sqrt(N) * np.abs(Xv).max(axis=0)
    const = [names[j] for j in np.flatnonzero(sx <= 1e-12 * ref)]
    if const:
        what = "constant" if within is None else f"constant after within={within!r} demeaning"
        raise DataError(f"X: columns {const} are {what}")
    yty = float(yc @ yc)
    if not yty > 0:
        raise DataError("y: constant (zero variance after centring)")
    Z = Xc / sx
    corr = Z.T @ Z
    w, V = np.linalg.eigh(corr)
    if w[0] < 1e-10 * max(w[-1], 1.0):
        involved = [names[j] for j in np.flatnonzero(np.abs(V[:, 0]) > 0.05)]
        raise DataError(
            f"X: columns {involved} are (nearly) collinear (smallest eigenvalue of cor(X) = {w[0]:.2e})")
    return Xc, yc, names, sx, yty


# ----------------------------------------------------------------------------- the estimator


class BMA(BaseEstimator):
    """Zellner g-prior Bayesian model averaging, equal to R's ``BMS::bms(mcmc="enumerate")``.

    A scikit-learn estimator (``get_params``/``set_params``/``clone``, fitted attributes
    ending in ``_``); it explains y rather than predicts it, so there is no ``predict``.

    Parameters
    ----------
    g : "UIP" (g = N), "BRIC" (max(N, K²)), "RIC" (K²), "HQ" ((ln N)³), a positive number, or a
        hyper-g prior "hyper" / "hyper=UIP" (a = 2 + 2/N), "hyper=BRIC" (a = 2 + 2/max(N, K²)),
        "hyper=<a>" with a in (2, 4].
    mprior : "uniform", "fixed" (binomial, θ = m/K) or "random" (beta-binomial, Ley & Steel).
    mprior_size : prior expected model size m (default K/2); ignored for "uniform".
    within : None, "individual" or "twoway" demeaning by ``groups`` in :meth:`fit`.  As in BMS,
        which just receives the demeaned data, the absorbed degrees of freedom are NOT removed
        (N − 1 and N − 3 use N = number of rows).
    method : "auto" (= exact enumeration when K ≤ ``max_exact``, else an error asking for MC3),
        "enumerate" or "mc3".
    n_iter, burn : MC3 draws kept and burn-in draws.
    random_state : seed of the MC3 sampler (enumeration is deterministic).
    nmodel : number of best models kept (BMS's ``nmodel``).
    hyper_f21 : "exact" (stable ln ₂F₁) or "bms" (BMS 0.3.5's truncated series, to match BMS
        where it is wrong: R² ≳ 0.9; it overflows above ≈ 0.95 and then fit raises).
    max_exact : the largest K enumerated exactly (2^K models).

    Attributes
    ----------
    Set by :meth:`fit`; reading one before raises :class:`carbonlab._util.NotFittedError`
    (a scikit-learn ``NotFittedError``).  Coefficients are in units of y per unit of the
    regressor (chapter 2: ln(t CO2/person) per unit of the driver); Series are indexed by
    ``regressor`` in the column order of X.

    pip_ : Series, posterior inclusion probability of each regressor (0–1).
    coef_mean_ : Series, unconditional posterior mean of each coefficient (BMS's ``Post Mean``).
    coef_sd_ : Series, unconditional posterior SD of each coefficient (BMS's ``Post SD``).
    cond_pos_sign_ : Series, posterior probability (0–1) of a positive coefficient among the
        models that include the regressor (BMS's ``Cond.Pos.Sign``, rounded to 8 decimals).
    intercept_ : float, ȳ − Σ coef_mean_j·x̄_j on the (demeaned) data, in units of y.
    models_ : DataFrame, the ``nmodel`` best models, best first, as :meth:`top_models`.
    post_model_prob_ : Series, posterior probability (0–1) of each of ``models_``
        (indexed by BMS's hex ``model_id``; over all 2^K models, for MC3 over the visited ones).
    n_models_ : int, models evaluated (2^K when enumerated, the distinct visited for MC3).
    log_evidence_ : float, ln Σ_M exp(ℓ(M) + ln π(M)) (natural log, unnormalised priors).
    r2_full_ : float, R² of the model with every regressor (on the demeaned data).
    n_obs_, n_features_in_ : int, rows N and regressors K (``n_regressors_``, the same).
    feature_names_in_ : ndarray of the regressor names (``names_``: the same as a list).
    method_ : "enumerate" or "mc3" (what ``method`` resolved to).
    prior_msize_ : float, prior mean model size.
    mc3_models_visited_ : int, distinct models the MC3 chain visited (``method_ == "mc3"``).
    """

    #: fitted attributes: reading one before :meth:`fit` raises NotFittedError
    _FITTED = frozenset({
        "pip_", "coef_mean_", "coef_sd_", "cond_pos_sign_", "intercept_", "models_",
        "post_model_prob_", "n_models_", "log_evidence_", "r2_full_", "n_obs_",
        "n_features_in_", "n_regressors_", "feature_names_in_", "names_", "method_",
        "prior_msize_", "yty_", "mc3_models_visited_"})

    def __init__(self, g: str | float = "UIP", mprior: str = "uniform",
                 mprior_size: float | None = None, within: str | None = None,
                 method: str = "auto", n_iter: int = 20000, burn: int = 2000,
                 random_state: int | None = None, nmodel: int = 500,
                 hyper_f21: str = "exact", max_exact: int = 22) -> None:
        self.g = g
        self.mprior = mprior
        self.mprior_size = mprior_size
        self.within = within
        self.method = method
        self.n_iter = n_iter
        self.burn = burn
        self.random_state = random_state
        self.nmodel = nmodel
        self.hyper_f21 = hyper_f21
        self.max_exact = max_exact

    def __getattr__(self, name: str) -> Any:
        # reached only when normal lookup fails, so only before fit (or for a missing name)
        if name in BMA._FITTED:
            raise NotFittedError(f"BMA: call fit(X, y) before reading {name}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- per-model quantities -------------------------------------------------------------
    def _model_terms(self, k: np.ndarray, r2: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """ℓ(M), E[s|M], the variance factor v (Var β_j = v·d_j) and E[s²|M] for sizes k, R² r2."""
        N, yty = self.n_obs_, self.yty_
        n1 = N - 1.0
        n3 = N - 3.0
        base = -0.5 * n1 * math.log(yty)
        if self._gkind == "fixed":
            g = self._gval
            s = g / (1.0 + g)
            ell = base - 0.5 * k * math.log1p(g) - 0.5 * n1 * np.log1p(-s * r2)
            es = np.full(k.shape, s)
            vf = yty / n3 * s * (1.0 - s * r2)
            return ell, es, vf, np.full(k.shape, s * s)
        a = self._gval
        ell = np.full(k.shape, base)
        es = np.full(k.shape, 2.0 / a)
        es2 = np.full(k.shape, 8.0 / (a * (a + 2.0)))
        vf = np.zeros(k.shape)
        m = k > 0
        if m.any():
            kk, z = k[m].astype(float), r2[m]
            c = kk + a - 2.0
            lnF = log_hyp2f1(n1 / 2.0, (kk + a) / 2.0, z, method=self.hyper_f21)
            if not np.isfinite(lnF).all():
                raise ParameterError(
                    "hyper_f21='bms': BMS's truncated ₂F₁ series overflows at R² = "
                    f"{float(z[~np.isfinite(lnF)].min()):.4f} (BMS returns NaN here); use 'exact'")
            ell[m] = base + math.log(a - 2.0) - np.log(c) + lnF
            Q = c * np.exp(-lnF)
            es[m] = (Q - c + n3 * z) / (z * (n3 - c))
            vf[m] = (((1.0 + 2.0 / n3 * z / (1.0 - z)) * Q + (n3 - 2.0) * z - c)
                     * n3 * (1.0 - z) / ((n3 - c) * (n3 - c - 2.0) * z) * (yty / n3))
            es2[m] = ((((n3 - 2.0) * z - (c + 2.0)) * Q + (n3 * z - c) ** 2 - 2.0 * (n3 * z * z - c))
                      / (z * z * (n3 - c) * (n3 - c - 2.0)))
        return ell, es, vf, es2

    # -- fitting --------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y: pd.Series, groups: Any = None) -> BMA:
        """Fit on regressors ``X`` (N × K DataFrame) and response ``y`` (Series, same index).

        ``groups``: labels for ``within`` demeaning (see :func:`within_transform`).
        """
        if self.within is not None and self.within not in ("individual", "twoway"):
            raise ParameterError(f"within: expected None, 'individual' or 'twoway', got {self.within!r}")
        if self.method not in ("auto", "enumerate", "mc3"):
            raise ParameterError(f"method: expected 'auto', 'enumerate' or 'mc3', got {self.method!r}")
        if self.hyper_f21 not in ("exact", "bms"):
            raise ParameterError(f"hyper_f21: expected 'exact' or 'bms', got {self.hyper_f21!r}")
        if not isinstance(self.nmodel, numbers.Integral) or self.nmodel < 1:
            raise ParameterError(f"nmodel: expected a positive integer, got {self.nmodel!r}")
        Xc, yc, names, sx, yty = _prepare(X, y, groups, self.within)
        N, K = Xc.shape
        self.n_obs_, self.n_regressors_, self.names_, self.yty_ = N, K, names, yty
        self.n_features_in_, self.feature_names_in_ = K, np.asarray(names, dtype=object)
        self._gkind, self._gval = _parse_g(self.g, N, K)
        if self._gkind == "hyper" and N - 3 - K - self._gval <= 0:
            raise DataError(f"X: hyper-g needs N > K + a + 3; N = {N}, K = {K}, a = {self._gval:.4g}")
        self._lprior_k, self.prior_msize_ = _log_model_prior(self.mprior, self.mprior_size, K)
        method = self.method
        if method in ("auto", "enumerate") and K > self.max_exact:
            raise ParameterError(
                f"method={method!r}: K = {K} regressors (2^{K} models) exceed max_exact = "
                f"{self.max_exact} for exact enumeration; pass method='mc3' (or raise max_exact)")
        self.method_ = "enumerate" if method == "auto" else method
        # standardised Gram matrix of [X | y]
        sy = math.sqrt(yty)
        Z = np.hstack([Xc / sx, (yc / sy)[:, None]])
        G = Z.T @ Z
        self._sx, self._sy, self._gram = sx, sy, G
        if self.method_ == "enumerate":
            self._enumerate(G)
        else:
            self._mc3(G)
        # intercept as BMS reports it: ȳ − Σ PostMean_j x̄_j (on the demeaned data BMS receives)
        Xv = within_transform(X.to_numpy(dtype=float), groups, self.within)
        yv = within_transform(np.asarray(y, dtype=float)[:, None], groups, self.within)[:, 0]
        self.intercept_ = float(yv.mean() - self.coef_mean_.to_numpy() @ Xv.mean(axis=0))
        self.r2_full_ = self._full_model_r2(G)
        self.models_ = self._models_table(self._top)
        self.post_model_prob_ = self.models_["pmp"].rename("post_model_prob")
        del self._top
        return self

    @staticmethod
    def _full_model_r2(G: np.ndarray) -> float:
        K = G.shape[0] - 1
        b = np.linalg.solve(G[:K, :K], G[:K, K])
        return float(G[:K, K] @ b)

    # -- exact enumeration by a tree of sweeps ---------------------------------------------
    def _enumerate(self, G: np.ndarray) -> None:
        """All 2^K models as leaves of a tree of sweeps, streamed in blocks of 2^m models.

        The first K − m regressors ("outer") are swept with full (K+1)² matrices in all
        2^(K−m) combinations.  Below each outer state the m inner regressors form a vectorised
        tree in which only what later levels need is carried: the columns of the regressors
        still to be swept plus the y column (all rows), and the diagonal.  At a level with r
        pivots left that is (K+1)(r+1) numbers per model instead of (K+1)², so the whole
        enumeration costs O(2^K·K) flops and memory O(2^m·K·m).
        """
        K = G.shape[0] - 1
        P = K + 1
        m = K
        while m > 1 and (1 << m) * P * (m + 1) > _BLOCK_ELEMENTS:
            m -= 1
        outer = K - m
        states = G[None].copy()
        for p in range(outer):
            states = np.concatenate([states, _sweep(states, p)], axis=0)
        B = 1 << m
        cols = np.r_[np.arange(outer, K), K]  # inner pivots, then y
        # model axis last: every level is a few long contiguous vector operations
        Cbuf = np.empty((m + 1, P, B))
        Dbuf = np.empty((P, B))
        inclf = np.empty((K, B))
        inclf[outer:] = (np.arange(B)[None, :] >> np.arange(m)[:, None]) & 1
        k_inner = inclf[outer:].sum(axis=0).astype(np.int64)
        acc = _Accumulator(K, self.nmodel)
        for o in range(states.shape[0]):
            Cbuf[:, :, 0] = states[o][:, cols].T
            Dbuf[:, 0] = np.diagonal(states[o])
            h = 1
            for li in range(m):
                p = outer + li
                a = Cbuf[li, p, :h]
                raw = Cbuf[li, :, :h]
                col = raw / a
                rowp = Cbuf[li + 1:, p, :h]
                dst = Cbuf[li + 1:, :, h:2 * h]
                np.multiply(col[None, :, :], rowp[:, None, :], out=dst)
                np.subtract(Cbuf[li + 1:, :, :h], dst, out=dst)
                dst[:, p, :] = rowp / a
                dD = Dbuf[:, h:2 * h]
                np.multiply(raw, col, out=dD)
                np.subtract(Dbuf[:, :h], dD, out=dD)
                dD[p] = -1.0 / a
                h *= 2
            outer_bits = (o >> np.arange(outer)) & 1
            inclf[:outer] = outer_bits[:, None]
            self._accumulate_block(acc, inclf, Cbuf[m, K], Cbuf[m, :K], -Dbuf[:K],
                                   k=k_inner + int(outer_bits.sum()))
        self._finish(acc)

    def _accumulate_block(self, acc: _Accumulator, inclf: np.ndarray, rss: np.ndarray,
                          bhat_s: np.ndarray, dinv_s: np.ndarray,
                          weights: np.ndarray | None = None, k: np.ndarray | None = None) -> None:
        """Add a block of models: ``inclf`` (K, B) 0/1 floats, residual SS ``rss`` (B) and OLS
        slopes / diagonal of (X'X)⁻¹ (K, B), all in standardised units (scaled in _finish)."""
        if k is None:
            k = np.rint(inclf.sum(axis=0)).astype(np.int64)
        r2 = np.clip(1.0 - rss, 0.0, 1.0)
        r2[k == 0] = 0.0
        ell, es, vf, es2 = self._model_terms(k, r2)
        L = ell + self._lprior_k[k]
        acc.add(L, ell, inclf, k, bhat_s, dinv_s, es, vf / self.yty_, es2, weights)

    def _finish(self, acc: _Accumulator) -> None:
        K = self.n_regressors_
        res = acc.result()
        self.log_evidence_ = res["logZ"]
        scale = self._sy / self._sx
        mean = res["mean"] * scale
        self._e2 = res["e2"] * scale * scale
        with np.errstate(invalid="ignore", divide="ignore"):
            cps = np.round(res["pos"] / res["pip"], 8)
        idx = pd.Index(self.names_, name="regressor")
        self.pip_ = pd.Series(res["pip"], index=idx, name="pip")
        self.coef_mean_ = pd.Series(mean, index=idx, name="coef_mean")
        self.coef_sd_ = pd.Series(np.sqrt(np.maximum(self._e2 - mean ** 2, 0.0)), index=idx,
                                  name="coef_sd")
        self.cond_pos_sign_ = pd.Series(np.where(res["pip"] > 0, cps, np.nan), index=idx,
                                        name="cond_pos_sign")
        self._size_post = res["size"]
        self._shrink = (res["es"], res["es2"])
        self._top = res["top"]
        self.n_models_ = res["n"]
        self._visits = res.get("visits")
        lp = self._lprior_k + special.gammaln(K + 1) - special.gammaln(np.arange(K + 1) + 1) \
            - special.gammaln(K - np.arange(K + 1) + 1)
        self._size_prior = np.exp(lp - special.logsumexp(lp))

    # -- MC3 --------------------------------------------------------------------------------
    def _mc3(self, G: np.ndarray) -> None:
        K = G.shape[0] - 1
        for nm, v in (("n_iter", self.n_iter), ("burn", self.burn)):
            if not isinstance(v, numbers.Integral) or v < (1 if nm == "n_iter" else 0):
                raise ParameterError(f"{nm}: expected a {'positive' if nm == 'n_iter' else 'non-negative'} integer, got {v!r}")
        rng = np.random.default_rng(self.random_state)
        cache: dict[int, tuple[float, np.ndarray, np.ndarray, float]] = {}
        weights = 1 << np.arange(K, dtype=np.int64)

        def evaluate(incl: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
            key = int(incl.astype(np.int64) @ weights)
            hit = cache.get(key)
            if hit is not None:
                return hit
            idx = np.flatnonzero(incl)
            bh = np.zeros(K)
            dd = np.zeros(K)
            rss = 1.0
            if idx.size:
                Lc = np.linalg.cholesky(G[np.ix_(idx, idx)])
                w = np.linalg.solve(Lc, G[idx, K])
                rss = 1.0 - float(w @ w)
                Li = np.linalg.solve(Lc, np.eye(idx.size))
                bh[idx] = Li.T @ w
                dd[idx] = (Li * Li).sum(axis=0)
            k = np.array([idx.size])
            r2 = np.array([0.0 if idx.size == 0 else min(max(1.0 - rss, 0.0), 1.0)])
            ell = self._model_terms(k, r2)[0][0]
            val = (float(ell + self._lprior_k[idx.size]), bh, dd, rss)
            cache[key] = val
            return val

        cur = np.zeros(K, dtype=bool)
        cur[rng.permutation(K)[: int(round(self.prior_msize_))]] = True
        Lcur = evaluate(cur)[0]
        counts: dict[int, int] = {}
        total = self.burn + self.n_iter
        for it in range(total):
            prop = cur.copy()
            kc = int(cur.sum())
            if rng.random() < 0.5 or kc in (0, K):
                prop[rng.integers(K)] ^= True
            else:
                ins, outs = np.flatnonzero(cur), np.flatnonzero(~cur)
                prop[ins[rng.integers(ins.size)]] = False
                prop[outs[rng.integers(outs.size)]] = True
            Lp = evaluate(prop)[0]
            if np.log(rng.random()) < Lp - Lcur:
                cur, Lcur = prop, Lp
            if it >= self.burn:
                key = int(cur.astype(np.int64) @ weights)
                counts[key] = counts.get(key, 0) + 1
        keys = np.array(sorted(counts), dtype=np.int64)
        incl = ((keys[:, None] >> np.arange(K)[None, :]) & 1).astype(bool)
        rss = np.array([cache[int(kk)][3] for kk in keys])
        bh = np.array([cache[int(kk)][1] for kk in keys])
        dd = np.array([cache[int(kk)][2] for kk in keys])
        freq = np.array([counts[int(kk)] for kk in keys], dtype=float) / self.n_iter
        # analytic PMPs (renormalised over the visited models) and visit frequencies
        acc = _Accumulator(K, self.nmodel)
        self._accumulate_block(acc, incl.T.astype(float), rss, bh.T, dd.T)
        accf = _Accumulator(K, self.nmodel)
        self._accumulate_block(accf, incl.T.astype(float), rss, bh.T, dd.T, weights=freq)
        self._finish(accf)
        freq_stats = (self.pip_, self.coef_mean_, self.coef_sd_, self.cond_pos_sign_,
                      self._size_post, self._shrink, self._e2)
        self._finish(acc)
        self._freq_stats = freq_stats
        self.mc3_models_visited_ = len(counts)
        top = self._top
        key_of = {int(kk): f for kk, f in zip(keys, freq, strict=True)}
        top["freq"] = np.array([key_of[int(i @ weights)] for i in top["incl"].astype(np.int64)])

    # -- results ----------------------------------------------------------------------------
    def _check_fitted(self, action: str) -> None:
        check_fitted(self, "pip_", action)

    def summary(self, order_by_pip: bool = True, conditional: bool = False,
                weights: str = "analytic") -> pd.DataFrame:
        """Per regressor: ``pip``, ``post_mean`` (unconditional), ``post_sd`` (unconditional SD of
        the BMA mixture), ``cond_pos_sign`` (posterior mass of positive conditional means among
        models that include it, rounded to 8 decimals like BMS) and Kass–Raftery ``evidence``.

        Coefficients are in units of y per unit of the regressor.  ``conditional=True`` adds
        ``cond_mean``/``cond_sd`` (given inclusion).  For MC3, ``weights="freq"`` uses the visit
        frequencies instead of the analytic PMPs of the visited models.
        """
        self._check_fitted("summary")
        if weights == "analytic":
            pip, mean, sd, cps, e2 = (self.pip_, self.coef_mean_, self.coef_sd_,
                                      self.cond_pos_sign_, self._e2)
        elif weights == "freq" and self.method_ == "mc3":
            pip, mean, sd, cps, _, _, e2 = self._freq_stats
        else:
            raise ParameterError(f"weights: expected 'analytic' (or 'freq' after MC3), got {weights!r}")
        pip, mean, sd, cps = (np.asarray(v, dtype=float) for v in (pip, mean, sd, cps))
        df = pd.DataFrame({"pip": pip, "post_mean": mean, "post_sd": sd, "cond_pos_sign": cps,
                           "evidence": evidence_class(pip)},
                          index=pd.Index(self.names_, name="regressor"))
        if conditional:
            with np.errstate(invalid="ignore", divide="ignore"):
                cm = mean / pip
                csd = np.sqrt(np.maximum(e2 / pip - cm ** 2, 0.0))
            df["cond_mean"] = np.nan_to_num(cm)
            df["cond_sd"] = np.nan_to_num(csd)
        if order_by_pip:
            df = df.iloc[np.argsort(-df["pip"].to_numpy(), kind="stable")]
        df.attrs["intercept"] = self.intercept_
        df.attrs["n_obs"] = self.n_obs_
        df.attrs["g"] = self._gval if self._gkind == "fixed" else f"hyper(a={self._gval})"
        return df

    def describe(self) -> str:
        """The fit in sentences (every number computed): data and priors, the regressors
        with PIP ≥ 0.5 and their evidence class, model size, the best model's share."""
        self._check_fitted("describe")
        s = self.summary()
        g = f"g = {self.g}" if isinstance(self.g, str) else f"g = {float(self.g):g}"
        space = (f"all {self.n_models_:,} models enumerated" if self.method_ == "enumerate" else
                 f"MC3, {self.mc3_models_visited_:,} models visited")
        keep = s[s["pip"] >= 0.5]
        inc = ", ".join(f"{r} ({p:.2f}, {e})" for r, p, e in
                        zip(keep.index, keep["pip"], keep["evidence"], strict=True)) or "none"
        size = self.model_size().attrs
        return (f"BMA of {self.n_obs_} observations on {self.n_regressors_} regressors ({g}, "
                f"{self.mprior} model prior; {space}). PIP ≥ 0.5: {inc}. Posterior mean model "
                f"size {size['posterior_mean']:.1f} (prior {size['prior_mean']:.1f}); the best "
                f"model holds {100 * float(self.post_model_prob_.iloc[0]):.1f} % of the "
                f"posterior.")

    def top_models(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` best models by posterior kernel: 0/1 inclusion per regressor, ``k``,
        ``log_marglik`` (ℓ exactly as BMS's ``lprob``), ``log_prior`` (BMS's prior kernel),
        ``pmp`` (exact posterior probability over all 2^K models; for MC3 over the visited
        models, plus ``freq``), indexed by BMS's hex ``model_id`` (the first rows of
        ``models_``)."""
        self._check_fitted("top_models")
        if not isinstance(n, numbers.Integral) or n < 1:
            raise ParameterError(f"n: expected a positive integer, got {n!r}")
        return self.models_.iloc[: int(n)].copy()

    def _models_table(self, t: dict[str, np.ndarray]) -> pd.DataFrame:
        incl = t["incl"].astype(int)
        df = pd.DataFrame(incl, columns=self.names_)
        df["k"] = incl.sum(axis=1)
        df["log_marglik"] = t["ell"]
        df["log_prior"] = t["L"] - t["ell"]
        df["pmp"] = np.exp(t["L"] - self.log_evidence_)
        if "freq" in t:
            df["freq"] = t["freq"]
        df.index = pd.Index(bms_hexcode(incl), name="model_id")
        return df

    def top_model_signs(self, n: int = 10) -> pd.DataFrame:
        """Sign (+1/−1, 0 when excluded) of each regressor's conditional posterior mean in each
        of the ``n`` best models (same rows as :meth:`top_models`)."""
        top = self.top_models(n)
        G, K = self._gram, self.n_regressors_
        out = np.zeros((len(top), K), dtype=int)
        for r, inc in enumerate(top[self.names_].to_numpy(dtype=bool)):
            idx = np.flatnonzero(inc)
            if idx.size:
                out[r, idx] = np.sign(np.linalg.solve(G[np.ix_(idx, idx)], G[idx, K])).astype(int)
        return pd.DataFrame(out, index=top.index, columns=self.names_)

    def model_size(self) -> pd.DataFrame:
        """Prior and posterior probability of each model size k = 0..K (index ``k``);
        attrs hold the prior and posterior mean sizes."""
        self._check_fitted("model_size")
        K = self.n_regressors_
        df = pd.DataFrame({"prior": self._size_prior, "posterior": self._size_post},
                          index=pd.Index(np.arange(K + 1), name="k"))
        df.attrs["prior_mean"] = float(np.arange(K + 1) @ self._size_prior)
        df.attrs["posterior_mean"] = float(np.arange(K + 1) @ self._size_post)
        return df

    def shrinkage(self) -> pd.Series:
        """Posterior shrinkage factor s = g/(1+g): ``mean`` = Σ p_M E[s|M], ``second_moment``,
        ``sd`` (0 for fixed g)."""
        self._check_fitted("shrinkage")
        es, es2 = self._shrink
        if self._gkind == "fixed":
            es2 = es * es
        return pd.Series({"mean": es, "second_moment": es2, "sd": math.sqrt(max(es2 - es * es, 0.0))},
                         name="shrinkage")


def _sweep(A: np.ndarray, p: int, out: np.ndarray | None = None) -> np.ndarray:
    """Sweep pivot ``p`` of a stack of symmetric matrices (Little & Rubin's SWP): the swept
    block holds −(X'X)⁻¹, the [·, y] column the OLS slopes and [y, y] the residual SS."""
    a = A[:, p, p]
    col = A[:, :, p] / a[:, None]
    if out is None:
        out = np.empty_like(A)
    np.multiply(col[:, :, None], A[:, None, p, :], out=out)
    np.subtract(A, out, out=out)
    out[:, :, p] = col
    out[:, p, :] = col
    out[:, p, p] = -1.0 / a
    return out


class _Accumulator:
    """Streaming log-sum-exp sums of the BMA moments and the top models."""

    def __init__(self, K: int, nmodel: int) -> None:
        self.K, self.nmodel = K, nmodel
        self.c = -np.inf
        self.z = 0.0
        self.pip = np.zeros(K)
        self.mean = np.zeros(K)
        self.e2 = np.zeros(K)
        self.pos = np.zeros(K)
        self.size = np.zeros(K + 1)
        self.es = 0.0
        self.es2 = 0.0
        self.n = 0
        self.top_L = np.empty(0)
        self.top_ell = np.empty(0)
        self.top_incl = np.empty((0, K), dtype=bool)

    def add(self, L: np.ndarray, ell: np.ndarray, inclf: np.ndarray, k: np.ndarray,
            bhat: np.ndarray, d: np.ndarray, es: np.ndarray, vf: np.ndarray, es2: np.ndarray,
            weights: np.ndarray | None) -> None:
        """One block: models along the last axis of the (K, B) arrays ``inclf``, ``bhat``, ``d``."""
        lw = L if weights is None else np.log(weights)
        mx = float(lw.max())
        if mx > self.c:
            f = math.exp(self.c - mx) if np.isfinite(self.c) else 0.0
            for name in ("pip", "mean", "e2", "pos", "size"):
                getattr(self, name).__imul__(f)
            self.z *= f
            self.es *= f
            self.es2 *= f
            self.c = mx
        w = np.exp(lw - self.c)
        Bs = bhat * inclf
        self.z += w.sum()
        self.pip += inclf @ w
        self.mean += Bs @ (w * es)
        self.e2 += (d * inclf) @ (w * vf) + (Bs * Bs) @ (w * es * es)
        self.pos += np.where(Bs > 0, w, 0.0).sum(axis=1)
        self.size += np.bincount(k, weights=w, minlength=self.K + 1)
        self.es += float(w @ es)
        self.es2 += float(w @ es2)
        self.n += L.size
        # top models by L
        nk = min(self.nmodel, L.size)
        idx = np.argpartition(-L, nk - 1)[:nk] if nk < L.size else np.arange(L.size)
        allL = np.concatenate([self.top_L, L[idx]])
        allE = np.concatenate([self.top_ell, ell[idx]])
        allI = np.concatenate([self.top_incl, inclf[:, idx].T > 0])
        keep = np.argsort(-allL, kind="stable")[: self.nmodel]
        self.top_L, self.top_ell, self.top_incl = allL[keep], allE[keep], allI[keep]

    def result(self) -> dict[str, Any]:
        z = self.z
        return {
            "logZ": self.c + math.log(z), "pip": self.pip / z, "mean": self.mean / z,
            "e2": self.e2 / z, "pos": self.pos / z, "size": self.size / z,
            "es": self.es / z, "es2": self.es2 / z, "n": self.n,
            "top": {"L": self.top_L, "ell": self.top_ell, "incl": self.top_incl},
        }


# ----------------------------------------------------------------------------- panel → design


def design_from_panel(panel: pd.DataFrame, drivers: Sequence[str] | None = None
                      ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """X (the drivers the panel carries), y = ln(t CO2 per person) and groups = region.

    ``drivers`` defaults to the 18 drivers of CONTRIBUTING.md that are columns of ``panel`` with
    at least one value.  Rows with a missing driver are dropped; X.attrs records
    ``unavailable`` (of the 18) and ``dropped_rows`` (region, year pairs).
    """
    from carbonlab.data import DRIVERS, log_emissions_per_capita

    all18 = list(DRIVERS)
    if drivers is None:
        drivers = [d for d in all18 if d in panel.columns and panel[d].notna().any()]
    missing = [d for d in drivers if d not in panel.columns]
    if missing:
        raise DataError(f"panel: driver columns {missing} are missing")
    if not drivers:
        raise DataError("panel: carries none of the 18 drivers")
    for col in ("region", "year", "population_10k", "emissions_mt"):
        if col not in panel.columns:
            raise DataError(f"panel: column {col!r} is missing")
    ok = panel[list(drivers)].notna().all(axis=1)
    sub = panel.loc[ok].reset_index(drop=True)
    X = sub[list(drivers)].astype(float)
    X.attrs["unavailable"] = [d for d in all18 if d not in drivers]
    X.attrs["dropped_rows"] = list(zip(panel.loc[~ok, "region"], panel.loc[~ok, "year"].astype(int),
                                       strict=True))
    y = log_emissions_per_capita(sub).rename("ln_tco2_per_capita")
    y.index = X.index
    return X, y, sub["region"]


# ----------------------------------------------------------------------------- the known truth


def truth_check(summary: pd.DataFrame, panel: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The teaching world's truth beside the BMA posterior, one row per driver.

    Columns: ``true`` and ``coefficient`` (the truth table, ``data.load_truth()``; for a
    driver whose effect scales with another, its coefficient at the reference value),
    ``linear`` (the best a linear model with province effects can do: the within-province
    least-squares coefficients of the noise-free truth, :func:`carbonlab.synth.true_index`,
    on the true drivers; 0 for the others), ``pip``, ``post_mean``, ``post_sd`` and
    ``z_linear`` ((post_mean − linear) / post_sd). True drivers first, then by PIP.
    ``attrs["interaction"]``: the scaled driver's name, its scaling driver and the range
    of its true effect over the panel's rows (empty when the truth is linear).
    """
    from carbonlab.synth import true_index

    t = truth.set_index("driver")
    true = [d for d in t.index if bool(t.loc[d, "true"])]
    missing = [c for c in ("region", *true) if c not in panel.columns]
    if missing:
        raise DataError(f"panel: missing column {missing[0]!r}")
    reg = panel["region"].to_numpy()

    def within(v: np.ndarray) -> np.ndarray:
        return v - pd.Series(v).groupby(reg).transform("mean").to_numpy()

    Xw = np.column_stack([within(panel[d].to_numpy(dtype=float)) for d in true])
    b, *_ = np.linalg.lstsq(Xw, within(true_index(panel, truth)), rcond=None)
    out = t[["true", "coefficient"]].join(summary[["pip", "post_mean", "post_sd"]], how="inner")
    out.insert(2, "linear", pd.Series(dict(zip(true, b, strict=True))).reindex(out.index).fillna(0.0))
    out["z_linear"] = (out["post_mean"] - out["linear"]) / out["post_sd"].where(out["post_sd"] > 0)
    out = out.sort_values(["true", "pip"], ascending=False)
    out.attrs["interaction"] = {}
    if "scaled_by" in t.columns:
        sc = t[t["scaled_by"].fillna("").astype(str).str.len() > 0]
        if len(sc):
            d, r = sc.index[0], sc.iloc[0]
            by = panel[str(r["scaled_by"])].to_numpy(dtype=float)
            eff = (float(r["coefficient"]) * np.maximum(by - float(r["floor"]), 0)
                   / (float(r["reference"]) - float(r["floor"])))
            out.attrs["interaction"] = {"driver": d, "by": str(r["scaled_by"]),
                                        "lo": float(eff.min()), "hi": float(eff.max())}
    return out


def describe_recovery(summary: pd.DataFrame, check: pd.DataFrame | None = None,
                      check_form: pd.DataFrame | None = None, driver: str = "fossil") -> str:
    """What the PIPs say against the truth (``check``: :func:`truth_check`; None on data
    without a known truth), how many drivers without an effect still enter when the scaled
    driver is given in the truth's own form (``check_form``: :func:`truth_check` of a fit on
    :func:`carbonlab.synth.true_design`), and how to read ``driver``'s posterior mean as a
    semi-elasticity."""
    b = float(summary.loc[driver, "post_mean"]) if driver in summary.index else float("nan")
    read = (f" The posterior mean on `{driver}` is {b:.2f}: one more percentage point of it "
            f"changes per-capita emissions by about {b:+.2f} %" if np.isfinite(b) else "")
    if check is None:
        return ("The real data carry no known truth: read the PIPs as evidence, keeping in mind "
                "that some drivers are proxies." + read + ".")
    true = check[check["true"]]
    other = check[~check["true"]]
    found = sorted(true.index[true["pip"] > 0.95])
    rejected = int((other["pip"] < 0.5).sum())
    s = (f"BMA gives PIP > 0.95 to {len(found)} of the {len(true)} true drivers"
         + (f" ({', '.join(found)})" if found else "")
         + f" and PIP < 0.5 to {rejected} of the {len(other)} drivers without an effect.")
    inter = check.attrs.get("interaction") or {}
    if inter:
        d = inter["driver"]
        s += (f" The truth is not linear: the effect of `{d}` scales with `{inter['by']}` and "
              f"ranges from {inter['lo'] + 0.0:.2f} to {inter['hi'] + 0.0:.2f} over the panel's rows, so no "
              f"single coefficient is right; the best a linear model with province effects can "
              f"do (column `linear`) is {check.loc[d, 'linear']:.2f}.")
    far = sorted(true.index[true["z_linear"].abs() > 2])
    s += (f" The posterior means lie within two posterior SDs of that linear stand-in for "
          f"{len(true) - len(far)} of the {len(true)} true drivers"
          + (f" (not: {', '.join(far)})" if far else "") + ".")
    if check_form is not None:
        n0 = int((other["pip"] > 0.5).sum())
        o1 = check_form[~check_form["true"]]
        n1 = int((o1["pip"] > 0.5).sum())
        s += (f" Drivers without an effect in the median model (PIP > 0.5): {n0}"
              + (f"; given the truth's own form of `{inter['driver']}`, {n1}" if inter else "")
              + (", so the interaction alone does not explain them." if inter and n0 and n1 >= n0
                 else ": they stood in for the interaction the linear form misses." if inter and n1 == 0 < n0
                 else ": they partly stood in for the interaction." if inter and n1 < n0 else "."))
    if read:
        s += read + (", on average over the provinces' service shares" if inter.get("driver") == driver
                     else "")
    return s + "."


# ----------------------------------------------------------------------------- prior sensitivity


def prior_sensitivity(X: pd.DataFrame, y: pd.Series, groups: Any = None, within: str | None = None,
                      g: Sequence[str | float] = ("UIP", "BRIC", "hyper=UIP"),
                      mprior: Sequence[str] = ("uniform", "random"),
                      **kw: Any) -> pd.DataFrame:
    """Fit :class:`BMA` for every (g, mprior) pair; tidy table with one row per
    (g, mprior, regressor): ``pip``, ``post_mean``, ``post_sd``, ``evidence``, plus the posterior
    mean model size ``post_msize`` and the mean shrinkage ``shrinkage`` of that prior."""
    if isinstance(g, str | numbers.Real):
        g = [g]
    if isinstance(mprior, str):
        mprior = [mprior]
    rows = []
    for gi in g:
        for mp in mprior:
            fit = BMA(g=gi, mprior=mp, within=within, **kw).fit(X, y, groups)
            s = fit.summary(order_by_pip=False).reset_index()
            s.insert(0, "mprior", mp)
            s.insert(0, "g", str(gi))
            s["post_msize"] = fit.model_size().attrs["posterior_mean"]
            s["shrinkage"] = fit.shrinkage()["mean"]
            rows.append(s.drop(columns="cond_pos_sign"))
    return pd.concat(rows, ignore_index=True)


# ----------------------------------------------------------------------------- figures


def plot_pip(summary: pd.DataFrame, ax: Any = None, truth: Sequence[str] | None = None) -> Any:
    """Horizontal PIP bars (sorted) over the shaded Kass–Raftery bands; ``truth`` names are
    starred.  Returns the Axes."""
    if ax is None:
        _, ax = new_figure(figsize=(7.0, 0.28 * len(summary) + 1.2))
    s = summary.sort_values("pip")
    bounds = [b for b, _ in EVIDENCE_BANDS] + [1.0]
    shades = ["#ffffff", "#f3f3f3", "#e6e6e6", "#d4d4d4", "#bfbfbf"]
    for (lo, lab), hi, col in zip(EVIDENCE_BANDS, bounds[1:], shades, strict=True):
        # the bands are named in a legend below the axes: the narrow "strong" and "very
        # strong" bands leave no room for a label on the plot
        ax.axvspan(lo, hi, facecolor=col, edgecolor="#9a9a9a", lw=0.5, zorder=0,
                   label=f"{lab} ({lo:g}–{hi:g})")
    colors = [PALETTE[0] if v >= 0 else PALETTE[1] for v in s["post_mean"]]
    labels = [f"{n} *" if truth is not None and n in truth else str(n) for n in s.index]
    ax.barh(np.arange(len(s)), s["pip"], color=colors, zorder=2)
    ax.set_yticks(np.arange(len(s)), labels)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(s) + 0.6)
    ax.set_xlabel("posterior inclusion probability (blue: + mean, orange: − mean)")
    ax.grid(axis="y", visible=False)
    legend_outside(ax, "bottom", ncols=3, title="Kass–Raftery evidence bands (PIP)")
    return ax


def plot_coefficients(summary: pd.DataFrame, ax: Any = None) -> Any:
    """Posterior means ± one posterior SD (unconditional), one row per regressor."""
    if ax is None:
        _, ax = new_figure(figsize=(7.0, 0.28 * len(summary) + 1.2))
    s = summary.iloc[::-1]
    yy = np.arange(len(s))
    ax.errorbar(s["post_mean"], yy, xerr=s["post_sd"], fmt="o", color=PALETTE[0], ms=4, capsize=2)
    ax.axvline(0.0, color="#666666", lw=0.8)
    ax.set_yticks(yy, s.index)
    ax.set_xlabel("posterior mean ± SD (units of y per unit of the regressor)")
    return ax


def plot_model_size(model_size: pd.DataFrame, ax: Any = None) -> Any:
    """Prior and posterior distributions of the model size k."""
    if ax is None:
        _, ax = new_figure()
    k = model_size.index.to_numpy()
    ax.plot(k, model_size["prior"], "o--", color=PALETTE[7], label="prior", ms=3)
    ax.plot(k, model_size["posterior"], "o-", color=PALETTE[0], label="posterior", ms=4)
    ax.set_xlabel("model size k (regressors included)")
    ax.set_ylabel("probability")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # k is a count: no 2.5 ticks
    ax.legend()
    return ax


def plot_model_space(model: BMA, n: int = 100, ax: Any = None) -> Any:
    """BMS's ``image()``: the ``n`` best models as columns of width PMP (cumulative on x),
    regressors as rows ordered by PIP; a cell is blue when the coefficient's conditional posterior
    mean in that model is positive, orange when negative, white when excluded."""
    top = model.top_models(n)
    summ = model.summary()
    names = list(summ.index)
    signs = model.top_model_signs(n)
    if ax is None:
        _, ax = new_figure(figsize=(7.5, 0.3 * len(names) + 1.2))
    x0 = 0.0
    for i, (_, row) in enumerate(top.iterrows()):
        w = float(row["pmp"])
        for r, nm in enumerate(names):
            if row[nm]:
                col = PALETTE[0] if signs.iloc[i][nm] > 0 else PALETTE[1]
                ax.add_patch(_rect(x0, len(names) - 1 - r, w, col))
        x0 += w
    ax.set_xlim(0, max(x0, 1e-9))
    ax.set_ylim(-0.5, len(names) - 0.5)
    ax.set_yticks(np.arange(len(names))[::-1], names)
    ax.set_xlabel(f"cumulative posterior model probability of the {len(top)} best models")
    ax.grid(False)
    return ax


def _rect(x: float, y: float, w: float, color: str) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x, y - 0.5), w, 1.0, facecolor=color, edgecolor="white", lw=0.3)
