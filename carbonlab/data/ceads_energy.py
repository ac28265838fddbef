"""CEADs energy inventories in physical units: provinces 1997-2022 and China 1997-2022.

The activity data behind the CEADs CO2 inventories (mirror README section 11b):
``ceads-energy-provinces/Energy_Inventory_30_Provinces_YYYY.xlsx`` (one sheet per
province, ``<Province><YYYY>``) and ``ceads-national-v2/China_Energy_Inventory_1997-2022.xlsx``
(one sheet per year). Every sheet is 70 rows x 21 columns and is read **by position**
(sector labels are spelt differently from the CO2 inventory):

- columns B-R: CEADs' 17 fuels (same order as the CO2 inventory), S heat, T electricity,
  U other energy; row 2 gives each column's unit (``10^4 ton``, ``10^8 cu.m``,
  ``10^10 kj`` or ``1010 kj``, ``10^8 kwh``, ``10^4 tce``), normalised here to
  :data:`carbonlab.units.UNITS` spellings;
- row 3 total final consumption = rows 4-50 (the 47 sectors of the CO2 inventory);
- row 53 transformation = rows 54-59 + 61: thermal power, heating supply, coal washing,
  coking, petroleum refineries, gas works, briquettes; inputs **positive**, outputs
  **negative** (the reverse of the yearbook); row 60 coke input is an of-which item;
- row 63 loss; row 65 total consumption = row 3 + row 53; row 67 non-energy use (an
  of-which item of the industrial rows).

The three identities (row 3, row 53, row 65) are checked on every sheet; a violation, a
non-numeric cell, a wrong header or unit is a :class:`~carbonlab._util.DataError`
naming the file, sheet and cell. Results are cached in-process on the files' stats and
on disk by the files' content (:func:`carbonlab.cache.cached`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data._read import _cached, _ceads_sheets, _cell_block, _col_letter, _hkey
from carbonlab.data.ceads import CEADS_FUELS, CEADS_SECTORS
from carbonlab.data.ceads_fuels import CEADS_NAMES
from carbonlab.data.registry import check_file, data_dir
from carbonlab.regions import PROVINCES, resolve_region

__all__ = [
    "ENERGY_YEARS",
    "ENERGY_COLUMNS",
    "COLUMN_UNITS",
    "ITEMS",
    "TRANSFORMATION_ITEMS",
    "NATIONAL_ENERGY_FILE",
    "energy_file",
    "energy_inventory",
    "national_energy_inventory",
    "energy_array",
    "nonthermal_generation",
    "electricity_balance",
    "net_imports_crosscheck",
    "NET_IMPORT_TOL",
    "THERMAL_TOL",
    "describe_net_imports",
]

PathLike = str | os.PathLike[str] | None

ENERGY_YEARS: tuple[int, ...] = tuple(range(1997, 2023))
NATIONAL_ENERGY_FILE = "ceads-national-v2/China_Energy_Inventory_1997-2022.xlsx"

ENERGY_COLUMNS: tuple[str, ...] = tuple(CEADS_NAMES.values()) + ("heat", "electricity",
                                                                 "other_energy")
"""Columns B-U as carbonlab codes: CEADs' 17 fuels, then heat, electricity, other energy."""
_HEADERS = CEADS_FUELS + ("Heat", "Electricity", "Other Energy")

_GAS = {"coke_oven_gas", "other_gas", "natural_gas"}
COLUMN_UNITS: dict[str, str] = {
    c: ("10^8 m3" if c in _GAS else "10^10 kJ" if c == "heat" else "10^8 kWh"
        if c == "electricity" else "10^4 tce" if c == "other_energy" else "10^4 t")
    for c in ENERGY_COLUMNS
}
"""Unit of every column (:data:`carbonlab.units.UNITS` spelling)."""
_UNIT_SPELLINGS = {"10^4ton": "10^4 t", "10^8cu.m": "10^8 m3", "10^10kj": "10^10 kJ",
                   "1010kj": "10^10 kJ", "10^8kwh": "10^8 kWh", "10^4tce": "10^4 tce"}

TRANSFORMATION_ITEMS: tuple[str, ...] = (
    "thermal_power", "heating_supply", "coal_washing", "coking", "petroleum_refineries",
    "gas_works", "coke_input", "briquettes")
