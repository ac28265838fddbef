"""Honest uncertainty: ensembles whose spread is the backtest's own errors, and words for odds.

A deterministic point forecast ``ê_rt`` (the model fitted on all the data, on the scenario's
driver paths) becomes an ensemble by multiplying it with error paths the same forecaster
actually made on unseen years (the unconditional rolling-origin backtest,
:func:`carbonlab.forecast.skill.skill_backtest`): member ``b`` of region r is

    e^(b)_rt = ê_rt · exp(ε^(b)_{h}),   h = t − T,

where ``ε^(b)`` is one whole error path ``ln(observed / forecast)`` for horizons 1, 2, …
drawn from the backtest (so errors keep their drift and their correlation across years),
continued past the horizons it was observed at by a draw from a Gaussian error process
(noise, random walk and a persistent growth-rate error) fitted by moments to the backtest's
own paths and conditioned on the observed part. Bands are member quantiles (a conformal,
split-in-time calibration); P(peak) is the share of members whose path has peaked by the
book's rule. :func:`calibration_check` verifies it leakage-free: at each origin only errors
already observable by that year calibrate the bands scored on the following years.

:func:`likelihood` turns a probability into the IPCC's calibrated language
(Mastrandrea et al. 2010): *virtually certain* ≥ 0.99, *very likely* ≥ 0.90, *likely*
≥ 0.66, *about as likely as not* ≥ 0.33, *unlikely* ≥ 0.10, *very unlikely* ≥ 0.01, else
*exceptionally unlikely*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.forecast.ensemble import peak_probabilities
from carbonlab.forecast.rule import CLASS_2025, CLASS_2030, CLASS_BEFORE, CLASS_NOT, find_peak

__all__ = ["LIKELIHOOD", "ErrorModel", "calibration_check", "calibration_summary", "likelihood",
           "ensemble_models", "pooled_members",
           "class_from_probabilities",
           "class_contradicts"]

LIKELIHOOD: tuple[tuple[float, str], ...] = (
    (0.99, "virtually certain"), (0.90, "very likely"), (0.66, "likely"),
    (0.33, "about as likely as not"), (0.10, "unlikely"), (0.01, "very unlikely"),
    (0.0, "exceptionally unlikely"))
"""The IPCC likelihood scale (AR5 guidance note, Mastrandrea et al. 2010): lower bound, term."""


def likelihood(p: float) -> str:
    """The IPCC term for probability ``p`` (0–1), e.g. 0.7 → "likely"."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ParameterError(f"p: a probability lies in [0, 1], got {p}")
    return next(term for lo, term in LIKELIHOOD if p >= lo)


def class_from_probabilities(p_before: float, p_by_2025: float, p_by_2030: float) -> str:
    """The class of the median member: the first class whose cumulative probability reaches
    0.5 (peaked before 2020, by 2025, by 2030), else *not by 2030*. By construction the stated
    class never contradicts its probability (:func:`class_contradicts`)."""
    if p_before >= 0.5:
        return CLASS_BEFORE
    if p_by_2025 >= 0.5:
        return CLASS_2025
    return CLASS_2030 if p_by_2030 >= 0.5 else CLASS_NOT


def class_contradicts(cls: str, p_by_2025: float, p_by_2030: float) -> bool:
    """True when a stated class disagrees with its probabilities: *by 2025* with
    P(≤ 2025) < 0.5, *by 2030* with P(≤ 2030) < 0.5 or P(≤ 2025) > 0.5, *not by 2030* with
    P(≤ 2030) > 0.5."""
    if cls == CLASS_2025:
        return p_by_2025 < 0.5
    if cls == CLASS_2030:
        return p_by_2030 < 0.5 or p_by_2025 > 0.5
    if cls == CLASS_NOT:
        return p_by_2030 > 0.5
    return False


