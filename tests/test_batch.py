"""carbonlab.batch: grids, Dask runs with failures and retries, parquet, the command."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlab import batch, data, leap
from carbonlab._util import ParameterError
from carbonlab.regions import PROVINCES

distributed = pytest.importorskip("distributed")

ME = __name__  # workers import the helpers below by this module name (tests/ is on sys.path)


# ---- test-only task functions (run on the workers) -----------------------------------

def square_table(x: int, n: int = 2) -> pd.DataFrame:
    """n rows: x, x**2, x**3 ... (a tidy table with a column named like a meta column)."""
    k = np.arange(1, n + 1)
    return pd.DataFrame({"power": k, "y": float(x) ** k, "status": "computed"})


def boom(x: int) -> dict:
    raise ValueError(f"boom {x}\nsecond line that must not reach the table")


def flaky(marker: str, x: int) -> dict:
    """Fails on the first call (creating ``marker``), succeeds afterwards."""
    m = Path(marker)
    if not m.exists():
        m.write_text("seen", encoding="utf-8")
        raise RuntimeError("first attempt fails")
    return {"x2": 2 * x}


def whoami(i: int) -> dict:
    time.sleep(0.2)
    return {"pid": os.getpid()}


def die(code: int) -> dict:
    """Kills the worker process running it."""
    os._exit(code)


# ---- fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    """Two in-process workers over TCP (a real scheduler address for the CLI tests)."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       protocol="tcp://", dashboard_address=None,
                                       scheduler_kwargs={"dashboard_address": ":0"})
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _spec(marker: Path) -> dict:
    return {"tasks": [
        {"name": "logistic", "kind": "function", "function": "carbonlab.leap.logistic",
         "params": {"K": 2.0, "t0": 2025}, "grid": {"r": [0.2, 0.5], "t": {"range": [2020, 2031, 5]}}},
        {"name": "squares", "kind": "function", "function": f"{ME}.square_table",
         "params": {"n": 3}, "grid": {"x": [2, 3]}},
        {"name": "boom", "kind": "function", "function": f"{ME}.boom", "params": {"x": 7}},
        {"name": "flaky", "kind": "function", "function": f"{ME}.flaky",
         "params": {"marker": str(marker), "x": 21}},
    ]}


# ---- grids ---------------------------------------------------------------------------

def test_expand_grid_product_and_types(tmp_path):
    spec = _spec(tmp_path / "m")
    t = batch.expand_grid(spec, allow_any_function=True)
    assert list(t["task"]) == list(range(len(t)))
    assert (t["entry"] == "logistic").sum() == 2 * len(range(2020, 2031, 5))
    lg = t[t["entry"] == "logistic"]
    assert sorted(zip(lg["r"], lg["t"], strict=True)) == sorted(
        (r, y) for r in (0.2, 0.5) for y in range(2020, 2031, 5))
    assert all(type(v) is int for v in lg["t"])  # Python values, not floats with NaN
    assert t.loc[t["entry"] == "boom", "r"].isna().all()
    assert t["output"].isna().all()  # functions write no notebook


def test_expand_grid_yaml_notebook_regions(tmp_path):
    g = tmp_path / "grid.yaml"
    g.write_text("output_dir: %s\ntasks:\n  - kind: notebook\n    notebook: 00_overview\n"
                 "    params: {dataset: teaching}\n    grid: {region: '*'}\n"
                 % (tmp_path / "nbs"), encoding="utf-8")
    t = batch.expand_grid(g)
    assert list(t["region"]) == list(PROVINCES)
    assert t["target"].str.endswith("00_overview.ipynb").all()
    assert t["output"].map(lambda p: Path(p).parent == tmp_path / "nbs").all()
    assert t["output"].nunique() == len(t)
    assert Path(t["output"].iloc[-1]).name == f"00_overview_{len(t) - 1:04d}_{PROVINCES[-1].replace(' ', '-')}.ipynb"


