"""UN World Population Prospects 2024 via Our World in Data (``owid-un-wpp/``, README section 13).

``population-with-un-projections.csv``: one row per entity and year, 1950-2100, with
``Population, total`` (WPP 2024 estimates, filled to 2023) and ``Population, medium
projection (Projected)`` (the medium variant, from 2024). The two columns never overlap;
a row with both filled, or neither, is a :class:`~carbonlab._util.DataError` naming the
file line. Persons, not thousands.

The UN's China (without Hong Kong, Macao, Taiwan) is about 1 % above NBS's year-end
figure, so the book uses it as a **path** (ratios to a base year) scaled to the NBS
level (:func:`carbonlab.scenarios.population_projection`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data._read import _attrs, _cached, _root
from carbonlab.data.registry import check_file

__all__ = ["WPP_FILE", "un_wpp_population"]

PathLike = str | os.PathLike[str] | None
WPP_FILE = "owid-un-wpp/population-with-un-projections.csv"
_EST = "Population, total"
_PROJ = "Population, medium projection (Projected)"


@_cached(lambda: [WPP_FILE])
def _wpp(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(WPP_FILE, root, verify_hash=verify)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: unreadable CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in ("Entity", "Year", _EST, _PROJ) if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(repr(c) for c in missing)}")
    cols = {}
    for c in ("Year", _EST, _PROJ):
        s = df[c].str.strip()
        v = pd.to_numeric(s.where(s != ""), errors="coerce")
        bad = (v.isna() & (s != "")) | (v < 0)
        if c == "Year":
            bad |= v.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}, line {i + 2}, column {c}: not a non-negative number "
                            f"({df[c].iloc[i]!r})")
        cols[c] = v
    return pd.DataFrame({"entity": df["Entity"].str.strip(), "year": cols["Year"].astype(int),
                         "estimate": cols[_EST], "projection": cols[_PROJ],
                         "line": np.arange(len(df)) + 2})


def un_wpp_population(entity: str = "China", data_dir: PathLike = None, verify: bool = True
                      ) -> pd.DataFrame:
    """UN WPP 2024 population of one entity: year, population (persons), kind.

    ``kind`` is ``"estimate"`` (to 2023) or ``"projection"`` (medium variant, 2024-2100).

    Raises
    ------
    ParameterError
        ``entity`` not in the file.
    DataError
        A year with both columns or neither filled, or a duplicate year (line named).
    """
    t = _wpp(_root(data_dir), verify)
    t = t[t["entity"] == entity]
    if t.empty:
        raise ParameterError(f"entity={entity!r}: not in {WPP_FILE}")
    both = t["estimate"].notna() & t["projection"].notna()
    neither = t["estimate"].isna() & t["projection"].isna()
    for mask, what in ((both, "both an estimate and a projection"), (neither, "no value")):
        if mask.any():
            r = t[mask].iloc[0]
            raise DataError(f"{WPP_FILE}, line {r['line']}: {entity} {r['year']} has {what}")
    dup = t["year"].duplicated()
    if dup.any():
        r = t[dup].iloc[0]
        raise DataError(f"{WPP_FILE}, line {r['line']}: second row for {entity} {r['year']}")
    out = pd.DataFrame({
        "year": t["year"].to_numpy(),
        "population": t["estimate"].fillna(t["projection"]).to_numpy(float),
        "kind": np.where(t["estimate"].notna(), "estimate", "projection"),
    }).sort_values("year").reset_index(drop=True)
    return _attrs(out, {"population": "persons"},
                  "United Nations, World Population Prospects 2024 (estimates and medium "
                  "variant), via Our World in Data (CC BY 4.0)")
