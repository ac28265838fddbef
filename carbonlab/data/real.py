"""Loaders of the real public data (CEADs inventories, GCAM-China inputs).

The files live in a local mirror (``$CARBONLAB_DATA_DIR``; see
:func:`carbonlab.data.registry.data_dir`) and are never copied into the
repository. Each loader checks its files first
(:func:`carbonlab.data.registry.check_file`: hash, readable workbook), parses
them as published -- CEADs province sheets **by position** because their header
style drifts between years -- and returns a tidy DataFrame with units in the
column names or ``attrs["units"]``. Every problem is a
:class:`~carbonlab._util.DataError` naming the file and the sheet/cell or the
file line and column.

Results are cached in-process per (data directory, file sizes and mtimes,
arguments); every call returns a fresh copy.

Quirks handled here (see the mirror's README):

- CEADs provinces: 1997 file name in lower case; row 4 is the total, rows
  5-51 the 47 sectors, columns B-R the 17 fuels, V process, W scope-1 total;
  both identities (row 4 = sum of rows 5-51, W = sum of B-V) are checked.
- GCAM CSVs: ``#`` comment header; thousands separators; Hong Kong, Macau,
  Tibet and the ``National Total``/``sum``/``difference`` rows are dropped.
- CPSY generation: 100 GWh converted to GWh; 2003 and 2006 are missing (all
  zero in the file) and become NaN, as do other all-zero rows (Chongqing before
  it became a province-level unit in 1997); ``*.adj`` columns and ``row`` are
  ignored; geothermal is added to ``other``. One published negative residual
  (Hainan 2009 ``other`` = -1.8 x 100 GWh) is set to 0 and recorded in
  ``attrs["repairs"]``.
- Population: China Statistical Yearbook from 2000, Compendium of Statistics
  before; isolated one-year spikes (Heilongjiang 2013 = 3535) are detected,
  replaced by linear interpolation and recorded in ``attrs["repairs"]``.
- Electricity flows: 2020 and 2021 are copies of 2019 and are excluded unless
  asked for (then flagged ``copy_of_2019``).
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data import cities as _cities
from carbonlab.data.registry import check_file, data_dir
from carbonlab.data.schemas import DRIVERS, validate
from carbonlab.regions import PROVINCES, resolve_region

__all__ = [
    "data_dir",
    "CEADS_FUELS",
    "CEADS_SECTORS",
    "POWER_SECTOR",
    "PROVINCE_YEARS",
    "province_file",
    "ceads_province_fuels",
    "ceads_province_sectors",
    "ceads_power_sector_emissions",
    "ceads_province_totals",
    "ceads_national",
    "ceads_cities",
    "population",
    "urbanisation",
    "gdp_real",
    "generation_by_fuel",
    "net_electricity_imports",
    "grid_mapping",
    "ceads_panel",
    "ceads_scope1_panel",
]

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
CSY_POP_FILE = "gcam-china/China_Statistics_Yearbook.csv"
COMPENDIUM_FILE = "gcam-china-hk/China_Compendium_of_Statistics.csv"
URBAN_FILE = "gcam-china-hk/urban_pop_share_province_Yh.csv"
GDP_FILE = "gcam-china-hk/gdp_mil10usd_province.csv"
CPSY_FILE = "gcam-china-hk/CPSY_GWh_province_F_elec_out.csv"
FLOWS_FILE = "gcam-china-hk/ABSPI_intra_province_electricity_trade.csv"
MAPPING_FILE = "gcam-china-hk/province_names_mappings.csv"

# Rows of the GCAM wide files that are not one of the 30 provinces.
_NON_PROVINCE = {"national total", "sum", "difference", "hong kong", "macau", "macao", "tibet"}
_OUTSIDE_CODES = {"HK", "MC", "XZ"}
_GRID_NAMES = {
    "North China Grid": "North", "Northeast China Grid": "Northeast",
    "East China Grid": "East", "Central China Grid": "Central",
    "Northwest China Grid": "Northwest", "China Southern Power Grid": "China Southern",
}


def province_file(year: int) -> str:
    """Path (relative to the data directory) of the CEADs province workbook of ``year``."""
    if year not in PROVINCE_YEARS:
        raise ParameterError(f"year={year}: CEADs province files cover {PROVINCE_YEARS[0]}-{PROVINCE_YEARS[-1]}")
    if year == 1997:  # published with a lower-case name
        return "ceads-provinces/Emission_inventories_for_30_provinces_1997.xlsx"
    return f"ceads-provinces/Emission_Inventories_for_30_Provinces_{year}.xlsx"


# --------------------------------------------------------------------------- caching


def _signature(root: Path, rels: Sequence[str]) -> tuple:
    sig = []
    for rel in rels:
        try:
            st = (root / rel).stat()
            sig.append((rel, st.st_size, st.st_mtime_ns))
        except OSError:
            sig.append((rel, None, None))
    return tuple(sig)


def _cached(rels_of: Callable[..., Sequence[str]]):
    """Decorate ``f(root: Path, verify: bool, *args)``: lru-cached, keyed on the files' stats."""

    def deco(f):
        @functools.lru_cache(maxsize=32)
        def inner(root_s, verify, sig, args):
            return f(Path(root_s), verify, *args)

        @functools.wraps(f)
        def outer(root: Path, verify: bool, *args) -> pd.DataFrame:
            sig = _signature(root, rels_of(*args))
            out = inner(str(root), bool(verify), sig, args)
            return out.copy(deep=True)

        outer.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
        return outer

    return deco


