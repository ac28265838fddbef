import numpy as np
import pandas as pd
import pytest

from carbonlab._util import DataError, ParameterError
from carbonlab.regions import (
    PROVINCES,
    grid_region,
    province_table,
    resolve_region,
    resolve_regions,
)
from carbonlab.units import GJ_PER_TCE, to_base, unit_kind


@pytest.mark.parametrize("name", ["Inner Mongolia", "InnerMongolia", "Nei Mongol", "内蒙古",
                                  "内蒙古自治区", "NM", "15", " inner  mongolia ", "Neimenggu"])
def test_inner_mongolia_spellings(name):
    assert resolve_region(name) == "Inner Mongolia"


def test_every_province_round_trips_through_each_spelling():
    t = province_table()
    assert len(t) == 30 and tuple(t["region"]) == PROVINCES
    for col in ("code", "region", "name_zh", "name_zh_full", "gb_code"):
        assert [resolve_region(str(v)) for v in t[col]] == list(PROVINCES)


def test_shanxi_and_shaanxi_are_distinct():
    assert resolve_region("Shanxi") == "Shanxi"
    assert resolve_region("陕西") == "Shaanxi" and resolve_region("山西") == "Shanxi"


@pytest.mark.parametrize("name, canon", [
    ("Guangxi Zhuang Autonomous Region", "Guangxi"), ("Ningxia Hui Autonomous Region", "Ningxia"),
    ("Xinjiang Uygur Autonomous Region", "Xinjiang"), ("Xinjiang Uyghur Autonomous Region",
                                                        "Xinjiang"),
    ("Inner Mongolia Autonomous Region", "Inner Mongolia"), ("Guangxi Zhuang", "Guangxi")])
def test_official_autonomous_region_names(name, canon):
    """Issue 16 item 11: the official names of all five autonomous regions in the study."""
    assert resolve_region(name) == canon


@pytest.mark.parametrize("bad, fragment", [("Tibet", "not one of the study's 30"),
                                           ("Tibet Autonomous Region", "not one of"),
                                           ("", "empty"), ("  ", "empty"),
                                           ("香港", "not one of"), ("Atlantis", "unknown region")])
def test_bad_regions(bad, fragment):
    with pytest.raises(ParameterError, match=fragment):
        resolve_region(bad)


def test_resolve_regions_names_row():
    with pytest.raises(ParameterError, match="row 1"):
        resolve_regions(pd.Series(["北京", "Narnia"]))


def test_grid_regions_cover_six_grids():
    grids = {grid_region(p) for p in PROVINCES}
    assert grids == {"North", "Northeast", "East", "Central", "Northwest", "China Southern"}
    assert grid_region("重庆") == "Central" and grid_region("Nei Mongol") == "North"


def test_units():
    v, k = to_base(np.array([1.0, 2.0, 1.0]), np.array(["10^4 t", "10^8 m3", "10^4 tce"]))
    assert v.tolist() == [1e7, 2e8, GJ_PER_TCE * 10] and k.tolist() == ["mass", "volume", "energy"]
    with pytest.raises(DataError, match="unknown unit 'barrel'"):
        to_base(np.array([1.0]), np.array(["barrel"]))
    with pytest.raises(DataError, match="row 1"):
        to_base(np.array([1.0, 1.0]), np.array(["t", "gallon"]))
    assert unit_kind("GWh") == "electricity"
