"""The techme R data sets (``techme/*.rda``): budget, R&D and patents by province.

Read with the pure-Python ``rdata`` package (no R needed). Each file holds one
data frame ``province, year, chn_block4, value, units, variables`` (long format,
short Chinese names, years as strings). :func:`techme_table` returns it tidy as
``region, year, item, value, unit``; quirks handled (mirror README section 5):

- ``RDPatentAuthority`` 2010 names padded with spaces (``北   京``, ``内蒙 古``) and
  the 2012 typos ``山两`` (山西) and ``两藏`` (西藏);
- the national total ``全国`` and Tibet are dropped;
- ``IndustryTrade``'s ``NA`` (Tibet 2018) is NaN.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data.nbs import province_or_none
from carbonlab.data.registry import check_file, data_dir
from carbonlab.regions import PROVINCES

__all__ = ["TECHME_TABLES", "TYPOS", "techme_table", "techme_item"]

TECHME_TABLES: tuple[str, ...] = ("PublicBudget", "RDActivity", "RDIntense",
                                  "RDPatentAuthority", "IndustryTrade")
"""The five data tables (``varsList`` is the dictionary)."""
TYPOS: dict[str, str] = {"山两": "山西", "两藏": "西藏"}
"""Province-name typos of the techme files (``RDPatentAuthority`` 2012)."""


def techme_table(name: str, data_dir_: str | os.PathLike[str] | None = None,
                 verify: bool = True) -> pd.DataFrame:
    """One techme table tidy: region, year, item (chn_block4), value, unit, variable.

    Parameters
    ----------
    name
        One of :data:`TECHME_TABLES`.
    """
    if name not in TECHME_TABLES:
        raise ParameterError(f"name: unknown techme table {name!r} (known: {', '.join(TECHME_TABLES)})")
    import rdata

    rel = f"techme/{name}.rda"
    path = check_file(rel, data_dir(data_dir_), verify_hash=verify)
    try:
        obj = rdata.read_rda(str(path))
    except Exception as exc:  # rdata raises many types on corrupt input
        raise DataError(f"{path}: not a readable .rda file ({type(exc).__name__}: {exc})") from None
    if name not in obj or not isinstance(obj[name], pd.DataFrame):
        raise DataError(f"{path}: no data frame named {name!r} (found {', '.join(obj)})")
    df = obj[name].reset_index(drop=True)
    need = ("province", "year", "chn_block4", "value", "units", "variables")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    regions = [province_or_none(p, f"{path}, row {i + 1}, column province", TYPOS)
               for i, p in enumerate(df["province"].astype(str))]
    year = pd.to_numeric(df["year"].astype(str).str.strip(), errors="coerce")
    if year.isna().any():
        i = int(np.flatnonzero(year.isna().to_numpy())[0])
        raise DataError(f"{path}, row {i + 1}, column year: invalid year {df['year'].iloc[i]!r}")
    value = pd.to_numeric(df["value"], errors="coerce").astype(float)
    neg = value < 0
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise DataError(f"{path}, row {i + 1}, column value: negative value {value.iloc[i]}")
    out = pd.DataFrame({"region": regions, "year": year.astype(int),
                        "item": df["chn_block4"].astype(str).str.strip(), "value": value,
                        "unit": df["units"].astype(str).str.strip(),
                        "variable": df["variables"].astype(str).str.strip()})
    out = out[out["region"].notna()]
    dup = out.duplicated(["region", "year", "variable"])
    if dup.any():
        r = out[dup].iloc[0]
        raise DataError(f"{path}: duplicate row for ({r['region']}, {r['year']}, {r['variable']})")
    order = {p: i for i, p in enumerate(PROVINCES)}
    out = (out.assign(_o=out["region"].map(order)).sort_values(["_o", "year", "variable"])
           .drop(columns="_o").reset_index(drop=True))
    out.attrs["source"] = (f"techme R package (Hu Huaping), data/{name}.rda: China Statistical "
                           "Yearbook / China Statistical Yearbook on Science and Technology")
    return out


def techme_item(name: str, item: str, column: str,
                data_dir_: str | os.PathLike[str] | None = None, verify: bool = True,
                scale: float = 1.0) -> pd.DataFrame:
    """One item of a techme table as ``region, year, <column>`` (value times ``scale``).

    Raises DataError if the item is absent or a province has no row at all.
    """
    t = techme_table(name, data_dir_, verify)
    d = t[t["item"] == item]
    if d.empty:
        raise DataError(f"techme/{name}.rda: no item {item!r} (found {', '.join(t['item'].unique())})")
    missing = [p for p in PROVINCES if p not in set(d["region"])]
    if missing:
        raise DataError(f"techme/{name}.rda, item {item!r}: no rows for {', '.join(missing)}")
    out = d[["region", "year"]].assign(**{column: d["value"].to_numpy() * scale})
    out.attrs["source"] = t.attrs["source"] + f", item {item}"
    out.attrs["unit"] = d["unit"].iloc[0]
    return out.reset_index(drop=True)
