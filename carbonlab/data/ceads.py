"""CEADs inventories: provincial CO2 (two releases), national CO2, 290 cities.

Two releases of the provincial inventories are in the mirror (README sections 1a and
11a): ``"v1"`` (``ceads-provinces/``, 1997-2019, Shan et al. 2018, 2020) and ``"v2"``
(``ceads-provinces-v2/``, 2001-2022, adds Xu et al. 2024 for 2020-2021). The book uses
**one release, v2**, for every year (:data:`RELEASE`); :func:`release_differences`
compares the two where they overlap. Province sheets are read **by position**: row 4
is the total, rows 5-51 the 47 sectors, columns B-R the 17 fuels, V process, W the
scope-1 total; both identities (row 4 = sum of rows 5-51, W = sum of B-V) are checked
on every sheet, and every problem is a :class:`~carbonlab._util.DataError` naming
the file, sheet and cell.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data import cities as _cities
from carbonlab.data._read import (
    _attrs,
    _cached,
    _col_letter,
    _hkey,
    _number,
    _open_workbook,
    _root,
    _sheet_rows,
    _signature,
)
from carbonlab.data.registry import check_file
from carbonlab.data.schemas import validate
from carbonlab.regions import PROVINCES, resolve_region

PathLike = str | os.PathLike[str] | None

CEADS_FUELS: tuple[str, ...] = (
    "Raw Coal", "Cleaned Coal", "Other Washed Coal", "Briquettes", "Coke", "Coke Oven Gas",
    "Other Gas", "Other Coking Products", "Crude Oil", "Gasoline", "Kerosene", "Diesel Oil",
    "Fuel Oil", "LPG", "Refinery Gas", "Other Petroleum Products", "Natural Gas",
)
"""CEADs' 17 fuels (columns B-R of a province sheet)."""
_COLUMNS: tuple[str, ...] = CEADS_FUELS + (
    "Scope 2 Heat", "Scope 2 Electricity", "Other Energy", "Process", "Scope 1 Total"
)
_PROCESS_COL = 20  # column V (0-based from column B)
_TOTAL_COL = 21  # column W
_FUEL_OUT = CEADS_FUELS + ("process",)

CEADS_SECTORS: tuple[str, ...] = (
    "Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy",
    "Coal Mining and Dressing", "Petroleum and Natural Gas Extraction",
    "Ferrous Metals Mining and Dressing", "Nonferrous Metals Mining and Dressing",
    "Nonmetal Minerals Mining and Dressing", "Other Minerals Mining and Dressing",
    "Logging and Transport of Wood and Bamboo", "Food Processing", "Food Production",
    "Beverage Production", "Tobacco Processing", "Textile Industry",
    "Garments and Other Fiber Products", "Leather, Furs, Down and Related Products",
    "Timber Processing, Bamboo, Cane, Palm Fiber & Straw Products", "Furniture Manufacturing",
    "Papermaking and Paper Products", "Printing and Record Medium Reproduction",
    "Cultural, Educational and Sports Articles", "Petroleum Processing and Coking",
    "Raw Chemical Materials and Chemical Products", "Medical and Pharmaceutical Products",
    "Chemical Fiber", "Rubber Products", "Plastic Products", "Nonmetal Mineral Products",
    "Smelting and Pressing of Ferrous Metals", "Smelting and Pressing of Nonferrous Metals",
    "Metal Products", "Ordinary Machinery", "Equipment for Special Purposes",
    "Transportation Equipment", "Electric Equipment and Machinery",
    "Electronic and Telecommunications Equipment",
    "Instruments, Meters, Cultural and Office Machinery", "Other Manufacturing Industry",
    "Scrap and waste", "Production and Supply of Electric Power, Steam and Hot Water",
    "Production and Supply of Gas", "Production and Supply of Tap Water", "Construction",
    "Transportation, Storage, Post and Telecommunication Services",
    "Wholesale, Retail Trade and Catering Services", "Others", "Urban", "Rural",
)
"""The 47 CEADs sectors (rows 5-51): 45 production sectors, then Urban and Rural households."""
POWER_SECTOR = "Production and Supply of Electric Power, Steam and Hot Water"
PROVINCE_YEARS: tuple[int, ...] = tuple(range(1997, 2018))
_TOL = 1e-9  # Mt CO2: tolerance of the CEADs sum identities

