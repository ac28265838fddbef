"""Loaders of the issue-22 files, on the real mirror: the 2001-2022 CEADs release and its
comparison with the earlier one, the national v2 inventory, ``nbs-provinces/`` (both
formats, text values, two GDP vintages) and UN WPP 2024. Damaged copies give one-line
errors naming the file and the cell or line. Nothing here is committed data.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_real_data import REAL, _copy, pytestmark  # noqa: F401 (the mirror and its skip mark)

from carbonlab._util import DataError, ParameterError
from carbonlab.data import ceads, nbs_provinces, wpp
from carbonlab.regions import PROVINCES

# --------------------------------------------------------------------------- CEADs releases


@pytest.mark.slow  # reads both CEADs releases: 38 CPU-s measured
def test_v2_release_is_the_default_and_reaches_2022():
    tot = ceads.ceads_province_totals(REAL)
    assert ceads.RELEASE == "v2" and ceads.PROVINCE_YEARS == tuple(range(2001, 2023))
    assert sorted(tot["year"].unique()) == list(range(2001, 2023)) and len(tot) == 30 * 22
    m = tot.set_index(["region", "year"])["emissions_mt"]
    # README 11a spot checks
    assert m[("Beijing", 2017)] == pytest.approx(86.769, abs=1e-3)
    assert [round(m[("Beijing", y)], 2) for y in (2020, 2021, 2022)] == [76.78, 79.88, 71.55]
    sums = tot.groupby("year")["emissions_mt"].sum()
    assert [round(sums[y], 1) for y in (2020, 2021, 2022)] == [10964.0, 11436.5, 11408.5]
    v1 = ceads.ceads_province_totals(REAL, release="v1").set_index(["region", "year"])
    assert sorted(v1.index.get_level_values("year").unique()) == list(range(1997, 2020))
    assert v1.loc[("Beijing", 2017), "emissions_mt"] == pytest.approx(85.560, abs=1e-3)
    with pytest.raises(ParameterError, match="release='v3'"):
        ceads.ceads_province_totals(REAL, release="v3")


def test_release_differences_median_and_worst_per_province():
    r = ceads.release_differences(REAL)
    d = r.province_years
    assert set(d["year"]) == set(range(2001, 2020)) and len(d) == 30 * 19
    s = r.summary().set_index("region")
    assert list(s.index) == list(PROVINCES)
    a = d.assign(a=d["diff_pct"].abs())
    np.testing.assert_allclose(s["median_abs_diff_pct"], a.groupby("region")["a"].median()[s.index])
    # README 11a: Yunnan 2019 (process 1000x smaller in the old file) is the largest gap
    assert (s.loc["Yunnan", "worst_year"], round(s.loc["Yunnan", "worst_v2_mt"], 2),
            round(s.loc["Yunnan", "worst_v1_mt"], 2)) == (2019, 223.28, 185.96)
    assert s["worst_abs_diff_pct"].idxmax() == "Yunnan"
    # identical years (2001, 2002, 2004-2008) give zero differences
    assert (d.loc[d["year"].isin([2001, 2002, 2004, 2005, 2006, 2007, 2008]), "diff_mt"] == 0).all()
    text = r.describe()
    assert "2001-2022 release (v2)" in text and "Yunnan 2019" in text and "\n" not in text
    from carbonlab import data

    assert data.release_differences(REAL).describe() == text  # the package-level entry point


def test_national_v2_reaches_2022_and_equals_v1_before_2020():
    v2 = ceads.ceads_national(REAL, release="v2").set_index("year")["emissions_mt"]
    v1 = ceads.ceads_national(REAL, release="v1").set_index("year")["emissions_mt"]
    assert v2.index.max() == 2022 and v1.index.max() == 2019
    assert [round(v2[y], 1) for y in (2020, 2021, 2022)] == [9879.7, 10356.3, 10464.3]
    np.testing.assert_allclose(v2[v1.index], v1, rtol=1e-9)


# --------------------------------------------------------------------------- nbs-provinces


def test_nbs_provinces_spot_checks_both_formats():
    pop = nbs_provinces.series("population_10k", REAL).set_index(["region", "year"]).iloc[:, 0]
    assert pop[("Beijing", 2022)] == 2184
    nat = nbs_provinces.national_population(REAL).set_index("year")["population_10k"]
    assert (nat[2021], nat[2022], nat[2024]) == (141260, 141175, 140828)
    assert nat[2022] > pop.xs(2022, level="year").sum()  # national row > 30 provinces
    urb = nbs_provinces.series("urban_pct", REAL).set_index(["region", "year"]).iloc[:, 0]
    assert (urb[("Beijing", 2005)], urb[("Beijing", 2022)]) == (83.62, 87.57)
    cars = nbs_provinces.series("civil_vehicles_10k", REAL).set_index(["region", "year"])
    assert cars.iloc[:, 0][("Hebei", 2022)] == pytest.approx(1925.04, abs=0.01)
    gpc = nbs_provinces.series("gdp_per_capita_yuan", REAL).set_index(["region", "year"])
    assert gpc.iloc[:, 0][("Beijing", 2024)] == 228167  # NBS export, newest year first
    inc = nbs_provinces.series("disposable_income_yuan", REAL).set_index(["region", "year"])
    assert inc.iloc[:, 0][("Beijing", 2020)] == 69434
    ec = nbs_provinces.series("energy_consumption_10k_tce", REAL).set_index(["region", "year"])
    assert (ec.iloc[:, 0][("Beijing", 2019)], ec.iloc[:, 0][("Shandong", 2019)]) == (7360, 41390)
    gen = nbs_provinces.series("generation_total_gwh", REAL)
    assert gen["year"].max() == 2023 and gen.attrs["units"] == {"generation_total_gwh": "GWh"}
    for s in (pop, urb):
        assert set(s.index.get_level_values("region")) == set(PROVINCES)  # Tibet dropped


def test_nbs_gdp_vintages_stay_apart():
    """Inner Mongolia 2011 secondary value added: 8,037.69 (EPS first release) vs 4,044.0
    (NBS current vintage); both are offered under names that say which."""
    eps = nbs_provinces.series("secondary_first_release_100m_cny", REAL).set_index(
        ["region", "year"]).iloc[:, 0]
    cur = nbs_provinces.series("secondary_100m_cny", REAL).set_index(["region", "year"]).iloc[:, 0]
    assert eps[("Inner Mongolia", 2011)] == pytest.approx(8037.69)
    assert cur[("Inner Mongolia", 2011)] == pytest.approx(4044.0)
    assert "FIRST-RELEASE" in nbs_provinces.SERIES["gdp_first_release_100m_cny"][4]
    assert "CURRENT" in nbs_provinces.SERIES["secondary_100m_cny"][4]
    with pytest.raises(ParameterError, match="series='gdp'"):
        nbs_provinces.series("gdp", REAL)


@pytest.mark.parametrize("rel, cell, value, match", [
    ("nbs-provinces/gdp_1949-2024.xlsx", "D5", "12,3x", r"cell D5: not a number"),
    ("nbs-provinces/urban_population_2005-2024.xlsx", "C5", "-4", r"cell C5: negative value"),
    ("nbs-provinces/population_1949-2024.xlsx", "E1", "year", r"cell E1: expected a year"),
])
def test_nbs_provinces_bad_cell_is_named(tmp_path, rel, cell, value, match):
    import openpyxl

    root = _copy(tmp_path, rel)
    wb = openpyxl.load_workbook(root / rel)
    wb[wb.sheetnames[0]][cell] = value
    wb.save(root / rel)
    with pytest.raises(DataError, match=match) as e:
        nbs_provinces.eps_blocks(rel.split("/")[1], root, verify=False)
    assert rel.split("/")[1] in str(e.value) and "\n" not in str(e.value)


# --------------------------------------------------------------------------- UN WPP


def test_un_wpp_china_estimates_then_projection():
    w = wpp.un_wpp_population("China", REAL).set_index("year")
    assert w.index.min() == 1950 and w.index.max() == 2100
    assert (w.loc[2023, "kind"], w.loc[2024, "kind"]) == ("estimate", "projection")
    assert w.loc[2022, "population"] == 1_425_179_562
    assert round(w.loc[2030, "population"] / 1e6, 1) == 1398.2
    assert w.loc[2021, "population"] == w.loc[2000:2030, "population"].max()
    with pytest.raises(ParameterError, match="entity='Atlantis'"):
        wpp.un_wpp_population("Atlantis", REAL)


def test_un_wpp_bad_line_is_named(tmp_path):
    root = _copy(tmp_path, wpp.WPP_FILE)
    lines = (root / wpp.WPP_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(k for k, x in enumerate(lines) if x.startswith("China,CHN,2030,"))
    lines[i] = "China,CHN,2030,12,1398154000\n"  # both columns filled
    (root / wpp.WPP_FILE).write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=rf"line {i + 1}: China 2030 has both"):
        wpp.un_wpp_population("China", root, verify=False)
    with pytest.raises(DataError, match="sha256 mismatch"):
        wpp.un_wpp_population("China", root)


# --------------------------------------------------------------------------- the panel


@pytest.fixture(scope="module")
def real_panel():
    from carbonlab.data import load_panel

    return load_panel("ceads", REAL)


def test_real_panel_2005_2022_one_release_shares_from_volumes(real_panel):
    from carbonlab.data import panel as rp

    p = real_panel
    assert p.attrs["span"] == (2005, 2022) and p.attrs["release"] == ceads.RELEASE == "v2"
    assert len(p) == 30 * 18 and len(p.attrs["drivers"]) >= 13
    cov = p.attrs["coverage"].set_index("driver")
    through_2022 = cov[(cov["status"] != "unavailable") & (cov["last_year"] >= 2022)]
    assert len(through_2022) >= 13
    for d in ("gas", "fossil", "urban", "first", "tertrate"):
        assert p[d].dropna().between(0, 1).all(), d
    # gas and non-fossil shares are computed from the energy inventories, every year 2005-2022
    assert p[["gas", "fossil"]].notna().all().all()
    mix = rp.energy_mix(REAL).set_index(["region", "year"])
    np.testing.assert_allclose(p.set_index(["region", "year"])["gas"], mix["gas"].loc[
        p.set_index(["region", "year"]).index], rtol=1e-12)
    assert mix.loc[("Beijing", 2022), "gas"] > mix.loc[("Beijing", 2005), "gas"]
    # CE2 from the inventories' electricity balance (one function, ceads_energy's): the panel's
    # CE2 is its net imports x the grid factor; Beijing's series has no year-on-year jump > 50 %
    from carbonlab.data import ceads_energy

    net = ceads_energy.electricity_balance(REAL)
    ce2 = rp.ce2_electricity_only(REAL).merge(net, on=["region", "year"], suffixes=("", "_b"))
    assert len(ce2) == len(p) or set(p["year"]) <= set(ce2["year"])
    np.testing.assert_allclose(ce2["net_import_gwh"], ce2["net_import_gwh_b"], rtol=1e-12)
    bj = net[net["region"] == "Beijing"].set_index("year")["net_import_gwh"].loc[2005:2022]
    assert len(bj) == 18 and (bj > 0).all() and (bj.pct_change().abs().dropna() < 0.5).all()


def test_real_population_follows_un_wpp_within_one_percent(real_panel):
    """Issue 22 item 6: the 30-province total in 2030 is within 1 % of the WPP-implied path
    (the 2022 total x WPP 2030 / WPP 2022), and no province is extrapolated far from it."""
    from carbonlab.scenarios import population_path

    nat = real_panel.attrs["national_population"]
    assert round(nat[2030] / 1e6, 1) == 1398.2
    pop = population_path(real_panel, horizon=2030)
    tot = pop.groupby("year")["population_10k"].sum()
    implied = tot[2022] * nat[2030] / nat[2022]
    assert abs(tot[2030] / implied - 1) < 0.01
    assert tot[2030] < tot[2022]  # China's population falls on the UN's medium variant
    w = pop.pivot(index="year", columns="region", values="population_10k")
    change = w.loc[2030] / w.loc[2022] - 1
    assert change.max() < 0.10  # the earlier rule had Xinjiang +27.9 %, Tianjin +18.1 %
    assert change.min() > -0.25  # Heilongjiang's 2015-2022 decline (about -21 %) continues
    obs = real_panel.set_index(["region", "year"])["population_10k"]
    got = pop[~pop["projected"]].set_index(["region", "year"])["population_10k"]
    np.testing.assert_allclose(got.loc[obs.index], obs)


def test_real_projected_mix_shares_stay_off_zero(real_panel):
    from carbonlab import data
    from carbonlab.scenarios import driver_paths

    trend = driver_paths(real_panel, "baseline", drivers=["gas", "fossil"], targets=False)
    fut = trend[trend["projected"]]
    last = real_panel[real_panel["year"] >= 2018].groupby("region")[["gas", "fossil"]].min()
    for d in ("gas", "fossil"):  # the trend stops at the recent low (targets may go elsewhere)
        assert (fut[d].to_numpy() >= fut["region"].map(last[d]).to_numpy() - 1e-12).all(), d
    paths = driver_paths(real_panel, "baseline", drivers=["gas", "fossil"],
                         targets=data.load_targets("ceads", REAL))
    assert paths.loc[paths["projected"], "gas"].min() > 0.005  # no 0.000 gas shares in 2030
