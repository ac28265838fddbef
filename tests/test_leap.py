"""Tests of carbonlab.leap: engine, stock, power, city model, results, forecasts, pilots, pipeline."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab import leap
from carbonlab._util import DataError, ParameterError

# ---------------------------------------------------------------- a small hand-checkable tree

A0, S_A, I_B, F_X, F_Y = 200.0, 0.3, 2.0, 50.0, 80.0


def small_spec() -> dict:
    return {
        "name": "small", "base_year": 2020, "end_year": 2025, "pilot_year": 2021,
        "fuels": {"x": {"t_co2_per_tj": F_X, "source": "test"},
                  "y": {"t_co2_per_tj": F_Y, "source": "test"}},
        "variables": {"lev": {"value": 0.1, "fraction": True}},
        "tree": {"name": "root", "activity": A0, "children": [
            {"name": "a", "share": S_A, "fuel": "x"},
            {"name": "b", "share": "remainder", "intensity": I_B, "children": [
                {"name": "clean", "share": {"ref": {"ref": "var:lev"}}, "fuel": "x"},
                {"name": "dirty", "share": "remainder", "fuel": "y"},
            ]},
        ]},
        "scenarios": {
            "baseline": {"parent": "current_accounts",
                         "expressions": {"root:activity": {"growth": 0.1}}},
            "policy": {"parent": "baseline", "expressions": {
                "var:lev": {"diffuse": {"K": 0.5, "rate": 0.1, "r": 0.2, "t0": "pilot"}}}},
        },
    }


@pytest.fixture
def tree() -> leap.DemandTree:
    return leap.DemandTree.from_dict(small_spec())


# ---------------------------------------------------------------- expressions

def test_logistic_midpoint_limits_and_shape():
    K, r, t0 = 0.8, 0.2, 2015
    assert leap.logistic(t0, K, r, t0) == pytest.approx(K / 2)
    assert leap.logistic(t0 - 500, K, r, t0) == pytest.approx(0.0, abs=1e-12)
    assert leap.logistic(t0 + 500, K, r, t0) == pytest.approx(K, rel=1e-12)
    t = np.arange(1990, 2060)
    p = leap.logistic(t, K, r, t0)
    assert np.all(np.diff(p) > 0) and np.all((p > 0) & (p < K))
    # symmetry about t0 and the maximum slope K r / 4 at t0
    assert leap.logistic(t0 + 7, K, r, t0) + leap.logistic(t0 - 7, K, r, t0) == pytest.approx(K)
    h = 1e-5
    slope = (leap.logistic(t0 + h, K, r, t0) - leap.logistic(t0 - h, K, r, t0)) / (2 * h)
    assert slope == pytest.approx(K * r / 4, rel=1e-6)


def test_interp_growth_step_growth_as_remainder():
    yrs = np.arange(2020, 2031)
    v = leap.interp(yrs, {2022: 1.0, 2026: 3.0})
    assert v[0] == 1.0 and v[-1] == 3.0 and v[4] == pytest.approx(2.0)  # 2024 halfway
    g = leap.growth(yrs, 5.0, 0.04, 2020)
    assert np.allclose(g[1:] / g[:-1], 1.04) and g[0] == 5.0
    s = leap.step(yrs, {2023: 2.0, 2027: 4.0}, before=1.0)
    assert list(s[:3]) == [1.0] * 3 and s[3] == 2.0 and s[-1] == 4.0
    other = leap.growth(yrs, 1.0, 0.1, 2020)
    ga = leap.growth_as(3.0, other, 0.5)
    assert np.allclose(ga[1:] / ga[:-1], 1.1 ** 0.5)
    assert leap.remainder(0.2, 0.3) == pytest.approx(0.5)
    with pytest.raises(ParameterError, match="sum to"):
        leap.remainder(0.7, 0.4)
    with pytest.raises(ParameterError, match="rate"):
        leap.growth(yrs, 1.0, -1.5, 2020)


def test_diffuse_rate_cap_and_base_year():
    yrs = np.arange(2020, 2041)
    parent = np.full(len(yrs), 0.1)
    d = leap.diffuse(yrs, parent, K=0.6, rate=0.05, r=0.2, t0=2021, base_year=2020)
    assert d[0] == 0.1                                 # the base year keeps the parent value
    s = leap.diffusion_stage(yrs, 0.2, 2021)
    # percentage points x the diffusion stage beyond its base-year level
    assert d[1] - d[0] == pytest.approx(0.05 * (s[1] - s[0]))
    assert d[2] - d[1] == pytest.approx(0.05 * (s[2] - s[0]))
    fast = leap.diffuse(yrs, parent, K=0.6, rate=0.1, r=0.2, t0=2021, base_year=2020)
    assert fast.max() == pytest.approx(0.6) and np.all(np.diff(fast) >= 0)  # capped at K
    # a parent already above K is never pulled down
    hi = leap.diffuse(yrs, np.full(len(yrs), 0.7), K=0.6, rate=0.05, r=0.2, t0=2021, base_year=2020)
    assert np.all(hi == 0.7)


# ---------------------------------------------------------------- tree arithmetic

def test_tree_arithmetic_by_hand(tree):
    res = tree.run("current_accounts")
    assert list(res.columns) == ["branch", "sector", "fuel", "year", "energy", "emissions",
                                 "scenario", "activity", "activity_name"]
    # no branch below the root has its own activity level: every leaf's driver is the root
    assert set(res["activity_name"]) == {"root"} and np.all(res["activity"] == A0)
    assert res.attrs["units"] == {"energy": "TJ", "emissions": "Mt CO2"}
    y0 = res[res["year"] == 2020].set_index("branch")
    lev = small_spec()["variables"]["lev"]["value"]
    e_a = A0 * S_A
    e_clean = A0 * (1 - S_A) * I_B * lev
    e_dirty = A0 * (1 - S_A) * I_B * (1 - lev)
    assert y0.loc["a", "energy"] == pytest.approx(e_a)
    assert y0.loc["b/clean", "energy"] == pytest.approx(e_clean)
    assert y0.loc["b/dirty", "energy"] == pytest.approx(e_dirty)
    assert y0.loc["b/dirty", "emissions"] == pytest.approx(e_dirty * F_Y / 1e6)
    assert y0["energy"].sum() == pytest.approx(A0 * (S_A + (1 - S_A) * I_B))
    # baseline grows the root activity at 10 %/yr: every leaf grows 10 %/yr
    b = tree.run("baseline").pivot(index="year", columns="branch", values="energy")
    assert np.allclose(b.iloc[1:].to_numpy() / b.iloc[:-1].to_numpy(), 1.1)


def test_remainder_closes_shares_every_year(tree):
    vals = tree.evaluate("policy")
    assert np.allclose(vals["root/a:share"] + vals["root/b:share"], 1.0)
    assert np.allclose(vals["root/b/clean:share"] + vals["root/b/dirty:share"], 1.0)


# ---------------------------------------------------------------- inheritance

def test_resolution_order_and_inheritance(tree):
    assert tree.resolution_order("policy") == ["policy", "baseline", "current_accounts"]
    assert tree.resolution_order("current_accounts") == ["current_accounts"]
    base, pol = tree.evaluate("baseline"), tree.evaluate("policy")
    # policy stores only the lever; the activity comes from its parent
    assert np.array_equal(base["root:activity"], pol["root:activity"])
    assert np.all(base["var:lev"] == 0.1) and pol["var:lev"][-1] > 0.1
    # a grandchild that overrides the activity wins over baseline but keeps policy's lever
    spec = small_spec()
    spec["scenarios"]["strict"] = {"parent": "policy",
                                   "expressions": {"root:activity": {"interp": {2020: A0,
                                                                                2025: A0}}}}
    t2 = leap.DemandTree.from_dict(spec)
    assert t2.resolution_order("strict") == ["strict", "policy", "baseline", "current_accounts"]
    st = t2.evaluate("strict")
    assert np.all(st["root:activity"] == A0)
    assert np.array_equal(st["var:lev"], pol["var:lev"])
    # diffuse reads its parent's value: raising the baseline lever lifts the policy path
    spec = small_spec()
    spec["scenarios"]["baseline"]["expressions"]["var:lev"] = 0.2
    t3 = leap.DemandTree.from_dict(spec)
    assert t3.evaluate("policy")["var:lev"][0] == 0.2


def test_unknown_parent_and_cycle_are_errors():
    spec = small_spec()
    spec["scenarios"]["policy"]["parent"] = "nope"
    with pytest.raises(DataError, match="unknown parent 'nope'"):
        leap.DemandTree.from_dict(spec)
    spec = small_spec()
    spec["scenarios"]["baseline"]["parent"] = "policy"
    with pytest.raises(DataError, match="cycle"):
        leap.DemandTree.from_dict(spec)
    with pytest.raises(DataError, match="unknown scenario"):
        leap.DemandTree.from_dict(small_spec()).run("nope")


def test_circular_reference_is_an_error():
    spec = small_spec()
    spec["variables"]["w"] = {"value": {"ref": {"ref": "var:lev"}}}
    spec["variables"]["lev"]["value"] = {"ref": {"ref": "var:w"}}
    with pytest.raises(DataError, match="circular"):
        leap.DemandTree.from_dict(spec).run("baseline")


# ---------------------------------------------------------------- bad input

def test_share_above_one_after_diffusion_is_an_error():
    spec = small_spec()
    spec["scenarios"]["policy"]["expressions"]["var:lev"] = {
        "diffuse": {"K": 1.5, "rate": 2.0, "r": 0.2, "t0": 2021}}
    t = leap.DemandTree.from_dict(spec)
    with pytest.raises(DataError, match=r"lev = 1\.\d+ outside \[0, 1\] in 20\d\d \(scenario policy\)"):
        t.run("policy")
    t.run("baseline")  # the parent is still fine
    # a non-lever share pushed above 1 by a growth expression makes its remainder sibling fail
    spec = small_spec()
    spec["scenarios"]["policy"]["expressions"] = {"root/a:share": {"growth": 0.5}}
    with pytest.raises(DataError, match="above|> 1|outside"):
        leap.DemandTree.from_dict(spec).run("policy")


def test_missing_fuel_factor_and_bad_spec():
    spec = small_spec()
    spec["tree"]["children"][0]["fuel"] = "unobtainium"
    with pytest.raises(DataError, match="no emission factor for fuel 'unobtainium'"):
        leap.DemandTree.from_dict(spec)
    spec = small_spec()
    del spec["tree"]["children"][0]["fuel"]
    with pytest.raises(DataError, match="root/a: a leaf needs a fuel"):
        leap.DemandTree.from_dict(spec)
    spec = small_spec()
    spec["fuels"]["x"] = {"t_co2_per_tj": 50.0}
    with pytest.raises(DataError, match="fuels.x: needs t_co2_per_tj and a source"):
        leap.DemandTree.from_dict(spec)
    spec = small_spec()
    spec["scenarios"]["policy"]["expressions"]["var:lev"] = {"grow": 0.1}
    with pytest.raises(DataError, match="unknown expression 'grow'"):
        leap.DemandTree.from_dict(spec)
    spec = small_spec()
    spec["scenarios"]["policy"]["expressions"]["root/zz:share"] = 0.1
    with pytest.raises(DataError, match="unknown quantity 'root/zz:share'"):
        leap.DemandTree.from_dict(spec)
    spec = small_spec()
    spec["tree"]["children"][0]["share"] = 0.5
    spec["tree"]["children"][1]["share"] = 0.2
    with pytest.raises(DataError, match="shares under root sum to 0.7"):
        leap.DemandTree.from_dict(spec).run("baseline")


def test_yaml_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        leap.DemandTree.from_yaml(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tree: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.yaml: not valid YAML"):
        leap.DemandTree.from_yaml(bad)
    bad.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(DataError, match="top level must be a mapping"):
        leap.DemandTree.from_yaml(bad)


def test_diffuse_both_readings_by_hand():
    yrs = np.arange(2020, 2024)
    parent = np.full(4, 0.1)
    s = leap.diffusion_stage(yrs, 0.2, 2021)
    pp = leap.diffuse(yrs, parent, K=0.9, rate=0.05, r=0.2, t0=2021, base_year=2020)
    rel = leap.diffuse(yrs, parent, K=0.9, rate=0.05, r=0.2, t0=2021, base_year=2020,
                       reading="relative")
    d = s - s[0]                               # strength beyond the base year
    assert pp[2] == pytest.approx(0.1 + 0.05 * (d[1] + d[2]))
    assert rel[2] == pytest.approx(0.1 * (1 + 0.05 * d[1]) * (1 + 0.05 * d[2]))
    assert np.all(rel[1:] < pp[1:])            # +5 % of 0.1 is far less than +5 points
    with pytest.raises(ParameterError, match="reading"):
        leap.diffuse(yrs, parent, K=0.9, rate=0.05, r=0.2, t0=2021, base_year=2020, reading="x")


def test_diffusion_is_measured_from_the_base_year():
    """A pilot year before the base year: only the strength still to come moves the lever."""
    yrs = np.arange(2019, 2036)
    parent = np.full(len(yrs), 0.2)
    for reading in ("pp", "relative"):
        paths = {t0: leap.diffuse(yrs, parent, rate=0.05, r=0.2, t0=t0, base_year=2019,
                                  reading=reading) for t0 in (2012, 2015, 2020)}
        for t0, p in paths.items():
            assert p[0] == 0.2                         # policy = baseline in the base year
            s = leap.diffusion_stage(yrs, 0.2, t0)
            step = 0.05 * (s[1] - s[0]) * (0.2 if reading == "relative" else 1.0)
            assert p[1] - p[0] == pytest.approx(step, rel=1e-12)
        # the earlier the pilot, the less diffusion is left after the base year
        assert paths[2012][-1] < paths[2015][-1] < paths[2020][-1]
    # no cap unless K is given; with K the lever stops there
    free = leap.diffuse(yrs, parent, rate=0.5, r=0.2, t0=2020, base_year=2019)
    capped = leap.diffuse(yrs, parent, K=0.4, rate=0.5, r=0.2, t0=2020, base_year=2019)
    assert free.max() > 0.4 and capped.max() == pytest.approx(0.4)


def test_policy_equals_baseline_in_the_base_year_for_every_city_file():
    for path in CITY_FILES:
        m = leap.CityModel.from_yaml(path)
        for py in (2012, 2015, None):
            mm = m.with_policy(pilot_year=py)
            b, p = mm.total_emissions("baseline"), mm.total_emissions("policy")
            assert p[0] == b[0], (path.stem, py)
            lv_b, lv_p = mm.lever_paths("baseline"), mm.lever_paths("policy")
            pd.testing.assert_series_equal(lv_b.iloc[0], lv_p.iloc[0])


def test_example_demand_tree_file_runs():
    t = leap.DemandTree.from_yaml(leap.scenario_dir() / "demand_tree_example.yaml")
    b, p = t.totals("baseline"), t.totals("policy")
    assert b.iloc[0] == pytest.approx(p.iloc[0]) and p.iloc[-1] < b.iloc[-1]


# ---------------------------------------------------------------- stock turnover

def test_survival_curve_median_and_shape():
    s = leap.survival_curve(median_life=12, shape=3, max_age=40)
    lam = 12 / np.log(2) ** (1 / 3)
    assert s[0] == 1.0 and s[12] == pytest.approx(0.5) and np.all(np.diff(s) < 0)
    assert s[20] == pytest.approx(np.exp(-(20 / lam) ** 3))
    v = leap.initial_vintages(300.0, s, 0.05)
    assert v.sum() == pytest.approx(300.0) and v[0] > v[1]


def test_stock_turnover_by_hand():
    # survival 1, 0.8, 0.4 for ages 0, 1, 2 (nobody reaches age 3)
    surv = np.array([1.0, 0.8, 0.4])
    base = {"ev": np.zeros(3), "ice": np.array([100.0, 80.0, 40.0])}
    res = leap.stock_turnover([220.0, 250.0, 250.0], surv, base,
                              {"ev": [0.0, 0.5, 1.0], "ice": [1.0, 0.5, 0.0]}, [2020, 2021, 2022])
    # 2021: survivors 100*0.8 + 80*0.5 = 120 (the 40 of age 2 and 20+40 others retire),
    # sales 250 - 120 = 130, half EV
    assert res.retirements[1] == pytest.approx(100.0)
    assert res.sales["ev"][1] == pytest.approx(65.0) and res.sales["ice"][1] == pytest.approx(65.0)
    assert res.stock["ice"][1] == pytest.approx(185.0) and res.stock["ev"][1] == pytest.approx(65.0)
    # 2022: survivors ice 65*0.8 + 80*0.5 = 92, ev 65*0.8 = 52; sales 106, all EV
    assert res.sales["ev"][2] == pytest.approx(106.0) and res.sales["ice"][2] == 0.0
    assert res.stock["ev"][2] == pytest.approx(158.0) and res.stock["ice"][2] == pytest.approx(92.0)
    assert res.retirements[2] == pytest.approx(106.0)
    # the stock lags the sales: 100 % EV sales, 63.2 % EV stock
    assert res.share("ev")[2] == pytest.approx(158 / 250)
    np.testing.assert_allclose(res.total, [220.0, 250.0, 250.0])
    with pytest.raises(ParameterError, match="sum to 1"):
        leap.stock_turnover([1.0, 1.0], surv, base, {"ev": 0.5, "ice": 0.6})


# ---------------------------------------------------------------- power sector

def test_power_dispatch_by_hand():
    ps = leap.PowerSector({"coal": {"fuel": "raw_coal", "efficiency": 0.4, "share": 1.0}},
                          loss=0.1, import_share=0.5, import_factor_t_per_mwh=0.36,
                          factors={"raw_coal": 100.0})
    d = ps.dispatch([90.0], pv=[10.0], renewables_share=0.2)
    # need 90 / 0.9 = 100 TJ: PV 10, renewables 20, rest 70 = imports 35 + coal 35
    assert d.losses[0] == pytest.approx(10.0) and d.imports[0] == pytest.approx(35.0)
    assert d.fuel_input["raw_coal"][0] == pytest.approx(87.5)
    assert d.emissions["coal"][0] == pytest.approx(87.5 * 100 / 1e6)
    assert d.emissions["imports"][0] == pytest.approx(35 * leap.MWH_PER_TJ * 0.36 / 1e6)
    assert d.grid_factor_t_per_mwh[0] == pytest.approx((8750 + 3500) / (90 * leap.MWH_PER_TJ))
    with pytest.raises(DataError, match="shares sum"):
        leap.PowerSector({"coal": {"fuel": "raw_coal", "efficiency": 0.4, "share": 0.5}},
                         loss=0.1, import_share=0.5, import_factor_t_per_mwh=0.3,
                         factors={"raw_coal": 100.0})


def _with_lever(model, lever: str, value: float):
    lv = model.lever_paths("baseline")
    lv[lever] = value
    return model.run("baseline", levers=lv)


def test_grid_factor_falls_when_the_pv_lever_rises():
    m = leap.CityModel.for_city("Lanzhou")
    runs = [_with_lever(m, "industrial_pv", v) for v in (0.0, 0.1, 0.2, 0.3)]
    g = np.array([r.grid_factor.to_numpy() for r in runs])
    assert np.all(np.diff(g, axis=0) < 0)                      # every year, every step
    tot = np.array([r.totals().to_numpy() for r in runs])
    assert np.all(np.diff(tot, axis=0) < 0)
    ren = [_with_lever(m, "renewables", v).grid_factor.iloc[0] for v in (0.1, 0.3)]
    assert ren[1] < ren[0]
    # the policy's PV and renewables levers lower the factor over time
    pol = m.run("policy").grid_factor
    assert pol.iloc[-1] < pol.iloc[0] == pytest.approx(m.run("baseline").grid_factor.iloc[0])


# ---------------------------------------------------------------- city model and results

CITY_FILES = sorted(p for p in leap.scenario_dir().glob("*.yaml") if p.stem != "demand_tree_example")


@pytest.mark.parametrize("path", CITY_FILES, ids=lambda p: p.stem)
def test_city_files_validate_balance_closes_and_policy_lowers(path):
    m = leap.CityModel.from_yaml(path)
    for lever, rate in {"ev_sales_share": 0.05, "shared_share": 0.02, "traffic_brain": 0.01,
                        "industrial_pv": 0.05, "energy_saving": 0.05}.items():
        assert m.levers[lever]["rate"] == rate and m.levers[lever]["r"] == 0.2  # the study's
    for sc in ("baseline", "policy"):
        run = m.run(sc)
        bal = leap.energy_balance(run)
        res = leap.balance_residual(bal)
        scale = bal.groupby(["fuel", "year"])["energy_tj"].max().to_numpy()
        assert np.all(np.abs(res["residual_tj"].to_numpy()) <= 1e-9 * np.maximum(scale, 1.0))
        # electricity: imports + generation = demand + losses, from the dispatch itself
        el = bal[bal["fuel"] == "electricity"].pivot_table(index="year", columns="flow",
                                                            values="energy_tj")
        assert np.all(el["power_output"] > 0) and np.all(el["losses"] > 0)
        # direct emissions (power plants carry electricity; imports are scope 2, outside
        # the city's inventory) = emissions with electricity at the city's grid factor
        r = run.results
        assert r.loc[r["branch"] == "power/imports", "emissions_mt"].sum() == 0.0
        assert r["emissions_mt"].sum() == pytest.approx(r["emissions_attributed_mt"].sum(),
                                                        rel=1e-12)
    b, p = m.totals("baseline"), m.totals("policy")
    assert b.iloc[0] == pytest.approx(p.iloc[0], rel=1e-12) and p.iloc[-1] < b.iloc[-1]


def test_every_city_number_needs_a_source(tmp_path):
    import yaml

    spec = yaml.safe_load((leap.scenario_dir() / "template.yaml").read_text(encoding="utf-8"))
    del spec["passenger"]["km_per_vehicle"]["source"]
    with pytest.raises(DataError, match="^t.yaml: passenger.km_per_vehicle: missing key 'source'$"):
        leap.CityModel(spec, "t.yaml")
    spec = yaml.safe_load((leap.scenario_dir() / "template.yaml").read_text(encoding="utf-8"))
    spec["levers"]["ev_sales_share"]["K"] = 1.5
    with pytest.raises(DataError, match=r"^t.yaml: levers.ev_sales_share.K: value 1.5 — input "
                                        r"should be less than or equal to 1$"):
        leap.CityModel(spec, "t.yaml")
    spec = yaml.safe_load((leap.scenario_dir() / "template.yaml").read_text(encoding="utf-8"))
    spec["industry"]["branches"]["metals"]["share"] = 0.5
    with pytest.raises(DataError, match="^t.yaml: industry.branches shares sum to 1.35, not 1$"):
        leap.CityModel(spec, "t.yaml")
    spec = yaml.safe_load((leap.scenario_dir() / "template.yaml").read_text(encoding="utf-8"))
    spec["levers"]["ev_sales_share"]["source"] = "  "
    with pytest.raises(DataError, match="^t.yaml: levers.ev_sales_share.source: value '  ' — "
                                        "string should have at least 1 character"):
        leap.CityModel(spec, "t.yaml")
    spec = yaml.safe_load((leap.scenario_dir() / "template.yaml").read_text(encoding="utf-8"))
    spec["colour"] = "red"
    with pytest.raises(DataError, match="^t.yaml: unknown top-level key 'colour'$"):
        leap.CityModel(spec, "t.yaml")
    spec = yaml.safe_load((leap.scenario_dir() / "template.yaml").read_text(encoding="utf-8"))
    spec["buildings"]["services"]["fuel_shares"]["coal"] = \
        spec["buildings"]["services"]["fuel_shares"].pop("raw_coal")
    with pytest.raises(DataError, match="unknown fuel 'coal'"):
        leap.CityModel(spec, "t.yaml")
    with pytest.raises(DataError, match="not found"):
        leap.CityModel.from_yaml(tmp_path / "none.yaml")


def test_calibration_exact_and_policy_shares_activity():
    m = leap.CityModel.for_city("Hohhot")
    hist = pd.Series([30.0, 31.0, 33.0], index=[2017, 2018, 2019])
    fc = pd.Series(np.linspace(34, 30, 11), index=range(2020, 2031))
    cal = m.calibrate(hist, fc)
    assert cal.base_year == 2019 and cal.end_year == 2030
    b, p = cal.run("baseline"), cal.run("policy")
    assert b.totals().loc[2019] == pytest.approx(33.0, rel=1e-12)
    assert p.totals().loc[2019] == pytest.approx(33.0, rel=1e-12)
    assert np.max(np.abs(b.totals().loc[2020:].to_numpy() / fc.to_numpy() - 1)) <= 1e-9
    pd.testing.assert_series_equal(b.activity["passenger_pkm"], p.activity["passenger_pkm"])
    assert m.scale == 1.0 and m.base_year != 2019 or m.scale == 1.0   # original untouched
    # the EV lever acts on sales; the stock follows with a lag
    assert p.levers["ev_sales_share"].iloc[-1] > p.activity["ev_stock_share"].iloc[-1] \
        > b.activity["ev_stock_share"].iloc[-1]
    with pytest.raises(ParameterError, match="consecutive years"):
        m.calibrate(hist, pd.Series([1.0], index=[2022]))


def test_results_tables_and_lmdi_close():
    cities = synthetic_cities()
    run = leap.run_city(cities, "Lanzhou", model="drift", horizon_end=2030, fast=True,
                        cache=False)
    et = leap.emissions_table([run.baseline, run.policy], [2022, 2030])
    assert et.loc[("total", "", ""), ("baseline", 2022)] == pytest.approx(
        run.history.loc[2022], rel=1e-9)
    by_branch = leap.emissions_table([run.baseline, run.policy], [2022, 2030], by=("branch",))
    assert by_branch.loc["total", ("policy", 2030)] == pytest.approx(
        et.loc[("total", "", ""), ("policy", 2030)], rel=1e-12)
    cmp = leap.comparison_table(run.baseline, run.policy)
    assert cmp["reduction_pct"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert cmp["reduction_pct"].iloc[-1] == pytest.approx(run.summary()["reduction_end_pct"])
    bt = leap.balance_table(leap.energy_balance(run.baseline), 2022)
    assert "power plants: input" in bt.index and (bt.loc["power plants: input"] <= 0).all()
    dec = leap.city_lmdi(run)
    gap = run.policy.totals() - run.baseline.totals()
    assert np.allclose(dec.groupby("year")["effect"].sum().to_numpy(), gap.to_numpy(), atol=1e-9)
    flows = leap.sankey_flows(run.baseline, 2022)
    into_power = sum(v for a, b, v in flows if b == "power")
    out_power = sum(v for a, b, v in flows if a == "power")
    assert into_power == pytest.approx(out_power)


def test_pilot_year_and_readings_change_the_policy():
    run = leap.run_city(synthetic_cities(), "Hohhot", model="drift", horizon_end=2030,
                        fast=True, cache=False)
    eff = leap.pilot_effect(run, (2012, 2015, None))
    red = eff["reduction_2025_pct"].to_numpy()
    # the base year's data contain the diffusion so far: an earlier pilot has less left
    left = [1 - leap.diffusion_stage([run.leap.base_year], 0.2, t0)[0] for t0 in eff["t0"]]
    assert left[0] < left[1] < left[2]
    assert 0 < red[0] < red[1] < red[2]
    assert list(eff["t0"]) == [2012, 2015, run.leap.base_year + 1]
    rd = leap.readings_table(run)
    assert list(rd["used"]) == [True, False]              # relative growth is the default
    assert rd["reading"].iloc[0] == "relative growth a year"
    assert run.summary()["reduction_end_pct"] == pytest.approx(rd["reduction_2030_pct"].iloc[0])
    # +5 % of a lever at a few percent is far less than +5 points
    assert rd["reduction_2030_pct"].iloc[0] < rd["reduction_2030_pct"].iloc[1]
    run2 = leap.run_city(synthetic_cities(), "Hohhot", model="drift", horizon_end=2030,
                         fast=True, cache=False, reading="pp")
    assert run2.summary()["reduction_end_pct"] == pytest.approx(rd["reduction_2030_pct"].iloc[1])


def test_no_cap_without_a_source():
    """A lever's cap K is used only where the city file gives one (none is cited today)."""
    for path in CITY_FILES:
        m = leap.CityModel.from_yaml(path)
        assert m.reading == "relative"
        for name, lv in m.levers.items():
            assert lv["K"] is None, (path.stem, name)
    m = leap.CityModel.for_city("Lanzhou").with_policy(reading="pp", rate={"energy_saving": 0.5})
    assert m.lever_paths("policy")["energy_saving"].max() <= 1.0   # a fraction stops at 1
    capped = m.with_policy(K={"energy_saving": 0.2}).lever_paths("policy")["energy_saving"]
    assert capped.max() == pytest.approx(0.2)


