"""CEADs fuels -> activity data: back out physical fuel use and map 17 fuels onto the study's 14.

CEADs publishes CO2 by fuel, not fuel use. Dividing each fuel's CO2 by the CEADs
factor (NCV·CC·O·44/12, factor set ``"ceads"``) gives back the physical activity
CEADs accounted for (10^4 t or 10^8 m3). :func:`backout_activity` does that for
CEADs' 17 fuels; :func:`map_to_study_fuels` maps them onto the provincial study's 14:

=========================  ==================  =========================================
CEADs fuel                 study fuel          how
=========================  ==================  =========================================
Raw Coal                   raw_coal            1:1, physical (10^4 t)
Cleaned Coal               raw_coal            by energy (10^4 tce): washed coal is coal
Other Washed Coal          raw_coal            by energy (middlings/slime are coal)
Briquettes                 raw_coal            by energy (briquettes are made from coal)
Coke                       coke                1:1, physical
Other Coking Products      coke                by energy (closest solid coking product)
Coke Oven Gas              coke_oven_gas       1:1, physical (10^8 m3)
Other Gas                  blast_furnace_gas,  physical (10^8 m3): the part the 2007
                           converter_gas,      energy balance shows as recovered gas is
                           other_gas           blast-furnace plus converter gas, split by
                                               volume (:data:`OTHER_GAS_SPLIT`), each with
                                               its own factors; the part made in gas works
                                               is ``other_gas`` (producer gas)
Crude Oil ... Fuel Oil     same codes          1:1, physical
LPG                        lpg                 1:1, physical
Refinery Gas               lpg                 by energy (a light petroleum gas)
Other Petroleum Products   fuel_oil            by energy (naphtha, lubricants, wax,
                                               bitumen, petroleum coke: heavy products)
Natural Gas                natural_gas         1:1, physical; includes LNG in CEADs
=========================  ==================  =========================================

``lng`` gets no rows (CEADs' natural gas includes LNG). "By energy" rows are in ``10^4 tce`` so that re-accounting with
another factor set keeps their energy content and applies the target fuel's
carbon content; 1:1 rows stay physical so that the target set's NCV applies.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from carbonlab._util import DataError
from carbonlab.data.factors import load_fuel_factors
from carbonlab.data.schemas import ELECTRICITY
from carbonlab.units import C_TO_CO2, GJ_PER_TCE

__all__ = [
    "CEADS_NAMES",
    "MAPPING",
    "OTHER_GAS_SPLIT",
    "backout_activity",
    "map_to_study_fuels",
    "ceads_fuel_use",
]

CEADS_NAMES: dict[str, str] = {
    "Raw Coal": "raw_coal", "Cleaned Coal": "cleaned_coal",
    "Other Washed Coal": "other_washed_coal", "Briquettes": "briquettes", "Coke": "coke",
    "Coke Oven Gas": "coke_oven_gas", "Other Gas": "other_gas",
    "Other Coking Products": "other_coking_products", "Crude Oil": "crude_oil",
    "Gasoline": "gasoline", "Kerosene": "kerosene", "Diesel Oil": "diesel", "Fuel Oil": "fuel_oil",
    "LPG": "lpg", "Refinery Gas": "refinery_gas",
    "Other Petroleum Products": "other_petroleum_products", "Natural Gas": "natural_gas",
}
"""CEADs column name -> carbonlab code (CEADs fuels keep their own codes)."""

# CEADs code -> (study fuel, "physical" | "energy")
MAPPING: dict[str, tuple[str, str]] = {
    "raw_coal": ("raw_coal", "physical"),
    "cleaned_coal": ("raw_coal", "energy"),
    "other_washed_coal": ("raw_coal", "energy"),
    "briquettes": ("raw_coal", "energy"),
    "coke": ("coke", "physical"),
    "other_coking_products": ("coke", "energy"),
    "coke_oven_gas": ("coke_oven_gas", "physical"),
    "other_gas": ("blast_furnace_gas+converter_gas", "split"),
    "crude_oil": ("crude_oil", "physical"),
    "gasoline": ("gasoline", "physical"),
    "kerosene": ("kerosene", "physical"),
    "diesel": ("diesel", "physical"),
    "fuel_oil": ("fuel_oil", "physical"),
    "lpg": ("lpg", "physical"),
    "refinery_gas": ("lpg", "energy"),
    "other_petroleum_products": ("fuel_oil", "energy"),
    "natural_gas": ("natural_gas", "physical"),
}
"""How each CEADs fuel enters the study's 14 (see the module docstring)."""

