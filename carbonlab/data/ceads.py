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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data import cities as _cities
from carbonlab.data._read import (
    _attrs,
    _cached,
    _ceads_sheets,
    _cell_block,
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
from carbonlab.regions import PROVINCES

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
RELEASES: dict[str, tuple[int, ...]] = {
    "v1": tuple(range(1997, 2020)),  # ceads-provinces/, Shan et al. 2018, 2020
    "v2": tuple(range(2001, 2023)),  # ceads-provinces-v2/, adds Xu et al. 2024 (2020-2021)
}
"""The two releases of the provincial inventories in the mirror and their years."""
RELEASE = "v2"
"""The release the book uses for every year (one release, up to date)."""
PROVINCE_YEARS: tuple[int, ...] = RELEASES[RELEASE]
"""Years of the release the book uses (2001-2022)."""
_CEADS_SRC = {
    "v1": "CEADs provincial CO2 inventories, 1997-2019 release (Shan et al. 2018, 2020; ceads.net)",
    "v2": "CEADs provincial CO2 inventories, 2001-2022 release (Shan et al. 2016, 2018, 2020; "
          "Guan et al. 2021; Xu et al. 2024; ceads.net)",
}
_TOL = 1e-9  # Mt CO2: tolerance of the CEADs sum identities

NATIONAL_FILES = {
    "v1": "ceads-national/China_CO2_Inventory_1997-2019_(IPCC_Sectoral_Emissions).xlsx",
    "v2": "ceads-national-v2/China_Sectoral_CO2_Inventory_1997-2022.xlsx",
}
NATIONAL_FILE = NATIONAL_FILES["v1"]
CITIES_FILE = "ceads-cities/The_Emission_Inventories_for_290_Chinese_Cities_from_1997_to_2019.xlsx"


def check_release(release: str) -> str:
    """Return ``release`` if it is ``"v1"`` or ``"v2"``, else raise ParameterError naming it."""
    if release not in RELEASES:
        raise ParameterError(f"release={release!r}: choose one of {', '.join(RELEASES)}")
    return release


def province_file(year: int, release: str = RELEASE) -> str:
    """Path (relative to the data directory) of the CEADs province workbook of ``year``."""
    years = RELEASES[check_release(release)]
    if year not in years:
        raise ParameterError(f"year={year}: CEADs province files ({release}) cover "
                             f"{years[0]}-{years[-1]}")
    if release == "v2":
        return f"ceads-provinces-v2/Emission_Inventory_30_Provinces_{year}.xlsx"
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
    arr = _cell_block(rows, range(4, 52), 1, 23, where)
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
    return _ceads_sheets(path, year, _parse_province_sheet, PROVINCES)  # type: ignore[return-value]


@functools.lru_cache(maxsize=64)
def _province_workbook_cached(path_s: str, year: int, sig: tuple) -> dict[str, np.ndarray]:
    """One parsed workbook: in-process on the file's stats, on disk on its content."""
    from carbonlab.cache import cached

    path = Path(path_s)
    return cached("ceads-provinces", [path, year], lambda: _parse_province_workbook(path, year))


def _province_cube(root: Path, verify: bool, release: str) -> np.ndarray:
    """(years, 30 provinces, 48 rows, 22 columns) array of all province workbooks."""
    years = RELEASES[release]
    cube = np.empty((len(years), len(PROVINCES), 48, 22))
    for k, year in enumerate(years):
        rel = province_file(year, release)
        path = check_file(rel, root, verify_hash=verify)
        sheets = _province_workbook_cached(str(path), year, _signature(root, [rel]))
        for p, region in enumerate(PROVINCES):
            cube[k, p] = sheets[region]
    return cube


def _province_rels(release: str) -> list[str]:
    return [province_file(y, release) for y in RELEASES[release]]


@_cached(_province_rels)
def _fuels(root: Path, verify: bool, release: str) -> pd.DataFrame:
    cube = _province_cube(root, verify, release)
    years = RELEASES[release]
    cols = list(range(17)) + [_PROCESS_COL]
    vals = cube[:, :, 0, :][:, :, cols]  # (year, region, fuel)
    idx = pd.MultiIndex.from_product([years, PROVINCES, _FUEL_OUT], names=["year", "region", "fuel"])
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "fuel", "emissions_mt"]].sort_values(["region", "year"], kind="stable")
    return _attrs(df.reset_index(drop=True), {"emissions_mt": "Mt CO2"}, _CEADS_SRC[release])


def ceads_province_fuels(data_dir: PathLike = None, verify: bool = True, release: str = RELEASE
                         ) -> pd.DataFrame:
    """Provincial CO2 by fuel (row 4 of each sheet): region, year, fuel, emissions_mt.

    ``fuel`` is one of CEADs' 17 fuel names (:data:`CEADS_FUELS`) or ``"process"``
    (cement process emissions); 30 provinces x the release's years x 18 rows, Mt CO2.

    Parameters
    ----------
    data_dir
        Mirror directory (default :func:`carbonlab.data.registry.data_dir`).
    verify
        Check the files' SHA-256 against the registry.
    release
        ``"v2"`` (2001-2022, the book's) or ``"v1"`` (1997-2019, the earlier release).
    """
    return _fuels(_root(data_dir), verify, check_release(release))