NATIONAL_FILE = "ceads-national/China_CO2_Inventory_1997-2019_(IPCC_Sectoral_Emissions).xlsx"
CITIES_FILE = "ceads-cities/The_Emission_Inventories_for_290_Chinese_Cities_from_1997_to_2019.xlsx"


def province_file(year: int) -> str:
    """Path (relative to the data directory) of the CEADs province workbook of ``year``."""
    if year not in PROVINCE_YEARS:
        raise ParameterError(f"year={year}: CEADs province files cover {PROVINCE_YEARS[0]}-{PROVINCE_YEARS[-1]}")
    if year == 1997:  # published with a lower-case name
        return "ceads-provinces/Emission_inventories_for_30_provinces_1997.xlsx"
    return f"ceads-provinces/Emission_Inventories_for_30_Provinces_{year}.xlsx"



# --------------------------------------------------------------------------- CEADs provinces


def _parse_province_sheet(rows: list[tuple], where: str) -> np.ndarray:
    """Rows 4-51 x columns B-W of one province sheet as a (48, 22) array, checked."""
    if len(rows) < 51 or min(len(r) for r in rows[:51]) < 23:
        ncol = max((len(r) for r in rows), default=0)
        raise DataError(f"{where}: expected 51 rows x 23 columns (A-W), found {len(rows)} x {ncol}")
    header = rows[0]
    for j, name in enumerate(_COLUMNS):
        if _hkey(header[j + 1]) != _hkey(name):
            raise DataError(
                f"{where}, cell {_col_letter(j + 1)}1: expected header {name!r}, found {header[j + 1]!r}"
            )
    if "total" not in _hkey(rows[3][0]):
        raise DataError(f"{where}, cell A4: expected the total row, found {rows[3][0]!r}")
    for i, sector in enumerate(CEADS_SECTORS):
        label = rows[4 + i][0]
        if _hkey(label) != _hkey(sector):
            raise DataError(f"{where}, cell A{5 + i}: expected sector {sector!r}, found {label!r}")
    block = [r[1:23] for r in rows[3:51]]
    kinds = {type(v) for r in block for v in r}
    arr = np.array(block, dtype=float) if kinds <= {int, float} else None
    if arr is None or not np.isfinite(arr).all() or (arr < 0).any():
        # slow path only to name the first bad cell
        for i in range(48):
            for j in range(22):
                _number(block[i][j], f"{where}, cell {_col_letter(1 + j)}{4 + i}")
    # W = sum(B..V) on every row; row 4 = sum(rows 5..51) in every column
    dw = np.abs(arr[:, :_TOTAL_COL].sum(axis=1) - arr[:, _TOTAL_COL])
    if dw.max() > _TOL * max(1.0, np.abs(arr[:, _TOTAL_COL]).max()):
        i = int(dw.argmax())
        raise DataError(
            f"{where}, cell W{4 + i}: scope-1 total {arr[i, _TOTAL_COL]!r} differs from the sum "
            f"of columns B-V by {dw[i]:.3g} Mt"
        )
    dr = np.abs(arr[1:].sum(axis=0) - arr[0])
    if dr.max() > _TOL * max(1.0, np.abs(arr[0]).max()):
        j = int(dr.argmax())
        raise DataError(
            f"{where}, cell {_col_letter(1 + j)}4: total {arr[0, j]!r} differs from the sum of "
            f"the 47 sectors (rows 5-51) by {dr[j]:.3g} Mt"
        )
    return arr


def _parse_province_workbook(path: Path, year: int) -> dict[str, np.ndarray]:
    wb = _open_workbook(path)
    try:
        out: dict[str, np.ndarray] = {}
        for name in wb.sheetnames:
            if name.strip().upper() == "NOTE":
                continue
            m = re.fullmatch(r"\s*(.*?)\s*(\d{4})\s*", name)
            if not m:
                raise DataError(f"{path}, sheet {name!r}: expected a sheet named <Province><YYYY>")
            if int(m.group(2)) != year:
                raise DataError(f"{path}, sheet {name!r}: year {m.group(2)} in a file for {year}")
            try:
                region = resolve_region(m.group(1))
            except ParameterError as exc:
                raise DataError(f"{path}, sheet {name!r}: {exc}") from None
            if region in out:
                raise DataError(f"{path}, sheet {name!r}: duplicate sheet for {region}")
            out[region] = _parse_province_sheet(_sheet_rows(wb, name, path), f"{path}, sheet {name!r}")
    finally:
        wb.close()
    missing = [p for p in PROVINCES if p not in out]
    if missing:
        raise DataError(f"{path}: no sheet for {', '.join(missing)}")
    return out


