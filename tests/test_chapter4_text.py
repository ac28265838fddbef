"""Chapter 4's sentences and figures come from package functions (issue 25 item 1): the
headline's describe_* readers, the forecast report's sentences, the figures they need.
Every sentence is checked against the table it reads, including the branches a run on the
teaching world never reaches (no laggards, a forecaster that ignores the drivers)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from carbonlab import data, forecast, headline, scenarios
from carbonlab._util import ParameterError
from carbonlab.forecast import report
from carbonlab.forecast.outlook import Outlook
from carbonlab.models import PanelModel


@pytest.fixture(scope="module")
def fake():
    """An outlook-like object on the teaching world, fitted with panel FE (no backtest)."""
    panel, targets = data.load_panel("teaching"), data.load_targets("teaching")
    sc = scenarios.load_scenario("baseline")
    drivers = forecast.KEY_DRIVERS
    paths = scenarios.driver_paths(panel, sc, drivers=list(drivers), targets=targets)
    pop = scenarios.population_path(panel)
    pm = PanelModel("fe", drivers).fit(panel)
    fc = forecast.forecast(pm, panel, paths, pop)
    row = headline.summarise(fc, "x")
    nat = forecast.national_curve(fc)
    return SimpleNamespace(
        model="fe", scenario=sc, panel=panel, drivers=drivers, targets=targets, paths=paths,
        population=pop, point_model=pm, fc=fc,
        counts=pd.Series({c: row[c] for c in forecast.CLASSES}),
        national_peak=forecast.find_peak(nat["year"], nat["emissions_mt"]))


def test_answer_comparison_reads_both_rules_and_the_truth(fake):
    t = headline.answer_comparison(fake, truth=True)
    assert list(t["model"]) == ["outlook", "point", "true", "true", "study"]
    assert list(t["rule"].iloc[:4]) == ["mean_change", "level_ma", "mean_change", "level_ma"]
    assert pd.isna(t["rule"].iloc[4])
    true = t[t["model"] == "true"].iloc[0]
    assert true["not by 2030"] == headline.summarise(fake_true(fake), "")["not by 2030"]
    text = headline.describe_comparison(t)
    counts = " / ".join(str(int(true[k])) for k in ("by 2025 (study)", "by 2030", "not by 2030"))
    assert f"The true model on the same inputs (mean_change) gives {counts}" in text
    assert "the study found 17 / 4 / 9" in text and "level_ma" in text
    real = headline.answer_comparison(fake)
    assert "true" not in set(real["model"])
    assert headline.describe_comparison(real).endswith("no true model to compare with.")
    html = headline.show(t).to_html()
    assert "national peaked" not in html and "peak year" in html


def fake_true(fake):
    return headline.forecast_true(fake.panel, fake.paths, fake.population)


def test_describe_sensitivity_names_the_lever_or_says_none_moves(fake):
    s = headline.driver_sensitivity(headline.model_forecaster(fake), fake.panel, fake.scenario,
                                    drivers=fake.drivers, targets=fake.targets,
                                    vary=("fossil", "gas"), variants=("frozen",))
    big = s.iloc[1:].loc[s["change 2030 %"].iloc[1:].abs().idxmax()]
    text = headline.describe_sensitivity(s, "panel FE")
    assert text.startswith(f"The largest single lever is {big['driver']}")
    assert f"{big['change 2030 %']:+.1f} %" in text
    flat = s.assign(**{"change 2030 %": 0.0, "national peak year": s["national peak year"].iloc[0],
                       "national peaked": s["national peaked"].iloc[0]})
    scen = SimpleNamespace(**vars(fake), adjustment_model=lambda: ("fe", fake.point_model))
    same = headline.model_forecaster(scen, "scenario")(fake.paths)
    assert np.allclose(same["emissions_mt"], fake.fc["emissions_mt"])
    with pytest.raises(ParameterError, match="which"):
        headline.model_forecaster(fake, "best")
    text = headline.describe_sensitivity(flat, "persistence")
    assert "(persistence) does not respond" in text
    assert text.endswith("No single replacement moves the national peak year.")


def test_describe_rules_cars_and_gas_read_their_tables(fake):
    r = headline.rule_contrast(fake.panel, fake.scenario, drivers=fake.drivers,
                               targets=fake.targets)
    text = headline.describe_rules(r)
    assert f"Of the {int(r['rising'].sum())} province–driver pairs" in text
    assert f"(`level_ma`) turns {int(r['turns_level_ma'].sum())} down" in text
    cars = headline.car_saturation(fake.panel, fake.scenario, fake.paths, fake.targets)
    sat, rolled = cars.set_index("how").loc["saturating"], cars.set_index("how").loc["rolled"]
    assert sat["year"] == 2030 and 0 < sat["cars_1e8"] < rolled["cars_1e8"]
    assert f"sum to {sat['cars_1e8']:.2f} 亿" in headline.describe_cars(cars)
    plain = scenarios.load_scenario("trend")
    if "lcar" not in plain.saturate:
        assert headline.car_saturation(fake.panel, plain, fake.paths).empty
    assert "does not project private cars" in headline.describe_cars(cars.iloc[0:0])
    gas = headline.gas_check(fake.fc, fake.paths, data.load_fuel_use("teaching"))
    v = float(gas[(gas["region"] == "China") & (gas["year"] == 2030)]["gas_1e8m3"].iloc[0])
    text = headline.describe_gas(gas)
    where = "inside" if 5500 <= v <= 6000 else "below" if v < 5500 else "above"
    assert f"{v:,.0f} 亿m³ in 2030" in text and f"{where} the 5,500–6,000" in text
    assert "not computed" in headline.describe_gas(None)


def _outlook(table: pd.DataFrame, members: pd.DataFrame) -> Outlook:
    nat = members[members["member"] == -1].groupby("year", as_index=False)["emissions_mt"].sum()
    band = forecast.national_band(members)
    return Outlook(table, nat, forecast.find_peak(nat["year"], nat["emissions_mt"]),
                   pd.Series(dtype=int), "", pd.DataFrame(), (), None,
                   SimpleNamespace(name="baseline"), pd.DataFrame(), pd.DataFrame(), None,
                   members, national_band=band)


def _members():
    years = np.arange(2018, 2031)
    rising = 100 * 1.02 ** (years - 2018)           # never peaks
    faster = 100 * 1.05 ** (years - 2018)           # never peaks, grows faster
    peaked = 100 * np.r_[np.linspace(1, 1.2, 6), np.linspace(1.19, 1.0, 7)]
    rows = []
    for m in (-1, 0, 1):
        for r, v in (("Beijing", rising), ("Hebei", faster), ("Tianjin", peaked)):
            rows.append(pd.DataFrame({"member": m, "region": r, "year": years,
                                      "projected": years > 2021, "emissions_mt": v * (1 + 0.01 * m)}))
    return pd.concat(rows, ignore_index=True)


def test_report_sentences_for_laggards_and_the_example_region():
    members = _members()
    table = forecast.peak_table(members[members["member"] == -1])
    o = _outlook(table, members)
    assert o.laggards == ["Beijing", "Hebei"]
    assert report.laggards_sentence(o).startswith("2 of the 3 regions' point forecasts")
    assert report.example_laggard(o, "Beijing") == "Beijing"   # the region itself lags
    assert report.example_laggard(o, "Tianjin") == "Hebei"     # else the fastest in 2030
    adj = SimpleNamespace(region="Hebei", message="it takes x.")
    assert report.adjustment_sentence(o, "Tianjin", adj) == (
        "For Hebei (the laggard growing fastest in 2030): it takes x.")
    none = _outlook(table.assign(peaked=True), members)
    assert none.laggards == [] and report.laggards_sentence(none).startswith("No laggards")
    assert report.example_laggard(none, "Tianjin") == "Tianjin"
    text = report.national_sentence(o)
    assert text.startswith(f"The national point forecast: {o.national_peak.describe('Mt CO2')}")
    text = report.members_sentence(members, "Tianjin")
    assert text.startswith("2 members. In 2030 the members put Tianjin's")
    assert "of all members 100 % have peaked by 2025" in text
    pooled = members.assign(model=np.where(members["member"] == 0, "fe", "persistence"))
    text = report.members_sentence(pooled, "Tianjin", forecaster="fe")
    assert text.startswith("2 members pooled over panel FE (1), persistence (1).")
    top = pooled[(pooled["region"] == "Tianjin") & (pooled["member"] == 0)]["emissions_mt"].iloc[-1]
    assert f"the members of panel FE put Tianjin's emissions between {top:,.0f} and {top:,.0f}" in text


def test_calibration_sentence_states_the_targets_it_meets():
    cal = {"coverage_pct": 88.3, "brier": 0.2, "brier_base": 0.25, "brier_ratio": 0.8,
           "n_calls": 240, "n_origins": 8}
    table = report.calibration_table({**cal, "models": ["fe", "persistence", "drift"]})
    assert table.shape == (1, 7) and table["models"].iloc[0] == "panel FE, persistence, drift"
    assert "(inside the target of 85–95 %)" in report.calibration_sentence(cal)
    assert "(better than the target of 0.9 ×)" in report.calibration_sentence(cal)
    bad = report.calibration_sentence({**cal, "coverage_pct": 70.0, "brier_ratio": 1.1})
    assert "(outside the target" in bad and "is not met" in bad


def test_plot_region_draws_a_forecast_without_a_band_and_plot_as_of(fake):
    ax = forecast.plot_region(fake.fc, "Ningxia")[0]
    assert len(ax.collections) == 0 and len(ax.lines) == 2  # history and forecast, no band
    members = _members()
    then = SimpleNamespace(as_of=2021, panel=None, national=members[members["member"] == -1]
                           .groupby("year", as_index=False)["emissions_mt"].sum(),
                           national_band=forecast.national_band(members))
    obs = members[(members["member"] == -1) & ~members["projected"]]
    ax = forecast.plot_as_of(then, obs)
    assert len(ax.collections) == 1 and "outlook as of 2021" in [t.get_text() for t in
                                                                  ax.get_legend().get_texts()]


def test_as_of_needs_the_years_the_backtest_and_its_check_need():
    """The first backtest origin is the sixth data year and the calibration check needs four
    origins before the as-of year: an earlier as-of year stops with a one-line error."""
    y0 = int(data.load_panel("teaching")["year"].min())
    first = y0 + forecast.AS_OF_YEARS
    assert int(forecast.chapter_inputs("teaching", as_of=first)["panel"]["year"].max()) == first
    with pytest.raises(ParameterError, match=f"as_of: a year from {first}"):
        forecast.chapter_inputs("teaching", as_of=first - 1)
