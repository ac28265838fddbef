"""Provincial statistical series of ``nbs-provinces/`` (mirror README section 12).

Twelve workbooks in two formats, both with **every value stored as text**:

- **EPS DATA extracts** (8 files): row 1 holds the years (text) from column C; column A
  the indicator (a merged cell spanning its block, so it is carried down); column B the
  short province name (``北京``, ``内蒙古``; ``全国总计`` is the national total); several
  indicators stacked as blocks; a footer (``数据来源：…``, ``由EPS DATA整理``) after the
  last block; empty cells are ``None``.
- **NBS 分省年度数据 exports** (4 files, sheet ``Sheet1``): rows 1-3 say database,
  indicator and time; row 4 ``地区`` then ``2025年`` … ``1978年`` (newest first); then
  one row per province with its full name; empty cells are ``''``; notes below.

:func:`series` returns one named series (:data:`SERIES`) as ``region, year, <name>`` for
the 30 study provinces (Tibet dropped); :func:`national_population` the 全国总计 row.

**Two GDP vintages are never mixed**: the EPS files carry the first-release yearbook
values (level breaks at the 2019 and 2024 census revisions), the NBS exports the current
vintage revised after the 5th economic census. Each series says its vintage in
:data:`SERIES`; a ratio is only formed within one vintage (``secondary_share_pct`` is the
EPS file's own share, ``secondary_100m_cny`` the current NBS series).

Every bad cell is a :class:`~carbonlab._util.DataError` naming the file, the sheet and
the cell (``nbs-provinces/gdp_1949-2024.xlsx, sheet '…', cell D5: not a number 'x'``).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data._read import _attrs, _cached, _col_letter, _open_workbook, _order, _root
from carbonlab.data.nbs import province_or_none
from carbonlab.data.registry import check_file

__all__ = ["FOLDER", "SERIES", "series", "national_population", "eps_blocks"]

PathLike = str | os.PathLike[str] | None
FOLDER = "nbs-provinces"
_NATIONAL = "全国总计"

# name -> (file, indicator (EPS block; None for an NBS export), unit, scale to the unit, note)
SERIES: dict[str, tuple[str, str | None, str, float, str]] = {
    "population_10k": ("population_1949-2024.xlsx", "总人口（万人）", "10^4 persons", 1.0,
                       "China Statistical Yearbook via EPS"),
    "urban_pct": ("urbanisation_rate_1990-2025.xlsx", "城镇人口所占比重（%）", "%", 1.0,
                  "China Statistical Yearbook via EPS; 31 provinces from 2005"),
    "urban_population_10k": ("urban_population_2005-2024.xlsx", None, "10^4 persons", 1.0,
                             "NBS export"),
    "gdp_first_release_100m_cny": ("gdp_1949-2024.xlsx", "地区生产总值（当年价）（亿元）",
                                   "10^8 yuan", 1.0,
                                   "EPS, FIRST-RELEASE vintage (breaks at the 2019 and 2024 "
                                   "census revisions); do not divide by current-vintage series"),
    "gdp_per_capita_yuan": ("gdp_per_capita_1992-2025.xlsx", None, "yuan/person", 1.0,
                            "NBS export, current vintage (2025 preliminary)"),
    "disposable_income_yuan": ("disposable_income_per_capita_1990-2025.xlsx", None,
                               "yuan/person", 1.0,
                               "NBS export; the unified household survey starts in 2013"),
    "secondary_100m_cny": ("secondary_value_added_1990-2025.xlsx", None, "10^8 yuan", 1.0,
                           "NBS export, CURRENT vintage (revised after the 5th census)"),
    "secondary_first_release_100m_cny": ("secondary_share_1996-2024.xlsx", "第二产业增加值（亿元）",
                                         "10^8 yuan", 1.0, "EPS, first-release vintage"),
    "secondary_share_pct": ("secondary_share_1996-2024.xlsx", "第二产业所占比重（%）", "%", 1.0,
                            "EPS, first-release vintage, the file's own share"),
    "rail_km": ("rail_mileage_civil_vehicles_1990-2024.xlsx", "铁路营业里程（公里）", "km", 1.0,
                "EPS; rounded to 100 km until 2013"),
    "civil_vehicles_10k": ("rail_mileage_civil_vehicles_1990-2024.xlsx", "民用汽车拥有量（万辆）",
                           "10^4 vehicles", 1.0, "EPS; civil vehicles, not private cars"),
    "generation_total_gwh": ("power_generation_by_source_1990-2023.xlsx", "发电量（亿千瓦小时）",
                             "GWh", 100.0, "China Energy Statistical Yearbook via EPS"),
    "generation_hydro_gwh": ("power_generation_by_source_1990-2023.xlsx",
                             "水力发电量（亿千瓦小时）", "GWh", 100.0, "no Shanghai row"),
    "generation_thermal_gwh": ("power_generation_by_source_1990-2023.xlsx",
                               "火力发电量（亿千瓦小时）", "GWh", 100.0, ""),
    "generation_nuclear_gwh": ("power_generation_by_source_1990-2023.xlsx",
                               "核能发电量（亿千瓦小时）", "GWh", 100.0, "2017-2023, 8 provinces"),
    "generation_wind_gwh": ("power_generation_by_source_1990-2023.xlsx",
                            "风力发电量（亿千瓦小时）", "GWh", 100.0, "2017-2023"),
    "generation_solar_gwh": ("power_generation_by_source_1990-2023.xlsx",
                             "太阳能发电量（亿千瓦小时）", "GWh", 100.0, "2017-2023"),
    "energy_consumption_10k_tce": ("energy_consumption_1990-2019.xlsx", "能源消费量（万吨标煤）",
                                   "10^4 tce", 1.0, "China Energy Statistical Yearbook via EPS"),
    "natural_gas_consumption_1e8m3": ("energy_consumption_1990-2019.xlsx",
                                      "天然气消费量（亿立方米）", "10^8 m3", 1.0, "ends in 2015"),
    "electricity_consumption_gwh": ("energy_consumption_1990-2019.xlsx",
                                    "电力消费量（亿千瓦小时）", "GWh", 100.0, "ends in 2015"),
    "raw_coal_output_10k_t": ("energy_production_1990-2023.xlsx", "原煤生产量（万吨）", "10^4 t",
                              1.0, "producing provinces only; empty 2010-2013"),
    "natural_gas_output_1e8m3": ("energy_production_1990-2023.xlsx", "天然气生产量（亿立方米）",
                                 "10^8 m3", 1.0, "producing provinces only"),
}
"""Named series: file, EPS block (None: NBS export), unit, factor to that unit, note."""

_FOOTER = re.compile(r"^\s*(数据来源|由EPS|注[：:])")


def _value(v: object, where: str) -> float:
    """A text (or numeric) cell as float; None or '' is NaN; anything else a DataError."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return math.nan
    if isinstance(v, bool):
        raise DataError(f"{where}: not a number ({v!r})")
    try:
        x = float(str(v).replace(",", "").strip())
    except ValueError:
        raise DataError(f"{where}: not a number ({v!r})") from None
    if not math.isfinite(x):
        raise DataError(f"{where}: not a finite number ({v!r})")
    if x < 0:
        raise DataError(f"{where}: negative value {x!r}")
    return x