# ---------------------------------------------------------------- city data and forecasts

def synthetic_cities(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    yrs = np.arange(2002, 2023)
    rows = []
    zh = {"Beijing": "北京", "Lanzhou": "兰州", "Hohhot": "呼和浩特", "Shangluo": "商洛"}
    for i, (c, py) in enumerate(leap.STUDY_PILOTS.items()):
        t = yrs - 2002
        level = (20 + 10 * i) * (1 + 0.06 * t - 0.0012 * t ** 2) + rng.normal(0, 0.3, len(t))
        for y, v in zip(yrs, level, strict=True):
            rows.append({"city": c, "city_zh": zh[c], "province": "p", "year": int(y),
                         "emissions_mt": float(v), "pilot_year": py})
    df = pd.DataFrame(rows)
    df["pilot_year"] = df["pilot_year"].astype("Int64")
    return df


def test_city_series_interpolates_isolated_gaps_and_resolves_chinese_names():
    df = synthetic_cities()
    gap = df[~((df["city"] == "Lanzhou") & df["year"].isin([2017]))]
    s = leap.city_series(gap, "甘肃兰州")
    assert s.attrs["city"] == "Lanzhou" and s.attrs["interpolated"] == [2017]
    assert list(s.index) == list(range(2002, 2023))
    full = leap.city_series(df, "Lanzhou")
    assert s.loc[2017] == pytest.approx((full.loc[2016] + full.loc[2018]) / 2)
    for name in ("兰州市", "兰州", "甘肃省兰州市", "lanzhou"):
        assert leap.city_series(df, name).attrs["city"] == "Lanzhou"
    long_gap = df[~((df["city"] == "Lanzhou") & df["year"].isin([2010, 2011]))]
    s2 = leap.city_series(long_gap, "Lanzhou")
    assert s2.attrs["gaps"] == [2010, 2011] and 2010 not in s2.index
    assert leap.city_series(long_gap, "Lanzhou", max_gap=2).attrs["interpolated"] == [2010, 2011]
    X, y, t = leap.lag_windows(s2, 3)
    assert not set(t) & {2010, 2011, 2012, 2013, 2014}  # no window crosses the gap
    assert len(y) == (2009 - 2002 + 1 - 3) + (2022 - 2012 + 1 - 3)
    with pytest.raises(ParameterError, match="not in the cities table"):
        leap.city_series(df, "Atlantis")


def test_short_series_run_with_naive_models_and_say_why():
    df = synthetic_cities()
    short = df[(df["city"] != "Shangluo") | df["year"].isin([2005, 2006, 2007, 2010, 2013, 2020,
                                                             2021, 2022])]
    s = leap.city_series(short, "Shangluo")
    reason = leap.windowed_reason(s, 3)
    assert "lag windows" in reason or "shorter than the window" in reason
    ev = leap.evaluate_city(s, ("svr", "persistence", "drift"), n_origins=6)
    assert set(ev["model"]) == {"persistence", "drift"} and ev.attrs["reason"] == reason
    run = leap.run_city(short, "Shangluo", horizon_end=2030, fast=True, cache=False)
    assert run.model in ("persistence", "drift")


def test_rolling_origin_scores_and_choice():
    s = leap.city_series(synthetic_cities(), "Beijing")
    ev = leap.evaluate_city(s, ("bpnn", "svr", "rf", "persistence", "drift"), n_origins=6,
                            fast=True)
    assert set(ev["h"]) == {1, 2, 3, 4, 5} and ev["origin"].min() == 2016
    assert (ev["year"] == ev["origin"] + ev["h"]).all() and (ev["year"] <= 2022).all()
    ev2 = leap.evaluate_city(s, ("bpnn", "svr", "rf", "persistence", "drift"), n_origins=6,
                             fast=True)
    pd.testing.assert_frame_equal(ev, ev2)                         # seeded
    sc = leap.model_scores(ev)
    nested = leap.nested_selection(ev)
    assert list(nested.index) == ["Beijing"]
    held = bool(nested["beats_persistence"].iloc[0])
    assert leap.choose_model(ev) == (sc.index[0] if held else "persistence")
    assert sc.index[0] == sc["all"].idxmin()
    w = leap.choose_model(ev, "ensemble")
    assert sum(w.values()) == pytest.approx(1.0) and max(w, key=w.get) == sc.index[0]
    # persistence by hand at origin 2020, h = 2: forecast 2022 = value of 2020
    row = ev[(ev["model"] == "persistence") & (ev["origin"] == 2020) & (ev["h"] == 2)].iloc[0]
    assert row["forecast_mt"] == pytest.approx(s.loc[2020])
    f = leap.forecast_city(s, w, 2026, fast=True)
    parts = [leap.forecast_city(s, m, 2026, fast=True) * wt for m, wt in w.items()]
    np.testing.assert_allclose(f.to_numpy(), sum(p.to_numpy() for p in parts))
    with pytest.raises(ParameterError, match="not 'auto', 'ensemble'"):
        leap.choose_model(ev, "gpt")


def test_interpolated_origin_never_sees_the_next_year():
    """Regression: an interpolated origin's value is made from the next year's actual value,
    so no origin may be interpolated and no forecast may change when later years change."""
    df = synthetic_cities()
    gap = df[~((df["city"] == "Lanzhou") & (df["year"] == 2019))]
    later = gap.copy()
    hit = (later["city"] == "Lanzhou") & (later["year"] >= 2020)
    later.loc[hit, "emissions_mt"] *= 3.0          # changes 2020-2022 and the 2019 fill
    models = ("svr", "persistence", "drift")
    s, s2 = leap.city_series(gap, "Lanzhou"), leap.city_series(later, "Lanzhou")
    assert s.attrs["interpolated"] == [2019] and s2.loc[2019] != s.loc[2019]
    ev = leap.evaluate_city(s, models, n_origins=5, fast=True)
    ev2 = leap.evaluate_city(s2, models, n_origins=5, fast=True)
    assert 2019 not in set(ev["origin"]) and set(ev["origin"]) == {2017, 2018, 2020, 2021}
    for T in sorted(set(ev["origin"])):
        a = ev[ev["origin"] == T].reset_index(drop=True)
        b = ev2[ev2["origin"] == T].reset_index(drop=True)
        if T < 2019:        # inputs before the change: forecasts identical to the last bit
            np.testing.assert_array_equal(a["forecast_mt"].to_numpy(), b["forecast_mt"].to_numpy())


def test_nested_selection_by_hand():
    """Chosen on the forecasts known at the split origin, scored on the later ones."""
    rows = []
    # origins 2010-2013, split at 2012; rf wins the selection (0.5 vs 2) and loses later (5 vs 4)
    for origin in (2010, 2011, 2012, 2013):
        for year in range(origin + 1, 2015):
            sel = origin < 2012 and year <= 2012
            for m, (a_sel, a_late) in {"rf": (0.5, 5.0), "persistence": (2.0, 4.0)}.items():
                ape = a_sel if sel else (a_late if origin >= 2012 else 9.0)
                rows.append({"city": "A", "model": m, "origin": origin, "h": year - origin,
                             "year": year, "actual_mt": 1.0, "forecast_mt": 1.0,
                             "ape_pct": ape})
    ev = pd.DataFrame(rows)
    n = leap.nested_selection(ev).loc["A"]
    assert n["chosen"] == "rf" and n["split_origin"] == 2012
    assert n["n_select"] == 3 and n["n_scored"] == 3          # 2010->11,12; 2011->12 | 2012->13,14; 2013->14
    assert n["ratio_to_persistence"] == pytest.approx(5.0 / 4.0)
    assert not n["beats_persistence"]
    assert leap.model_scores(ev).index[0] == "rf"             # the in-sample winner ...
    assert leap.choose_model(ev) == "persistence"             # ... is not claimed
    text = leap.selection_sentence(n, "persistence")
    assert "does not beat persistence" in text and "ratio 1.25" in text
    # with the later errors reversed the selection holds and the winner is kept
    ev.loc[(ev["model"] == "rf") & (ev["origin"] >= 2012), "ape_pct"] = 3.0
    assert leap.nested_selection(ev).loc["A", "beats_persistence"]
    assert leap.choose_model(ev) == "rf"


def test_nowcast_extends_with_province_growth_and_is_never_scored():
    from carbonlab.data.cities import nowcast

    df = synthetic_cities()
    short = df[df["year"] <= 2019]
    totals = pd.DataFrame({"region": "p", "year": range(2015, 2023),
                           "emissions_mt": [10.0, 10, 10, 10, 10, 11, 12, 9]})
    nc = nowcast(short, totals, until=2022)
    lz = nc[nc["city"] == "Lanzhou"].set_index("year")
    base = float(lz.loc[2019, "emissions_mt"])
    assert list(lz.index[lz["nowcast"]]) == [2020, 2021, 2022]
    assert lz.loc[2021, "emissions_mt"] == pytest.approx(base * 12 / 10)   # province growth
    assert not lz.loc[:2019, "nowcast"].any()
    s = leap.city_series(nc, "Lanzhou")
    assert s.attrs["nowcast"] == [2020, 2021, 2022] and s.attrs["observed"] == 18
    ev = leap.evaluate_city(s, ("persistence", "drift"), n_origins=5)
    assert ev["year"].max() <= 2019 and ev["origin"].max() <= 2018   # never scored
    fc = leap.forecast_city(s, "persistence", 2025)
    assert fc.index.min() == 2023 and fc.iloc[0] == pytest.approx(s.loc[2022])
    run = leap.run_city(nc, "Lanzhou", model="persistence", horizon_end=2030, fast=True,
                        cache=False)
    without = leap.run_city(short, "Lanzhou", model="persistence", horizon_end=2030, fast=True,
                            cache=False)
    assert run.leap.base_year == 2022 and without.leap.base_year == 2019
    assert run.summary()["nowcast_years"] == "2020, 2021, 2022"
    text = leap.nowcast_sentence(run, without)
    assert text.startswith("Nowcast 2020-2022") and "forecast from 2019" in text
    from carbonlab.peaks import PeakResult

    assert leap.peak_text(PeakResult(2021, 1.0, True), 2030, 2023, [2020, 2021, 2022]) == \
        "2021 (nowcast)"
    assert leap.peak_text(PeakResult(2019, 1.0, True), 2030, 2023, [2020]) == \
        "2019 (in the inventory)"
    # a province without totals leaves its cities as they are
    assert len(nowcast(short, totals.assign(region="q"))) == len(short)


def test_tuned_and_early_stopped_models():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(16, 3))
    y = X @ [0.5, 0.3, 0.2] + rng.normal(0, 0.05, 16)
    svr = leap.TunedSVR().fit(X, y)
    assert svr.best_params_["C"] in svr.C and svr.predict(X).shape == (16,)
    rf = leap.TunedRF(n_estimators=50).fit(X, y)
    assert rf.best_params_["min_samples_leaf"] in (1, 3)
    bp = leap.EarlyStoppedBP().fit(X, y)
    assert bp.best_iter_ in bp.max_iter and set(bp.validation_curve_) == set(bp.max_iter)
    lstm = leap.EarlyStoppedLSTM(max_epochs=20).fit(X, y)
    assert 1 <= lstm.best_epoch_ <= 20
    p1 = lstm.predict(X)
    p2 = leap.EarlyStoppedLSTM(max_epochs=20).fit(X, y).predict(X)
    np.testing.assert_allclose(p1, p2)


