"""Factor tables: schema, provenance, and the published-CEF identity CEF = CC * COF * 44/12."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest

from carbonlab._util import DataError, ParameterError
from carbonlab.data.factors import (
    DERIVED_SETS,
    FACTOR_SETS,
    GRIDS,
    factors_dir,
    load_fuel_factors,
    load_grid_factors,
)
from carbonlab.regions import PROVINCES, grid_region
from carbonlab.units import C_TO_CO2

TRANSCRIBED = [s for s in FACTOR_SETS if s not in DERIVED_SETS]

STUDY_FUELS = {
    "raw_coal", "coke", "coke_oven_gas", "blast_furnace_gas", "converter_gas", "other_gas",
    "crude_oil", "gasoline", "kerosene", "diesel", "fuel_oil", "lpg", "natural_gas", "lng",
}


@pytest.mark.parametrize("factor_set", ["ndrc2011", "ipcc2006"])
def test_study_sets_cover_the_14_fuels(factor_set):
    tab = load_fuel_factors(factor_set)
    assert set(tab["fuel"]) == STUDY_FUELS
    assert len(tab) == 14


def test_ceads_set_is_derived_not_transcribed():
    """The ceads factors come from CEADs' files at run time (tests/test_accounting_inventory.py);
    the CSV holds no rows for them."""
    assert DERIVED_SETS == ("ceads",)
    raw = pd.read_csv(factors_dir() / "fuel_factors.csv")
    assert "ceads" not in set(raw["factor_set"])
    with pytest.raises(ParameterError, match="derived from CEADs"):
        load_fuel_factors("ceads")


@pytest.mark.parametrize("factor_set", TRANSCRIBED)
def test_every_row_has_source_and_sane_values(factor_set):
    tab = load_fuel_factors(factor_set)
    assert (tab["source"].str.len() > 20).all()
    assert tab["ncv_unit"].isin(["kJ/kg", "kJ/m3"]).all()
    assert ((tab["oxidation"] > 0.8) & (tab["oxidation"] <= 1.0)).all()
    # carbon contents lie between hydrogen-rich coal gases (~12) and blast-furnace gas (~71)
    assert tab["carbon_content_tc_per_tj"].between(11, 72).all()
    # NCVs: solids/liquids 3-60 MJ/kg, gases 3-40 MJ/m3
    assert tab["ncv"].between(3000, 60000).all()


def _half_unit(x: float) -> float:
    """Half a unit in the last printed digit of a 3-significant-figure CEF."""
    return 0.5 * 10 ** (math.floor(math.log10(abs(x))) - 2)


@pytest.mark.parametrize("factor_set", TRANSCRIBED)
def test_published_cef_equals_cc_cof_44_12_within_rounding(factor_set):
    tab = load_fuel_factors(factor_set)
    pub = tab.dropna(subset=["cef_tco2_per_tj"])
    if factor_set == "ipcc2006":
        assert len(pub) == 14  # IPCC prints a CEF for every fuel (Table 1.4)
    for _, r in pub.iterrows():
        calc = r["carbon_content_tc_per_tj"] * r["oxidation"] * C_TO_CO2
        # CC is printed to 0.1 tC/TJ, CEF to 3 significant figures
        tol = 0.05 * r["oxidation"] * C_TO_CO2 + _half_unit(r["cef_tco2_per_tj"])
        assert abs(calc - r["cef_tco2_per_tj"]) <= tol, (r["fuel"], calc, r["cef_tco2_per_tj"])


def test_unknown_factor_set_lists_known():
    with pytest.raises(ParameterError, match="ndrc2011.*ipcc2006.*ceads"):
        load_fuel_factors("ipcc1996")


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_missing_value_names_file_row_column(tmp_path):
    src = (factors_dir() / "fuel_factors.csv").read_text(encoding="utf-8").splitlines()
    header, first = src[0], src[1]
    cells = first.split(",")
    cells[2] = ""  # ncv
    p = _write(tmp_path, "f.csv", "\n".join([header, ",".join(cells)]) + "\n")
    with pytest.raises(DataError, match=r"f\.csv: row 2, column ncv"):
        load_fuel_factors("ndrc2011", path=p)


def test_bad_oxidation_and_unit_rejected(tmp_path):
    head = ("factor_set,fuel,ncv,ncv_unit,carbon_content_tc_per_tj,oxidation,"
            "cef_tco2_per_tj,source\n")
    p = _write(tmp_path, "a.csv", head + "ndrc2011,coke,28435,kJ/kg,29.5,1.3,,x\n")
    with pytest.raises(DataError, match="column oxidation"):
        load_fuel_factors("ndrc2011", path=p)
    p = _write(tmp_path, "b.csv", head + "ndrc2011,coke,28435,kcal/kg,29.5,0.9,,x\n")
    with pytest.raises(DataError, match="column ncv_unit: unknown unit 'kcal/kg'"):
        load_fuel_factors("ndrc2011", path=p)
    p = _write(tmp_path, "c.csv", head + "ndrc2011,coke,28435,kJ/kg,29.5,0.9,,\n")
    with pytest.raises(DataError, match="column source: missing"):
        load_fuel_factors("ndrc2011", path=p)


def test_grid_factors_schema_and_coverage():
    g = load_grid_factors()
    assert set(g["kind"]) == {"OM", "average"}
    assert set(g.loc[g["kind"] == "OM", "grid"]) == set(GRIDS)
    assert set(g["grid"]) <= set(GRIDS) | set(PROVINCES)
    assert (g["source"].str.len() > 20).all()
    # OM factors are fossil-only margins; average factors include hydro, wind, nuclear
    assert g.loc[g["kind"] == "OM", "factor_tco2_per_mwh"].between(0.3, 1.5).all()
    assert g.loc[g["kind"] == "average", "factor_tco2_per_mwh"].between(0.05, 1.0).all()
    # every province's grid has a published factor of each kind
    for kind in ("OM", "average"):
        assert {grid_region(p) for p in PROVINCES} <= set(g.loc[g["kind"] == kind, "grid"])
    # the 2016 notice prints a generation-weighted three-year OM beside the yearly values;
    # a weighted mean lies within the yearly range and close to the plain mean
    yearly = g[(g["kind"] == "OM") & g["year"].between(2012, 2014)].groupby("grid")
    lo, hi = yearly["factor_tco2_per_mwh"].min(), yearly["factor_tco2_per_mwh"].max()
    printed = pd.Series({"North": 1.0000, "Northeast": 1.1171, "East": 0.8086,
                         "Central": 0.9229, "Northwest": 0.9316, "China Southern": 0.8676})
    assert (yearly.size() == 3).all()
    assert ((printed >= lo[printed.index]) & (printed <= hi[printed.index])).all()
    np.testing.assert_allclose(yearly["factor_tco2_per_mwh"].mean()[printed.index], printed,
                               atol=0.005)


def test_grid_factor_bad_grid(tmp_path):
    p = _write(tmp_path, "g.csv", "grid,year,factor_tco2_per_mwh,kind,source\n"
               "Southwest,2014,0.5,OM,x\n")
    with pytest.raises(DataError, match="row 2, column grid: unknown grid 'Southwest'"):
        load_grid_factors(p)
    p = _write(tmp_path, "h.csv", "grid,year,factor_tco2_per_mwh,kind,source\n"
               "North,2014,,OM,x\n")
    with pytest.raises(DataError, match="row 2, column factor_tco2_per_mwh"):
        load_grid_factors(p)


def test_printed_per_unit_coefficients_equal_ncv_cc_cof_44_12():
    """Where a source prints kg CO2 per kg (or per m3), NCV·CC·COF·44/12 reproduces it."""
    tab = load_fuel_factors("ndrc2011")
    printed = tab.dropna(subset=["co2_per_unit_printed_kg"])
    assert len(printed) >= 9
    for _, r in printed.iterrows():
        # kJ per kg (or m3) -> TJ per t (or per 1000 m3): 1e-6; tC/TJ * 44/12 -> t CO2 per t
        calc = r["ncv"] * 1e-6 * r["carbon_content_tc_per_tj"] * r["oxidation"] * C_TO_CO2
        # printed to 4 decimals
        assert abs(calc - r["co2_per_unit_printed_kg"]) <= 0.5e-4 + 1e-9, (r["fuel"], calc)


def test_printed_coefficient_column_is_optional(tmp_path):
    src = (factors_dir() / "fuel_factors.csv").read_text(encoding="utf-8").splitlines()
    rows = list(csv.reader(src))
    col = rows[0].index("co2_per_unit_printed_kg")
    out = tmp_path / "f.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([r[:col] + r[col + 1:] for r in rows])
    tab = load_fuel_factors("ndrc2011", path=out)
    assert tab["co2_per_unit_printed_kg"].isna().all()


def test_average_factors_2022_order_as_reported():
    """The 2022 report: North highest among the regions; its five highest provinces all
    above and its five lowest all below every regional average but the Southwest's."""
    g = load_grid_factors()
    avg = g[(g["kind"] == "average") & (g["year"] == 2022)].set_index("grid")["factor_tco2_per_mwh"]
    regional = avg[avg.index.isin(GRIDS)]
    assert regional.idxmax() == "North"
    top = avg[["Hebei", "Shanxi", "Tianjin", "Inner Mongolia", "Anhui"]]
    low = avg[["Fujian", "Guangxi", "Qinghai", "Sichuan", "Yunnan"]]
    assert top.is_monotonic_decreasing and low.is_monotonic_decreasing
    assert top.min() > low.max()
    # the national average (0.5366 in the report) lies between the regional extremes
    assert regional.min() < 0.5366 < regional.max()


