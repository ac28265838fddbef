"""The real provincial panel the study would have built, from public files only.

``emissions_mt`` = CE1 + CE2 per province-year:

- **CE1**: CEADs' CO2 of its 17 fossil fuels (row 4 of each province sheet),
  cement **process** CO2 kept apart in ``process_mt`` (not in the total);
- **CE2**: net imported electricity (the energy inventories' electricity balance,
  :func:`carbonlab.data.ceads_energy.electricity_balance`) times an
  **electricity-only** grid factor (:func:`electricity_only_grid_factors`): the
  CEADs power-and-heat sector CO2 without its heat share, over generation.

The heat share is that year's fuel energy into heating over that into thermal power
and heating (energy inventories, rows 54-55, with the yearbook's calorific values,
``fu04.xls``); :func:`heat_shares_2007` gives the same from the 2007 energy balances
(CESY 2008) for comparison.

Drivers: every one of the 18 with a real source or a documented proxy, or listed
as unavailable (:func:`driver_coverage`, ``attrs["coverage"]``). The panel keeps
the years in which emissions and all included drivers overlap (``attrs["years"]``).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from carbonlab._util import DataError
from carbonlab.data.drivers import DRIVERS, driver_specs
from carbonlab.data.schemas import validate
from carbonlab.regions import PROVINCES, grid_region

__all__ = [
    "PANEL_YEARS",
    "FU04_NAME",
    "energy_balance_tj",
    "energy_mix",
    "heat_shares_2007",
    "electricity_only_grid_factors",
    "ce2_electricity_only",
    "driver_coverage",
    "real_panel",
]

PathLike = str | os.PathLike[str] | None

FU04_NAME: dict[str, str] = {
    "raw_coal": "原煤", "cleaned_coal": "洗精煤", "other_washed_coal": "洗中煤",
    "briquettes": "原煤", "coke": "焦炭", "coke_oven_gas": "焦炉煤气", "other_gas": "发生炉煤气",
    "other_coking_products": "煤焦油", "crude_oil": "原油", "gasoline": "汽油", "kerosene": "煤油",
    "diesel": "柴油", "fuel_oil": "燃料油", "lpg": "液化石油气", "refinery_gas": "炼厂干气",
    "natural_gas": "天然气", "other_petroleum_products": "原油",
}
"""CESY fuel -> the ``fu04.xls`` row whose calorific value weights it (briquettes and
other petroleum products have no row: raw coal's and crude oil's are used)."""

_SCALE = {"10^4 t": 1e7, "10^8 m3": 1e8}  # kg or m3 per unit
PANEL_YEARS: tuple[int, ...] = tuple(range(2005, 2023))
"""Years of the real panel: electricity accounting from 2005, the CEADs release to 2022."""


def _order(df: pd.DataFrame) -> pd.DataFrame:
    order = {p: i for i, p in enumerate(PROVINCES)}
    return (df.assign(_o=df["region"].map(order)).sort_values(["_o", "year"])
            .drop(columns="_o").reset_index(drop=True))


def heat_shares_2007(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Heat share of the power-and-heat sector's fuel input, by province, 2007.

    Returns
    -------
    DataFrame
        region, power_tj, heat_tj (fuel energy into thermal power / heating, TJ, with
        the CESY calorific values), heat_share = heat / (power + heat).
    """
    from carbonlab.data import cesy2008

    comb = cesy2008.combustion_2007(data_dir, verify)
    cf = cesy2008.conversion_factors(data_dir, verify).drop_duplicates("name").set_index("name")
    ncv = comb["fuel"].map(lambda f: cf.loc[FU04_NAME[f], "ncv_kj"])
    tj_per_unit = ncv.to_numpy() * comb["unit"].map(_SCALE).to_numpy() * 1e-9
    d = comb.assign(power_tj=comb["power_input"] * tj_per_unit,
                    heat_tj=comb["heat_input"] * tj_per_unit)
    out = d.groupby("region", as_index=False)[["power_tj", "heat_tj"]].sum()
    out["heat_share"] = out["heat_tj"] / (out["power_tj"] + out["heat_tj"])
    if out["heat_share"].isna().any():
        r = out[out["heat_share"].isna()].iloc[0]
        raise DataError(f"{cesy2008.FILES[r['region']]}: no fuel input to power or heat")
    out = _order(out.assign(year=2007)).drop(columns="year")
    out.attrs["units"] = {"power_tj": "TJ", "heat_tj": "TJ", "heat_share": "fraction"}
    out.attrs["source"] = ("China Energy Statistical Yearbook 2008, rows 22-23 of Tables 6-1..6-30, "
                           "calorific values of its appendix (fu04)")
    return out


