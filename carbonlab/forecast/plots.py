"""Chapter 4's figures."""


from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.forecast.inverse import AdjustmentResult
from carbonlab.forecast.rule import CLASS_COLORS, KEY_DRIVERS, PeakResult
from carbonlab.plotting import PALETTE, legend_outside, new_figure, palette, year_axis
from carbonlab.regions import resolve_region


def plot_region(band: pd.DataFrame, region: str, *, paths: pd.DataFrame | None = None,
                drivers: Sequence[str] = KEY_DRIVERS, peak: PeakResult | None = None,
                axes: Any = None) -> Any:
    """History, point forecast, ensemble band and peak of one region (Mt CO2); with
    ``paths``, the standardised driver paths in a second panel.

    ``band``: :func:`~carbonlab.forecast.ensemble.forecast_band`'s table (``lo_mt, hi_mt,
    point_mt``), or a forecast (``region, year, projected, emissions_mt``, e.g.
    :func:`~carbonlab.forecast.paths.forecast`'s) drawn without a band.
    ``axes``: one Axes, or two with ``paths``; new ones when None. Returns the array of Axes.
    """
    region = resolve_region(region)
    b = band[band["region"] == region].sort_values("year")
    if "point_mt" not in b.columns:
        b = b.assign(point_mt=b["emissions_mt"], lo_mt=np.nan, hi_mt=np.nan)
    ncols = 2 if paths is not None else 1
    if axes is None:
        _, axes = new_figure(1, ncols, figsize=(11 if ncols == 2 else 7, 4.2), squeeze=False)
    axes = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
    if len(axes) != ncols:
        raise ParameterError(f"axes: plot_region needs {ncols} Axes "
                             f"({'with' if paths is not None else 'without'} paths), got {len(axes)}")
    ax = axes[0]
    h, f = b[~b["projected"]], b[b["projected"]]
    ax.plot(h["year"], h["point_mt"], color=PALETTE[7], label="history")
    if f["lo_mt"].notna().any():
        ax.fill_between(f["year"], f["lo_mt"], f["hi_mt"], color=PALETTE[0], alpha=0.25,
                        label="members 5–95 %")
    ax.plot(np.r_[h["year"].iloc[-1:], f["year"]], np.r_[h["point_mt"].iloc[-1:], f["point_mt"]],
            color=PALETTE[0], label="forecast")
    if peak is not None:
        ax.plot([peak.peak_year], [peak.peak_value], "o", color=PALETTE[1],
                label=f"peak {peak.peak_year}" + ("" if peak.peaked else " (not peaked)"))
    ax.set(title=region, xlabel="year", ylabel="emissions (Mt CO2)")
    ax.legend()
    if paths is not None:
        ax2 = axes[1]
        p = paths[paths["region"] == region].sort_values("year")
        for i, d in enumerate(drivers):
            v = p[d].to_numpy(dtype=float)
            z = (v - v[~p["projected"].to_numpy()].mean()) / (v[~p["projected"].to_numpy()].std() or 1)
            ax2.plot(p["year"], z, color=PALETTE[i % len(PALETTE)], label=d)
        ax2.axvline(p.loc[~p["projected"], "year"].max(), color="k", lw=0.8, ls=":")
        ax2.set(title="scenario inputs (standardised on history)", xlabel="year", ylabel="z-score")
        ax2.legend(ncols=2)
    return axes


def plot_classes(table: pd.DataFrame, probs: pd.DataFrame | None = None, ax: Any = None) -> Any:
    """Peak year per region, coloured by class; P(peak ≤ 2030) as text when ``probs`` is given.
    Returns the Axes."""
    t = table.sort_values(["peak_year", "region"]).reset_index(drop=True)
    colors = CLASS_COLORS
    if ax is None:
        _, ax = new_figure(figsize=(7, 7.5))
    y = np.arange(len(t))
    ax.barh(y, t["peak_year"] - t["peak_year"].min() + 1, left=t["peak_year"].min() - 1,
            color=[colors[c] for c in t["class"]])
    ax.set_yticks(y, t["region"])
    if probs is not None:
        pmap = probs.set_index("region")["p_by_2030"]
        for i, r in enumerate(t["region"]):
            ax.text(t["peak_year"].iloc[i] + 0.3, i, f"{pmap.get(r, np.nan):.2f}",
                    va="center", fontsize=9)
        ax.set_xlim(right=t["peak_year"].max() + 3.0)  # room for the labels inside the axes
        ax.text(1.0, 1.0, "labels: P(peak ≤ 2030)", transform=ax.transAxes, ha="right",
                va="bottom", fontsize=9)
    for c, col in colors.items():
        ax.barh([np.nan], [np.nan], color=col, label=c)
    ax.set(xlabel="peak year (not peaked: last year)", title="peak year and class per region")
    year_axis(ax)
    ax.legend(loc="lower right")
    return ax


