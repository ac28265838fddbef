"""CE1/CE2/CE accounting: identities, unit handling, electricity-factor rules, bad input."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab._util import DataError, ParameterError, repo_root
from carbonlab.accounting import (
    STUDY_FUELS,
    account,
    electricity_factors,
    emission_factors,
    plot_reconciliation,
    reconcile,
)
from carbonlab.data.factors import load_fuel_factors, load_grid_factors
from carbonlab.units import GJ_PER_TCE, UNITS


def _physical_unit(base: str) -> str:
    return "10^4 t" if base == "kg" else "10^8 m3"


def synthetic_fuel_use(seed: int = 0, regions=("Beijing", "Shanxi", "Guangdong"),
                       years=range(2010, 2016), electricity: bool = True) -> pd.DataFrame:
    """A small random fuel-use table in physical units (all 14 fuels) plus net electricity."""
    rng = np.random.default_rng(seed)
    ef = emission_factors("ndrc2011")
    rows = []
    for r in regions:
        for y in years:
            for f in STUDY_FUELS:
                rows.append((r, y, f, float(rng.uniform(0, 500)), _physical_unit(ef.loc[f, "base_unit"])))
            if electricity:
                rows.append((r, y, "net_electricity", float(rng.uniform(-800, 800)), "10^8 kWh"))
    return pd.DataFrame(rows, columns=["region", "year", "fuel", "quantity", "unit"])


@pytest.mark.parametrize("factor_set", ["ndrc2011", "ipcc2006"])
def test_emission_factors_shape_and_formula(factor_set):
    ef = emission_factors(factor_set)
    tab = load_fuel_factors(factor_set).set_index("fuel")
    assert list(ef.columns) == ["base_unit", "tj_per_base", "cef_tco2_per_tj", "tco2_per_base"]
    np.testing.assert_allclose(
        ef["cef_tco2_per_tj"],
        tab.loc[ef.index, "carbon_content_tc_per_tj"] * tab.loc[ef.index, "oxidation"] * 44 / 12)
    np.testing.assert_allclose(ef["tj_per_base"], tab.loc[ef.index, "ncv"] / 1e9)
    np.testing.assert_allclose(ef["tco2_per_base"], ef["tj_per_base"] * ef["cef_tco2_per_tj"])
    assert set(ef["base_unit"]) <= {"kg", "m3"}


def test_raw_coal_factor_by_hand():
    # 1 t raw coal: 20908 kJ/kg * 1000 kg = 20.908 GJ; * 26.37 tC/TJ * 0.94 * 44/12
    ef = emission_factors("ndrc2011")
    expected = 20.908e-3 * 26.37 * 0.94 * 44 / 12  # t CO2 per t
    assert ef.loc["raw_coal", "tco2_per_base"] * 1e3 == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("factor_set", ["ndrc2011", "ipcc2006"])
def test_identity_ce_equals_ce1_plus_ce2_and_detail_sums(factor_set):
    fu = synthetic_fuel_use(seed=1)
    out = account(fu, factors=factor_set)
    assert list(out.columns) == ["region", "year", "ce1_mt", "ce2_mt", "ce_mt"]
    assert len(out) == 3 * 6
    np.testing.assert_allclose(out["ce_mt"], out["ce1_mt"] + out["ce2_mt"], rtol=0, atol=1e-12)
    det = account(fu, factors=factor_set, by_fuel=True)
    assert list(det.columns) == ["region", "year", "fuel", "emissions_mt"]
    sums = det[det["fuel"] != "net_electricity"].groupby(["region", "year"])["emissions_mt"].sum()
    np.testing.assert_allclose(out.set_index(["region", "year"])["ce1_mt"], sums[out.set_index(["region", "year"]).index])
    el = det[det["fuel"] == "net_electricity"].set_index(["region", "year"])["emissions_mt"]
    np.testing.assert_allclose(out.set_index(["region", "year"])["ce2_mt"], el[out.set_index(["region", "year"]).index])


def test_ce1_matches_hand_computation_for_one_row():
    fu = pd.DataFrame({"region": ["Hebei"], "year": [2015], "fuel": ["natural_gas"],
                       "quantity": [10.0], "unit": ["10^8 m3"]})
    out = account(fu)
    # 1e9 m3 * 38931 kJ/m3 = 38931 TJ; * 15.3 * 0.99 * 44/12 t/TJ
    assert out["ce1_mt"].iloc[0] == pytest.approx(38931 * 15.3 * 0.99 * 44 / 12 / 1e6, rel=1e-12)
    assert out["ce2_mt"].iloc[0] == 0.0 and out.attrs["electricity"] is False


def test_energy_units_equal_physical_units():
    """10^4 tce of a fuel = its physical amount with the same energy content."""
    ef = emission_factors("ndrc2011")
    tce = 250.0  # 10^4 tce of coke
    tj = tce * UNITS["10^4 tce"][1]
    assert tj == pytest.approx(tce * 1e4 * GJ_PER_TCE / 1e3)
    tonnes_1e4 = tj / ef.loc["coke", "tj_per_base"] / 1e7
    a = account(pd.DataFrame({"region": ["Tianjin"], "year": [2012], "fuel": ["coke"],
                              "quantity": [tce], "unit": ["10^4 tce"]}))
    b = account(pd.DataFrame({"region": ["Tianjin"], "year": [2012], "fuel": ["coke"],
                              "quantity": [tonnes_1e4], "unit": ["10^4 t"]}))
    assert a["ce1_mt"].iloc[0] == pytest.approx(b["ce1_mt"].iloc[0], rel=1e-12)
    # and the unit scale matters: 10^4 t vs t differ by exactly 1e4
    c = account(pd.DataFrame({"region": ["Tianjin"], "year": [2012], "fuel": ["coke"],
                              "quantity": [tonnes_1e4 * 1e4], "unit": ["t"]}))
    assert c["ce1_mt"].iloc[0] == pytest.approx(b["ce1_mt"].iloc[0], rel=1e-12)


def test_ce2_uses_grid_factor_and_sign():
    fu = pd.DataFrame({"region": ["Beijing", "Shanxi", "Beijing", "Shanxi"], "year": [2013] * 4,
                       "fuel": ["raw_coal", "raw_coal", "net_electricity", "net_electricity"],
                       "quantity": [100.0, 100.0, 500.0, -500.0],
                       "unit": ["10^4 t", "10^4 t", "10^8 kWh", "10^8 kWh"]})
    out = account(fu).set_index("region")
    g = load_grid_factors().set_index(["grid", "year"])
    north = g.loc[("North", 2013), "factor_tco2_per_mwh"]
    assert out.loc["Beijing", "ce2_mt"] == pytest.approx(500e8 * north / 1e3 / 1e6)
    assert out.loc["Shanxi", "ce2_mt"] == pytest.approx(-out.loc["Beijing", "ce2_mt"])
    assert out.loc["Beijing", "ce_mt"] > out.loc["Beijing", "ce1_mt"]  # importer
    assert out.loc["Shanxi", "ce_mt"] < out.loc["Shanxi", "ce1_mt"]  # exporter


def test_electricity_table_replaces_rows():
    fu = synthetic_fuel_use(seed=2, regions=("Jiangsu",), years=[2014])
    el = pd.DataFrame({"region": ["江苏"], "year": [2014], "net_import_gwh": [1000.0]})
    out = account(fu, electricity=el)
    g = load_grid_factors().set_index(["grid", "year"])
    assert out["ce2_mt"].iloc[0] == pytest.approx(1000e6 * g.loc[("East", 2014), "factor_tco2_per_mwh"] / 1e3 / 1e6)


def test_factor_sets_differ_and_are_deterministic():
    fu = synthetic_fuel_use(seed=3)
    a = account(fu, "ndrc2011")
    b = account(fu, "ipcc2006")
    assert not np.allclose(a["ce1_mt"], b["ce1_mt"])
    pd.testing.assert_frame_equal(a, account(fu.sample(frac=1, random_state=0), "ndrc2011"))


def test_region_spellings_are_canonicalised():
    fu = pd.DataFrame({"region": ["内蒙古", "Nei Mongol"], "year": [2011, 2011],
                       "fuel": ["diesel", "diesel"], "quantity": [1.0, 2.0],
                       "unit": ["10^4 t", "10^4 t"]})
    out = account(fu)
    assert out["region"].tolist() == ["Inner Mongolia"]
    assert out["ce1_mt"].iloc[0] == pytest.approx(3e7 * 42652e-9 * 20.2 * 0.98 * 44 / 12 / 1e6)


# ----------------------------------------------------------------- electricity factors
def test_electricity_factor_labels_and_rule():
    f = electricity_factors(["Beijing", "Yunnan"], [2005, 2012, 2014, 2020])
    assert set(f.columns) == {"region", "year", "grid", "factor_tco2_per_kwh", "factor_year", "label",
                              "scope"}
    assert (f["scope"] == "grid").all()
    b = f[f["region"] == "Beijing"].set_index("year")
    assert b.loc[2012, "label"] == "published" and b.loc[2012, "factor_year"] == 2012
    assert b.loc[2005, "label"] == "carried from 2012"
    assert b.loc[2020, "label"] == "carried from 2014"
    assert b.loc[2020, "factor_tco2_per_kwh"] == b.loc[2014, "factor_tco2_per_kwh"]
    assert (f[f["region"] == "Yunnan"]["grid"] == "China Southern").all()
    with pytest.raises(DataError, match="no published OM factor for grid 'North'.*2005"):
        electricity_factors(["Beijing"], [2005], rule="published")


def test_average_kind_prefers_provincial_factors():
    f = electricity_factors(["Hebei", "Beijing", "Sichuan", "Chongqing", "Hubei"], [2017, 2022],
                            kind="average").set_index(["region", "year"])
    # provincial where the table has one, else the grid's regional average
    assert f.loc[("Hebei", 2022), "factor_tco2_per_kwh"] == pytest.approx(0.7252e-3)
    assert f.loc[("Hebei", 2022), "scope"] == "province"
    assert f.loc[("Beijing", 2022), "factor_tco2_per_kwh"] == pytest.approx(0.6776e-3)
    assert f.loc[("Beijing", 2022), "scope"] == "grid"
    # Sichuan and Chongqing sit in the Central OM grid but have their own average rows
    assert f.loc[("Sichuan", 2022), "factor_tco2_per_kwh"] < f.loc[("Hubei", 2022), "factor_tco2_per_kwh"]
    assert f.loc[("Chongqing", 2022), "factor_tco2_per_kwh"] == pytest.approx(0.2268e-3)
    assert (f.xs(2017, level="year")["label"] == "carried from 2022").all()
    assert (f.xs(2022, level="year")["label"] == "published").all()
    with pytest.raises(ParameterError, match="unknown grid-factor kind 'AM'.*average"):
        electricity_factors(["Hebei"], [2022], kind="AM")


def test_derived_rule_uses_derived_rows():
    der = pd.DataFrame({"grid": ["North"], "year": [2005], "factor_tco2_per_mwh": [0.9]})
    f = electricity_factors(["Hebei"], [2005, 2006, 2013], rule="derived", derived=der).set_index("year")
    assert f.loc[2005, "label"] == "derived" and f.loc[2005, "factor_tco2_per_kwh"] == pytest.approx(9e-4)
    assert f.loc[2006, "label"] == "carried from 2012"
    assert f.loc[2013, "label"] == "published"
    with pytest.raises(ParameterError, match="derived"):
        electricity_factors(["Hebei"], [2005], rule="derived")
    with pytest.raises(ParameterError, match="unknown rule"):
        electricity_factors(["Hebei"], [2005], rule="latest")


# ----------------------------------------------------------------- bad input
def _one(**kw):
    row = {"region": "Beijing", "year": 2015, "fuel": "coke", "quantity": 1.0, "unit": "10^4 t"}
    row.update(kw)
    return pd.DataFrame([row])


def test_unknown_fuel():
    with pytest.raises(DataError, match="row 0, column fuel: unknown fuel 'peat'"):
        account(_one(fuel="peat"))


def test_unknown_unit():
    with pytest.raises(DataError, match="row 0, column unit: unknown unit 'barrel'"):
        account(_one(unit="barrel"))


def test_wrong_kind_of_unit():
    with pytest.raises(DataError, match="'10\\^8 m3' is a volume unit but coke's NCV is per kg"):
        account(_one(unit="10^8 m3"))
    with pytest.raises(DataError, match="not an electricity unit"):
        account(_one(fuel="net_electricity", unit="10^4 t"))


def test_negative_fossil_quantity():
    with pytest.raises(DataError, match="negative quantity -3.0 of coke \\(Beijing, 2015\\)"):
        account(_one(quantity=-3.0))


def test_missing_quantity():
    with pytest.raises(DataError, match="row 0, column quantity: missing"):
        account(_one(quantity=np.nan))


def test_missing_factor_for_fuel():
    from carbonlab.data.factors import load_fuel_factors

    ef = load_fuel_factors()  # the ndrc2011 table without coke
    ef = ef[ef["fuel"] != "coke"]
    with pytest.raises(DataError, match="factor set 'custom' has no factor for fuel 'coke'"):
        account(_one(), factors=ef)


@pytest.mark.skipif(not (Path(os.environ.get("CARBONLAB_DATA_DIR", "/nonexistent")) / "MANIFEST.csv")
                    .is_file(), reason="the ceads factors are derived from the real files")
def test_ceads_counts_blast_furnace_and_converter_gas_as_other_gas():
    """CEADs' Other Gas is BFG + converter gas: under its factors both take that factor per m3."""
    og = account(_one(fuel="other_gas", unit="10^8 m3"), factors="ceads")["ce1_mt"].iloc[0]
    for fuel in ("blast_furnace_gas", "converter_gas"):
        got = account(_one(fuel=fuel, unit="10^8 m3"), factors="ceads")["ce1_mt"].iloc[0]
        assert got == pytest.approx(og, rel=1e-12) and got > 0
    # the other sets keep their own blast-furnace gas factor
    assert account(_one(fuel="blast_furnace_gas", unit="10^8 m3"))["ce1_mt"].iloc[0] != \
        pytest.approx(og, rel=1e-3)


