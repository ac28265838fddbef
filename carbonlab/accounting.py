"""Provincial CO2 accounting: fossil combustion (CE1) plus net imported electricity (CE2).

The provincial study (section 1.2.1) accounts province ``j``'s emissions as

.. math::

    CE1_j = \\sum_i E_{ji}\\, NCV_i\\, CEF_i,\\qquad CEF_i = CC_i\\, COF_i\\, 44/12,

    CE2_j = NEC_j\\, ECF_j,\\qquad CE_j = CE1_j + CE2_j,

over 14 fossil fuels ``i`` (E in physical units, NCV in energy per physical unit,
CC in tC/TJ, COF a fraction) and the net electricity import NEC (negative for an
exporter) times an electricity emission factor ECF.

Factor tables come from :mod:`carbonlab.data.factors`; quantities are converted
with :mod:`carbonlab.units` (a physical unit times the fuel's NCV, or an energy unit
such as ``"10^4 tce"`` via 29.3076 GJ/tce). An unknown unit, an unknown fuel, a
negative fossil quantity, a fuel without a factor or a region without a grid is a
:class:`~carbonlab._util.DataError` naming it -- never a silent zero.

**Electricity factors for years no published factor covers.** The shipped
grid table holds the OM factors the NDRC's 2016 notice printed for the data years
2012-2014 (kind ``"OM"``) and the MEE/NBS 2022 average factors (kind ``"average"``;
regional, and provincial where known, see ``data/factors/README.md``). A provincial
factor takes precedence over its grid's. :func:`electricity_factors` labels every
region-year ``"published"`` (a factor for that province or grid and year exists),
``"carried from YYYY"`` (rule ``"nearest"``: the published factor of the nearest
year of the same province or grid; ties go to the earlier year) or ``"derived"`` (a
factor derived at run time from data, e.g. :func:`derive_grid_factors`, passed in
as ``derived``). Rule ``"published"`` refuses uncovered years; rule ``"derived"``
uses a derived factor wherever one is given and falls back to ``"nearest"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data.ceads_fuels import CEADS_NAMES, OTHER_GAS_SPLIT
from carbonlab.data.factors import (
    DERIVED_SETS,
    FACTOR_SET_LABELS,
    FACTOR_SETS,
    GAS_CARBON_BASIS,
    NCV_UNITS,
    gas_limit_kg_per_m3,
    load_fuel_factors,
    load_grid_factors,
)
from carbonlab.data.schemas import ELECTRICITY, FUELS
from carbonlab.regions import PROVINCES, grid_region, resolve_region
from carbonlab.units import C_TO_CO2, GJ_PER_TCE, UNITS

__all__ = [
    "STUDY_FUELS",
    "CEADS_FUELS",
    "ELECTRICITY",
    "RULES",
    "emission_factors",
    "electricity_factors",
    "account",
    "derive_grid_factors",
    "compare_factor_sets",
    "Reconciliation",
    "reconcile",
    "electricity_contrast",
    "OTHER_GAS_SPLIT",
    "SET_FUEL_GROUPS",
    "check_2007",
    "Check2007",
    "OTHER_GAS_UNIFORM_TOL",
    "OTHER_GAS_VOLUME_TOL",
    "other_gas_per_m3",
    "plot_fuel_breakdown",
    "plot_fossil_vs_total",
    "plot_reconciliation",
    "plot_check_2007",
    "plot_other_gas_gap",
    "INVENTORY_TOL",
    "InventoryAccounting",
    "account_inventory",
    "WorkedExample",
    "worked_example",
    "describe_factor_sets",
    "describe_contrast",
]

STUDY_FUELS: tuple[str, ...] = FUELS
"""The provincial study's 14 fossil fuels (CONTRIBUTING.md fuel codes)."""

CEADS_FUELS: tuple[str, ...] = tuple(CEADS_NAMES.values())
"""CEADs' 17 fossil fuels, in its column order (snake_case codes)."""

RULES: tuple[str, ...] = ("nearest", "published", "derived")
_KNOWN_FUELS = tuple(dict.fromkeys(STUDY_FUELS + CEADS_FUELS))

SET_FUEL_GROUPS: dict[str, dict[str, str]] = {
    "ceads": {"blast_furnace_gas": "other_gas", "converter_gas": "other_gas"},
}
"""Fuels a factor set counts inside one of its own categories: CEADs' Other Gas is
blast-furnace plus converter gas (Shan et al. 2018, Table 1), so under ``factors="ceads"``
both take its Other Gas factor per m³, as the CEADs inventory does."""
_FUEL_USE_COLUMNS = ("region", "year", "fuel", "quantity", "unit")


# --------------------------------------------------------------------------- factors
def emission_factors(factors: str | pd.DataFrame = "ndrc2011") -> pd.DataFrame:
    """CO2 emission factors per physical unit, one row per fuel.

    Parameters
    ----------
    factors
        A factor-set name (``"ndrc2011"``, ``"ipcc2006"``, ``"ceads"``) or a table shaped
        like :func:`carbonlab.data.factors.load_fuel_factors`.

    Returns
    -------
    DataFrame indexed by ``fuel`` with
        ``base_unit`` ("kg"/"m3"), ``tj_per_base`` (NCV, TJ per kg or m3),
        ``cef_tco2_per_tj`` (CC·COF·44/12, the study's formula; the published CEF is only
        used to check the table) and ``tco2_per_base`` (t CO2 per kg or m3). For ``"ceads"``
        (derived from CEADs' files, needs the data mirror) only ``tco2_per_base`` is known: the
        sectors' factors weighted by the fuel they burn
        (:func:`carbonlab.data.ceads_fuels.ceads_fuel_factors`); NCV and CEF are NaN.
    """
    if isinstance(factors, str) and factors in DERIVED_SETS:
        from carbonlab.data.ceads_fuels import ceads_fuel_factors

        per = ceads_fuel_factors().dropna(subset=["factor_kg_per_unit"]).set_index("fuel")
        out = pd.DataFrame({"base_unit": per["unit_basis"], "tj_per_base": np.nan,
                            "cef_tco2_per_tj": np.nan,
                            "tco2_per_base": per["factor_kg_per_unit"] / 1e3})
        _check_gas_limits(out, factors)
        out.attrs["units"] = {"tco2_per_base": "tCO2 per base unit"}
        out.attrs["factor_set"] = factors
        return out
    tab = load_fuel_factors(factors) if isinstance(factors, str) else factors.copy()
    missing = [c for c in ("fuel", "ncv", "ncv_unit", "carbon_content_tc_per_tj", "oxidation")
               if c not in tab.columns]
    if missing:
        raise DataError(f"factors: missing column(s) {', '.join(missing)}")
    bad = ~tab["ncv_unit"].isin(list(NCV_UNITS))
    if bad.any():
        raise DataError(f"factors: fuel {tab['fuel'][bad].iloc[0]!r}: unknown ncv_unit "
                        f"{tab['ncv_unit'][bad].iloc[0]!r}")
    out = pd.DataFrame({
        "fuel": tab["fuel"].to_numpy(),
        "base_unit": tab["ncv_unit"].map(NCV_UNITS).to_numpy(),
        "tj_per_base": tab["ncv"].to_numpy(dtype=float) * 1e-9,  # kJ -> TJ
        "cef_tco2_per_tj": (tab["carbon_content_tc_per_tj"].to_numpy(dtype=float)
                            * tab["oxidation"].to_numpy(dtype=float) * C_TO_CO2),
    }).set_index("fuel")
    out["tco2_per_base"] = out["tj_per_base"] * out["cef_tco2_per_tj"]
    _check_gas_limits(out, factors if isinstance(factors, str) else "custom")
    out.attrs["units"] = {"tj_per_base": "TJ per base unit", "cef_tco2_per_tj": "tCO2/TJ",
                          "tco2_per_base": "tCO2 per base unit"}
    out.attrs["factor_set"] = factors if isinstance(factors, str) else "custom"
    return out


def _check_gas_limits(ef: pd.DataFrame, set_name: str) -> None:
    """Refuse a gas factor above the physical limit of its carbon-bearing molecules."""
    for fuel in ef.index.intersection(list(GAS_CARBON_BASIS)):
        kg = 1e3 * float(ef.loc[fuel, "tco2_per_base"])
        lim = gas_limit_kg_per_m3(fuel)
        if ef.loc[fuel, "base_unit"] == "m3" and kg > lim:
            raise DataError(f"factors {set_name!r}, fuel {fuel}: {kg:.3f} kg CO2/m3 is above the "
                            f"physical limit {lim:.2f} kg CO2/m3 ({GAS_CARBON_BASIS[fuel][0]})")


def _grid_of(region: str, where: str) -> str:
    try:
        return grid_region(region)
    except ParameterError as exc:
        raise DataError(f"{where}: region {region!r} has no grid mapping ({exc})") from None


