"""The one content-keyed cache: keys follow content (data, files, parameters, code)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab import cache
from carbonlab._util import ParameterError


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CARBONLAB_CACHE_DIR", str(tmp_path / "cache"))


def _df(**over):
    df = pd.DataFrame({"region": ["Beijing", "Ningxia"], "year": [2020, 2020],
                       "emissions_mt": [90.0, 250.5]})
    for k, v in over.items():
        df[k] = v
    return df


def test_cache_dir_follows_env(tmp_path):
    assert cache.cache_dir() == tmp_path / "cache"


def test_equal_content_equal_key_and_any_change_changes_it():
    base = cache.content_key(_df(), {"a": 1, "b": [1, 2]}, "x")
    assert base == cache.content_key(_df(), {"b": [1, 2], "a": 1}, "x")  # dict order
    variants = [
        cache.content_key(_df(emissions_mt=[90.0, 250.6]), {"a": 1, "b": [1, 2]}, "x"),
        cache.content_key(_df().rename(columns={"year": "yr"}), {"a": 1, "b": [1, 2]}, "x"),
        cache.content_key(_df().astype({"year": "float64"}), {"a": 1, "b": [1, 2]}, "x"),
        cache.content_key(_df().set_index("region"), {"a": 1, "b": [1, 2]}, "x"),
        cache.content_key(_df(), {"a": 2, "b": [1, 2]}, "x"),
        cache.content_key(_df(), {"a": 1.0, "b": [1, 2]}, "x"),
        cache.content_key(_df(), {"a": True, "b": [1, 2]}, "x"),
        cache.content_key(_df(), {"a": 1, "b": (1, 2)}, "x"),
        cache.content_key(_df(), {"a": 1, "b": [1, 2]}, "y"),
        cache.content_key(_df(), {"a": 1, "b": [1, 2]}),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_arrays_series_nan_and_estimators():
    a = np.arange(6.0).reshape(2, 3)
    assert cache.content_key(a) == cache.content_key(a.copy())
    assert cache.content_key(a) != cache.content_key(a.T.copy())
    assert cache.content_key(a) != cache.content_key(a.astype("float32"))
    s = pd.Series([1.0, np.nan], name="x")
    assert cache.content_key(s) == cache.content_key(s.copy())
    assert cache.content_key(s) != cache.content_key(s.rename("y"))
    from sklearn.ensemble import RandomForestRegressor

    assert (cache.content_key(RandomForestRegressor(n_estimators=5))
            == cache.content_key(RandomForestRegressor(n_estimators=5)))
    assert (cache.content_key(RandomForestRegressor(n_estimators=5))
            != cache.content_key(RandomForestRegressor(n_estimators=6)))


def test_dataclasses_are_hashed_by_fields():
    @dataclasses.dataclass
    class P:
        window: int
        name: str

    assert cache.content_key(P(3, "trend")) == cache.content_key(P(3, "trend"))
    assert cache.content_key(P(3, "trend")) != cache.content_key(P(1, "trend"))


def test_unknown_types_are_refused_not_repr_d():
    class Opaque:
        pass

    with pytest.raises(TypeError, match="Opaque"):
        cache.content_key(Opaque())
    with pytest.raises(TypeError):
        cache.content_key(lambda: 1)


def test_path_is_hashed_by_content_not_name(tmp_path):
    a, b = tmp_path / "trend.yaml", tmp_path / "copy.yaml"
    a.write_text("window: 5\n", encoding="utf-8")
    shutil.copy(a, b)
    k = cache.content_key(a)
    assert k == cache.content_key(b)  # same content, other name
    a.write_text("window: 1\n", encoding="utf-8")
    assert cache.content_key(a) != k
    with pytest.raises(ParameterError, match="does not exist"):
        cache.content_key(tmp_path / "missing.yaml")


def test_editing_a_scenario_file_invalidates_a_cached_computation(tmp_path):
    """Issue 16 item 2: same name, new content -> recomputed, not the stale table."""
    scen = tmp_path / "trend.yaml"
    scen.write_text("window: 5\n", encoding="utf-8")
    calls = []

    def compute():
        calls.append(1)
        return scen.read_text(encoding="utf-8")

    assert cache.cached("backtest", [scen, {"seed": 0}], compute) == "window: 5\n"
    assert cache.cached("backtest", [scen, {"seed": 0}], compute) == "window: 5\n"
    assert len(calls) == 1  # second call hit the cache
    scen.write_text("window: 1\n", encoding="utf-8")
    assert cache.cached("backtest", [scen, {"seed": 0}], compute) == "window: 1\n"
    assert len(calls) == 2


def test_a_code_edit_changes_the_source_hash(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(Path(cache.__file__).parent, pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = cache._source_hash(pkg)
    assert before == cache._source_hash(pkg)
    with open(pkg / "peaks.py", "a", encoding="utf-8") as fh:
        fh.write("\n# an edit\n")
    assert cache._source_hash(pkg) != before
    assert cache.source_fingerprint() in (cache.source_fingerprint(),)


def test_corrupt_entry_is_recomputed_and_disabled_cache_writes_nothing(tmp_path):
    n = []
    path = cache.cache_path("demo", [1])
    assert cache.cached("demo", [1], lambda: n.append(1) or 42) == 42
    assert path.is_file()
    path.write_bytes(b"garbage")
    assert cache.cached("demo", [1], lambda: n.append(1) or 43) == 43
    assert len(n) == 2
    assert cache.cached("demo", [1], lambda: 44) == 43  # the rewritten entry
    assert cache.cached("other", [1], lambda: 7, enabled=False) == 7
    assert not (cache.cache_dir() / "other").exists()
    assert not list(path.parent.glob(".*"))  # no temporary files left
    assert cache.clear("demo") == 1 and not path.exists()


def test_bad_kind_is_a_parameter_error():
    with pytest.raises(ParameterError, match="kind"):
        cache.cached("../escape", [1], lambda: 1)


def test_backtest_cache_follows_the_scenario_file_not_its_name(tmp_path, monkeypatch):
    """Issue 16 item 2, end to end: edit trend.yaml (same name) -> the skill backtest
    (cache=True) returns the fresh table, not the one cached for the old content."""
    from carbonlab import data, scenarios
    from carbonlab.forecast import skill_backtest

    d = tmp_path / "scen"
    d.mkdir()
    for name in ("baseline.yaml", "trend.yaml"):
        shutil.copy(scenarios.scenario_dir() / name, d / name)
    monkeypatch.setattr(scenarios, "scenario_dir", lambda: d)
    panel = data.load_panel("teaching")
    panel = panel[panel["region"].isin(["Beijing", "Hebei", "Ningxia"])]
    kw = {"drivers": ("fossil", "gas", "tertrate", "lcar", "first"), "models": ("fe",),
          "origins": [2016], "max_horizon": 3, "scenario": "trend", "cache": True}
    before = skill_backtest(panel, **kw)
    text = (d / "trend.yaml").read_text(encoding="utf-8")
    assert "window:" not in text
    (d / "trend.yaml").write_text(text + "window: 1\n", encoding="utf-8")
    after = skill_backtest(panel, **kw)
    fresh = skill_backtest(panel, **{**kw, "cache": False})
    pd.testing.assert_frame_equal(after, fresh)
    unc = lambda d: d.loc[d["mode"] == "unconditional", "pred_mt"].to_numpy()  # noqa: E731
    assert not np.allclose(unc(before), unc(after))


_CONCURRENT = """
import sys, time
from pathlib import Path
from carbonlab.cache import cached

log = Path(sys.argv[1])

def compute():
    with open(log, "a") as fh:
        fh.write("computed\\n")
    time.sleep(1.0)
    return 42

print(cached("concurrent", ["same key"], compute))
"""


def test_concurrent_processes_compute_a_key_once(tmp_path):
    """Two processes asking for the same entry at once: one computes, the other waits and reads."""
    import subprocess
    import sys

    script = tmp_path / "job.py"
    script.write_text(_CONCURRENT)
    log = tmp_path / "log.txt"
    procs = [subprocess.Popen([sys.executable, str(script), str(log)], stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert outs == ["42", "42"]
    assert log.read_text().count("computed") == 1