def test_region_without_grid_mapping():
    with pytest.raises(DataError, match="row 0, column region: .*Tibet"):
        account(_one(region="西藏"))
    with pytest.raises(DataError, match="row 0, column region: unknown region 'Atlantis'"):
        account(_one(region="Atlantis"))


def test_unknown_factor_set_and_missing_columns():
    with pytest.raises(ParameterError, match="unknown factor set 'epa'"):
        account(_one(), factors="epa")
    with pytest.raises(DataError, match="missing column\\(s\\) unit"):
        account(_one().drop(columns="unit"))


def test_missing_electricity_for_some_region_year():
    fu = pd.concat([_one(), _one(year=2016), _one(fuel="net_electricity", quantity=5.0, unit="10^8 kWh")])
    with pytest.raises(DataError, match="no net electricity import for Beijing 2016"):
        account(fu)


# ----------------------------------------------------------------- CEADs back-out and reconciliation
from carbonlab.accounting import (  # noqa: E402
    compare_factor_sets,
    derive_grid_factors,
    electricity_contrast,
)
from carbonlab.data.ceads_fuels import CEADS_NAMES, MAPPING, backout_activity, map_to_study_fuels  # noqa: E402


def test_mapping_conserves_energy_and_covers_all_ceads_fuels():
    rng = np.random.default_rng(3)
    units = {c: ("10^8 m3" if c in ("coke_oven_gas", "other_gas", "natural_gas") else "10^4 t")
             for c in CEADS_NAMES.values()}
    act = pd.DataFrame([(r, 2010, c, float(rng.uniform(1, 50)), u, float(rng.uniform(1, 900)))
                        for r in ("Beijing", "Shanxi") for c, u in units.items()],
                       columns=["region", "year", "fuel", "quantity", "unit", "energy_tj"])
    assert set(MAPPING) == set(CEADS_NAMES.values())
    m = map_to_study_fuels(act)
    assert set(m["fuel"]) <= set(STUDY_FUELS)
    assert not {"other_gas", "lng"} & set(m["fuel"])
    assert {"blast_furnace_gas", "converter_gas"} <= set(m["fuel"])
    # energy-mapped fuels keep their energy; physical ones their quantity
    energy = [c for c, (_, how) in MAPPING.items() if how == "energy"]
    tce = m.loc[m["unit"] == "10^4 tce", "quantity"].sum() * UNITS["10^4 tce"][1]
    np.testing.assert_allclose(tce, act.loc[act["fuel"].isin(energy), "energy_tj"].sum(), rtol=1e-12)
    gas = m[m["fuel"].isin(["blast_furnace_gas", "converter_gas"])]["quantity"].sum()
    np.testing.assert_allclose(gas, act.loc[act["fuel"] == "other_gas", "quantity"].sum())
    # the mapped table accounts with the study's factor sets
    ref = act.groupby(["region", "year"], as_index=False).size().assign(ceads_mt=100.0)
    cmp = compare_factor_sets(m, ref)
    assert set(cmp["factor_set"]) == {"ndrc2011", "ipcc2006"} and len(cmp) == 4
    assert cmp["rel_diff"].notna().all()