def electricity_factors(regions: Iterable[str], years: Iterable[int], rule: str = "nearest",
                        kind: str = "OM", derived: pd.DataFrame | None = None,
                        grid_factors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Electricity emission factor for every region-year, with its provenance.

    Parameters
    ----------
    regions, years
        Any spellings accepted by :func:`carbonlab.regions.resolve_region`; every
        combination is returned.
    rule
        ``"nearest"`` (default): published factor where one exists, else the grid's
        published factor of the nearest year (ties: earlier year), labelled
        ``"carried from YYYY"``. ``"published"``: a DataError for any uncovered
        region-year. ``"derived"``: a row of ``derived`` where given, else as ``"nearest"``.
    kind
        Which published kind to use: ``"OM"`` (NDRC operating margin, 2012-2014) or
        ``"average"`` (MEE/NBS average of all generation, 2022).
    derived
        Optional table ``grid, year, factor_tco2_per_mwh`` derived from data
        (e.g. :func:`derive_grid_factors`); only used with ``rule="derived"``.
    grid_factors
        Alternative published table (default :func:`carbonlab.data.factors.load_grid_factors`).

    Returns
    -------
    DataFrame
        region, year, grid, factor_tco2_per_kwh, factor_year (int year of the factor
        used), label ("published" / "carried from YYYY" / "derived"), scope
        ("province" where a provincial factor was used, else "grid").
    """
    if rule not in RULES:
        raise ParameterError(f"rule: unknown rule {rule!r} (known: {', '.join(RULES)})")
    pub = load_grid_factors() if grid_factors is None else grid_factors
    kinds = sorted(pub["kind"].unique())
    if kind not in kinds:
        raise ParameterError(f"kind: unknown grid-factor kind {kind!r} (known: {', '.join(kinds)})")
    pub = pub[pub["kind"] == kind]
    table = {g: dict(zip(d["year"].astype(int), d["factor_tco2_per_mwh"].astype(float),
                         strict=True))
             for g, d in pub.groupby("grid")}
    der: dict[tuple[str, int], float] = {}
    if rule == "derived":
        if derived is None:
            raise ParameterError("derived: rule='derived' needs a derived factor table")
        for c in ("grid", "year", "factor_tco2_per_mwh"):
            if c not in derived.columns:
                raise DataError(f"derived: missing column {c!r}")
        der = {(str(g), int(y)): float(f) for g, y, f in
               derived[["grid", "year", "factor_tco2_per_mwh"]].itertuples(index=False)
               if np.isfinite(f)}
    regions = [resolve_region(r) for r in regions]
    years = [int(y) for y in years]
    rows = []
    for region in regions:
        grid = _grid_of(region, "regions")
        scope = "province" if region in table else "grid"
        avail = table.get(region if scope == "province" else grid, {})
        for year in years:
            if year in avail:
                rows.append((region, year, grid, avail[year] / 1e3, year, "published", scope))
                continue
            if (grid, year) in der:
                rows.append((region, year, grid, der[(grid, year)] / 1e3, year, "derived",
                             "grid"))
                continue
            if rule == "published" or not avail:
                raise DataError(f"electricity factor: no published {kind} factor for grid "
                                f"{grid!r} ({region}) in {year}")
            near = min(avail, key=lambda y: (abs(y - year), y))
            rows.append((region, year, grid, avail[near] / 1e3, near, f"carried from {near}",
                         scope))
    out = pd.DataFrame(rows, columns=["region", "year", "grid", "factor_tco2_per_kwh",
                                      "factor_year", "label", "scope"])
    out.attrs["units"] = {"factor_tco2_per_kwh": "tCO2/kWh"}
    out.attrs["rule"] = rule
    out.attrs["kind"] = kind
    return out


# --------------------------------------------------------------------------- accounting
def _check_fuel_use(fuel_use: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(fuel_use, pd.DataFrame):
        raise ParameterError("fuel_use: expected a DataFrame (region, year, fuel, quantity, unit)")
    missing = [c for c in _FUEL_USE_COLUMNS if c not in fuel_use.columns]
    if missing:
        raise DataError(f"fuel_use: missing column(s) {', '.join(missing)}")
    df = fuel_use.loc[:, list(_FUEL_USE_COLUMNS)].reset_index(drop=True)
    # regions: canonical names, one lookup per distinct spelling
    canon: dict[object, str] = {}
    for i, r in enumerate(df["region"]):
        if r not in canon:
            try:
                canon[r] = resolve_region(str(r))
            except ParameterError as exc:
                raise DataError(f"fuel_use, row {i}, column region: {exc}") from None
    df["region"] = df["region"].map(canon)
    year = pd.to_numeric(df["year"], errors="coerce")
    if year.isna().any() or (year != np.round(year)).any():
        i = int(np.flatnonzero((year.isna() | (year != np.round(year))).to_numpy())[0])
        raise DataError(f"fuel_use, row {i}, column year: invalid year {df['year'].iloc[i]!r}")
    df["year"] = year.astype(int)
    q = pd.to_numeric(df["quantity"], errors="coerce").astype(float)
    if q.isna().any() or not np.isfinite(q.to_numpy()).all():
        i = int(np.flatnonzero((q.isna() | ~np.isfinite(q.fillna(0))).to_numpy())[0])
        raise DataError(f"fuel_use, row {i}, column quantity: missing or invalid quantity "
                        f"{df['quantity'].iloc[i]!r} ({df['region'].iloc[i]}, {df['year'].iloc[i]},"
                        f" {df['fuel'].iloc[i]})")
    df["quantity"] = q
    fuel = df["fuel"].astype(str)
    unknown = ~fuel.isin(list(_KNOWN_FUELS) + [ELECTRICITY])
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"fuel_use, row {i}, column fuel: unknown fuel {fuel.iloc[i]!r} "
                        f"(known: {', '.join(_KNOWN_FUELS)}, {ELECTRICITY})")
    df["fuel"] = fuel
    unit = df["unit"].astype(str)
    bad_unit = ~unit.isin(list(UNITS))
    if bad_unit.any():
        i = int(np.flatnonzero(bad_unit.to_numpy())[0])
        raise DataError(f"fuel_use, row {i}, column unit: unknown unit {unit.iloc[i]!r} for "
                        f"{df['fuel'].iloc[i]} (known: {', '.join(UNITS)})")
    df["unit"] = unit
    neg = (df["fuel"] != ELECTRICITY) & (df["quantity"] < 0)
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise DataError(f"fuel_use, row {i}, column quantity: negative quantity "
                        f"{df['quantity'].iloc[i]} of {df['fuel'].iloc[i]} "
                        f"({df['region'].iloc[i]}, {df['year'].iloc[i]})")
    return df


def _fossil_tco2(fossil: pd.DataFrame, ef: pd.DataFrame, set_name: str) -> np.ndarray:
    """t CO2 per fuel-use row (fossil rows only)."""
    group = SET_FUEL_GROUPS.get(set_name, {})
    fuels = fossil["fuel"].map(lambda f: f if f in ef.index else group.get(f, f))
    absent = ~fuels.isin(ef.index)
    if absent.any():
        i = int(np.flatnonzero(absent.to_numpy())[0])
        raise DataError(f"fuel_use, row {fossil.index[i]}: factor set {set_name!r} has no factor "
                        f"for fuel {fossil['fuel'].iloc[i]!r}")
    kind = pd.Series([UNITS[u][0] for u in fossil["unit"]], index=fossil.index, dtype=object)
    scale = np.array([UNITS[u][1] for u in fossil["unit"]], dtype=float)
    base_qty = fossil["quantity"].to_numpy(dtype=float) * scale
    f = ef.loc[fuels.to_numpy()]
    energy = kind.to_numpy() == "energy"
    expect = np.where(f["base_unit"].to_numpy() == "kg", "mass", "volume")
    wrong = ~energy & (kind.to_numpy() != expect)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise DataError(f"fuel_use, row {fossil.index[i]}, column unit: {fossil['unit'].iloc[i]!r} "
                        f"is a {kind.iloc[i]} unit but {fossil['fuel'].iloc[i]}'s NCV is per "
                        f"{f['base_unit'].iloc[i]}")
    # physical units times t CO2 per base unit; energy units (TJ) times the CEF
    no_cef = energy & ~np.isfinite(f["cef_tco2_per_tj"].to_numpy())
    if no_cef.any():
        i = int(np.flatnonzero(no_cef)[0])
        raise DataError(f"fuel_use, row {fossil.index[i]}, column unit: {fossil['unit'].iloc[i]!r} "
                        f"is an energy unit but factor set {set_name!r} has factors per "
                        f"{f['base_unit'].iloc[i]} only")
    return np.where(energy, base_qty * np.nan_to_num(f["cef_tco2_per_tj"].to_numpy()),
                    base_qty * f["tco2_per_base"].to_numpy())


def _electricity_table(df: pd.DataFrame, electricity: pd.DataFrame | None) -> pd.DataFrame:
    """region, year, net_import_kwh."""
    if electricity is None:
        el = df[df["fuel"] == ELECTRICITY]
        bad = np.array([UNITS[u][0] != "electricity" for u in el["unit"]], dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"fuel_use, row {el.index[i]}, column unit: {el['unit'].iloc[i]!r} "
                            f"is not an electricity unit for {ELECTRICITY}")
        scale = np.array([UNITS[u][1] for u in el["unit"]], dtype=float)
        kwh = el["quantity"].to_numpy(dtype=float) * scale
        return (pd.DataFrame({"region": el["region"].to_numpy(), "year": el["year"].to_numpy(),
                              "net_import_kwh": kwh})
                .groupby(["region", "year"], as_index=False).sum())
    for c in ("region", "year", "net_import_gwh"):
        if c not in electricity.columns:
            raise DataError(f"electricity: missing column {c!r} (region, year, net_import_gwh)")
    e = electricity.reset_index(drop=True)
    regions = []
    for i, r in enumerate(e["region"]):
        try:
            regions.append(resolve_region(str(r)))
        except ParameterError as exc:
            raise DataError(f"electricity, row {i}, column region: {exc}") from None
    gwh = pd.to_numeric(e["net_import_gwh"], errors="coerce")
    if gwh.isna().any():
        i = int(np.flatnonzero(gwh.isna().to_numpy())[0])
        raise DataError(f"electricity, row {i}, column net_import_gwh: missing or invalid value")
    out = pd.DataFrame({"region": regions, "year": e["year"].astype(int),
                        "net_import_kwh": gwh.astype(float) * 1e6})
    return out.groupby(["region", "year"], as_index=False).sum()


def account(fuel_use: pd.DataFrame, factors: str | pd.DataFrame = "ndrc2011",
            electricity: pd.DataFrame | None = None, by_fuel: bool = False,
            rule: str = "nearest", ecf: pd.DataFrame | None = None) -> pd.DataFrame:
    """CE1 (fossil combustion), CE2 (net imported electricity) and CE per region-year.

    Parameters
    ----------
    fuel_use
        Tidy table region, year, fuel, quantity, unit. Fossil fuels use the study's
        codes (or CEADs' for ``factors="ceads"``); ``net_electricity`` rows (electricity
        units, negative for exporters) give NEC.
    factors
        Factor set name or a factor table (see :func:`emission_factors`).
    electricity
        Optional table region, year, net_import_gwh; replaces the ``net_electricity``
        rows of ``fuel_use``.
    by_fuel
        Return the per-fuel detail (region, year, fuel, emissions_mt) instead, with
        ``net_electricity`` as one more "fuel".
    rule
        Rule for years without a published grid factor (see :func:`electricity_factors`).
    ecf
        Optional precomputed electricity factors (region, year, factor_tco2_per_kwh),
        e.g. from :func:`electricity_factors` with ``rule="derived"``.

    Returns
    -------
    DataFrame
        region, year, ce1_mt, ce2_mt, ce_mt (Mt CO2), sorted by region and year.
        Without any electricity data CE2 is 0 for every row (fossil-only accounting,
        ``attrs["electricity"] = False``); with electricity data every region-year
        must have it.
    """
    set_name = factors if isinstance(factors, str) else "custom"
    if isinstance(factors, str) and factors not in FACTOR_SETS:
        raise ParameterError(f"factors: unknown factor set {factors!r} "
                             f"(known: {', '.join(FACTOR_SETS)})")
    df = _check_fuel_use(fuel_use)
    for region in df["region"].unique():
        _grid_of(region, "fuel_use")
    ef = emission_factors(factors)
    fossil = df[df["fuel"] != ELECTRICITY]
    fossil_t = _fossil_tco2(fossil, ef, set_name) if len(fossil) else np.zeros(0)
    detail = pd.DataFrame({"region": fossil["region"].to_numpy(),
                           "year": fossil["year"].to_numpy(),
                           "fuel": fossil["fuel"].to_numpy(), "emissions_mt": fossil_t / 1e6})
    detail = detail.groupby(["region", "year", "fuel"], as_index=False, sort=True).sum()

    keys = df[["region", "year"]].drop_duplicates()
    el = _electricity_table(df, electricity)
    has_el = len(el) > 0
    if has_el:
        if electricity is not None:
            keys = pd.concat([keys, el[["region", "year"]]]).drop_duplicates()
        merged = keys.merge(el, on=["region", "year"], how="left")
        if merged["net_import_kwh"].isna().any():
            r = merged[merged["net_import_kwh"].isna()].iloc[0]
            raise DataError(f"electricity: no net electricity import for {r['region']} "
                            f"{int(r['year'])}")
        if ecf is None:
            fac = electricity_factors(sorted(merged["region"].unique()),
                                      sorted(merged["year"].unique()), rule=rule)
        else:
            fac = ecf.assign(region=ecf["region"].map(resolve_region))
        merged = merged.merge(fac[["region", "year", "factor_tco2_per_kwh"]],
                              on=["region", "year"], how="left")
        if merged["factor_tco2_per_kwh"].isna().any():
            r = merged[merged["factor_tco2_per_kwh"].isna()].iloc[0]
            raise DataError(f"ecf: no electricity factor for {r['region']} {int(r['year'])}")
        merged["ce2_mt"] = merged["net_import_kwh"] * merged["factor_tco2_per_kwh"] / 1e6
        ce2 = merged[["region", "year", "ce2_mt"]]
    else:
        ce2 = keys.assign(ce2_mt=0.0)

    if by_fuel:
        if has_el:
            detail = pd.concat([detail, ce2.rename(columns={"ce2_mt": "emissions_mt"})
                                .assign(fuel=ELECTRICITY)], ignore_index=True)
        detail = detail.sort_values(["region", "year", "fuel"]).reset_index(drop=True)
        detail.attrs["units"] = {"emissions_mt": "Mt CO2"}
        detail.attrs["factor_set"] = set_name
        return detail[["region", "year", "fuel", "emissions_mt"]]

    ce1 = detail.groupby(["region", "year"], as_index=False)["emissions_mt"].sum()
    ce1 = ce1.rename(columns={"emissions_mt": "ce1_mt"})
    out = keys.merge(ce1, on=["region", "year"], how="left").merge(ce2, on=["region", "year"],
                                                                    how="left")
    out["ce1_mt"] = out["ce1_mt"].fillna(0.0)
    out["ce_mt"] = out["ce1_mt"] + out["ce2_mt"]
    order = {p: i for i, p in enumerate(PROVINCES)}
    out = (out.assign(_o=out["region"].map(order)).sort_values(["_o", "year"])
           .drop(columns="_o").reset_index(drop=True))
    out.attrs["units"] = {"ce1_mt": "Mt CO2", "ce2_mt": "Mt CO2", "ce_mt": "Mt CO2"}
    out.attrs["factor_set"] = set_name
    out.attrs["electricity"] = has_el
    return out[["region", "year", "ce1_mt", "ce2_mt", "ce_mt"]]


# --------------------------------------------------------------------------- reconciliation
def derive_grid_factors(power_emissions: pd.DataFrame, generation: pd.DataFrame
                        ) -> pd.DataFrame:
    """Average grid factors derived from data: power-sector CO2 / generation, by grid-year.

    Parameters
    ----------
    power_emissions
        region, year, emissions_mt (e.g. CEADs' power-sector scope-1 CO2; note CEADs'
        sector also covers steam and hot water, so the factor is an upper bound).
    generation
        region, year, total_gwh (e.g. CPSY generation, all sources).

    Returns
    -------
    DataFrame
        grid, year, factor_tco2_per_mwh, label ("derived"); grid-years with missing
        generation in any province are dropped.
    """
    for name, t, cols in (("power_emissions", power_emissions, ("region", "year", "emissions_mt")),
                          ("generation", generation, ("region", "year", "total_gwh"))):
        miss = [c for c in cols if c not in t.columns]
        if miss:
            raise DataError(f"{name}: missing column(s) {', '.join(miss)}")
    m = power_emissions.merge(generation[["region", "year", "total_gwh"]],
                              on=["region", "year"], how="inner")
    m["grid"] = [_grid_of(r, "power_emissions") for r in m["region"]]
    bad = m.groupby(["grid", "year"])["total_gwh"].transform(
        lambda s: s.isna().any() or (s <= 0).all())
    m = m[~bad.astype(bool)]
    g = m.groupby(["grid", "year"], as_index=False)[["emissions_mt", "total_gwh"]].sum()
    g["factor_tco2_per_mwh"] = g["emissions_mt"] * 1e6 / (g["total_gwh"] * 1e3)
    g["label"] = "derived"
    out = g[["grid", "year", "factor_tco2_per_mwh", "label"]].reset_index(drop=True)
    out.attrs["units"] = {"factor_tco2_per_mwh": "tCO2/MWh"}
    return out


def compare_factor_sets(fuel_use: pd.DataFrame, reference: pd.DataFrame,
                        factor_sets: Iterable[str] = ("ndrc2011", "ipcc2006")) -> pd.DataFrame:
    """CE1 of the same activity under several factor sets, against a reference total.

    Parameters
    ----------
    fuel_use
        Tidy fuel use (study fuel codes); ``net_electricity`` rows are ignored.
    reference
        region, year, ceads_mt (e.g. :class:`InventoryAccounting`'s ``table``).

    Returns
    -------
    DataFrame
        region, year, factor_set, ce1_mt, ceads_mt, rel_diff (ce1 / ceads - 1).
    """
    fossil = fuel_use[fuel_use["fuel"] != ELECTRICITY]
    parts = []
    for fs in factor_sets:
        a = account(fossil, factors=fs)[["region", "year", "ce1_mt"]]
        parts.append(a.assign(factor_set=fs))
    out = pd.concat(parts, ignore_index=True).merge(
        reference[["region", "year", "ceads_mt"]], on=["region", "year"], how="inner")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rel_diff"] = np.where(out["ceads_mt"] > 0, out["ce1_mt"] / out["ceads_mt"] - 1.0,
                                   np.nan)
    return out[["region", "year", "factor_set", "ce1_mt", "ceads_mt", "rel_diff"]]


def electricity_contrast(accounted: pd.DataFrame, year: int) -> pd.DataFrame:
    """Fossil-only vs with-electricity emissions of every province in one year.

    Parameters
    ----------
    accounted
        Output of :func:`account` with electricity.
    year
        The year shown.

    Returns
    -------
    DataFrame
        region, year, ce1_mt, ce2_mt, ce_mt, change (ce / ce1 - 1), role
        ("importer" if CE2 > 0, "exporter" if < 0, else "balanced"), sorted by ce2_mt.
    """
    d = accounted[accounted["year"] == int(year)].copy()
    if d.empty:
        years = sorted(accounted["year"].unique())
        raise ParameterError(f"year: {year} not in the accounted table "
                             f"({years[0]}-{years[-1]})" if years else "year: empty table")
    d["change"] = d["ce_mt"] / d["ce1_mt"] - 1.0
    d["role"] = np.select([d["ce2_mt"] > 0, d["ce2_mt"] < 0], ["importer", "exporter"],
                          "balanced")
    return d.sort_values("ce2_mt", ascending=False).reset_index(drop=True)


# --------------------------------------------------------------------------- 2007 check
_ENERGY_MAPPED = {"cleaned_coal": "raw_coal", "other_washed_coal": "raw_coal",
                  "briquettes": "raw_coal", "other_coking_products": "coke",
                  "refinery_gas": "lpg", "other_petroleum_products": "fuel_oil"}


OTHER_GAS_UNIFORM_TOL = 0.005
"""Relative tolerance within which a province's CEADs Other Gas CO2 per m3 of the yearbook's
combusted other gas counts as CEADs' common factor (the tables print 2 decimals)."""

OTHER_GAS_VOLUME_TOL = 0.05
"""The 2007 check's criterion for Other Gas volumes: the yearbook's combusted volume within
±5 % of CEADs' (CEADs' CO2 / its one factor), nationally."""

_PRINTED_1E8M3 = 0.005
"""Half the last digit the yearbook prints for gases (0.01 x 10^8 m3): a smaller combusted
volume (Qinghai's other gas, 1.1e-5 x 10^8 m3) is noise and not used to estimate CEADs' factor."""


def _manufactured_share() -> pd.Series:
    """Share of each province's 其他煤气 made in gas works and coke ovens (national share
    where the balance shows neither origin)."""
    from carbonlab.data import cesy2008

    origin = cesy2008.other_gas_origin_2007()
    return origin.set_index("region")["manufactured_share"].fillna(origin.attrs["national_share"])


def _study_rows(comb: pd.DataFrame) -> pd.DataFrame:
    """CESY 2007 combustion (17 CEADs-like fuels) as study-fuel rows, tagged with the
    CESY fuel they came from (``source_fuel``)."""
    from carbonlab.data import cesy2008
    from carbonlab.data.panel import FU04_NAME

    manuf = _manufactured_share()
    rows = []
    cf = None
    for r in comb.itertuples(index=False):
        if r.fuel == "other_gas":
            m = float(manuf[r.region])
            rows.append((r.region, r.year, "other_gas", r.quantity * m, r.unit, r.fuel))
            for f, share in OTHER_GAS_SPLIT.items():
                rows.append((r.region, r.year, f, r.quantity * (1 - m) * share, r.unit, r.fuel))
        elif r.fuel in _ENERGY_MAPPED:
            if cf is None:
                cf = (cesy2008.conversion_factors().drop_duplicates("name")
                      .set_index("name")["ncv_kj"])
            scale = UNITS[r.unit][1]
            tj = r.quantity * scale * float(cf[FU04_NAME[r.fuel]]) * 1e-9
            rows.append((r.region, r.year, _ENERGY_MAPPED[r.fuel], tj * 1e3 / GJ_PER_TCE / 1e4,
                         "10^4 tce", r.fuel))
        else:
            rows.append((r.region, r.year, r.fuel, r.quantity, r.unit, r.fuel))
    return pd.DataFrame(rows, columns=["region", "year", "fuel", "quantity", "unit",
                                       "source_fuel"])


@dataclass(frozen=True)
class Check2007:
    """Result of :func:`check_2007`.

    ``by_fuel``: region, fuel (CEADs name), factor_set, accounted_mt, ceads_mt, rel_diff;
    ``by_province``: the same summed over fuels; ``national``: summed over provinces,
    by fuel; ``summary``: per factor set the median and worst province relative
    difference, the worst province and the fuel that contributes most to its gap.
    ``other_gas``: the Other Gas gap per factor set and province split into a volume
    and a factor term (see :func:`check_2007`); ``other_gas_national``: the same summed
    over provinces, one row per factor set.
    """

    by_fuel: pd.DataFrame
    by_province: pd.DataFrame
    national: pd.DataFrame
    summary: pd.DataFrame
    other_gas: pd.DataFrame | None = None
    other_gas_national: pd.DataFrame | None = None

    def describe(self, factor_set: str = "ndrc2011") -> str:
        """Other Gas in 2007 in sentences: the volume term (criterion ±5 %), the factor term,
        and the factors per m3 against measured gases and the physical limit."""
        on = self.other_gas_national.set_index("factor_set")
        if factor_set not in on.index:
            raise ParameterError(f"factor_set: {factor_set!r} was not checked")
        o = on.loc[factor_set]
        pm = other_gas_per_m3(self, factor_set).set_index("source")
        meas = pm.loc["measured: recovered blend"]
        ok = "within" if o["volumes_within"] else "outside"
        return (
            f"Other Gas, China 2007: {o['accounted_mt']:.1f} Mt with {factor_set} against CEADs' "
            f"{o['ceads_mt']:.1f} Mt ({100 * o['rel_diff']:+.1f} %). Volume term: the yearbook's "
            f"combusted volume is {100 * (o['volume_ratio'] - 1):+.1f} % from CEADs' volume (its CO2 "
            f"over its one factor), {ok} the ±{100 * OTHER_GAS_VOLUME_TOL:.0f} % criterion; that is "
            f"{o['volume_term_mt']:+.2f} Mt. Factor term: {o['factor_term_mt']:+.1f} Mt, because CEADs "
            f"applies one factor, {o['ceads_kg_per_m3']:.4f} kg CO2/m³, to all Other Gas (the same "
            f"in {o['n_uniform']} of the {o['n_with_gas']} provinces that burn it), while "
            f"{factor_set} gives recovered gas {o['recovered_kg_per_m3']:.3f} and gas made in gas "
            f"works {o['manufactured_kg_per_m3']:.3f} kg CO2/m³. Blast-furnace and converter gas as "
            f"measured (IPCC EFDB) carry {pm.loc['measured: blast-furnace gas (EFDB, Japan)', 'kg_per_m3']:.3f} "
            f"and {pm.loc['measured: converter gas (EFDB, Japan)', 'kg_per_m3']:.3f} kg CO2/m³; with "
            f"their blend ({meas['kg_per_m3']:.3f}) on the recovered gas the 2007 gap is "
            f"{100 * meas['gap_2007']:+.0f} % instead of {100 * o['rel_diff']:+.0f} %. Every factor is "
            f"below the physical limit of its molecules ({pm['limit_kg_per_m3'].min():.2f} kg CO2/m³ "
            "for a gas of CO, CO2 and CH4 at 0 °C).")

    def report(self, factor_set: str = "ndrc2011", top: int = 5) -> str:
        """Plain-text report: every province's relative difference from CEADs (all fuels),
        then the national Other Gas gap, its volume and factor terms, and the ``top``
        provinces contributing most to it."""
        if factor_set not in set(self.by_province["factor_set"]):
            raise ParameterError(f"factor_set: {factor_set!r} was not checked "
                                 f"(checked: {', '.join(self.summary['factor_set'])})")
        d = self.by_province[self.by_province["factor_set"] == factor_set].sort_values("rel_diff")
        lines = [f"2007 check, {factor_set}: accounted / CEADs - 1 per province (all fuels)"]
        lines += [f"  {r.region:<15s} {100 * r.rel_diff:+7.1f} %  ({r.accounted_mt:8.1f} vs "
                  f"{r.ceads_mt:8.1f} Mt)" for r in d.itertuples()]
        if self.other_gas_national is not None:
            n = self.other_gas_national.set_index("factor_set").loc[factor_set]
            lines.append(
                f"Other Gas, China: {n['accounted_mt']:.1f} vs CEADs {n['ceads_mt']:.1f} Mt "
                f"({100 * n['rel_diff']:+.1f} %); gap {n['gap_mt']:+.1f} Mt = volume "
                f"{n['volume_term_mt']:+.1f} + factor {n['factor_term_mt']:+.1f} Mt (recovered gas "
                f"{n['factor_term_recovered_mt']:+.1f}, manufactured gas "
                f"{n['factor_term_manufactured_mt']:+.1f}); CEADs' factor "
                f"{n['ceads_kg_per_m3']:.4f} kg/m3 (uniform in {n['n_uniform']} of "
                f"{n['n_with_gas']} provinces), {factor_set} {n['kg_per_m3']:.4f} kg/m3")
            og = self.other_gas[self.other_gas["factor_set"] == factor_set]
            og = og.reindex(og["gap_mt"].abs().sort_values(ascending=False).index).head(top)
            lines += [f"  {r.region:<15s} gap {r.gap_mt:+6.2f} Mt = volume {r.volume_term_mt:+6.2f}"
                      f" + factor {r.factor_term_mt:+6.2f}" for r in og.itertuples()]
        return "\n".join(lines)


def _other_gas_gap(detail: pd.DataFrame, comb: pd.DataFrame, ceads: pd.DataFrame,
                   tol: float = OTHER_GAS_UNIFORM_TOL) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the Other Gas gap into a volume and a factor term, per province and set.

    ``detail``: factor_set, region, source_fuel, fuel (study fuel), accounted_mt;
    ``comb``: :func:`carbonlab.data.cesy2008.combustion_2007`; ``ceads``: region, fuel, ceads_mt.
    """
    vol = comb[comb["fuel"] == "other_gas"].set_index("region")["quantity"].astype(float)
    ce = (ceads[ceads["fuel"] == "Other Gas"].set_index("region")["ceads_mt"]
          .reindex(vol.index).fillna(0.0))
    m = _manufactured_share().reindex(vol.index)
    has = vol >= _PRINTED_1E8M3
    implied = pd.Series(np.nan, index=vol.index)
    implied[has] = 10.0 * ce[has] / vol[has]  # Mt per 10^8 m3 -> kg per m3
    ok = has & (ce > 0)
    f_c = float(np.median(implied[ok]))
    uniform = (implied / f_c - 1).abs() <= tol
    parts = []
    og = detail[detail["source_fuel"] == "other_gas"]
    for fs, d in og.groupby("factor_set", sort=False):
        co2 = d.groupby("region")["accounted_mt"].sum().reindex(vol.index).fillna(0.0)
        man = (d[d["fuel"] == "other_gas"].groupby("region")["accounted_mt"].sum()
               .reindex(vol.index).fillna(0.0))
        if set(d["fuel"]) == {"other_gas"}:  # one factor for all other gas (the ceads set)
            man = co2 * m
        t = pd.DataFrame({
            "factor_set": fs, "region": vol.index, "volume_1e8m3": vol.to_numpy(),
            "recovered_1e8m3": (vol * (1 - m)).to_numpy(),
            "manufactured_1e8m3": (vol * m).to_numpy(),
            "ceads_volume_1e8m3": (10.0 * ce / f_c).to_numpy(),
            "accounted_mt": co2.to_numpy(), "ceads_mt": ce.to_numpy(),
        })
        t["gap_mt"] = t["accounted_mt"] - t["ceads_mt"]
        with np.errstate(divide="ignore", invalid="ignore"):
            t["rel_diff"] = np.where(t["ceads_mt"] > 0, t["gap_mt"] / t["ceads_mt"], np.nan)
            t["kg_per_m3"] = np.where(t["volume_1e8m3"] > 0,
                                      10.0 * t["accounted_mt"] / t["volume_1e8m3"], np.nan)
        t["ceads_implied_kg_per_m3"] = implied.to_numpy()
        t["ceads_kg_per_m3"] = f_c
        t["uniform"] = uniform.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t["volume_ratio"] = np.where(t["ceads_volume_1e8m3"] > 0,
                                         t["volume_1e8m3"] / t["ceads_volume_1e8m3"], np.nan)
        t["volume_term_mt"] = f_c * t["volume_1e8m3"] / 10.0 - t["ceads_mt"]
        t["factor_term_mt"] = t["accounted_mt"] - f_c * t["volume_1e8m3"] / 10.0
        t["factor_term_recovered_mt"] = ((co2 - man).to_numpy()
                                         - f_c * t["recovered_1e8m3"] / 10.0)
        t["factor_term_manufactured_mt"] = man.to_numpy() - f_c * t["manufactured_1e8m3"] / 10.0
        parts.append(t)
    per = pd.concat(parts, ignore_index=True)
    sums = ["volume_1e8m3", "recovered_1e8m3", "manufactured_1e8m3", "ceads_volume_1e8m3",
            "accounted_mt", "ceads_mt", "gap_mt", "volume_term_mt", "factor_term_mt",
            "factor_term_recovered_mt", "factor_term_manufactured_mt"]
    rows = []
    for fs, d in per.groupby("factor_set", sort=False):
        r = d[sums].sum()
        rec_co2 = r["factor_term_recovered_mt"] + f_c * r["recovered_1e8m3"] / 10.0
        man_co2 = r["factor_term_manufactured_mt"] + f_c * r["manufactured_1e8m3"] / 10.0
        withgas = d[d["volume_1e8m3"] >= _PRINTED_1E8M3]
        order = d.reindex(d["gap_mt"].abs().sort_values(ascending=False).index)
        rows.append({
            "factor_set": fs, **r.to_dict(), "rel_diff": r["gap_mt"] / r["ceads_mt"],
            "kg_per_m3": 10.0 * r["accounted_mt"] / r["volume_1e8m3"],
            "recovered_kg_per_m3": 10.0 * rec_co2 / r["recovered_1e8m3"],
            "manufactured_kg_per_m3": 10.0 * man_co2 / r["manufactured_1e8m3"],
            "ceads_kg_per_m3": f_c,
            "n_with_gas": int(len(withgas)), "n_uniform": int(withgas["uniform"].sum()),
            "not_uniform": ", ".join(withgas.loc[~withgas["uniform"], "region"]),
            "ceads_only": ", ".join(d.loc[(d["volume_1e8m3"] < _PRINTED_1E8M3)
                                          & (d["ceads_mt"] > 0), "region"]),
            "largest": ", ".join(order["region"].head(3)),
            "volume_ratio": r["volume_1e8m3"] / r["ceads_volume_1e8m3"],
            "volumes_within": bool(abs(r["volume_1e8m3"] / r["ceads_volume_1e8m3"] - 1)
                                   <= OTHER_GAS_VOLUME_TOL),
        })
    return per, pd.DataFrame(rows)


def check_2007(factor_sets: Iterable[str] = FACTOR_SETS) -> Check2007:
    """Account the 2007 physical energy balances (CESY 2008) with each factor set and
    compare with the CEADs 2007 inventory, by province and fuel.

    The balances are activity data CEADs did not derive from its emissions, so this
    checks the accounting against something it did not come from. The fuel burnt is
    final use minus non-energy use plus the inputs to thermal power and heating
    (:func:`carbonlab.data.cesy2008.combustion_2007`). ``ceads`` accounts the 17 fuels
    directly; the study's sets map them onto the 14 (coal and oil sub-products by
    energy with the yearbook's calorific values; 其他煤气 is split by its origin in the same
    balance: the part made in gas works and coke ovens is ``other_gas`` (producer-gas
    factors), the recovered part blast-furnace and converter gas by :data:`OTHER_GAS_SPLIT`;
    :func:`carbonlab.data.cesy2008.other_gas_origin_2007`).

    **Other Gas decomposition** (``other_gas``, ``other_gas_national``). CEADs publishes
    CO2, not volumes. Its factor for Other Gas, ``f_C`` (kg CO2/m3), is estimated as the
    median over provinces of CEADs' Other Gas CO2 divided by the yearbook's combusted
    volume ``V`` over provinces with a printed volume (a province whose ratio is within :data:`OTHER_GAS_UNIFORM_TOL` of it is
    flagged ``uniform``: same volume, same factor). CEADs' volume is then ``CO2_C / f_C``
    and, per province and set with CO2 ``A``,

    .. math::

        A - CO2_C = \\underbrace{f_C\\,(V - CO2_C/f_C)}_{\\text{volume term}}
                  + \\underbrace{(A - f_C V)}_{\\text{factor term}},

    the factor term split into recovered (blast-furnace and converter) and manufactured gas.
    """
    from carbonlab.data import cesy2008, real

    comb = cesy2008.combustion_2007()
    ceads = real.ceads_province_fuels()
    ceads = ceads[(ceads["year"] == 2007) & (ceads["fuel"] != "process")]
    ceads = ceads.rename(columns={"emissions_mt": "ceads_mt"})[["region", "fuel", "ceads_mt"]]
    parts, details = [], []
    for fs in factor_sets:
        rows = (comb.assign(source_fuel=comb["fuel"]) if fs == "ceads"
                else _study_rows(comb))
        rows = rows[rows["quantity"] > 0].reset_index(drop=True)
        chk = _check_fuel_use(rows[list(_FUEL_USE_COLUMNS)])
        t = _fossil_tco2(chk, emission_factors(fs), fs)
        details.append(pd.DataFrame({"factor_set": fs, "region": rows["region"],
                                     "source_fuel": rows["source_fuel"], "fuel": rows["fuel"],
                                     "accounted_mt": t / 1e6}))
        d = pd.DataFrame({"region": rows["region"],
                          "fuel": rows["source_fuel"].map(cesy2008.CEADS_FUEL_OF),
                          "accounted_mt": t / 1e6})
        d = d.groupby(["region", "fuel"], as_index=False)["accounted_mt"].sum()
        d = ceads.merge(d, on=["region", "fuel"], how="left").fillna({"accounted_mt": 0.0})
        parts.append(d.assign(factor_set=fs))
    by_fuel = pd.concat(parts, ignore_index=True)

    def rel(df: pd.DataFrame) -> pd.DataFrame:
        with np.errstate(divide="ignore", invalid="ignore"):
            df["rel_diff"] = np.where(df["ceads_mt"] > 0, df["accounted_mt"] / df["ceads_mt"] - 1,
                                      np.nan)
        return df

    by_fuel = rel(by_fuel[["region", "fuel", "factor_set", "accounted_mt", "ceads_mt"]])
    by_prov = rel(by_fuel.groupby(["factor_set", "region"], as_index=False)
                  [["accounted_mt", "ceads_mt"]].sum())
    national = rel(by_fuel.groupby(["factor_set", "fuel"], as_index=False)
                   [["accounted_mt", "ceads_mt"]].sum())
    rows = []
    for fs, d in by_prov.groupby("factor_set", sort=False):
        worst = d.loc[d["rel_diff"].abs().idxmax()]
        f = by_fuel[(by_fuel["factor_set"] == fs) & (by_fuel["region"] == worst["region"])]
        gap = (f["accounted_mt"] - f["ceads_mt"])
        top = f.loc[gap.abs().idxmax()]
        rows.append((fs, float(d["rel_diff"].median()), float(worst["rel_diff"]),
                     worst["region"], top["fuel"], float(gap.loc[top.name]),
                     float(worst["accounted_mt"] - worst["ceads_mt"])))
    summary = pd.DataFrame(rows, columns=["factor_set", "median_rel_diff", "worst_rel_diff",
                                          "worst_region", "worst_gap_fuel", "fuel_gap_mt",
                                          "region_gap_mt"])
    og, og_nat = _other_gas_gap(pd.concat(details, ignore_index=True), comb, ceads)
    return Check2007(by_fuel, by_prov, national, summary, og, og_nat)


def other_gas_per_m3(check: Check2007, factor_set: str = "ndrc2011") -> pd.DataFrame:
    """Other Gas compared per m3 (kg CO2 per m3 of gas, 20 °C), with its 2007 consequence.

    Rows: CEADs' one factor (:func:`check_2007`'s estimate, equal to the derived one); the
    factor set's recovered (blast-furnace + converter, split by :data:`OTHER_GAS_SPLIT`) and
    manufactured gas; blast-furnace, converter and coke-oven gas as measured in Japan (IPCC
    EFDB, :func:`carbonlab.data.ipcc_efdb.measured_gas_per_m3`) and their recovered blend.
    Columns: source, kg_per_m3, limit_kg_per_m3 (:func:`gas_limit_kg_per_m3`),
    mt_2007 (China's 2007 Other Gas CO2 with that factor on the recovered part and the set's
    manufactured-gas factor on the rest; CEADs' row: CEADs' inventory), gap_2007 (vs CEADs).
    """
    from carbonlab.data import ipcc_efdb

    on = check.other_gas_national.set_index("factor_set")
    if factor_set not in on.index:
        raise ParameterError(f"factor_set: {factor_set!r} was not checked")
    o = on.loc[factor_set]
    rec_v, man_v = o["recovered_1e8m3"], o["manufactured_1e8m3"]
    meas = ipcc_efdb.measured_gas_per_m3().set_index("gas")["kg_per_m3"]
    blend = sum(share * meas[g] for g, share in zip(
        ("Blast Furnace Gas", "Oxygen Steel Furnace Gas"), OTHER_GAS_SPLIT.values(), strict=True))
    man = o["manufactured_kg_per_m3"]
    rows = [("CEADs (one factor for all Other Gas)", o["ceads_kg_per_m3"], "other_gas",
             o["ceads_mt"]),
            (f"{factor_set}: recovered gas", o["recovered_kg_per_m3"], "blast_furnace_gas",
             o["accounted_mt"]),
            (f"{factor_set}: manufactured gas", man, "other_gas", np.nan),
            ("measured: blast-furnace gas (EFDB, Japan)", meas["Blast Furnace Gas"],
             "blast_furnace_gas", np.nan),
            ("measured: converter gas (EFDB, Japan)", meas["Oxygen Steel Furnace Gas"],
             "converter_gas", np.nan),
            ("measured: coke-oven gas (EFDB, Japan)", meas["Coke Oven Gas"], "coke_oven_gas",
             np.nan),
            ("measured: recovered blend", blend, "other_gas",
             (blend * rec_v + man * man_v) / 10.0)]
    out = pd.DataFrame(rows, columns=["source", "kg_per_m3", "_gas", "mt_2007"])
    out["limit_kg_per_m3"] = out["_gas"].map(gas_limit_kg_per_m3)
    out["gap_2007"] = out["mt_2007"] / o["ceads_mt"] - 1
    out = out.drop(columns="_gas")
    out.attrs["units"] = {"kg_per_m3": "kg CO2/m3 (20 °C)", "mt_2007": "Mt CO2"}
    out.attrs["volume_ratio"] = float(o["volume_ratio"])
    return out


# --------------------------------------------------------------------------- plots
def plot_fuel_breakdown(detail: pd.DataFrame, region: str, ax=None):
    """Stacked area of CO2 by fuel over time for one region (``account(..., by_fuel=True)``)."""
    from carbonlab.plotting import legend_outside, new_figure, palette

    region = resolve_region(region)
    d = detail[(detail["region"] == region) & (detail["fuel"] != ELECTRICITY)]
    if d.empty:
        raise ParameterError(f"region: no fuel detail for {region!r}")
    wide = d.pivot_table(index="year", columns="fuel", values="emissions_mt", aggfunc="sum")
    wide = wide.loc[:, wide.sum().sort_values(ascending=False).index]
    if ax is None:
        _, ax = new_figure(figsize=(7.5, 6.0))  # room for the fuels' legend below the axes
    names = {"lng": "LNG", "lpg": "LPG"}
    ax.stackplot(wide.index, wide.T.to_numpy(),
                 labels=[names.get(f, f.replace("_", " ")) for f in wide.columns],
                 colors=palette(wide.shape[1]), alpha=0.9)
    el = detail[(detail["region"] == region) & (detail["fuel"] == ELECTRICITY)]
    if not el.empty:
        e = el.set_index("year")["emissions_mt"]
        ax.plot(e.index, wide.sum(axis=1).reindex(e.index) + e, color="black", ls="--",
                label="CE (with net electricity)")
    ax.set(xlabel="year", ylabel="Mt CO2", title=f"{region}: CO2 by fuel")
    legend_outside(ax, "bottom", ncols=3)
    return ax


def plot_fossil_vs_total(contrast: pd.DataFrame, ax=None):
    """Bars of fossil-only (CE1) and with-electricity (CE) emissions for every province."""
    from carbonlab.plotting import PALETTE, new_figure

    if ax is None:
        _, ax = new_figure(figsize=(9.0, 4.8))
    d = contrast.sort_values("ce_mt", ascending=False)
    x = np.arange(len(d))
    from matplotlib.patches import Patch

    ax.bar(x - 0.2, d["ce1_mt"], width=0.4, color=PALETTE[7])
    ax.bar(x + 0.2, d["ce_mt"], width=0.4,
           color=[PALETTE[1] if r == "importer" else PALETTE[0] for r in d["role"]])
    keys = [Patch(color=PALETTE[7], label="fossil only (CE1)"),
            Patch(color=PALETTE[1], label="with net electricity (CE): importer"),
            Patch(color=PALETTE[0], label="with net electricity (CE): exporter")]
    ax.set_xticks(x, d["region"], rotation=75, fontsize=9)
    ax.set(ylabel="Mt CO2", title=f"Fossil-only vs with electricity, {int(d['year'].iloc[0])}")
    ax.legend(handles=keys)
    return ax


def _within(rel: float) -> str:
    """A largest relative difference as prose: "exactly" or "to within 0.0012 %"."""
    if rel == 0.0:
        return "exactly (largest relative difference 0)"
    if rel < 1e-9:
        return "exactly, up to floating-point rounding"
    pct = 100 * rel
    return f"to within {pct:.{max(1, 1 - int(np.floor(np.log10(pct))))}f} %"


@dataclass(frozen=True)
class Reconciliation:
    """Result of :func:`reconcile`: a one-sentence summary and the tables behind it.

    On CEADs data ``inventory`` is :func:`account_inventory`'s result; on the teaching
    panel ``check`` is (region, year, emissions_mt of the panel, ce_mt accounted, Mt CO2).
    """

    dataset: str
    summary: str
    inventory: InventoryAccounting | None = None
    check: pd.DataFrame | None = None


def reconcile(dataset: str = "teaching", fuel_use: pd.DataFrame | None = None) -> Reconciliation:
    """Reconcile the accounting with a trusted total.

    ``dataset="ceads"``: CE1 recomputed from CEADs' energy inventories with each factor
    set against CEADs' own inventory (:func:`account_inventory`). ``dataset="teaching"``:
    the panel's emissions against ``account(fuel_use, "ndrc2011")``, which must agree
    exactly.
    """
    from carbonlab.data import check_dataset, load_fuel_use, load_panel

    check_dataset(dataset)
    if dataset == "ceads":
        inv = account_inventory()
        return Reconciliation(dataset, inv.describe(), inventory=inv)
    fuel_use = load_fuel_use(dataset) if fuel_use is None else fuel_use
    panel = load_panel(dataset)
    check = account(fuel_use, factors="ndrc2011").merge(
        panel[["region", "year", "emissions_mt"]], on=["region", "year"])
    worst = float(np.max(np.abs(check["ce_mt"] / check["emissions_mt"] - 1)))
    summary = (f"the teaching panel's emissions are reproduced by the accounting with the NDRC 2011 "
               f"factors for all {len(check)} province-years {_within(worst)}, as they must be, "
               "because the generator computed them this way; "
               "run with dataset='ceads' for the real reconciliation")
    return Reconciliation(dataset, summary,
                          check=check[["region", "year", "emissions_mt", "ce_mt"]])


def _set_label(factor_set: str) -> str:
    """'ndrc2011' -> 'NDRC 2011 guideline (ndrc2011)': words for a legend, code for the parameter."""
    return f"{FACTOR_SET_LABELS.get(factor_set, factor_set)} ({factor_set})"


def plot_reconciliation(rec: Reconciliation | InventoryAccounting, axes=None):
    """Plot a reconciliation.

    Teaching panel: accounted CE against the panel's emissions with the 45° line. CEADs
    (a :class:`Reconciliation` with an inventory, or an :class:`InventoryAccounting`): the
    difference from CEADs per province-year, one histogram per factor set.
    """
    from carbonlab.plotting import PALETTE, new_figure

    if isinstance(rec, Reconciliation) and rec.check is not None:
        check = rec.check
        if axes is None:
            _, axes = new_figure(figsize=(4.5, 4.2))
        ax = axes
        ax.scatter(check["emissions_mt"], check["ce_mt"], s=8, color=PALETTE[0])
        lim = [0, float(check["ce_mt"].max()) * 1.05]
        ax.plot(lim, lim, color="black", lw=0.8)
        ax.set(xlabel="teaching panel emissions (Mt CO2)", ylabel="accounted CE (Mt CO2)",
               title="Teaching panel: reproduced by construction")
        return ax
    inv = rec.inventory if isinstance(rec, Reconciliation) else rec
    if not isinstance(inv, InventoryAccounting):
        raise ParameterError("plot_reconciliation: needs a Reconciliation or InventoryAccounting")
    if axes is None:
        _, axes = new_figure(figsize=(7.5, 3.8))
    ax = axes
    for i, (fs, d) in enumerate(inv.table.groupby("factor_set", sort=True)):
        ax.hist(100 * d["rel_diff"].dropna(), bins=40, alpha=0.6, color=PALETTE[i],
                label=_set_label(fs))
    ax.axvline(0, color="black", lw=0.8)
    ax.set(xlabel="CE1 from the energy inventories - CEADs (%)", ylabel="province-years",
           title="CE1 recomputed from physical data, 2001-2022")
    ax.legend()
    return ax


def plot_check_2007(check: Check2007, factor_sets: Iterable[str] | None = None, axes=None):
    """(a) province totals and (b) national totals by fuel of :func:`check_2007`, as
    accounted / CEADs - 1 in percent, one colour per factor set."""
    from carbonlab.plotting import PALETTE, new_figure, plain_log_axis

    sets = list(factor_sets) if factor_sets is not None else list(check.summary["factor_set"])
    if axes is None:
        _, axes = new_figure(1, 2, figsize=(10.0, 4.2))
    a, b = axes
    for i, fs in enumerate(sets):
        d = check.by_province[check.by_province["factor_set"] == fs]
        a.scatter(d["ceads_mt"], 100 * d["rel_diff"], s=14, color=PALETTE[i], label=_set_label(fs))
    a.axhline(0, color="black", lw=0.8)
    plain_log_axis(a, "x")
    a.set(xlabel="CEADs 2007 CO2, province total (Mt, log scale)",
          ylabel="accounted - CEADs (%)", title="(a) 30 provinces, 2007")
    nat = check.national[check.national["factor_set"].isin(sets)]
    order = (nat[nat["factor_set"] == sets[0]].sort_values("ceads_mt", ascending=False)["fuel"]
             .tolist())
    x = np.arange(len(order))
    w = 0.8 / max(len(sets), 1)
    for i, fs in enumerate(sets):
        d = nat[nat["factor_set"] == fs].set_index("fuel").reindex(order)
        b.bar(x + (i - (len(sets) - 1) / 2) * w, (100 * d["rel_diff"]).clip(-100, 100), width=w,
              color=PALETTE[i], label=_set_label(fs))
    b.axhline(0, color="black", lw=0.8)
    b.set_xticks(x, order, rotation=75, fontsize=8)
    b.set(ylabel="accounted - CEADs (%), clipped at ±100", title="(b) China, by fuel, 2007")
    # one legend for both panels, below them: inside (a) it covered provinces
    a.figure.legend(*a.get_legend_handles_labels(), loc="outside lower center", ncols=len(sets))
    return axes


def plot_other_gas_gap(check: Check2007, factor_set: str = "ndrc2011", top: int = 15, ax=None):
    """Bars of the Other Gas gap of :func:`check_2007` per province (the ``top`` largest by
    absolute gap): volume term, factor term of recovered and of manufactured gas (Mt CO2),
    stacked, with the gap as a dot."""
    from carbonlab.plotting import PALETTE, new_figure

    if check.other_gas is None:
        raise ParameterError("check: no Other Gas decomposition (run check_2007)")
    d = check.other_gas[check.other_gas["factor_set"] == factor_set]
    if d.empty:
        raise ParameterError(f"factor_set: {factor_set!r} was not checked")
    d = d.reindex(d["gap_mt"].abs().sort_values(ascending=False).index).head(top)
    if ax is None:
        _, ax = new_figure(figsize=(9.0, 4.0))
    x = np.arange(len(d))
    parts = [("volume_term_mt", "volume term", PALETTE[7]),
             ("factor_term_recovered_mt", "factor term: recovered gas", PALETTE[1]),
             ("factor_term_manufactured_mt", "factor term: manufactured gas", PALETTE[0])]
    pos, neg = np.zeros(len(d)), np.zeros(len(d))
    for col, label, color in parts:
        v = d[col].to_numpy(dtype=float)
        base = np.where(v >= 0, pos, neg)
        ax.bar(x, v, bottom=base, color=color, width=0.7, label=label)
        pos, neg = pos + np.clip(v, 0, None), neg + np.clip(v, None, 0)
    ax.scatter(x, d["gap_mt"], color="black", s=14, zorder=3, label="gap (accounted - CEADs)")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, d["region"], rotation=75, fontsize=9)
    ax.set(ylabel="Mt CO2", title=f"Other Gas 2007, {factor_set} vs CEADs: volume and factor terms")
    ax.legend()
    return ax


# --------------------------------------------------------------------------- from physical data
INVENTORY_TOL: tuple[float, float] = (0.01, 0.05)
"""Targets of :func:`account_inventory` with the derived ``ceads`` factors: median
|difference| from the CEADs inventory at most 1 %, every province-year at most 5 %."""


@dataclass(frozen=True)
class InventoryAccounting:
    """Result of :func:`account_inventory`.

    ``table``: region, year, factor_set, ce1_mt (accounted from the energy inventories),
    ceads_mt (CEADs' CO2 of its 17 fuels), diff_mt, rel_diff, process_mt (CEADs' process
    CO2, apart); ``by_fuel``: region, year, factor_set, fuel (group, see
    :func:`carbonlab.data.ceads_fuels.fuel_groups`), accounted_mt, ceads_mt; ``summary``:
    per factor set n, median |rel_diff|, the worst province-year and its difference;
    ``worst``: with ``ceads`` factors, every province-year beyond :data:`INVENTORY_TOL`'s
    median target, with the sector and fuel cell that explains most of its gap;
    ``factors``: :func:`carbonlab.data.ceads_fuels.derive_ceads_factors`.
    """

    table: pd.DataFrame
    by_fuel: pd.DataFrame
    summary: pd.DataFrame
    worst: pd.DataFrame
    factors: pd.DataFrame

    def describe(self) -> str:
        """The result in sentences: each factor set's median and worst difference."""
        s = self.summary.set_index("factor_set")
        out = []
        for fs, r in s.iterrows():
            med = 100 * r["median_abs_rel"]
            out.append(f"with the {fs} factors the median |difference| from CEADs over "
                       f"{int(r['n'])} province-years is "
                       f"{'below 0.01' if med < 0.01 else f'{med:.2f}'} %, the "
                       f"largest {100 * r['worst_rel']:+.1f} % ({r['worst_region']} "
                       f"{int(r['worst_year'])})")
        text = "; ".join(out) + "."
        if "ceads" in s.index:
            med, worst = INVENTORY_TOL
            r = s.loc["ceads"]
            ok = r["median_abs_rel"] <= med and abs(r["worst_rel"]) <= worst
            text += (f" The derived CEADs factors {'meet' if ok else 'miss'} the targets "
                     f"(median ≤ {100 * med:.0f} %, worst ≤ {100 * worst:.0f} %).")
            if len(self.worst):
                w = self.worst.iloc[0]
                text += (f" The largest gap, {w['region']} {int(w['year'])}, is mostly "
                         f"{w['fuel'].replace('_', ' ')} in {w['sector']} ({w['cell_gap_mt']:+.2f} "
                         f"of {w['diff_mt']:+.2f} Mt): CEADs booked {w['cell_ceads_mt']:.2f} Mt "
                         f"where the factor gives {w['cell_accounted_mt']:.2f} Mt.")
        return text