# --------------------------------------------------------------------------- helpers


def _col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on corrupt archives
        raise DataError(f"{path}: not a readable xlsx workbook ({type(exc).__name__}: {exc})") from None


def _sheet_rows(wb, name: str, path: Path) -> list[tuple]:
    try:
        return list(wb[name].iter_rows(values_only=True))
    except Exception as exc:
        raise DataError(f"{path}, sheet {name!r}: unreadable ({type(exc).__name__}: {exc})") from None


def _hkey(s: object) -> str:
    """Header key insensitive to CEADs' header-style drift (spaces, underscores, case)."""
    return re.sub(r"[\s_]+", "", str(s)).lower()


def _number(v: object, where: str, allow_negative: bool = False) -> float:
    if v is None or (isinstance(v, str) and not v.strip()):
        raise DataError(f"{where}: missing value")
    if isinstance(v, bool) or not isinstance(v, int | float):
        try:
            v = float(str(v).replace(",", ""))
        except ValueError:
            raise DataError(f"{where}: not a number ({v!r})") from None
    x = float(v)
    if not math.isfinite(x):
        raise DataError(f"{where}: not a finite number ({v!r})")
    if x < 0 and not allow_negative:
        raise DataError(f"{where}: negative value {x!r}")
    return x


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


def _attrs(df: pd.DataFrame, units: dict[str, str], source: str, **extra) -> pd.DataFrame:
    df.attrs["units"] = units
    df.attrs["source"] = source
    df.attrs.update(extra)
    return df


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


# --------------------------------------------------------------------------- GCAM CSVs