def test_backout_rejects_unknown_fuel():
    fe = pd.DataFrame({"region": ["Beijing"], "year": [2010], "fuel": ["Peat"], "emissions_mt": [1.0]})
    with pytest.raises(DataError, match="unknown CEADs fuel 'Peat'"):
        backout_activity(fe)


def test_derive_grid_factors_and_contrast():
    pe = pd.DataFrame({"region": ["Beijing", "Hebei", "Guangdong"], "year": [2010] * 3,
                       "emissions_mt": [10.0, 90.0, 50.0]})
    gen = pd.DataFrame({"region": ["Beijing", "Hebei", "Guangdong"], "year": [2010] * 3,
                        "total_gwh": [20000.0, 80000.0, np.nan]})
    d = derive_grid_factors(pe, gen)
    assert d["grid"].tolist() == ["North"]  # Guangdong's grid dropped: generation missing
    assert d["factor_tco2_per_mwh"].iloc[0] == pytest.approx(100e6 / 100000e3)
    acc = pd.DataFrame({"region": ["Beijing", "Shanxi"], "year": [2010, 2010],
                        "ce1_mt": [80.0, 600.0], "ce2_mt": [40.0, -70.0]})
    acc["ce_mt"] = acc["ce1_mt"] + acc["ce2_mt"]
    c = electricity_contrast(acc, 2010).set_index("region")
    assert c.loc["Beijing", "role"] == "importer" and c.loc["Shanxi", "role"] == "exporter"
    assert c.loc["Beijing", "change"] == pytest.approx(0.5)
    with pytest.raises(ParameterError, match="2030 not in"):
        electricity_contrast(acc, 2030)


