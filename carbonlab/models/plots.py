"""Chapter 3's figures."""


from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.plotting import PALETTE, legend_outside, new_figure, plain_log_axis


def plot_scatter_grid(predictions: pd.DataFrame, panels: Iterable[tuple[str, str]],
                      band: float = 0.15, subset: str = "test", fold_split: str | None = None,
                      axes: Any = None) -> Any:
    """2×2 predicted-vs-actual scatter (the study's Figure 1): 45° line and ±``band`` lines.

    ``predictions`` is :attr:`Comparison.predictions`; ``panels`` four (model, variant)
    pairs; x = predicted, y = actual ln(t CO2/person), on ``subset`` rows. The title of
    each panel gives the share of points outside the bands. The axes span the actual values
    of the plotted rows (plus ``band`` and a margin); a prediction beyond them (a diverged
    model) is drawn clipped at the edge as a triangle, and the title counts the clipped points.
    ``axes``: a 2×2 array of Axes (new ones when None). Returns the 2×2 array of Axes.
    """
    panels = list(panels)
    if len(panels) != 4:
        raise ParameterError(f"panels: the grid needs 4 (model, variant) pairs, got {len(panels)}")
    d = predictions[predictions["set"] == subset]
    if fold_split is not None:
        d = d[d["split"] == fold_split]
    if axes is None:
        _, axes = new_figure(2, 2, figsize=(7.5, 7.0), sharex=True, sharey=True)
    axes = np.asarray(axes, dtype=object)
    if axes.shape != (2, 2):
        raise ParameterError(f"axes: plot_scatter_grid needs a 2×2 array of Axes, got shape {axes.shape}")
    hs = []
    for model, variant in panels:
        h = d[(d["model"] == model) & (d["variant"] == variant)]
        if h.empty:
            raise ParameterError(f"panels: no {subset} predictions for {model} / {variant}")
        hs.append(h)
    yt = pd.concat([h["y_true"] for h in hs])
    pad = band + 0.05 * float(yt.max() - yt.min())
    lo, hi = float(yt.min()) - pad, float(yt.max()) + pad
    line = np.array([lo, hi])
    for ax, h, (model, variant), color in zip(axes.ravel(), hs, panels, PALETTE, strict=False):
        outside = float(np.mean(np.abs(h["y_true"] - h["y_pred"]) > band))
        clip = (h["y_pred"] < lo) | (h["y_pred"] > hi)
        ax.scatter(h["y_pred"][~clip], h["y_true"][~clip], s=12, alpha=0.7, color=color,
                   edgecolor="none")
        if clip.any():
            ax.scatter(h["y_pred"][clip].clip(lo, hi), h["y_true"][clip], s=18, marker="^",
                       color=color, edgecolor="black", lw=0.5)
        ax.plot(line, line, color="black", lw=1)
        for off in (-band, band):
            ax.plot(line, line + off, color="grey", lw=0.8, ls="--")
        note = f"; {int(clip.sum())} clipped" if clip.any() else ""
        ax.set_title(f"{model} {variant}\n{outside:.0%} outside ±{band:g}{note}")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
    for ax in axes[1]:
        ax.set_xlabel("predicted ln(t CO2/person)")
    for ax in axes[:, 0]:
        ax.set_ylabel("actual ln(t CO2/person)")
    return axes


def plot_tree_curves(curves: pd.DataFrame, fold: str | None = None, ax: Any = None) -> Any:
    """Test MSE and out-of-bag MSE against the number of trees (log x), per forest; the Axes."""
    if curves.empty:
        raise ParameterError("curves: empty (no forest was fitted)")
    fold = fold or curves["fold"].iloc[0]
    d = curves[curves["fold"] == fold]
    if ax is None:
        _, ax = new_figure(1, 1)
    for (model, g), color in zip(d.groupby("model", sort=False), PALETTE, strict=False):
        ax.plot(g["n_trees"], g["mse_test"], color=color, label=f"{model}: test")
        ax.plot(g["n_trees"], g["mse_oob"], color=color, ls="--", label=f"{model}: out-of-bag")
        k = int(g["n_trees"].to_numpy()[np.argmin(g["mse_test"].to_numpy())])
        ax.axvline(k, color=color, lw=0.8, ls=":")
    plain_log_axis(ax, "x")
    ax.set_xlabel("number of trees")
    ax.set_ylabel("MSE, (ln t CO2/person)²")
    ax.set_title(f"Tree-count curves ({fold}); dotted: best test count")
    ax.legend()
    return ax