def plot_growth(growth: pd.DataFrame, ax: Any = None) -> Any:
    """Annual growth (%) of the laggards, one line per region (Table 9 as a figure); the Axes."""
    if ax is None:
        _, ax = new_figure()
    for colour, (r, row) in zip(palette(len(growth)), growth.iterrows(), strict=True):
        ax.plot(growth.columns, row.to_numpy(), marker="o", color=colour, label=r)
    ax.axhline(0, color="k", lw=0.8)
    ax.set(xlabel="year", ylabel="growth (%)", title="laggards: emissions growth")
    year_axis(ax, step=1)
    legend_outside(ax)  # one line per laggard: the legend beside the axes, off the data
    return ax


def plot_national(nat: pd.DataFrame, peak: PeakResult, band: pd.DataFrame | None = None,
                  ax: Any = None) -> Any:
    """The national (30-province) curve with its peak (Mt CO2); optional band columns
    lo_mt/hi_mt. Returns the Axes."""
    if ax is None:
        _, ax = new_figure()
    ax.plot(nat["year"], nat["emissions_mt"], color=PALETTE[0], label="sum of 30 provinces")
    if band is not None:
        ax.fill_between(band["year"], band["lo_mt"], band["hi_mt"], color=PALETTE[0], alpha=0.2,
                        label="members 5–95 %")
    ax.plot([peak.peak_year], [peak.peak_value], "o", color=PALETTE[1],
            label=f"peak {peak.peak_year}" + ("" if peak.peaked else " (not peaked)"))
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)", title="national emissions")
    ax.legend()
    return ax


def plot_adjustment(res: AdjustmentResult, ax: Any = None) -> Any:
    """Baseline vs adjusted emissions (Mt CO2) for the inverse problem's region, the adjusted
    path's maximum by the book's peak rule marked; the Axes."""
    if ax is None:
        _, ax = new_figure()
    ax.plot(res.base["year"], res.base["emissions_mt"], color=PALETTE[1], label="scenario")
    label = "adjusted" + ("" if res.feasible else " (best found, does not peak)")
    label += "" if res.converged else " (optimiser did not converge)"
    ax.plot(res.adjusted["year"], res.adjusted["emissions_mt"], color=PALETTE[2], ls="--",
            label=label)
    pk = res.peak
    if pk is not None and pk.peaked:
        ax.plot([pk.peak_year], [pk.peak_value], "o", color=PALETTE[2],
                label=f"adjusted maximum ({pk.peak_year})")
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)", title=f"{res.region}: what it takes to peak by {res.year}")
    year_axis(ax)
    legend_outside(ax)
    return ax


def plot_as_of(then: Any, panel: pd.DataFrame, ax: Any = None) -> Any:
    """The 30-province sum observed (``panel``, Mt CO2) against an outlook made with the data
    to an earlier year (``then``, :func:`~carbonlab.forecast.outlook.outlook` with ``as_of``):
    its point forecast and the 5–95 % band of its members. Returns the Axes."""
    if ax is None:
        _, ax = new_figure(figsize=(7, 3.5))
    year = int(then.as_of if then.as_of is not None else then.panel["year"].max())
    obs = panel.groupby("year")["emissions_mt"].sum()
    ax.plot(obs.index, obs.to_numpy(), color="k", label="observed")
    ax.plot(then.national["year"], then.national["emissions_mt"], "--", color=PALETTE[0],
            label=f"outlook as of {year}")
    band = then.national_band[then.national_band["year"] > year]
    ax.fill_between(band["year"], band["lo_mt"], band["hi_mt"], color=PALETTE[0], alpha=0.2,
                    label="its members 5–95 %")
    ax.set(xlabel="year", ylabel="30-province CO2 (Mt)")
    year_axis(ax)
    legend_outside(ax)
    return ax
