"""Results as LEAP shows them: energy balance, emissions by branch and fuel, comparisons, Sankey.

Tables take :class:`~carbonlab.leap.city.ScenarioResult` objects; figures take ``ax=None``
and return the Axes (matplotlib only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from carbonlab.leap.city import ScenarioResult
from carbonlab.plotting import PALETTE, new_figure, year_axis

__all__ = [
    "DEMAND_SECTORS",
    "balance_residual",
    "balance_table",
    "comparison_table",
    "emissions_table",
    "energy_balance",
    "plot_grid_factor",
    "plot_sankey",
    "plot_stock",
    "sankey_flows",
]

DEMAND_SECTORS: tuple[str, ...] = ("passenger", "freight", "industry", "buildings", "other")
_FLOWS = ("supply", "power_input", "power_output", "losses", *DEMAND_SECTORS)


def energy_balance(run: ScenarioResult) -> pd.DataFrame:
    """Tidy energy balance: ``fuel, flow, year, energy_tj`` (all flows positive).

    Flows: ``supply`` (fuel brought into the city; for electricity the imports, for PV and
    renewables their generation), ``power_input`` (fuel used by power plants),
    ``power_output`` (electricity generated locally), ``losses`` (grid losses) and the
    final demand of each sector. Per fuel and year
    ``supply + power_output = power_input + losses + sum(demand)``
    (:func:`balance_residual`).

    Where the run's current accounts come from data (``run.accounts``), the base year's
    fuel supply is **the data's** (the city's share of its province's use of the fuel,
    power plants included), not the model's requirement: the residual then measures how
    far the tree's fuel use is from the inventory. In the other years, and for a city file
    without data, supply is the requirement (LEAP's primary requirements). Non-energy
    flows (process CO2) are left out.
    """
    res = run.results[~run.results["fuel"].isin(["process"])]
    yrs = run.years
    rows = []
    dem = res[res["sector"] != "power"].groupby(["fuel", "sector", "year"])["energy_tj"].sum()
    fuels = sorted(set(res["fuel"]))
    pw = run.power
    n = len(yrs)
    for fuel in fuels:
        use = {s: dem.get((fuel, s), pd.Series(0.0, index=yrs)).reindex(yrs, fill_value=0.0)
               .to_numpy() if (fuel, s) in dem.index.droplevel(2) else np.zeros(n)
               for s in DEMAND_SECTORS}
        if fuel == "electricity":
            p_in = np.zeros(n)
            p_out = sum(g for k, g in pw.generation.items())
            losses = pw.losses
            supply = pw.imports
        else:
            p_in = pw.fuel_input.get(fuel, np.zeros(n)) + (
                pw.generation[fuel] if fuel in ("solar_pv", "renewables") else 0.0)
            p_out = np.zeros(n)
            losses = np.zeros(n)
            supply = p_in + sum(use.values())
            acc = run.accounts
            if acc is not None and fuel not in ("solar_pv", "renewables"):
                supply = np.where(yrs == acc["base_year"], acc["supply_tj"].get(fuel, 0.0), supply)
        for flow, v in (("supply", supply), ("power_input", p_in), ("power_output", p_out),
                        ("losses", losses), *use.items()):
            rows.append(pd.DataFrame({"fuel": fuel, "flow": flow, "year": yrs,
                                      "energy_tj": np.asarray(v, float) + np.zeros(n)}))
    out = pd.concat(rows, ignore_index=True)
    out.attrs["units"] = {"energy_tj": "TJ"}
    return out


def balance_residual(bal: pd.DataFrame) -> pd.DataFrame:
    """``supply + power_output - power_input - losses - demand`` per fuel and year (TJ)."""
    w = bal.pivot_table(index=["fuel", "year"], columns="flow", values="energy_tj", aggfunc="sum")
    w = w.reindex(columns=list(_FLOWS), fill_value=0.0)
    r = w["supply"] + w["power_output"] - w["power_input"] - w["losses"] \
        - w[list(DEMAND_SECTORS)].sum(axis=1)
    return r.rename("residual_tj").reset_index()


def balance_table(bal: pd.DataFrame, year: int, unit: str = "PJ") -> pd.DataFrame:
    """LEAP's energy balance for one year: flows as rows, fuels as columns (PJ by default).

    Inputs to power plants and losses are shown negative, as in LEAP.
    """
    d = bal[bal["year"] == year]
    t = d.pivot_table(index="flow", columns="fuel", values="energy_tj", aggfunc="sum")
    t = t.reindex(list(_FLOWS)).fillna(0.0)
    t.loc[["power_input", "losses"]] *= -1
    scale = {"PJ": 1e-3, "TJ": 1.0}[unit]
    t = t * scale
    t["total"] = t.sum(axis=1)
    t.index = [{"supply": "supply (into the city)", "power_input": "power plants: input",
                "power_output": "power plants: output", "losses": "grid losses"}.get(i, i)
               for i in t.index]
    t.index.name = f"{year}, {unit}"
    return t


def emissions_table(runs: Sequence[ScenarioResult], years: Sequence[int],
                    by: Sequence[str] = ("sector", "branch", "fuel")) -> pd.DataFrame:
    """Direct emissions (Mt CO2) by branch x fuel (rows) and scenario x year (columns).

    Power plants carry the emissions of the electricity; demand branches their own fuels.
    """
    df = pd.concat([r.results for r in runs], ignore_index=True)
    df = df[df["year"].isin(list(years))]
    t = df.pivot_table(index=list(by), columns=["scenario", "year"], values="emissions_mt",
                       aggfunc="sum").fillna(0.0)
    t = t.loc[(t.abs() > 1e-9).any(axis=1)]
    total = "total" if len(by) == 1 else ("total",) + ("",) * (len(by) - 1)
    t.loc[total, :] = t.sum(axis=0)
    return t


def comparison_table(base: ScenarioResult, policy: ScenarioResult,
                     years: Sequence[int] | None = None) -> pd.DataFrame:
    """Baseline against policy by year: emissions (Mt), difference, reduction (%), grid factors."""
    b, p = base.totals(), policy.totals()
    t = pd.DataFrame({"baseline_mt": b, "policy_mt": p, "difference_mt": p - b,
                      "reduction_pct": 100 * (1 - p / b),
                      "grid_baseline_tco2_per_mwh": base.grid_factor,
                      "grid_policy_tco2_per_mwh": policy.grid_factor})
    if years is not None:
        t = t.loc[[y for y in years if y in t.index]]
    return t


# --------------------------------------------------------------------------- figures

def _band(ax: Any, x0: float, y0: tuple[float, float], x1: float, y1: tuple[float, float],
          color: str) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path

    xm = (x0 + x1) / 2
    verts = [(x0, y0[0]), (xm, y0[0]), (xm, y1[0]), (x1, y1[0]), (x1, y1[1]), (xm, y1[1]),
             (xm, y0[1]), (x0, y0[1]), (x0, y0[0])]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4,
             Path.CURVE4, Path.CURVE4, Path.CLOSEPOLY]
    ax.add_patch(PathPatch(Path(verts, codes), fc=color, ec="none", alpha=0.55))


def sankey_flows(run: ScenarioResult, year: int) -> list[tuple[str, str, float]]:
    """(source, target, PJ) flows of one year: fuels -> power / sectors -> losses."""
    bal = energy_balance(run)
    d = bal[bal["year"] == year].set_index(["fuel", "flow"])["energy_tj"] / 1e3
    label = {"raw_coal": "coal", "coal": "coal", "oil": "oil", "natural_gas": "gas",
             "gasoline": "oil", "diesel": "oil",
             "solar_pv": "solar PV", "renewables": "renewables", "electricity": "imports"}
    flows: dict[tuple[str, str], float] = {}

    def add(a: str, b: str, v: float) -> None:
        if v > 1e-9:
            flows[(a, b)] = flows.get((a, b), 0.0) + float(v)

    for fuel in sorted({f for f, _ in d.index}):
        src = label.get(fuel, fuel)
        if fuel == "electricity":
            add("imports", "power", d.get((fuel, "supply"), 0.0))
            add("power", "exports", -d.get((fuel, "supply"), 0.0))   # a net exporter
            for s in DEMAND_SECTORS:
                add("power", s, d.get((fuel, s), 0.0))
            add("power", "grid losses", d.get((fuel, "losses"), 0.0))
            continue
        add(src, "power", d.get((fuel, "power_input"), 0.0))
        for s in DEMAND_SECTORS:
            add(src, s, d.get((fuel, s), 0.0))
    inp = sum(v for (a, b), v in flows.items() if b == "power")
    out = sum(v for (a, b), v in flows.items() if a == "power")
    add("power", "conversion losses", inp - out)
    return [(a, b, v) for (a, b), v in flows.items()]


def plot_sankey(run: ScenarioResult, year: int, ax: Any = None, scale: float | None = None) -> Any:
    """Sankey diagram (matplotlib only) of one year's energy flows, PJ.

    Columns: fuels, the power sector, final sectors and losses. ``scale`` (PJ drawn over the
    full height) lets two panels share one scale; the default fits the largest column.
    """
    from matplotlib.patches import Rectangle

    if ax is None:
        _, ax = new_figure(figsize=(7.5, 4.5))
    flows = sankey_flows(run, year)
    col0 = ["coal", "oil", "gas", "renewables", "solar PV", "imports"]
    col2 = [*DEMAND_SECTORS, "exports", "conversion losses", "grid losses"]
    order = {**{n: 0 for n in col0}, "power": 1, **{n: 2 for n in col2}}
    size = {n: max(sum(v for a, b, v in flows if a == n), sum(v for a, b, v in flows if b == n))
            for n in order}
    nodes = {n: c for n, c in order.items() if size[n] > 0}
    gap = 0.03
    cols = {c: [n for n in nodes if nodes[n] == c] for c in (0, 1, 2)}
    tot = {c: sum(size[n] for n in names) for c, names in cols.items()}
    k = min((1.0 - gap * (len(cols[c]) - 1)) / (scale or max(tot.values())) for c in cols)
    pos: dict[str, tuple[float, float]] = {}
    for c, names in cols.items():
        span = tot[c] * k + gap * (len(names) - 1)
        y = 0.5 + span / 2
        for n in names:
            pos[n] = (y - size[n] * k, y)
            y -= size[n] * k + gap
    colors = {n: PALETTE[i % len(PALETTE)] for i, n in enumerate([*col0, "power"])}
    out_top = {n: pos[n][1] for n in pos}
    in_top = {n: pos[n][1] for n in pos}
    w = 0.06
    for a, b, v in sorted(flows, key=lambda f: (nodes[f[0]], order[f[1]])):
        h = v * k
        _band(ax, nodes[a] + w / 2, (out_top[a] - h, out_top[a]), nodes[b] - w / 2,
              (in_top[b] - h, in_top[b]), colors.get(a, "#999999"))
        out_top[a] -= h
        in_top[b] -= h
    for n, (lo, hi) in pos.items():
        c = nodes[n]
        ax.add_patch(Rectangle((c - w / 2, lo), w, hi - lo, fc=colors.get(n, "#555555"), ec="none"))
        text = f"{n} {size[n]:,.0f}"
        if c == 1:
            ax.text(c, hi + 0.02, text, ha="center", va="bottom", fontsize=7.5)
        else:
            ax.text(c + (-w if c == 0 else w), (lo + hi) / 2, text, ha="right" if c == 0 else "left",
                    va="center", fontsize=7.5)
    ax.set_xlim(-0.75, 2.85)
    ax.set_ylim(min(p[0] for p in pos.values()) - 0.05, max(p[1] for p in pos.values()) + 0.1)
    ax.axis("off")
    ax.set_title(f"{run.scenario}, {year} (PJ)")
    return ax


def plot_grid_factor(runs: Mapping[str, ScenarioResult], ax: Any = None) -> Any:
    """Grid emission factor (t CO2/MWh) by year for several scenarios."""
    if ax is None:
        _, ax = new_figure()
    for i, (name, r) in enumerate(runs.items()):
        g = r.grid_factor
        ax.plot(g.index, g.to_numpy(), color=PALETTE[i % len(PALETTE)], label=name)
    ax.set_xlabel("year")
    ax.set_ylabel("grid factor (t CO2/MWh)")
    year_axis(ax)  # whole years (the default locator gave 2022.5, 2027.5, ...)
    ax.legend()
    return ax


def plot_stock(runs: Mapping[str, ScenarioResult], ax: Any = None) -> Any:
    """EV share of car sales (dashed) and of the car stock (solid) by scenario."""
    if ax is None:
        _, ax = new_figure()
    for i, (name, r) in enumerate(runs.items()):
        c = PALETTE[i % len(PALETTE)]
        ax.plot(r.years, 100 * r.levers["ev_sales_share"].to_numpy(), ls="--", color=c,
                label=f"{name}: EV share of sales")
        ax.plot(r.years, 100 * r.activity["ev_stock_share"].to_numpy(), color=c,
                label=f"{name}: EV share of stock")
    ax.set_xlabel("year")
    ax.set_ylabel("%")
    year_axis(ax)
    ax.legend()
    return ax