def test_all_cities_table():
    df = synthetic_cities()
    out = leap.all_cities(df, ("svr", "persistence", "drift"), n_origins=5, cache=False)
    assert int(out["wins"].sum()) == len(out["winners"]) == 4
    # a city run reuses the table's scores: its baseline model is the table's winner where
    # choosing that way beats persistence out of sample, else persistence
    run = leap.run_city(df, "兰州", models=("svr", "persistence", "drift"), fast=True,
                        evaluation=out["evaluation"], horizon_end=2030, cache=False)
    nested = leap.nested_selection(out["evaluation"]).loc["Lanzhou"]
    assert run.selection.equals(nested)
    assert run.model == (out["winners"].loc["Lanzhou", "winner"] if nested["beats_persistence"]
                         else "persistence")
    assert set(run.evaluation["city"]) == {"Lanzhou"}
    assert list(out["median_ape"].index) == ["svr", "persistence", "drift"]
    assert {"h1", "h5", "all"} <= set(out["median_ape"].columns)
    assert "SVR" in leap.ranking_sentence(["svr", "lstm", "bpnn", "rf"])
    assert "a different order" in leap.ranking_sentence(["svr", "lstm", "bpnn", "rf"])
    assert "the same order" in leap.ranking_sentence(list(leap.STUDY_RANKING))


