"""Scenario inputs: roll-forward rule, anchors, adjustments, inheritance and bad input."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab._util import DataError, ParameterError
from carbonlab.scenarios import (
    SHARE_DRIVERS,
    driver_paths,
    list_scenarios,
    load_scenario,
    population_path,
    roll_forward,
)


def _panel(years=range(2010, 2022), regions=("Beijing", "Ningxia"), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r in regions:
        base = rng.uniform(0.05, 0.2)
        for k, y in enumerate(years):
            rows.append({"region": r, "year": y, "population_10k": 1000 * 1.01 ** k + rng.normal(0, 1),
                         "emissions_mt": 100 + k, "fossil": base + 0.01 * k + rng.normal(0, 0.002),
                         "gas": 0.05 + 0.004 * k, "tertrate": 0.4 + 0.01 * k ** 1.1,
                         "lcar": 4 + 0.1 * k - 0.002 * k * k + rng.normal(0, 0.01),
                         "first": 0.1 - 0.004 * k})
    return pd.DataFrame(rows)


def _write(tmp: Path, name: str, body: str) -> Path:
    p = tmp / f"{name}.yaml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


@pytest.fixture
def sdir(tmp_path: Path) -> Path:
    _write(tmp_path, "base", """
        name: base
        targets: false
        drivers: {}
    """)
    return tmp_path


# --------------------------------------------------------------------------- roll-forward


def test_roll_forward_is_mean_of_last_five_changes():
    rng = np.random.default_rng(1)
    x = list(np.cumsum(rng.normal(0.3, 1.0, 12)))
    got = roll_forward(x, 6, window=5)
    ref = list(x)
    for _ in range(6):  # independent form: mean of the 5 most recent first differences
        ref.append(ref[-1] + np.mean(np.diff(ref[-6:])))
    np.testing.assert_allclose(got, ref[-6:], rtol=1e-12)


def test_roll_forward_window4_and_short_history():
    x = [1.0, 2.0, 4.0, 7.0, 11.0]
    # window 4: the four changes inside the five years 1..11 -> mean (11-1)/4
    assert roll_forward(x, 1, window=4)[0] == pytest.approx(11 + 10 / 4)
    # fewer points than the window: the available changes are averaged
    assert roll_forward([1.0, 3.0], 1, window=5)[0] == pytest.approx(5.0)
    assert roll_forward([2.5], 3).tolist() == [2.5, 2.5, 2.5]
    with pytest.raises(ParameterError, match="empty"):
        roll_forward([], 2)


# --------------------------------------------------------------------------- paths


def test_trend_paths_follow_rule_and_keep_history(sdir):
    panel = _panel()
    sc = load_scenario("base", sdir)
    paths = driver_paths(panel, sc, drivers=["lcar", "fossil"], horizon=2030)
    for r, g in panel.groupby("region"):
        p = paths[paths["region"] == r].sort_values("year")
        assert p["year"].tolist() == list(range(2010, 2031))
        np.testing.assert_array_equal(p.loc[~p["projected"], "lcar"], g["lcar"])
        np.testing.assert_allclose(p.loc[p["projected"], "lcar"], roll_forward(g["lcar"], 9, 5))


def test_anchors_interpolate_then_roll_forward(sdir):
    _write(sdir, "plan", """
        name: plan
        parent: base
        drivers:
          fossil:
            Ningxia: {anchors: {2025: 0.30, 2028: 0.36}}
    """)
    panel = _panel()
    paths = driver_paths(panel, load_scenario("plan", sdir), drivers=["fossil"], horizon=2030)
    p = paths[paths["region"] == "Ningxia"].set_index("year")["fossil"]
    last = panel.loc[(panel["region"] == "Ningxia") & (panel["year"] == 2021), "fossil"].item()
    assert p[2025] == pytest.approx(0.30) and p[2028] == pytest.approx(0.36)
    assert p[2023] == pytest.approx(last + (0.30 - last) * 2 / 4)
    # after the last anchor: the moving average of the 5 changes dated 2024-2028
    assert p[2029] == pytest.approx(0.36 + np.mean(np.diff(p.loc[2023:2028])))
    assert p[2030] == pytest.approx(p[2029] + np.mean(np.diff(p.loc[2024:2029])))
    # Beijing has no anchor: it follows the trend rule
    b = paths[paths["region"] == "Beijing"].set_index("year")["fossil"]
    gb = panel.loc[panel["region"] == "Beijing", "fossil"]
    np.testing.assert_allclose(b.loc[2022:], roll_forward(gb, 9))


def test_child_adjusts_only_its_driver_and_region_beats_star(sdir):
    _write(sdir, "kid", """
        name: kid
        parent: base
        drivers:
          lcar:
            "*": {adjust: {2026: -0.2}}
            Beijing: {adjust: {2030: 0.1}}
    """)
    panel = _panel()
    base = driver_paths(panel, load_scenario("base", sdir), horizon=2030)
    kid = driver_paths(panel, load_scenario("kid", sdir), horizon=2030)
    for d in ("fossil", "gas", "tertrate", "first"):
        np.testing.assert_array_equal(base[d], kid[d])
    diff = (kid["lcar"] - base["lcar"]).to_numpy()
    yrs = kid["year"].to_numpy()
    nx = (kid["region"] == "Ningxia").to_numpy()
    bj = ~nx
    expect_nx = np.where(yrs > 2021, -0.2 * np.minimum(1, (yrs - 2021) / 5), 0)
    expect_bj = np.where(yrs > 2021, 0.1 * (yrs - 2021) / 9, 0)
    np.testing.assert_allclose(diff[nx], expect_nx[nx], atol=1e-12)
    np.testing.assert_allclose(diff[bj], expect_bj[bj], atol=1e-12)


def test_targets_used_when_enabled_and_shares_clipped(tmp_path):
    _write(tmp_path, "root", "name: root\ntargets: true\n")
    panel = _panel()
    panel.loc[panel["region"] == "Beijing", "gas"] = np.linspace(0.5, 0.95, 12)  # trend leaves [0, 1]
    targets = pd.DataFrame({"region": ["宁夏", "宁夏"], "driver": ["fossil", "fossil"],
                            "year": [2025, 2030], "value": [0.2, 0.3]})
    paths = driver_paths(panel, load_scenario("root", tmp_path), targets=targets, horizon=2030)
    nx = paths[paths["region"] == "Ningxia"].set_index("year")["fossil"]
    assert nx[2025] == pytest.approx(0.2) and nx[2030] == pytest.approx(0.3)
    assert paths["gas"].max() <= 1.0
    assert (paths.loc[(paths["region"] == "Beijing") & paths["projected"], "gas"] == 1.0).any()


def test_population_path_geometric_rule():
    panel = _panel()
    pop = population_path(panel, horizon=2025)
    g = panel[panel["region"] == "Beijing"]["population_10k"].to_numpy()
    p = pop[(pop["region"] == "Beijing") & pop["projected"]]["population_10k"].to_numpy()
    assert p[0] == pytest.approx(g[-1] * (g[-1] / g[-6]) ** (1 / 5))
    proj = pd.DataFrame({"region": "Beijing", "year": [2021, 2022, 2023],
                         "population_10k": [2000.0, 2020.0, 2030.0]})
    pop2 = population_path(panel[panel["region"] == "Beijing"], horizon=2024, projection=proj)
    q = pop2.set_index("year")["population_10k"]
    assert q[2022] == pytest.approx(g[-1] * 1.01) and q[2023] == pytest.approx(g[-1] * 1.015)


def test_shipped_scenarios_load():
    names = list_scenarios()
    assert {"baseline", "trend", "structural"} <= set(names)
    for n in names:
        sc = load_scenario(n)
        assert sc.chain[0] == "baseline" and sc.chain[-1] == n
    assert load_scenario("trend").targets is False and load_scenario("baseline").targets is True
    assert "lcar" in load_scenario("structural").drivers()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("drivers: {lcars: {'*': {adjust: {2030: 1}}}}", "unknown driver 'lcars'"),
        ("drivers: {fossil: {Ningxia: {anchors: {2030: 1.2}}}}", r"share 1.2 outside \[0, 1\]"),
        ("drivers: {gas: {'*': {anchors: {2030: -0.1}}}}", r"outside \[0, 1\]"),
        ("drivers: {lcar: {Atlantis: {adjust: {2030: 1}}}}", "Atlantis"),
        ("drivers: {lcar: {'*': {adjust: {2030: 1}, anchors: {2030: 1}}}}", "exactly one"),
        ("drivers: {lcar: {'*': {adjust: {2030: 1, 2025: 0}}}}", "one entry"),
        ("window: 0", "window"),
        ("colour: red", "unknown top-level"),
    ],
)
def test_bad_scenario_files(sdir, body, match):
    _write(sdir, "bad", f"name: bad\nparent: base\n{body}\n")
    with pytest.raises(DataError, match=match) as exc:
        load_scenario("bad", sdir)
    assert "bad.yaml" in str(exc.value) and "\n" not in str(exc.value)


def test_inheritance_cycle_and_missing_parent(tmp_path):
    _write(tmp_path, "a", "name: a\nparent: b\n")
    _write(tmp_path, "b", "name: b\nparent: c\n")
    _write(tmp_path, "c", "name: c\nparent: a\n")
    with pytest.raises(DataError, match="inheritance cycle a -> b -> c -> a"):
        load_scenario("a", tmp_path)
    _write(tmp_path, "self", "name: self\nparent: self\n")
    with pytest.raises(DataError, match="cycle"):
        load_scenario("self", tmp_path)
    _write(tmp_path, "orphan", "name: orphan\nparent: nobody\n")
    with pytest.raises(DataError, match="orphan.yaml: unknown scenario 'nobody'"):
        load_scenario("orphan", tmp_path)
    with pytest.raises(ParameterError, match="unknown scenario 'nothere'"):
        load_scenario("nothere", tmp_path)
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    with pytest.raises(DataError, match="not valid YAML"):
        load_scenario("broken", tmp_path)


def test_anchor_year_before_data_end(sdir):
    _write(sdir, "late", """
        name: late
        parent: base
        drivers:
          fossil:
            Beijing: {anchors: {2020: 0.2, 2030: 0.3}}
    """)
    with pytest.raises(DataError, match="late.yaml: driver fossil, region Beijing: anchor year 2020"):
        driver_paths(_panel(), load_scenario("late", sdir), horizon=2030)


def test_bad_targets_table(tmp_path):
    _write(tmp_path, "root", "name: root\ntargets: true\n")
    sc = load_scenario("root", tmp_path)
    bad = pd.DataFrame({"region": ["Ningxia"], "driver": ["fossil"], "year": [2030], "value": [1.5]})
    with pytest.raises(DataError, match=r"targets, row 0, column value.*outside \[0, 1\]"):
        driver_paths(_panel(), sc, targets=bad)
    early = bad.assign(value=0.3, year=2019)
    with pytest.raises(DataError, match="anchor year 2019 is not after"):
        driver_paths(_panel(), sc, targets=early)


def test_share_driver_list_matches_units():
    assert SHARE_DRIVERS == {"first", "tertrate", "gas", "fossil", "urban", "college", "garbage"}


# --------------------------------------------------------------------------- rules, saturation


def test_level_ma_is_the_mean_of_the_last_five_levels():
    # the study's example: the values 2018-2022 give 2023, 2019-2023 give 2024
    x = {2018: 1.0, 2019: 2.0, 2020: 3.0, 2021: 4.0, 2022: 5.0}
    got = roll_forward(list(x.values()), 2, window=5, rule="level_ma")
    assert got[0] == pytest.approx(3.0)  # mean of 2018-2022
    assert got[1] == pytest.approx(np.mean([2.0, 3.0, 4.0, 5.0, 3.0]))  # 2019-2023
    # the other reading continues the trend: (x_2022 - x_2018) / 4 with window=4
    assert roll_forward(list(x.values()), 1, window=4)[0] == pytest.approx(6.0)
    with pytest.raises(ParameterError, match="rule 'median'"):
        roll_forward([1.0, 2.0], 1, rule="median")


def test_rule_from_scenario_and_override(sdir):
    _write(sdir, "lv", "name: lv\nparent: base\nrule: level_ma\n")
    panel = _panel()
    sc = load_scenario("lv", sdir)
    assert sc.rule == "level_ma" and load_scenario("base", sdir).rule == "mean_change"
    a = driver_paths(panel, sc, drivers=["tertrate"])
    b = driver_paths(panel, load_scenario("base", sdir), drivers=["tertrate"], rule="level_ma")
    np.testing.assert_array_equal(a["tertrate"], b["tertrate"])
    assert a.attrs["rule"] == "level_ma"
    g = panel.loc[panel["region"] == "Beijing", "tertrate"].to_numpy()
    first = a.loc[(a["region"] == "Beijing") & (a["year"] == 2022), "tertrate"].item()
    assert first == pytest.approx(g[-5:].mean()) and first < g[-1]  # a rising series falls back


def test_logistic_fit_recovers_a_known_curve():
    from carbonlab.scenarios import logistic_fit

    years = np.arange(2005, 2022)
    true = 0.3 / (1 + np.exp(-(0.35 * (years - 2016.0))))
    fit = logistic_fit(years, true)
    assert fit.K == pytest.approx(0.3, rel=0.02) and fit.b == pytest.approx(0.35, rel=0.05)
    assert fit.t_mid == pytest.approx(2016.0, abs=0.3)
    np.testing.assert_allclose(fit(years), true, rtol=0.02)
    with pytest.raises(ParameterError, match="not rising"):
        logistic_fit(years, true[::-1])


def test_saturating_cars_grow_slower_than_the_rule(sdir):
    _write(sdir, "sat", "name: sat\nparent: base\nsaturate: [lcar]\nbands: true\n")
    panel = _panel()
    rolled = driver_paths(panel, load_scenario("base", sdir), drivers=["lcar"])
    sat = driver_paths(panel, load_scenario("sat", sdir), drivers=["lcar"])
    hist = ~sat["projected"]
    np.testing.assert_array_equal(sat.loc[hist, "lcar"], rolled.loc[hist, "lcar"])
    for r in ("Beijing", "Ningxia"):
        s = sat[sat["region"] == r].set_index("year")["lcar"]
        assert np.all(np.diff(s.loc[2021:]) >= -1e-12)  # still rising (or flat) ...
        assert np.diff(s.loc[2021:]).max() < 0.1  # ... below 10 % a year
    with pytest.raises(DataError, match="'saturate' must be a list of lcar"):
        _write(sdir, "bad", "name: bad\nparent: base\nsaturate: [fossil]\n")
        load_scenario("bad", sdir)
    with pytest.raises(DataError, match="'rule' must be one of"):
        _write(sdir, "bad", "name: bad\nparent: base\nrule: moving\n")
        load_scenario("bad", sdir)


def test_bands_keep_projected_shares_plausible(sdir):
    from carbonlab.scenarios import SHARE_BANDS

    _write(sdir, "banded", "name: banded\nparent: base\nbands: true\n")
    panel = _panel()
    panel.loc[panel["region"] == "Beijing", "first"] = np.linspace(0.05, 0.006, 12)  # falls fast
    free = driver_paths(panel, load_scenario("base", sdir), drivers=["first"])
    banded = driver_paths(panel, load_scenario("banded", sdir), drivers=["first"])
    assert free["first"].min() < SHARE_BANDS["first"][0]
    assert banded.loc[banded["projected"], "first"].min() == pytest.approx(SHARE_BANDS["first"][0])


def test_teaching_baseline_cars_are_plausible_in_every_scenario():
    """Issue 13: national private cars in 2030 between 3 and 4.5 亿 on the baseline, and no
    province's cars grow faster than 15 %/yr in any scenario year."""
    from carbonlab import data

    panel, targets = data.load_panel("teaching"), data.load_targets("teaching")
    for name in list_scenarios():
        for rule in ("mean_change", "level_ma"):
            paths = driver_paths(panel, name, drivers=["lcar"], targets=targets, rule=rule)
            cars = np.exp(paths.pivot(index="region", columns="year", values="lcar"))
            growth = cars.pct_change(axis=1).loc[:, 2022:]
            assert growth.max().max() < 0.15, (name, rule, growth.max(axis=1).idxmax())
            if name == "baseline":
                assert 3e4 <= cars[2030].sum() <= 4.5e4, cars[2030].sum()


