"""Point forecasts over driver paths, peak tables, growth and the national curve."""


from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data import log_emissions_per_capita
from carbonlab.forecast.rule import classify, find_peak
from carbonlab.regions import resolve_region
from carbonlab.scenarios import (
    population_path,
)


def _offsets(model: Any, panel: pd.DataFrame) -> dict[str, float]:
    """Observed minus fitted ln per-capita emissions in each region's last year."""
    if hasattr(model, "offsets"):
        return model.offsets(panel)
    last = panel.sort_values("year").groupby("region").tail(1)
    res = log_emissions_per_capita(last).to_numpy() - model.predict(last)
    return dict(zip(last["region"], res, strict=True))


def forecast(
    model: Any,
    panel: pd.DataFrame,
    paths: pd.DataFrame,
    population: pd.DataFrame | None = None,
    *,
    align: bool = True,
) -> pd.DataFrame:
    """Forecast emissions over scenario paths with a fitted model.

    Parameters
    ----------
    model : fitted regressor
        ``predict(frame)`` returning ln(t CO2/person) from ``region`` + drivers
        (e.g. :class:`PanelModel`).
    panel : DataFrame
        The history (``region, year, emissions_mt, population_10k``).
    paths : DataFrame
        From :func:`carbonlab.scenarios.driver_paths` (``projected`` marks forecast rows).
    population : DataFrame, optional
        From :func:`carbonlab.scenarios.population_path` (default: computed from ``panel``).
    align : bool
        Add each region's last-year residual (observed − fitted ln per capita) to its
        forecast so the path starts from the observed level (intercept correction).

    Returns
    -------
    DataFrame
        ``region, year, projected, ln_pc, population_10k, emissions_mt``: observed values
        for history rows, forecasts (Mt CO2) for projected rows.
    """
    horizon = int(paths["year"].max())
    if population is None:
        population = population_path(panel, horizon=horizon)
    fut = paths[paths["projected"]].copy()
    fut = fut.merge(population[["region", "year", "population_10k"]], on=["region", "year"], how="left")
    if fut["population_10k"].isna().any():
        r = fut.loc[fut["population_10k"].isna()].iloc[0]
        raise DataError(f"population: no value for {r['region']} in {r['year']}")
    ln_pc = model.predict(fut)
    if align:
        off = _offsets(model, panel)
        ln_pc = ln_pc + fut["region"].map(off).to_numpy(dtype=float)
    fut["ln_pc"] = ln_pc
    fut["emissions_mt"] = np.exp(ln_pc) * fut["population_10k"].to_numpy() * 1e4 / 1e6
    hist = panel[["region", "year", "population_10k", "emissions_mt"]].copy()
    hist.attrs = {}  # the panel's attrs may hold tables, which pandas' concat cannot compare
    hist["ln_pc"] = log_emissions_per_capita(panel).to_numpy()
    hist["projected"] = False
    hist = hist[hist["region"].isin(set(fut["region"]))]
    cols = ["region", "year", "projected", "ln_pc", "population_10k", "emissions_mt"]
    out = pd.concat([hist[cols], fut[cols]], ignore_index=True)
    out = out.sort_values(["region", "year"], ignore_index=True)
    out.attrs["units"] = {"emissions_mt": "Mt CO2", "population_10k": "10^4 persons",
                          "ln_pc": "ln(t CO2/person)"}
    return out


def peak_table(fc: pd.DataFrame, *, start: int | None = None, early: int = 2025,
               target: int = 2030) -> pd.DataFrame:
    """Peak year, peak value (Mt CO2), peaked flag, last-year growth and class per region.

    ``start`` restricts the search to years ≥ start (default: the whole series).
    """
    rows = []
    for region, g in fc.sort_values("year").groupby("region", sort=True):
        if start is not None:
            g = g[g["year"] >= start]
        p = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
        rows.append({"region": region, "peak_year": p.peak_year, "peak_mt": p.peak_value,
                     "peaked": p.peaked, "last_growth_pct": 100 * p.last_growth,
                     "class": classify(p.peak_year, p.peaked, early=early, target=target)})
    return pd.DataFrame(rows)


def growth_table(fc: pd.DataFrame, years: Iterable[int] = range(2026, 2031),
                 regions: Iterable[str] | None = None) -> pd.DataFrame:
    """Annual growth of emissions (%) per region (rows) and year (columns), as Table 9."""
    wide = fc.pivot_table(index="region", columns="year", values="emissions_mt")
    years = list(years)
    missing = [y for y in [years[0] - 1, *years] if y not in wide.columns]
    if missing:
        raise ParameterError(f"years: {missing[0]} is not in the forecast")
    g = 100 * (wide[years].to_numpy() / wide[[y - 1 for y in years]].to_numpy() - 1)
    out = pd.DataFrame(g, index=wide.index, columns=years)
    if regions is not None:
        out = out.loc[[resolve_region(r) for r in regions]]
    out.columns.name = "growth_pct"
    return out


def national_curve(fc: pd.DataFrame) -> pd.DataFrame:
    """Sum over regions per year (Mt CO2); the years every region covers."""
    n = fc.groupby("region")["year"].nunique().min()
    g = fc.groupby("year").agg(emissions_mt=("emissions_mt", "sum"), n_regions=("region", "nunique"))
    g = g[g["n_regions"] == g["n_regions"].max()].reset_index()
    if len(g) < 2 or n < 2:
        raise DataError("forecast: fewer than two years covered by every region")
    return g