def test_all_cities_scores_stay_numeric_when_a_city_has_no_scored_forecast():
    """A city with no origin in its last years adds an empty evaluation; the all-cities rows
    and the score tables must stay float (an object column prints as raw 17-digit reprs)."""
    df = synthetic_cities()
    short = df[(df["city"] != "Shangluo") | df["year"].isin([2005, 2006, 2007, 2008, 2022])]
    assert leap.evaluate_city(leap.city_series(short, "Shangluo"), ("persistence",)).empty
    out = leap.all_cities(short, ("svr", "persistence", "drift"), n_origins=5, cache=False)
    assert "Shangluo" in out["skipped"].index
    for col in ("ape_pct", "actual_mt", "forecast_mt"):
        assert out["evaluation"][col].dtype == "float64", col
    scores = leap.model_scores(out["evaluation"])
    assert (scores.drop(columns="n").dtypes == "float64").all() and scores["n"].dtype == "int64"


def test_read_pilot_list(tmp_path):
    p = tmp_path / "pilots.csv"
    p.write_text("city,pilot_year\nBeijing,2012\n商洛市,\n", encoding="utf-8")
    df = leap.read_pilot_list(p)
    assert list(df["city"]) == ["Beijing", "Shangluo"] and str(df["pilot_year"].dtype) == "Int64"
    for body, msg in [("Beijing,2012\nLanzhou,2014\n", "row 3, column pilot_year: '2014' is not a "
                       "pilot batch"),
                      ("Beijing,2012\n兰州,2013\nLanzhou,2013\n", "row 4, column city: duplicate"),
                      ("Gotham,2012\n", "row 2, column city: unknown city 'Gotham'")]:
        p.write_text("city,pilot_year\n" + body, encoding="utf-8")
        with pytest.raises(DataError, match=msg):
            leap.read_pilot_list(p)
    p.write_text("city,year\nBeijing,2012\n", encoding="utf-8")
    with pytest.raises(DataError, match="columns must be exactly"):
        leap.read_pilot_list(p)
    ex = leap.read_pilot_list(leap.example_pilot_list())
    got = {c: (None if pd.isna(y) else int(y)) for c, y in zip(ex["city"], ex["pilot_year"],
                                                                   strict=True)}
    assert got == leap.STUDY_PILOTS
    # a user list overrides the study's pilot year
    run = leap.run_city(synthetic_cities(), "Lanzhou", model="drift", horizon_end=2030,
                        pilots=pd.DataFrame({"city": ["Lanzhou"], "pilot_year": [2015]}),
                        fast=True, cache=False)
    assert run.pilot_year == 2015 and run.pilot_origin == "pilot list"


