"""The real provincial panel the study would have built, from public files only.

``emissions_mt`` = CE1 + CE2 per province-year:

- **CE1**: CEADs' CO2 of its 17 fossil fuels (row 4 of each province sheet),
  cement **process** CO2 kept apart in ``process_mt`` (not in the total);
- **CE2**: net imported electricity (ABSPI flows via GCAM-China) times an
  **electricity-only** grid factor (:func:`electricity_only_grid_factors`): the
  CEADs power-and-heat sector CO2 without its heat share, over generation.

The heat share is read from the 2007 energy balances (CESY 2008): the fuel energy
into heating (row 23) over that into thermal power and heating (rows 22 + 23),
per province, with the yearbook's own calorific values (``fu04.xls``). It is held
at its 2007 value in other years (stated per row in ``basis``).

Drivers: every one of the 18 with a real source or a documented proxy, or listed
as unavailable (:func:`driver_coverage`, ``attrs["coverage"]``). The panel keeps
the years in which emissions and all included drivers overlap (``attrs["years"]``).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from carbonlab._util import DataError
from carbonlab.data.schemas import DRIVERS, validate
from carbonlab.regions import PROVINCES, grid_region

__all__ = [
    "FU04_NAME",
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


def electricity_only_grid_factors(data_dir: PathLike = None, verify: bool = True
                                  ) -> pd.DataFrame:
    """Electricity-only average grid factors derived from data, by grid and year.

    factor = sum over the grid's provinces of CEADs power-and-heat CO2 x (1 - heat
    share 2007) / sum of their generation (all sources). Years 1997-2017 where every
    province of the grid has generation (2003 and 2006 are missing in CPSY).

    Returns
    -------
    DataFrame
        grid, year, factor_tco2_per_mwh, with_heat_tco2_per_mwh (the same without the
        heat correction, for comparison), label ("derived, electricity only"), basis.
    """
    from carbonlab.data import ceads

    power = ceads.ceads_power_sector_emissions(data_dir=data_dir, verify=verify)
    hs = heat_shares_2007(data_dir, verify)[["region", "heat_share"]]
    gen = _generation(data_dir, verify)
    m = power.merge(hs, on="region").merge(gen, on=["region", "year"], how="inner")
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
    g["basis"] = ("CEADs power-and-heat CO2 x (1 - CESY 2007 heat share, held constant) / "
                  + g["gen_source"] + " generation")
    out = g[["grid", "year", "factor_tco2_per_mwh", "with_heat_tco2_per_mwh", "label", "basis"]]
    out.attrs["units"] = {"factor_tco2_per_mwh": "tCO2/MWh", "with_heat_tco2_per_mwh": "tCO2/MWh"}
    return out.reset_index(drop=True)


def ce2_electricity_only(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """CE2 with electricity-only factors: region, year, net_import_gwh, grid,
    factor_tco2_per_mwh, ce2_mt (Mt CO2; negative for net exporters), basis."""
    from carbonlab.data import gcam

    net = gcam.net_electricity_imports(data_dir=data_dir, verify=verify)
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


# driver -> (status, source, how) ; status: "real", "proxy" or "unavailable"
_COVERAGE: dict[str, tuple[str, str, str]] = {
    "lconsume": ("proxy", "shu-ces (民用/全体居民人均可支配收入)",
                 "ln per-capita DISPOSABLE INCOME, not consumption expenditure (the NBS "
                 "consumption export starts in 2016)"),
    "student": ("unavailable", "", "college students per 10^5: no public file"),
    "first": ("unavailable", "", "primary value added: no public file (only GDP and tertiary)"),
    "tertrate": ("real", "nbs-wack520 (A020104 / A020101)", "tertiary value added / GDP"),
    "ltrade": ("unavailable", "techme IndustryTrade",
               "only high-tech trade, 2016-2018: too short for the panel years"),
    "lrd": ("real", "techme RDIntense (RD经费)", "ln R&D expenditure, 10^8 yuan"),
    "gas": ("proxy", "CEADs inventories",
            "natural-gas share of FOSSIL energy (CEADs CO2 by fuel / CEADs factors), "
            "not of all energy"),
    "fossil": ("proxy", "nbs-wack520 generation + CEADs + CESY 2007",
               "non-fossil electricity consumed (local non-thermal generation, plus net "
               "imports at the grid's non-thermal share) over energy consumed (fossil fuels "
               "burnt, local non-thermal generation and net imports), electricity at the "
               "coal-equivalent rate of 2007 thermal power (CESY input / CPSY generation)"),
    "urban": ("real", "gcam-china-hk (China Statistical Yearbook 2018, Table 2-7)",
              "urbanisation rate, one consistent series to 2017"),
    "ledufund": ("real", "techme PublicBudget (教育)", "ln education expenditure, 10^8 yuan"),
    "college": ("unavailable", "", "share with college education: no public file"),
    "lpatent": ("real", "techme RDPatentAuthority (发明)", "ln invention patents granted"),
    "lcar": ("proxy", "shu-ces (民用汽车拥有量)",
             "ln CIVIL vehicles, not private cars (scaling by a constant private share would "
             "only shift the log, which province effects absorb)"),
    "ltourist": ("real", "nbs-wack520 (A0G0401)",
                 "ln passenger turnover; statistical basis changes 2012 -> 2013"),
    "lfreight": ("real", "nbs-wack520 (A0G0601)", "ln freight turnover; level shifts ~2019"),
    "lenvfund": ("unavailable", "techme PublicBudget", "no 节能环保 item in the file"),
    "lindustry": ("proxy", "nbs-wack520 (A020101 - A020104)",
                  "ln (GDP - tertiary value added) = primary + secondary, not industry alone"),
    "garbage": ("unavailable", "", "harmless garbage treatment rate: no public file"),
}


def _driver_frames(data_dir: PathLike, verify: bool) -> dict[str, pd.DataFrame]:
    """Each available driver as region, year, <driver>."""
    from carbonlab.data import ceads, ceads_fuels, gcam, nbs, techme

    ns = nbs.nbs_series(data_dir, verify)
    sc = nbs.shu_ces(data_dir, verify)
    out: dict[str, pd.DataFrame] = {}
    out["tertrate"] = ns.assign(tertrate=ns["tertiary_100m_cny"] / ns["gdp_100m_cny"])
    out["urban"] = gcam.urbanisation(data_dir=data_dir, verify=verify)
    out["ltourist"] = ns.assign(ltourist=np.log(ns["passenger_turnover_100m_pkm"]))
    out["lfreight"] = ns.assign(lfreight=np.log(ns["freight_turnover_100m_tkm"]))
    out["lindustry"] = ns.assign(lindustry=np.log(ns["gdp_100m_cny"] - ns["tertiary_100m_cny"]))
    out["lconsume"] = sc.assign(lconsume=np.log(sc["disposable_income_yuan"]))
    out["lcar"] = sc.assign(lcar=np.log(sc["civil_vehicles_10k"]))
    rd = techme.techme_item("RDIntense", "RD经费", "rd", data_dir, verify)
    out["lrd"] = rd.assign(lrd=np.log(rd["rd"]))
    edu = techme.techme_item("PublicBudget", "教育", "edu", data_dir, verify)
    out["ledufund"] = edu.assign(ledufund=np.log(edu["edu"]))
    pat = techme.techme_item("RDPatentAuthority", "发明", "pat", data_dir, verify)
    out["lpatent"] = pat.assign(lpatent=np.log(pat["pat"]))
    act = ceads_fuels.backout_activity(ceads.ceads_province_fuels(data_dir=data_dir, verify=verify))
    fossil_tj = act.groupby(["region", "year"])["energy_tj"].sum()
    ng_tj = act[act["fuel"] == "natural_gas"].set_index(["region", "year"])["energy_tj"]
    out["gas"] = (ng_tj / fossil_tj).rename("gas").reset_index()
    # coal-equivalent method: non-thermal kWh counted at the fuel energy thermal plants
    # needed per kWh in 2007 (CESY fuel input to thermal power / CPSY thermal generation)
    hs = heat_shares_2007(data_dir, verify)
    gen07 = gcam.generation_by_fuel(data_dir=data_dir, verify=verify)
    thermal07 = float(gen07.loc[gen07["year"] == 2007, "coal_gwh"].sum())
    tj_per_gwh = float(hs["power_tj"].sum()) / thermal07
    pw = _generation(data_dir, verify).dropna(subset=["total_gwh", "thermal_gwh"]).assign(
        nf_gwh=lambda d: d["total_gwh"] - d["thermal_gwh"])
    pw["grid"] = pw["region"].map(grid_region)
    gsum = pw.groupby(["grid", "year"])[["nf_gwh", "total_gwh"]].transform("sum")
    pw["grid_nf_share"] = gsum["nf_gwh"] / gsum["total_gwh"]
    net = gcam.net_electricity_imports(data_dir=data_dir, verify=verify)
    pw = pw.merge(net[["region", "year", "net_import_gwh"]], on=["region", "year"], how="inner")
    # non-fossil electricity consumed: an importer adds its imports at the grid's non-fossil
    # share; an exporter keeps its own mix on what it consumes
    consumed = pw["total_gwh"] + pw["net_import_gwh"]
    nf_used = np.where(pw["net_import_gwh"] >= 0,
                       pw["nf_gwh"] + pw["net_import_gwh"] * pw["grid_nf_share"],
                       pw["nf_gwh"] * consumed / pw["total_gwh"])
    nf = pd.DataFrame({"region": pw["region"], "year": pw["year"],
                       "nf_tj": nf_used * tj_per_gwh,
                       "net_tj": pw["net_import_gwh"] * tj_per_gwh})
    nf = nf.merge(fossil_tj.rename("fossil_tj").reset_index(), on=["region", "year"])
    # energy consumed: fossil fuels burnt in the province, plus local non-fossil generation
    # and net electricity imports at the coal-equivalent rate (exports subtract)
    local_nf_tj = (pw.set_index(["region", "year"])["nf_gwh"] * tj_per_gwh).rename("local_nf_tj")
    nf = nf.merge(local_nf_tj.reset_index(), on=["region", "year"])
    nf["fossil"] = nf["nf_tj"] / (nf["fossil_tj"] + nf["local_nf_tj"] + nf["net_tj"])
    nf.attrs["tj_per_gwh"] = tj_per_gwh
    out["fossil"] = nf
    return {d: f[["region", "year", d]].dropna() for d, f in out.items()}


def driver_coverage(data_dir: PathLike = None, verify: bool = True,
                    frames: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Coverage of the 18 drivers: driver, meaning, status (real/proxy/unavailable),
    first_year, last_year, source, how (what the column measures, or why it is missing)."""
    frames = _driver_frames(data_dir, verify) if frames is None else frames
    rows = []
    for d, (meaning, _unit) in DRIVERS.items():
        status, source, how = _COVERAGE[d]
        f = frames.get(d)
        first = int(f["year"].min()) if f is not None and len(f) else None
        last = int(f["year"].max()) if f is not None and len(f) else None
        if status == "unavailable" and d == "ltrade":
            first, last = 2016, 2018
        rows.append((d, meaning, status, first, last, source, how))
    out = pd.DataFrame(rows, columns=["driver", "meaning", "status", "first_year", "last_year",
                                      "source", "how"])
    out["first_year"] = out["first_year"].astype("Int64")
    out["last_year"] = out["last_year"].astype("Int64")
    return out


