"""Vehicle stock turnover: sales, a survival curve and vintages (LEAP's stock analysis).

The stock of year t is the sum over vintages (ages a = 0 ... A) of the vehicles sold a years
earlier that survive: ``stock_t = sum_a sales_{t-a} S(a)``. Each year the fleet needed
(``required`` vehicles) is met by new sales::

    surviving_t = sum_{a>=1} v_{t-1}[a-1] S(a) / S(a-1)
    sales_t     = max(required_t - surviving_t, 0),   v_t[0] = sales_t

Sales are split by technology with the **EV share of sales** (the policy lever); the stock's
EV share follows with the lag set by the survival curve. ``S`` is a Weibull survival
``exp(-(a / lam)^k)`` with ``lam`` chosen so that half the vehicles survive to
``median_life``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from carbonlab._util import ParameterError

__all__ = ["StockResult", "initial_vintages", "stock_turnover", "survival_curve"]


def survival_curve(median_life: float = 15.0, shape: float = 3.5, max_age: int = 30) -> np.ndarray:
    """Fraction of vehicles surviving to each age 0 ... max_age (S(0) = 1, S(max_age + 1) = 0).

    Weibull survival with ``S(median_life) = 0.5``; ``shape`` > 1 makes retirements cluster
    around the median life.
    """
    if not (median_life > 0 and shape > 0) or int(max_age) < 1:
        raise ParameterError(f"survival_curve: median_life, shape > 0 and max_age >= 1 needed, "
                             f"got {median_life}, {shape}, {max_age}")
    lam = median_life / np.log(2.0) ** (1.0 / shape)
    a = np.arange(int(max_age) + 1, dtype=float)
    return np.exp(-((a / lam) ** shape))


def initial_vintages(stock: float, survival: np.ndarray, sales_growth: float = 0.0) -> np.ndarray:
    """Base-year stock by age for past sales that grew at ``sales_growth`` a year.

    ``v[a] ∝ (1 + g)^(-a) S(a)``, scaled so that ``v.sum() == stock``.
    """
    s = np.asarray(survival, dtype=float)
    if not stock >= 0 or not sales_growth > -1:
        raise ParameterError(f"initial_vintages: stock >= 0 and sales_growth > -1 needed, got "
                             f"{stock}, {sales_growth}")
    w = (1.0 + sales_growth) ** (-np.arange(len(s))) * s
    return stock * w / w.sum()


@dataclass
class StockResult:
    """Fleet by year: totals and by technology (vehicles), sales and retirements."""

    years: np.ndarray
    stock: dict[str, np.ndarray]          # technology -> vehicles in stock by year
    sales: dict[str, np.ndarray]          # technology -> vehicles sold by year
    retirements: np.ndarray               # vehicles retired by year (all technologies)
    vintages: dict[str, np.ndarray]       # technology -> (year, age) vehicles

    @property
    def total(self) -> np.ndarray:
        return sum(self.stock.values())  # type: ignore[return-value]

    def share(self, tech: str) -> np.ndarray:
        """Share of ``tech`` in the stock by year (fraction)."""
        tot = self.total
        return np.divide(self.stock[tech], tot, out=np.zeros_like(tot), where=tot > 0)


def stock_turnover(
    required: Any, survival: np.ndarray, base_vintages: dict[str, np.ndarray],
    sales_share: dict[str, Any], years: Any = None,
) -> StockResult:
    """Turn the fleet over year by year (see module docstring).

    Parameters
    ----------
    required : vehicles needed by year (the first entry is the base year, whose stock is
        ``sum(base_vintages)``; later years are met by sales).
    survival : S(a) for ages 0 ... A (:func:`survival_curve`).
    base_vintages : technology -> base-year vehicles by age (length A + 1).
    sales_share : technology -> share of each year's sales (fractions summing to 1).
    years : labels of the years (default 0, 1, ...).
    """
    req = np.asarray(required, dtype=float)
    s = np.asarray(survival, dtype=float)
    techs = list(base_vintages)
    if set(sales_share) != set(techs):
        raise ParameterError(f"sales_share: technologies {sorted(sales_share)} differ from the "
                             f"base vintages' {sorted(techs)}")
    n, ages = len(req), len(s)
    shares = {k: np.broadcast_to(np.asarray(sales_share[k], float), (n,)) for k in techs}
    tot_share = sum(shares.values())
    if np.any(np.abs(tot_share - 1.0) > 1e-9):
        raise ParameterError("sales_share: technology shares must sum to 1 in every year")
    # conditional survival from age a-1 to a
    cond = np.divide(s[1:], s[:-1], out=np.zeros(ages - 1), where=s[:-1] > 0)
    vint = {k: np.zeros((n, ages)) for k in techs}
    for k in techs:
        b = np.asarray(base_vintages[k], float)
        if b.shape != (ages,):
            raise ParameterError(f"base_vintages[{k!r}]: needs {ages} ages, got {b.shape}")
        vint[k][0] = b
    sales = {k: np.zeros(n) for k in techs}
    for k in techs:  # base year: the newest vintage is that year's sales
        sales[k][0] = float(np.asarray(base_vintages[k], float)[0])
    retire = np.zeros(n)
    for t in range(1, n):
        surv = {k: vint[k][t - 1][:-1] * cond for k in techs}
        surviving = sum(float(v.sum()) for v in surv.values())
        prev = sum(float(vint[k][t - 1].sum()) for k in techs)
        retire[t] = prev - surviving
        new = max(req[t] - surviving, 0.0)
        for k in techs:
            vint[k][t, 1:] = surv[k]
            sales[k][t] = new * shares[k][t]
            vint[k][t, 0] = sales[k][t]
    yrs = np.arange(n) if years is None else np.asarray(years)
    return StockResult(years=yrs, stock={k: vint[k].sum(axis=1) for k in techs}, sales=sales,
                       retirements=retire, vintages=vint)