def _read_gcam_csv(path: Path) -> tuple[pd.DataFrame, int]:
    """Read a GCAM CSV as strings; return (table, line number of its first data row)."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            n_comment = 0
            for line in fh:
                if line.startswith("#"):
                    n_comment += 1
                else:
                    break
        df = pd.read_csv(path, skiprows=n_comment, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: unreadable CSV ({msg})") from None
    df.columns = [c.strip() for c in df.columns]
    return df, n_comment + 2


def _numeric(df: pd.DataFrame, col: str, path: Path, first_line: int,
             allow_negative: bool = False, required: bool = True) -> pd.Series:
    s = df[col].astype(str).str.strip().str.replace(",", "", regex=False)
    out = pd.to_numeric(s.where(s != ""), errors="coerce")
    bad = out.isna() & (s != "") if not required else out.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        what = "missing value" if s.iloc[i] == "" else f"not a number ({df[col].iloc[i]!r})"
        raise DataError(f"{path}, line {first_line + i}, column {col}: {what}")
    if not allow_negative and (out < 0).any():
        i = int(np.flatnonzero((out < 0).to_numpy())[0])
        raise DataError(f"{path}, line {first_line + i}, column {col}: negative value {out.iloc[i]!r}")
    return out.astype(float)


def _regions(df: pd.DataFrame, col: str, path: Path, first_line: int) -> tuple[pd.Series, np.ndarray]:
    """Canonical region names of a GCAM name column and a mask of the rows to keep."""
    if col not in df.columns:
        raise DataError(f"{path}: missing column {col!r}")
    keep = np.ones(len(df), dtype=bool)
    canon = []
    for i, name in enumerate(df[col]):
        n = str(name).strip()
        if n.lower() in _NON_PROVINCE:
            keep[i] = False
            canon.append(None)
            continue
        try:
            canon.append(resolve_region(n))
        except ParameterError as exc:
            raise DataError(f"{path}, line {first_line + i}, column {col}: {exc}") from None
    return pd.Series(canon, index=df.index, dtype=object), keep


def _wide_province(path: Path, value: str, years: range, allow_nan: bool = False,
                   share: bool = False) -> pd.DataFrame:
    """Long region, year, value table from a GCAM wide file (one column per year)."""
    df, first = _read_gcam_csv(path)
    name_col = df.columns[0]
    regions, keep = _regions(df, name_col, path, first)
    year_cols = [str(y) for y in years]
    missing = [c for c in year_cols if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing[:5])}")
    lines = first + np.arange(len(df))
    sub = df.loc[keep]
    reg = regions[keep]
    dup = reg.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{path}, line {lines[keep][i]}, column {name_col}: duplicate row for {reg.iloc[i]}")
    absent = [p for p in PROVINCES if p not in set(reg)]
    if absent:
        raise DataError(f"{path}, column {name_col}: no row for {', '.join(absent)}")
    cols = {}
    for c in year_cols:
        s = sub[c].astype(str).str.strip().str.replace(",", "", regex=False)
        v = pd.to_numeric(s.where(s != ""), errors="coerce")
        bad = (v.isna() & (s != "")) | (v.isna() & (not allow_nan))
        neg = v < 0
        outside = (v > 1) if share else pd.Series(False, index=v.index)
        for mask, what in ((bad, "missing or non-numeric value"), (neg, "negative value"),
                           (outside, "share outside [0, 1]")):
            if mask.any():
                i = int(np.flatnonzero(mask.to_numpy())[0])
                raise DataError(f"{path}, line {lines[keep][i]}, column {c}: {what} ({sub[c].iloc[i]!r})")
        cols[int(c)] = v.to_numpy(float)
    wide = pd.DataFrame(cols, index=reg.to_numpy())
    long = wide.stack(future_stack=True).rename(value).rename_axis(["region", "year"]).reset_index()
    order = {p: i for i, p in enumerate(PROVINCES)}
    long = long.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    return long.reset_index(drop=True)


def _isolated_spikes(wide: pd.DataFrame, rel: float = 0.05, agree: float = 0.02) -> list[tuple[str, int]]:
    """(region, year) cells that differ from both neighbours by > ``rel`` while the
    neighbours agree within ``agree``: one-year typos in a smooth series."""
    out = []
    vals = wide.to_numpy(float)
    years = list(wide.columns)
    for r, region in enumerate(wide.index):
        for t in range(1, len(years) - 1):
            a, x, b = vals[r, t - 1], vals[r, t], vals[r, t + 1]
            mid = (a + b) / 2
            if abs(a - b) <= agree * mid and abs(x - mid) > rel * mid:
                out.append((region, int(years[t])))
    return out


@_cached(lambda: [CSY_POP_FILE, COMPENDIUM_FILE])
def _population(root: Path, verify: bool) -> pd.DataFrame:
    csy_path = check_file(CSY_POP_FILE, root, verify_hash=verify)
    comp_path = check_file(COMPENDIUM_FILE, root, verify_hash=verify)
    csy = _wide_province(csy_path, "population_10k", range(2000, 2020))
    comp = _wide_province(comp_path, "population_10k", range(1975, 2000))
    for df, p in ((csy, csy_path), (comp, comp_path)):
        if (df["population_10k"] <= 0).any():
            r = df.loc[df["population_10k"] <= 0].iloc[0]
            raise DataError(f"{p}, row {r['region']}, column {r['year']}: population must be positive")
    wide = csy.pivot(index="region", columns="year", values="population_10k")
    repairs = []
    for region, year in _isolated_spikes(wide):
        old = float(wide.loc[region, year])
        new = (float(wide.loc[region, year - 1]) + float(wide.loc[region, year + 1])) / 2
        wide.loc[region, year] = new
        repairs.append({"region": region, "year": year, "column": "population_10k",
                        "published": old, "value": new, "file": CSY_POP_FILE,
                        "reason": "isolated one-year spike (typo); linear interpolation of neighbours"})
    csy = wide.stack().rename("population_10k").reset_index()
    df = pd.concat([comp, csy], ignore_index=True)
    order = {p: i for i, p in enumerate(PROVINCES)}
    df = df.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    df = df.reset_index(drop=True)
    df["year"] = df["year"].astype(int)
    return _attrs(
        df, {"population_10k": "10^4 persons"},
        "China Statistical Yearbook (2000-2019) and Compendium of Statistics 1949-2008 "
        "(1975-1999), via GCAM-China",
        repairs=repairs,
    )


def population(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Year-end resident population: region, year, population_10k (10^4 persons), 1975-2019.

    China Statistical Yearbook for 2000-2019, Compendium of Statistics before 2000.
    Isolated one-year spikes in the yearbook series (a value > 5 % off the mean of
    its two neighbours, which agree within 2 %) are replaced by that mean and listed
    in ``attrs["repairs"]``; in the published file this catches Heilongjiang 2013
    (3535, neighbours 3834 and 3833).
    """
    return _population(_root(data_dir), verify)