def _ceads_cells(activity: pd.DataFrame, emissions: pd.DataFrame, factors: pd.DataFrame
                 ) -> pd.DataFrame:
    """Per region, year, sector, fuel: accounted_mt (derived factor x fuel burnt), ceads_mt."""
    from carbonlab.data.ceads_fuels import _KG_PER_UNIT, _emission_codes

    keys = ["region", "year", "sector", "fuel"]
    f = factors.set_index(["sector", "fuel"])["factor_kg_per_unit"].fillna(0.0)
    a = activity.merge(f.rename("factor").reset_index(), on=["sector", "fuel"], how="left")
    a["accounted_mt"] = (a["quantity"] * a["unit"].map(_KG_PER_UNIT) * a["factor"].fillna(0.0)
                         / 1e9)
    em = _emission_codes(emissions).rename(columns={"emissions_mt": "ceads_mt"})
    m = a[keys + ["accounted_mt"]].merge(em, on=keys, how="outer")
    return m.fillna({"accounted_mt": 0.0, "ceads_mt": 0.0})


def _study_factor_cells(activity: pd.DataFrame, factors: pd.DataFrame,
                        factor_set: str, data_dir) -> pd.DataFrame:
    """Per region, year, study fuel: CO2 of the fuel CEADs counts as burnt, with a study set."""
    from carbonlab.data import cesy2008
    from carbonlab.data.ceads_fuels import burnt_by_fuel, map_to_study_fuels

    origin = cesy2008.other_gas_origin_2007(data_dir)
    share = origin.set_index("region")["manufactured_share"].fillna(
        origin.attrs["national_share"]).to_dict()
    fu = map_to_study_fuels(burnt_by_fuel(activity, factors), manufactured_share=share)
    return account(fu.drop(columns="ceads_fuels"), factors=factor_set, by_fuel=True)