# sheet row -> item; rows 4-50 are the 47 sectors of the CO2 inventory, by position
ITEMS: dict[int, str] = {3: "total_final_consumption"}
ITEMS.update({4 + i: s for i, s in enumerate(CEADS_SECTORS)})
ITEMS.update({53: "transformation"})
ITEMS.update({54 + i: t for i, t in enumerate(TRANSFORMATION_ITEMS)})
ITEMS.update({63: "loss", 65: "total_consumption", 67: "non_energy_use"})
"""Sheet row (1-based) -> item name of every row read (the others are empty in every sheet)."""
_LABELS = {3: "totalfinalconsumption", 53: "inputs", 54: "thermalpower", 55: "heatingsupply",
           56: "coalwashing", 57: "coking", 58: "petroleumrefineries", 59: "gasworks",
           60: "cokeinput", 61: "briquettes", 63: "loss", 65: "totalconsumption",
           67: "non-energyuse"}
_ROWS = np.array(sorted(ITEMS))
_TOL = 1e-9  # relative tolerance of the sheet identities


def energy_file(year: int) -> str:
    """Path (relative to the data directory) of the provincial energy inventory of ``year``."""
    if year not in ENERGY_YEARS:
        raise ParameterError(f"year={year}: CEADs energy inventories cover "
                             f"{ENERGY_YEARS[0]}-{ENERGY_YEARS[-1]}")
    return f"ceads-energy-provinces/Energy_Inventory_30_Provinces_{year}.xlsx"


# --------------------------------------------------------------------------- parsing
def _parse_sheet(rows: list[tuple], where: str) -> np.ndarray:
    """The named rows (:data:`ITEMS`) x columns B-U of one sheet, checked; (len(ITEMS), 20)."""
    if len(rows) < 67 or min(len(r) for r in rows[:67]) < 21:
        ncol = max((len(r) for r in rows), default=0)
        raise DataError(f"{where}: expected 70 rows x 21 columns (A-U), found {len(rows)} x {ncol}")
    for j, name in enumerate(_HEADERS):
        if _hkey(rows[0][j + 1]) != _hkey(name):
            raise DataError(f"{where}, cell {_col_letter(j + 1)}1: expected header {name!r}, "
                            f"found {rows[0][j + 1]!r}")
    for j, col in enumerate(ENERGY_COLUMNS):
        got = _UNIT_SPELLINGS.get(re.sub(r"\s+", "", str(rows[1][j + 1])).lower())
        if got != COLUMN_UNITS[col]:
            raise DataError(f"{where}, cell {_col_letter(j + 1)}2: expected unit "
                            f"{COLUMN_UNITS[col]!r} for {col}, found {rows[1][j + 1]!r}")
    for r, key in _LABELS.items():
        if not _hkey(rows[r - 1][0]).startswith(key):
            raise DataError(f"{where}, cell A{r}: expected row {key!r}, found {rows[r - 1][0]!r}")
    arr = _cell_block(rows, _ROWS, 1, 21, where, allow_negative=True)
    pos = {r: i for i, r in enumerate(_ROWS)}
    scale = np.maximum(1.0, np.abs(arr).max(axis=0))
    checks = (
        (3, arr[[pos[r] for r in range(4, 51)]].sum(axis=0), "the 47 sectors (rows 4-50)"),
        (53, arr[[pos[r] for r in (54, 55, 56, 57, 58, 59, 61)]].sum(axis=0),
         "rows 54-59 + 61"),
        (65, arr[pos[3]] + arr[pos[53]], "row 3 + row 53"),
    )
    for r, expect, what in checks:
        d = np.abs(arr[pos[r]] - expect)
        if (d > _TOL * scale).any():
            j = int((d / scale).argmax())
            raise DataError(f"{where}, cell {_col_letter(j + 1)}{r}: {arr[pos[r], j]!r} differs "
                            f"from the sum of {what} by {d[j]:.3g}")
    return arr


def _parse_workbook(path: Path, year: int | None) -> dict[object, np.ndarray]:
    """Province workbook (``year`` given): region -> array; national: year -> array."""
    return _ceads_sheets(path, year, _parse_sheet, PROVINCES if year is not None else ENERGY_YEARS)


def _cube(root: Path, verify: bool) -> np.ndarray:
    """(years, 30 provinces, items, 20 columns) array of all provincial workbooks."""
    from carbonlab.cache import cached

    paths = [check_file(energy_file(y), root, verify_hash=verify) for y in ENERGY_YEARS]

    def compute() -> np.ndarray:
        cube = np.empty((len(ENERGY_YEARS), len(PROVINCES), len(_ROWS), 20))
        for k, (year, path) in enumerate(zip(ENERGY_YEARS, paths, strict=True)):
            sheets = _parse_workbook(path, year)
            for p, region in enumerate(PROVINCES):
                cube[k, p] = sheets[region]
        return cube

    return cached("ceads-energy", [*paths, "provinces"], compute)


