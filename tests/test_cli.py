"""The CLI: every bad input is one line on stderr, exit code 2, and no output file."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from carbonlab.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return subprocess.run([sys.executable, "-m", "carbonlab.cli", *args], capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("args, fragment", [
    (["run", "99_nonsense", "-o", "{out}"], "unknown notebook '99_nonsense'"),
    (["run", "00_overview", "-p", "regoin", "Beijing", "-o", "{out}"], "unknown parameter 'regoin'"),
    (["run", "00_overview", "-p", "region", "Atlantis", "-o", "{out}"], "unknown region 'Atlantis'"),
    (["run", "00_overview", "-p", "region", "西藏", "-o", "{out}"], "not one of the study's 30"),
    (["run", "00_overview", "-p", "dataset", "cead", "-o", "{out}"], "unknown dataset 'cead'"),
    (["run", "00_overview", "-p", "seed", "zero", "-o", "{out}"], "parameter seed expects int"),
    (["book", "--dataset", "nope"], "unknown dataset 'nope'"),
    (["regions", "--resolve", "Narnia"], "unknown region 'Narnia'"),
])
def test_bad_input_exit_2_no_output(tmp_path, args, fragment):
    out = tmp_path / "out.ipynb"
    r = run(*[a.format(out=out) for a in args])
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], r.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2


def test_regions_and_data_list(capsys):
    assert main(["regions", "--resolve", "Nei Mongol"]) == 0
    assert capsys.readouterr().out.strip() == "Inner Mongolia"
    assert main(["regions"]) == 0
    assert "宁夏" in capsys.readouterr().out
    assert main(["data", "list"]) == 0
    assert "ceads-provinces/" in capsys.readouterr().out


def test_data_teaching_check(capsys):
    assert main(["data", "teaching", "--check"]) == 0
    assert "byte for byte" in capsys.readouterr().out


def test_data_verify(data_dir, capsys):
    assert main(["data", "verify", "--data-dir", str(data_dir)]) == 0


def test_data_verify_tampered(tmp_path, data_dir, capsys):
    import shutil

    shutil.copytree(data_dir, tmp_path / "d")
    f = tmp_path / "d" / "gcam-china" / "GDP_raw.csv"
    f.write_bytes(f.read_bytes().replace(b"1", b"2", 1))
    assert main(["data", "verify", "--data-dir", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gcam-china/GDP_raw.csv" in err[0]


@pytest.mark.slow
def test_run_one_region_writes_output(tmp_path):
    out = tmp_path / "nx.ipynb"
    r = run("run", "notebooks/00_overview.ipynb", "-p", "region", "宁夏", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.is_file()
    assert "Ningxia" in out.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["nx.ipynb"]


@pytest.mark.slow
def test_failing_notebook_leaves_nothing(tmp_path):
    import json

    nb = json.loads((ROOT / "notebooks" / "00_overview.ipynb").read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "boom",
                        "metadata": {}, "outputs": [], "source": "raise RuntimeError('boom')"})
    src = tmp_path / "00_broken.ipynb"
    src.write_text(json.dumps(nb), encoding="utf-8")
    out = tmp_path / "out" / "broken.ipynb"
    r = run("run", str(src), "-o", str(out))
    assert r.returncode == 2 and "RuntimeError: boom" in r.stderr
    assert not out.exists() and not any((tmp_path / "out").glob("*"))


TINY = ROOT / "tests" / "fixtures" / "tiny.ipynb"


def _stdout_of_last_cell(path):
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")


def test_rerunning_an_executed_notebook_uses_the_new_parameters(tmp_path, capsys):
    """Issue 16 item 1: run for Ningxia, then re-run that output for Beijing."""
    import nbformat

    first, second = tmp_path / "nx.ipynb", tmp_path / "bj.ipynb"
    assert main(["run", str(TINY), "-p", "region", "宁夏", "-p", "n", "5", "-o", str(first)]) == 0
    assert _stdout_of_last_cell(first).startswith("Ningxia 5 ")
    assert main(["run", str(first), "-p", "region", "Beijing", "-o", str(second)]) == 0
    assert _stdout_of_last_cell(second).startswith("Beijing 2 ")  # n back to its default
    nb = nbformat.read(str(second), as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "Beijing" in injected[0].source
    assert "remove-cell" in injected[0].metadata["tags"]  # hidden in the book, still papermill's
    assert TINY.read_bytes() == (ROOT / "tests" / "fixtures" / "tiny.ipynb").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bj.ipynb", "nx.ipynb"]


def test_run_without_o_goes_to_runs_not_executed():
    """Issue 16 item 5: one-off runs never replace what the book publishes."""
    from carbonlab.runner import RUNS, default_output

    out = default_output(ROOT / "notebooks" / "04_forecast_peaks.ipynb", {"region": "Inner Mongolia"})
    assert out == ROOT / RUNS / "04_forecast_peaks_Inner_Mongolia.ipynb"
    assert "executed" not in out.parts


def test_book_logs_progress_done_total_elapsed(tmp_path):
    """Issue 17 item 8: each finished notebook prints [done/total] and the elapsed time."""
    from carbonlab import book

    lines: list[str] = []
    jobs = [tmp_path / f"{i}.ipynb" for i in range(3)]
    done = book._run_all(lambda p: p, jobs, 2, lines.append, tmp_path)
    assert done == jobs
    assert [ln.split("]")[0] for ln in lines] == ["[1/3", "[2/3", "[3/3"]
    assert all(re.search(r"elapsed \d+:\d\d$", ln) for ln in lines)  # not a duration


def test_default_outputs_differ_with_any_parameter():
    """Issue 26 item 9: two runs for the same region with other parameters get two files."""
    from carbonlab.runner import default_output

    nb = ROOT / "notebooks" / "04_forecast_peaks.ipynb"
    a = default_output(nb, {"region": "Ningxia"})
    b = default_output(nb, {"region": "Ningxia", "scenario": "trend"})
    c = default_output(nb, {"region": "Ningxia", "scenario": "level_ma"})
    d = default_output(nb, {"scenario": "trend", "region": "Ningxia"})
    assert len({a, b, c}) == 3 and b == d
    assert b.name == "04_forecast_peaks_Ningxia_scenario-trend.ipynb"
    long = [default_output(nb, {"region": "Ningxia", "model": m * 300}) for m in "xy"]
    assert long[0] != long[1] and all(len(p.name.encode()) < 200 for p in long)


def test_jobs_from_the_environment_are_capped_at_the_cpus(monkeypatch):
    """Issue 26 item 16: CARBONLAB_JOBS=99999 does not start 99999 workers."""
    import os

    from carbonlab._util import n_jobs

    monkeypatch.setenv("CARBONLAB_JOBS", "99999")
    assert n_jobs() == (os.cpu_count() or 1)
    monkeypatch.setenv("CARBONLAB_JOBS", "1")
    assert n_jobs() == 1


def test_reruns_are_byte_identical_and_keep_no_earlier_metadata(tmp_path):
    """Issue 26 item 17: the same run twice gives the same bytes (no timings, ids or
    addresses); re-running an executed notebook keeps none of the earlier run's parameters."""
    import json

    from carbonlab.runner import run_notebook

    a = run_notebook(TINY, {"region": "宁夏", "n": 5}, tmp_path / "a" / "x.ipynb")
    b = run_notebook(TINY, {"region": "宁夏", "n": 5}, tmp_path / "b" / "x.ipynb")
    assert a.read_bytes() == b.read_bytes()
    again = run_notebook(a, {"x": 0.25}, tmp_path / "c" / "x.ipynb")
    meta = json.loads(again.read_text(encoding="utf-8"))["metadata"]["papermill"]
    assert meta["parameters"] == {"x": 0.25}
    assert meta["input_path"] == "x.ipynb" and "start_time" not in meta
    text = again.read_text(encoding="utf-8")
    assert "Ningxia" not in text and "execution" not in json.loads(text)["cells"][1]["metadata"]


def test_every_parameter_rule_names_a_declared_parameter():
    """Issue 26 item 13: the allowed values live in one table (runner.PARAMETER_RULES); a rule
    for a parameter its notebook no longer declares is caught here, not silently unused."""
    from carbonlab.runner import PARAMETER_RULES, declared_parameters, find_notebook

    for stem, rules in PARAMETER_RULES.items():
        declared = declared_parameters(find_notebook(stem))
        assert set(rules) <= set(declared), (stem, sorted(set(rules) - set(declared)))


def test_declared_defaults_satisfy_their_rules():
    """Each notebook's own defaults pass its rules (the book runs them)."""
    from carbonlab.runner import (
        PARAMETER_RULES,
        _defaults,
        check_parameters,
        declared_parameters,
        find_notebook,
    )

    for stem, rules in PARAMETER_RULES.items():
        nb = find_notebook(stem)
        defaults = _defaults(declared_parameters(nb))
        assert check_parameters(nb, {k: defaults[k] for k in rules}) is not None
