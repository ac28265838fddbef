"""The teaching panel: loaders, schemas and every bad input the schemas must catch."""

import shutil

import numpy as np
import pandas as pd
import pytest

from carbonlab import data
from carbonlab._util import DataError, ParameterError
from carbonlab.data import schemas
from carbonlab.regions import PROVINCES


def test_panel_shape_and_columns():
    p = data.load_panel()
    assert p.shape == (510, 4 + 18)
    assert list(p.columns[:4]) == ["region", "year", "population_10k", "emissions_mt"]
    assert set(p.columns[4:]) == set(data.DRIVERS)
    assert sorted(p["region"].unique()) == sorted(PROVINCES)
    assert p["year"].min() == 2005 and p["year"].max() == 2021
    assert p.attrs["units"]["emissions_mt"] == "Mt CO2"
    for s in data.SHARE_DRIVERS:
        assert p[s].between(0, 1).all(), s


def test_fuel_use_cities_targets():
    fu = data.load_fuel_use()
    assert set(fu["fuel"]) == set(data.FUELS) | {"net_electricity"}
    assert len(fu) == 510 * 15
    assert (fu.loc[fu["fuel"] != "net_electricity", "quantity"] >= 0).all()
    c = data.load_cities()
    assert {"Beijing", "Lanzhou", "Hohhot", "Shangluo"} <= set(c["city"])
    pilots = c.drop_duplicates("city").set_index("city")["pilot_year"]
    assert pilots["Beijing"] == 2012 and pilots["Lanzhou"] == 2013 and pilots["Hohhot"] == 2015
    assert pd.isna(pilots["Shangluo"])
    assert c["year"].min() == 2002 and c["year"].max() == 2022
    t = data.load_targets()
    assert set(t["year"]) == {2025, 2030} and t["value"].between(0, 1).all()


def test_log_emissions_per_capita():
    p = data.load_panel()
    y = data.log_emissions_per_capita(p)
    expected = np.log(p["emissions_mt"] * 1e6 / (p["population_10k"] * 1e4))
    np.testing.assert_allclose(y, expected)
    with pytest.raises(DataError, match="row 3"):
        data.log_emissions_per_capita(p.head(5).assign(
            emissions_mt=[1.0, 1.0, 1.0, 0.0, 1.0]).set_axis(range(5)))


def test_unknown_dataset():
    with pytest.raises(ParameterError, match="unknown dataset 'cead'"):
        data.load_panel("cead")


@pytest.fixture
def teaching_copy(tmp_path, monkeypatch):
    src = data.teaching_dir()
    dst = tmp_path / "teaching"
    shutil.copytree(src, dst)
    monkeypatch.setenv("CARBONLAB_TEACHING_DIR", str(dst))
    return dst


def _edit(path, fn):
    df = pd.read_csv(path)
    df = fn(df)
    df.to_csv(path, index=False)


@pytest.mark.parametrize("edit, pattern", [
    (lambda d: d.drop(columns=["lcar"]), r"panel\.csv: missing column\(s\) lcar"),
    (lambda d: pd.concat([d, d.iloc[[7]]]), r"panel\.csv, line \d+, column region, year: duplicate"),
    (lambda d: d.assign(region=d["region"].where(d.index != 3, "Atlantis")),
     r"panel\.csv, line 5, column region: unknown region 'Atlantis'"),
    (lambda d: d.assign(region=d["region"].where(d.index != 3, "Tibet")),
     r"panel\.csv, line 5, column region: .*not one of the study's 30"),
    (lambda d: d.assign(emissions_mt=d["emissions_mt"].where(d.index != 10, np.nan)),
     r"panel\.csv, line 12, column emissions_mt: missing value"),
    (lambda d: d.assign(population_10k=d["population_10k"].where(d.index != 4, -5.0)),
     r"panel\.csv, line 6, column population_10k"),
    (lambda d: d.assign(gas=d["gas"].where(d.index != 20, 1.2)),
     r"panel\.csv, line 22, column gas: share .*outside \[0, 1\]"),
    (lambda d: d.assign(fossil=d["fossil"].where(d.index != 0, -0.1)),
     r"panel\.csv, line 2, column fossil: share"),
    (lambda d: d.assign(year=d["year"].astype(str).where(d.index != 2, "twenty")),
     r"panel\.csv, line 4, column year"),
])
def test_bad_panel_files(teaching_copy, edit, pattern):
    _edit(teaching_copy / "panel.csv", edit)
    with pytest.raises(DataError, match=pattern):
        data.load_panel()


def test_region_aliases_are_canonicalised(teaching_copy):
    _edit(teaching_copy / "panel.csv",
          lambda d: d.assign(region=d["region"].replace({"Inner Mongolia": "内蒙古"})))
    p = data.load_panel()
    assert (p["region"] == "Inner Mongolia").sum() == 17 and "内蒙古" not in set(p["region"])


@pytest.mark.parametrize("edit, pattern", [
    (lambda d: d.assign(quantity=d["quantity"].where(d.index != 0, -3.0)),
     r"fuel_use\.csv.*negative fuel use"),
    (lambda d: d.assign(unit=d["unit"].where(d.index != 5, "barrel")),
     r"fuel_use\.csv, line 7, column unit: value 'barrel'"),
    (lambda d: pd.concat([d, d.iloc[[0]]]), r"fuel_use\.csv.*duplicate"),
])
def test_bad_fuel_use_files(teaching_copy, edit, pattern):
    _edit(teaching_copy / "fuel_use.csv", edit)
    with pytest.raises(DataError, match=pattern):
        data.load_fuel_use()


def test_net_electricity_may_be_negative():
    fu = data.load_fuel_use()
    assert (fu.loc[fu["fuel"] == "net_electricity", "quantity"] < 0).any()


def test_bad_cities_and_targets(teaching_copy):
    _edit(teaching_copy / "cities.csv",
          lambda d: d.assign(pilot_year=d["pilot_year"].where(d.index != 0, 2011)))
    with pytest.raises(DataError, match=r"cities\.csv, line 2, column pilot_year"):
        data.load_cities()
    _edit(teaching_copy / "targets.csv", lambda d: d.assign(value=d["value"].where(d.index != 1, 1.5)))
    with pytest.raises(DataError, match=r"targets\.csv, line 3, column value: share"):
        data.load_targets()


def test_missing_and_unreadable_files(teaching_copy):
    (teaching_copy / "cities.csv").unlink()
    with pytest.raises(DataError, match=r"cities\.csv: teaching-panel file missing"):
        data.load_cities()
    (teaching_copy / "panel.csv").write_bytes(b"\xff\xfe\x00garbage\x00\n\x01")
    with pytest.raises(DataError, match=r"panel\.csv"):
        data.load_panel()


def test_validate_reports_unknown_kind():
    with pytest.raises(ValueError, match="unknown schema kind"):
        schemas.validate(pd.DataFrame(), "nonsense")


def test_data_card_documents_every_calibration_target():
    card = (data.teaching_dir() / "README.md").read_text(encoding="utf-8")
    targets = pd.read_csv(data.teaching_dir() / "calibration_targets.csv")
    for row in targets.itertuples(index=False):
        assert row.source in card, row.source
    for name in ("calibration_targets.csv", "calibration.csv", "targets.csv", "truth.csv"):
        assert f"`{name}`" in card
    assert "Calibration: " in card and "checks within tolerance" in card