def _rows(path: Path) -> tuple[str, list[tuple]]:
    wb = _open_workbook(path)
    try:
        name = wb.sheetnames[0]
        try:
            rows = list(wb[name].iter_rows(values_only=True))
        except Exception as exc:
            raise DataError(f"{path}, sheet {name!r}: unreadable ({type(exc).__name__}: {exc})"
                            ) from None
    finally:
        wb.close()
    if not rows:
        raise DataError(f"{path}, sheet {name!r}: empty sheet")
    return name, rows


def _region(name: object, where: str) -> str | None:
    s = "".join(str(name).split())
    if s == _NATIONAL:
        return "China"
    return province_or_none(s, where)


def _parse_eps(path: Path) -> pd.DataFrame:
    sheet, rows = _rows(path)
    at = f"{path}, sheet {sheet!r}"
    head = rows[0]
    years = []
    for j in range(2, len(head)):
        h = head[j]
        if h is None or (isinstance(h, str) and not h.strip()):
            break
        if not re.fullmatch(r"\s*\d{4}\s*", str(h)):
            raise DataError(f"{at}, cell {_col_letter(j)}1: expected a year, found {h!r}")
        years.append(int(str(h)))
    if not years:
        raise DataError(f"{at}, cell C1: expected the years in row 1 from column C")
    recs, indicator, seen = [], None, {}
    for i, r in enumerate(rows[1:], start=2):
        a = r[0] if r else None
        b = r[1] if len(r) > 1 else None
        if isinstance(a, str) and _FOOTER.match(a):
            break
        if a is not None and str(a).strip():
            indicator = str(a).strip()
        if b is None or not str(b).strip():
            if any(v not in (None, "") for v in r[2:]):
                raise DataError(f"{at}, cell B{i}: values without a province name")
            continue
        if indicator is None:
            raise DataError(f"{at}, cell A{i}: no indicator for the first block")
        region = _region(b, f"{at}, cell B{i}")
        if region is None:  # Tibet
            continue
        if (indicator, region) in seen:
            raise DataError(f"{at}, row {i}: second row for {region} in block {indicator!r} "
                            f"(first in row {seen[indicator, region]})")
        seen[indicator, region] = i
        for k, y in enumerate(years):
            v = r[2 + k] if 2 + k < len(r) else None
            recs.append((indicator, region, y, _value(v, f"{at}, cell {_col_letter(2 + k)}{i}")))
    return pd.DataFrame(recs, columns=["indicator", "region", "year", "value"])


