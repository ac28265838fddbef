"""Tests of carbonlab.leap: expressions, tree arithmetic, inheritance, calibration, LMDI, Sobol."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab import leap
from carbonlab._util import DataError, ParameterError, repo_root

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
    assert d[1] - d[0] == pytest.approx(0.05 * s[1])   # percentage points x diffusion stage
    assert d.max() == pytest.approx(0.6) and np.all(np.diff(d) >= 0)  # capped at K
    # a parent already above K is never pulled down
    hi = leap.diffuse(yrs, np.full(len(yrs), 0.7), K=0.6, rate=0.05, r=0.2, t0=2021, base_year=2020)
    assert np.all(hi == 0.7)


# ---------------------------------------------------------------- tree arithmetic

def test_tree_arithmetic_by_hand(tree):
    res = tree.run("current_accounts")
    assert list(res.columns) == ["branch", "sector", "fuel", "year", "energy", "emissions",
                                 "scenario"]
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
        "diffuse": {"K": 1.5, "rate": 0.5, "r": 0.2, "t0": 2020}}
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


@pytest.mark.parametrize("path", sorted(leap.scenario_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenario_files_validate_and_run(path):
    t = leap.DemandTree.from_yaml(path)
    assert {"baseline", "policy"} <= set(t.scenarios)
    assert t.resolution_order("policy")[-1] == "current_accounts"
    b, p = t.totals("baseline"), t.totals("policy")
    assert b.iloc[0] == pytest.approx(p.iloc[0])           # same base year
    assert np.all(p.to_numpy() <= b.to_numpy() + 1e-12)   # the policy never adds CO2 here
    lev = t.levers("policy")
    assert set(lev["lever"]) == {"ev_share", "shared_share", "traffic_brain", "pv_share",
                                 "energy_saving"}
    # the study's calibration changes, read as percentage points per year
    rates = dict(zip(lev["lever"], lev["rate"], strict=True))
    assert rates == {"ev_share": 0.05, "shared_share": 0.02, "traffic_brain": 0.01,
                     "pv_share": 0.05, "energy_saving": 0.05}
    assert set(lev["r"]) == {0.2}


def test_template_covers_study_cities():
    assert leap.REPRESENTATIVES == ("Beijing", "Lanzhou", "Hohhot", "Shangluo")
    for c, py in leap.DEFAULT_PILOTS.items():
        assert leap.DemandTree.for_city(c).pilot_year == py
    t = leap.DemandTree.for_city("Somewhere")
    assert t.city == "Somewhere" and t.pilot_year is None
    assert t.resolve_t0("pilot") == t.base_year + 1   # a never-pilot city: hypothetical pilot


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


# ---------------------------------------------------------------- sensitivity

def test_with_policy_and_sobol_are_seeded(tree):
    t2 = tree.with_policy(r=0.4, K={"lev": 0.3}, rate={"lev": 0.2})
    lv = t2.levers().iloc[0]
    assert (lv.K, lv.rate, lv.r) == (0.3, 0.2, 0.4)
    assert tree.levers().iloc[0].K == 0.5                 # original unchanged
    with pytest.raises(ParameterError, match="unknown lever"):
        tree.with_policy(K={"nope": 0.3})
    a = leap.sobol_sensitivity(tree, n=16, random_state=3)
    b = leap.sobol_sensitivity(tree, n=16, random_state=3)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["parameter"]) == {"r", "K:lev", "rate:lev"}
    assert a.attrs["n_runs"] == 16 * (3 + 2)
    red = a[a["output"] == "reduction_2025_pct"].set_index("parameter")
    # with a single lever whose rate drives everything, rate matters more than r
    assert red.loc["rate:lev", "ST"] > red.loc["r", "ST"]
    with pytest.raises(ParameterError, match="power of 2"):
        leap.sobol_sensitivity(tree, n=10)
    mc1 = leap.monte_carlo(tree, n=20, random_state=1)
    mc2 = leap.monte_carlo(tree, n=20, random_state=1)
    pd.testing.assert_frame_equal(mc1, mc2)
    assert (mc1["reduction_2025_pct"] > 0).all()


# ---------------------------------------------------------------- city data and ML baseline

def synthetic_cities(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    yrs = np.arange(2002, 2023)
    rows = []
    for i, (c, py) in enumerate(leap.DEFAULT_PILOTS.items()):
        t = yrs - 2002
        level = (20 + 10 * i) * (1 + 0.06 * t - 0.0012 * t ** 2) + rng.normal(0, 0.3, len(t))
        for y, v in zip(yrs, level, strict=True):
            rows.append({"city": c, "city_zh": f"zh{i}", "province": "p", "year": int(y),
                         "emissions_mt": float(v), "pilot_year": py})
    df = pd.DataFrame(rows)
    df["pilot_year"] = df["pilot_year"].astype("Int64")
    return df


def test_city_series_longest_run_and_errors():
    df = synthetic_cities()
    s = leap.city_series(df, "Lanzhou", 3)
    assert list(s.index) == list(range(2002, 2023)) and s.attrs["dropped_years"] == []
    assert leap.city_series(df, "zh1", 3).equals(s)          # Chinese name works too
    gap = df[~((df["city"] == "Lanzhou") & df["year"].isin([2006, 2007]))]
    s2 = leap.city_series(gap, "Lanzhou", 3)
    assert s2.index.min() == 2008 and s2.attrs["dropped_years"] == [2002, 2003, 2004, 2005]
    short = df[(df["city"] != "Hohhot") | (df["year"] >= 2018)]
    with pytest.raises(DataError, match="Hohhot.*5 contiguous years.*too few for window=3"):
        leap.city_series(short, "Hohhot", 3)
    with pytest.raises(ParameterError, match="not in the cities table"):
        leap.city_series(df, "Atlantis", 3)
    with pytest.raises(ParameterError, match="window"):
        leap.city_series(df, "Lanzhou", 0)


def test_read_pilot_list(tmp_path):
    p = tmp_path / "pilots.csv"
    p.write_text("city,pilot_year\nBeijing,2012\nShangluo,\n", encoding="utf-8")
    df = leap.read_pilot_list(p)
    assert str(df["pilot_year"].dtype) == "Int64"
    assert df["pilot_year"].iloc[0] == 2012 and pd.isna(df["pilot_year"].iloc[1])
    p.write_text("city,pilot_year\nBeijing,2012\nLanzhou,twenty\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 3, column pilot_year: 'twenty'"):
        leap.read_pilot_list(p)
    p.write_text("city,year\nBeijing,2012\n", encoding="utf-8")
    with pytest.raises(DataError, match="columns must be exactly"):
        leap.read_pilot_list(p)
    p.write_text("city,pilot_year\nBeijing,2012\nBeijing,2013\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 3, column city: duplicate"):
        leap.read_pilot_list(p)
    example = repo_root() / "data" / "scenarios" / "pilot_cities_example.csv"
    ex = leap.read_pilot_list(example)
    assert dict(zip(ex["city"], ex["pilot_year"].astype(object).where(ex["pilot_year"].notna(),
                                                                      None), strict=True)) \
        == leap.DEFAULT_PILOTS


def test_forecast_and_model_comparison_are_deterministic():
    s = leap.city_series(synthetic_cities(), "Beijing", 3)
    f1 = leap.forecast_baseline(s, 3, 2030, random_state=0)
    f2 = leap.forecast_baseline(s, 3, 2030, random_state=0)
    assert list(f1.index) == list(range(2023, 2031))
    pd.testing.assert_series_equal(f1, f2)
    tab = leap.compare_models(s, 3, models=("BP", "SVR", "RF"), random_state=0)
    assert list(tab["model"]) == ["BP", "SVR", "RF"]
    assert (tab[["rmse_train_mt", "rmse_test_mt"]] > 0).all().all()
    # RF memorises its training windows better than it extrapolates
    rf = tab.set_index("model").loc["RF"]
    assert rf.rmse_train_mt < rf.rmse_test_mt
    with pytest.raises(ParameterError, match="horizon_end"):
        leap.forecast_baseline(s, 3, 2020)
    with pytest.raises(ParameterError, match="unknown model"):
        leap.compare_models(s, 3, models=("GPT",))


def test_run_city_and_compare_cities():
    df = synthetic_cities()
    run = leap.run_city(df, "Lanzhou", window=3, horizon_end=2030)
    assert run.pilot_year == 2013 and run.tree.base_year == 2022
    tot = run.results.groupby(["scenario", "year"])["emissions"].sum()
    assert tot.loc[("baseline", 2022)] == pytest.approx(run.history.loc[2022], rel=1e-12)
    assert np.allclose(tot.loc["baseline"].loc[2023:].to_numpy(), run.forecast.to_numpy(),
                       rtol=leap.CALIBRATION_RTOL)
    summ = run.summary()
    assert summ["reduction_end_pct"] > 0
    # a user pilot list overrides the defaults; the cities table's pilot_year is a fallback
    run2 = leap.run_city(df, "Lanzhou", pilots={"Lanzhou": None}, horizon_end=2030)
    assert run2.pilot_year is None
    tab, runs = leap.compare_cities(df, horizon_end=2030)
    assert list(tab["city"]) == list(leap.REPRESENTATIVES) and set(runs) == set(tab["city"])
    tab2, _ = leap.compare_cities(df, horizon_end=2030)
    pd.testing.assert_frame_equal(tab, tab2)
    short = df[(df["city"] != "Hohhot") | (df["year"] >= 2018)]
    with pytest.raises(DataError, match="Hohhot"):
        leap.compare_cities(short, horizon_end=2030)
    tab3, runs3 = leap.compare_cities(short, horizon_end=2030, skip_errors=True)
    assert "Hohhot" not in runs3 and "too few" in tab3.attrs["skipped"]["Hohhot"]


def test_plots_draw(tree):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bj = leap.DemandTree.for_city("Beijing")
    ax = leap.plot_tree(bj)
    assert len(ax.texts) == 2 * len(bj.branches) - 1   # one box per branch, one arrow per edge
    ax = leap.plot_diffusion(leap.DEFAULT_PILOTS)
    assert len(ax.lines) == len(leap.DEFAULT_PILOTS) + 1
    si = leap.sobol_sensitivity(tree, n=8)
    leap.plot_sensitivity(si)
    leap.plot_lmdi(leap.lmdi(tree), 2025)
    plt.close("all")


def test_real_cities_if_available():
    data_dir = os.environ.get("CARBONLAB_DATA_DIR")
    if not data_dir or not Path(data_dir, "ceads-cities").is_dir():
        pytest.skip("CARBONLAB_DATA_DIR with ceads-cities not set")
    from carbonlab.data import load_cities

    df = load_cities("ceads")
    s = leap.city_series(df, "Beijing", 3)
    assert s.index.max() <= 2019 and np.all(np.diff(s.index) == 1)


@pytest.mark.slow
def test_notebook_05_runs(tmp_path):
    from tests.nbrun import run_notebook

    out = run_notebook("05_cities_leap.ipynb", tmp_path, window=3, horizon_end=2030, n_sobol=8,
                       fast=True)
    assert out.is_file()


def test_copy_is_deep(tree):
    t2 = tree.copy()
    t2.set_expression("policy", "var:lev", 0.3)
    assert tree.scenarios["policy"]["expressions"]["var:lev"] != 0.3
    assert copy.deepcopy(small_spec()) == small_spec()