@_cached(lambda: [URBAN_FILE])
def _urban(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(URBAN_FILE, root, verify_hash=verify)
    df = _wide_province(path, "urban", range(1971, 2018), share=True)
    return _attrs(df, {"urban": "fraction"}, "China Statistical Yearbook 2018 Table 2-7, via GCAM-China")


def urbanisation(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Urbanisation rate: region, year, urban (fraction 0-1), 1971-2017 (``_Yh`` file).

    Early (pre-1990) values look smoothed in the source; use with care.
    """
    return _urban(_root(data_dir), verify)


@_cached(lambda: [GDP_FILE])
def _gdp(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(GDP_FILE, root, verify_hash=verify)
    df = _wide_province(path, "gdp_musd2010", range(1975, 2020), allow_nan=True)
    if (df["gdp_musd2010"] <= 0).any():
        r = df.loc[df["gdp_musd2010"] <= 0].iloc[0]
        raise DataError(f"{path}, row {r['region']}, column {r['year']}: GDP must be positive")
    return _attrs(df, {"gdp_musd2010": "million 2010 USD"},
                  "GCAM-China gdp_mil10usd_province.csv (NBS, history to 2019)")


def gdp_real(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Real GDP: region, year, gdp_musd2010 (million 2010 USD), history 1975-2019.

    Blank cells stay NaN (Hainan 1975-1977, before it became a province).
    """
    return _gdp(_root(data_dir), verify)


# --------------------------------------------------------------------------- electricity

_EXPORT = "Export"  # to.region of exports abroad (e.g. Yunnan to Vietnam) in the flows file
_GEN_COLS = ("coal", "hydro", "nuclear", "wind", "solar", "other")
_MISSING_GEN_YEARS = (2003, 2006)
# Published values known to be wrong, set explicitly: (region, year, column) -> (published, used)
_CPSY_REPAIRS = {("Hainan", 2009, "other"): (-1.8, 0.0)}


@_cached(lambda: [CPSY_FILE])
def _generation(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(CPSY_FILE, root, verify_hash=verify)
    df, first = _read_gcam_csv(path)
    need = ("province.name", "year") + _GEN_COLS + ("geothermal",)
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    regions, keep = _regions(df, "province.name", path, first)
    year = _numeric(df, "year", path, first).astype(int)
    vals = {c: _numeric(df, c, path, first, allow_negative=True) for c in _GEN_COLS + ("geothermal",)}
    out = pd.DataFrame({"region": regions, "year": year, **vals})
    out["line"] = first + np.arange(len(out))
    out = out.loc[keep].reset_index(drop=True)
    dup = out.duplicated(["region", "year"])
    if dup.any():
        r = out.loc[dup].iloc[0]
        raise DataError(f"{path}, line {r['line']}: duplicate row for ({r['region']}, {r['year']})")
    num = list(_GEN_COLS) + ["geothermal"]
    out[num] = out[num].mask(out[num].abs() < 1e-9, 0.0)  # float noise like -1.4e-14
    missing_row = out["year"].isin(_MISSING_GEN_YEARS) | (out[list(_GEN_COLS)].abs().sum(axis=1) == 0)
    out.loc[missing_row, num] = np.nan
    repairs = []
    for (region, yr, col), (published, used) in _CPSY_REPAIRS.items():
        m = (out["region"] == region) & (out["year"] == yr)
        if m.any() and np.isclose(out.loc[m, col].iloc[0], published):
            out.loc[m, col] = used
            repairs.append({"region": region, "year": yr, "column": f"{col}_gwh",
                            "published": published * 100, "value": used * 100, "file": CPSY_FILE,
                            "reason": "negative residual in the published file set to 0"})
    neg = (out[num] < 0).any(axis=1)
    if neg.any():
        r = out.loc[neg].iloc[0]
        col = next(c for c in num if r[c] < 0)
        raise DataError(f"{path}, line {r['line']}, column {col}: negative generation {r[col]!r}")
    out["other"] = out["other"] + out["geothermal"]
    res = pd.DataFrame({"region": out["region"], "year": out["year"]})
    for c in _GEN_COLS:
        res[f"{c}_gwh"] = out[c] * 100.0  # 100 GWh -> GWh
    res["total_gwh"] = res[[f"{c}_gwh" for c in _GEN_COLS]].sum(axis=1, min_count=1)
    order = {p: i for i, p in enumerate(PROVINCES)}
    res = res.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    units = {f"{c}_gwh": "GWh" for c in _GEN_COLS} | {"total_gwh": "GWh"}
    return _attrs(
        res.reset_index(drop=True), units,
        "China Electric Power Yearbook via GCAM-China CPSY_GWh_province_F_elec_out.csv "
        "(100 GWh converted to GWh; coal = all thermal; geothermal added to other)",
        missing_years=list(_MISSING_GEN_YEARS), repairs=repairs,
    )


def generation_by_fuel(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Electricity generation: region, year, coal_gwh, hydro_gwh, nuclear_gwh, wind_gwh,
    solar_gwh, other_gwh, total_gwh (GWh), 1994-2017 and 2021.

    ``coal`` is all thermal generation; ``other`` includes geothermal. 2003 and
    2006 (all zero in the file: missing, not zero) and other all-zero rows are NaN.
    """
    return _generation(_root(data_dir), verify)


@_cached(lambda: [MAPPING_FILE])
def _mapping(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(MAPPING_FILE, root, verify_hash=verify)
    df, first = _read_gcam_csv(path)
    need = ("province", "province.name", "GB.Code", "grid.region")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    regions, keep = _regions(df, "province.name", path, first)
    for i, g in enumerate(df["grid.region"]):
        if g.strip() not in _GRID_NAMES:
            raise DataError(f"{path}, line {first + i}, column grid.region: unknown grid {g!r}")
    code = df["province"].str.strip()
    out = pd.DataFrame({
        "region": regions, "code": code,
        "gb_code": _numeric(df, "GB.Code", path, first).astype(int),
        "grid": df["grid.region"].str.strip().map(_GRID_NAMES),
        "grid_name": df["grid.region"].str.strip(),
    })
    # keep the outside rows' codes (HK, MC, XZ) for decoding flows, marked region=None
    out["in_study"] = keep
    for col in ("region", "code"):
        d = out.loc[out[col].notna(), col].duplicated()
        if d.any():
            i = int(d[d].index[0])
            raise DataError(f"{path}, line {first + i}, column {col}: duplicate {out.loc[i, col]!r}")
    absent = [p for p in PROVINCES if p not in set(out["region"].dropna())]
    if absent:
        raise DataError(f"{path}, column province.name: no row for {', '.join(absent)}")
    return out


def grid_mapping(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Province to regional grid from GCAM-China: region, code, gb_code, grid, grid_name.

    30 rows; ``grid`` uses :func:`carbonlab.regions.grid_region`'s names (North,
    Northeast, East, Central, Northwest, China Southern); ``grid_name`` is the
    file's spelling. Hong Kong, Macau and Tibet are dropped.
    """
    m = _mapping(_root(data_dir), verify)
    m = m.loc[m["in_study"]].drop(columns="in_study")
    order = {p: i for i, p in enumerate(PROVINCES)}
    m = m.sort_values("region", key=lambda s: s.map(order)).reset_index(drop=True)
    return _attrs(m, {}, "GCAM-China province_names_mappings.csv (older six-grid layout)")


@_cached(lambda: [FLOWS_FILE, MAPPING_FILE])
def _flows(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(FLOWS_FILE, root, verify_hash=verify)
    mapping = _mapping(root, verify)
    codes = dict(zip(mapping["code"], mapping["region"], strict=True))
    df, first = _read_gcam_csv(path)
    need = ("from.region", "to.region", "value", "year", "units")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    for col in ("from.region", "to.region"):
        s = df[col].str.strip()
        known = list(codes) + ([_EXPORT] if col == "to.region" else [])
        bad = ~s.isin(known)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}, line {first + i}, column {col}: unknown region code {df[col].iloc[i]!r}")
        df[col] = s
    bad = df["units"].str.strip() != "GWh"
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path}, line {first + i}, column units: expected 'GWh', found {df['units'].iloc[i]!r}")
    out = pd.DataFrame({
        "from": df["from.region"], "to": df["to.region"],
        "value": _numeric(df, "value", path, first),
        "year": _numeric(df, "year", path, first).astype(int),
    })
    dup = out.duplicated(["from", "to", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{path}, line {first + i}: duplicate flow ({out['from'].iloc[i]} -> {out['to'].iloc[i]}, {out['year'].iloc[i]})")
    return out


def _net_imports(flows: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    f = flows.loc[flows["from"] != flows["to"]]
    inflow = f.groupby(["to", "year"])["value"].sum()
    outflow = f.groupby(["from", "year"])["value"].sum()
    years = sorted(flows["year"].unique())
    codes = mapping.loc[mapping["in_study"], ["code", "region"]]
    idx = pd.MultiIndex.from_product([codes["code"], years])
    net = inflow.reindex(idx, fill_value=0.0) - outflow.reindex(idx, fill_value=0.0)
    gross_in = inflow.reindex(idx, fill_value=0.0)
    gross_out = outflow.reindex(idx, fill_value=0.0)
    df = pd.DataFrame({"code": idx.get_level_values(0), "year": idx.get_level_values(1),
                       "net_import_gwh": net.to_numpy(), "inflow_gwh": gross_in.to_numpy(),
                       "outflow_gwh": gross_out.to_numpy()})
    df["region"] = df["code"].map(dict(zip(codes["code"], codes["region"], strict=True)))
    return df


def net_electricity_imports(data_dir: PathLike = None, verify: bool = True,
                            include_copies: bool = False) -> pd.DataFrame:
    """Net imported electricity: region, year, net_import_gwh, inflow_gwh, outflow_gwh (GWh).

    net = sum of flows into the province - sum of flows out of it, self-flows
    excluded; flows with Hong Kong and Tibet count (they are the province's
    trade) but those two get no row, and exports abroad (``to.region`` =
    ``Export``) count as outflows. 2005-2019. The file's 2020 and 2021 are
    copies of 2019 (except the flows to Hong Kong, re-estimated by the HK fork):
    with ``include_copies=True`` they are added and flagged in column
    ``copy_of_2019``.
    """
    root = _root(data_dir)
    flows = _flows(root, verify)
    mapping = _mapping(root, verify)
    df = _net_imports(flows, mapping)
    df["copy_of_2019"] = df["year"] > 2019
    if not include_copies:
        df = df.loc[~df["copy_of_2019"]]
    order = {p: i for i, p in enumerate(PROVINCES)}
    df = df[["region", "year", "net_import_gwh", "inflow_gwh", "outflow_gwh", "copy_of_2019"]]
    df = df.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    units = {"net_import_gwh": "GWh", "inflow_gwh": "GWh", "outflow_gwh": "GWh"}
    return _attrs(df.reset_index(drop=True), units,
                  "Annual Book of Statistics for Power Industry 2005-2019, via GCAM-China "
                  "ABSPI_intra_province_electricity_trade.csv (2020-21 are copies of 2019)")


# --------------------------------------------------------------------------- the panel

_PROXIES = {
    "fossil": "PROXY: non-fossil share of power generation (hydro + nuclear + wind + solar + "
              "other incl. geothermal) / total, CPSY; not the share of energy consumption; "
              "NaN in 2003 and 2006 (missing in the source)",
    "gas": "PROXY: natural-gas share of CEADs fossil-fuel CO2 (Natural Gas / 17 fuels, process "
           "excluded); not the share of energy consumption",
}


def ceads_panel(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """The real-data provincial panel (:func:`carbonlab.data.panel.real_panel`).

    emissions_mt = CE1 (CEADs fossil fuels) + CE2 (net imported electricity x
    electricity-only grid factors), process CO2 apart in ``process_mt``; the drivers
    with a real source or a documented proxy; the years in which all of them and
    the emissions overlap (``attrs["years"]``). ``attrs["unavailable"]``,
    ``attrs["proxies"]`` and ``attrs["coverage"]`` say what is missing and how each
    driver is measured.
    """
    from carbonlab.data import panel

    return panel.real_panel(data_dir=data_dir, verify=verify)


def ceads_scope1_panel(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """The earlier, long CEADs panel: region, year (1997-2017), population_10k,
    emissions_mt (CEADs scope-1 total incl. cement process CO2, no electricity term),
    urban, fossil (PROXY), gas (PROXY). Kept for comparison with :func:`ceads_panel`.
    """
    root = _root(data_dir)
    tot = ceads_province_totals(root, verify)
    pop = population(root, verify)
    urb = urbanisation(root, verify)
    gen = generation_by_fuel(root, verify)
    fuels = ceads_province_fuels(root, verify)
    fossil_fuels = fuels.loc[fuels["fuel"] != "process"]
    co2 = fossil_fuels.groupby(["region", "year"])["emissions_mt"].sum()
    ng = fossil_fuels.loc[fossil_fuels["fuel"] == "Natural Gas"].set_index(["region", "year"])["emissions_mt"]
    gas = (ng / co2).rename("gas").reset_index()
    nonfossil = gen[[f"{c}_gwh" for c in _GEN_COLS if c != "coal"]].sum(axis=1, min_count=1)
    fossil = pd.DataFrame({"region": gen["region"], "year": gen["year"],
                           "fossil": nonfossil / gen["total_gwh"]})
    df = tot.merge(pop, on=["region", "year"], how="left", validate="1:1")
    df = df.merge(urb, on=["region", "year"], how="left", validate="1:1")
    df = df.merge(fossil, on=["region", "year"], how="left", validate="1:1")
    df = df.merge(gas, on=["region", "year"], how="left", validate="1:1")
    df = df[["region", "year", "population_10k", "emissions_mt", "urban", "fossil", "gas"]]
    gaps = tot.attrs["no_energy_data"]
    drop = pd.MultiIndex.from_frame(df[["region", "year"]]).isin(
        [(g["region"], g["year"]) for g in gaps])
    df = df.loc[~drop]
    for col in ("population_10k", "emissions_mt", "urban", "gas"):
        if df[col].isna().any():
            r = df.loc[df[col].isna()].iloc[0]
            raise DataError(f"ceads_panel: no {col} for ({r['region']}, {r['year']}) in {root}")
    df = validate(df.reset_index(drop=True), "panel_partial", source=f"ceads_panel({root})")
    units = {"population_10k": "10^4 persons", "emissions_mt": "Mt CO2",
             "urban": "fraction", "fossil": "fraction", "gas": "fraction"}
    return _attrs(
        df, units,
        "CEADs provincial inventories (emissions, gas proxy); China Statistical Yearbook / "
        "Compendium (population); CSY 2018 (urban); China Electric Power Yearbook (fossil proxy)",
        unavailable=[d for d in DRIVERS if d not in ("urban", "fossil", "gas")],
        proxies=dict(_PROXIES),
        repairs=list(pop.attrs.get("repairs", [])),
        dropped=[dict(g, reason="no energy CO2 in CEADs (energy balance missing)") for g in gaps],
    )


def _root(data_dir_arg: PathLike) -> Path:
    return data_dir(data_dir_arg)