def account_inventory(factor_sets: Iterable[str] = FACTOR_SETS,
                      activity: pd.DataFrame | None = None,
                      emissions: pd.DataFrame | None = None,
                      data_dir=None) -> InventoryAccounting:
    """CE1 of every province-year recomputed from the CEADs energy inventories.

    The fuel burnt (:func:`carbonlab.data.ceads_fuels.combustion_activity`) times each
    factor set's factors, against CEADs' own CO2 of the same release (v2, 2001-2022).
    ``ceads``: the factors CEADs applies, derived per sector and fuel from its energy and
    emission files (:func:`carbonlab.data.ceads_fuels.derive_ceads_factors`);
    ``ndrc2011``/``ipcc2006``: the same fuel burnt, CEADs' 17 fuels mapped onto the
    study's 14 (coal and oil sub-products by energy with the yearbook's calorific values,
    Other Gas split by its 2007 origin), the difference reported by fuel group. Process
    CO2 (cement) stays a separate column.

    ``activity`` and ``emissions`` default to the files of the data mirror.
    """
    from carbonlab.data.ceads_fuels import (
        _activity_and_emissions,
        derive_ceads_factors,
        fuel_groups,
    )

    if activity is None or emissions is None:
        from carbonlab.cache import cached
        from carbonlab.data.ceads_fuels import inventory_files

        sets = tuple(factor_sets)
        return cached("ceads-inventory", [*inventory_files(data_dir), list(sets)],
                      lambda: account_inventory(sets, *_activity_and_emissions(data_dir, True),
                                                data_dir=data_dir))
    factors = derive_ceads_factors(activity, emissions)
    groups = fuel_groups()
    cells = _ceads_cells(activity, emissions, factors)
    ceads_fuel = (cells.assign(fuel=cells["fuel"].map(groups))
                  .groupby(["region", "year", "fuel"], as_index=False)["ceads_mt"].sum())
    parts = []
    for fs in factor_sets:
        if fs == "ceads":
            acc = cells.assign(fuel=cells["fuel"].map(groups)).groupby(
                ["region", "year", "fuel"], as_index=False)["accounted_mt"].sum()
        else:
            d = _study_factor_cells(activity, factors, fs, data_dir)
            acc = (d.assign(fuel=d["fuel"].map(groups)).rename(columns={"emissions_mt": "accounted_mt"})
                   .groupby(["region", "year", "fuel"], as_index=False)["accounted_mt"].sum())
        m = ceads_fuel.merge(acc, on=["region", "year", "fuel"], how="outer").fillna(0.0)
        parts.append(m.assign(factor_set=fs))
    by_fuel = pd.concat(parts, ignore_index=True)[
        ["region", "year", "factor_set", "fuel", "accounted_mt", "ceads_mt"]]
    return _inventory_result(by_fuel, cells, emissions, factors)