def test_run_city_summary_and_sensitivity_use_find_peak():
    from carbonlab.peaks import find_peak

    df = synthetic_cities()
    run = leap.run_city(df, "Beijing", horizon_end=2030, fast=True, cache=False)
    assert run.model == leap.choose_model(run.evaluation)
    summ = run.summary()
    tot = pd.concat([run.history.loc[:2022], run.baseline.totals().loc[2023:]])
    res = find_peak(tot.index.to_numpy(), tot.to_numpy(), tol=run.tol)
    assert summ["baseline_peak_mt"] == pytest.approx(res.peak_value)
    si = leap.sobol_sensitivity(run.leap, run.history, n=8, random_state=2)
    si2 = leap.sobol_sensitivity(run.leap, run.history, n=8, random_state=2)
    pd.testing.assert_frame_equal(si, si2)
    # r and the five study rates; no cap K, since the city files cite none
    assert set(si["parameter"]) == {"r", *(f"rate:{lv}" for lv in leap.STUDY_LEVERS)}
    assert si.attrs["n_runs"] == 8 * (6 + 2)
    red = si[si["output"] == "reduction_2030_pct"].set_index("parameter")["S1"].clip(lower=0)
    share = red[[p for p in red.index if p.startswith("rate:")]].sum()
    text = leap.sobol_sentence(si, 2030)
    assert f"rates together explain {share:.2f} of the variance" in text
    assert "no cap enters" in text
    mc = leap.monte_carlo(run.leap, run.history, n=10, random_state=1)
    assert (mc["reduction_2030_pct"] > 0).all()
    x = mc.iloc[0]
    m = run.leap.with_policy(r=x["r"], K={k[2:]: x[k] for k in mc.columns if k.startswith("K:")},
                             rate={k[5:]: x[k] for k in mc.columns if k.startswith("rate:")})
    pol = pd.concat([run.history.loc[:2022],
                     pd.Series(m.total_emissions("policy"), index=m.years()).loc[2023:]])
    assert mc["policy_peak_year"].iloc[0] == find_peak(pol.index.to_numpy(), pol.to_numpy(),
                                                       tol=run.tol).peak_year
    tab, runs = leap.compare_cities(df, ["Beijing", "Atlantis"], horizon_end=2030, fast=True,
                                    cache=False, model="drift")
    assert list(tab["city"]) == ["Beijing"] and "Atlantis" in tab.attrs["skipped"]


