"""Accounting recomputed from the CEADs energy inventories (issue 22, items 3 and 4).

The derivation is first checked on a made-up inventory whose factors are known; then, on
the real files: CEADs' factors derived from its own energy and emission files, CE1 of
every province-year against CEADs' inventory, and the net imported electricity of the
inventories' electricity balance against the inter-provincial flows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab._util import DataError, ParameterError, repo_root
from carbonlab.data import ceads_fuels as cf
from carbonlab.data.ceads import CEADS_SECTORS


def _real_dir() -> Path:
    env = os.environ.get("CARBONLAB_DATA_DIR")
    return Path(env) if env else repo_root().parent / "shared" / "data"


REAL = _real_dir()
needs_real = pytest.mark.skipif(not (REAL / "MANIFEST.csv").is_file(),
                                reason=f"real-data mirror not found at {REAL}")


# --------------------------------------------------------------------------- made-up inventory
def _made_up(seed: int = 0):
    """Energy inventory and CEADs-style CO2 for 3 provinces x 2 years with known factors:
    coal 1.5 kg/kg (1.7 in the chemical and power sectors), natural gas 2.0 kg/m3; non-energy
    use deducted from the chemical sectors in proportion; power and heat inputs in power."""
    rng = np.random.default_rng(seed)
    rows, em = [], []
    units = {"raw_coal": "10^4 t", "natural_gas": "10^8 m3"}
    for region in ("Beijing", "Hebei", "Shanxi"):
        for year in (2010, 2011):
            for fuel, unit in units.items():
                use = {s: float(rng.uniform(0, 50)) for s in CEADS_SECTORS}
                ne = float(rng.uniform(0, 30))
                power_in, heat_in = float(rng.uniform(0, 100)), float(rng.uniform(0, 20))
                extra = {"total_final_consumption": sum(use.values()), "non_energy_use": ne,
                         "thermal_power": power_in, "heating_supply": heat_in}
                for s, q in {**use, **extra}.items():
                    rows.append((region, year, s, fuel, q, unit))
                chem = sum(use[s] for s in cf.CHEMICAL_SECTORS)
                keep = max(0.0, 1 - ne / chem)
                for s, q in use.items():
                    f = 2.0 if fuel == "natural_gas" else (1.7 if s in cf.CHEMICAL_SECTORS or
                                                           s == cf._POWER else 1.5)
                    q = q * keep if s in cf.CHEMICAL_SECTORS else q
                    q = q + power_in + heat_in if s == cf._POWER else q
                    scale = 1e7 if unit == "10^4 t" else 1e8
                    em.append((region, year, s, "Raw Coal" if fuel == "raw_coal" else "Natural Gas",
                               q * scale * f / 1e9))
    energy = pd.DataFrame(rows, columns=["region", "year", "sector", "fuel", "quantity", "unit"])
    emissions = pd.DataFrame(em, columns=["region", "year", "sector", "fuel", "emissions_mt"])
    return energy, emissions


def test_derivation_recovers_known_factors():
    energy, emissions = _made_up()
    f = cf.derive_ceads_factors(cf.combustion_activity(energy), emissions).set_index(["sector", "fuel"])
    assert f.loc[("Urban", "raw_coal"), "factor_kg_per_unit"] == pytest.approx(1.5)
    assert f.loc[(cf._POWER, "raw_coal"), "factor_kg_per_unit"] == pytest.approx(1.7)
    for s in cf.CHEMICAL_SECTORS:  # only right if the non-energy deduction is modelled right
        assert f.loc[(s, "raw_coal"), "factor_kg_per_unit"] == pytest.approx(1.7)
    assert np.allclose(f.xs("natural_gas", level="fuel")["factor_kg_per_unit"], 2.0)
    assert (f["share_at_factor"] == 1.0).all()


def test_derivation_marks_uncounted_cells_and_refuses_bad_input():
    energy, emissions = _made_up()
    em = emissions.copy()
    em.loc[em["sector"] == "Rural", "emissions_mt"] = 0.0  # CEADs books nothing there
    f = cf.derive_ceads_factors(cf.combustion_activity(energy), em).set_index(["sector", "fuel"])
    assert not f.loc[("Rural", "raw_coal"), "counted"]
    assert f.loc[("Rural", "raw_coal"), "factor_kg_per_unit"] == 0.0
    with pytest.raises(DataError, match="emissions: missing column 'emissions_mt'"):
        cf.derive_ceads_factors(cf.combustion_activity(energy), em.drop(columns="emissions_mt"))
    with pytest.raises(DataError, match="unknown CEADs fuel 'Peat'"):
        cf.derive_ceads_factors(cf.combustion_activity(energy), em.assign(fuel="Peat"))


def test_accounting_the_made_up_inventory_reproduces_it():
    from carbonlab import accounting as acc

    energy, emissions = _made_up(1)
    act = cf.combustion_activity(energy)
    res = acc.account_inventory(("ceads",), activity=act, emissions=emissions)
    assert res.table["rel_diff"].abs().max() < 1e-12
    assert "meet the targets" in res.describe()


def test_ceads_is_not_a_transcribed_table():
    from carbonlab.data.factors import load_fuel_factors

    with pytest.raises(ParameterError, match="derived from CEADs' energy and emission files"):
        load_fuel_factors("ceads")


# --------------------------------------------------------------------------- real files
@pytest.fixture(scope="module")
def inventory():
    from carbonlab import accounting as acc

    return acc.account_inventory(data_dir=REAL)


@pytest.mark.slow  # derives every factor from the real files: 52 CPU-s measured
@needs_real
def test_factors_derived_from_the_files():
    f = cf.ceads_factors(REAL)
    got = f[f["counted"] & (f["n"] > 100)]
    coal = got[got["fuel"] == "raw_coal"]["factor_kg_per_unit"]
    assert coal.max() / coal.min() > 1.1  # coal factors differ by sector
    og = got[got["fuel"] == "other_gas"]["factor_kg_per_unit"]
    assert og.max() / og.min() - 1 < 1e-6  # one factor for all Other Gas
    assert og.iloc[0] == pytest.approx(0.5959, abs=5e-5)  # the value the issue quotes
    # one number per cell: most province-years sit on their cell's factor
    assert (got["share_at_factor"] > 0.5).mean() > 0.9
    per = cf.ceads_fuel_factors(REAL).set_index("fuel")
    assert per.loc["raw_coal", "min_kg_per_unit"] < per.loc["raw_coal", "factor_kg_per_unit"] \
        < per.loc["raw_coal", "max_kg_per_unit"]


@needs_real
def test_ceads_factors_reproduce_the_inventory(inventory):
    from carbonlab.accounting import INVENTORY_TOL

    s = inventory.summary.set_index("factor_set")
    assert s.loc["ceads", "n"] >= 650  # 30 provinces x 2001-2022, less years without energy data
    assert s.loc["ceads", "median_abs_rel"] <= INVENTORY_TOL[0]
    assert abs(s.loc["ceads", "worst_rel"]) <= INVENTORY_TOL[1]
    # every province-year beyond 1 % is explained by its largest sector-fuel cell
    w = inventory.worst
    assert (w["cell_gap_mt"].abs() >= 0.5 * w["diff_mt"].abs()).all()
    # the study's sets differ, fuel by fuel, and process CO2 stays apart
    bf = inventory.by_fuel.groupby(["factor_set", "fuel"])[["accounted_mt", "ceads_mt"]].sum()
    rel = bf["accounted_mt"] / bf["ceads_mt"] - 1
    assert rel.loc["ceads"].abs().max() < 0.02
    assert rel.loc["ipcc2006"].abs().max() > 0.1
    t = inventory.table
    assert (t["process_mt"] >= 0).all() and t["process_mt"].sum() > 0
    assert np.allclose(t["ce1_mt"] - t["ceads_mt"], t["diff_mt"])


@needs_real
def test_net_imports_from_the_balance():
    from carbonlab.data import ceads_energy as ce

    b = ce.electricity_balance(REAL)
    assert np.allclose(b["net_import_gwh"], b["consumption_gwh"] - b["generation_gwh"])
    bj = b[b["region"] == "Beijing"].set_index("year")["net_import_gwh"]
    assert (bj > 0).all() and bj.pct_change().abs().max() < 0.5
    sx = b[b["region"] == "Shanxi"].set_index("year")["net_import_gwh"]
    assert (sx < 0).all()  # Shanxi exports
    # Hebei 2015: the inventory's thermal output (22.9 TWh) is a slip; the statistics' is used
    hb = b[(b["region"] == "Hebei") & (b["year"] == 2015)].iloc[0]
    assert hb["thermal_source"].startswith("statistics") and hb["net_import_gwh"] < 150e3
    assert (b["thermal_source"] == "inventory row 54").mean() > 0.9
    x = ce.net_imports_crosscheck(REAL)
    assert x["differs"].any() and not x["differs"].all()
    assert (x.loc[x["differs"], "rel_diff"].abs() > ce.NET_IMPORT_TOL).all()
    text = ce.describe_net_imports(b, x, "Beijing")
    assert f"in {int(x['differs'].sum())} of {len(x)} province-years" in text


@needs_real
def test_real_fuel_use_is_physical_and_reaches_2022():
    from carbonlab.data import load_fuel_use

    fu = load_fuel_use("ceads", data_dir=REAL)
    assert fu["year"].max() == 2022 and fu["year"].min() == 1997
    assert (fu.loc[fu["fuel"] != "net_electricity", "quantity"] >= 0).all()
    # every province-year has its net electricity, so the accounting runs on all of them
    from carbonlab.accounting import account

    assert len(account(fu[fu["year"] >= 2000])) == fu.loc[fu["year"] >= 2000, ["region", "year"]
                                                           ].drop_duplicates().shape[0]
