"""carbonlab's figure style and output helpers: one look for every chapter.

Foundation module (imports nothing else from carbonlab but ``_util``): chapter
modules put their ``plot_*`` functions next to the computation and call
:func:`new_figure` and the axis helpers from here.

Figures
    :func:`use_style` (once per notebook), :func:`new_figure`, :func:`palette` (a
    qualitative palette sized to the series), :func:`year_axis` (integer year ticks),
    :func:`legend_outside` (legend off the data), :func:`small_multiples`,
    :func:`plot_region_lines` (highlight one region instead of spaghetti).
Tables and prose
    :func:`show_table` (formatted Styler: fixed precision, no scientific notation, units
    in the headers, long tables folded), :func:`glue_result` (glue every field of a
    result object in one call), :func:`fmt` (one number as text).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from carbonlab._util import ParameterError

__all__ = ["PALETTE", "RC", "UNITS", "BOOK_WIDTH_IN", "MIN_FONT_PT", "style", "use_style", "new_figure",
           "palette", "year_axis", "plain_log_axis", "legend_outside", "small_multiples", "plot_region_lines",
           "show_table", "glue_result", "fmt", "header"]

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
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "font.family": ["DejaVu Sans"],
    # no offset or scientific notation on axes ("1e4" above an axis is easy to miss)
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-5, 7),
    "axes.formatter.use_mathtext": True,
    "legend.loc": "best",
}

_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei",
              "Source Han Sans SC", "SimHei")


@functools.lru_cache(maxsize=1)
def _cjk_font() -> str | None:
    """The first installed CJK font (fonts-noto-cjk on Debian), or None.

    A font installed after matplotlib built its font cache is not in that cache, so the
    system's CJK font files are registered once if none of the known names is found.
    """
    from matplotlib import font_manager

    fm = font_manager.fontManager

    def known() -> str | None:
        names = {f.name for f in fm.ttflist}
        return next((f for f in _CJK_FONTS if f in names), None)

    if known() is None:
        for path in font_manager.findSystemFonts():
            if any(k in Path(path).name for k in ("NotoSansCJK", "NotoSansSC", "wqy-zenhei")):
                with contextlib.suppress(Exception):  # an unreadable font file is skipped
                    fm.addfont(path)
    return known()


def _apply_rc() -> None:
    mpl.rcParams.update(RC)
    cjk = _cjk_font()
    if cjk:  # font fallback: Latin from DejaVu Sans, Chinese (亿t, 宁夏) from the CJK font
        mpl.rcParams["font.family"] = ["DejaVu Sans", cjk]


def use_style() -> None:
    """Apply the carbonlab style globally (notebooks call this once).

    Also prints NumPy scalars as plain numbers (``1.5``, not ``np.float64(1.5)``), so
    numbers glued into the book's prose with ``myst_nb.glue`` can be formatted, and makes
    pandas show floats in fixed notation (no ``1.25e+00`` in a table the reader sees).
    """
    import pandas as pd

    _apply_rc()
    np.set_printoptions(legacy="1.25", suppress=True)
    pd.set_option("display.float_format", fmt)
    pd.set_option("display.max_colwidth", 60)
    pd.set_option("display.width", 100)


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager applying the carbonlab style temporarily (for scripts).

    Do not create figures inside it in a notebook: leaving ``rc_context`` resets
    state that the inline backend needs, and later figures stop being shown. In
    notebooks call :func:`use_style` once, as every chapter does.
    """
    with mpl.rc_context(RC):
        yield


BOOK_WIDTH_IN = 6.875
"""Width (inches at 96 CSS px per inch) of the book's text column: 660 px in Chromium at a
1280-px window (sphinx-book-theme 1.3). A wider figure is shown scaled down to it."""
MIN_FONT_PT = 9.0
"""No figure text smaller than this at the size the book shows the figure."""