@_cached(_province_rels)
def _sectors(root: Path, verify: bool, release: str) -> pd.DataFrame:
    cube = _province_cube(root, verify, release)
    years = RELEASES[release]
    cols = list(range(17)) + [_PROCESS_COL]
    vals = cube[:, :, 1:, :][:, :, :, cols]  # (year, region, sector, fuel)
    sector = pd.Categorical(CEADS_SECTORS, categories=list(CEADS_SECTORS))
    fuel = pd.Categorical(_FUEL_OUT, categories=list(_FUEL_OUT))
    idx = pd.MultiIndex.from_product(
        [years, PROVINCES, sector, fuel], names=["year", "region", "sector", "fuel"]
    )
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "sector", "fuel", "emissions_mt"]]
    df = df.sort_values(["region", "year"], kind="stable").reset_index(drop=True)
    return _attrs(df, {"emissions_mt": "Mt CO2"}, _CEADS_SRC[release])


def ceads_province_sectors(data_dir: PathLike = None, verify: bool = True, release: str = RELEASE
                           ) -> pd.DataFrame:
    """Provincial CO2 by sector and fuel: region, year, sector, fuel, emissions_mt (Mt CO2).

    47 sectors (:data:`CEADS_SECTORS`, categorical) x 18 fuels (17 + ``"process"``)
    x 30 provinces x the release's years; rows 5-51 of each sheet, names stripped.
    """
    return _sectors(_root(data_dir), verify, check_release(release))


@_cached(_province_rels)
def _power(root: Path, verify: bool, release: str) -> pd.DataFrame:
    cube = _province_cube(root, verify, release)
    years = RELEASES[release]
    k = 1 + CEADS_SECTORS.index(POWER_SECTOR)
    vals = cube[:, :, k, _TOTAL_COL]
    idx = pd.MultiIndex.from_product([years, PROVINCES], names=["year", "region"])
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "emissions_mt"]].sort_values(["region", "year"]).reset_index(drop=True)
    return _attrs(df, {"emissions_mt": "Mt CO2"}, f"{_CEADS_SRC[release]}; sector {POWER_SECTOR!r}")


def ceads_power_sector_emissions(data_dir: PathLike = None, verify: bool = True, release: str = RELEASE
                                 ) -> pd.DataFrame:
    """Scope-1 CO2 of the power sector (:data:`POWER_SECTOR`): region, year, emissions_mt."""
    return _power(_root(data_dir), verify, check_release(release))


@_cached(_province_rels)
def _totals(root: Path, verify: bool, release: str) -> pd.DataFrame:
    cube = _province_cube(root, verify, release)
    years = RELEASES[release]
    vals = cube[:, :, 0, _TOTAL_COL]
    idx = pd.MultiIndex.from_product([years, PROVINCES], names=["year", "region"])
    df = pd.DataFrame({"emissions_mt": vals.reshape(-1)}, index=idx).reset_index()
    df = df[["region", "year", "emissions_mt"]].sort_values(["region", "year"]).reset_index(drop=True)
    energy = cube[:, :, 0, :17].sum(axis=2)  # the 17 fuels of row 4
    gaps = [{"region": PROVINCES[p], "year": years[k]}
            for k, p in zip(*np.nonzero(energy == 0), strict=True)]
    return _attrs(df, {"emissions_mt": "Mt CO2"}, f"{_CEADS_SRC[release]}; scope-1 total (cell W4)",
                  no_energy_data=sorted(gaps, key=lambda g: (g["region"], g["year"])))


def ceads_province_totals(data_dir: PathLike = None, verify: bool = True, release: str = RELEASE
                          ) -> pd.DataFrame:
    """Provincial scope-1 CO2 totals (cell W4): region, year, emissions_mt (Mt CO2).

    Both CEADs identities are checked on every sheet (row 4 = sum of rows 5-51,
    column W = sum of columns B-V, to 1e-9 relative); a violation is a DataError
    naming the file, sheet and cell. 30 rows a year (v2: 2001-2022, v1: 1997-2019).

    ``attrs["no_energy_data"]`` lists province-years whose 17 fuel columns are all
    zero (CEADs had no energy balance: Ningxia 2000-2002, Hainan 2002); their total
    is process CO2 only, so it is not comparable with other years.
    """
    return _totals(_root(data_dir), verify, check_release(release))


# --------------------------------------------------------------------------- the two releases