def _inventory_result(by_fuel: pd.DataFrame, cells: pd.DataFrame, emissions: pd.DataFrame,
                      factors: pd.DataFrame) -> InventoryAccounting:
    t = (by_fuel.groupby(["region", "year", "factor_set"], as_index=False, sort=False)
         [["accounted_mt", "ceads_mt"]].sum().rename(columns={"accounted_mt": "ce1_mt"}))
    t["diff_mt"] = t["ce1_mt"] - t["ceads_mt"]
    t["rel_diff"] = (t["diff_mt"] / t["ceads_mt"]).where(t["ceads_mt"] > 0)
    proc = emissions[emissions["fuel"].astype(str).str.lower() == "process"]
    proc = proc.groupby(["region", "year"], as_index=False)["emissions_mt"].sum()
    t = t.merge(proc.rename(columns={"emissions_mt": "process_mt"}), on=["region", "year"],
                how="left").fillna({"process_mt": 0.0})
    order = {p: i for i, p in enumerate(PROVINCES)}
    t = (t.assign(_o=t["region"].map(order)).sort_values(["factor_set", "_o", "year"])
         .drop(columns="_o").reset_index(drop=True))
    rows = []
    for fs, d in t.groupby("factor_set", sort=False):
        d = d.dropna(subset=["rel_diff"])
        w = d.loc[d["rel_diff"].abs().idxmax()]
        rows.append((fs, len(d), float(d["rel_diff"].abs().median()), float(w["rel_diff"]),
                     w["region"], int(w["year"])))
    summary = pd.DataFrame(rows, columns=["factor_set", "n", "median_abs_rel", "worst_rel",
                                          "worst_region", "worst_year"])
    worst = t[(t["factor_set"] == "ceads") & (t["rel_diff"].abs() > INVENTORY_TOL[0])]
    worst = worst.reindex(worst["rel_diff"].abs().sort_values(ascending=False).index)
    expl = []
    for r in worst.itertuples():
        c = cells[(cells["region"] == r.region) & (cells["year"] == r.year)]
        gap = c["accounted_mt"] - c["ceads_mt"]
        top = c.loc[gap.abs().idxmax()]
        expl.append((r.region, r.year, r.ce1_mt, r.ceads_mt, r.diff_mt, r.rel_diff, top["sector"],
                     top["fuel"], float(top["accounted_mt"]), float(top["ceads_mt"]),
                     float(gap.loc[top.name])))
    worst = pd.DataFrame(expl, columns=["region", "year", "ce1_mt", "ceads_mt", "diff_mt",
                                        "rel_diff", "sector", "fuel", "cell_accounted_mt",
                                        "cell_ceads_mt", "cell_gap_mt"])
    for df in (t, by_fuel, worst):
        df.attrs["units"] = {c: "Mt CO2" for c in df.columns if c.endswith("_mt")}
    return InventoryAccounting(t, by_fuel, summary, worst, factors)