def test_study_agreement_counts_only_forecast_peaks():
    from carbonlab.leap.pipeline import _agrees
    from carbonlab.peaks import PeakResult

    inv = PeakResult(2012, 10.0, True)          # the inventory's maximum
    fc = PeakResult(2028, 10.0, True)           # a forecast peak
    rising = PeakResult(2035, 10.0, False)      # still rising at the end
    assert _agrees(fc, 2023, "2028") and not _agrees(inv, 2023, "2012")
    assert _agrees(rising, 2023, "after 2035") and not _agrees(inv, 2023, "after 2035")
    assert not _agrees(PeakResult(2012, 10.0, False), 2023, "after 2035")
    assert _agrees(fc, 2023, "before 2035") and not _agrees(inv, 2023, "before 2035")
    assert _agrees(fc, 2023, "no year (growth slowing)") is None
    tab, runs = leap.compare_cities(synthetic_cities(), ["Lanzhou", "Shangluo"], horizon_end=2030,
                                    fast=True, cache=False, model="drift")
    ag = leap.study_agreement(runs)
    assert list(ag["city"]) == ["Lanzhou", "Lanzhou", "Shangluo", "Shangluo"]
    for _, row in ag.iterrows():
        res = runs[row["city"]].peak(row["scenario"])
        assert row["in_forecast"] == (res.peaked and res.peak_year >= 2023)
        if not row["in_forecast"] and row["study"][0].isdigit():
            assert not row["agrees"]
    text = leap.agreement_sentence(ag)
    n = int(ag.loc[ag["scenario"] == "baseline", "agrees"].notna().sum())
    assert f"for the baseline in {int(ag.loc[ag['scenario'] == 'baseline', 'agrees'].sum())} of {n}" in text


