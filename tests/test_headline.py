"""The headline explained: study reference, true model, comparison, sensitivity, gas check."""

import numpy as np
import pandas as pd
import pytest

from carbonlab import data, headline, peaks, scenarios, synth
from carbonlab._util import ParameterError


@pytest.fixture(scope="module")
def world():
    panel, targets = data.load_panel("teaching"), data.load_targets("teaching")
    paths = scenarios.driver_paths(panel, "baseline", drivers=list(peaks.KEY_DRIVERS),
                                   targets=targets)
    return panel, targets, paths, headline.forecast_true(panel, paths)


def test_study_reference_is_transcribed_with_sources():
    ref = headline.study_reference().set_index("quantity")
    assert ref.loc[["by 2025", "by 2030", "not by 2030"], "value"].tolist() == [17, 4, 9]
    assert ref.loc["national peak year", "value"] == 2029
    assert ref.loc["national peak", "value"] == pytest.approx(12150.18)
    assert ref["source"].str.contains("§2.4").all()
    assert ref.loc["gas 2030 low", "value"] < ref.loc["gas 2030", "value"] < ref.loc["gas 2030 high", "value"]


def test_true_model_has_the_generator_coefficients_and_fits_history(world):
    panel = world[0]
    tm = headline.TrueModel().fit(panel)
    assert tm.coef_ == pytest.approx(synth.TRUE_COEFFICIENTS)
    res = data.log_emissions_per_capita(panel).to_numpy() - tm.predict(panel)
    assert abs(res.mean()) < 1e-9 and res.std() < 2 * synth.NOISE_SD
    with pytest.raises(ParameterError, match="Atlantis"):
        tm.predict(panel.head(1).assign(region="Atlantis"))


def test_comparison_puts_the_study_last(world):
    panel, _, _, fc = world
    row = headline.summarise(fc, "true model")
    assert sum(row[c] for c in peaks.CLASSES) == 30
    assert row["by 2025 (study)"] == row[peaks.CLASS_BEFORE] + row[peaks.CLASS_2025]
    tab = headline.comparison([row])
    assert list(tab["source"]) == ["true model", "the study (Tables 7, 8)"]
    assert tab.iloc[-1][["by 2025 (study)", "by 2030", "not by 2030"]].tolist() == [17, 4, 9]
    nat = peaks.national_curve(fc).set_index("year")["emissions_mt"]
    assert tab.iloc[0]["national peak (Mt)"] == pytest.approx(nat.max())


def test_sensitivity_swaps_one_driver_at_a_time(world):
    panel, targets, paths, fc = world
    s = headline.driver_sensitivity(lambda p: headline.forecast_true(panel, p), panel,
                                    targets=targets, vary=("fossil", "lcar"))
    assert s.iloc[0]["driver"] == "(none)" and s.iloc[0]["change 2030 %"] == 0
    assert set(s["driver"]) == {"(none)", "fossil", "lcar"}
    assert "rolled forward" in set(s.loc[s["driver"] == "lcar", "variant"])
    assert "rolled forward" not in set(s.loc[s["driver"] == "fossil", "variant"])
    # the non-fossil targets rise: freezing the share raises 2030 emissions (β < 0) ...
    frozen = s[(s["driver"] == "fossil") & (s["variant"] == "frozen")].iloc[0]
    assert frozen["change 2030 %"] > 0
    # ... and cars compounding by the rule instead of saturating raise them too (β > 0)
    rolled = s[(s["driver"] == "lcar") & (s["variant"] == "rolled forward")].iloc[0]
    assert rolled["change 2030 %"] > 0
    base2030 = peaks.national_curve(fc).set_index("year")["emissions_mt"].iloc[-1]
    assert s.iloc[0]["national 2030 (Mt)"] == pytest.approx(base2030)


def test_gas_check_reproduces_the_last_year_from_the_fuel_use(world):
    panel, _, paths, fc = world
    fu = data.load_fuel_use("teaching")
    g = headline.gas_check(fc, paths, fu)
    china = g[g["region"] == "China"].set_index("year")
    last = int(panel["year"].max())
    q = fu[(fu["year"] == last) & (fu["fuel"].isin(["natural_gas", "lng"]))]
    from carbonlab import accounting
    from carbonlab.units import UNITS

    ef = accounting.emission_factors(synth.FACTOR_SET)
    tj = sum(r.quantity * UNITS[r.unit][1] * ef.loc[r.fuel, "tj_per_base"] for r in q.itertuples())
    expect = tj / (ef.loc["natural_gas", "tj_per_base"] * 1e8)
    assert china.loc[last, "gas_1e8m3"] == pytest.approx(expect, rel=1e-6)
    assert 2030 in china.index and china.loc[2030, "gas_1e8m3"] > 0
    assert len(g) == 2 * 30 + 2 and np.isfinite(g["gas_1e8m3"]).all()
    assert isinstance(g, pd.DataFrame)