@functools.lru_cache(maxsize=64)
def _province_workbook_cached(path_s: str, year: int, sig: tuple) -> dict[str, np.ndarray]:
    return _parse_province_workbook(Path(path_s), year)


def _province_cube(root: Path, verify: bool) -> np.ndarray:
    """(years, 30 provinces, 48 rows, 22 columns) array of all province workbooks."""
    cube = np.empty((len(PROVINCE_YEARS), len(PROVINCES), 48, 22))
    for k, year in enumerate(PROVINCE_YEARS):
        rel = province_file(year)
        path = check_file(rel, root, verify_hash=verify)
        sheets = _province_workbook_cached(str(path), year, _signature(root, [rel]))
        for p, region in enumerate(PROVINCES):
            cube[k, p] = sheets[region]
    return cube


def _province_rels(*_args) -> list[str]:
    return [province_file(y) for y in PROVINCE_YEARS]


_CEADS_SRC = "CEADs provincial CO2 inventories 1997-2017 (Shan et al. 2018, 2020; ceads.net)"


@_cached(_province_rels)
def _fuels(root: Path, verify: bool) -> pd.DataFrame:
    cube = _province_cube(root, verify)
    cols = list(range(17)) + [_PROCESS_COL]
    vals = cube[:, :, 0, :][:, :, cols]  # (year, region, fuel)
    idx = pd.MultiIndex.from_product([PROVINCE_YEARS, PROVINCES, _FUEL_OUT], names=["year", "region", "fuel"])
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "fuel", "emissions_mt"]].sort_values(["region", "year"], kind="stable")
    return _attrs(df.reset_index(drop=True), {"emissions_mt": "Mt CO2"}, _CEADS_SRC)


def ceads_province_fuels(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Provincial CO2 by fuel (row 4 of each sheet): region, year, fuel, emissions_mt.

    ``fuel`` is one of CEADs' 17 fuel names (:data:`CEADS_FUELS`) or ``"process"``
    (cement process emissions); 30 provinces x 1997-2017 x 18 = 11,340 rows, Mt CO2.

    Parameters
    ----------
    data_dir
        Mirror directory (default :func:`data_dir`).
    verify
        Check the files' SHA-256 against the registry.
    """
    return _fuels(_root(data_dir), verify)


@_cached(_province_rels)
def _sectors(root: Path, verify: bool) -> pd.DataFrame:
    cube = _province_cube(root, verify)
    cols = list(range(17)) + [_PROCESS_COL]
    vals = cube[:, :, 1:, :][:, :, :, cols]  # (year, region, sector, fuel)
    sector = pd.Categorical(CEADS_SECTORS, categories=list(CEADS_SECTORS))
    fuel = pd.Categorical(_FUEL_OUT, categories=list(_FUEL_OUT))
    idx = pd.MultiIndex.from_product(
        [PROVINCE_YEARS, PROVINCES, sector, fuel], names=["year", "region", "sector", "fuel"]
    )
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "sector", "fuel", "emissions_mt"]]
    df = df.sort_values(["region", "year"], kind="stable").reset_index(drop=True)
    return _attrs(df, {"emissions_mt": "Mt CO2"}, _CEADS_SRC)


def ceads_province_sectors(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Provincial CO2 by sector and fuel: region, year, sector, fuel, emissions_mt (Mt CO2).

    47 sectors (:data:`CEADS_SECTORS`, categorical) x 18 fuels (17 + ``"process"``)
    x 30 provinces x 21 years; rows 5-51 of each sheet, names stripped.
    """
    return _sectors(_root(data_dir), verify)


@_cached(_province_rels)
def _power(root: Path, verify: bool) -> pd.DataFrame:
    cube = _province_cube(root, verify)
    k = 1 + CEADS_SECTORS.index(POWER_SECTOR)
    vals = cube[:, :, k, _TOTAL_COL]
    idx = pd.MultiIndex.from_product([PROVINCE_YEARS, PROVINCES], names=["year", "region"])
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "emissions_mt"]].sort_values(["region", "year"]).reset_index(drop=True)
    return _attrs(df, {"emissions_mt": "Mt CO2"}, f"{_CEADS_SRC}; sector {POWER_SECTOR!r}")


