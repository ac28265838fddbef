"""Chapter 5's all-cities scoring: parallel workers give the serial result; job counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonlab import leap
from carbonlab._util import ParameterError


def _cities(n: int = 4, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic cities (named after real ones so names resolve), one too short."""
    rng = np.random.default_rng(seed)
    yrs = np.arange(2004, 2023)
    names = ["Beijing", "Lanzhou", "Hohhot", "Shangluo", "Tianjin", "Handan"][:n]
    rows = []
    for i, c in enumerate(names):
        t = yrs - yrs[0]
        level = (15 + 7 * i) * (1 + 0.05 * t - 0.001 * i * t ** 2) + rng.normal(0, 0.4, len(t))
        keep = slice(None) if i else slice(-6, None)    # the first city: 6 years only
        for y, v in zip(yrs[keep], level[keep], strict=True):
            rows.append({"city": c, "city_zh": c, "province": "p", "year": int(y),
                         "emissions_mt": float(v), "pilot_year": pd.NA})
    df = pd.DataFrame(rows)
    df["pilot_year"] = df["pilot_year"].astype("Int64")
    return df


def test_all_cities_is_the_same_on_one_or_two_workers():
    df = _cities()
    models = ("bpnn", "lstm", "svr", "rf", "persistence", "drift")
    one = leap.all_cities(df, models, n_origins=3, cache=False, n_jobs=1)
    two = leap.all_cities(df, models, n_origins=3, cache=False, n_jobs=2)
    assert set(one) == set(two)
    for key, a in one.items():
        b = two[key]
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b)
        else:
            pd.testing.assert_series_equal(a, b)
    # every model was scored on the three long cities; the short one is named with a reason
    assert len(one["winners"]) == 3 and list(one["skipped"].index) == ["Beijing"]
    assert set(one["evaluation"].loc[one["evaluation"]["city"] == "Lanzhou", "model"]) == \
        set(models)
    # the cities are the serial path's: one city alone gives its rows of the table
    alone = leap.all_cities(df, models, names=["Hohhot"], n_origins=3, cache=False, n_jobs=1)
    pd.testing.assert_frame_equal(
        alone["evaluation"],
        one["evaluation"][one["evaluation"]["city"] == "Hohhot"].reset_index(drop=True))


def test_job_count_from_argument_environment_or_cpus(monkeypatch):
    from carbonlab._util import n_jobs

    monkeypatch.delenv("CARBONLAB_JOBS", raising=False)
    assert n_jobs(3) == 3
    assert n_jobs() >= 1
    monkeypatch.setenv("CARBONLAB_JOBS", "1")
    assert n_jobs() == 1
    assert n_jobs(2) == 2           # the argument wins
    monkeypatch.setenv("CARBONLAB_JOBS", "two")
    with pytest.raises(ParameterError, match="CARBONLAB_JOBS must be an integer >= 1, got 'two'"):
        n_jobs()
    for bad in (0, -1, 1.5, True, "x"):
        with pytest.raises(ParameterError, match="n_jobs must be an integer >= 1"):
            n_jobs(bad)


def test_city_scoring_runs_one_maths_thread(monkeypatch):
    """evaluate_city and forecast_city fit with BLAS/OpenMP limited to one thread."""
    from threadpoolctl import threadpool_info

    from carbonlab.leap import forecast as fc

    seen: list[int] = []
    real = fc._fit_forecast

    def spy(*args, **kw):
        seen.extend(int(p["num_threads"]) for p in threadpool_info())
        return real(*args, **kw)

    monkeypatch.setattr(fc, "_fit_forecast", spy)
    s = leap.city_series(_cities(), "Lanzhou")
    leap.evaluate_city(s, ("svr", "persistence"), n_origins=2, fast=True)
    leap.forecast_city(s, "svr", 2025, fast=True)
    assert seen and set(seen) == {1}


def test_city_model_reads_its_grid_from_the_registry(monkeypatch):
    """city_model builds from the registry row (no second list of grids in the city layer)."""
    import dataclasses

    from carbonlab.models import model_spec
    from carbonlab.models import registry as reg

    m = leap.city_model("svr", fast=True)
    assert m.C == tuple(model_spec("svr").city_grid_fast["C"])
    assert leap.city_model("rf").n_estimators == model_spec("rf").city_grid["n_estimators"][0]
    row = dataclasses.replace(model_spec("svr"), city_grid_fast={"C": (7.0,), "epsilon": (0.2,),
                                                                 "gamma": (1.0,)})
    monkeypatch.setitem(reg._TABLE, "svr", row)
    m = leap.city_model("svr", fast=True)
    assert (m.C, m.epsilon, m.gamma) == ((7.0,), (0.2,), (1.0,))
    assert leap.city_model("lstm", fast=True).max_epochs == \
        model_spec("lstm").city_grid_fast["epochs"][0]