def test_rule_contrast_counts_reversed_trends(world):
    panel, targets, _, _ = world
    rc = headline.rule_contrast(panel, "baseline", targets=targets)
    assert list(rc["driver"]) == list(peaks.KEY_DRIVERS)
    assert (rc[["turns_mean_change", "turns_level_ma"]].le(rc["rising"], axis=0)).all().all()
    # the tertiary share has no target: every rising series falls back under level_ma, and
    # under mean_change exactly those whose last five changes sum below zero turn
    tert = rc.set_index("driver").loc["tertrate"]
    assert tert["rising"] > 0 and tert["turns_level_ma"] == tert["rising"]
    w = panel.pivot(index="region", columns="year", values="tertrate")
    down = ((w[2021] > w[2020]) & (w[2021] - w[2016] < 0)).sum()
    assert tert["turns_mean_change"] == down < tert["rising"]


def test_summarise_outlook_and_plot(world):
    from types import SimpleNamespace

    panel, targets, paths, fc = world
    row = headline.summarise(fc, "x")
    counts = pd.Series({c: row[c] for c in peaks.CLASSES})
    nat = peaks.national_curve(fc)
    fake = SimpleNamespace(counts=counts, national_peak=peaks.find_peak(nat["year"], nat["emissions_mt"]))
    assert headline.summarise_outlook(fake, "x") == row
    s = headline.driver_sensitivity(lambda p: headline.forecast_true(panel, p), panel,
                                    targets=targets, vary=("gas",), variants=("frozen",))
    ax = headline.plot_sensitivity(s)
    assert len(ax.patches) == 1 and ax.figure is not None
    with pytest.raises(ParameterError, match="vary"):
        headline.driver_sensitivity(lambda p: fc, panel, targets=targets, vary=("urban",))


def test_extrapolation_contrast_sets_a_forest_beside_fe_and_the_truth(world):
    panel, _, paths, fc = world
    t = headline.extrapolation_contrast(panel, paths, truth=True, n_trees=30)
    assert list(t["model"]) == ["rf", "fe", "true", "study"]
    assert t.iloc[-1]["source"] == "the study (Tables 7, 8)"
    for _, r in t.iloc[:-1].iterrows():
        assert r["by 2025 (study)"] + r["by 2030"] + r["not by 2030"] == 30
    true = t.set_index("model").loc["true"]
    assert true["not by 2030"] == headline.summarise(fc, "")["not by 2030"]
    # the forest cannot extrapolate: beyond its training range a rising driver stops
    # moving the forecast, so it leaves more provinces unpeaked than panel FE
    assert t.set_index("model").loc["rf", "not by 2030"] > t.set_index("model").loc["fe", "not by 2030"]
    assert 0 < t["beyond_history"].iloc[0] <= 30
    text = headline.describe_extrapolation(t)
    assert f"true model: {int(true['not by 2030'])} provinces not peaked by 2030" in text
    assert "The study found 9" in text
    with pytest.raises(ParameterError, match="n_trees"):
        headline.extrapolation_contrast(panel, paths, n_trees=0)


def test_class_attribution_tells_the_fit_from_the_ensemble(world):
    """The point model's classes against the truth's (the fit) and the outlook's class against
    the point model's (the ensemble): a province moved only by the ensemble is 'ensemble'."""
    from types import SimpleNamespace

    from carbonlab.models import PanelModel

    panel, _, paths, fc = world
    point = PanelModel("fe", peaks.KEY_DRIVERS).fit(panel)
    pt = peaks.peak_table(peaks.forecast(point, panel, paths)).set_index("region")["class"]
    tr = peaks.peak_table(fc).set_index("region")["class"]
    ens = pt.copy()
    moved = pt.index[pt == tr][0]
    ens[moved] = peaks.CLASS_NOT if pt[moved] != peaks.CLASS_NOT else peaks.CLASS_2025
    fit = pt.index[pt != tr]
    for table in (ens.rename("class").reset_index(),  # point class computed from the model
                  ens.rename("class").reset_index().assign(point_class=pt.to_numpy())):
        fake = SimpleNamespace(point_model=point, panel=panel, paths=paths, population=None,
                               table=table)
        a = headline.class_attribution(fake, fc).set_index("region")
        assert a.loc[moved, "source"] == "ensemble"
        assert (a.loc[fit, "source"] == "fit").all()
        assert (a.drop(index=[moved, *fit])["source"] == "same class").all()
    text = headline.describe_attribution(a.reset_index())
    assert text.startswith(f"{1 + len(fit)} of 30 provinces")
    assert "1 from the ensemble alone" in text and f"{len(fit)} from the fit" in text
    no_truth = headline.class_attribution(fake)
    assert "true" not in no_truth and (no_truth["source"] != "fit").all()
    assert "1 of 30" in headline.describe_attribution(no_truth)