def plot_bpnn_search(table: pd.DataFrame, ax: Any = None) -> Any:
    """Test MSE of every searched net against its parameter count, by activation; the Axes."""
    if table.empty:
        raise ParameterError("table: empty search table")
    if ax is None:
        _, ax = new_figure(1, 1)
    for (act, g), color in zip(table.groupby("activation", sort=True), PALETTE, strict=False):
        for n_layers, marker in ((1, "o"), (2, "^")):
            h = g[g["n_layers"] == n_layers]
            ax.scatter(h["n_params"], h["mse_test"], s=14, alpha=0.6, color=color, marker=marker,
                       edgecolor="none", label=f"{act}, {n_layers} layer{'s' * (n_layers > 1)}")
    plain_log_axis(ax, "y")
    ax.set_xlabel("parameters (weights + biases)")
    ax.set_ylabel("test MSE, (ln t CO2/person)²")
    ax.set_title("Every BP network inside the budget")
    legend_outside(ax, "bottom", ncols=2)  # inside the axes it covered some nets
    return ax


def plot_split_ranking(ranking: pd.DataFrame, metric: str = "mse_test", ax: Any = None) -> Any:
    """Each model's ``metric`` under two splits (log scale), one line per model, best first;
    the Axes."""
    cols = [c for c in ranking.columns if c.startswith(f"{metric}_")]
    if len(cols) != 2:
        raise ParameterError(f"ranking: needs exactly two splits, got {cols}")
    if ax is None:
        _, ax = new_figure(1, 1, figsize=(7.0, 5.0))
    labels = ranking["model"] + " " + ranking["variant"]
    ypos = np.arange(len(ranking))[::-1]
    for col, color, marker in zip(cols, PALETTE, ("o", "s"), strict=False):
        ax.scatter(ranking[col], ypos, color=color, marker=marker, zorder=3,
                   label=col.removeprefix(f"{metric}_"))
    for yv, a, b in zip(ypos, ranking[cols[0]], ranking[cols[1]], strict=True):
        ax.plot([a, b], [yv, yv], color="#999999", lw=1, zorder=2)
    ax.set_yticks(ypos, labels)
    plain_log_axis(ax, "x")
    ax.set_xlabel(f"{metric.replace('_', ' ')}, log scale")
    ax.set_title("The same models under two splits")
    ax.legend(title="split")
    return ax


def plot_truth_distance(dist: pd.DataFrame, ax: Any = None) -> Any:
    """Each variant's RMS distance from the noise-free truth (``report.truth_distance``), closest
    at the top, on a log axis, with the world's own noise as a dashed line; the Axes."""
    if dist.empty:
        raise ParameterError("dist: empty truth-distance table")
    if ax is None:
        _, ax = new_figure(1, 1, figsize=(7.0, 0.3 * len(dist) + 1.6))
    ypos = np.arange(len(dist))[::-1]
    rms = 100 * np.sqrt(dist["mse_truth"].to_numpy(dtype=float))
    ax.barh(ypos, rms, color=PALETTE[0])
    ax.set_yticks(ypos, dist["model"] + " " + dist["variant"])
    noise = dist.attrs.get("noise_mse")
    if noise:
        ax.axvline(100 * np.sqrt(noise), color="black", ls="--", lw=1,
                   label="the world's noise (RMS)")
        ax.legend(loc="lower right")
    ax.set_xscale("log")
    plain_log_axis(ax, "x")
    ax.set_xlabel("RMS distance of the test predictions from the truth (% per person)")
    ax.set_title("How close each model comes to the teaching world's truth")
    return ax
