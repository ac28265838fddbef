"""A city's current accounts from data: its province's CEADs structure scaled to the city.

CEADs city inventories carry totals only. The base-year structure of a city's LEAP tree
(energy by branch and fuel, process CO2, the power sector) is therefore taken from its
**province** in the same year and scaled to the city's total -- a *proxy*: the city is
assumed to have its province's mix. Sources, all read through :mod:`carbonlab.data`:

- CO2 by the 47 sectors x 17 fuels + process (:func:`~carbonlab.data.ceads.ceads_province_sectors`,
  the ``ceads-provinces-v2`` release); a fuel group's energy is its CO2 over the group's
  IPCC factor (:data:`GROUP_FACTORS`), so the branch emissions are the data's exactly;
- electricity use by sector and the province's electricity balance (thermal and
  non-thermal generation, losses, net imports) from the energy inventories
  (:mod:`carbonlab.data.ceads_energy`).

The scale is ``ratio = city CO2 / province CO2`` in the base year, one number for every
flow. The power plants' fuel is the power sector's CO2 (scope 1); the city's imports are
what its requirement leaves after local generation (negative: a net exporter, as its
province).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import DataError

__all__ = ["BRANCH_OF_SECTOR", "FUEL_GROUPS", "GROUP_FACTORS", "ProvinceAccounts",
           "province_accounts"]

TJ_PER_1E8_KWH = 360.0
"""1e8 kWh = 3.6e8 MJ = 360 TJ."""

_INDUSTRY = {
    "metals": ("Ferrous Metals Mining and Dressing", "Nonferrous Metals Mining and Dressing",
               "Smelting and Pressing of Ferrous Metals",
               "Smelting and Pressing of Nonferrous Metals", "Metal Products"),
    "chemicals": ("Petroleum Processing and Coking", "Raw Chemical Materials and Chemical Products",
                  "Medical and Pharmaceutical Products", "Chemical Fiber", "Rubber Products",
                  "Plastic Products"),
    "building_materials": ("Nonmetal Minerals Mining and Dressing", "Nonmetal Mineral Products"),
}
_OTHER = {
    "transport": ("Transportation, Storage, Post and Telecommunication Services",),
    "households": ("Urban", "Rural"),
    "services": ("Wholesale, Retail Trade and Catering Services", "Others"),
    "agriculture": ("Farming, Forestry, Animal Husbandry, Fishery and Water Conservancy",),
    "power": ("Production and Supply of Electric Power, Steam and Hot Water",),
}


def _branch_of_sector() -> dict[str, str]:
    from carbonlab.data.ceads import CEADS_SECTORS

    out = {s: b for b, ss in {**_INDUSTRY, **_OTHER}.items() for s in ss}
    return {s: out.get(s, "other_manufacturing") for s in CEADS_SECTORS}


BRANCH_OF_SECTOR: dict[str, str] = {}
"""CEADs sector -> the city tree's group: the four industry branches (``metals``,
``chemicals``, ``building_materials``, ``other_manufacturing``: the other mining,
manufacturing, utilities and construction), ``transport``, ``households``, ``services``,
``agriculture`` and ``power`` (filled on first use)."""

FUEL_GROUPS: dict[str, str] = {
    "Raw Coal": "coal", "Cleaned Coal": "coal", "Other Washed Coal": "coal",
    "Briquettes": "coal", "Coke": "coal", "Coke Oven Gas": "coal", "Other Gas": "coal",
    "Other Coking Products": "coal", "Crude Oil": "oil", "Gasoline": "gasoline",
    "Kerosene": "oil", "Diesel Oil": "diesel", "Fuel Oil": "oil", "LPG": "oil",
    "Refinery Gas": "oil", "Other Petroleum Products": "oil", "Natural Gas": "natural_gas",
    "process": "process",
}
"""CEADs fuel -> the tree's fuel group (coal and its products and gases, oil products,
gasoline, diesel, natural gas; ``process`` CO2 is its own branch)."""

GROUP_FACTORS: dict[str, tuple[float, str]] = {
    "coal": (94.6, "IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4: other bituminous coal "
                   "94,600 kg/TJ (the coal group's energy = its CO2 / this factor)"),
    "oil": (73.3, "IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4: crude oil 73,300 kg/TJ "
                  "(the oil group's energy = its CO2 / this factor)"),
    "gasoline": (69.3, "IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4: motor gasoline 69,300 kg/TJ"),
    "diesel": (74.1, "IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4: gas/diesel oil 74,100 kg/TJ"),
    "natural_gas": (56.1, "IPCC 2006 Guidelines Vol. 2 Ch. 1 Table 1.4: natural gas 56,100 kg/TJ"),
}
"""t CO2 per TJ of each fuel group, with its source."""


@dataclass
class ProvinceAccounts:
    """One province-year's structure (Mt CO2, TJ, shares); :meth:`scaled` for a city."""

    province: str
    year: int
    total_mt: float                 # scope-1 CO2 (sectors + process)
    emissions: pd.DataFrame         # group, fuel, emissions_mt (power = plants' fuel)
    electricity_tj: pd.Series       # final electricity use by group (TJ)
    balance: dict[str, float]       # consumption, loss, thermal, nonthermal (TJ)
    source: str

    def energy(self) -> pd.DataFrame:
        """group, fuel, energy_tj (fuel groups at :data:`GROUP_FACTORS`; electricity added)."""
        e = self.emissions[self.emissions["fuel"] != "process"].copy()
        e["energy_tj"] = e["emissions_mt"] * 1e6 / e["fuel"].map(
            {k: v[0] for k, v in GROUP_FACTORS.items()})
        el = pd.DataFrame({"group": self.electricity_tj.index, "fuel": "electricity",
                           "energy_tj": self.electricity_tj.to_numpy()})
        return pd.concat([e[["group", "fuel", "energy_tj"]], el], ignore_index=True)

    def process_mt(self) -> float:
        """Process CO2 (Mt): cement, lime and glass in CEADs."""
        return float(self.emissions.loc[self.emissions["fuel"] == "process", "emissions_mt"].sum())