def _generation(data_dir: PathLike, verify: bool) -> pd.DataFrame:
    """region, year, total_gwh, thermal_gwh, gen_source: NBS from 2012, CPSY (China Electric
    Power Yearbook via GCAM-China) before; CPSY's missing 2006 is interpolated linearly
    between 2005 and 2007 per province (``gen_source`` says so)."""
    from carbonlab.data import gcam, nbs

    cp = gcam.generation_by_fuel(data_dir=data_dir, verify=verify)
    cpsy = cp[["region", "year", "total_gwh", "coal_gwh"]].rename(columns={"coal_gwh": "thermal_gwh"})
    nb = nbs.nbs_power(data_dir, verify)[["region", "year", "total_gwh", "thermal_gwh"]]
    cpsy = cpsy[cpsy["year"] < int(nb["year"].min())].assign(gen_source="CPSY")
    gap = cpsy["year"] == 2006
    if gap.any() and cpsy.loc[gap, "total_gwh"].isna().all():
        w = cpsy.set_index(["region", "year"])
        for col in ("total_gwh", "thermal_gwh"):
            a = w[col].xs(2005, level="year")
            b = w[col].xs(2007, level="year")
            cpsy.loc[gap, col] = ((a + b) / 2).reindex(cpsy.loc[gap, "region"]).to_numpy()
        cpsy.loc[gap, "gen_source"] = "CPSY, 2006 interpolated (missing in the source)"
    return pd.concat([cpsy, nb.assign(gen_source="NBS")], ignore_index=True)


def _tj_per_unit(data_dir: PathLike, verify: bool) -> np.ndarray:
    """TJ per published unit of each of the 17 fuel columns of the energy inventories, with
    the yearbook's net calorific values (``fu04``; :data:`FU04_NAME`)."""
    from carbonlab.data import ceads_energy, cesy2008

    cf = cesy2008.conversion_factors(data_dir, verify).drop_duplicates("name").set_index("name")
    out = []
    for code in ceads_energy.ENERGY_COLUMNS[:17]:
        unit = ceads_energy.COLUMN_UNITS[code]
        out.append(float(cf.loc[FU04_NAME[code], "ncv_kj"]) * _SCALE[unit] * 1e-9)
    return np.array(out)