class _BookFigure(plt.Figure):
    """A figure whose text stays at least :data:`MIN_FONT_PT` when the book scales it down.

    On its first draw, a figure wider than :data:`BOOK_WIDTH_IN` (its tight box, legends
    outside the axes included) has every font enlarged by the same factor, so the smallest
    shows at ``MIN_FONT_PT`` at the column's width and the sizes keep their order.
    """

    _legible = False

    def draw(self, renderer: Any) -> None:
        if not self._legible:
            self._legible = True
            self._scale_fonts(renderer)
        super().draw(renderer)

    def _scale_fonts(self, renderer: Any) -> None:
        from matplotlib.text import Text

        engine = self.get_layout_engine()
        for _ in range(4):  # larger text widens the tight box (legends outside): repeat
            if engine is not None:  # measure the laid-out figure, as it will be saved
                engine.execute(self)
            width = max(self.get_figwidth(), self.get_tightbbox(renderer).width)
            texts = [t for t in self.findobj(Text) if t.get_visible() and t.get_text().strip()]
            if width <= BOOK_WIDTH_IN or not texts:
                return
            smallest = min(t.get_fontsize() for t in texts)
            factor = MIN_FONT_PT * width / BOOK_WIDTH_IN / smallest
            if factor <= 1.0:
                return
            factor *= 1.01  # a little over, so that the next pass usually finds it legible
            ticks: set[int] = set()
            for ax in self.axes:
                for axis in (ax.xaxis, ax.yaxis):
                    labels = axis.get_ticklabels(which="both")
                    ticks |= {id(t) for t in labels}
                    size = labels[0].get_fontsize() if labels else mpl.rcParams["xtick.labelsize"]
                    axis.set_tick_params(which="both", labelsize=float(size) * factor)
            for t in texts:
                if id(t) not in ticks:  # tick labels follow set_tick_params
                    t.set_fontsize(t.get_fontsize() * factor)


def new_figure(nrows: int = 1, ncols: int = 1, **kw: Any) -> tuple[plt.Figure, Any]:
    """``plt.subplots`` with the carbonlab style (applied globally) and constrained layout.

    A figure wider than the book's column gets its fonts enlarged when drawn, so that no
    text is under :data:`MIN_FONT_PT` at the size the book shows it (:class:`_BookFigure`).
    """
    _apply_rc()
    kw.setdefault("layout", "constrained")
    kw.setdefault("FigureClass", _BookFigure)
    return plt.subplots(nrows, ncols, **kw)


def palette(n: int) -> list[str]:
    """``n`` distinguishable qualitative colours (hex), never repeating.

    Up to 8: the colour-blind-safe Okabe–Ito :data:`PALETTE`; up to 20: matplotlib's
    ``tab20`` ordered dark shades first; beyond that ``tab20``, ``tab20b`` and ``tab20c``
    (60 colours). More than about 10 lines in one axes are hard to tell apart whatever the
    colours: prefer :func:`small_multiples` or :func:`plot_region_lines` (highlighting).
    """
    if not isinstance(n, int | np.integer) or n < 0:
        raise ParameterError(f"palette: n must be a non-negative integer, got {n!r}")
    if n <= len(PALETTE):
        return PALETTE[:n]
    to_hex = mpl.colors.to_hex
    tab20 = [to_hex(c) for c in mpl.colormaps["tab20"].colors]
    if n <= 20:
        return (tab20[0::2] + tab20[1::2])[:n]
    more = tab20 + [to_hex(c) for name in ("tab20b", "tab20c") for c in mpl.colormaps[name].colors]
    if n > len(more):
        raise ParameterError(f"palette: {n} series cannot get distinct colours (at most "
                             f"{len(more)}); use small_multiples or highlighting")
    return more[:n]


