"""Table 10 for a reader: driver changes in natural units and %, and one sentence about them.

The inverse problem (:mod:`carbonlab.forecast.inverse`) works in the drivers' model units
(``lcar`` is ln(10^4 vehicles), shares are fractions). A planner reads levels: this module
turns a change ``delta`` of a driver at ``base`` into the level before and after, the change
in the level's unit and in %, and, for shares, in percentage points. Which drivers are
logs or shares and their units come from :data:`carbonlab.data.DRIVERS` (a unit
``"ln(X)"`` is a log of X; ``"fraction"`` a share), not from a second table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.data import DRIVERS
from carbonlab.data.drivers import driver_spec
from carbonlab.plotting import fmt


def driver_kind(driver: str) -> tuple[str, str]:
    """``(kind, natural unit)`` of a driver: ``("log", "10^4 vehicles")`` for ``lcar``,
    ``("share", "%")`` for a fraction, ``("level", unit)`` otherwise (the driver's row of
    :mod:`carbonlab.data.drivers`)."""
    if driver not in DRIVERS:
        raise ParameterError(f"driver: unknown driver {driver!r}")
    spec = driver_spec(driver)
    return spec.kind, spec.level_unit


def natural_change(driver: str, base: float, delta: float) -> dict[str, float | str]:
    """A change ``delta`` (model units) of ``driver`` from ``base`` in natural units.

    Returns ``unit`` (the level's unit; ``%`` for shares), ``base_level``,
    ``adjusted_level``, ``change_level`` (adjusted − base, in ``unit``; for shares in
    percentage points), ``change_pct`` (relative change of the level, %) and
    ``change_pp`` (shares only: percentage points; NaN otherwise).
    """
    kind, unit = driver_kind(driver)
    b, d = float(base), float(delta)
    if kind == "log":
        bl, al = float(np.exp(b)), float(np.exp(b + d))
        pct, pp = 100.0 * float(np.expm1(d)), float("nan")
    elif kind == "share":
        bl, al = 100.0 * b, 100.0 * (b + d)
        pct = 100.0 * d / b if b != 0 else float("nan")
        pp = 100.0 * d
    else:
        bl, al = b, b + d
        pct, pp = (100.0 * d / b if b != 0 else float("nan")), float("nan")
    return {"unit": unit, "base_level": bl, "adjusted_level": al, "change_level": al - bl,
            "change_pct": pct, "change_pp": pp}


def change_phrase(driver: str, base: float, delta: float) -> str:
    """One phrase for a reader, e.g. ``"private cars −12.0 % (4,500 → 3,960 10^4 vehicles)"``
    or ``"tertiary-industry share of GDP +2.10 pp (52.0 % → 54.1 %)"``."""
    c = natural_change(driver, base, delta)
    name = DRIVERS[driver][0]
    if driver_kind(driver)[0] == "share":
        return (f"{name} {c['change_pp']:+.2f} pp ({c['base_level']:.1f} % → "
                f"{c['adjusted_level']:.1f} %)")
    return (f"{name} {c['change_pct']:+.1f} % ({fmt(c['base_level'])} → "
            f"{fmt(c['adjusted_level'])} {c['unit']})")


def _cell(row: pd.Series) -> str:
    """One driver of one region in the wide table: levels before → after and the change."""
    if driver_kind(row["driver"])[0] == "share":
        head = f"{row['base_level']:.1f}"
        move = f" → {row['adjusted_level']:.1f} ({row['change_pp']:+.1f} pp)"
    else:
        head = fmt(row["base_level"])
        move = f" → {fmt(row['adjusted_level'])} ({row['change_pct']:+.1f} %)"
    if row["moved"]:
        return head + move
    if row.get("held", False):
        return f"{head} (held: PIP {row['pip']:.2f})"
    return f"{head} (no change)"


@dataclass
class Table10:
    """The study's Table 10, ready to show: ``table`` has one row per region (``peaks by
    <year>``, ``norm (s.d.)`` and one column per driver, "level in the scenario → level in the
    peak scenario (change)" in natural units); ``rows`` is :func:`laggard_table`'s long table
    (model units beside natural units); :meth:`describe` says it in one paragraph."""

    rows: pd.DataFrame
    table: pd.DataFrame
    year: int
    caption: str

    def describe(self) -> str:
        """Counts of the regions by outcome, the bounds, the held drivers and any
        non-converged answer, computed from ``rows``."""
        r = self.rows
        if r.empty:
            return "No region is a laggard on this scenario, so Table 10 is empty."
        info = r.groupby("region", sort=False).first()
        n, y = len(info), self.year
        n0 = int((info["stage"] == 0).sum())
        nf = int((info["feasible"] & (info["stage"] > 0)).sum())
        n2, nc = int((info["stage"] == 2).sum()), int(info["corner"].sum())
        text = (f"Of the {n} {'region' if n == 1 else 'regions'}, {n0} already "
                f"{'peaks' if n0 == 1 else 'peak'} by {y} by the book's peak rule without any "
                f"change, {nf} can with changes no larger than the largest "
                f"{int(r['span_years'].max())}-year change of each driver observed in any "
                f"province, and {n - n0 - nf} cannot")
        if n2:
            text += f"; {n2} {'needs' if n2 == 1 else 'need'} the second-stage drivers too"
        if nc:
            text += f"; {nc} {'answer is a corner' if nc == 1 else 'answers are corners'} (every moved driver at its bound)"
        held = r[r["held"]].drop_duplicates("driver")
        if len(held):
            text += (". Not moved because their BMA posterior inclusion probability is below "
                     "the threshold: " + ", ".join(f"{DRIVERS[d][0]} (PIP {p:.2f})" for d, p in
                                                     zip(held["driver"], held["pip"], strict=True)))
        bad = info.index[~info["converged"].astype(bool)].tolist()
        if bad:
            text += (f". The optimiser did not converge for {', '.join(bad)}: the change shown "
                     "there is feasible but may not be the smallest")
        return text + "."

    def __str__(self) -> str:
        return self.describe()

    def _repr_markdown_(self) -> str:
        return self.describe()


def table10(rows: pd.DataFrame, *, year: int | None = None) -> Table10:
    """:class:`Table10` from :func:`laggard_table`'s rows (no arithmetic left to a notebook)."""
    need = {"region", "driver", "base_level", "adjusted_level", "change_pct", "change_pp",
            "moved", "held", "pip", "feasible", "stage", "norm", "corner", "converged",
            "span_years"}
    missing = sorted(need - set(rows.columns))
    if missing:
        raise ParameterError(f"rows: missing column {missing[0]!r} (pass laggard_table's result)")
    y = int(rows["year"].iloc[0]) if year is None and "year" in rows and len(rows) else (year or 2030)
    if rows.empty:
        return Table10(rows, pd.DataFrame(), y, f"Table 10: no laggard to adjust by {y}")
    names = {d: f"{DRIVERS[d][0]} ({driver_kind(d)[1]})" for d in rows["driver"].unique()}
    cells = rows.assign(cell=[_cell(r) for _, r in rows.iterrows()])
    wide = (cells.pivot(index="region", columns="driver", values="cell")
            .reindex(index=list(dict.fromkeys(rows["region"])),
                     columns=list(dict.fromkeys(rows["driver"]))).rename(columns=names))
    info = rows.groupby("region", sort=False).first()
    verdict = ["already" if s == 0 else ("yes" if f else "no") + (" (corner)" if c else "")
               + ("" if ok else ", not converged")
               for s, f, c, ok in zip(info["stage"], info["feasible"], info["corner"],
                                      info["converged"], strict=True)]
    head = pd.DataFrame({f"peaks by {y}": verdict, "norm (s.d.)": info["norm"].round(2)},
                        index=info.index)
    table = head.join(wide).rename_axis(index="region", columns=None)
    caption = (f"Each driver's {y} level in the scenario → in the peak scenario (change); "
               "shares in %, changes in percentage points")
    return Table10(rows, table, y, caption)
