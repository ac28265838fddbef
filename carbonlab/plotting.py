"""carbonlab's figure style: one look for every chapter, readable in print and dark mode.

Foundation module (imports nothing else from carbonlab but ``_util``): chapter
modules put their ``plot_*`` functions next to the computation and call
:func:`style` / :func:`new_figure` from here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["PALETTE", "RC", "style", "use_style", "new_figure", "region_colors"]

# Colour-blind-safe (Okabe–Ito) with a neutral grey; legible on white and on dark pages
PALETTE: list[str] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#666666",
]

RC: dict[str, Any] = {
    "figure.figsize": (7.0, 4.2),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    # an opaque white face keeps figures readable on dark-mode pages
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "axes.titlesize": 11,
    "axes.titleweight": "semibold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "font.family": "DejaVu Sans",
}


def use_style() -> None:
    """Apply the carbonlab style globally (notebooks call this once).

    Also prints NumPy scalars as plain numbers (``1.5``, not ``np.float64(1.5)``), so
    numbers glued into the book's prose with ``myst_nb.glue`` can be formatted.
    """
    mpl.rcParams.update(RC)
    np.set_printoptions(legacy="1.25")


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying the carbonlab style temporarily (for scripts).

    Do not create figures inside it in a notebook: leaving ``rc_context`` resets
    state that the inline backend needs, and later figures stop being shown. In
    notebooks call :func:`use_style` once, as every chapter does.
    """
    with mpl.rc_context(RC):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[plt.Figure, Any]:
    """``plt.subplots`` with the carbonlab style (applied globally) and constrained layout."""
    use_style()
    kw.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, **kw)


def region_colors(names: list[str]) -> dict[str, str]:
    """A stable colour per name (cycling the palette in the given order)."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def plot_region_lines(df: Any, value: str, *, region_col: str = "region", time_col: str = "year",
                      highlight: str | None = None, ylabel: str | None = None,
                      title: str | None = None, ax: Any = None, top_labels: int = 6) -> Any:
    """One line per region over time, the ``highlight`` region drawn bold and labelled.

    ``df`` is a tidy table with ``region_col``, ``time_col`` and ``value`` columns.
    The ``top_labels`` largest regions in the last year are labelled at the line ends.
    Returns the matplotlib Axes.
    """
    wide = df.pivot(index=time_col, columns=region_col, values=value).sort_index()
    if ax is None:
        _, ax = new_figure(figsize=(7.5, 4.6))
    last = wide.ffill().iloc[-1].sort_values(ascending=False)
    labelled = set(last.index[:top_labels]) | ({highlight} if highlight else set())
    for name in wide.columns:
        bold = name == highlight
        ax.plot(wide.index, wide[name], color=PALETTE[1] if bold else "#9aa5b1",
                lw=2.6 if bold else 0.9, alpha=1.0 if bold else 0.8, zorder=3 if bold else 2)
        if name in labelled:
            y = wide[name].dropna()
            ax.annotate(name, (y.index[-1], y.iloc[-1]), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=8,
                        color=PALETTE[1] if bold else "#444444",
                        fontweight="bold" if bold else "normal")
    ax.set_xlabel(time_col)
    ax.set_ylabel(ylabel or value)
    if title:
        ax.set_title(title)
    ax.margins(x=0.12)
    return ax