def test_plots_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = leap.run_city(synthetic_cities(), "Lanzhou", model="drift", horizon_end=2030,
                        fast=True, cache=False)
    ax = leap.plot_sankey(run.baseline, 2022)
    assert len(ax.patches) > 10
    leap.plot_scenarios(run)
    leap.plot_levers(run)
    for ax in (leap.plot_grid_factor({"baseline": run.baseline, "policy": run.policy}),
               leap.plot_stock({"policy": run.policy})):  # whole years on the x axis
        ax.figure.canvas.draw()
        assert all(float(t).is_integer() for t in ax.get_xticks()), ax.get_xticks()
    leap.plot_model_scores(run.evaluation)
    leap.plot_lmdi(leap.city_lmdi(run), 2030)
    leap.plot_cities({"Lanzhou": run})
    leap.plot_diffusion(leap.STUDY_PILOTS)
    plt.close("all")


def test_real_cities_if_available():
    data_dir = os.environ.get("CARBONLAB_DATA_DIR")
    if not data_dir or not Path(data_dir).is_dir():
        pytest.skip("CARBONLAB_DATA_DIR not set")
    from carbonlab.data import load_cities

    try:
        df = load_cities("ceads")
    except DataError as exc:
        pytest.skip(f"ceads cities unavailable: {exc}")
    lz = leap.city_series(df, "甘肃兰州")
    assert {2018, 2019} <= set(lz.index) and lz.attrs["interpolated"] == [2017]
    sl = leap.city_series(df, "Shangluo")
    assert leap.windowed_reason(sl, 3) is not None


@pytest.mark.slow
def test_notebook_05_runs(tmp_path):
    from tests.nbrun import run_notebook

    out = run_notebook("05_cities_leap.ipynb", tmp_path, window=3, horizon_end=2030, n_sobol=8,
                       fast=True)
    assert out.is_file()


# ---------------------------------------------------------------- calibration

def test_calibration_base_year_exact_and_baseline_matches_forecast(tree):
    hist = pd.Series([3.0, 3.4, 3.9], index=[2019, 2020, 2021])
    fc = pd.Series([4.1, 4.3, 4.2, 4.0], index=[2022, 2023, 2024, 2025])
    cal = tree.calibrate(hist, fc)
    assert cal.base_year == 2021 and cal.end_year == 2025
    for sc in ("current_accounts", "baseline", "policy"):
        assert cal.totals(sc).loc[2021] == pytest.approx(3.9, rel=1e-12)
    got = cal.totals("baseline")
    assert np.max(np.abs(got.loc[2022:].to_numpy() / fc.to_numpy() - 1)) <= leap.CALIBRATION_RTOL
    # the policy inherits the activity path and lowers emissions through the lever only
    assert np.array_equal(cal.evaluate("policy")["root:activity"],
                          cal.evaluate("baseline")["root:activity"])
    assert np.all(cal.totals("policy").loc[2022:] < got.loc[2022:])
    # the original tree is untouched
    assert tree.base_year == 2020 and tree.totals("current_accounts").iloc[0] != 3.9


def test_calibration_bad_input(tree):
    with pytest.raises(ParameterError, match="consecutive years"):
        tree.calibrate(pd.Series([1.0, 2.0], index=[2020, 2021]),
                       pd.Series([2.0, 2.1], index=[2023, 2024]))
    with pytest.raises(DataError, match="must be > 0"):
        tree.calibrate(pd.Series([1.0, 0.0], index=[2020, 2021]))


# ---------------------------------------------------------------- LMDI

def test_lmdi_sums_exactly_to_the_gap(tree):
    dec = leap.lmdi(tree, "baseline", "policy")
    gap = tree.totals("policy") - tree.totals("baseline")
    per_year = dec.groupby("year")["effect"].sum()
    assert np.allclose(per_year.to_numpy(), gap.to_numpy(), rtol=0, atol=1e-12)
    assert gap.iloc[-1] < 0
    # by leaf too, and only the lever's share factors move (activity is inherited)
    leaf = dec.groupby(["branch", "year"])["effect"].sum()
    rb, rp = tree.run("baseline"), tree.run("policy")
    diff = rp.set_index(["branch", "year"])["emissions"] - rb.set_index(["branch", "year"])["emissions"]
    assert np.allclose(leaf.sort_index().to_numpy(), diff.sort_index().to_numpy(), atol=1e-12)
    moved = dec.loc[dec["effect"].abs() > 1e-15, "factor"].unique()
    assert set(moved) == {"share:root/b/clean", "share:root/b/dirty"}


def test_lmdi_exact_with_zero_leaves():
    spec = small_spec()
    spec["variables"]["lev"]["value"] = 0.0          # the clean leaf starts at zero
    spec["fuels"]["x"]["t_co2_per_tj"] = 0.0         # and branch a never emits
    t = leap.DemandTree.from_dict(spec)
    dec = leap.lmdi(t)
    gap = t.totals("policy") - t.totals("baseline")
    assert np.allclose(dec.groupby("year")["effect"].sum().to_numpy(), gap.to_numpy(), atol=1e-12)
    assert np.all(np.isfinite(dec["effect"]))


def test_copy_is_deep(tree):
    t2 = tree.copy()
    t2.set_expression("policy", "var:lev", 0.3)
    assert tree.scenarios["policy"]["expressions"]["var:lev"] != 0.3
    assert copy.deepcopy(small_spec()) == small_spec()