@dataclass(frozen=True)
class ReleaseComparison:
    """The two CEADs provincial releases where they overlap (:func:`release_differences`).

    ``province_years``: region, year, v1_mt, v2_mt, diff_mt (v2 - v1), diff_pct (of v1),
    scope-1 totals (cell W4, process included) in Mt CO2.
    """

    province_years: pd.DataFrame
    used: str = RELEASE

    def summary(self) -> pd.DataFrame:
        """Per province: median and worst |v2 - v1| in % of v1, the worst year and its two totals."""
        d = self.province_years.assign(abs_pct=self.province_years["diff_pct"].abs())
        worst = d.loc[d.groupby("region", sort=False)["abs_pct"].idxmax()].set_index("region")
        out = pd.DataFrame({
            "median_abs_diff_pct": d.groupby("region", sort=False)["abs_pct"].median(),
            "worst_abs_diff_pct": worst["abs_pct"],
            "worst_year": worst["year"].astype(int),
            "worst_v1_mt": worst["v1_mt"],
            "worst_v2_mt": worst["v2_mt"],
        }).reset_index()
        out.attrs["units"] = {"median_abs_diff_pct": "%", "worst_abs_diff_pct": "%",
                              "worst_v1_mt": "Mt CO2", "worst_v2_mt": "Mt CO2"}
        return out

    def describe(self) -> str:
        """One paragraph: which release the book uses and how far the two differ, computed."""
        d = self.province_years
        y0, y1 = int(d["year"].min()), int(d["year"].max())
        a = d["diff_pct"].abs()
        same = int((d["diff_mt"].abs() < 1e-9).sum())
        big = int((a > 1).sum())
        w = d.loc[a.idxmax()]
        yrs = ", ".join(str(int(y)) for y in sorted(d.loc[a > 1, "year"].unique()))
        years = {"v1": RELEASES["v1"], "v2": RELEASES["v2"]}[self.used]
        return (
            f"The book uses one CEADs release for every year: the {years[0]}-{years[-1]} release "
            f"({self.used}). Where it overlaps the earlier {RELEASES['v1'][0]}-{RELEASES['v1'][-1]} "
            f"release ({y0}-{y1}, {len(d)} province-years), {same} provincial totals are identical "
            f"and the median |difference| is {a.median():.2f} %; {big} province-years differ by more "
            f"than 1 % (in {yrs or 'no year'}); the largest difference is {w['region']} "
            f"{int(w['year'])}: {w['v2_mt']:.1f} Mt in the release the book uses against "
            f"{w['v1_mt']:.1f} Mt ({w['diff_pct']:+.1f} %)."
        )


def release_differences(data_dir: PathLike = None, verify: bool = True) -> ReleaseComparison:
    """Compare the two provincial releases' scope-1 totals where both have the year.

    Returns
    -------
    ReleaseComparison
        ``.province_years`` (region, year, v1_mt, v2_mt, diff_mt, diff_pct), ``.summary()``
        (median and worst per province, %), ``.describe()`` (the sentence for chapter 1).
    """
    root = _root(data_dir)
    v1 = ceads_province_totals(root, verify, release="v1")
    v2 = ceads_province_totals(root, verify, release="v2")
    m = v1.merge(v2, on=["region", "year"], suffixes=("_v1", "_v2"))
    m = m.rename(columns={"emissions_mt_v1": "v1_mt", "emissions_mt_v2": "v2_mt"})
    m["diff_mt"] = m["v2_mt"] - m["v1_mt"]
    m["diff_pct"] = 100 * m["diff_mt"] / m["v1_mt"]
    order = {p: i for i, p in enumerate(PROVINCES)}
    m = m.sort_values(["region", "year"], key=lambda c: c.map(order) if c.name == "region" else c)
    m = m.reset_index(drop=True)
    m.attrs["units"] = {"v1_mt": "Mt CO2", "v2_mt": "Mt CO2", "diff_mt": "Mt CO2", "diff_pct": "%"}
    return ReleaseComparison(m)


# --------------------------------------------------------------------------- CEADs national


@_cached(lambda release: [NATIONAL_FILES[release]])
def _national(root: Path, verify: bool, release: str) -> pd.DataFrame:
    path = check_file(NATIONAL_FILES[release], root, verify_hash=verify)
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
    return _attrs(df, {"emissions_mt": "Mt CO2"}, f"CEADs national CO2 inventory, {release} release ({NATIONAL_FILES[release]}), "
                  "sheet 'sum'")


def ceads_national(data_dir: PathLike = None, verify: bool = True, release: str = RELEASE
                   ) -> pd.DataFrame:
    """China's national scope-1 CO2: year, emissions_mt (Mt CO2), 1997-2022 (v2) or 1997-2019 (v1).

    From sheet ``sum`` (column W), checked against the sum of its fuel columns and
    against the total row of sheet ``Sum-Sec-Scope 1``.
    """
    return _national(_root(data_dir), verify, check_release(release))


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