def test_teaching_baseline_shares_stay_in_bands():
    from carbonlab import data
    from carbonlab.scenarios import SHARE_BANDS

    panel = data.load_panel("teaching")
    drivers = ["fossil", "gas", "tertrate", "first"]
    paths = driver_paths(panel, "baseline", drivers=drivers, targets=data.load_targets("teaching"))
    last = panel[panel["year"] == panel["year"].max()].set_index("region")
    fut = paths[paths["projected"]]
    for d in drivers:
        lo, hi = SHARE_BANDS[d]
        lo_r = np.minimum(lo, fut["region"].map(last[d]).to_numpy())
        hi_r = np.maximum(hi, fut["region"].map(last[d]).to_numpy())
        assert ((fut[d] >= lo_r - 1e-12) & (fut[d] <= hi_r + 1e-12)).all(), d


# --------------------------------------------------------------------------- issue 22 rules


def test_mix_shares_never_roll_below_their_recent_low(sdir):
    """A falling gas share rolled forward to 2030 used to reach 0.000 (Xinjiang): the trend now
    stops at the lowest of the last five observed values; other shares keep the rule."""
    from carbonlab.scenarios import MIX_FLOOR_DRIVERS

    assert set(MIX_FLOOR_DRIVERS) == {"gas", "fossil"}
    panel = _panel()
    panel.loc[panel["region"] == "Ningxia", "gas"] = np.linspace(0.12, 0.02, 12)  # falling
    panel.loc[panel["region"] == "Ningxia", "first"] = np.linspace(0.12, 0.02, 12)
    p = driver_paths(panel, load_scenario("base", sdir), drivers=["gas", "first"], horizon=2030)
    nx = p[(p["region"] == "Ningxia") & p["projected"]]
    low = float(np.linspace(0.12, 0.02, 12)[-5:].min())
    assert nx["gas"].min() == pytest.approx(low) and (nx["gas"] >= low - 1e-12).all()
    assert nx["first"].min() < low  # not a mix share: the rule alone (then clipped at 0)
    rising = p[(p["region"] == "Beijing") & p["projected"]]["gas"].to_numpy()
    assert np.all(np.diff(rising) > 0)  # a rising share is untouched


