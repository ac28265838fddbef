"""The observed answer (issue 22 item 8): which provinces have already peaked, by find_peak."""

from __future__ import annotations

import pandas as pd
import pytest

from carbonlab._util import DataError
from carbonlab.forecast.observed import observed_peaks
from carbonlab.forecast.rule import find_peak


def _panel() -> pd.DataFrame:
    years = list(range(2005, 2023))
    series = {
        "Beijing": [100 + 5 * k if k < 8 else 140 - 3 * (k - 8) for k in range(18)],  # peaked 2013
        "Shanxi": [200 + 4 * k for k in range(18)],  # still rising
        "Hainan": [30 + k for k in range(17)] + [45.7],  # < 1 % below its 2021 maximum, flat tail
    }
    return pd.DataFrame([{"region": r, "year": y, "emissions_mt": v}
                         for r, vals in series.items() for y, v in zip(years, vals, strict=True)])


def test_observed_peaks_follow_find_peak_per_province_and_total():
    p = _panel()
    o = observed_peaks(p)
    t = o.table.set_index("region")
    for r, g in p.groupby("region"):
        ref = find_peak(g["year"].to_numpy(), g["emissions_mt"].to_numpy())
        assert (t.loc[r, "peak_year"], bool(t.loc[r, "peaked"])) == (ref.peak_year, ref.peaked)
    assert t.loc["Beijing", "peak_year"] == 2013 and t.loc["Beijing", "peaked"]
    assert not t.loc["Shanxi", "peaked"] and t.loc["Hainan", "peaked"]
    tot = p.groupby("year")["emissions_mt"].sum()
    ref = find_peak(tot.index.to_numpy(), tot.to_numpy())
    assert (o.total["peak_year"], o.total["peaked"]) == (ref.peak_year, ref.peaked)
    assert len(o.summary()) == 4 and o.summary()["region"].iloc[-1] == "3 provinces"
    text = o.describe()
    assert text.startswith("Observed 2005-2022") and "2 of 3 provinces have already peaked" in text
    assert "Beijing (2013)" in text and "Shanxi" not in text


def test_observed_peaks_bad_panel():
    p = _panel()
    with pytest.raises(DataError, match="missing column 'emissions_mt'"):
        observed_peaks(p.drop(columns="emissions_mt"))
    with pytest.raises(DataError, match="emissions_mt missing for Shanxi in year 2010"):
        observed_peaks(p[~((p["region"] == "Shanxi") & (p["year"] == 2010))])
