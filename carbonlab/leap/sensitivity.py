"""Sobol and Monte Carlo sensitivity of a city's policy result to the diffusion parameters.

Inputs vary uniformly: the diffusion speed r in ``r_bounds`` and each study lever's yearly
rate (and its cap K, where the city file gives one) within +-``spread`` (relative) of the
city file's values (K capped at 1). :func:`sobol_sentence` gives the rates' combined share. Outputs: the
emission reduction against the baseline in ``year`` (%) and the policy peak year, found
with the book's one peak rule :func:`carbonlab.peaks.find_peak` on inventory + policy path.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.leap.city import CityModel
from carbonlab.leap.pipeline import scenario_peak
from carbonlab.peaks import PEAK_TOL

__all__ = ["STUDY_LEVERS", "monte_carlo", "policy_outputs", "sobol_sensitivity", "sobol_sentence"]

STUDY_LEVERS: tuple[str, ...] = ("ev_sales_share", "shared_share", "traffic_brain",
                                 "industrial_pv", "energy_saving")


def _problem(model: CityModel, levers: Sequence[str], spread: float,
             r_bounds: tuple[float, float]) -> dict[str, Any]:
    names, bounds = ["r"], [list(r_bounds)]
    for lv in levers:
        row = model.levers[lv]
        names.append(f"rate:{lv}")
        bounds.append([row["rate"] * (1 - spread), row["rate"] * (1 + spread)])
        if row["K"] is not None:  # a cap only where the city file cites one
            names.append(f"K:{lv}")
            bounds.append([row["K"] * (1 - spread), min(row["K"] * (1 + spread), 1.0)])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _apply(model: CityModel, names: Sequence[str], x: np.ndarray) -> CityModel:
    K, rate, r = {}, {}, None
    for n, v in zip(names, x, strict=True):
        if n == "r":
            r = float(v)
        else:
            kind, lever = n.split(":", 1)
            (K if kind == "K" else rate)[lever] = float(v)
    return model.with_policy(r=r, K=K, rate=rate)


def policy_outputs(model: CityModel, history: pd.Series, year: int, baseline: np.ndarray,
                   tol: float = PEAK_TOL) -> tuple[float, float]:
    """(reduction in ``year`` against ``baseline``, %; policy peak year) of a model."""
    pol = model.total_emissions("policy")
    yrs = model.years()
    i = int(np.searchsorted(yrs, year))
    res = scenario_peak(history, pol, yrs, tol=tol)
    return float(100 * (1 - pol[i] / baseline[i])), float(res.peak_year)


def _check(model: CityModel, year: int | None) -> int:
    year = model.end_year if year is None else int(year)
    if year not in set(model.years().tolist()):
        raise ParameterError(f"year {year} is outside {model.base_year}-{model.end_year}")
    return year


def sobol_sensitivity(
    model: CityModel, history: pd.Series, n: int = 64, year: int | None = None,
    spread: float = 0.5, r_bounds: tuple[float, float] = (0.1, 0.4),
    levers: Sequence[str] = STUDY_LEVERS, tol: float = PEAK_TOL, random_state: int = 0,
) -> pd.DataFrame:
    """First-order and total Sobol indices (SALib, Saltelli sampling) of the policy outputs.

    ``n`` is the Saltelli base sample (a power of 2). Returns ``output, parameter, S1,
    S1_conf, ST, ST_conf`` with ``attrs["n_runs"]``.
    """
    from SALib.analyze import sobol as sobol_an
    from SALib.sample import sobol as sobol_sa

    if n < 2 or n & (n - 1):
        raise ParameterError(f"n must be a power of 2 >= 2, got {n}")
    if not 0 <= spread < 1:
        raise ParameterError(f"spread must be in [0, 1), got {spread}")
    year = _check(model, year)
    prob = _problem(model, levers, spread, r_bounds)
    x = sobol_sa.sample(prob, n, calc_second_order=False, seed=random_state)
    base = model.total_emissions("baseline")
    y = np.array([policy_outputs(_apply(model, prob["names"], xi), history, year, base, tol)
                  for xi in x])
    rows = []
    for j, out in enumerate([f"reduction_{year}_pct", "policy_peak_year"]):
        yj = y[:, j]
        if np.ptp(yj) == 0:
            si = {k: np.zeros(prob["num_vars"]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():  # constant sub-samples (a peak year that never moves)
                warnings.simplefilter("ignore", UserWarning)
                si = sobol_an.analyze(prob, yj, calc_second_order=False, seed=random_state)
        for i, name in enumerate(prob["names"]):
            rows.append({"output": out, "parameter": name, "S1": float(si["S1"][i]),
                         "S1_conf": float(si["S1_conf"][i]), "ST": float(si["ST"][i]),
                         "ST_conf": float(si["ST_conf"][i])})
    df = pd.DataFrame(rows)
    df.attrs["n_runs"] = len(x)
    return df


def monte_carlo(
    model: CityModel, history: pd.Series, n: int = 200, year: int | None = None,
    spread: float = 0.5, r_bounds: tuple[float, float] = (0.1, 0.4),
    levers: Sequence[str] = STUDY_LEVERS, tol: float = PEAK_TOL, random_state: int = 0,
) -> pd.DataFrame:
    """Monte Carlo draws (uniform, as :func:`sobol_sensitivity`) of the policy outputs.

    One row per draw: the parameters, ``reduction_<year>_pct`` and ``policy_peak_year``.
    """
    if n < 1:
        raise ParameterError(f"n must be >= 1, got {n}")
    year = _check(model, year)
    prob = _problem(model, levers, spread, r_bounds)
    rng = np.random.default_rng(random_state)
    lo = np.array([b[0] for b in prob["bounds"]])
    hi = np.array([b[1] for b in prob["bounds"]])
    x = lo + (hi - lo) * rng.random((n, prob["num_vars"]))
    base = model.total_emissions("baseline")
    y = np.array([policy_outputs(_apply(model, prob["names"], xi), history, year, base, tol)
                  for xi in x])
    df = pd.DataFrame(x, columns=prob["names"])
    df[f"reduction_{year}_pct"] = y[:, 0]
    df["policy_peak_year"] = y[:, 1].astype(int)
    return df


def sobol_sentence(si: pd.DataFrame, year: int) -> str:
    """The Sobol table of the ``year`` reduction in words: the rates' combined share first.

    The share of an input group is the sum of its first-order indices S1 (the variance it
    explains alone); the rest of the variance is interactions.
    """
    red = si[si["output"] == f"reduction_{year}_pct"]
    if red.empty:
        raise ParameterError(f"year: the Sobol table has no reduction_{year}_pct output")
    s1 = red.set_index("parameter")["S1"].clip(lower=0.0)
    rates = float(s1[[p for p in s1.index if p.startswith("rate:")]].sum())
    caps = [p for p in s1.index if p.startswith("K:")]
    r = float(s1.get("r", 0.0))
    top = red.sort_values("ST", ascending=False).iloc[0]
    cap_part = (f"the caps K together {float(s1[caps].sum()):.2f}" if caps else
                "no cap enters (none is cited, so the levers run free below 1)")
    return (f"Over {si.attrs.get('n_runs', '?')} runs the study's yearly rates together explain "
            f"{rates:.2f} of the variance of the {year} reduction on their own (sum of "
            f"first-order indices), the diffusion speed r {r:.2f}; {cap_part}. The largest "
            f"total index is {top['parameter']}'s ({top['ST']:.2f}).")