def test_teaching_panel_reproduced_exactly():
    from carbonlab.data import load_fuel_use, load_panel

    try:
        fu = load_fuel_use("teaching")
        panel = load_panel("teaching")
    except DataError as exc:  # the lead's panel not generated yet
        pytest.skip(str(exc))
    a = account(fu, factors="ndrc2011").merge(panel[["region", "year", "emissions_mt"]],
                                             on=["region", "year"])
    assert len(a) == len(panel) == 510
    np.testing.assert_allclose(a["ce_mt"], a["emissions_mt"], rtol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"region": "Shanxi", "year": 2015},
                                    {"region": "广东", "year": 2021, "factors": "ipcc2006"}])
def test_chapter_notebook_runs(tmp_path, params):
    from nbrun import run_notebook

    out = run_notebook("01_accounting.ipynb", tmp_path, dataset="teaching", **params)
    assert out.exists()


def test_reconcile_teaching_is_exact_and_plots():
    rec = reconcile("teaching")
    assert rec.dataset == "teaching" and rec.inventory is None
    assert len(rec.check) == 510
    np.testing.assert_array_equal(rec.check["ce_mt"], rec.check["emissions_mt"])
    assert "510 province-years exactly" in rec.summary and "e+0" not in rec.summary
    assert "`" not in rec.summary
    ax = plot_reconciliation(rec)
    assert len(ax.collections[0].get_offsets()) == 510
    with pytest.raises(ParameterError, match="plot_reconciliation"):
        plot_reconciliation(pd.DataFrame())  # type: ignore[arg-type]


