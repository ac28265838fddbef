"""The study's four cities one choice at a time, and the peak of a flat baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonlab import leap
from carbonlab._util import ParameterError
from carbonlab.data import load_cities
from carbonlab.peaks import find_peak

NAIVE = ("persistence", "drift")


def test_a_flat_path_has_no_forecast_peak_from_rounding_noise():
    """Persistence repeats the last value; the calibrated LEAP path carries ~1e-10 noise."""
    hist = pd.Series([10.0, 11.0, 12.0], index=[2020, 2021, 2022])
    noisy = pd.Series(12.0 * (1 + 1e-11 * np.arange(1, 9)), index=range(2023, 2031))
    raw = find_peak(np.r_[hist.index, noisy.index], np.r_[hist.to_numpy(), noisy.to_numpy()])
    assert raw.peak_year == 2030  # the noise alone makes the last year the maximum
    res = leap.scenario_peak(hist, noisy)
    assert res.peak_year == 2022 and res.peaked  # the level's first year: a flat tail
    # a real rise is still a rise, and a real fall still a peak in the forecast years
    rise = pd.Series(12.0 * (1 + 1e-3 * np.arange(1, 9)), index=range(2023, 2031))
    assert leap.scenario_peak(hist, rise).peak_year == 2030
    assert not leap.scenario_peak(hist, rise).peaked
    hump = pd.Series([12.5, 13.0, 12.0, 11.0, 10.0, 9.0, 8.0, 7.0], index=range(2023, 2031))
    assert leap.scenario_peak(hist, hump).peak_year == 2024


def test_persistence_baseline_of_a_rising_city_does_not_peak_in_the_forecast():
    cities = load_cities("teaching")
    run = leap.run_city(cities, "Lanzhou", model="persistence", models=NAIVE, horizon_end=2030,
                        fast=True, cache=False)
    res = run.peak("baseline")
    hist = run.history
    if float(hist.iloc[-1]) >= float(hist.max()):   # the record ends at its maximum
        assert res.peak_year == int(hist.index[-1])
    assert res.peak_year <= int(run.leap.base_year)
    agr = leap.study_agreement({"Lanzhou": run}).set_index("scenario")
    assert not bool(agr.loc["baseline", "in_forecast"])
    assert agr.loc["baseline", "agrees"] is not pd.NA and not bool(agr.loc["baseline", "agrees"])


def test_run_city_takes_a_forecast_already_made():
    cities = load_cities("teaching")
    hist = leap.city_series(cities, "Hohhot")
    fc = leap.forecast_city(hist, "drift", 2030)
    a = leap.run_city(cities, "Hohhot", model="drift", models=NAIVE, horizon_end=2030,
                      fast=True, cache=False)
    b = leap.run_city(cities, "Hohhot", model="drift", models=NAIVE, horizon_end=2030,
                      fast=True, cache=False, forecast=fc)
    assert np.allclose(a.baseline.totals(), b.baseline.totals(), rtol=1e-12)
    assert b.model == "drift"
    with pytest.raises(ParameterError, match="forecast: years must run"):
        leap.run_city(cities, "Hohhot", models=NAIVE, horizon_end=2030, fast=True,
                      cache=False, forecast=fc.iloc[1:])


@pytest.fixture(scope="module")
def factors() -> pd.DataFrame:
    cities = load_cities("teaching")
    return leap.study_factors(cities, "teaching", names=("Lanzhou", "Shangluo"), models=NAIVE,
                              horizon_end=2030, fast=True)


def test_study_factors_one_change_at_a_time(factors):
    assert list(factors["factor"].unique()) == list(leap.FACTORS)
    assert len(factors) == 2 * len(leap.FACTORS)
    cities = load_cities("teaching")
    for city, d in factors.groupby("city"):
        d = d.set_index("factor")
        ref = d.loc["reference"]
        assert not bool(ref["moves_baseline"]) and not bool(ref["moves_policy"])
        # the reading row is the chapter's readings_table for the other reading
        run = leap.run_city(leap.with_nowcast(cities, "teaching"), city, models=NAIVE,
                            horizon_end=2030, fast=True)
        rd = leap.readings_table(run).set_index("reading")
        assert d.loc["policy reading", "reduction_end_pct"] == pytest.approx(
            rd.loc["percentage points a year", "reduction_2030_pct"], rel=1e-9)
        assert d.loc["reference", "reduction_end_pct"] == pytest.approx(
            run.summary()["reduction_end_pct"], rel=1e-9)
        assert ref["baseline_peak"] == run.summary()["baseline_peak"]
        # the study's model is not among the naive candidates: the row says why
        assert "svr" in d.loc["baseline model", "note"] and pd.isna(d.loc["baseline model",
                                                                          "baseline_peak"])
        # moves = the peak text differs in its year from the reference's
        for f, row in d.drop(index=["reference", "baseline model"]).iterrows():
            for sc in ("baseline", "policy"):
                same = str(row[f"{sc}_peak"]).split()[0] == str(ref[f"{sc}_peak"]).split()[0]
                assert bool(row[f"moves_{sc}"]) == (not same), (city, f, sc)


def test_agreement_counts_only_forecast_years(factors):
    ok = factors.dropna(subset=["baseline_agrees"])
    assert not (ok["baseline_agrees"].astype(bool) & ~ok["baseline_in_forecast"].astype(bool)
                & ok["baseline_peak"].str.match(r"^\d{4}")).any()


def test_study_factors_table_and_sentence(factors):
    tab = leap.study_factors_table(factors)
    assert list(tab.index) == ["Lanzhou", "Shangluo"]
    assert list(tab.columns) == ["study", *leap.FACTORS]
    assert tab.loc["Lanzhou", "study"] == leap.STUDY_PEAKS["Lanzhou"]["baseline"]
    assert tab.loc["Lanzhou", "baseline model"] == "–"
    ref = factors.set_index(["city", "factor"]).loc[("Lanzhou", "reference"), "baseline_peak"]
    assert tab.loc["Lanzhou", "reference"].split()[0] == ref.split()[0]
    assert not tab.stack().str.contains("in the inventory|not peaked").any()
    text = leap.study_factors_sentence(factors)
    n_fc = int(factors.query("factor == 'reference'")["baseline_in_forecast"].sum())
    assert f"the baseline peak lies in the forecast years for {n_fc} of 2 cities" in text
    assert "Changes that could not run: Lanzhou, baseline model" in text
    with pytest.raises(ParameterError, match="scenario"):
        leap.study_factors_table(factors, "both")


def test_study_factors_bad_input():
    cities = load_cities("teaching")
    with pytest.raises(ParameterError, match="names: 'Xian' is not one of the study's"):
        leap.study_factors(cities, "teaching", names=("Xian",), models=NAIVE)
    with pytest.raises(ParameterError, match="cut"):
        leap.study_factors(cities, "teaching", cut=0, models=NAIVE)


def test_forecast_cached_fits_once(tmp_path, monkeypatch):
    from carbonlab.leap import pipeline

    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path))
    hist = leap.city_series(load_cities("teaching"), "Hohhot")
    calls = []
    real = pipeline.forecast_city
    monkeypatch.setattr(pipeline, "forecast_city", lambda *a, **k: calls.append(1) or real(*a, **k))
    a = leap.forecast_cached(hist, "drift", 2030)
    b = leap.forecast_cached(hist, "drift", 2030)
    assert len(calls) == 1 and a.equals(b) and a.equals(real(hist, "drift", 2030))
    assert b.attrs["model"] == "drift"
    leap.forecast_cached(hist, "persistence", 2030)  # another model is another entry
    leap.forecast_cached(hist, "drift", 2030, cache=False)
    assert len(calls) == 3


def test_not_peaked_by_an_earlier_horizon_says_nothing_of_after_2035():
    from carbonlab.leap.pipeline import _agrees
    from carbonlab.peaks import PeakResult

    rising = PeakResult(2030, 12.0, False)
    assert _agrees(rising, 2023, "after 2035", end=2030) is None
    assert _agrees(PeakResult(2035, 12.0, False), 2023, "after 2035", end=2035)


def test_city_answer_says_a_flat_baseline_stays_at_its_level():
    cities = load_cities("teaching")
    run = leap.run_city(cities, "Lanzhou", model="persistence", models=NAIVE, horizon_end=2030,
                        fast=True, cache=False)
    text = leap.city_answer(run, run, "persistence", 3, "兰州")
    assert text.startswith("**Lanzhou (兰州): ")
    if float(run.history.iloc[-1]) >= float(run.history.max()):
        assert (f"in {int(run.history.index[-1])} (an observed year: the forecast stays within "
                "1 % of it)") in text
    assert "stays below it" not in text


def test_plot_policy_spread_labels_the_study_cities():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = pd.DataFrame({"city": ["Lanzhou", "Xi'an", "Hohhot"], "coal_share": [0.7, 0.8, 0.9],
                      "reduction_2035_pct": [5.9, 1.6, 2.0]})
    t.attrs["year"] = 2035
    ax = leap.plot_policy_spread(t)
    assert sorted(a.get_text() for a in ax.texts) == ["Hohhot", "Lanzhou"]
    assert ax.collections[0].get_offsets().shape == (3, 2)
    assert "2035" in ax.get_ylabel()
    plt.close("all")