def test_scored_cities_is_the_one_sample_of_chapter_5_and_the_city_pages():
    cities = synthetic_cities()
    known = list(pd.unique(cities["city"]))
    assert leap.scored_cities(cities, "Lanzhou") is None  # every city
    fast = leap.scored_cities(cities, "Lanzhou", fast=True)
    assert fast[:6] == known[:6] and len(fast) == len(set(fast))
    assert {"Lanzhou", *leap.REPRESENTATIVES} <= set(fast)
    assert leap.scored_cities(cities, known[0], all_cities=3)[:3] == known[:3]
    with pytest.raises(ParameterError, match="all_cities"):
        leap.scored_cities(cities, "Lanzhou", all_cities=-1)


def test_leap_export_writes_a_workbook_that_reads_back(tmp_path):
    from carbonlab.cli import main

    out = tmp_path / "lanzhou.xlsx"
    assert main(["leap", "export", "兰州", "-o", str(out), "--horizon-end", "2027"]) == 0
    book = pd.read_excel(out, sheet_name=None)
    assert set(book) == {"summary", "results", "levers", "history"}
    res = book["results"]
    assert set(res["scenario"]) == {"baseline", "policy"}
    from carbonlab.data import load_cities

    cities = leap.with_nowcast(load_cities("teaching"), "teaching")
    run = leap.run_city(cities, "Lanzhou", horizon_end=2027, fast=True)
    tot = res.groupby(["scenario", "year"])["emissions_mt"].sum()
    np.testing.assert_allclose(tot.loc["policy"].to_numpy(), run.policy.totals().to_numpy(),
                               rtol=1e-9)
    assert not list(tmp_path.glob(".lanzhou.xlsx.*"))           # nothing half-written
    assert main(["leap", "export", "Atlantis", "-o", str(tmp_path / "x.xlsx")]) == 2
    assert not (tmp_path / "x.xlsx").exists()


# ---------------------------------------------------------------- the engine's LEAP expressions

def _expr_tree(**kw) -> dict:
    spec = {
        "name": "expr", "base_year": 2020, "end_year": 2023,
        "fuels": {"x": {"t_co2_per_tj": 100.0, "source": "test"}},
        "variables": {"gdp": {"value": 10.0}, "pop": {"value": 4.0}, "occ": {"value": 2.0},
                      "km": {"value": 100.0}, "ev0": {"value": 0.0, "fraction": True},
                      "evs": {"value": 0.5, "fraction": True}},
        "tree": {"name": "root", "activity": 1.0, "children": [
            {"name": "trips", "activity": 300.0, "label": "trips_pkm", "children": [
                {"name": "veh", "activity": {"formula": "1 / occ"}, "fuel": "x",
                 "intensity": {"formula": "2 * (1 - 0.5) ** 2"}}]}]},
        "scenarios": {"baseline": {"parent": "current_accounts", "expressions": {
            "var:gdp": {"growth": {2021: 0.10, 2023: 0.30}},
            "var:pop": {"growth": 0.0},
            "root/trips:activity": {"growth_as": {"refs": {"var:gdp": 0.5, "var:pop": 1.0}}}}}},
    }
    spec.update(kw)
    return spec


def test_growth_with_anchor_rates_growth_as_several_drivers_and_formulas():
    t = leap.DemandTree.from_dict(_expr_tree())
    v = t.evaluate("baseline")
    # rates 0.10 (2021), 0.20 (2022, interpolated), 0.30 (2023), compounded from 2020
    np.testing.assert_allclose(v["var:gdp"], [10.0, 11.0, 13.2, 17.16])
    np.testing.assert_allclose(v["root/trips:activity"], 300.0 * (v["var:gdp"] / 10.0) ** 0.5)
    res = t.run("baseline")
    e = 300.0 * (v["var:gdp"] / 10.0) ** 0.5 / 2.0 * 0.5        # trips x 1/occ x 2 (1 - .5)^2
    np.testing.assert_allclose(res["energy"].to_numpy(), e)
    assert set(res["activity_name"]) == {"root/trips/veh"}      # its own activity level
    np.testing.assert_allclose(res["activity"].to_numpy(), e / 0.5)
    bad = _expr_tree()
    bad["tree"]["children"][0]["children"][0]["intensity"] = {"formula": "__import__('os')"}
    with pytest.raises(DataError, match="not allowed"):
        leap.DemandTree.from_dict(bad)
    bad["tree"]["children"][0]["children"][0]["intensity"] = {"formula": "nope * 2"}
    with pytest.raises(DataError, match="unknown quantity 'var:nope'"):
        leap.DemandTree.from_dict(bad).run("baseline")
    mixed = _expr_tree()
    mixed["tree"]["children"].append({"name": "s", "share": 0.5, "fuel": "x"})
    with pytest.raises(DataError, match="mix shares and activity levels"):
        leap.DemandTree.from_dict(mixed)


def test_stock_expression_turns_the_fleet_over_by_hand():
    """The engine's stock expression = stock_turnover on the branch's vehicle-km / km."""
    stock = {"of": "root/trips/veh", "km_per_vehicle": "km", "sales_share": "evs",
             "stock_share": "ev0", "names": ["ev", "ice"],
             "survival": {"median_life": 8, "shape": 3, "max_age": 20}}
    spec = _expr_tree()
    spec["tree"]["children"][0]["children"][0] = {
        "name": "veh", "activity": {"formula": "1 / occ"},
        "intensity": {"stock": {**stock, "output": "fill"}}, "children": [
            {"name": "ev", "fuel": "x", "share": {"stock": {**stock, "output": "share"}}},
            {"name": "ice", "fuel": "x", "share": "remainder"}]}
    t = leap.DemandTree.from_dict(spec)
    res, vals, stocks = t.solve_run("baseline")
    need = vals["root/trips:activity"] / 2.0 / 100.0          # vehicle-km / km per vehicle
    surv = leap.survival_curve(8, 3, 20)
    v0 = leap.initial_vintages(need[0], surv, 0.05)
    ref = leap.stock_turnover(need, surv, {"ev": v0 * 0.0, "ice": v0}, {"ev": 0.5, "ice": 0.5},
                              t.years())
    (got,) = stocks.values()
    np.testing.assert_allclose(got.stock["ev"], ref.stock["ev"], rtol=1e-15)
    ev = res[res["branch"] == "trips/veh/ev"]["energy"].to_numpy()
    np.testing.assert_allclose(ev, ref.stock["ev"] * 100.0, rtol=1e-12)   # vehicles x km
    assert ev[0] == 0.0 and np.all(np.diff(ev) > 0)


def test_one_calculation_path():
    """The city model computes through the engine: no second stock, growth or diffusion path."""
    import ast

    calls: dict[str, set[str]] = {}
    for p in Path(leap.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                calls.setdefault(getattr(f, "id", getattr(f, "attr", "")), set()).add(p.name)
    for fn in ("stock_turnover", "growth", "growth_as", "diffuse", "survival_curve",
               "initial_vintages", "interp"):
        assert calls.get(fn, set()) <= {"engine.py"}, (fn, calls.get(fn))
    m = leap.CityModel.for_city("Lanzhou")
    assert isinstance(m.tree, leap.DemandTree)
    assert m.tree.resolution_order("policy") == ["policy", "baseline", "current_accounts"]


def test_a_city_model_added_to_the_table_reaches_the_city_layer():
    """leap's model lists and labels are views of the model table (one row, no second edit)."""
    from sklearn.linear_model import LinearRegression

    from carbonlab import models

    assert list(leap.CITY_MODELS) == [*leap.ML_MODELS, *leap.NAIVE_MODELS]
    assert all(leap.LABELS[n] == models.model_spec(n).city_label for n in leap.CITY_MODELS)
    spec = models.ModelSpec("ols_city", "OLS", lambda random_state=0, **kw: LinearRegression(**kw),
                            city_label="OLS")
    with models.registered(spec):
        assert "ols_city" in leap.CITY_MODELS and "ols_city" in leap.ML_MODELS
        assert leap.LABELS["ols_city"] == "OLS"
    assert "ols_city" not in leap.CITY_MODELS and "ols_city" not in leap.LABELS