def energy_balance_tj(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Energy of the 17 fossil fuels per province-year from the CEADs energy inventories (TJ).

    Volumes (``10^4 t``, ``10^8 m3``) times the yearbook's calorific values: ``fossil_tj``
    = total consumption (row 65: final use plus transformation inputs, net of transformation
    outputs, so each fuel is counted once), ``gas_tj`` its natural-gas part, ``power_tj`` and
    ``heat_tj`` the fuel inputs to thermal power (row 54) and heating (row 55), and
    ``electricity_gwh`` = final consumption + losses of electricity (rows 3 + 63).
    """
    from carbonlab.data import ceads_energy

    cube, rows = ceads_energy.energy_array(data_dir, verify)
    tj = _tj_per_unit(data_dir, verify)
    years = list(ceads_energy.ENERGY_YEARS)
    ng = ceads_energy.ENERGY_COLUMNS.index("natural_gas")
    el = ceads_energy.ENERGY_COLUMNS.index("electricity")

    def energy(item: str) -> np.ndarray:
        return (cube[:, :, rows[item], :17] * tj).sum(axis=2)

    idx = pd.MultiIndex.from_product([years, PROVINCES], names=["year", "region"])
    out = pd.DataFrame({
        "fossil_tj": energy("total_consumption").reshape(-1),
        "gas_tj": (cube[:, :, rows["total_consumption"], ng] * tj[ng]).reshape(-1),
        "power_tj": energy("thermal_power").reshape(-1),
        "heat_tj": energy("heating_supply").reshape(-1),
        "electricity_gwh": ((cube[:, :, rows["total_final_consumption"], el]
                             + cube[:, :, rows["loss"], el]) * 100.0).reshape(-1),
    }, index=idx).reset_index()
    out = _order(out)
    out.attrs["units"] = {"fossil_tj": "TJ", "gas_tj": "TJ", "power_tj": "TJ", "heat_tj": "TJ",
                          "electricity_gwh": "GWh"}
    out.attrs["source"] = ("CEADs provincial energy inventories (volumes) x China Energy "
                           "Statistical Yearbook calorific values (fu04)")
    return out


def electricity_only_grid_factors(data_dir: PathLike = None, verify: bool = True
                                  ) -> pd.DataFrame:
    """Electricity-only average grid factors derived from data, by grid and year.

    factor = sum over the grid's provinces of CEADs power-and-heat CO2 x (1 - heat
    share) / sum of their generation (all sources); the heat share is that year's fuel
    energy into heating over that into thermal power and heating (energy inventories,
    rows 54-55, calorific values). Years where every province of the grid has generation
    (2003 is missing in CPSY; 2006 is interpolated).

    Returns
    -------
    DataFrame
        grid, year, factor_tco2_per_mwh, with_heat_tco2_per_mwh (the same without the
        heat correction, for comparison), label ("derived, electricity only"), basis.
    """
    from carbonlab.data import ceads

    power = ceads.ceads_power_sector_emissions(data_dir=data_dir, verify=verify)
    bal = energy_balance_tj(data_dir, verify)
    hs = bal.assign(heat_share=bal["heat_tj"] / (bal["power_tj"] + bal["heat_tj"]))
    hs = hs[["region", "year", "heat_share"]].fillna({"heat_share": 0.0})
    hs["heat_share"] = hs["heat_share"].clip(0.0, 1.0)  # a few published negative inputs
    gen = _generation(data_dir, verify)
    m = power.merge(hs, on=["region", "year"]).merge(gen, on=["region", "year"], how="inner")
    m["elec_mt"] = m["emissions_mt"] * (1.0 - m["heat_share"])
    m["grid"] = m["region"].map(grid_region)
    bad = m.groupby(["grid", "year"])["total_gwh"].transform(lambda s: s.isna().any())
    m = m[~bad.astype(bool)]
    g = m.groupby(["grid", "year"], as_index=False).agg(
        elec_mt=("elec_mt", "sum"), all_mt=("emissions_mt", "sum"), gwh=("total_gwh", "sum"),
        gen_source=("gen_source", "first"))
    g["factor_tco2_per_mwh"] = g["elec_mt"] * 1e3 / g["gwh"]
    g["with_heat_tco2_per_mwh"] = g["all_mt"] * 1e3 / g["gwh"]
    g["label"] = "derived, electricity only"
    g["basis"] = ("CEADs power-and-heat CO2 x (1 - heat share of the year's fuel input, "
                  "energy inventories) / " + g["gen_source"] + " generation")
    out = g[["grid", "year", "factor_tco2_per_mwh", "with_heat_tco2_per_mwh", "label", "basis"]]
    out.attrs["units"] = {"factor_tco2_per_mwh": "tCO2/MWh", "with_heat_tco2_per_mwh": "tCO2/MWh"}
    return out.reset_index(drop=True)


def ce2_electricity_only(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """CE2 with electricity-only factors: region, year, net_import_gwh, grid,
    factor_tco2_per_mwh, ce2_mt (Mt CO2; negative for net exporters), basis.

    Net imports are the energy inventories' electricity balance
    (:func:`carbonlab.data.ceads_energy.electricity_balance`: consumption - thermal output -
    non-thermal generation; province-years without a balance are left out)."""
    from carbonlab.data import ceads_energy

    net = ceads_energy.electricity_balance(data_dir, verify)[["region", "year", "net_import_gwh"]]
    f = electricity_only_grid_factors(data_dir, verify)
    net = net.assign(grid=net["region"].map(grid_region))
    m = net.merge(f[["grid", "year", "factor_tco2_per_mwh", "basis"]], on=["grid", "year"],
                  how="inner")
    m["ce2_mt"] = m["net_import_gwh"] * m["factor_tco2_per_mwh"] / 1e3
    out = _order(m[["region", "year", "net_import_gwh", "grid", "factor_tco2_per_mwh", "ce2_mt",
                    "basis"]])
    out.attrs["units"] = {"net_import_gwh": "GWh", "factor_tco2_per_mwh": "tCO2/MWh",
                          "ce2_mt": "Mt CO2"}
    return out


def energy_mix(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """The two energy-mix drivers from physical volumes: region, year, gas, fossil and
    their terms (TJ): fossil_tj, gas_tj, local_nf_tj, net_import_tj, nf_used_tj, total_tj.

    Energy consumed = fossil fuels' total consumption (:func:`energy_balance_tj`) + local
    non-fossil generation + net electricity imports, electricity at the coal-equivalent
    rate of that year's thermal power (all provinces' fuel input to thermal power /
    their thermal generation). Non-fossil electricity consumed: an importer adds its
    imports at its grid's non-thermal share; an exporter keeps its own mix on what it
    consumes (net imports, consumption and generation from
    :func:`carbonlab.data.ceads_energy.electricity_balance`). ``gas`` = gas_tj / total_tj; ``fossil`` (the study's name for the
    NON-fossil share) = nf_used_tj / total_tj. Both in [0, 1]; years :data:`PANEL_YEARS`
    (earlier inventories hold a few negative published cells, e.g. Hainan 1997 gas).
    """
    bal = energy_balance_tj(data_dir, verify)
    pw = _generation(data_dir, verify).dropna(subset=["total_gwh", "thermal_gwh"])
    pw = pw.assign(nf_gwh=(pw["total_gwh"] - pw["thermal_gwh"]).clip(lower=0.0),
                   grid=pw["region"].map(grid_region))
    gsum = pw.groupby(["grid", "year"])[["nf_gwh", "total_gwh"]].transform("sum")
    pw["grid_nf_share"] = gsum["nf_gwh"] / gsum["total_gwh"]
    from carbonlab.data import ceads_energy

    net = ceads_energy.electricity_balance(data_dir, verify)[
        ["region", "year", "net_import_gwh", "consumption_gwh", "generation_gwh"]]
    m = bal.merge(pw, on=["region", "year"]).merge(net, on=["region", "year"])
    m = m[m["year"].isin(PANEL_YEARS)].reset_index(drop=True)
    rate = m.groupby("year")["power_tj"].transform("sum") / m.groupby("year")[
        "thermal_gwh"].transform("sum")  # TJ of fuel per GWh of thermal electricity
    nf_used = np.where(m["net_import_gwh"] >= 0,
                       m["nf_gwh"] + m["net_import_gwh"] * m["grid_nf_share"],
                       m["nf_gwh"] * m["consumption_gwh"] / m["generation_gwh"])
    out = pd.DataFrame({"region": m["region"], "year": m["year"], "fossil_tj": m["fossil_tj"],
                        "gas_tj": m["gas_tj"], "local_nf_tj": m["nf_gwh"] * rate,
                        "net_import_tj": m["net_import_gwh"] * rate,
                        "nf_used_tj": nf_used * rate, "tj_per_gwh": rate})
    out["total_tj"] = out["fossil_tj"] + out["local_nf_tj"] + out["net_import_tj"]
    out["gas"] = out["gas_tj"] / out["total_tj"]
    out["fossil"] = out["nf_used_tj"] / out["total_tj"]
    bad = ~(out["gas"].between(0, 1) & out["fossil"].between(0, 1))
    if bad.any():
        r = out[bad].iloc[0]
        raise DataError(f"energy mix: share outside [0, 1] for ({r['region']}, {r['year']}): "
                        f"gas {r['gas']:.3f}, non-fossil {r['fossil']:.3f}")
    out = _order(out)
    out.attrs["units"] = {c: "TJ" for c in out.columns if c.endswith("_tj")} | {
        "tj_per_gwh": "TJ/GWh", "gas": "fraction", "fossil": "fraction"}
    return out


def _driver_frames(data_dir: PathLike, verify: bool) -> dict[str, pd.DataFrame]:
    """Each driver with a real-data loader (its row of the driver table) as region, year,
    <driver>; a loader shared by several rows runs once."""
    from carbonlab.data import registry

    root = registry.data_dir(data_dir)
    memo: dict[object, pd.DataFrame] = {}
    out: dict[str, pd.DataFrame] = {}
    for spec in driver_specs():
        if spec.ceads_loader is None:
            continue
        if spec.ceads_loader not in memo:
            memo[spec.ceads_loader] = spec.ceads_loader(root, verify)
        f = memo[spec.ceads_loader]
        if spec.code not in f.columns:
            raise DataError(f"driver {spec.code}: its loader returned no column {spec.code!r}")
        out[spec.code] = f[["region", "year", spec.code]].dropna()
    return out


def driver_coverage(data_dir: PathLike = None, verify: bool = True,
                    frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Coverage of the drivers of the driver table: driver, meaning, status
    (real/proxy/unavailable), first_year, last_year, source, how (what the column measures,
    or why it is missing)."""
    frames = _driver_frames(data_dir, verify) if frames is None else frames
    rows = []
    for spec in driver_specs():
        f = frames.get(spec.code)
        first = int(f["year"].min()) if f is not None and len(f) else None
        last = int(f["year"].max()) if f is not None and len(f) else None
        if spec.ceads_years is not None and f is None:
            first, last = spec.ceads_years
        rows.append((spec.code, spec.meaning, spec.ceads_status, first, last, spec.ceads_source,
                     spec.ceads_how))
    out = pd.DataFrame(rows, columns=["driver", "meaning", "status", "first_year", "last_year",
                                      "source", "how"])
    out["first_year"] = out["first_year"].astype("Int64")
    out["last_year"] = out["last_year"].astype("Int64")
    return out


