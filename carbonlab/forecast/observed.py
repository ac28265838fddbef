"""The observed answer: which provinces' emissions have already peaked, by the book's peak rule.

Before any model: the panel's own emissions (CE = CE1 + CE2, Mt CO2) to its last year, each
province and the 30-province total judged by :func:`carbonlab.forecast.rule.find_peak`
(1 % tolerance). The data layer gives the series; the rule lives here, in the forecast layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from carbonlab._util import DataError
from carbonlab.forecast.rule import PEAK_TOL, find_peak

__all__ = ["ObservedPeaks", "observed_peaks"]


@dataclass(frozen=True)
class ObservedPeaks:
    """Per province and for the total: peak year and value, last-year value, peaked (bool)."""

    table: pd.DataFrame
    total: pd.Series
    years: tuple[int, int]

    def summary(self) -> pd.DataFrame:
        """region, peak_year, peak_mt, last_mt, end_gap_pct, peaked (30 rows, then "30 provinces")."""
        return pd.concat([self.table, pd.DataFrame([self.total.to_dict()])], ignore_index=True)

    def describe(self) -> str:
        """One paragraph: how many provinces have peaked by the last year, and the total."""
        y0, y1 = self.years
        done = self.table[self.table["peaked"]]
        names = ", ".join(f"{r} ({int(y)})" for r, y in zip(done["region"], done["peak_year"],
                                                             strict=True))
        t = self.total
        tot = (f"the 30-province total peaked in {int(t['peak_year'])} at {t['peak_mt']:,.1f} Mt "
               f"({t['end_gap_pct']:.1f} % below it in {y1})" if t["peaked"] else
               f"the 30-province total has not peaked by {y1} (its maximum, "
               f"{t['peak_mt']:,.1f} Mt, is in {int(t['peak_year'])})")
        return (f"Observed {y0}-{y1}, by the book's peak rule ({100 * PEAK_TOL:.0f} % tolerance): "
                f"{len(done)} of {len(self.table)} provinces have already peaked"
                + (f" ({names})" if len(done) else "") + f"; {tot}.")


def _row(region: str, years, values) -> dict:
    r = find_peak(years, values)
    return {"region": region, "peak_year": r.peak_year, "peak_mt": r.peak_value,
            "last_mt": float(values[-1]), "end_gap_pct": 100 * r.end_gap, "peaked": r.peaked}


def observed_peaks(panel: pd.DataFrame, column: str = "emissions_mt") -> ObservedPeaks:
    """Apply the peak rule to each province's observed series and to their total.

    Parameters
    ----------
    panel
        A panel (``region, year, <column>``), e.g. ``data.load_panel("ceads")``.
    column
        The emissions column (Mt CO2).
    """
    for c in ("region", "year", column):
        if c not in panel.columns:
            raise DataError(f"panel: missing column {c!r}")
    w = panel.pivot_table(index="year", columns="region", values=column, aggfunc="first")
    w = w.sort_index()
    if w.isna().any().any():
        r = w.columns[w.isna().any()][0]
        raise DataError(f"panel: {column} missing for {r} in year {int(w.index[w[r].isna()][0])}")
    order = [r for r in panel["region"].drop_duplicates()]
    years = w.index.to_numpy(dtype=int)
    table = pd.DataFrame([_row(r, years, w[r].to_numpy(float)) for r in order])
    total = pd.Series(_row(f"{len(order)} provinces", years, w.sum(axis=1).to_numpy(float)))
    table.attrs["units"] = {"peak_mt": "Mt CO2", "last_mt": "Mt CO2", "end_gap_pct": "%"}
    return ObservedPeaks(table, total, (int(years[0]), int(years[-1])))
