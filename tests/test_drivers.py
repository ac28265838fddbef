"""The driver table (carbonlab.data.drivers): one row per driver, read by everything else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab import data, scenarios
from carbonlab._util import DataError, ParameterError
from carbonlab.data import drivers as dt
from carbonlab.data.schemas import validate

ROOT = Path(__file__).resolve().parent.parent


def test_the_views_read_the_table():
    specs = dt.driver_specs()
    assert list(data.DRIVERS) == [s.code for s in specs] and len(specs) == 18
    assert set(data.SHARE_DRIVERS) == {s.code for s in specs if s.unit == "fraction"}
    assert data.TRUE_DRIVERS == dt.key_drivers() == ("fossil", "gas", "tertrate", "lcar", "first")
    from carbonlab.forecast import KEY_DRIVERS, inverse

    assert KEY_DRIVERS == dt.key_drivers()
    assert inverse.ADJUST_FIRST == dt.adjustable("first") == ("lcar", "tertrate", "gas")
    assert inverse.ADJUST_THEN == dt.adjustable("then") == ("fossil",)
    # the expected signs of the key drivers are the teaching truth's (the study's BMA result)
    from carbonlab.synth import TRUE_COEFFICIENTS

    assert {d: int(np.sign(b)) for d, b in TRUE_COEFFICIENTS.items()} == {
        d: dt.driver_spec(d).sign for d in dt.key_drivers()}


def test_glossary_shows_the_driver_table():
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    assert dt.glossary_table() in text, "book/glossary.md: paste carbonlab.data.drivers.glossary_table()"


def test_bad_rows_are_refused():
    with pytest.raises(ParameterError, match="sign"):
        dt.DriverSpec("x1", "m", "fraction", sign=2)
    with pytest.raises(ParameterError, match="band"):
        dt.DriverSpec("x1", "m", "ln(count)", band=(0.0, 1.0))
    with pytest.raises(ParameterError, match="ceads_loader"):
        dt.DriverSpec("x1", "m", "fraction", ceads_status="real")
    with pytest.raises(ParameterError, match="already registered"):
        dt.register_driver(dt.DriverSpec("lcar", "m", "ln(count)"))
    with pytest.raises(ParameterError, match="unknown driver"):
        dt.driver_spec("nope")


def test_a_driver_added_to_the_table_reaches_schemas_scenarios_and_table10():
    spec = dt.DriverSpec("dummyshare", "a dummy share", "fraction", band=(0.1, 0.5),
                         adjust="then", adjust_order=9, teaching=False)
    from carbonlab.forecast import inverse
    from carbonlab.forecast.table10 import driver_kind

    with dt.registered(spec):
        assert "dummyshare" in data.DRIVERS and "dummyshare" in scenarios.DRIVERS
        assert "dummyshare" in data.SHARE_DRIVERS and "dummyshare" in scenarios.SHARE_DRIVERS
        assert scenarios.SHARE_BANDS["dummyshare"] == (0.1, 0.5)
        assert driver_kind("dummyshare") == ("share", "%")
        assert inverse.adjustment_drivers(["lcar", "dummyshare", "fossil"]) == (
            ["lcar"], ["fossil", "dummyshare"])
        assert "dummyshare" in dt.glossary_table()
        # the teaching panel does not carry it and still validates; a value outside [0, 1] does not
        panel = data.load_panel("teaching")
        assert "dummyshare" not in panel.columns
        with pytest.raises(DataError, match="dummyshare"):
            validate(panel.assign(dummyshare=1.5), "panel", source="t")
    assert "dummyshare" not in data.DRIVERS and "dummyshare" not in scenarios.SHARE_BANDS


def _dummy_loader(root: Path, verify: bool) -> pd.DataFrame:
    from carbonlab.data import nbs_provinces

    pop = nbs_provinces.series("population_10k", root, verify)
    return pop.assign(ldummy=np.log(pop["population_10k"]) + 0.01 * (pop["year"] - 2005))


@pytest.mark.slow  # builds the real panel (about 60 CPU-s on a cold cache)
def test_a_driver_added_to_the_table_reaches_the_real_panel_and_chapter_3(data_dir):
    """One row with a loader: the coverage table, the panel, BMA's design and the drivers chapter
    3's comparison and backtest are given (chapter_inputs, usable_drivers) all carry it."""
    from carbonlab import bma, models
    from carbonlab.data import panel as real
    from carbonlab.forecast.outlook import chapter_inputs

    spec = dt.DriverSpec("ldummy", "a dummy driver", "ln(count)", ceads_status="proxy",
                         ceads_source="nbs-provinces (population)",
                         ceads_how="ln population plus a trend: a test row",
                         ceads_loader=_dummy_loader, teaching=False)
    with dt.registered(spec):
        inputs = chapter_inputs("ceads", data_dir)
        p = inputs["panel"]
        cov = p.attrs["coverage"].set_index("driver")
        assert cov.loc["ldummy", "status"] == "proxy"
        assert cov.loc["ldummy", "last_year"] >= p.attrs["span"][1]
        assert "ldummy" in p.columns and p.attrs["proxies"]["ldummy"].startswith("PROXY: ln population")
        assert p.attrs["units"]["ldummy"] == "ln(count)"
        assert "ldummy" in inputs["drivers"] and "ldummy" in inputs["note"]
        assert "ldummy" in models.usable_drivers(p, inputs["drivers"])
        X, _y, _g = bma.design_from_panel(p)
        assert "ldummy" in X.columns
        assert "ldummy" in set(real.driver_coverage(data_dir)["driver"])
    assert "ldummy" not in set(real.driver_coverage(data_dir)["driver"])
