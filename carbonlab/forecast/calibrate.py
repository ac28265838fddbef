"""Honest uncertainty: ensembles whose spread is the backtest's own errors, and words for odds.

A deterministic point forecast ``ê_rt`` (the model fitted on all the data, on the scenario's
driver paths) becomes an ensemble by multiplying it with error paths the same forecaster
actually made on unseen years (the unconditional rolling-origin backtest,
:func:`carbonlab.forecast.skill.skill_backtest`): member ``b`` of region r is

    e^(b)_rt = ê_rt · exp(ε^(b)_{h}),   h = t − T,

where ``ε^(b)`` is one whole error path ``ln(observed / forecast)`` for horizons 1, 2, …
drawn from the backtest (so errors keep their drift and their correlation across years),
extended past the longest observed horizon by a random walk whose steps are drawn from the
backtest's own year-to-year changes of the error. Bands are member quantiles (a conformal,
split-in-time calibration); P(peak) is the share of members whose path has peaked by the
book's rule. :func:`calibration_check` verifies it leakage-free: at each origin only errors
already observable by that year calibrate the bands scored on the following years.

:func:`likelihood` turns a probability into the IPCC's calibrated language
(Mastrandrea et al. 2010): *virtually certain* ≥ 0.99, *very likely* ≥ 0.90, *likely*
≥ 0.66, *about as likely as not* ≥ 0.33, *unlikely* ≥ 0.10, *very unlikely* ≥ 0.01, else
*exceptionally unlikely*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.forecast.ensemble import peak_probabilities
from carbonlab.forecast.rule import CLASS_2025, CLASS_2030, CLASS_BEFORE, CLASS_NOT, find_peak

__all__ = ["LIKELIHOOD", "ErrorModel", "calibration_check", "calibration_summary", "likelihood",
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


@dataclass
class ErrorModel:
    """Error paths ``ln(observed / forecast)`` by horizon from a backtest, and a sampler.

    ``paths``: array (n_paths, H) with NaN where a path's horizon was not observed;
    ``steps``: the observed year-to-year changes of the error (for horizons beyond a path).
    """

    paths: np.ndarray
    steps: np.ndarray

    @classmethod
    def from_backtest(cls, pred: pd.DataFrame) -> ErrorModel:
        """From ``origin, region, h, emissions_mt, pred_mt`` rows of one model and mode."""
        if pred.empty:
            raise ParameterError("backtest: no forecast errors to calibrate on")
        e = np.log(pred["emissions_mt"].to_numpy(float) / pred["pred_mt"].to_numpy(float))
        d = pred.assign(err=e).pivot_table(index=["origin", "region"], columns="h", values="err")
        H = int(d.columns.max())
        paths = d.reindex(columns=range(1, H + 1)).to_numpy(dtype=float)
        steps = np.diff(paths, axis=1).ravel()
        steps = steps[np.isfinite(steps)]
        return cls(paths, steps if steps.size else np.zeros(1))

    @property
    def horizon(self) -> int:
        """Longest horizon observed."""
        return self.paths.shape[1]

    def sample(self, n: int, horizon: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` error paths of length ``horizon`` (array n × horizon): an observed path,
        continued where it stops by steps drawn from :attr:`steps`."""
        rows = self.paths[rng.integers(0, len(self.paths), size=n)]
        out = np.full((n, horizon), np.nan)
        k = min(horizon, self.horizon)
        out[:, :k] = rows[:, :k]
        first = np.isnan(out[:, 0])
        if first.any():  # a path without h = 1 (never from a backtest): start at a random h1
            h1 = self.paths[:, 0][np.isfinite(self.paths[:, 0])]
            out[first, 0] = rng.choice(h1, size=int(first.sum()))
        for h in range(1, horizon):
            gap = np.isnan(out[:, h])
            if gap.any():
                out[gap, h] = out[gap, h - 1] + rng.choice(self.steps, size=int(gap.sum()))
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


def calibration_check(panel: pd.DataFrame, pred: pd.DataFrame, *, n_members: int = 200,
                      q: tuple[float, float] = (0.05, 0.95), min_origins: int = 3,
                      random_state: int = 0) -> pd.DataFrame:
    """Leakage-free check of bands and peak calls on a backtest of one model and mode.

    For each origin T with at least ``min_origins`` earlier origins, the errors observable by
    T (origin T' < T, year ≤ T) calibrate an :class:`ErrorModel`; members around the
    forecasts made at T give the ``q`` band and P(peaked by the last scored year E_T), scored
    against the observed years T+1…E_T and the observed series' peak by E_T. Returns one row
    per origin and region: ``origin, region, covered_pct, n_years, p_peaked, true_peaked,
    brier``.
    """
    obs = panel.sort_values("year")
    obs.attrs = {}  # attrs holding tables break pandas' concat
    rows = []
    origins = sorted(int(T) for T in pred["origin"].unique())
    for i, T in enumerate(origins):
        if i < min_origins:
            continue
        cal = pred[(pred["origin"] < T) & (pred["year"] <= T)]
        em = ErrorModel.from_backtest(cal)
        at = pred[pred["origin"] == T]
        E = int(at["year"].max())
        hist = obs[obs["year"] <= T][["region", "year", "emissions_mt"]].assign(projected=False)
        fut = at[["region", "year", "pred_mt"]].rename(columns={"pred_mt": "emissions_mt"})
        point = pd.concat([hist, fut.assign(projected=True)], ignore_index=True)
        mem = em.members(point, n_members, random_state + T)
        fm = mem[mem["projected"]]
        qs = fm.groupby(["region", "year"])["emissions_mt"].quantile(list(q)).unstack()
        act = at.set_index(["region", "year"])["emissions_mt"].reindex(qs.index)
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