def year_axis(ax: Any, axis: str = "x", *, step: int | None = None) -> Any:
    """Integer year ticks (2005, 2010, …; never 2007.5) on ``axis`` ("x" or "y"); returns ``ax``.

    ``step`` fixes the tick spacing in years; by default at most about 8 ticks.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

    if axis not in ("x", "y"):
        raise ParameterError(f"year_axis: axis must be 'x' or 'y', got {axis!r}")
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(MultipleLocator(step) if step else
                        MaxNLocator(nbins=8, integer=True, steps=[1, 2, 5, 10]))
    a.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}"))
    return ax


def plain_log_axis(ax: Any, axis: str = "y") -> Any:
    """Log scale on ``axis`` with plain tick labels (0.2, 0.5, 1, 100; never 2×10⁻¹).

    Call it after plotting: ticks go at 1, 2 and 5 per decade when the data span at most
    three decades, at the powers of ten only when they span more (labels would collide).
    """
    from matplotlib.ticker import FuncFormatter, LogLocator

    if axis not in ("x", "y"):
        raise ParameterError(f"plain_log_axis: axis must be 'x' or 'y', got {axis!r}")
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    ax.autoscale_view()
    lo, hi = ax.get_xlim() if axis == "x" else ax.get_ylim()
    wide = lo > 0 and hi / lo > 10**3
    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
    a.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.6g}"))
    a.set_minor_formatter(FuncFormatter(lambda v, _pos: ""))
    return ax


def legend_outside(ax: Any, where: str = "right", *, ncols: int | None = None,
                   title: str | None = None, **kw: Any) -> Any:
    """A legend beside (``"right"``) or below (``"bottom"``) the axes, off the data.

    Returns the Legend (None when nothing is labelled).
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    if where == "right":
        kw = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0.0,
              "ncols": ncols or (1 if len(handles) <= 16 else 2), **kw}
    elif where == "bottom":  # below the tick labels and the x label (pad in font sizes)
        kw = {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0),
              "borderaxespad": 4.0 if ax.get_xlabel() else 2.5,
              "ncols": ncols or min(len(handles), 4), **kw}
    else:
        raise ParameterError(f"legend_outside: where must be 'right' or 'bottom', got {where!r}")
    return ax.legend(handles, labels, title=title, **kw)


def small_multiples(n: int, *, ncols: int = 3, panel_size: tuple[float, float] = (3.0, 2.2),
                    sharex: bool = True, sharey: bool = False, **kw: Any) -> tuple[plt.Figure, list]:
    """A grid of ``n`` small panels (one per series) instead of ``n`` lines in one axes.

    Panels of ``panel_size`` inches keep the fonts of the style legible at print size;
    unused panels of the last row are hidden. Returns the figure and the ``n`` Axes.
    """
    if n < 1:
        raise ParameterError(f"small_multiples: n must be at least 1, got {n}")
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                           sharex=sharex, sharey=sharey, squeeze=False, **kw)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


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
    ends = []
    for name in wide.columns:
        bold = name == highlight
        ax.plot(wide.index, wide[name], color=PALETTE[1] if bold else "#9aa5b1",
                lw=2.6 if bold else 0.9, alpha=1.0 if bold else 0.8, zorder=3 if bold else 2)
        if name in labelled:
            y = wide[name].dropna()
            ends.append((name, y.index[-1], float(y.iloc[-1]), bold))
    # end labels at least one line (10 pt) apart so close line ends do not overlap
    ax.autoscale_view()
    lo, hi = ax.get_ylim()
    pts_per_unit = ax.get_position().height * ax.figure.get_figheight() * 72 / (hi - lo)
    placed: list[float] = []
    for name, x, y, bold in sorted(ends, key=lambda e: e[2]):
        at = max(y * pts_per_unit, placed[-1] + 10.0) if placed else y * pts_per_unit
        placed.append(at)
        ax.annotate(name, (x, y), xytext=(4, at - y * pts_per_unit),
                    textcoords="offset points", va="center", fontsize=8,
                    color=PALETTE[1] if bold else "#444444",
                    fontweight="bold" if bold else "normal")
    ax.set_xlabel(time_col)
    ax.set_ylabel(ylabel or header(value))
    if time_col == "year":
        year_axis(ax)
    if title:
        ax.set_title(title)
    ax.margins(x=0.12)
    return ax


# --------------------------------------------------------------------------- tables and prose

UNITS: dict[str, str] = {
    "_mt": "Mt CO2",
    "_gt": "Gt CO2",
    "_pct": "%",
    "_10k": "10^4",
    "_gwh": "GWh",
    "_twh": "TWh",
    "_tj": "TJ",
    "_pj": "PJ",
    "_tco2_per_mwh": "t CO2/MWh",
    "_tco2_per_tj": "t CO2/TJ",
    "_kgco2_per_unit": "kg CO2/unit",
    "_tc_per_tj": "t C/TJ",
    "_yuan": "yuan",
    "_s": "s",
}
"""Column-name suffix -> unit shown in a table header by :func:`header` (longest suffix wins)."""

