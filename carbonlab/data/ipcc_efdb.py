"""IPCC Emission Factor Database export (``ipcc-efdb/IPCC_EFDB_output_20260207.xlsx``).

:func:`efdb` reads the 27,478 factor rows (``Value`` is text in the file and is
parsed here; category, gas and fuel strings lose their trailing line breaks).
:func:`ipcc2006_defaults` picks the IPCC 2006 Vol. 2 Ch. 1 defaults of one fuel --
NCV (Table 1.2), carbon content (Table 1.3), oxidation (Table 1.4) and the CO2
factor of 1.A.1 (Tables 1.4 and 2.2) -- with the Excel row of each, so the factor
table in ``data/factors`` can cite them and a test can re-read them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data.registry import check_file, data_dir

__all__ = ["EFDB_FILE", "efdb", "ipcc2006_defaults", "measured", "measured_gas_per_m3",
           "MEASURED_GASES", "SATP_TO_20C"]

EFDB_FILE = "ipcc-efdb/IPCC_EFDB_output_20260207.xlsx"
_COLUMNS = ("EF ID", "Gas", "Fuel 2006", "Type of parameter", "Description", "Value", "Unit",
            "Region / Regional Conditions", "Source of data")
_DESCR = {
    "ncv_tj_per_gg": ("Net Calorific Value (NCV)", "Table 1.2"),
    "carbon_content_kg_per_gj": ("Carbon Content", "Table 1.3"),
    "oxidation": ("Carbon Oxidation Factor", "Table 1.4"),
    "cef_kg_per_tj": ("CO2 Emission Factor for Stationary Combustion", "Tables 1.4 and 2.2"),
}


@functools.lru_cache(maxsize=2)
def _read(path_s: str, sig: tuple) -> pd.DataFrame:
    path = Path(path_s)
    try:
        raw = pd.read_excel(path, sheet_name="Sheet1", dtype=str, engine="openpyxl")
    except Exception as exc:
        raise DataError(f"{path}: unreadable workbook ({type(exc).__name__}: {exc})") from None
    missing = [c for c in _COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"{path}, sheet 'Sheet1': missing column(s) {', '.join(missing)}")
    df = raw[list(_COLUMNS)].copy()
    for c in ("Gas", "Fuel 2006", "Type of parameter", "Description", "Unit", "Source of data"):
        df[c] = df[c].fillna("").str.replace(r"\s+", " ", regex=True).str.strip()
    df["value"] = pd.to_numeric(df["Value"].str.strip(), errors="coerce")
    df["row"] = np.arange(len(df)) + 2  # Excel row (header is row 1)
    return df


def efdb(data_dir_: str | os.PathLike[str] | None = None, verify: bool = True) -> pd.DataFrame:
    """All EFDB rows: the file's columns plus ``value`` (float, NaN if not a plain number)
    and ``row`` (Excel row number)."""
    path = check_file(EFDB_FILE, data_dir(data_dir_), verify_hash=verify)
    st = path.stat()
    return _read(str(path), (st.st_size, st.st_mtime_ns)).copy()


def ipcc2006_defaults(fuel: str, data_dir_: str | os.PathLike[str] | None = None,
                      verify: bool = True) -> dict[str, float | int | str]:
    """IPCC 2006 Vol. 2 Ch. 1 defaults of one fuel (EFDB ``Fuel 2006`` name, e.g.
    ``"Blast Furnace Gas"``).

    Returns
    -------
    dict
        ncv_tj_per_gg, carbon_content_kg_per_gj, oxidation, cef_kg_per_tj (1.A.1), and
        ``row_<key>`` with the Excel row each came from.

    Raises
    ------
    ParameterError
        The fuel has no Table 1.2-1.4 defaults in the file.
    """
    df = efdb(data_dir_, verify)
    sel = df[(df["Type of parameter"] == "2006 IPCC default") & (df["Gas"] == "CARBON DIOXIDE")
             & (df["Fuel 2006"].str.lower() == fuel.lower())]
    out: dict[str, float | int | str] = {"fuel": fuel}
    for key, (descr, table) in _DESCR.items():
        d = sel[sel["Description"].str.startswith(descr)
                & sel["Source of data"].str.contains(table, regex=False)]
        if d.empty:
            raise ParameterError(f"fuel: {fuel!r} has no IPCC 2006 default {descr!r} ({table}) "
                                 f"in {EFDB_FILE}")
        r = d.iloc[0]
        if not np.isfinite(r["value"]):
            raise DataError(f"{EFDB_FILE}, row {r['row']}, column Value: not a number {r['Value']!r}")
        out[key] = float(r["value"])
        out[f"row_{key}"] = int(r["row"])
    return out


def measured(fuel: str, description: str, data_dir_: str | os.PathLike[str] | None = None,
             verify: bool = True) -> pd.DataFrame:
    """Non-default EFDB rows of a fuel whose description contains ``description``:
    row, Type of parameter, Description, value, Unit, Region."""
    df = efdb(data_dir_, verify)
    d = df[(df["Fuel 2006"].str.lower() == fuel.lower())
           & df["Description"].str.contains(description, case=False, regex=False)]
    return d[["row", "Type of parameter", "Description", "value", "Unit",
              "Region / Regional Conditions"]].reset_index(drop=True)


MEASURED_GASES: tuple[str, ...] = ("Blast Furnace Gas", "Oxygen Steel Furnace Gas", "Coke Oven Gas")
"""Gases with measured per-volume calorific values and carbon factors in the EFDB (Japan)."""
SATP_TO_20C = (0.0247896 / 0.0240550)
"""m3 at 25 °C and 100 kPa (SATP, the EFDB's measurements) per m3 at 20 °C and 101.325 kPa
(the standard m3 of Chinese energy statistics): the same gas holds this factor more
molecules, so more CO2, per Chinese m3."""


def _gcv_value(text: str, where: str) -> float:
    import re

    m = re.search(r"([\d.]+)\s*\(GCV\)", str(text))
    if not m:
        raise DataError(f"{where}: no '(GCV)' value in {text!r}")
    return float(m.group(1))


def measured_gas_per_m3(data_dir_: str | os.PathLike[str] | None = None, verify: bool = True
                        ) -> pd.DataFrame:
    """CO2 per m3 of the steel-works gases as measured (EFDB, Japan, 24-30 samples each).

    kg CO2/m3 = gross calorific value (TJ per 10^6 m3 = MJ/m3, at SATP) x carbon factor on
    the same basis (tC/TJ = gC/MJ) x 44/12 / 1000, then per m3 at 20 °C (x
    :data:`SATP_TO_20C`). The EFDB rows print "x (GCV) y (NCV)" as text; the GCV pair is used
    (the NCV pair gives the same carbon per m3).

    Returns
    -------
    DataFrame
        gas, gcv_mj_per_m3, carbon_g_per_mj, kg_per_m3_satp, kg_per_m3 (20 °C basis),
        carbon_mol_fraction (CO + CO2 + CH4 ... carbon atoms per molecule of gas), rows.
    """
    df = efdb(data_dir_, verify)
    raw = df.assign(text=df["Value"].astype(str))
    out = []
    for gas in MEASURED_GASES:
        d = raw[(raw["Fuel 2006"].str.lower() == gas.lower())
                & (raw["Type of parameter"] == "Measured")]
        cv = d[d["Description"].str.startswith("Calorific Value for Gross")]
        cf = d[d["Description"].str.startswith("Carbon Emission Factor for Gross Calorofic")]
        if cv.empty or cf.empty:
            raise ParameterError(f"gas: {gas!r} has no measured per-volume rows in {EFDB_FILE}")
        a, b = cv.iloc[0], cf.iloc[0]
        gcv = _gcv_value(a["text"], f"{EFDB_FILE}, row {a['row']}, column Value")
        c = _gcv_value(b["text"], f"{EFDB_FILE}, row {b['row']}, column Value")
        kg_satp = gcv * c * 44.0 / 12.0 / 1000.0
        out.append((gas, gcv, c, kg_satp, kg_satp * SATP_TO_20C,
                    gcv * c / 12.0 * 0.0247896, f"{a['row']}, {b['row']}"))
    res = pd.DataFrame(out, columns=["gas", "gcv_mj_per_m3", "carbon_g_per_mj", "kg_per_m3_satp",
                                     "kg_per_m3", "carbon_mol_fraction", "rows"])
    res.attrs["units"] = {"kg_per_m3": "kg CO2 per m3 at 20 °C, 101.325 kPa",
                          "kg_per_m3_satp": "kg CO2 per m3 at 25 °C, 100 kPa"}
    return res