def test_expand_grid_csv(tmp_path):
    g = tmp_path / "grid.csv"
    g.write_text("kind,target,name,x,n,region\n"
                 f"function,{ME}.square_table,a,3,,\n"
                 f"function,{ME}.square_table,,4,1,\n"
                 "notebook,00_overview,,,,宁夏\n", encoding="utf-8")
    t = batch.expand_grid(g, allow_any_function=True)
    assert list(t["entry"]) == ["a", "row 3", "row 4"]
    assert t.loc[0, "x"] == 3 and type(t.loc[0, "x"]) is int and t.loc[0, "n"] is None
    assert t.loc[1, "n"] == 1
    assert t.loc[2, "region"] == "Ningxia"  # resolved at the boundary


BAD = [
    ({"kind": "shell", "target": "ls"}, r"tasks\[0\]\.kind: value 'shell' — must be one of"),
    ({"kind": "function", "function": f"{ME}.boom", "params": {1: 2}},
     r"tasks\[0\]\.params\[1\] key: value 1 — input should be a valid string"),
    ({"kind": "function", "function": ["a"]}, r"tasks\[0\]\.function: value \['a'\]"),
    ({"kind": "function", "function": "carbonlab.leap.no_such"}, r"tasks\[0\]: unknown function"),
    ({"kind": "function", "function": "carbonlab.nothere.f"}, r"tasks\[0\]: unknown function"),
    ({"kind": "function", "function": "carbonlab.leap.logistic",
      "params": {"K": 1, "r": 1, "t0": 1, "t": 1, "speed": 2}}, r"unknown parameter.*speed"),
    ({"kind": "function", "function": "carbonlab.leap.logistic", "params": {"K": 1}},
     r"needs parameter"),
    ({"kind": "notebook", "notebook": "00_overview", "grid": {"regoin": ["Beijing"]}},
     r"tasks\[0\]: 00_overview.ipynb: unknown parameter 'regoin'"),
    ({"kind": "notebook", "notebook": "00_overview", "params": {"region": "Atlantis"}},
     r"tasks\[0\]: .*Atlantis"),
    ({"kind": "notebook", "notebook": "00_overview", "params": {"dataset": "cead"}},
     r"tasks\[0\]: 00_overview.ipynb: unknown dataset"),
    ({"kind": "notebook", "notebook": "00_overview", "params": {"seed": "many"}},
     r"tasks\[0\]: 00_overview.ipynb: parameter seed expects int"),
    ({"kind": "notebook", "notebook": "99_missing"}, r"tasks\[0\]: unknown notebook"),
    ({"kind": "function", "function": f"{ME}.boom", "grid": {"x": 3}}, r"non-empty list"),
    ({"kind": "function", "function": f"{ME}.boom", "params": {"status": 1}}, r"reserved"),
    ({"kind": "function", "function": f"{ME}.boom", "colour": 1}, r"unknown key"),
]


@pytest.mark.parametrize("entry,pattern", BAD, ids=[p for _, p in BAD])
def test_bad_entries(entry, pattern):
    ok = {"kind": "function", "function": f"{ME}.boom", "params": {"x": 1}}
    with pytest.raises(ParameterError, match=pattern) as ei:
        batch.expand_grid({"tasks": [entry, ok]}, allow_any_function=True)
    assert "\n" not in str(ei.value)