def _tidy(arr: np.ndarray, regions: list[str], years: list[int], source: str) -> pd.DataFrame:
    """(years, regions, items, columns) -> region, year, sector, fuel, quantity, unit."""
    items = pd.Categorical([ITEMS[r] for r in _ROWS], categories=[ITEMS[r] for r in _ROWS])
    fuels = pd.Categorical(ENERGY_COLUMNS, categories=list(ENERGY_COLUMNS))
    idx = pd.MultiIndex.from_product([years, regions, items, fuels],
                                     names=["year", "region", "sector", "fuel"])
    df = pd.DataFrame({"quantity": arr.reshape(-1)}, index=idx).reset_index()
    df["unit"] = pd.Categorical(df["fuel"].map(COLUMN_UNITS).astype(str),
                                categories=sorted(set(COLUMN_UNITS.values())))
    df = df[["region", "year", "sector", "fuel", "quantity", "unit"]]
    order = {p: i for i, p in enumerate(regions)}
    df = (df.assign(_o=df["region"].map(order)).sort_values(["_o", "year"], kind="stable")
          .drop(columns="_o").reset_index(drop=True))
    df.attrs["units"] = {"quantity": "see column unit"}
    df.attrs["source"] = source
    return df


_SRC = ("CEADs provincial energy inventories 1997-2022 (Shan et al. 2016, 2018, 2020; Guan et al. "
        "2021; Xu et al. 2024; ceads.net), via fallingsnow1111/TJJM")


@_cached(lambda: [energy_file(y) for y in ENERGY_YEARS])
def _provinces(root: Path, verify: bool) -> pd.DataFrame:
    return _tidy(_cube(root, verify), list(PROVINCES), list(ENERGY_YEARS), _SRC)