_NAMES: dict[str, str] = {
    "p_by_2025": "P(peak ≤ 2025)",
    "p_by_2030": "P(peak ≤ 2030)",
    "pip": "PIP",
    "pmp": "PMP",
    "post_mean": "post. mean",
    "post_sd": "post. SD",
    "cond_pos_sign": "P(β > 0 | included)",
    "r2": "R²",
    "mse": "MSE",
    "mae": "MAE",
    "rmse": "RMSE",
}


def header(column: Any, units: Mapping[str, str] | None = None,
           names: Mapping[str, str] | None = None) -> str:
    """A readable table header with its unit: ``"peak_mt"`` -> ``"peak (Mt CO2)"``.

    ``units`` maps a column to its unit (overrides the suffix rule of :data:`UNITS`);
    ``names`` maps a column to its whole header. Non-string columns (years) are kept.
    """
    if not isinstance(column, str):
        return str(column)
    if names and column in names:
        return names[column]
    if units and column in units:
        base = _NAMES.get(column, column.replace("_", " "))
        return f"{base} ({units[column]})" if units[column] else base
    if column in _NAMES:
        return _NAMES[column]
    for suffix in sorted(UNITS, key=len, reverse=True):
        if column.endswith(suffix) and len(column) > len(suffix):
            stem = column[: -len(suffix)]
            return f"{_NAMES.get(stem, stem.replace('_', ' '))} ({UNITS[suffix]})"
    return column.replace("_", " ")


def fmt(x: Any, precision: int | None = None, *, thousands: bool | None = None) -> str:
    """One number as text in fixed notation: ``12,150``, ``3.142``, ``0.0123``; ``–`` if missing.

    ``precision`` fixes the decimals; by default about four significant digits (at
    most six decimals; below 1e-6 as ``1.2e-12``) and thousands separators from 10,000 up
    (``thousands`` forces them on or off). Booleans are yes/no.
    """
    if x is None or (isinstance(x, float | np.floating) and math.isnan(x)):
        return "–"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    sep = "," if (abs(x) >= 10_000 if thousands is None else thousands) else ""
    if isinstance(x, int | np.integer):
        return f"{x:{sep}d}"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if precision is None:
        if v == 0:
            return "0"
        if abs(v) < 1e-6:  # tiny (a 1e-12 agreement): say so instead of printing 0.000000
            return f"{v:.1e}"
        precision = min(6, max(0, 3 - math.floor(math.log10(abs(v)))))
    out = f"{v:{sep}.{precision}f}"
    return out[1:] if out.startswith("-") and not out.strip("-0.,") else out  # no "-0.000"


class FoldedTable:
    """A long table shown as its first rows with the full table in a dropdown (HTML)."""

    def __init__(self, head: Any, full: Any, n_rows: int) -> None:
        self.head, self.full, self.n_rows = head, full, n_rows

    def _repr_html_(self) -> str:
        return (f"{self.head.to_html()}\n<details class=\"carbonlab-fold\"><summary>All "
                f"{self.n_rows} rows</summary>\n{self.full.to_html()}\n</details>")

    def to_html(self) -> str:
        return self._repr_html_()


