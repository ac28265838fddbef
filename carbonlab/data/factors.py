"""Published emission-factor tables shipped with carbonlab (``data/factors/``).

Two tables, each with a ``source`` on every row:

``fuel_factors.csv``
    Per factor set (``ndrc2011``, ``ipcc2006``, ``ceads``) and fuel: the net
    calorific value (NCV) with its physical unit (kJ/kg or kJ/m3), the carbon
    content (tC/TJ), the oxidation factor (fraction) and, where the source prints
    one, the published CO2 emission factor (tCO2/TJ).
``grid_factors.csv``
    Grid electricity factors (tCO2/MWh) by grid (or province), year and kind
    (``OM``: operating-margin baseline factor of the NDRC notices; ``average``:
    the MEE/NBS average factor of all generation, regional and provincial).

See ``data/factors/README.md`` for which numbers were checked and how.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError, repo_root
from carbonlab.regions import PROVINCES

__all__ = [
    "FACTOR_SETS",
    "FACTOR_SET_LABELS",
    "DERIVED_SETS",
    "GRIDS",
    "NCV_UNITS",
    "GAS_CARBON_BASIS",
    "MOLAR_VOLUME_M3",
    "gas_limit_kg_per_m3",
    "factors_dir",
    "load_fuel_factors",
    "load_grid_factors",
]

FACTOR_SETS: tuple[str, ...] = ("ndrc2011", "ipcc2006", "ceads")
"""Known fuel factor sets."""

DERIVED_SETS: tuple[str, ...] = ("ceads",)
"""Factor sets derived at run time from data rather than transcribed: ``ceads``, the factors
CEADs applies, from its energy and emission files
(:func:`carbonlab.data.ceads_fuels.ceads_factors`)."""

FACTOR_SET_LABELS: dict[str, str] = {"ndrc2011": "NDRC 2011 guideline",
                                     "ipcc2006": "IPCC 2006 defaults", "ceads": "CEADs"}
"""Each factor set in words, for legends (the code in brackets is the parameter value)."""

GRIDS: tuple[str, ...] = ("North", "Northeast", "East", "Central", "Northwest", "China Southern")
"""The six regional grids (names as in :func:`carbonlab.regions.grid_region`)."""

MOLAR_VOLUME_M3 = 0.022414
"""Volume of one mole of ideal gas at 0 °C and 101.325 kPa (m3). Chinese statistics count
gas in m3 at 20 °C (0.024055 m3/mol) and the IPCC database's measured gases at 25 °C and
100 kPa (0.024790): 0 °C packs the most molecules into a m3, so it gives the largest limit."""

GAS_CARBON_BASIS: dict[str, tuple[str, int]] = {
    "blast_furnace_gas": ("CO, CO2 (one C atom each; the rest N2, H2)", 1),
    "converter_gas": ("CO, CO2 (one C atom each; the rest N2, H2)", 1),
    "other_gas": ("CO, CO2, CH4 (one C atom each: blast-furnace, converter and producer gas)", 1),
    "coke_oven_gas": ("CH4, CO, CO2 with a few % C2H4/C2H6: at most two C atoms each", 2),
    "natural_gas": ("CH4 with C2H6 and C3H8: at most three C atoms each", 3),
}
"""Each gas's carbon-bearing molecules and the most carbon atoms one of them holds: the
gas cannot carry more CO2 per m3 than if every molecule held that many."""


def gas_limit_kg_per_m3(fuel: str) -> float:
    """Physical upper limit of a gas's CO2 factor (kg CO2 per m3): every molecule carries
    the most carbon atoms its carbon-bearing molecules hold (:data:`GAS_CARBON_BASIS`), at
    0 °C and 101.325 kPa. Pure CO or pure CH4: 44.0095/22.414 = 1.96 kg CO2/m3."""
    if fuel not in GAS_CARBON_BASIS:
        raise ParameterError(f"fuel: no molecule basis for {fuel!r} "
                             f"(known: {', '.join(GAS_CARBON_BASIS)})")
    return GAS_CARBON_BASIS[fuel][1] * 44.0095e-3 / MOLAR_VOLUME_M3


NCV_UNITS: dict[str, str] = {"kJ/kg": "kg", "kJ/m3": "m3"}
"""NCV unit -> the physical base unit it refers to."""

_FUEL_COLUMNS = ["factor_set", "fuel", "ncv", "ncv_unit", "carbon_content_tc_per_tj",
                 "oxidation", "cef_tco2_per_tj", "source"]
_PRINTED = "co2_per_unit_printed_kg"
_GRID_COLUMNS = ["grid", "year", "factor_tco2_per_mwh", "kind", "source"]


def factors_dir() -> Path:
    """The folder holding the factor CSVs (``<repo>/data/factors``)."""
    return repo_root() / "data" / "factors"


def _read(path: Path, columns: list[str], optional: tuple[str, ...] = ()) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"{path}: factor table not found")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    return df[columns + [c for c in optional if c in df.columns]]


def _numeric(df: pd.DataFrame, col: str, path: Path, *, allow_blank: bool = False,
             lo: float | None = None, hi: float | None = None) -> pd.Series:
    raw = df[col].str.strip()
    vals = pd.to_numeric(raw.where(raw != ""), errors="coerce")
    bad = vals.isna() & ~((raw == "") & allow_blank)
    bad |= vals.notna() & (~np.isfinite(vals.to_numpy(dtype=float, na_value=0.0)))
    if lo is not None:
        bad |= vals.notna() & (vals < lo)
    if hi is not None:
        bad |= vals.notna() & (vals > hi)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        # +2: header line and 1-based rows
        raise DataError(
            f"{path}: row {i + 2}, column {col}: missing or invalid value {df[col].iloc[i]!r}"
        )
    return vals.astype(float)


def load_fuel_factors(factor_set: str = "ndrc2011", path: str | Path | None = None
                      ) -> pd.DataFrame:
    """The fuel factor table of one factor set.

    Parameters
    ----------
    factor_set
        ``"ndrc2011"`` (China provincial guideline, 14 study fuels) or ``"ipcc2006"``
        (IPCC 2006 defaults, 14 study fuels). ``"ceads"`` is not transcribed: it is derived
        from CEADs' files (:data:`DERIVED_SETS`), so asking for it here is a ParameterError.
    path
        Alternative CSV (tests); default ``data/factors/fuel_factors.csv``.

    Returns
    -------
    DataFrame
        One row per fuel: fuel, ncv (in ``ncv_unit``), ncv_unit ("kJ/kg"/"kJ/m3"),
        carbon_content_tc_per_tj, oxidation (fraction), cef_tco2_per_tj (published CEF
        or NaN), source, co2_per_unit_printed_kg (kg CO2 per kg or per m3 as a source
        prints it, or NaN).
    """
    if factor_set not in FACTOR_SETS:
        raise ParameterError(
            f"factors: unknown factor set {factor_set!r} (known: {', '.join(FACTOR_SETS)})"
        )
    if factor_set in DERIVED_SETS:
        raise ParameterError(
            f"factors: {factor_set!r} is derived from CEADs' energy and emission files, not "
            "transcribed: use carbonlab.data.ceads_fuels.ceads_factors() or "
            "carbonlab.accounting.emission_factors('ceads')")
    path = Path(path) if path is not None else factors_dir() / "fuel_factors.csv"
    raw = _read(path, _FUEL_COLUMNS, optional=(_PRINTED,))
    df = raw.copy()
    for col in ("factor_set", "fuel", "ncv_unit", "source"):
        blank = df[col].str.strip() == ""
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise DataError(f"{path}: row {i + 2}, column {col}: missing value")
    df["ncv"] = _numeric(raw, "ncv", path, lo=1e-9)
    df["carbon_content_tc_per_tj"] = _numeric(raw, "carbon_content_tc_per_tj", path, lo=1e-9)
    df["oxidation"] = _numeric(raw, "oxidation", path, lo=1e-9, hi=1.0)
    df["cef_tco2_per_tj"] = _numeric(raw, "cef_tco2_per_tj", path, allow_blank=True, lo=1e-9)
    # optional: a per-physical-unit coefficient printed by the source (kg CO2 per kg or per m3)
    if _PRINTED in raw.columns:
        df[_PRINTED] = _numeric(raw, _PRINTED, path, allow_blank=True, lo=1e-9)
    else:
        df[_PRINTED] = np.nan
    bad_unit = ~df["ncv_unit"].isin(list(NCV_UNITS))
    if bad_unit.any():
        i = int(np.flatnonzero(bad_unit.to_numpy())[0])
        raise DataError(
            f"{path}: row {i + 2}, column ncv_unit: unknown unit {df['ncv_unit'].iloc[i]!r} "
            f"(known: {', '.join(NCV_UNITS)})"
        )
    dup = df.duplicated(["factor_set", "fuel"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{path}: row {i + 2}: duplicate fuel {df['fuel'].iloc[i]!r} "
                        f"in factor set {df['factor_set'].iloc[i]!r}")
    out = df[df["factor_set"] == factor_set].drop(columns="factor_set").reset_index(drop=True)
    if out.empty:
        raise DataError(f"{path}: no rows for factor set {factor_set!r}")
    out.attrs["units"] = {"ncv": "see ncv_unit", "carbon_content_tc_per_tj": "tC/TJ",
                          "oxidation": "fraction", "cef_tco2_per_tj": "tCO2/TJ",
                          _PRINTED: "kg CO2 per kg or per m3 (see ncv_unit)"}
    out.attrs["factor_set"] = factor_set
    return out


def load_grid_factors(path: str | Path | None = None) -> pd.DataFrame:
    """Published grid electricity factors, regional or provincial.

    The ``grid`` column holds one of :data:`GRIDS` (a regional factor) or a canonical
    province name (a provincial factor, which takes precedence over its grid's).

    Returns
    -------
    DataFrame
        grid, year (int), factor_tco2_per_mwh (float), kind ("OM" operating margin,
        "average" all-generation average), source.
    """
    path = Path(path) if path is not None else factors_dir() / "grid_factors.csv"
    raw = _read(path, _GRID_COLUMNS)
    df = raw.copy()
    for col in ("grid", "kind", "source"):
        blank = df[col].str.strip() == ""
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise DataError(f"{path}: row {i + 2}, column {col}: missing value")
    bad_grid = ~df["grid"].isin(GRIDS + tuple(PROVINCES))
    if bad_grid.any():
        i = int(np.flatnonzero(bad_grid.to_numpy())[0])
        raise DataError(f"{path}: row {i + 2}, column grid: unknown grid {df['grid'].iloc[i]!r} "
                        f"(known: {', '.join(GRIDS)}, or a province name)")
    df["year"] = _numeric(raw, "year", path, lo=1990, hi=2100).astype(int)
    df["factor_tco2_per_mwh"] = _numeric(raw, "factor_tco2_per_mwh", path, lo=0.0, hi=3.0)
    dup = df.duplicated(["grid", "year", "kind"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{path}: row {i + 2}: duplicate grid/year/kind")
    df.attrs["units"] = {"factor_tco2_per_mwh": "tCO2/MWh"}
    return df.reset_index(drop=True)
