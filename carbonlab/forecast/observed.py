"""The observed answer: which provinces' emissions have already peaked, by the book's peak rule.

Before any model: the panel's own emissions (CE = CE1 + CE2, Mt CO2) to its last year, each
province and the 30-province total judged by :func:`carbonlab.forecast.rule.find_peak`
(1 % tolerance). The data layer gives the series; the rule lives here, in the forecast layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.forecast.rule import PEAK_TOL, find_peak

__all__ = ["ObservedPeaks", "observed_peaks", "known_in", "as_of_note"]


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


def known_in(table: pd.DataFrame, as_of: int | None) -> pd.DataFrame:
    """The rows of ``table`` (a panel, fuel use: any table with ``year``) known in ``as_of``,
    i.e. ``year <= as_of``; the whole table when ``as_of`` is None or 0 (the chapters' default).

    The cut a chapter run with ``-p as_of YEAR`` makes (chapter 4 and the front page cut the
    same way in :func:`carbonlab.forecast.outlook.chapter_inputs`). ``as_of`` must be a year
    of the table: a :class:`ParameterError` naming ``as_of`` otherwise.
    """
    if not as_of:
        return table
    if "year" not in table.columns:
        raise DataError("table: missing column 'year'")
    y0, y1 = int(table["year"].min()), int(table["year"].max())
    if isinstance(as_of, bool) or not isinstance(as_of, int) or not y0 <= as_of <= y1:
        raise ParameterError(f"as_of: a year from {y0} to {y1} (the data span), got {as_of!r}")
    out = table[table["year"] <= as_of].reset_index(drop=True)
    out.attrs.update(table.attrs)
    return out


def as_of_note(as_of: int | None, uses: str = "the panel", exception: str = "") -> str:
    """The line at the top of a chapter run with ``-p as_of YEAR`` ('' without): what it uses
    and that everything after ``as_of`` is left out; ``exception`` names a part that does not
    follow the cut (and why)."""
    if not as_of:
        return ""
    return (f"**As of {as_of}.** This run uses only what was known in {as_of}: {uses} to "
            f"{as_of}; later years (and targets published later) are left out, so the numbers "
            "below are what this chapter would have said then"
            + (f", except {exception}." if exception else "."))


def _mt(v: float) -> str:
    return f"{v:,.0f} Mt ({v / 100:.1f} 亿t)"


def describe_panel(panel: pd.DataFrame) -> str:
    """What the panel in hand covers: provinces, years, the national total at both ends
    (Mt and 亿t, the studies' unit of 100 Mt) and the number of columns."""
    years = sorted(panel["year"].unique())
    nat = panel.groupby("year")["emissions_mt"].sum()
    return (f"The panel in hand covers {panel['region'].nunique()} provinces from {int(years[0])} "
            f"to {int(years[-1])}. Their emissions add up to {_mt(nat.iloc[0])} in the first year "
            f"and {_mt(nat.iloc[-1])} in the last (1 亿t, the unit of the Chinese studies, is "
            f"100 Mt). The panel has {panel.shape[1]} columns in all (`panel.columns`).")


def describe_region(panel: pd.DataFrame, region: str) -> str:
    """The region's emissions at both ends and how many provinces had their highest year
    before the last year of the panel."""
    mine = panel.loc[panel["region"] == region].set_index("year")["emissions_mt"].sort_index()
    if mine.empty:
        raise DataError(f"panel: no rows for region {region!r}")
    last = int(panel["year"].max())
    top = panel.pivot(index="year", columns="region", values="emissions_mt").idxmax()
    early = top[top < last]
    span = ("" if not len(early) else f" (in {int(early.min())})" if early.min() == early.max()
            else f" (between {int(early.min())} and {int(early.max())})")
    return (f"{region} emitted {mine.iloc[0]:.1f} Mt in {int(mine.index[0])} and "
            f"{mine.iloc[-1]:.1f} Mt in {int(mine.index[-1])}, a change of "
            f"{100 * (mine.iloc[-1] / mine.iloc[0] - 1):+.0f} %. Emissions were highest in the "
            f"last year, {last}, in {int((top == last).sum())} of the {len(top)} provinces; the "
            f"other {len(early)} had their highest year earlier{span}.")


def coverage(panel: pd.DataFrame) -> pd.DataFrame:
    """The real panel's driver coverage (``attrs["coverage"]``: driver, meaning, status,
    from, to, source, how) as known in the panel's last year: ``to`` is at most that year and
    a driver whose series starts later is ``unavailable``."""
    if "coverage" not in panel.attrs:
        raise DataError("panel: no attrs['coverage'] (the real panel, data.load_panel('ceads'))")
    last = int(panel["year"].max())
    cov = panel.attrs["coverage"].rename(columns={"first_year": "from", "last_year": "to"}).copy()
    later = cov["from"].notna() & (cov["from"] > last)
    cov.loc[later, "status"] = "unavailable"
    cov.loc[later, "how"] = cov.loc[later, "how"].astype(str) + f" (the series starts after {last})"
    cov.loc[later, ["from", "to"]] = pd.NA
    cov["to"] = cov["to"].where(cov["to"].isna() | (cov["to"] <= last), last)
    return cov.reset_index(drop=True)


def describe_real_data(real: dict | Exception, key_drivers: tuple[str, ...] = ()) -> str:
    """Markdown: where each driver of the real panel comes from, then in short what the real
    data carry (years, drivers real/proxy/missing, the provincial targets by status) and which
    of ``key_drivers`` have no public source. ``real``: chapter 4's inputs on the real data
    (:func:`carbonlab.forecast.outlook.chapter_inputs` ``("ceads", as_of=...)``), or the
    error that loading them raised (a build without the real-data mirror)."""
    from carbonlab.data.real import PROVINCE_YEARS
    from carbonlab.data.targets import FOUND_STATUS

    if isinstance(real, Exception):
        return ("This page was built without the real-data mirror, so it cannot count the real "
                f"panel's years, drivers and targets ({real}).")
    p, tg = real["panel"], real["targets"]
    cov = coverage(p)
    s0, s1 = int(p["year"].min()), int(p["year"].max())
    y0, y1 = p.attrs["years"][0], min(int(p.attrs["years"][1]), s1)
    inc = cov[cov["status"] != "unavailable"]
    latest = inc.loc[inc["from"] == inc["from"].max(), "driver"]
    n = cov["status"].value_counts()
    missing = cov.loc[cov["status"] == "unavailable", "driver"].tolist()
    fc = [d for d in p.attrs["forecast_drivers"] if d in set(inc["driver"])]
    if tg is None or tg.empty:
        tg_txt = "No provincial target had been published by then"
    else:
        counts = tg.drop_duplicates(["region", "status"]).groupby("status")["region"].nunique()
        none = int(tg.groupby("region")["status"].agg(lambda s: (s == "national default").all()).sum())
        tg_txt = (f"Provincial targets: {int(counts.get('quoted', 0))} provinces have a figure "
                  f"quoted from a published plan, {int(counts.get('lead, confirmed', 0))} a figure "
                  f"first seen as a lead and re-confirmed on a public page, "
                  f"{int(counts.get('lead', 0))} only a lead not yet confirmed, "
                  f"{int(counts.get('draft', 0))} a draft, {int(counts.get(FOUND_STATUS, 0))} a "
                  f"figure carbonlab's authors found on a public page, and {none} none for either "
                  "year (they use the national targets)")
    src = "\n".join(f"- `{r.driver}` ({r.status}): " + "; ".join(
        str(v) for v in (r.source, r.how) if isinstance(v, str) and v.strip() not in ("", "–"))
        for r in cov.itertuples())
    key = [d for d in key_drivers if d in missing]
    key_txt = (f"{len(key)} of the study's {len(key_drivers)} key drivers "
               f"{'has' if len(key) == 1 else 'have'} no public source: {', '.join(key)}" if key
               else f"all {len(key_drivers)} of the study's key drivers are there, "
               f"{sum(d in set(cov.loc[cov['status'] == 'proxy', 'driver']) for d in key_drivers)} "
               "of them as proxies")
    return (f"Where each series comes from and what it measures:\n\n{src}\n\n**In short**, the "
            f"real panel has {p['region'].nunique()} provinces × {s0}–{s1} ({len(p)} province-years "
            f"with CE1 and CE2); all included drivers overlap only in {y0}–{y1}, the years in "
            f"which CEADs' provincial inventories (to {min(PROVINCE_YEARS[-1], s1)}) meet the "
            f"latest driver series (from {int(inc['from'].max())}: {', '.join(latest)}). BMA over "
            f"all drivers uses those {y1 - y0 + 1} years; forecasts use the {len(fc)} drivers that "
            f"cover every year ({', '.join(fc)}). Of the 18 drivers, {int(n.get('real', 0))} have "
            f"a real source and {int(n.get('proxy', 0))} a proxy; {len(missing)} have no public "
            f"source ({', '.join(missing)}). {tg_txt}."
            + (f" {key_txt[0].upper()}{key_txt[1:]}." if key_drivers else ""))