OTHER_GAS_SPLIT: dict[str, float] = {"blast_furnace_gas": 0.935, "converter_gas": 0.065}
"""Volume shares splitting the yearbooks' 其他煤气 / CEADs' "Other Gas" into blast-furnace
and converter gas. ASSUMPTION (no published split was found): typical specific yields of
~1,500 m3 BF gas per t hot metal and ~100 m3 recovered converter gas per t crude steel,
with China's 2007 output of ~469 Mt pig iron and ~489 Mt crude steel."""

_PHYS_UNIT = {"kg": "10^4 t", "m3": "10^8 m3"}
_PHYS_SCALE = {"kg": 1e7, "m3": 1e8}  # base units per 10^4 t / 10^8 m3
_TJ_PER_1E4_TCE = GJ_PER_TCE * 10.0


def _ceads_factors() -> pd.DataFrame:
    tab = load_fuel_factors("ceads").set_index("fuel")
    base = tab["ncv_unit"].map({"kJ/kg": "kg", "kJ/m3": "m3"})
    tj_per_base = tab["ncv"] * 1e-9
    cef = tab["carbon_content_tc_per_tj"] * tab["oxidation"] * C_TO_CO2
    return pd.DataFrame({"base_unit": base, "tj_per_base": tj_per_base, "cef": cef})


def backout_activity(fuel_emissions: pd.DataFrame) -> pd.DataFrame:
    """Physical fuel use implied by CEADs CO2 by fuel and the CEADs factors.

    Parameters
    ----------
    fuel_emissions
        region, year, fuel, emissions_mt with CEADs fuel names (``"Raw Coal"``, ...) or
        codes (``"raw_coal"``, ...); a ``"process"`` fuel (cement) is dropped.

    Returns
    -------
    DataFrame
        region, year, fuel (CEADs code), quantity, unit (``10^4 t`` / ``10^8 m3``),
        energy_tj (the fuel's energy, TJ).
    """
    for c in ("region", "year", "fuel", "emissions_mt"):
        if c not in fuel_emissions.columns:
            raise DataError(f"fuel_emissions: missing column {c!r}")
    df = fuel_emissions.loc[fuel_emissions["fuel"].astype(str).str.lower() != "process",
                            ["region", "year", "fuel", "emissions_mt"]].copy()
    codes = df["fuel"].map(lambda f: CEADS_NAMES.get(f, f))
    unknown = ~codes.isin(list(MAPPING))
    if unknown.any():
        raise DataError(f"fuel_emissions: unknown CEADs fuel {df['fuel'][unknown].iloc[0]!r}")
    em = pd.to_numeric(df["emissions_mt"], errors="coerce")
    if em.isna().any():
        r = df[em.isna()].iloc[0]
        raise DataError(f"fuel_emissions: missing emissions for {r['region']} {r['year']} "
                        f"{r['fuel']}")
    f = _ceads_factors().loc[codes.to_numpy()]
    tj = em.to_numpy(dtype=float) * 1e6 / f["cef"].to_numpy()
    base = tj / f["tj_per_base"].to_numpy()
    units = f["base_unit"].to_numpy()
    scale = np.where(units == "kg", _PHYS_SCALE["kg"], _PHYS_SCALE["m3"])
    out = pd.DataFrame({
        "region": df["region"].to_numpy(), "year": df["year"].astype(int).to_numpy(),
        "fuel": codes.to_numpy(), "quantity": base / scale,
        "unit": np.where(units == "kg", _PHYS_UNIT["kg"], _PHYS_UNIT["m3"]),
        "energy_tj": tj,
    })
    out.attrs["units"] = {"quantity": "see column unit", "energy_tj": "TJ"}
    out.attrs["source"] = "activity backed out of CEADs CO2 by fuel with the 'ceads' factor set"
    return out