def energy_inventory(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Provincial energy use in physical units: region, year, sector, fuel, quantity, unit.

    ``sector`` is a sheet row (:data:`ITEMS`): ``total_final_consumption``, the 47 sectors
    (CO2-inventory names), ``transformation`` and its parts (:data:`TRANSFORMATION_ITEMS`;
    inputs positive, outputs negative), ``loss``, ``total_consumption`` and
    ``non_energy_use``. ``fuel`` is one of :data:`ENERGY_COLUMNS`; ``unit`` its unit.
    30 provinces x 1997-2022. Units as published (``10^4 t``, ``10^8 m3``, ``10^10 kJ``,
    ``10^8 kWh``, ``10^4 tce``); a few final-use cells are negative as published
    (e.g. Hainan 1997 natural gas).
    """
    return _provinces(data_dir(data_dir_), verify)


def energy_array(data_dir_: PathLike = None, verify: bool = True
                 ) -> tuple[np.ndarray, dict[str, int]]:
    """The provincial inventories as an array for fast arithmetic.

    Returns ``(cube, rows)``: ``cube[year index, province index, item index, column index]``
    over :data:`ENERGY_YEARS`, :data:`carbonlab.regions.PROVINCES`, the items and
    :data:`ENERGY_COLUMNS`; ``rows`` maps each item name to its index.
    """
    cube = _cube(data_dir(data_dir_), verify)
    return cube.copy(), {ITEMS[r]: i for i, r in enumerate(_ROWS)}


@_cached(lambda: [NATIONAL_ENERGY_FILE])
def _national(root: Path, verify: bool) -> pd.DataFrame:
    from carbonlab.cache import cached

    path = check_file(NATIONAL_ENERGY_FILE, root, verify_hash=verify)
    sheets = cached("ceads-energy", [path, "national"], lambda: _parse_workbook(path, None))
    arr = np.stack([sheets[y] for y in ENERGY_YEARS])[:, None]
    return _tidy(arr, ["China"], list(ENERGY_YEARS),
                 "CEADs national energy inventory 1997-2022 (ceads.net), via fallingsnow1111/TJJM")


def national_energy_inventory(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """China's energy inventory 1997-2022 in the same tidy shape (``region`` = "China")."""
    return _national(data_dir(data_dir_), verify)


# --------------------------------------------------------------------------- electricity
THERMAL_TOL = 0.10
"""Relative difference between the inventory's and the statistics' thermal generation beyond
which :func:`electricity_balance` uses the statistics'."""

NET_IMPORT_TOL = 0.30
"""Relative difference beyond which :func:`net_imports_crosscheck` lists a province-year."""


def nonthermal_generation(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Hydro, nuclear, wind, solar and other non-thermal generation: region, year,
    nonthermal_gwh, stat_thermal_gwh (the statistics' thermal generation; GWh), gen_source;
    1997-2022.

    NBS (total - thermal, A070308/A07030A) from 2012; before, the China Electric Power
    Yearbook via GCAM-China (hydro + nuclear + wind + solar + other); its missing years
    (2003, 2006) are interpolated linearly per province and say so in ``gen_source``.
    """
    from carbonlab.data import gcam, nbs

    nb = nbs.nbs_power(data_dir_, verify)
    nb = pd.DataFrame({"region": nb["region"], "year": nb["year"],
                       "nonthermal_gwh": nb["total_gwh"] - nb["thermal_gwh"],
                       "stat_thermal_gwh": nb["thermal_gwh"], "gen_source": "NBS"})
    first = int(nb["year"].min())
    cp = gcam.generation_by_fuel(data_dir_, verify)
    cp = cp[(cp["year"] < first) & (cp["year"] >= ENERGY_YEARS[0])]
    cols = [f"{c}_gwh" for c in ("hydro", "nuclear", "wind", "solar", "other")]
    cp = pd.DataFrame({"region": cp["region"], "year": cp["year"],
                       "nonthermal_gwh": cp[cols].sum(axis=1, min_count=1),
                       "stat_thermal_gwh": cp["coal_gwh"],
                       "gen_source": "China Electric Power Yearbook (GCAM-China CPSY)"})
    full = pd.MultiIndex.from_product([PROVINCES, range(ENERGY_YEARS[0], first)],
                                      names=["region", "year"])
    cp = cp.set_index(["region", "year"]).reindex(full)
    gap = cp["nonthermal_gwh"].isna()
    for col in ("nonthermal_gwh", "stat_thermal_gwh"):
        cp[col] = cp.groupby(level="region")[col].transform(
            lambda s: s.interpolate(limit_area="inside"))
    cp.loc[gap, "gen_source"] = "interpolated (missing in the China Electric Power Yearbook copy)"
    out = pd.concat([cp.reset_index(), nb], ignore_index=True)
    out = out[out["year"] <= ENERGY_YEARS[-1]].dropna(subset=["nonthermal_gwh"])
    order = {p: i for i, p in enumerate(PROVINCES)}
    out = (out.assign(_o=out["region"].map(order)).sort_values(["_o", "year"])
           .drop(columns="_o").reset_index(drop=True))
    out.attrs["units"] = {"nonthermal_gwh": "GWh"}
    return out


def electricity_balance(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Net imported electricity from the energy inventories' electricity column (T).

    consumption = final consumption (row 3) + losses (row 63); generation = the thermal
    output the inventory records (row 54, negative there; the statistics' thermal generation
    where the two differ by more than :data:`THERMAL_TOL`, ``thermal_source`` says which)
    + non-thermal generation (:func:`nonthermal_generation`; the inventory has no row for
    it); net imports = consumption - generation (negative for a net exporter). The
    inventories carry no inter-provincial inflow/outflow rows, so this balance is the
    import. Province-years without an energy balance (final use 0) are left out.

    Returns
    -------
    DataFrame
        region, year, final_gwh, loss_gwh, consumption_gwh, thermal_gwh, nonthermal_gwh,
        generation_gwh, net_import_gwh (GWh), gen_source; 1997-2022.
    """
    cube, rows = energy_array(data_dir_, verify)
    j = ENERGY_COLUMNS.index("electricity")
    to_gwh = 100.0  # 10^8 kWh -> GWh
    idx = pd.MultiIndex.from_product([ENERGY_YEARS, PROVINCES], names=["year", "region"])
    df = pd.DataFrame({
        "final_gwh": cube[:, :, rows["total_final_consumption"], j].reshape(-1) * to_gwh,
        "loss_gwh": cube[:, :, rows["loss"], j].reshape(-1) * to_gwh,
        "thermal_gwh": -cube[:, :, rows["thermal_power"], j].reshape(-1) * to_gwh,
    }, index=idx).reset_index()
    df["consumption_gwh"] = df["final_gwh"] + df["loss_gwh"]
    nt = nonthermal_generation(data_dir_, verify)
    df = df.merge(nt, on=["region", "year"], how="left")
    # the inventory's thermal output against the statistics': where they disagree by more
    # than THERMAL_TOL (Hebei 2015: 22.9 vs 227.2 TWh) the statistics' value is used
    ratio = df["thermal_gwh"] / df["stat_thermal_gwh"]
    off = ~((ratio - 1).abs() <= THERMAL_TOL) & df["stat_thermal_gwh"].notna()
    df["thermal_source"] = np.where(off, "statistics (inventory row 54 differs by more than "
                                    f"{100 * THERMAL_TOL:.0f} %)", "inventory row 54")
    df.loc[off, "thermal_gwh"] = df.loc[off, "stat_thermal_gwh"]
    df["generation_gwh"] = df["thermal_gwh"] + df["nonthermal_gwh"]
    df = df[df["final_gwh"] > 0]  # no energy balance (Ningxia 2000-2004, Xinjiang 2001, ...)
    df["net_import_gwh"] = df["consumption_gwh"] - df["generation_gwh"]
    cols = ["region", "year", "final_gwh", "loss_gwh", "consumption_gwh", "thermal_gwh",
            "nonthermal_gwh", "generation_gwh", "net_import_gwh", "gen_source", "thermal_source"]
    order = {p: i for i, p in enumerate(PROVINCES)}
    df = (df.assign(_o=df["region"].map(order)).sort_values(["_o", "year"])[cols]
          .dropna(subset=["net_import_gwh"]).reset_index(drop=True))
    df.attrs["units"] = {c: "GWh" for c in cols if c.endswith("_gwh")}
    df.attrs["source"] = ("CEADs provincial energy inventories, column T (rows 3, 54, 63); "
                          "non-thermal generation NBS / China Electric Power Yearbook")
    return df


def net_imports_crosscheck(data_dir_: PathLike = None, verify: bool = True,
                           tol: float = NET_IMPORT_TOL) -> pd.DataFrame:
    """The balance's net imports against the inter-provincial flows (ABSPI via GCAM-China).

    Returns
    -------
    DataFrame
        region, year (2005-2019, the years both cover), balance_gwh, flows_gwh, diff_gwh,
        rel_diff (balance / flows - 1), differs (|rel_diff| > ``tol``).
    """
    from carbonlab.data import gcam

    bal = electricity_balance(data_dir_, verify)[["region", "year", "net_import_gwh"]]
    fl = gcam.net_electricity_imports(data_dir=data_dir_, verify=verify)
    m = bal.rename(columns={"net_import_gwh": "balance_gwh"}).merge(
        fl[["region", "year", "net_import_gwh"]].rename(columns={"net_import_gwh": "flows_gwh"}),
        on=["region", "year"], how="inner")
    m["diff_gwh"] = m["balance_gwh"] - m["flows_gwh"]
    m["rel_diff"] = (m["diff_gwh"] / m["flows_gwh"].abs()).where(m["flows_gwh"] != 0)
    m["differs"] = m["rel_diff"].abs() > tol
    m.attrs["units"] = {"balance_gwh": "GWh", "flows_gwh": "GWh", "diff_gwh": "GWh"}
    m.attrs["tol"] = tol
    return m


def describe_net_imports(balance: pd.DataFrame, crosscheck: pd.DataFrame,
                         region: str = "Beijing") -> str:
    """The net-imports cross-check in sentences, with ``region``'s largest year-on-year jump
    in both series."""
    region = resolve_region(region)
    n, k = len(crosscheck), int(crosscheck["differs"].sum())
    y0, y1 = int(crosscheck["year"].min()), int(crosscheck["year"].max())
    med = float(crosscheck["rel_diff"].abs().median())

    def jump(s: pd.Series) -> tuple[float, int]:
        j = s.sort_index().pct_change().abs().dropna()
        return float(j.max()), int(j.idxmax())

    stat = balance[balance["thermal_source"] != "inventory row 54"]
    n_stat = len(stat)
    odd = [f"{r} {y}" for r, y in zip(stat["region"], stat["year"], strict=True)][:6]
    b = balance[balance["region"] == region].set_index("year")["net_import_gwh"]
    f = crosscheck[crosscheck["region"] == region].set_index("year")["flows_gwh"]
    jb, yb = jump(b)
    jf, yf = jump(f)
    return (f"Over {y0}-{y1} the energy-balance net imports and the inter-provincial flows differ "
            f"by more than {100 * crosscheck.attrs.get('tol', NET_IMPORT_TOL):.0f} % in {k} of {n} "
            f"province-years (median |difference| {100 * med:.0f} %). {region}'s balance series "
            f"({int(b.index.min())}-{int(b.index.max())}) changes by at most {100 * jb:.0f} % from one "
            f"year to the next ({yb}); the flows change by up to {100 * jf:.0f} % ({yf}). The book uses "
            "the balance: it is consistent with the fuel data of the same inventories and covers "
            f"every year. In {n_stat} of {len(balance)} province-years the inventory's thermal "
            f"output differs from the statistics' by more than {100 * THERMAL_TOL:.0f} % and the "
            f"statistics' is used{' (' + ', '.join(odd) + ')' if odd else ''}.")