def ceads_power_sector_emissions(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Scope-1 CO2 of the power sector (:data:`POWER_SECTOR`): region, year, emissions_mt."""
    return _power(_root(data_dir), verify)


@_cached(_province_rels)
def _totals(root: Path, verify: bool) -> pd.DataFrame:
    cube = _province_cube(root, verify)
    vals = cube[:, :, 0, _TOTAL_COL]
    idx = pd.MultiIndex.from_product([PROVINCE_YEARS, PROVINCES], names=["year", "region"])
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "emissions_mt"]].sort_values(["region", "year"]).reset_index(drop=True)
    energy = cube[:, :, 0, :17].sum(axis=2)  # the 17 fuels of row 4
    gaps = [{"region": PROVINCES[p], "year": PROVINCE_YEARS[k]}
            for k, p in zip(*np.nonzero(energy == 0), strict=True)]
    return _attrs(df, {"emissions_mt": "Mt CO2"}, f"{_CEADS_SRC}; scope-1 total (cell W4)",
                  no_energy_data=sorted(gaps, key=lambda g: (g["region"], g["year"])))


def ceads_province_totals(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Provincial scope-1 CO2 totals (cell W4): region, year, emissions_mt (Mt CO2).

    Both CEADs identities are checked on every sheet (row 4 = sum of rows 5-51,
    column W = sum of columns B-V, to 1e-9 relative); a violation is a DataError
    naming the file, sheet and cell. 630 rows (30 x 1997-2017).

    ``attrs["no_energy_data"]`` lists province-years whose 17 fuel columns are all
    zero (CEADs had no energy balance: Ningxia 2000-2002, Hainan 2002); their total
    is process CO2 only, so it is not comparable with other years.
    """
    return _totals(_root(data_dir), verify)


# --------------------------------------------------------------------------- CEADs national


@_cached(lambda: [NATIONAL_FILE])
def _national(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(NATIONAL_FILE, root, verify_hash=verify)
    wb = _open_workbook(path)
    try:
        if "sum" not in wb.sheetnames or "Sum-Sec-Scope 1" not in wb.sheetnames:
            raise DataError(f"{path}: expected sheets 'sum' and 'Sum-Sec-Scope 1', found {wb.sheetnames}")
        rows = _sheet_rows(wb, "sum", path)
        sec = _sheet_rows(wb, "Sum-Sec-Scope 1", path)
    finally:
        wb.close()
    where = f"{path}, sheet 'sum'"
    if len(rows[0]) < 23 or _hkey(rows[0][_TOTAL_COL + 1]) != _hkey("Scope 1 Total"):
        got = rows[0][_TOTAL_COL + 1] if len(rows[0]) > 23 else None
        raise DataError(f"{where}, cell W1: expected header 'Scope 1 Total', found {got!r}")
    years, totals = [], []
    for i, r in enumerate(rows[1:], start=2):
        if r[0] is None or (isinstance(r[0], str) and not r[0].strip()):
            continue
        y = int(_number(r[0], f"{where}, cell A{i}"))
        vals = [_number(r[1 + j], f"{where}, cell {_col_letter(1 + j)}{i}") for j in range(22)]
        if abs(sum(vals[:_TOTAL_COL]) - vals[_TOTAL_COL]) > _TOL * max(1.0, vals[_TOTAL_COL]):
            raise DataError(f"{where}, cell W{i}: scope-1 total differs from the sum of columns B-V")
        years.append(y)
        totals.append(vals[_TOTAL_COL])
    if len(set(years)) != len(years):
        raise DataError(f"{where}, column A: duplicate year")
    # cross-check with the sector sheet's total row (row 4, years in row 1)
    head = sec[0]
    for j in range(1, len(head)):
        if head[j] is None:
            continue
        y = int(_number(head[j], f"{path}, sheet 'Sum-Sec-Scope 1', cell {_col_letter(j)}1"))
        v = _number(sec[3][j], f"{path}, sheet 'Sum-Sec-Scope 1', cell {_col_letter(j)}4")
        if y in years and abs(totals[years.index(y)] - v) > 1e-6 * max(1.0, v):
            raise DataError(
                f"{path}, sheet 'Sum-Sec-Scope 1', cell {_col_letter(j)}4: total {v!r} for {y} "
                f"differs from sheet 'sum' ({totals[years.index(y)]!r})"
            )
    df = pd.DataFrame({"year": years, "emissions_mt": totals}).sort_values("year").reset_index(drop=True)
    return _attrs(df, {"emissions_mt": "Mt CO2"}, "CEADs national CO2 inventory 1997-2019, sheet 'sum'")


def ceads_national(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """China's national scope-1 CO2: year, emissions_mt (Mt CO2), 1997-2019.

    From sheet ``sum`` (column W), checked against the sum of its fuel columns and
    against the total row of sheet ``Sum-Sec-Scope 1``.
    """
    return _national(_root(data_dir), verify)


# --------------------------------------------------------------------------- CEADs cities


@_cached(lambda: [CITIES_FILE])
def _cities_table(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(CITIES_FILE, root, verify_hash=verify)
    wb = _open_workbook(path)
    try:
        if "emission vector" not in wb.sheetnames:
            raise DataError(f"{path}: no sheet 'emission vector' (found {wb.sheetnames})")
        rows = _sheet_rows(wb, "emission vector", path)
    finally:
        wb.close()
    where = f"{path}, sheet 'emission vector'"
    expect = ("id", "city", "year", "emission")
    head = tuple(_hkey(h) for h in rows[0][:4]) if rows else ()
    if head != expect:
        raise DataError(f"{where}, row 1: expected columns ID, city, year, emission; found {rows[0][:4] if rows else None}")
    names = _cities.CITY_NAMES
    recs = []
    seen: dict[tuple[str, int], int] = {}
    for i, r in enumerate(rows[1:], start=2):
        if all(v is None for v in r[:4]):
            continue
        city = r[1]
        if city is None or not str(city).strip():
            raise DataError(f"{where}, cell B{i}: missing city name")
        city = str(city).strip()
        year = int(_number(r[2], f"{where}, cell C{i}"))
        if not 1990 <= year <= 2100:
            raise DataError(f"{where}, cell C{i}: implausible year {year}")
        em = _number(r[3], f"{where}, cell D{i}")
        try:
            province = _cities.province_of(city)
        except ParameterError as exc:
            raise DataError(f"{where}, cell B{i}: {exc}") from None
        if (city, year) in seen:
            raise DataError(f"{where}, row {i}: duplicate of row {seen[city, year]} ({city}, {year})")
        seen[city, year] = i
        recs.append((city, province, year, em))
    df = pd.DataFrame(recs, columns=["city_zh", "province", "year", "emissions_mt"])
    table = _cities.city_table().set_index("city_zh")["city"]
    # cities outside the crosswalk keep their Chinese name (documented in ceads_cities)
    df["city"] = [table.get(c, c) if c in names else c for c in df["city_zh"]]
    df["pilot_year"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df = df[["city", "city_zh", "province", "year", "emissions_mt", "pilot_year"]]
    df = df.sort_values(["province", "city_zh", "year"]).reset_index(drop=True)
    df = validate(df, "cities", source=where)
    return _attrs(
        df, {"emissions_mt": "Mt CO2"},
        "CEADs 290-city CO2 inventory 1997-2019, sheet 'emission vector' (Shan et al. 2022)",
        pilot_year="smart-city pilot lists are not available as data: pilot_year is <NA> for all",
    )


def ceads_cities(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """City-year CO2 totals: city, city_zh, province, year, emissions_mt, pilot_year.

    Long format from sheet ``emission vector`` (3,929 city-years, 290 cities,
    unbalanced; gaps are left as gaps, no rows are invented). ``city`` is the
    English name from :mod:`carbonlab.data.cities` (a city missing from the
    crosswalk keeps its Chinese name); ``province`` comes from the name's
    prefix. ``pilot_year`` is ``<NA>`` throughout: the smart-city pilot lists
    are not available as data.
    """
    return _cities_table(_root(data_dir), verify)