def real_panel(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """The real panel: region, year, population_10k, emissions_mt (= ce1_mt + ce2_mt),
    ce1_mt, ce2_mt, process_mt and the available drivers.

    Rows: every year in which CE1 and CE2 exist for all 30 provinces (CEADs to 2017,
    electricity flows from 2005). A driver is NaN outside its source's years, so the
    complete cases (``attrs["years"]``: the years in which emissions and *all*
    included drivers overlap) are what BMA over all drivers uses, while the drivers
    complete over every row (``attrs["forecast_drivers"]``) give forecasts a longer
    history. Population is the China Statistical Yearbook series (via GCAM-China), one
    source for all years.

    ``attrs``: ``years``, ``span`` (first, last row year), ``drivers`` (included),
    ``forecast_drivers``, ``unavailable``, ``proxies`` (driver -> description),
    ``coverage`` (see :func:`driver_coverage`), ``repairs``.
    """
    from carbonlab.data import ceads, gcam

    fuels = ceads.ceads_province_fuels(data_dir=data_dir, verify=verify)
    ce1 = (fuels[fuels["fuel"] != "process"].groupby(["region", "year"], as_index=False)
           ["emissions_mt"].sum().rename(columns={"emissions_mt": "ce1_mt"}))
    proc = (fuels[fuels["fuel"] == "process"][["region", "year", "emissions_mt"]]
            .rename(columns={"emissions_mt": "process_mt"}))
    ce2 = ce2_electricity_only(data_dir, verify)
    pop = gcam.population(data_dir=data_dir, verify=verify)
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
    df.attrs["source"] = ("CEADs provincial inventories (CE1, process), ABSPI electricity flows "
                          "x electricity-only grid factors (CE2), China Statistical Yearbook "
                          "population, NBS / techme / SHU-CES drivers")
    df.attrs["years"] = (years[0], years[-1])
    df.attrs["span"] = (int(df["year"].min()), int(df["year"].max()))
    df.attrs["drivers"] = included
    df.attrs["forecast_drivers"] = forecast
    df.attrs["unavailable"] = [d for d in DRIVERS if d not in included]
    df.attrs["proxies"] = {d: f"PROXY: {how}" for d, (s, _src, how) in _COVERAGE.items()
                           if s == "proxy" and d in included}
    df.attrs["coverage"] = cov
    df.attrs["dropped"] = []
    df.attrs["repairs"] = repairs
    return df


def forecasting_inputs(data_dir: PathLike = None, verify: bool = True) -> dict:
    """What the real-data forecasting chapters need: the panel over its whole span with the
    drivers that cover every year (``attrs["forecast_drivers"]``; the other driver columns
    are dropped), the provincial targets and the observed population (China Statistical
    Yearbook to 2019, the panel's own source) as projection.

    Returns a dict with keys ``panel, drivers, targets, population_projection, note``
    (the shape of :func:`carbonlab.peaks.chapter_inputs`).
    """
    from carbonlab.data import gcam, load_targets

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
            f"its source) and the national ones ({nat_txt}) for the rest")
    return {"panel": p, "drivers": drivers, "targets": targets,
            "population_projection": gcam.population(data_dir=data_dir, verify=verify),
            "note": note}