@functools.lru_cache(maxsize=64)
def province_accounts(province: str, year: int) -> ProvinceAccounts:
    """The province's CEADs structure in ``year`` (2001-2022; read through the loaders)."""
    from carbonlab.data.ceads_energy import ENERGY_COLUMNS, ENERGY_YEARS
    from carbonlab.regions import PROVINCES, resolve_region

    if not BRANCH_OF_SECTOR:
        BRANCH_OF_SECTOR.update(_branch_of_sector())
    region = resolve_region(province)
    sec = _sectors_year(year)
    sec = sec[sec["region"] == region]
    if sec.empty:
        raise DataError(f"ceads-provinces-v2: no sector table for {region} in {year}")
    sec = sec.assign(group=sec["sector"].astype(str).map(BRANCH_OF_SECTOR),
                     fuel=sec["fuel"].astype(str).map(FUEL_GROUPS))
    em = sec.groupby(["group", "fuel"], as_index=False)["emissions_mt"].sum()
    em = em[em["emissions_mt"] != 0].reset_index(drop=True)
    total = float(sec["emissions_mt"].sum())
    if not total > 0:
        raise DataError(f"ceads-provinces-v2: {region} {year} has no emissions")
    cube, rows, bal = _energy()
    if year not in ENERGY_YEARS:
        raise DataError(f"ceads-energy-provinces: no energy inventory for {year}")
    yi, pi, j = ENERGY_YEARS.index(year), PROVINCES.index(region), ENERGY_COLUMNS.index("electricity")
    el = pd.Series({s: float(cube[yi, pi, rows[s], j]) * TJ_PER_1E8_KWH for s in BRANCH_OF_SECTOR})
    el = el.groupby(el.index.map(BRANCH_OF_SECTOR)).sum()
    row = bal[(bal["region"] == region) & (bal["year"] == year)]
    if row.empty:
        raise DataError(f"ceads-energy-provinces: no electricity balance for {region} {year}")
    r = row.iloc[0]
    gwh = {k: float(r[f"{k}_gwh"]) * 3.6 for k in ("consumption", "loss", "thermal", "nonthermal")}
    return ProvinceAccounts(region, int(year), total, em, el, gwh,
                            f"CEADs {region} {year}: CO2 by sector and fuel (ceads-provinces-v2), "
                            "electricity use and balance (ceads-energy-provinces)")


@functools.lru_cache(maxsize=1)
def _energy() -> tuple[np.ndarray, dict[str, int], pd.DataFrame]:
    from carbonlab.data.ceads_energy import electricity_balance, energy_array

    cube, rows = energy_array()
    return cube, rows, electricity_balance()


