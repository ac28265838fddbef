"""The 2007 check (CESY 2008 balances x factor sets vs CEADs 2007), on the real files.

Pins what explains the national Other Gas gap: the yearbook's combusted volume and CEADs'
volume agree province by province (same rows, same units), so the gap is a factor term.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from carbonlab._util import ParameterError, repo_root

REAL = Path(os.environ.get("CARBONLAB_DATA_DIR", repo_root().parent / "shared" / "data"))
pytestmark = pytest.mark.skipif(not (REAL / "MANIFEST.csv").is_file(),
                                reason="real-data mirror not found")


@pytest.fixture(scope="module")
def chk(monkeypatch_module):
    from carbonlab.accounting import check_2007

    return check_2007()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setenv("CARBONLAB_DATA_DIR", str(REAL))
    yield mp
    mp.undo()


@pytest.mark.slow  # check_2007() (the chk fixture): ~60 CPU-s
def test_per_province_table_and_report(chk):
    from carbonlab.regions import PROVINCES

    for fs, d in chk.by_province.groupby("factor_set"):
        assert sorted(d["region"]) == sorted(PROVINCES), fs
        assert d["rel_diff"].notna().all(), fs
    text = chk.report("ndrc2011")
    for region in PROVINCES:
        assert f"  {region} " in text
    assert "Other Gas, China" in text and "volume" in text and "factor" in text
    og = chk.other_gas
    assert set(og["factor_set"]) == {"ndrc2011", "ipcc2006", "ceads"}
    assert (og.groupby("factor_set")["region"].nunique() == 30).all()
    with pytest.raises(ParameterError, match="factor_set"):
        chk.report("nope")


@pytest.mark.slow  # check_2007() (the chk fixture): ~60 CPU-s
def test_other_gas_decomposition_adds_up(chk):
    og = chk.other_gas
    np.testing.assert_allclose(og["volume_term_mt"] + og["factor_term_mt"], og["gap_mt"],
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(og["factor_term_recovered_mt"] + og["factor_term_manufactured_mt"],
                               og["factor_term_mt"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(og["accounted_mt"] - og["ceads_mt"], og["gap_mt"], rtol=0, atol=1e-9)
    nat = chk.national[chk.national["fuel"] == "Other Gas"].set_index("factor_set")
    on = chk.other_gas_national.set_index("factor_set")
    for fs in on.index:
        gap = nat.loc[fs, "accounted_mt"] - nat.loc[fs, "ceads_mt"]
        assert on.loc[fs, "gap_mt"] == pytest.approx(gap, abs=1e-9)
        assert on.loc[fs, "volume_term_mt"] + on.loc[fs, "factor_term_mt"] == pytest.approx(gap, abs=1e-9)
        assert on.loc[fs, "rel_diff"] == pytest.approx(nat.loc[fs, "rel_diff"], abs=1e-12)
    # one CEADs factor for every set, and the sets differ only in their factor term
    assert on["ceads_kg_per_m3"].nunique() == 1
    assert on["volume_term_mt"].nunique() == 1


@pytest.mark.slow  # check_2007() (the chk fixture): ~60 CPU-s
def test_ceads_other_gas_is_our_volume_times_one_factor(chk):
    """Scope and units: CEADs' Other Gas CO2 per m3 of the yearbook's combusted other gas
    (final use - non-energy use + thermal power and heating inputs, 10^8 m3) is one number in
    every province but those with non-energy use, so the gap is not a volume (scope) gap."""
    og = chk.other_gas[chk.other_gas["factor_set"] == "ndrc2011"].set_index("region")
    n = chk.other_gas_national.set_index("factor_set").loc["ndrc2011"]
    assert n["n_uniform"] >= n["n_with_gas"] - 1
    assert og.loc["Sichuan", "uniform"]  # its gas header says 万吨; the gas is in 10^8 m3
    # the volume term is small beside the factor term
    assert abs(n["volume_term_mt"]) < 0.01 * abs(n["factor_term_mt"])


def test_scope_rows_are_the_ones_ceads_used():
    """Alternative rows break the uniformity that our scope has: leaving out the thermal power
    and heating inputs, or adding losses and the gas fired in coke ovens and gas works, would not
    be CEADs' volume. The only row CEADs counts that we do not is other gas's non-energy use
    (Heilongjiang's 4.92 x 10^8 m3)."""
    from carbonlab.data import cesy2008, real
    from carbonlab.regions import PROVINCES

    ce = real.ceads_province_fuels(REAL)
    ce = ce[(ce["year"] == 2007) & (ce["fuel"] == "Other Gas")].set_index("region")["emissions_mt"]
    items = {}
    for r in PROVINCES:
        b = cesy2008.energy_balance(r, REAL)
        items[r] = b[b["fuel"] == "other_gas"].set_index("item")["quantity"]

    def n_uniform(volume):
        v = {r: volume(g) for r, g in items.items()}
        ratio = np.array([ce[r] / v[r] for r in PROVINCES if v[r] >= 0.005 and ce[r] > 0])
        return int((np.abs(ratio / np.median(ratio) - 1) <= 0.005).sum())

    ours = n_uniform(lambda g: g["final_consumption"] - g["non_energy_use"] - g["thermal_power"]
                     - g["heating"])
    final_only = n_uniform(lambda g: g["final_consumption"] - g["non_energy_use"])
    # gas fired in coke ovens and gas works (Tianjin, Fujian, Shaanxi) and losses are not in it
    with_more = n_uniform(lambda g: g["final_consumption"] - g["non_energy_use"]
                          - g["thermal_power"] - g["heating"] + g["losses"]
                          - min(g["coking"], 0.0) - min(g["gas_making"], 0.0))
    assert ours >= 26 and ours > final_only and ours > with_more
    # CEADs keeps non-energy use in: its Heilongjiang volume is the final use, 27.69
    f = np.median([ce[r] / (items[r]["final_consumption"] - items[r]["thermal_power"]
                            - items[r]["heating"]) for r in ("Hebei", "Liaoning", "Jiangsu")])
    assert ce["Heilongjiang"] / f == pytest.approx(items["Heilongjiang"]["final_consumption"],
                                                   rel=0.005)


def test_statistics_own_calorific_value_of_other_gas():
    from carbonlab.data import cesy2008

    nc = cesy2008.national_conversion_2007(REAL).set_index("fuel")
    assert nc.loc["other_gas", "spread"] < 1e-6 and nc.loc["other_gas", "cells"] >= 10
    assert nc.loc["other_gas", "kgce_per_base"] == pytest.approx(0.28758, abs=1e-5)
    # the fuels with one printed factor in the appendix are converted with it
    assert nc.loc["natural_gas", "kgce_per_base"] == pytest.approx(1.33)
    assert nc.loc["gasoline", "kgce_per_base"] == pytest.approx(1.4714)


@pytest.mark.slow  # check_2007() (the chk fixture): ~60 CPU-s
def test_plot_other_gas_gap(chk):
    import matplotlib

    matplotlib.use("Agg")
    from carbonlab.accounting import plot_other_gas_gap

    ax = plot_other_gas_gap(chk, "ndrc2011", top=5)
    og = chk.other_gas[chk.other_gas["factor_set"] == "ndrc2011"]
    largest = og.loc[og["gap_mt"].abs().idxmax(), "region"]
    assert ax.get_xticklabels()[0].get_text() == largest  # the largest gap first
    assert len(ax.patches) == 3 * 5
    with pytest.raises(ParameterError, match="factor_set"):
        plot_other_gas_gap(chk, "nope")


@pytest.mark.slow  # check_2007() (the chk fixture): ~60 CPU-s
def test_other_gas_volume_and_factor_terms_per_m3(chk):
    """Item 7 of issue 22: volumes within ±5 % of CEADs' (the criterion), the gap a factor
    term, every gas factor per m3 below the physical limit of its molecules."""
    from carbonlab.accounting import OTHER_GAS_VOLUME_TOL, other_gas_per_m3
    from carbonlab.data.ceads_fuels import ceads_fuel_factors

    on = chk.other_gas_national.set_index("factor_set")
    assert on["volumes_within"].all()
    assert abs(on.loc["ndrc2011", "volume_ratio"] - 1) <= OTHER_GAS_VOLUME_TOL
    # CEADs' factor estimated from the 2007 balances is the one derived from its 2001-2022 files
    derived = ceads_fuel_factors(REAL).set_index("fuel").loc["other_gas", "factor_kg_per_unit"]
    assert on["ceads_kg_per_m3"].iloc[0] == pytest.approx(derived, rel=1e-4)
    t = other_gas_per_m3(chk, "ndrc2011").set_index("source")
    assert (t["kg_per_m3"] <= t["limit_kg_per_m3"]).all()
    assert (t["limit_kg_per_m3"] >= 1.96).all()
    # measured steel-works gases carry more CO2 per m3 than CEADs' one factor, and the 2007
    # gap with the measured blend is smaller than with the ndrc2011 recovered-gas factors
    meas = t.loc["measured: recovered blend"]
    assert meas["kg_per_m3"] > t.loc["CEADs (one factor for all Other Gas)", "kg_per_m3"]
    assert 0 < meas["gap_2007"] < t.loc["ndrc2011: recovered gas", "gap_2007"]
    with pytest.raises(ParameterError, match="factor_set"):
        other_gas_per_m3(chk, "nope")