def _moments(paths: np.ndarray) -> tuple[float, tuple[float, float, float]]:
    """Drift and ``(noise, walk, slope)`` variances of :class:`ErrorModel` fitted by moments."""
    from scipy.optimize import nnls

    h = np.arange(1, paths.shape[1] + 1, dtype=float)
    n = np.isfinite(paths).sum(axis=0)
    ok = n >= 3
    if not ok.any():  # too few paths to see how errors grow: the drift and one noise level
        fin = np.isfinite(paths)
        drift = float(np.sum(paths[fin] * np.broadcast_to(h, paths.shape)[fin])
                      / np.sum(np.broadcast_to(h, paths.shape)[fin] ** 2))
        return drift, (float(np.var(paths[fin])), 0.0, 0.0)
    w = np.sqrt(n[ok])
    mu = np.nanmean(paths[:, ok], axis=0)
    var = np.nanvar(paths[:, ok], axis=0, ddof=1)
    drift = float(np.sum(w * mu * h[ok]) / np.sum(w * h[ok] ** 2))
    design = np.column_stack([np.ones(ok.sum()), h[ok], h[ok] ** 2])
    coef, _ = nnls(design * w[:, None], var * w)
    return drift, (float(coef[0]), float(coef[1]), float(coef[2]))


@dataclass
class ErrorModel:
    """Error paths ``ln(observed / forecast)`` by horizon from a backtest, and a sampler.

    ``paths``: array (n_paths, H) with NaN where a path's horizon was not observed (a path
    observed to horizon k has horizons 1…k). ``drift`` (ln units per year of horizon) and
    ``variances`` ``(noise, walk, slope)`` describe the errors as a Gaussian process,

        ε_h = drift·h + η_h + Σ_{j≤h} u_j + h·δ,   η ~ (0, noise), u ~ (0, walk), δ ~ (0, slope),

    whose covariance is ``noise·[i=j] + walk·min(i, j) + slope·i·j``: a year's own noise, a
    random walk and a persistent error in the growth rate. They are fitted by moments to the
    paths (least squares of the variance at each horizon with ≥ 3 paths on 1, h, h², with
    non-negative coefficients, weighted by √paths) and used only to continue a path past the
    horizons it was observed at.
    """

    paths: np.ndarray
    drift: float = 0.0
    variances: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @classmethod
    def from_backtest(cls, pred: pd.DataFrame) -> ErrorModel:
        """From ``origin, region, h, emissions_mt, pred_mt`` rows of one model and mode."""
        if pred.empty:
            raise ParameterError("backtest: no forecast errors to calibrate on")
        e = np.log(pred["emissions_mt"].to_numpy(float) / pred["pred_mt"].to_numpy(float))
        d = pred.assign(err=e).pivot_table(index=["origin", "region"], columns="h", values="err")
        H = int(d.columns.max())
        paths = d.reindex(columns=range(1, H + 1)).to_numpy(dtype=float)
        drift, variances = _moments(paths)
        return cls(paths, drift, variances)

    @property
    def horizon(self) -> int:
        """Longest horizon observed."""
        return self.paths.shape[1]

    def covariance(self, horizon: int) -> np.ndarray:
        """Covariance (horizon × horizon, ln units²) of the error process at horizons 1…horizon."""
        noise, walk, slope = self.variances
        h = np.arange(1, horizon + 1, dtype=float)
        return noise * np.eye(horizon) + walk * np.minimum.outer(h, h) + slope * np.outer(h, h)

    def sample(self, n: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` error paths of length ``horizon`` (array n × horizon): an observed path,
        continued where it stops by a draw from the error process conditional on the
        horizons observed (for a pure slope error the continuation is the path's own straight
        line ε_k·h/k; for a pure random walk, ε_k plus the drift and fresh steps)."""
        rows = self.paths[rng.integers(0, len(self.paths), size=n)]
        out = np.full((n, horizon), np.nan)
        k = min(horizon, self.horizon)
        out[:, :k] = rows[:, :k]
        first = np.isnan(out[:, 0])
        if first.any():  # a path without h = 1 (never from a backtest): start at a random h1
            h1 = self.paths[:, 0][np.isfinite(self.paths[:, 0])]
            out[first, 0] = rng.choice(h1, size=int(first.sum()))
        observed = np.isfinite(out).sum(axis=1)
        S = self.covariance(horizon)
        mean = self.drift * np.arange(1, horizon + 1)
        for kk in np.unique(observed[observed < horizon]):
            i = np.flatnonzero(observed == kk)
            o, u = slice(0, kk), slice(kk, horizon)
            gain = S[u, o] @ np.linalg.pinv(S[o, o])
            cond = S[u, u] - gain @ S[o, u]
            w, v = np.linalg.eigh((cond + cond.T) / 2)
            root = v * np.sqrt(np.clip(w, 0.0, None))
            z = rng.standard_normal((len(i), horizon - kk))
            out[i, kk:] = mean[u] + (out[i, :kk] - mean[o]) @ gain.T + z @ root.T
        return out

    def members(self, point: pd.DataFrame, n: int, random_state: int = 0) -> pd.DataFrame:
        """Ensemble members around a point forecast (tidy ``region, year, projected,
        emissions_mt``; history rows are copied unchanged): ``member, region, year,
        projected, emissions_mt``; each region draws its own paths."""
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ParameterError(f"n_members: expected a positive integer, got {n!r}")
        rng = np.random.default_rng(random_state)
        out = []
        for r, g in point.sort_values("year").groupby("region", sort=True):
            hist, fut = g[~g["projected"]], g[g["projected"]]
            eps = self.sample(int(n), len(fut), rng)
            vals = fut["emissions_mt"].to_numpy(float)[None, :] * np.exp(eps)
            years = np.r_[hist["year"].to_numpy(int), fut["year"].to_numpy(int)]
            proj = np.r_[np.zeros(len(hist), bool), np.ones(len(fut), bool)]
            hv = np.broadcast_to(hist["emissions_mt"].to_numpy(float), (int(n), len(hist)))
            allv = np.hstack([hv, vals])
            out.append(pd.DataFrame({
                "member": np.repeat(np.arange(int(n)), len(years)), "region": r,
                "year": np.tile(years, int(n)), "projected": np.tile(proj, int(n)),
                "emissions_mt": allv.ravel()}))
        return pd.concat(out, ignore_index=True)


def ensemble_models(forecaster: str) -> tuple[str, ...]:
    """The forecasters whose members are pooled: the chosen one and the two naive references
    (persistence, drift), each once. Pooling hedges the backtest's choice of forecaster, which
    is itself uncertain: multi-model ensembles are better calibrated than any one member model
    (Hagedorn, Doblas-Reyes and Palmer 2005)."""
    from carbonlab.models import NAIVE

    return tuple(dict.fromkeys([str(forecaster), *NAIVE]))


def pooled_members(points: Mapping[str, pd.DataFrame], errors: pd.DataFrame, n: int,
                   random_state: int = 0) -> pd.DataFrame:
    """Members pooled over forecasters: ``n`` split evenly over ``points`` (model name → tidy
    ``region, year, projected, emissions_mt`` point forecast; the remainder goes to the first
    models), each model's members its own point times its own backtest error paths
    (:class:`ErrorModel` from the rows of ``errors`` with that ``model``). Returns ``member,
    model, region, year, projected, emissions_mt`` with members numbered 0…n−1."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < len(points):
        raise ParameterError(f"n_members: expected an integer >= {len(points)} (one member per "
                             f"pooled model at least), got {n!r}")
    out, first = [], 0
    for j, (name, point) in enumerate(points.items()):
        k = int(n) // len(points) + (1 if j < int(n) % len(points) else 0)
        errs = errors[errors["model"] == name]
        if errs.empty:
            raise ParameterError(f"errors: no backtest rows for model {name!r}")
        m = ErrorModel.from_backtest(errs).members(point, k, random_state + 7919 * j)
        out.append(m.assign(member=m["member"] + first, model=name))
        first += k
    cols = ["member", "model", "region", "year", "projected", "emissions_mt"]
    return pd.concat(out, ignore_index=True)[cols]


def calibration_check(panel: pd.DataFrame, pred: pd.DataFrame, *,
                      models: Sequence[str] | None = None, n_members: int = 200,
                      q: tuple[float, float] = (0.05, 0.95), min_origins: int = 3,
                      random_state: int = 0) -> pd.DataFrame:
    """Leakage-free check of bands and peak calls on a backtest in one mode.

    ``models``: the pooled forecasters (:func:`ensemble_models`), the first being the
    forecaster; default: the one model of ``pred`` (rows of other models are ignored). For
    each origin T with at least ``min_origins`` earlier origins, the errors observable by T
    (origin T' < T, year ≤ T) calibrate each model's :class:`ErrorModel`; members around the
    forecasts made at T give P(peaked by the last scored year E_T) (all pooled members) and
    the ``q`` band (the forecaster's members: the band of its point forecast), scored against
    the observed years T+1…E_T and the observed series' peak by E_T. Returns one row per
    origin and region: ``origin, region, covered_pct, n_years, p_peaked, true_peaked, brier``.
    """
    obs = panel.sort_values("year")
    obs.attrs = {}  # attrs holding tables break pandas' concat
    pred = pred if "model" in pred.columns else pred.assign(model="model")
    names = list(dict.fromkeys(pred["model"])) if models is None else list(models)
    if models is None and len(names) != 1:
        raise ParameterError(f"models: pred holds {len(names)} models ({', '.join(names)}); "
                             "name the pooled ones, the forecaster first")
    pred = pred[pred["model"].isin(names)]
    rows = []
    origins = sorted(int(T) for T in pred["origin"].unique())
    for i, T in enumerate(origins):
        if i < min_origins:
            continue
        cal = pred[(pred["origin"] < T) & (pred["year"] <= T)]
        at = pred[pred["origin"] == T]
        E = int(at["year"].max())
        hist = obs[obs["year"] <= T][["region", "year", "emissions_mt"]].assign(projected=False)
        points = {}
        for name in names:
            fut = at.loc[at["model"] == name, ["region", "year", "pred_mt"]]
            fut = fut.rename(columns={"pred_mt": "emissions_mt"}).assign(projected=True)
            points[name] = pd.concat([hist, fut], ignore_index=True)
        mem = pooled_members(points, cal, n_members, random_state + T)
        fm = mem[mem["projected"] & (mem["model"] == names[0])]
        qs = fm.groupby(["region", "year"])["emissions_mt"].quantile(list(q)).unstack()
        act = at.drop_duplicates(["region", "year"]).set_index(["region", "year"])[
            "emissions_mt"].reindex(qs.index)
        inside = (act >= qs[q[0]]) & (act <= qs[q[1]])
        p = peak_probabilities(mem).set_index("region")["p_peaked"]
        for r, g in obs[obs["year"] <= E].groupby("region", sort=True):
            truth = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy()).peaked
            cov = inside.xs(r, level="region")
            rows.append({"origin": T, "region": r, "covered_pct": 100 * float(cov.mean()),
                         "n_years": len(cov), "p_peaked": float(p[r]),
                         "true_peaked": bool(truth), "brier": (float(p[r]) - truth) ** 2})
    if not rows:
        raise ParameterError(f"backtest: needs more than {min_origins} origins to check")
    out = pd.DataFrame(rows)
    out.attrs["units"] = {"covered_pct": "%", "brier": "probability²"}
    out.attrs["models"] = names
    return out


def calibration_summary(check: pd.DataFrame) -> dict[str, float]:
    """Coverage (% of observed years inside the band, weighted by years), Brier score, the
    base rate's Brier score (always forecasting the observed share of peaked regions) and
    their ratio."""
    cov = float(np.average(check["covered_pct"], weights=check["n_years"]))
    brier = float(check["brier"].mean())
    rate = float(check["true_peaked"].mean())
    base = float(np.mean((rate - check["true_peaked"].astype(float)) ** 2))
    return {"coverage_pct": cov, "brier": brier, "base_rate": rate, "brier_base": base,
            "brier_ratio": brier / base if base > 0 else float("nan"),
            "n_calls": int(len(check)), "n_origins": int(check["origin"].nunique())}