@functools.lru_cache(maxsize=4)
def _sectors_year(year: int) -> pd.DataFrame:
    from carbonlab.data.ceads import ceads_province_sectors

    df = ceads_province_sectors()
    return df[df["year"] == int(year)]


def scaled_accounts(acc: ProvinceAccounts, city_total_mt: float) -> dict[str, Any]:
    """The province's structure scaled to a city of ``city_total_mt`` (Mt CO2)."""
    ratio = float(city_total_mt) / acc.total_mt
    en = acc.energy()
    en["energy_tj"] *= ratio
    tj = {(g, f): float(v) for g, f, v in en[["group", "fuel", "energy_tj"]].itertuples(index=False)}
    return {"ratio": ratio, "tj": tj, "process_mt": acc.process_mt() * ratio,
            "balance_tj": {k: v * ratio for k, v in acc.balance.items()},
            "source": f"{acc.source}, scaled to the city's total (x {ratio:.4g}): a proxy"}


def group_tj(acc: dict[str, Any], groups: tuple[str, ...], fuels: tuple[str, ...] | None = None
             ) -> dict[str, float]:
    """TJ by fuel summed over ``groups`` (only ``fuels`` if given), zeros left out."""
    out: dict[str, float] = {}
    for (g, f), v in acc["tj"].items():
        if g in groups and (fuels is None or f in fuels) and v:
            out[f] = out.get(f, 0.0) + v
    return {f: v for f, v in out.items() if v > 0 and np.isfinite(v)}


def _src(text: str) -> dict[str, str]:
    return {"source": text}


def accounts_spec(spec: dict[str, Any], acc: dict[str, Any]) -> dict[str, Any]:
    """A city file's spec with its base-year structure replaced by the scaled accounts.

    The physical parameters (occupancy, MJ per vehicle-km, value-added shares, elasticities,
    levers) stay the file's; what the data give replaces the structure: car and bus p-km
    from gasoline and the bus part of transport diesel, freight t-km from the rest, industry
    intensities by branch and fuel, buildings' energy and fuel shares, the other uses
    (agriculture, non-road transport fuels), process CO2 and the power sector (plant fuel
    mix, efficiency, losses, non-thermal share). Returns a new spec (``accounts`` holds the
    data's base-year supply by fuel, TJ, for the energy balance).

    Long because each sector's mapping from the data is a few lines of its own.
    """
    import copy

    s = copy.deepcopy(spec)
    src = acc["source"]
    v = lambda row: float(row["value"] if isinstance(row, dict) else row)  # noqa: E731
    p, f, ind, b, lv = s["passenger"], s["freight"], s["industry"], s["buildings"], s["levers"]
    gdp0, pop0 = v(s["drivers"]["gdp_1e8yuan"]), v(s["drivers"]["population_10k"])
    saving0 = 1 - float(lv["traffic_brain"]["base"])
    sh0, e0 = float(lv["shared_share"]["base"]), v(p.get("ev_stock_share", {"value": 0.0}))
    occ = (1 - sh0) / v(p["occupancy_private"]) + sh0 / v(p["occupancy_shared"])
    gas = sum(group_tj(acc, ("transport", "households"), ("gasoline",)).values())
    diesel = sum(group_tj(acc, ("transport",), ("diesel",)).values())
    bus_share = v(p.get("bus_share_of_transport_diesel", {"value": 0.15}))
    car_pkm = gas * 1e6 / (v(p["mj_per_vkm_ice"]) * saving0) / (1 - e0) / occ
    bus_pkm = diesel * bus_share * 1e6 / (v(p["bus_mj_per_pkm"]) * saving0)
    pkm = max(car_pkm + bus_pkm, 1e-9)
    p["pkm_per_capita"] = {"value": pkm / (pop0 * 1e4), **_src(f"{src}; gasoline and bus diesel "
                           "over the file's MJ per km and occupancy")}
    p["car_share"] = {"value": car_pkm / pkm, **_src(src)}
    fe0 = float(lv["freight_electric"]["base"])
    tkm = diesel * (1 - bus_share) * 1e6 / (v(f["mj_per_tkm_diesel"]) * saving0 * (1 - fe0))
    f["tkm_per_1e4yuan"] = {"value": tkm / (gdp0 * 1e4), **_src(src)}
    va = gdp0 * v(ind["value_added_share"])
    for name, row in ind["branches"].items():
        tj = group_tj(acc, (name,))
        row["tj_per_1e8yuan"] = {k: x / (va * float(row["share"])) for k, x in tj.items()}
        row["source"] = f"{src}; value-added share: {row.get('source', 'assumption')}"
    res = group_tj(acc, ("households",), ("coal", "oil", "natural_gas", "electricity"))
    svc = group_tj(acc, ("services",))
    for key, tj, per, unit in (("residential", res, pop0 * 1e4 / 1e3, "gj_per_capita"),
                               ("services", svc, gdp0, "tj_per_1e8yuan")):
        tot = max(sum(tj.values()), 1e-9)
        b[key][unit] = tot / per
        b[key]["fuel_shares"] = {k: x / tot for k, x in tj.items()} or {"electricity": 1.0}
        b[key]["source"] = src
    other = group_tj(acc, ("agriculture",))
    for k, x in group_tj(acc, ("transport",), ("coal", "oil", "natural_gas", "electricity")).items():
        other[k] = other.get(k, 0.0) + x
    for k, x in group_tj(acc, ("households",), ("diesel",)).items():
        other[k] = other.get(k, 0.0) + x
    s["other"] = {"tj": other, "elasticity_gdp": {"value": 1.0, "source": "assumption"},
                  "source": f"{src}; agriculture, non-road transport fuels, households' diesel"}
    bm = ind["branches"].get("building_materials", {}).get("elasticity_gdp", 1.0)
    s["process"] = {"mt": {"value": acc["process_mt"], **_src(src)},
                    "elasticity_gdp": {"value": float(bm), "source": "building materials' "
                                       "elasticity (cement, lime and glass)"}}
    for fuel in ("coal", "oil", "gasoline", "diesel", "natural_gas"):
        s["fuels"][fuel] = {"t_co2_per_tj": GROUP_FACTORS[fuel][0], "source": GROUP_FACTORS[fuel][1]}
    s["fuels"]["process"] = {"t_co2_per_tj": 1e6, "non_energy": True,
                             "source": "process CO2 counted in Mt (1e6 t per Mt): not energy"}
    _power_accounts(s, acc)
    s["accounts"] = {"source": src, "ratio": acc["ratio"],
                     "supply_tj": _supply(acc), "base_year": s.get("base_year")}
    return s