# --------------------------------------------------------------------------- chapter 1's words
@dataclass(frozen=True)
class WorkedExample:
    """One province-year worked by hand (:func:`worked_example`): ``table`` has one row per
    fuel-use row (fuel, quantity, unit, ncv_tj_per_unit, cef_tco2_per_tj, tco2_per_unit,
    emissions_mt); ``totals`` is the :func:`account` row; ``ecf`` the electricity factor row."""

    region: str
    year: int
    factor_set: str
    table: pd.DataFrame
    totals: pd.Series
    ecf: pd.Series

    def describe(self) -> str:
        t, f = self.totals, self.ecf
        return (f"In {self.region}, {self.year}, fossil fuels give CE1 = {t['ce1_mt']:.1f} Mt CO2 "
                f"with the {self.factor_set} factors. Net imported electricity adds CE2 = "
                f"{t['ce2_mt']:.1f} Mt at {1e3 * f['factor_tco2_per_kwh']:.3f} tCO2/MWh ({f['grid']} "
                f"grid, {f['label']}). The total is CE = {t['ce_mt']:.1f} Mt. Each fuel row is "
                "quantity × NCV × CEF (or quantity × CO2 per unit), the net electricity row NEC × ECF.")


def worked_example(fuel_use: pd.DataFrame, region: str, year: int, factors: str = "ndrc2011",
                   ecf: pd.DataFrame | None = None) -> WorkedExample:
    """Quantity × NCV × CEF for every fuel-use row of one province-year, checked against
    :func:`account` (a fuel reported in two units has two rows whose sum is its by-fuel CO2)."""
    region = resolve_region(region)
    acc = account(fuel_use, factors=factors, ecf=ecf)
    rows = acc[(acc["region"] == region) & (acc["year"] == int(year))]
    if rows.empty:
        raise ParameterError(f"region/year: no fuel use for {region} {year}")
    one = _check_fuel_use(fuel_use)
    one = one[(one["region"] == region) & (one["year"] == int(year))].reset_index(drop=True)
    fossil = one[one["fuel"] != ELECTRICITY]
    ef = emission_factors(factors)
    t = _fossil_tco2(fossil, ef, factors)
    group = SET_FUEL_GROUPS.get(factors, {})
    f = ef.loc[[x if x in ef.index else group.get(x, x) for x in fossil["fuel"]]]
    scale = fossil["unit"].map(lambda u: UNITS[u][1]).to_numpy()
    phys = fossil["unit"].map(lambda u: UNITS[u][0] in ("mass", "volume")).to_numpy()
    table = pd.DataFrame({
        "fuel": fossil["fuel"].str.replace("_", " ").to_numpy(),
        "quantity": fossil["quantity"].to_numpy(), "unit": fossil["unit"].to_numpy(),
        "ncv_tj_per_unit": np.where(phys, f["tj_per_base"].to_numpy() * scale, np.nan),
        "cef_tco2_per_tj": f["cef_tco2_per_tj"].to_numpy(),
        "tco2_per_unit": np.where(phys, f["tco2_per_base"].to_numpy() * scale, np.nan),
        "emissions_mt": t / 1e6})
    totals = rows.iloc[0]
    if not np.isclose(table["emissions_mt"].sum(), totals["ce1_mt"]):
        raise DataError(f"worked example {region} {year}: rows do not add up to CE1")
    fac = (ecf if ecf is not None else electricity_factors([region], [year]))
    fac = fac[(fac["region"] == region) & (fac["year"] == int(year))].iloc[0]
    el = one[one["fuel"] == ELECTRICITY]
    if len(el):
        kwh = float((el["quantity"] * el["unit"].map(lambda u: UNITS[u][1])).sum())
        table.loc[len(table)] = ["net electricity", kwh / 1e8, "10^8 kWh", np.nan, np.nan,
                                 np.nan, totals["ce2_mt"]]
    return WorkedExample(region, int(year), factors, table, totals, fac)