# --------------------------------------------------------------------------- gases per m3
def test_gas_limit_molecule_basis():
    from carbonlab.data.factors import GAS_CARBON_BASIS, gas_limit_kg_per_m3

    # pure CO (or CH4): one C atom per molecule, 44/22.4 kg CO2 per m3 at 0 °C
    assert gas_limit_kg_per_m3("blast_furnace_gas") == pytest.approx(44.0095 / 22.414)
    assert gas_limit_kg_per_m3("other_gas") == pytest.approx(1.963, abs=1e-3)
    assert all(len(basis) > 10 for basis, _ in GAS_CARBON_BASIS.values())
    with pytest.raises(ParameterError, match="no molecule basis for 'diesel'"):
        gas_limit_kg_per_m3("diesel")


@pytest.mark.parametrize("factor_set", TRANSCRIBED)
def test_no_gas_factor_above_its_physical_limit(factor_set):
    from carbonlab.accounting import emission_factors
    from carbonlab.data.factors import GAS_CARBON_BASIS, gas_limit_kg_per_m3

    ef = emission_factors(factor_set)  # refuses a gas above its limit itself
    for fuel in ef.index.intersection(list(GAS_CARBON_BASIS)):
        assert 1e3 * ef.loc[fuel, "tco2_per_base"] <= gas_limit_kg_per_m3(fuel), fuel


def test_a_physically_impossible_gas_factor_is_refused():
    """2.19 kg CO2/m3 for blast-furnace gas (the figure chapter 1 once printed) is refused."""
    from carbonlab.accounting import emission_factors

    tab = load_fuel_factors("ndrc2011")
    i = tab.index[tab["fuel"] == "blast_furnace_gas"][0]
    # 2.19 kg/m3 = NCV x CC x COF x 44/12: the yearbook's other-gas NCV with IPCC's BFG carbon
    tab.loc[i, "ncv"] = 2.19e9 / (tab.loc[i, "carbon_content_tc_per_tj"]
                                  * tab.loc[i, "oxidation"] * C_TO_CO2 * 1e3)
    with pytest.raises(DataError, match="blast_furnace_gas: 2.190 kg CO2/m3 is above the physical "
                                        "limit 1.96 kg CO2/m3"):
        emission_factors(tab)
