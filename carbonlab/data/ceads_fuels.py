"""CEADs fuels: the fuel burnt, the factors CEADs applies, and the map of 17 fuels onto 14.

:func:`combustion_activity` reads the fuel each sector burns from CEADs' energy
inventories (physical units); :func:`derive_ceads_factors` divides CEADs' CO2 by it,
per sector and fuel (:func:`ceads_factors` on the mirror's files);
:func:`ceads_fuel_use` is the real fuel-use table. :func:`backout_activity` divides
CEADs' CO2 by fuel by those derived factors (one per fuel). :func:`map_to_study_fuels`
maps CEADs' 17 fuels onto the provincial study's 14:

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
from carbonlab.data.schemas import ELECTRICITY
from carbonlab.units import GJ_PER_TCE

__all__ = [
    "CEADS_NAMES",
    "MAPPING",
    "OTHER_GAS_SPLIT",
    "CHEMICAL_SECTORS",
    "backout_activity",
    "map_to_study_fuels",
    "ceads_fuel_use",
    "combustion_activity",
    "derive_ceads_factors",
    "ceads_factors",
    "ceads_fuel_factors",
    "fuel_groups",
    "burnt_by_fuel",
    "inventory_files",
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
    """base_unit, kg_per_unit (CEADs' factor, kg CO2 per kg or m3) per CEADs code (derived)."""
    per = ceads_fuel_factors().set_index("fuel")
    return pd.DataFrame({"base_unit": per["unit_basis"], "kg_per_unit": per["factor_kg_per_unit"]})


def _ncv_tj(fuel: pd.Series, base: np.ndarray) -> np.ndarray:
    """Energy (TJ) of ``base`` kg or m3 of each CEADs fuel, on the yearbook's calorific values."""
    from carbonlab.data import cesy2008
    from carbonlab.data.panel import FU04_NAME

    ncv = cesy2008.conversion_factors().drop_duplicates("name").set_index("name")["ncv_kj"]
    return base * fuel.map(lambda c: float(ncv[FU04_NAME[c]])).to_numpy() * 1e-9


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
    base = em.to_numpy(dtype=float) * 1e9 / f["kg_per_unit"].to_numpy()
    tj = _ncv_tj(codes, base)
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
    """Real fuel use: region, year, fuel, quantity, unit (+ ``net_electricity``), 1997-2022.

    The fuel burnt as CEADs counts it, from its energy inventories in physical units
    (:func:`combustion_activity`, cells where CEADs books CO2, summed over sectors).

    Parameters
    ----------
    data_dir
        Real-data mirror (default ``$CARBONLAB_DATA_DIR``).
    mapped
        True: the study's fuel codes (:func:`map_to_study_fuels`: sub-products by energy on
        the yearbook's calorific values, Other Gas split by its 2007 origin); False: CEADs'
        17 codes in physical units.
    electricity
        Add ``net_electricity`` rows (GWh): the inventories' electricity balance
        (:func:`carbonlab.data.ceads_energy.electricity_balance`); province-years without
        an energy balance (Ningxia 2000-2004, Hainan 2002, Xinjiang 2001) are left out.
    verify
        Check file hashes against the registry.
    """
    from carbonlab.data import ceads_energy

    act = combustion_activity(ceads_energy.energy_inventory(data_dir, verify))
    fu = burnt_by_fuel(act, ceads_factors(data_dir, verify))
    if mapped:
        from carbonlab.data import cesy2008

        origin = cesy2008.other_gas_origin_2007(data_dir, verify)
        share = origin.set_index("region")["manufactured_share"].fillna(
            origin.attrs["national_share"]).to_dict()
        fu = map_to_study_fuels(fu, manufactured_share=share).drop(columns="ceads_fuels")
    else:
        fu = fu.drop(columns="energy_tj")
    if electricity:
        el = ceads_energy.electricity_balance(data_dir, verify)
        # province-years without an energy balance (no electricity either) are left out
        keep = pd.MultiIndex.from_frame(fu[["region", "year"]]).isin(
            pd.MultiIndex.from_frame(el[["region", "year"]]))
        fu = fu[keep]
        fu = pd.concat([fu, pd.DataFrame({"region": el["region"], "year": el["year"],
                                          "fuel": ELECTRICITY,
                                          "quantity": el["net_import_gwh"], "unit": "GWh"})],
                       ignore_index=True)
    fu = fu.sort_values(["region", "year", "fuel", "unit"]).reset_index(drop=True)
    fu.attrs["units"] = {"quantity": "see column unit"}
    fu.attrs["source"] = ("CEADs provincial energy inventories 1997-2022, fuel burnt as CEADs counts "
                          "it" + ("; net electricity: the inventories' electricity balance"
                                  if electricity else ""))
    return fu


def burnt_by_fuel(activity: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Fuel burnt per region, year and CEADs fuel, over the sectors where CEADs books CO2
    for it (``factors``: :func:`derive_ceads_factors`): region, year, fuel, quantity, unit,
    energy_tj (on the yearbook's calorific values)."""
    counted = factors.loc[factors["factor_kg_per_unit"].fillna(0.0) > 0, ["sector", "fuel"]]
    a = activity.merge(counted, on=["sector", "fuel"], how="inner")
    a = a.groupby(["region", "year", "fuel", "unit"], as_index=False)["quantity"].sum()
    a["energy_tj"] = _ncv_tj(a["fuel"], (a["quantity"] * a["unit"].map(_KG_PER_UNIT)).to_numpy())
    return a[["region", "year", "fuel", "quantity", "unit", "energy_tj"]]


# --------------------------------------------------------------------------- from physical data
CHEMICAL_SECTORS: tuple[str, ...] = (
    "Raw Chemical Materials and Chemical Products", "Medical and Pharmaceutical Products",
    "Chemical Fiber", "Rubber Products", "Plastic Products")
"""The five sectors from which CEADs deducts non-energy use (found from its files: their
CO2 per unit of fuel falls below the other sectors' exactly where row 67 is non-zero)."""
_POWER = "Production and Supply of Electric Power, Steam and Hot Water"
_KG_PER_UNIT = {"10^4 t": 1e7, "10^8 m3": 1e8}  # kg or m3 per published unit


def combustion_activity(energy: pd.DataFrame) -> pd.DataFrame:
    """Fuel burnt per sector as the CEADs inventory counts it, for CEADs' 17 fuels.

    From an energy inventory (:func:`carbonlab.data.ceads_energy.energy_inventory`):
    final use of each of the 47 sectors (a negative published cell counts as 0), less
    non-energy use (row 67) taken from the five :data:`CHEMICAL_SECTORS` in proportion to
    their use (never below zero), plus the inputs to thermal power and heating (rows 54
    and 55) booked to the power sector, as README 11b found CEADs does.

    Returns
    -------
    DataFrame
        region, year, sector, fuel (CEADs code), quantity, unit (``10^4 t`` / ``10^8 m3``).
    """
    from carbonlab.data.ceads import CEADS_SECTORS

    for c in ("region", "year", "sector", "fuel", "quantity", "unit"):
        if c not in energy.columns:
            raise DataError(f"energy: missing column {c!r}")
    fuels = list(CEADS_NAMES.values())
    e = energy[energy["fuel"].astype(str).isin(fuels)]
    units = e.drop_duplicates("fuel").set_index(e.drop_duplicates("fuel")["fuel"].astype(str))
    w = e.pivot_table(index=["region", "year", "fuel"], columns="sector", values="quantity",
                      observed=True, aggfunc="sum")
    need = list(CEADS_SECTORS) + ["non_energy_use", "thermal_power", "heating_supply"]
    missing = [c for c in need if c not in w.columns]
    if missing:
        raise DataError(f"energy: no rows for sector {missing[0]!r}")
    sect = w[list(CEADS_SECTORS)].clip(lower=0.0)
    chem = sect[list(CHEMICAL_SECTORS)].sum(axis=1)
    ne = w["non_energy_use"].clip(lower=0.0)
    keep = (1.0 - ne / chem.where(chem > 0)).clip(0.0, 1.0).fillna(1.0)
    sect[list(CHEMICAL_SECTORS)] = sect[list(CHEMICAL_SECTORS)].mul(keep, axis=0)
    sect[_POWER] = (sect[_POWER] + w["thermal_power"].clip(lower=0.0)
                    + w["heating_supply"].clip(lower=0.0))
    out = sect.rename_axis(columns="sector").stack().rename("quantity").reset_index()
    out["fuel"] = out["fuel"].astype(str)
    out["sector"] = out["sector"].astype(str)
    out["unit"] = out["fuel"].map(units["unit"].astype(str))
    out = out[["region", "year", "sector", "fuel", "quantity", "unit"]]
    out.attrs["units"] = {"quantity": "see column unit"}
    out.attrs["source"] = ("combustion as CEADs counts it: final use - non-energy use (chemical "
                           "sectors) + thermal-power and heating inputs (power sector)")
    return out


def _emission_codes(emissions: pd.DataFrame) -> pd.DataFrame:
    for c in ("region", "year", "sector", "fuel", "emissions_mt"):
        if c not in emissions.columns:
            raise DataError(f"emissions: missing column {c!r}")
    em = emissions[emissions["fuel"].astype(str).str.lower() != "process"]
    em = em.assign(fuel=em["fuel"].astype(str).map(lambda f: CEADS_NAMES.get(f, f)),
                   sector=em["sector"].astype(str))
    bad = ~em["fuel"].isin(list(CEADS_NAMES.values()))
    if bad.any():
        raise DataError(f"emissions: unknown CEADs fuel {em['fuel'][bad].iloc[0]!r}")
    return em[["region", "year", "sector", "fuel", "emissions_mt"]]


def derive_ceads_factors(activity: pd.DataFrame, emissions: pd.DataFrame,
                         tol: float = 1e-3) -> pd.DataFrame:
    """The CO2 factors CEADs applies, derived as its emissions / the fuel burnt.

    Parameters
    ----------
    activity
        :func:`combustion_activity` (region, year, sector, fuel, quantity, unit).
    emissions
        CEADs CO2 by sector and fuel of the same release: region, year, sector, fuel
        (CEADs names or codes), emissions_mt; ``process`` rows are ignored.
    tol
        Relative distance within which a province-year's ratio counts as the factor.

    Returns
    -------
    DataFrame
        One row per (sector, fuel): factor_kg_per_unit (kg CO2 per kg or per m3, the
        median over the province-years with fuel and emissions), p05 and p95 of those
        ratios, n (province-years), share_at_factor (of them within ``tol``), counted
        (False where the sector burns the fuel but CEADs books no CO2 for it in any
        province-year: factor 0), unit_basis ("kg" or "m3").
    """
    em = _emission_codes(emissions)
    keys = ["region", "year", "sector", "fuel"]
    m = activity[keys + ["quantity", "unit"]].merge(em, on=keys, how="inner")
    if m.empty:
        raise DataError("activity and emissions have no (region, year, sector, fuel) in common")
    per = m["unit"].map(_KG_PER_UNIT)
    if per.isna().any():
        raise DataError(f"activity: unit {m['unit'][per.isna()].iloc[0]!r} is not 10^4 t or 10^8 m3")
    base = m["quantity"] * per
    ok = (base > 1.0) & (m["emissions_mt"] > 0)
    m["ratio"] = (m["emissions_mt"] * 1e9 / base).where(ok)
    g = m.groupby(["sector", "fuel"], sort=False)
    out = g["ratio"].agg(factor_kg_per_unit="median", n="count",
                         p05=lambda s: s.quantile(0.05), p95=lambda s: s.quantile(0.95))
    out["share_at_factor"] = g.apply(
        lambda d: float(((d["ratio"].dropna() / d["ratio"].median() - 1).abs() <= tol).mean())
        if d["ratio"].notna().any() else np.nan, include_groups=False)
    burnt = g["quantity"].sum() > 0
    booked = g["emissions_mt"].sum() > 0
    out["counted"] = booked
    out.loc[burnt & ~booked, "factor_kg_per_unit"] = 0.0
    out["unit_basis"] = g["unit"].first().map({"10^4 t": "kg", "10^8 m3": "m3"})
    out = out.reset_index()
    out.attrs["units"] = {"factor_kg_per_unit": "kg CO2 per kg or m3 (unit_basis)"}
    out.attrs["source"] = "derived: CEADs CO2 by sector and fuel / combustion_activity"
    return out


def ceads_factors(data_dir: str | os.PathLike[str] | None = None, verify: bool = True
                  ) -> pd.DataFrame:
    """:func:`derive_ceads_factors` on the files of the release the book uses
    (``ceads-provinces-v2/`` and ``ceads-energy-provinces/``, 2001-2022); cached by content."""
    return _derived(data_dir, verify)[0]


def ceads_fuel_factors(data_dir: str | os.PathLike[str] | None = None, verify: bool = True
                       ) -> pd.DataFrame:
    """One CEADs factor per fuel: fuel, factor_kg_per_unit (the sectors' factors weighted by
    the fuel they burn, 2001-2022), min_kg_per_unit and max_kg_per_unit (over the sectors
    where CEADs books CO2 for the fuel), n_sectors, unit_basis ("kg" or "m3")."""
    return _derived(data_dir, verify)[1]


def inventory_files(data_dir=None, verify: bool = True) -> list:
    """The checked paths of the files the derived factors and the inventory accounting read
    (energy inventories 1997-2022, CO2 inventories v2): the content key of their caches."""
    from carbonlab.data import ceads, ceads_energy
    from carbonlab.data.registry import check_file
    from carbonlab.data.registry import data_dir as _root

    root = _root(data_dir)
    return ([check_file(ceads_energy.energy_file(y), root, verify) for y in ceads_energy.ENERGY_YEARS]
            + [check_file(ceads.province_file(y, "v2"), root, verify)
               for y in ceads.RELEASES["v2"]])


def _derived(data_dir, verify: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    from carbonlab.cache import cached
    from carbonlab.data.registry import data_dir as _root

    root = _root(data_dir)
    files = inventory_files(root, verify)

    def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
        act, em = _activity_and_emissions(root, verify)
        f = derive_ceads_factors(act, em)
        burnt = act.groupby(["sector", "fuel"], as_index=False)["quantity"].sum()
        m = f.merge(burnt, on=["sector", "fuel"])
        m = m[m["counted"] & (m["quantity"] > 0)]
        per = m.groupby("fuel").apply(lambda d: pd.Series({
            "factor_kg_per_unit": float(np.average(d["factor_kg_per_unit"], weights=d["quantity"])),
            "min_kg_per_unit": float(d["factor_kg_per_unit"].min()),
            "max_kg_per_unit": float(d["factor_kg_per_unit"].max()),
            "n_sectors": int(len(d)), "unit_basis": d["unit_basis"].iloc[0]}),
            include_groups=False)
        per = per.reindex(list(CEADS_NAMES.values())).reset_index()
        return f, per

    return cached("ceads-factors", files, compute)


def _activity_and_emissions(data_dir: str | os.PathLike[str] | None, verify: bool
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    from carbonlab.data import ceads, ceads_energy

    act = combustion_activity(ceads_energy.energy_inventory(data_dir, verify))
    em = ceads.ceads_province_sectors(data_dir=data_dir, verify=verify, release="v2")
    years = sorted(set(em["year"]))
    return act[act["year"].isin(years)].reset_index(drop=True), em


def fuel_groups() -> dict[str, str]:
    """Fuel (a CEADs code or a study fuel code) -> the group compared across factor sets:
    the study fuel a CEADs fuel maps to; blast-furnace, converter and other gas -> other_gas."""
    out = {c: t for c, (t, _) in MAPPING.items()}
    out["other_gas"] = "other_gas"
    out.update({"blast_furnace_gas": "other_gas", "converter_gas": "other_gas", "lng": "natural_gas"})
    return out