def describe_factor_sets(sets: dict[str, pd.DataFrame]) -> str:
    """How far the factor sets lie apart per physical unit (kg CO2 per kg or m3)."""
    per = pd.DataFrame({s: 1e3 * e["tco2_per_base"] for s, e in sets.items()})
    common = per.dropna()
    spread = (common.max(axis=1) / common.min(axis=1)).sort_values(ascending=False)
    close = int((spread <= 1.05).sum())
    top = spread.index[0]
    text = (f"Per physical unit, the sets agree within 5 % for {close} of the {len(spread)} fuels "
            f"they all have; the largest spread is {top.replace('_', ' ')}, whose highest factor "
            f"({per.loc[top].idxmax()}, {per.loc[top].max():.3f}) is {spread.iloc[0]:.2f} times its "
            f"lowest ({per.loc[top].idxmin()}, {per.loc[top].min():.3f} kg CO2 per unit).")
    if {"ipcc2006", "ndrc2011"} <= set(per.columns):
        r = per.loc["raw_coal", "ipcc2006"] / per.loc["raw_coal", "ndrc2011"]
        text += (f" A tonne of raw coal emits {r:.2f} times as much under ipcc2006 as under "
                 "ndrc2011: the IPCC default NCV is that of bituminous coal.")
    return text


def describe_contrast(contrast: pd.DataFrame, factors_label: str = "") -> str:
    """The largest importer and exporter of :func:`electricity_contrast`, and Beijing and Shanxi."""
    imp, exp = contrast.iloc[0], contrast.iloc[-1]
    c = contrast.set_index("region")
    year = int(contrast["year"].iloc[0])

    def moved(r) -> str:
        return (f"{'adds' if r['ce2_mt'] > 0 else 'removes'} {abs(r['ce2_mt']):.1f} Mt "
                f"{'to' if r['ce2_mt'] > 0 else 'from'} its {r['ce1_mt']:.1f} Mt of fossil CO2 "
                f"({100 * r['change']:+.0f} %)")

    text = (f"In {year}{' with ' + factors_label if factors_label else ''}, the largest net importer "
            f"is {imp['region']}: counting its electricity {moved(imp)}. The largest exporter is "
            f"{exp['region']}: counting its electricity {moved(exp)}.")
    if {"Beijing", "Shanxi"} <= set(c.index):
        text += (f" Beijing's emissions move {100 * c.loc['Beijing', 'change']:+.0f} %, "
                 f"Shanxi's {100 * c.loc['Shanxi', 'change']:+.0f} %.")
    return text