def _supply(acc: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for (_, fuel), x in acc["tj"].items():
        if fuel != "electricity" and x > 0:
            out[fuel] = out.get(fuel, 0.0) + x
    return out


def _power_accounts(s: dict[str, Any], acc: dict[str, Any]) -> None:
    """Plants, efficiency, losses and the non-thermal share from the data (import share later)."""
    bal = acc["balance_tj"]
    fuel_in = group_tj(acc, ("power",))
    total_in = sum(fuel_in.values())
    eta = bal["thermal"] / total_in if total_in > 0 else 0.0
    eta_src = f"{acc['source']}: thermal generation / the power sector's fuel"
    thermal = bal["thermal"]
    if not 0.2 <= eta <= 0.6:   # the plants burn the data's fuel; their output is bounded
        clipped = min(max(eta, 0.2), 0.6)
        eta_src = (f"{acc['source']}: thermal generation / fuel = {eta:.3g}, outside 0.2-0.6 "
                   f"(heat supply or a thermal-output gap in the inventory), bounded to {clipped}")
        eta, thermal = clipped, clipped * total_in
    pw = s["power"]
    pw["plants"] = {k: {"fuel": k, "efficiency": eta, "share": x / total_in}
                    for k, x in fuel_in.items()} if total_in > 0 else {}
    pw["efficiency_source"] = eta_src
    cons = bal["consumption"]
    pw["loss"] = {"value": bal["loss"] / cons if cons > 0 else 0.06,
                  "source": f"{acc['source']}: electricity losses / consumption"}
    ren = min(bal["nonthermal"] / cons, 0.9) if cons > 0 else 0.0
    s["levers"]["renewables"]["base"] = ren
    s["levers"]["renewables"]["source"] = (f"base: {acc['source']}: non-thermal generation / "
                                           "consumption (at most 0.9); rate: "
                                           + str(s["levers"]["renewables"].get("source", "")))
    pw["thermal_tj"] = thermal