def map_to_study_fuels(activity: pd.DataFrame,
                       manufactured_share: dict[str, float] | None = None) -> pd.DataFrame:
    """Map backed-out CEADs activity (17 fuels) onto the study's fuel codes.

    ``manufactured_share`` (region -> fraction) sends that part of each province's "Other
    Gas" to ``other_gas`` (gas made in gas works: producer-gas factors) and the rest to
    blast-furnace and converter gas (:data:`OTHER_GAS_SPLIT`); None: all of it recovered gas.

    1:1 fuels keep their physical units; folded-in fuels become energy rows in
    ``10^4 tce`` (see :data:`MAPPING`). Rows of the same study fuel and unit are summed,
    so a study fuel can have one physical and one energy row per region-year.

    Returns
    -------
    DataFrame
        region, year, fuel, quantity, unit, ceads_fuels (the CEADs fuels summed in).
    """
    rows = activity.copy()
    split = rows["fuel"].map(lambda f: MAPPING[f][1]) == "split"
    if split.any():
        parts = [rows[~split]]
        gas = rows[split]
        m = (gas["region"].map(manufactured_share).fillna(0.0).to_numpy(dtype=float)
             if manufactured_share is not None else np.zeros(len(gas)))
        shares = {"other_gas": m}
        for fuel, share in OTHER_GAS_SPLIT.items():
            shares[fuel] = (1.0 - m) * share
        for fuel, share in shares.items():
            part = gas.copy()
            part["quantity"] = part["quantity"] * share
            part["energy_tj"] = part["energy_tj"] * share
            part["_target"] = fuel
            parts.append(part[share > 0] if np.ndim(share) else part)
        rows = pd.concat(parts, ignore_index=True)
    target = rows["fuel"].map(lambda f: MAPPING[f][0])
    if "_target" in rows.columns:
        target = rows["_target"].fillna(target)
        rows = rows.drop(columns="_target")
    how = rows["fuel"].map(lambda f: MAPPING[f][1])
    energy = how.to_numpy() == "energy"
    rows["quantity"] = np.where(energy, rows["energy_tj"].to_numpy() / _TJ_PER_1E4_TCE,
                                rows["quantity"].to_numpy())
    rows["unit"] = np.where(energy, "10^4 tce", rows["unit"].to_numpy())
    rows["ceads_fuels"] = rows["fuel"]
    rows["fuel"] = target
    out = (rows.groupby(["region", "year", "fuel", "unit"], as_index=False, sort=True)
           .agg(quantity=("quantity", "sum"), ceads_fuels=("ceads_fuels", "+".join)))
    out = out[["region", "year", "fuel", "quantity", "unit", "ceads_fuels"]]
    out.attrs["units"] = {"quantity": "see column unit"}
    return out


def ceads_fuel_use(data_dir: str | os.PathLike[str] | None = None, mapped: bool = True,
                   electricity: bool = True, verify: bool = True) -> pd.DataFrame:
    """Real fuel use from CEADs: region, year, fuel, quantity, unit (+ net_electricity).

    Parameters
    ----------
    data_dir
        Real-data mirror (default ``$CARBONLAB_DATA_DIR``).
    mapped
        True: the study's fuel codes (:func:`map_to_study_fuels`); False: CEADs' 17 codes
        in physical units (for the round trip with ``factors="ceads"``).
    electricity
        Add ``net_electricity`` rows (GWh, from the ABSPI flows) and keep only the years
        both sources cover (2005-2017).
    verify
        Check file hashes against the registry.
    """
    from carbonlab.data import real

    act = backout_activity(real.ceads_province_fuels(data_dir=data_dir, verify=verify))
    if mapped:
        from carbonlab.data import cesy2008

        origin = cesy2008.other_gas_origin_2007(data_dir, verify)
        share = origin.set_index("region")["manufactured_share"].fillna(
            origin.attrs["national_share"]).to_dict()
        fu = map_to_study_fuels(act, manufactured_share=share).drop(columns="ceads_fuels")
    else:
        fu = act.drop(columns="energy_tj")
    if electricity:
        el = real.net_electricity_imports(data_dir=data_dir, verify=verify)
        years = sorted(set(fu["year"]) & set(el["year"]))
        fu = fu[fu["year"].isin(years)]
        el = el[el["year"].isin(years)]
        fu = pd.concat([fu, pd.DataFrame({"region": el["region"], "year": el["year"],
                                          "fuel": ELECTRICITY,
                                          "quantity": el["net_import_gwh"], "unit": "GWh"})],
                       ignore_index=True)
    fu = fu.sort_values(["region", "year", "fuel", "unit"]).reset_index(drop=True)
    fu.attrs["units"] = {"quantity": "see column unit"}
    fu.attrs["source"] = ("CEADs provincial inventories (Shan et al. 2018, 2020), activity backed "
                          "out with the 'ceads' factor set"
                          + ("; net electricity: ABSPI flows via GCAM-China" if electricity else ""))
    return fu