def test_official_population_rule_follows_the_national_path():
    """Real-data rule: the provinces' total follows the national path scaled to the last
    observed year; each share moves on its recent trend and the shares sum to one."""
    years = range(2013, 2023)
    rows = []
    for k, y in enumerate(years):
        a, b = 1000 + 20 * k, 2000 - 10 * k  # A gains share, B loses it
        rows += [{"region": "Beijing", "year": y, "population_10k": a},
                 {"region": "Ningxia", "year": y, "population_10k": b}]
    panel = pd.DataFrame(rows)
    national = {y: 1e9 * (1.0 - 0.004 * max(0, y - 2021)) for y in range(2000, 2031)}
    pop = population_path(panel, horizon=2030, national=national)
    tot = pop.groupby("year")["population_10k"].sum()
    t0 = tot[2022]
    for y in range(2023, 2031):
        assert tot[y] == pytest.approx(t0 * national[y] / national[2022], rel=1e-12)
    w = pop.pivot(index="year", columns="region", values="population_10k")
    share = w["Beijing"] / w.sum(axis=1)
    assert np.all(np.diff(share.loc[2022:].to_numpy()) > 0)  # trend continues
    assert pop.loc[~pop["projected"], "population_10k"].tolist() == panel.sort_values(
        ["region", "year"])["population_10k"].tolist()
    # the panel can carry the path in attrs (as the real panel does); teaching panels do not
    panel.attrs["national_population"] = national
    pd.testing.assert_frame_equal(population_path(panel, horizon=2030), pop)
    with pytest.raises(DataError, match="national population path: no value for 2031"):
        population_path(panel, horizon=2031)
