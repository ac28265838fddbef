"""Chapter 5's figures and the LMDI decomposition of a city run (``ax=None`` -> new Axes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.leap.engine import lmdi_factors
from carbonlab.leap.forecast import LABELS, model_scores
from carbonlab.leap.pipeline import CityRun
from carbonlab.plotting import PALETTE, legend_outside, new_figure, small_multiples

__all__ = ["city_lmdi", "plot_cities", "plot_forecast", "plot_levers", "plot_lmdi", "plot_model_scores",
           "plot_policy_spread",
           "plot_scenarios", "plot_sensitivity", "sobol_label"]


def city_lmdi(run: CityRun) -> pd.DataFrame:
    """Additive LMDI-I of policy - baseline emissions (electricity at each year's grid factor).

    Items are demand branch x fuel; factors ``activity`` (the branch's driver: p-km, t-km,
    value added, residents, GDP), ``intensity`` (TJ per unit of activity) and
    ``emission_factor`` (Mt per TJ; for electricity the grid factor). Rows ``branch, sector,
    factor, year, effect`` (Mt CO2); they sum exactly to the gap.
    """
    def factors(res: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
        out = {}
        d = res[res["sector"] != "power"]
        for (br, fuel), g in d.groupby(["branch", "fuel"], sort=True):
            g = g.sort_values("year")
            a = g["activity"].to_numpy(float)
            e = g["energy_tj"].to_numpy(float)
            c = g["emissions_attributed_mt"].to_numpy(float)
            inten = np.divide(e, a, out=np.zeros_like(e), where=a > 0)
            fac = np.divide(c, e, out=np.zeros_like(e), where=e > 0)
            out[f"city/{br}/{fuel}"] = {"activity": a, "intensity": inten, "emission_factor": fac}
        return out

    fa, fb = factors(run.baseline.results), factors(run.policy.results)
    df = lmdi_factors(fa, fb, run.baseline.years)
    df.attrs["units"] = {"effect": "Mt CO2"}
    return df


def plot_lmdi(dec: pd.DataFrame, year: int, ax: Any = None) -> Any:
    """Bars of the LMDI effects (Mt CO2) in one year, summed by sector and factor."""
    if ax is None:
        _, ax = new_figure()
    d = dec[dec["year"] == year]
    g = d.groupby(["sector", "factor"])["effect"].sum()
    g = g[g.abs() > 1e-3 * max(1e-12, g.abs().max())].sort_values()
    ax.barh(np.arange(len(g)), g.to_numpy(),
            color=[PALETTE[1] if v < 0 else PALETTE[0] for v in g.to_numpy()])
    ax.set_yticks(np.arange(len(g)), [f"{s}: {f.replace('_', ' ')}" for s, f in g.index])
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_xlabel(f"effect on policy - baseline in {year} (Mt CO2)")
    return ax


def plot_model_scores(ev: pd.DataFrame, ax: Any = None) -> Any:
    """Mean absolute percentage error (%) by forecast horizon, one line per model."""
    if ax is None:
        _, ax = new_figure()
    t = model_scores(ev)
    hs = [c for c in t.columns if c.startswith("h")]
    for i, (m, row) in enumerate(t.iterrows()):
        ax.plot([int(h[1:]) for h in hs], row[hs].to_numpy(float), marker="o",
                color=PALETTE[i % len(PALETTE)], ls="--" if m in ("persistence", "drift") else "-",
                label=f"{LABELS.get(m, m)} ({row['all']:.1f} %)")
    ax.set_xlabel("horizon h (years ahead)")
    ax.set_ylabel("mean absolute % error")
    ax.set_xticks([int(h[1:]) for h in hs])
    legend_outside(ax, title="model (mean over h)")
    return ax


def _peak_notes(run: CityRun) -> dict[str, str]:
    """Each scenario's peak in words: "peak 2022", "no peak", or "same peak" for a policy
    peaking in the baseline's peak year."""
    base = run.peak("baseline")
    notes = {}
    for sc in ("baseline", "policy"):
        res = run.peak(sc)
        same = sc == "policy" and base.peaked and base.peak_year == res.peak_year
        notes[sc] = "same peak" if same else f"peak {res.peak_year}" if res.peaked else "no peak"
    return notes


def plot_scenarios(run: CityRun, ax: Any = None, legend: bool = True,
                   peaks_in_legend: bool = True) -> Any:
    """Inventory (interpolated years hollow), ML forecast, baseline and policy with peaks.

    The peak years go in the legend labels (labels on the lines collided with them);
    ``peaks_in_legend=False`` leaves the labels plain (a caller shows the peaks elsewhere).
    """
    if ax is None:
        _, ax = new_figure()
    h = run.history
    ax.plot(h.index, h.to_numpy(), color="#333333", label="inventory")
    interp = [y for y in h.attrs.get("interpolated", []) if y in h.index]
    if interp:
        ax.plot(interp, h.loc[interp].to_numpy(), "o", mfc="white", color="#333333",
                label="interpolated")
    notes = _peak_notes(run)
    for i, sc in enumerate(("baseline", "policy")):
        tot = (run.baseline if sc == "baseline" else run.policy).totals()
        ax.plot(tot.index, tot.to_numpy(), color=PALETTE[i], ls="--" if sc == "baseline" else "-",
                label=f"{sc} ({notes[sc]})" if peaks_in_legend else sc)
        res = run.peak(sc)
        if res.peaked and notes[sc] != "same peak":
            ax.plot([res.peak_year], [res.peak_value], "o", color=PALETTE[i])
    pil = "never (hypothetical)" if run.pilot_year is None else run.pilot_year
    ax.set_title(f"{run.city}\npilot: {pil}; baseline: {LABELS.get(run.model, run.model)}",
                 fontsize=9)
    ax.set_xlabel("year")
    ax.set_ylabel("emissions (Mt CO2)")
    if legend:
        legend_outside(ax)
    return ax


def plot_cities(runs: Mapping[str, CityRun], ncols: int = 2, axes: Any = None) -> Any:
    """Several cities side by side, ``ncols`` panels a row (legible fonts), one legend below.

    ``axes``: one Axes per city (new ones when None). Returns the Axes, one per city.
    """
    if axes is None:
        # 3.6 in panels: two columns are about as wide as the book's other figures (7 in), so
        # the style's fonts are shown near their size and not shrunk to fit the page
        _, axes = small_multiples(len(runs), ncols=ncols, panel_size=(3.6, 2.9), sharex=False)
    axes = np.asarray(axes, dtype=object).ravel()
    if len(axes) != len(runs):
        raise ParameterError(f"axes: plot_cities needs one Axes per city ({len(runs)}), got {len(axes)}")
    fig = axes[0].figure
    for i, (ax, run) in enumerate(zip(axes, runs.values(), strict=True)):
        plot_scenarios(run, ax=ax, legend=False, peaks_in_legend=False)
        ax.set_ylabel("Mt CO2" if i % ncols == 0 else "")
        # the peaks differ by city: in each panel's title, not in the shared legend
        notes = "; ".join(f"{sc} {note}" for sc, note in _peak_notes(run).items())
        ax.set_title(f"{ax.get_title()}\n{notes}", fontsize=9)
    entries: dict[str, Any] = {}  # one legend for all panels, off the data
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    fig.legend(list(entries.values()), list(entries), loc="outside lower center",
               ncols=len(entries))
    return axes


def _lever_label(lever: str) -> str:
    """A lever key in words: 'ev_sales_share' -> 'EV sales share', 'shared_share' -> 'shared mobility'."""
    if lever == "shared_share":
        return "shared mobility"
    return " ".join({"ev": "EV", "pv": "PV"}.get(w, w) for w in lever.split("_"))


def sobol_label(parameter: str) -> str:
    """A Sobol input in words: 'K:energy_saving' -> 'cap K: energy saving', 'r' -> 'diffusion speed r'."""
    kind, _, lever = parameter.partition(":")
    if not lever:
        return "diffusion speed r" if parameter == "r" else parameter.replace("_", " ")
    return f"{'cap K' if kind == 'K' else 'rate g' if kind == 'rate' else kind}: {_lever_label(lever)}"


def plot_levers(run: CityRun, ax: Any = None) -> Any:
    """The policy's lever paths (%), study levers solid, our additions dashed."""
    from carbonlab.leap.sensitivity import STUDY_LEVERS

    if ax is None:
        _, ax = new_figure()
    lv = run.policy.levers
    for i, k in enumerate(lv.columns):
        ax.plot(lv.index, 100 * lv[k].to_numpy(), color=PALETTE[i % len(PALETTE)],
                ls="-" if k in STUDY_LEVERS else "--",
                label=_lever_label(k))
    ax.set_xlabel("year")
    ax.set_ylabel("lever (%)")
    legend_outside(ax)
    return ax


def plot_sensitivity(si: pd.DataFrame, output: str | None = None, ax: Any = None) -> Any:
    """Horizontal bars of first-order and total Sobol indices for one output."""
    if ax is None:
        _, ax = new_figure()
    output = output or str(si["output"].iloc[0])
    d = si[si["output"] == output].sort_values("ST")
    y = np.arange(len(d))
    ax.barh(y - 0.2, d["S1"], 0.4, xerr=d["S1_conf"], label="first order S1", color=PALETTE[0])
    ax.barh(y + 0.2, d["ST"], 0.4, xerr=d["ST_conf"], label="total ST", color=PALETTE[2])
    ax.set_yticks(y, [sobol_label(str(p)) for p in d["parameter"]])
    ax.set_xlabel("Sobol index")
    ax.set_title(output.replace("_pct", " (%)").replace("_", " "))
    ax.legend(loc="lower right")
    return ax


def plot_forecast(history: pd.Series, forecast: pd.Series, ax: Any = None) -> Any:
    """The record (Mt CO2; nowcast years hollow) and the baseline forecast (dashed)."""
    if ax is None:
        _, ax = new_figure()
    ax.plot(history.index, history.to_numpy(), color="#333333", label="inventory")
    now = [y for y in history.attrs.get("nowcast", []) if y in history.index]
    if now:
        ax.plot(now, history.loc[now].to_numpy(), "o", mfc="white", color="#333333",
                label="nowcast")
    model = forecast.attrs.get("model", "model")
    ax.plot(forecast.index, forecast.to_numpy(), "--", color=PALETTE[0],
            label=f"{LABELS.get(model, model)} forecast")
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)",
           title=f"{history.attrs.get('city', '')}: baseline forecast")
    legend_outside(ax)
    return ax


def plot_policy_spread(table: pd.DataFrame, ax: Any = None) -> Any:
    """Each city's policy reduction (%) against its base-year coal share (%), one dot a city
    (:func:`~carbonlab.leap.spread.policy_spread`); the study's four cities labelled."""
    from carbonlab.leap.pilots import REPRESENTATIVES

    if ax is None:
        _, ax = new_figure()
    year = int(table.attrs.get("year", 2035))
    col = f"reduction_{year}_pct"
    ax.scatter(100 * table["coal_share"], table[col], s=14, color=PALETTE[0], alpha=0.7,
               label="city")
    for _, r in table[table["city"].isin(REPRESENTATIVES)].iterrows():
        ax.annotate(r["city"], (100 * r["coal_share"], r[col]), xytext=(4, 4),
                    textcoords="offset points", fontsize=8)
    ax.set_xlabel("base-year coal share of emissions (%)")
    ax.set_ylabel(f"policy reduction in {year} (%)")
    return ax
