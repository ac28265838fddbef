"""A city's current accounts from data: its province's CEADs structure scaled to the city."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from carbonlab import leap
from carbonlab._util import DataError


@pytest.fixture(scope="module")
def cities() -> pd.DataFrame:
    d = os.environ.get("CARBONLAB_DATA_DIR")
    if not d or not Path(d).is_dir():
        pytest.skip("CARBONLAB_DATA_DIR not set")
    from carbonlab.data import load_cities

    try:
        return load_cities("ceads")
    except DataError as exc:
        pytest.skip(f"ceads cities unavailable: {exc}")


def test_lanzhou_accounts_are_gansus_structure_scaled(cities):
    from carbonlab.data.ceads import ceads_province_sectors

    h = leap.city_series(cities, "Lanzhou")
    year, total = int(h.index.max()), float(h.iloc[-1])
    m = leap.CityModel.for_city("Lanzhou").with_accounts("Gansu", year, total)
    sec = ceads_province_sectors()
    g = sec[(sec["region"] == "Gansu") & (sec["year"] == year)]
    ratio = total / g["emissions_mt"].sum()
    run = m.run("baseline")
    r0 = run.results[run.results["year"] == year]
    # every tonne of the base year is the data's: the total, process CO2 as its own branch,
    # the power plants' fuel and the metals branch (four CEADs sectors)
    assert r0["emissions_mt"].sum() == pytest.approx(total, rel=1e-9)
    assert r0.loc[r0["sector"] == "process", "emissions_mt"].sum() == pytest.approx(
        g.loc[g["fuel"] == "process", "emissions_mt"].sum() * ratio, rel=1e-9)
    assert (r0.loc[r0["sector"] == "process", "energy_tj"] == 0).all()
    power = g[g["sector"].astype(str).map(leap.BRANCH_OF_SECTOR) == "power"]
    assert r0.loc[r0["sector"] == "power", "emissions_mt"].sum() == pytest.approx(
        power["emissions_mt"].sum() * ratio, rel=1e-9)
    metals = g[g["sector"].astype(str).map(leap.BRANCH_OF_SECTOR) == "metals"]
    assert r0.loc[r0["branch"].str.startswith("industry/metals"), "emissions_mt"].sum() \
        == pytest.approx(metals["emissions_mt"].sum() * ratio, rel=1e-9)
    # calibration to the inventory needs no correction; policy = baseline in the base year
    cal = m.calibrate(h)
    assert 0.8 <= cal.scale <= 1.25
    assert cal.total_emissions("policy")[0] == cal.total_emissions("baseline")[0]
    assert "proxy" in cal.spec["accounts"]["source"]
    # the energy balance checks the tree's fuel use against the data's supply (base year)
    bal = leap.energy_balance(run)
    res = leap.balance_residual(bal).set_index(["fuel", "year"])["residual_tj"]
    use = bal[(bal["year"] == year) & (bal["flow"] == "supply")].set_index("fuel")["energy_tj"]
    for fuel in ("coal", "oil", "natural_gas", "gasoline", "diesel"):
        assert abs(res.loc[(fuel, year)]) <= 1e-6 * max(use[fuel], 1.0), fuel


@pytest.mark.slow
def test_every_runnable_city_calibrates_within_the_band_and_the_policy_varies(cities):
    t = leap.policy_spread(cities)
    assert len(t) >= 200
    assert t["calibration_factor"].between(0.8, 1.25).all()
    red = t["reduction_2035_pct"]
    assert red.quantile(0.75) - red.quantile(0.25) > 0.1        # not a constant any more
    text = leap.policy_spread_sentence(t)
    assert "interquartile range" in text and f"Across {len(t)} cities" in text
