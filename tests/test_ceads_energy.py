"""The CEADs energy-inventory loader (carbonlab.data.ceads_energy) on the real files.

Bad-input tests damage a copy of one workbook in tmp_path and expect a one-line
DataError naming the file, sheet and cell. Nothing from the data mirror is committed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from carbonlab._util import DataError, ParameterError, repo_root
from carbonlab.data import ceads_energy as ce
from carbonlab.regions import PROVINCES


def _real_dir() -> Path:
    env = os.environ.get("CARBONLAB_DATA_DIR")
    return Path(env) if env else repo_root().parent / "shared" / "data"


REAL = _real_dir()
pytestmark = pytest.mark.skipif(not (REAL / "MANIFEST.csv").is_file(),
                                reason=f"real-data mirror not found at {REAL}")


@pytest.fixture(scope="module")
def inv():
    return ce.energy_inventory(REAL)


def test_shape_units_and_identities(inv):
    assert set(inv["region"]) == set(PROVINCES)
    assert sorted(inv["year"].unique()) == list(ce.ENERGY_YEARS)
    assert len(inv) == 30 * 26 * len(ce.ITEMS) * 20
    units = inv.drop_duplicates("fuel").set_index("fuel")["unit"].astype(str).to_dict()
    assert units["raw_coal"] == "10^4 t" and units["other_gas"] == "10^8 m3"
    assert units["electricity"] == "10^8 kWh" and units["heat"] == "10^10 kJ"
    w = inv.pivot_table(index=["region", "year", "fuel"], columns="sector", values="quantity",
                        observed=True)
    from carbonlab.data.real import CEADS_SECTORS

    assert np.allclose(w[list(CEADS_SECTORS)].sum(axis=1), w["total_final_consumption"])
    assert np.allclose(w["total_final_consumption"] + w["transformation"], w["total_consumption"])
    # thermal power's electricity is an output (negative), its fuels inputs (positive)
    assert (w.xs("electricity", level="fuel")["thermal_power"] <= 0).all()
    assert (w.xs("raw_coal", level="fuel")["thermal_power"] >= 0).all()


def test_known_cells(inv):
    """README 11b: Beijing 2017 electricity and the 2007 yearbook's other-gas sum."""
    bj = inv[(inv["region"] == "Beijing") & (inv["year"] == 2017) & (inv["fuel"] == "electricity")]
    q = bj.set_index(bj["sector"].astype(str))["quantity"]
    assert q["total_consumption"] == pytest.approx(q["total_final_consumption"]
                                                   + q["thermal_power"])
    og = inv[(inv["year"] == 2007) & (inv["fuel"] == "other_gas")
             & (inv["sector"] == "total_final_consumption")]
    assert og["quantity"].sum() == pytest.approx(1948.13, abs=0.05)


def test_national(inv):
    nat = ce.national_energy_inventory(REAL)
    assert set(nat["region"]) == {"China"} and len(nat) == 26 * len(ce.ITEMS) * 20
    coal = lambda d: d[(d["year"] == 2019) & (d["fuel"] == "raw_coal")  # noqa: E731
                       & (d["sector"] == "total_consumption")]["quantity"].sum()
    assert coal(inv) > coal(nat)  # README 11b: 506,385 vs 400,858 (10^4 t)
    assert coal(nat) == pytest.approx(400858, rel=1e-4)


def _damaged(tmp_path: Path, cell: str, value) -> Path:
    import openpyxl

    rel = ce.energy_file(2010)
    dst = tmp_path / "e.xlsx"
    shutil.copyfile(REAL / rel, dst)
    os.chmod(dst, 0o644)
    wb = openpyxl.load_workbook(dst)
    wb["Beijing2010"][cell] = value
    wb.save(dst)
    return dst


@pytest.mark.parametrize("cell, value, match", [
    ("C10", "n/a", r"sheet 'Beijing2010', cell C10: not a number"),
    ("B3", 1e9, r"sheet 'Beijing2010', cell B3: .* differs from the sum of the 47 sectors"),
    ("H1", "Blast_Furnace_Gas", r"cell H1: expected header 'Other Gas'"),
    ("T2", "GWh", r"cell T2: expected unit '10\^8 kWh' for electricity"),
    ("A54", "Nuclear", r"cell A54: expected row 'thermalpower'"),
])
def test_damaged_workbook_is_named(tmp_path, cell, value, match):
    path = _damaged(tmp_path, cell, value)
    with pytest.raises(DataError, match=match) as err:
        ce._parse_workbook(path, 2010)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_bad_year():
    with pytest.raises(ParameterError, match="year=1996"):
        ce.energy_file(1996)


def test_a_number_stored_as_text_is_read_by_the_shared_cell_block(tmp_path):
    """Both CEADs readers share data._read._cell_block: a cell holding its own value as text
    ("1,105.5873") gives the same sheet as the number (the CO2 reader crashed on it before)."""
    import openpyxl

    from carbonlab.data import ceads

    def resaved(src: Path, sheet: str, cell: str, as_text: bool) -> Path:
        dst = tmp_path / f"{src.stem}-{as_text}.xlsx"
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o644)
        wb = openpyxl.load_workbook(dst)
        v = wb[sheet][cell].value
        assert isinstance(v, float) and v > 0
        wb[sheet][cell] = f"{v:,}" if as_text else v
        wb.save(dst)
        return dst

    src = REAL / ce.energy_file(2010)
    got, want = (ce._parse_workbook(resaved(src, "Beijing2010", "B3", t), 2010)["Beijing"]
                 for t in (True, False))
    np.testing.assert_allclose(got, want, rtol=1e-12)  # openpyxl writes floats to ~15 digits
    src = REAL / ceads.province_file(2010, "v2")
    got, want = (ceads._parse_province_workbook(resaved(src, "Beijing2010", "B4", t), 2010)["Beijing"]
                 for t in (True, False))
    np.testing.assert_allclose(got, want, rtol=1e-12)  # openpyxl writes floats to ~15 digits