def _parse_nbs(path: Path) -> pd.DataFrame:
    sheet, rows = _rows(path)
    at = f"{path}, sheet {sheet!r}"
    hrow = next((i for i, r in enumerate(rows[:10]) if r and str(r[0]).strip() == "地区"), None)
    if hrow is None:
        raise DataError(f"{at}, column A: no header row starting with '地区' in rows 1-10")
    years = []
    for j, h in enumerate(rows[hrow][1:], start=1):
        if h is None or not str(h).strip():
            continue
        m = re.fullmatch(r"\s*(\d{4})年\s*", str(h))
        if not m:
            raise DataError(f"{at}, cell {_col_letter(j)}{hrow + 1}: expected 'YYYY年', found {h!r}")
        years.append((j, int(m.group(1))))
    recs, seen = [], {}
    for i, r in enumerate(rows[hrow + 1:], start=hrow + 2):
        a = r[0] if r else None
        if a is None or not str(a).strip():
            continue
        if _FOOTER.match(str(a)):
            break
        region = _region(a, f"{at}, cell A{i}")
        if region is None:
            continue
        if region in seen:
            raise DataError(f"{at}, row {i}: second row for {region} (first in row {seen[region]})")
        seen[region] = i
        for j, y in years:
            v = r[j] if j < len(r) else None
            recs.append(("", region, y, _value(v, f"{at}, cell {_col_letter(j)}{i}")))
    return pd.DataFrame(recs, columns=["indicator", "region", "year", "value"])


def _rel(file: str) -> list[str]:
    return [f"{FOLDER}/{file}"]


@_cached(_rel)
def _table(root: Path, verify: bool, file: str) -> pd.DataFrame:
    path = check_file(f"{FOLDER}/{file}", root, verify_hash=verify)
    _, rows = _rows(path)
    eps = rows[0][0] is None or not str(rows[0][0]).strip()
    df = _parse_eps(path) if eps else _parse_nbs(path)
    df.attrs["format"] = "EPS" if eps else "NBS"
    return df


def eps_blocks(file: str, data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """All values of one workbook of ``nbs-provinces/``: indicator, region, year, value.

    ``indicator`` is the EPS block name (``""`` for an NBS export); ``region`` is the
    canonical province name or ``"China"`` for 全国总计 (Tibet is dropped); empty cells
    are NaN; units are those of the block name.
    """
    return _table(_root(data_dir), verify, file)


def series(name: str, data_dir: PathLike = None, verify: bool = True,
           years: tuple[int, int] | None = None) -> pd.DataFrame:
    """One named series (:data:`SERIES`) for the 30 provinces: region, year, ``name``.

    Rows with an empty cell are dropped (so a province-year absent from the source is
    absent here); ``years`` = (first, last) keeps that span. ``attrs``: units, source
    (file, block, vintage note).
    """
    if name not in SERIES:
        raise ParameterError(f"series={name!r}: choose one of {', '.join(SERIES)}")
    file, block, unit, scale, note = SERIES[name]
    t = eps_blocks(file, data_dir, verify)
    if block is not None:
        if block not in set(t["indicator"]):
            raise DataError(f"{FOLDER}/{file}: no block {block!r} in column A "
                            f"(found {', '.join(t['indicator'].unique())})")
        t = t[t["indicator"] == block]
    t = t[(t["region"] != "China") & t["value"].notna()]
    if years is not None:
        t = t[t["year"].between(*years)]
    out = _order(pd.DataFrame({"region": t["region"], "year": t["year"].astype(int),
                               name: t["value"].to_numpy(float) * scale}))
    src = f"NBS via {FOLDER}/{file}" + (f", block {block}" if block else "") + (
        f" ({note})" if note else "")
    return _attrs(out, {name: unit}, src)


def national_population(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """China's year-end population (全国总计 row): year, population_10k (10^4 persons).

    1990-2024. It exceeds the sum of the 31 provinces (2022: 141,175 vs 140,975).
    """
    file = SERIES["population_10k"][0]
    t = eps_blocks(file, data_dir, verify)
    t = t[(t["region"] == "China") & t["value"].notna()]
    if t.empty:
        raise DataError(f"{FOLDER}/{file}: no row {_NATIONAL!r} in column B")
    out = pd.DataFrame({"year": t["year"].astype(int).to_numpy(),
                        "population_10k": t["value"].to_numpy(float)})
    return _attrs(out.reset_index(drop=True), {"population_10k": "10^4 persons"},
                  f"NBS China Statistical Yearbook via EPS ({FOLDER}/{file}, row {_NATIONAL})")

