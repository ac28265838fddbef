"""The CLI: every bad input is one line on stderr, exit code 2, and no output file."""

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
