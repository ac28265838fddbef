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
    """Apply the carbonlab style globally (notebooks call this once)."""
    mpl.rcParams.update(RC)


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying the carbonlab style temporarily."""
    with mpl.rc_context(RC):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[plt.Figure, Any]:
    """``plt.subplots`` under the carbonlab style, with constrained layout."""
    with style():
        kw.setdefault("layout", "constrained")
        return plt.subplots(nrows, ncols, **kw)


def region_colors(names: list[str]) -> dict[str, str]:
    """A stable colour per name (cycling the palette in the given order)."""
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}