def test_bad_files(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        batch.expand_grid(tmp_path / "nope.yaml")
    (tmp_path / "g.yaml").write_text("tasks: [kind: function\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"g.yaml: not valid YAML"):
        batch.expand_grid(tmp_path / "g.yaml")
    (tmp_path / "g.csv").write_text("kind,x\nfunction,1\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"g.csv: missing column.*target"):
        batch.expand_grid(tmp_path / "g.csv")
    (tmp_path / "h.csv").write_text(f"kind,target,y\nfunction,{ME}.boom,1\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"h.csv: row 2: unknown parameter"):
        batch.expand_grid(tmp_path / "h.csv", allow_any_function=True)
    with pytest.raises(ParameterError, match="retries"):
        batch.run_batch(batch.expand_grid({"tasks": [{"kind": "function",
                        "function": f"{ME}.boom", "params": {"x": 1}}]},
                        allow_any_function=True), retries=-1)


def test_grid_functions_come_from_the_allow_list(tmp_path):
    """Issue 16 item 12: a grid file cannot call os.system (or any non-carbonlab function)."""
    marker = tmp_path / "pwned"
    shell = {"kind": "function", "function": "os.system", "params": {"command": f"touch {marker}"}}
    for entry in (shell, {"kind": "function", "function": "subprocess.run"},
                  {"kind": "function", "function": "carbonlab.leap.logistic.__globals__"},
                  {"kind": "function", "function": "carbonlab._util.atomic_path"},
                  {"kind": "function", "function": "carbonlab.batch.run_batch"}):
        with pytest.raises(ParameterError, match="not allowed|not a public") as ei:
            batch.expand_grid({"tasks": [entry]})
        assert "\n" not in str(ei.value)
    table = batch.expand_grid({"tasks": [shell]}, allow_any_function=True)
    with pytest.raises(ParameterError, match="not allowed"):  # a hand-built table too
        batch.run_batch(table, retries=0)
    assert not marker.exists()
    names = batch.batch_functions()
    assert "carbonlab.leap.logistic" in names and "carbonlab.peaks.find_peak" in names
    assert not any(n.startswith(("carbonlab.batch", "carbonlab.runner", "carbonlab._util"))
                   for n in names)


def test_output_locations_are_checked_before_any_task(tmp_path, monkeypatch):
    """Issue 16 item 6: -o onto a folder or into an unwritable place: one line, no task runs."""
    calls = []
    monkeypatch.setattr(batch, "_gather", lambda *a, **k: calls.append(1) or {})
    spec = {"tasks": [{"kind": "function", "function": "carbonlab.leap.logistic",
                       "params": {"K": 1.0, "r": 0.3, "t0": 2025, "t": 2030}}]}
    (tmp_path / "dir.parquet").mkdir()
    for out, pattern in ((tmp_path / "dir.parquet", "existing folder"),
                         (Path("/proc/carbonlab-nope/r.parquet"), "cannot be written"),
                         (tmp_path / ("x" * 250 + ".parquet"), "too long")):
        with pytest.raises(ParameterError, match=pattern):
            batch.run_batch(spec, output=out, retries=0)
    nb_spec = {"output_dir": "/proc/carbonlab-nope", "tasks": [
        {"kind": "notebook", "notebook": "00_overview", "params": {"dataset": "teaching"}}]}
    with pytest.raises(ParameterError, match="cannot be written"):
        batch.run_batch(nb_spec, retries=0)
    assert calls == []


# ---- runs ----------------------------------------------------------------------------

@pytest.mark.parametrize("chunk_size", [1, 4])
def test_run_batch_failures_retries_parquet(client, tmp_path, chunk_size):
    marker = tmp_path / "flaky.marker"
    tasks = batch.expand_grid(_spec(marker), allow_any_function=True)
    lines: list[str] = []
    out = tmp_path / "res" / "results.parquet"
    res = batch.run_batch(tasks, scheduler=client, retries=2, output=out, log=lines.append,
                          chunk_size=chunk_size, allow_any_function=True)

    per_task = res.drop_duplicates("task").set_index("entry", drop=False)
    # the deterministic failure: reported, all attempts used, one line, others intact
    b = per_task.loc["boom"]
    assert b["status"] == "failed" and b["attempts"] == 3
    assert b["error"] == "ValueError: boom 7"
    assert sum("boom 7" in m for m in lines) == 3
    # the flaky task: failed once, then succeeded
    f = res[res["entry"] == "flaky"]
    assert list(f["status"]) == ["ok"] and list(f["attempts"]) == [2] and list(f["x2"]) == [42]
    assert f["error"].isna().all()
    # the rest: values equal to direct calls
    lg = res[res["entry"] == "logistic"]
    assert (lg["status"] == "ok").all() and (lg["attempts"] == 1).all()
    expect = [leap.logistic(t, 2.0, r, 2025) for r, t in zip(lg["r"], lg["t"], strict=True)]
    np.testing.assert_allclose(lg["value"], expect, rtol=0, atol=0)
    sq = res[res["entry"] == "squares"]
    assert len(sq) == 2 * 3  # task parameters x result rows
    for x in (2, 3):
        got = sq[sq["x"] == x]
        direct = square_table(x, 3)
        np.testing.assert_array_equal(got["y"], direct["y"])
        assert (got["result_status"] == "computed").all() and (got["status"] == "ok").all()
    assert (res["elapsed_s"] >= 0).all()
    assert list(res["task"]) == sorted(res["task"])
    # parquet: written atomically, reads back identical
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back, res)
    assert [p.name for p in out.parent.iterdir()] == ["results.parquet"]


def test_run_batch_is_deterministic(client):
    spec = {"tasks": [{"kind": "function", "function": f"{ME}.square_table",
                       "grid": {"x": [1, 2, 3, 4], "n": [1, 2]}}]}
    a = batch.run_batch(spec, scheduler=client, retries=0, allow_any_function=True)
    b = batch.run_batch(spec, scheduler=client, retries=0, allow_any_function=True)
    pd.testing.assert_frame_equal(a.drop(columns="elapsed_s"), b.drop(columns="elapsed_s"))
    assert len(a) == sum(n for _ in range(4) for n in (1, 2))


def test_default_local_cluster_uses_processes():
    """The default cluster: 2 worker processes importing the task function; a task that
    kills its worker is reported failed and the others still finish."""
    spec = {"tasks": [{"kind": "function", "function": f"{ME}.whoami",
                       "grid": {"i": list(range(4))}},
                      {"name": "die", "kind": "function", "function": f"{ME}.die",
                       "params": {"code": 3}}]}
    import dask

    # one task per worker at a time, so only the killer is on the dying worker
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0}):
        res = batch.run_batch(spec, n_workers=2, retries=0, allow_any_function=True)
    ok = res[res["entry"] != "die"]
    assert (ok["status"] == "ok").all() and len(ok) == 4
    pids = set(ok["pid"])
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    dead = res[res["entry"] == "die"]
    assert list(dead["status"]) == ["failed"] and dead["pid"].isna().all()
    assert dead["error"].str.contains("KilledWorker").all()


# ---- the command ---------------------------------------------------------------------

def _command(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="carbonlab")
    sub = p.add_subparsers(dest="command", required=True)
    batch.add_batch_parser(sub)
    return batch.run_batch_command(p.parse_args(["batch", *argv]))


def test_command_exit_codes(client, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks:\n  - kind: shell\n    target: ls\n", encoding="utf-8")
    out = tmp_path / "r.parquet"
    assert _command([str(bad), "-o", str(out), "--scheduler", client.scheduler.address]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml: tasks[0].kind: value 'shell' — must be one of" in err
    assert not out.exists()
    assert _command([str(bad), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
    assert _command([str(bad), "--chunk-size", "0"]) == 2
    assert "--chunk-size" in capsys.readouterr().err

    good = tmp_path / "good.csv"
    good.write_text(f"kind,target,x\nfunction,{ME}.square_table,5\nfunction,{ME}.boom,1\n",
                    encoding="utf-8")
    assert _command([str(good), "-o", str(out), "--scheduler", client.scheduler.address]) == 2
    assert "not allowed" in capsys.readouterr().err  # test functions need the flag
    rc = _command([str(good), "-o", str(out), "--retries", "0", "--chunk-size", "2",
                   "--scheduler", client.scheduler.address, "--allow-any-function"])
    assert rc == 1  # one task failed; the others' results are written
    res = pd.read_parquet(out)
    assert list(res.drop_duplicates("task")["status"]) == ["ok", "failed"]
    assert "failed: task 1" in capsys.readouterr().err
    good.write_text(f"kind,target,x\nfunction,{ME}.square_table,5\n", encoding="utf-8")
    assert _command([str(good), "-o", str(out), "--scheduler", client.scheduler.address,
                     "--allow-any-function"]) == 0


# ---- notebooks -----------------------------------------------------------------------

@pytest.mark.slow
def test_notebook_tasks_two_regions(client, tmp_path):
    spec = {"output_dir": str(tmp_path / "nbs"), "tasks": [
        {"kind": "notebook", "notebook": "notebooks/00_overview.ipynb",
         "params": {"dataset": "teaching"}, "grid": {"region": ["Beijing", "宁夏"]}}]}
    res = batch.run_batch(spec, scheduler=client, retries=0)
    assert (res["status"] == "ok").all(), res["error"].dropna().tolist()
    panel = data.load_panel("teaching")
    for region in ("Beijing", "Ningxia"):
        mine = res[res["region"] == region].set_index("name")
        assert mine.loc["region_name", "text"] == region
        assert mine.loc["n_regions", "value"] == panel["region"].nunique()
        em = panel[panel["region"] == region].sort_values("year")["emissions_mt"]
        np.testing.assert_allclose(mine.loc["region_last", "value"], em.iloc[-1], rtol=1e-6)
        assert Path(mine["output"].iloc[0]).is_file()
    assert res.loc[res["region"] == "Ningxia", "output"].str.endswith("_Ningxia.ipynb").all()
    assert sorted(p.name for p in (tmp_path / "nbs").iterdir()) == sorted(
        Path(p).name for p in res["output"].unique())


def test_partial_notebooks_are_removed_on_every_exit_path(tmp_path, monkeypatch):
    """Issue 16 item 9: an interrupted batch leaves no hidden `.x.ipynb.*` beside its outputs."""
    spec = {"output_dir": str(tmp_path / "nbs"), "tasks": [
        {"kind": "notebook", "notebook": "00_overview", "params": {"dataset": "teaching"},
         "grid": {"region": ["Beijing", "Ningxia"]}}]}
    table = batch.expand_grid(spec)
    (tmp_path / "nbs").mkdir()
    keep = tmp_path / "nbs" / "unrelated.ipynb"
    keep.write_text("{}", encoding="utf-8")
    partial = [Path(o).with_name(f".{Path(o).name}.abcd1234.ipynb") for o in table["output"]]

    def interrupted(*a, **k):
        for p in partial:  # what a worker killed mid-write leaves
            p.write_text("{", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "_gather", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(table, retries=0)
    assert sorted(p.name for p in (tmp_path / "nbs").iterdir()) == ["unrelated.ipynb"]


def test_default_notebook_folder_is_not_executed():
    """Issue 26 item 8: the book replaces executed/, so batch notebooks default to runs/batch."""
    t = batch.expand_grid({"tasks": [{"kind": "notebook", "notebook": "00_overview"}]})
    out = Path(t["output"].iloc[0])
    assert out.parts[:2] == ("runs", "batch") and "executed" not in out.parts


def test_results_survive_a_full_disk(tmp_path, monkeypatch):
    """Issue 26 item 11: the results file cannot be written: the error names it, the table is
    saved in the temporary folder and attached to the error."""
    from carbonlab._util import WriteError

    table = pd.DataFrame({"task": [0], "attempts": [1], "value": [1.5]})
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "spare"))
    (tmp_path / "spare").mkdir()
    err = batch._rescued(WriteError(f"{tmp_path / 'r.parquet'}: cannot write (No space left "
                                    "on device)"), table, tmp_path / "r.parquet")
    assert "r.parquet: cannot write (No space left on device)" in str(err)
    saved = list((tmp_path / "spare").glob("carbonlab-r-*.parquet"))
    assert len(saved) == 1 and str(saved[0]) in str(err) and "\n" not in str(err)
    assert pd.read_parquet(saved[0])["value"].tolist() == [1.5]
    assert err.results is table
    assert not (tmp_path / "r.parquet").exists()


def test_notebooks_outside_the_project_need_the_flag(tmp_path):
    """Issue 26 item 12: a grid runs notebooks/ only; --allow-any-function lets a grid you
    wrote yourself name any notebook (a hand-built table is checked the same way)."""
    tiny = Path(__file__).parent / "fixtures" / "tiny.ipynb"
    spec = {"tasks": [{"kind": "notebook", "notebook": str(tiny), "params": {"n": 3}}]}
    with pytest.raises(ParameterError, match="is not allowed"):
        batch.expand_grid(spec)
    table = batch.expand_grid(spec, output_dir=tmp_path, allow_any_function=True)
    assert table["target"].tolist() == [str(tiny.resolve())] and table["n"].tolist() == [3]
    with pytest.raises(ParameterError, match="task 0: notebook .* is not allowed"):
        batch.run_batch(table, output=tmp_path / "r.parquet")
    assert list(tmp_path.iterdir()) == []