@pytest.mark.skipif(not __import__("os").environ.get("CARBONLAB_DATA_DIR"), reason="needs real data")
def test_reconcile_ceads_is_the_inventory_accounting():
    rec = reconcile("ceads")
    assert rec.check is None and rec.inventory is not None
    assert set(rec.inventory.table["factor_set"]) == {"ndrc2011", "ipcc2006", "ceads"}
    s = rec.inventory.summary.set_index("factor_set")
    for fs, r in s.iterrows():
        med = 100 * r["median_abs_rel"]
        assert (f"{med:.2f} %" if med >= 0.01 else "below 0.01 %") in rec.summary, fs
    assert plot_reconciliation(rec) is not None


# --------------------------------------------------------------------------- 2007 check (real)
_REAL = Path(os.environ.get("CARBONLAB_DATA_DIR", repo_root().parent / "shared" / "data"))


@pytest.mark.skipif(not (_REAL / "MANIFEST.csv").is_file(), reason="real-data mirror not found")
def test_check_2007_against_ceads_by_province_and_fuel():
    from carbonlab.accounting import check_2007

    c = check_2007()
    assert set(c.summary["factor_set"]) == {"ndrc2011", "ipcc2006", "ceads"}
    for fs, d in c.by_province.groupby("factor_set"):
        assert len(d) == 30 and d["rel_diff"].notna().all(), fs
    # every province and CEADs fuel is compared, and the sums add up
    bf = c.by_fuel[c.by_fuel["factor_set"] == "ndrc2011"]
    assert bf["fuel"].nunique() == 17
    np.testing.assert_allclose(bf["accounted_mt"].sum(),
                               c.by_province.query("factor_set == 'ndrc2011'")["accounted_mt"].sum())
    # the independent activity reproduces CEADs' big fuels closely with the CEADs factors
    nat = c.national.set_index(["factor_set", "fuel"])["rel_diff"]
    for fuel in ("Diesel Oil", "Gasoline", "Natural Gas", "Coke"):
        assert abs(nat[("ceads", fuel)]) < 0.05, fuel
    s = c.summary.set_index("factor_set")
    assert abs(s.loc["ndrc2011", "median_rel_diff"]) < 0.2
    assert abs(s.loc["ndrc2011", "worst_rel_diff"]) >= abs(s.loc["ndrc2011", "median_rel_diff"])


def test_lng_is_not_lpg():
    from carbonlab.data.factors import load_fuel_factors

    f = load_fuel_factors("ndrc2011").set_index("fuel")["carbon_content_tc_per_tj"]
    assert f["lng"] == f["natural_gas"] != f["lpg"]