def show_table(df: Any, precision: int | Mapping[str, int] | None = None, *,
               units: Mapping[str, str] | None = None, names: Mapping[str, str] | None = None,
               index: bool | None = None, max_rows: int | None = 15, head: int = 10,
               caption: str | None = None) -> Any:
    """A DataFrame (or Series) as the reader should see it: a formatted pandas Styler.

    Floats in fixed notation with ``precision`` decimals (an int, a ``{column: int}``
    map, or None for :func:`fmt`'s ~4 significant digits), integers and years without
    decimals, booleans as yes/no, missing values as "–"; headers with units
    (:func:`header`: ``peak_mt`` -> "peak (Mt CO2)"); cells do not wrap. A RangeIndex is
    hidden (``index=None``). A table longer than ``max_rows`` shows its first ``head``
    rows with the full table in a dropdown (:class:`FoldedTable`).
    """
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame(name=df.name if df.name is not None else "value")
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"show_table: expected a DataFrame or Series, got {type(df).__name__}")
    if max_rows is not None and len(df) > max_rows:
        kw = {"precision": precision, "units": units, "names": names, "index": index,
              "max_rows": None, "caption": caption}
        return FoldedTable(show_table(df.head(head), **kw), show_table(df, **kw), len(df))
    if isinstance(df.columns, pd.MultiIndex):  # e.g. (g, mprior) pairs: keep the levels
        labels = {c: c for c in df.columns}
        out = df.copy()
    else:
        labels = {c: header(c, units, names) for c in df.columns}
        if len(set(labels.values())) < len(labels):  # two columns would get the same header
            labels = {c: c for c in df.columns}
        out = df.rename(columns=labels)
    if index is None:
        index = not isinstance(df.index, pd.RangeIndex)
    if index and df.index.name is not None:
        out.index = out.index.rename(header(df.index.name, units, names))

    def col_fmt(col: Any) -> Any:
        dtype = df[col].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        big = bool(numeric and df[col].abs().max() >= 10_000)  # one separator rule per column
        p = precision.get(col) if isinstance(precision, Mapping) else precision
        if pd.api.types.is_bool_dtype(dtype):
            return lambda v: fmt(bool(v)) if not pd.isna(v) else "–"
        if pd.api.types.is_integer_dtype(dtype):
            year_like = "year" in str(col).lower() or str(col).isdigit()
            return lambda v: "–" if pd.isna(v) else (f"{int(v)}" if year_like else
                                                     fmt(int(v), thousands=big))
        if pd.api.types.is_float_dtype(dtype):
            if "year" in str(col).lower():
                return lambda v: "–" if pd.isna(v) else f"{v:.0f}"
            return lambda v: fmt(v, p, thousands=big)
        return lambda v: "–" if v is None or (isinstance(v, float) and math.isnan(v)) else (
            html.escape(str(v)))

    sty = out.style.format({labels[c]: col_fmt(c) for c in df.columns})
    if pd.api.types.is_float_dtype(df.index.dtype):
        sty = sty.format_index(lambda v: fmt(v), axis=0)
    if not index:
        sty = sty.hide(axis="index")
    sty = sty.set_table_styles([
        {"selector": "td", "props": "white-space: nowrap; text-align: right; padding: 1px 8px;"},
        {"selector": "th", "props": "text-align: right; padding: 1px 8px;"},
    ]).set_table_attributes('class="carbonlab-table"')
    if caption:
        sty = sty.set_caption(caption)
    return sty


def glue_result(prefix: str, result: Any, *, fields: Sequence[str] | None = None,
                display: bool = False) -> dict[str, Any]:
    """Glue every scalar field of a result object in one call, as ``<prefix>_<field>``.

    ``result`` is a dataclass (``PeakResult``, ``AdjustmentResult``, ...), a named tuple,
    a mapping or a one-row Series; ``fields`` limits the fields. NumPy scalars become
    Python numbers so ``{glue:text}`name:.1f``` formats them. Non-scalar fields
    (tables, arrays) are skipped. Returns the glued ``{name: value}``.
    """
    from myst_nb import glue

    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        items = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    elif hasattr(result, "_asdict"):
        items = dict(result._asdict())
    elif isinstance(result, Mapping):
        items = dict(result)
    elif hasattr(result, "to_dict"):
        items = dict(result.to_dict())
    else:
        raise ParameterError(f"glue_result: cannot read fields of {type(result).__name__}")
    if fields is not None:
        missing = [f for f in fields if f not in items]
        if missing:
            raise ParameterError(f"glue_result: {type(result).__name__} has no field {missing[0]!r}")
        items = {f: items[f] for f in fields}
    glued: dict[str, Any] = {}
    for name, value in items.items():
        if isinstance(value, np.generic):
            value = value.item()
        if not isinstance(value, str | int | float | bool) or value is None:
            continue
        key = f"{prefix}_{name}"
        glue(key, value, display=display)
        glued[key] = value
    return glued