def real_panel(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """The real panel: region, year, population_10k, emissions_mt (= ce1_mt + ce2_mt),
    ce1_mt, ce2_mt, process_mt and the available drivers.

    Rows: 30 provinces x :data:`PANEL_YEARS` (2005-2022), all from one CEADs release
    (:data:`carbonlab.data.ceads.RELEASE`); CE2 = net imports from the energy inventories
    x electricity-only grid factors. A driver is NaN outside its source's years, so the
    complete cases (``attrs["years"]``: the years in which emissions and *all*
    included drivers overlap) are what BMA over all drivers uses, while the drivers
    complete over every row (``attrs["forecast_drivers"]``) give forecasts a longer
    history. Population is NBS's year-end resident population (``nbs-provinces``), one
    source for all years; ``attrs["national_population"]`` (year -> persons) carries the UN
    WPP 2024 path that the population rule of :func:`carbonlab.scenarios.population_path`
    follows.

    ``attrs``: ``years``, ``span`` (first, last row year), ``drivers`` (included),
    ``forecast_drivers``, ``unavailable``, ``proxies`` (driver -> description),
    ``coverage`` (see :func:`driver_coverage`), ``repairs``, ``release``,
    ``national_population``.
    """
    from carbonlab.data import ceads, gcam, nbs_provinces, registry, wpp

    data_dir = registry.data_dir(data_dir)  # resolved once, passed down as a path
    fuels = ceads.ceads_province_fuels(data_dir=data_dir, verify=verify)
    fuels = fuels[fuels["year"].isin(PANEL_YEARS)]
    ce1 = (fuels[fuels["fuel"] != "process"].groupby(["region", "year"], as_index=False)
           ["emissions_mt"].sum().rename(columns={"emissions_mt": "ce1_mt"}))
    proc = (fuels[fuels["fuel"] == "process"][["region", "year", "emissions_mt"]]
            .rename(columns={"emissions_mt": "process_mt"}))
    ce2 = ce2_electricity_only(data_dir, verify)
    pop = nbs_provinces.series("population_10k", data_dir, verify)
    frames = _driver_frames(data_dir, verify)
    df = (ce1.merge(proc, on=["region", "year"]).merge(ce2[["region", "year", "ce2_mt"]],
                                                        on=["region", "year"])
          .merge(pop, on=["region", "year"]))
    df = df[df["ce1_mt"] > 0]
    full = df.groupby("year")["region"].nunique()
    df = df[df["year"].isin(full.index[full == len(PROVINCES)])]
    cov = driver_coverage(frames=frames)
    included = [d for d in DRIVERS if d in frames]
    for d in included:
        df = df.merge(frames[d], on=["region", "year"], how="left")
    complete = df.dropna(subset=included).groupby("year")["region"].nunique()
    years = sorted(int(y) for y in complete.index[complete == len(PROVINCES)])
    if not years:
        raise DataError("real panel: no year in which emissions and all drivers cover the 30 "
                        "provinces")
    df["emissions_mt"] = df["ce1_mt"] + df["ce2_mt"]
    cols = ["region", "year", "population_10k", "emissions_mt", "ce1_mt", "ce2_mt", "process_mt",
            *included]
    df = validate(_order(df[cols]), "panel_partial", source="real panel")
    forecast = [d for d in included if df[d].notna().all()]
    gen = _generation(data_dir, verify)
    repairs = list(pop.attrs.get("repairs", []))
    if gen["gen_source"].str.contains("interpolated").any():
        repairs.append({"file": gcam.CPSY_FILE, "column": "total_gwh, coal_gwh", "year": 2006,
                        "reason": "2006 missing in the source: interpolated between 2005 and "
                                  "2007 for the grid factors and the non-fossil proxy"})
    df.attrs["units"] = {"population_10k": "10^4 persons", "emissions_mt": "Mt CO2",
                         "ce1_mt": "Mt CO2", "ce2_mt": "Mt CO2", "process_mt": "Mt CO2",
                         **{d: DRIVERS[d][1] for d in included}}
    df.attrs["source"] = (f"CEADs provincial inventories, {ceads.RELEASE} release (CE1, process); "
                          "net imports from the CEADs energy inventories x electricity-only "
                          "grid factors (CE2); NBS population (nbs-provinces); NBS / techme "
                          "drivers")
    df.attrs["release"] = ceads.RELEASE
    un = wpp.un_wpp_population("China", data_dir, verify)
    df.attrs["national_population"] = {int(y): float(v) for y, v in
                                       zip(un["year"], un["population"], strict=True)}
    df.attrs["years"] = (years[0], years[-1])
    df.attrs["span"] = (int(df["year"].min()), int(df["year"].max()))
    df.attrs["drivers"] = included
    df.attrs["forecast_drivers"] = forecast
    df.attrs["unavailable"] = [d for d in DRIVERS if d not in included]
    df.attrs["proxies"] = {s.code: f"PROXY: {s.ceads_how}" for s in driver_specs()
                           if s.ceads_status == "proxy" and s.code in included}
    df.attrs["coverage"] = cov
    df.attrs["dropped"] = []
    df.attrs["repairs"] = repairs
    return df


def forecasting_inputs(data_dir: PathLike = None, verify: bool = True) -> dict:
    """What the real-data forecasting chapters need: the panel over its whole span with the
    drivers that cover every year (``attrs["forecast_drivers"]``; the other driver columns
    are dropped) and the provincial targets. ``population_projection`` is None: the
    panel's ``attrs["national_population"]`` (UN WPP 2024) makes
    :func:`carbonlab.scenarios.population_path` follow the official projection.

    Returns a dict with keys ``panel, drivers, targets, population_projection, note``
    (the shape of :func:`carbonlab.peaks.chapter_inputs`).
    """
    from carbonlab.data import load_targets

    p = real_panel(data_dir, verify)
    drivers = tuple(p.attrs["forecast_drivers"])
    drop = [d for d in p.attrs["drivers"] if d not in drivers]
    attrs = dict(p.attrs)
    p = p.drop(columns=drop)
    p.attrs.update(attrs)
    proxies = [d for d in drivers if d in p.attrs["proxies"]]
    y0, y1 = p.attrs["span"]
    targets = load_targets("ceads", data_dir)
    published = targets.loc[targets["status"] != "national default", ["region", "year"]]
    national = targets.attrs.get("national", {})
    nat_txt = " and ".join(f"{100 * v:.0f} % in {y}" for y, v in sorted(national.items()))
    note = (f"real panel {y0}-{y1} (CE1 + CE2 with electricity-only grid factors), the "
            f"{len(drivers)} drivers that cover every year ({', '.join(drivers)}; "
            f"{', '.join(proxies)} are proxies), the non-fossil targets the provinces published "
            f"({len(published)} province-years in {published['region'].nunique()} provinces, each with "
            f"its source) and the national ones ({nat_txt}) for the rest; population follows "
            f"the UN's WPP 2024 medium variant scaled to NBS's {y1} level, each province's "
            f"share extrapolated from its trend")
    return {"panel": p, "drivers": drivers, "targets": targets,
            "population_projection": None,
            "note": note}
