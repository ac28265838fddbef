"""The bad-input table (issue 16): hostile or careless input across the CLI and the Python API.

Every case must give ONE line on stderr first (``carbonlab: error: ...``) and exit 2 (CLI),
or raise a one-line :class:`CarbonlabError` (API, which the CLI turns into exit 2); Ctrl-C
gives 130 and SIGTERM 143. Nothing is half-written, nothing stale is left: after each case
the case's folder holds exactly the files it held before (no outputs, no hidden temporary
files). Most cases fail before any notebook runs; the few that must run one use the tiny
fixture notebook ``tests/fixtures/tiny.ipynb`` (seconds, not minutes).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from carbonlab._util import CarbonlabError

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny.ipynb"
TEACHING = ROOT / "data" / "teaching"
UNWRITABLE = Path("/proc/carbonlab-no-such-dir")  # not even root can create files here


@dataclass
class Case:
    """One row of the table.

    ``cli``: argv builder ``(tmp) -> list[str]`` for ``carbonlab`` (in-process unless
    ``subprocess``); ``api``: a callable ``(tmp) -> Any`` that must raise. ``env``:
    extra environment (values may contain ``{tmp}``). ``fragment``: text the one error
    line must contain.
    """

    id: str
    fragment: str
    cli: Callable[[Path], list[str]] | None = None
    api: Callable[[Path], Any] | None = None
    env: dict[str, str] = field(default_factory=dict)
    subprocess: bool = False
    code: int = 2


# ---------------------------------------------------------------------- file builders


def _teaching_copy(tmp: Path, name: str, edit: Callable[[pd.DataFrame], pd.DataFrame] | None,
                   raw: bytes | None = None) -> Path:
    """A copy of the teaching folder under ``tmp/teaching`` with one file edited."""
    d = tmp / "teaching"
    if not d.exists():
        shutil.copytree(TEACHING, d)
    if raw is not None:
        (d / name).write_bytes(raw)
    elif edit is not None:
        df = pd.read_csv(TEACHING / name, dtype=str, keep_default_na=False)
        edit(df).to_csv(d / name, index=False)
    return d


def _load(kind: str, name: str, edit: Any = None, raw: bytes | None = None):
    def go(tmp: Path) -> Any:
        from carbonlab import data

        d = _teaching_copy(tmp, name, edit, raw)
        os.environ["CARBONLAB_TEACHING_DIR"] = str(d)
        try:
            return getattr(data, f"load_{kind}")("teaching")
        finally:
            del os.environ["CARBONLAB_TEACHING_DIR"]
    return go


def _set(row: int, col: str, value: str):
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[row, col] = value
        return df
    return edit


def _first_fuel_row(df: pd.DataFrame) -> int:
    return int((df["fuel"] != "net_electricity").to_numpy().argmax())


def _fuel(col: str, value: str):
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[_first_fuel_row(df), col] = value
        return df
    return edit


def _scenario(text: str | bytes, encoding: str = "utf-8"):
    def go(tmp: Path) -> Any:
        from carbonlab import scenarios

        d = tmp / "scen"
        d.mkdir(exist_ok=True)
        shutil.copy(scenarios.scenario_dir() / "baseline.yaml", d / "baseline.yaml")
        p = d / "bad.yaml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return scenarios.load_scenario(p)
    return go


def _gap_panel(tmp: Path) -> Any:
    from carbonlab import data, scenarios

    p = data.load_panel("teaching")
    p = p[~((p["region"] == "Ningxia") & (p["year"] == 2020))]
    return scenarios.driver_paths(p, "trend")


def _grid(text: str, name: str = "grid.yaml"):
    def argv(tmp: Path) -> list[str]:
        g = tmp / name
        g.write_text(text.format(tmp=tmp), encoding="utf-8")
        return ["batch", str(g), "-o", str(tmp / "out" / "r.parquet")]
    return argv


def _run(*params: str, out: str = "{tmp}/out/x.ipynb", nb: str = str(TINY)):
    def argv(tmp: Path) -> list[str]:
        a = ["run", nb]
        for i in range(0, len(params), 2):
            a += ["-p", params[i], params[i + 1]]
        return [*a, "-o", out.format(tmp=tmp)] if out else a
    return argv


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _copy_tiny_and_run_onto_itself(tmp: Path) -> list[str]:
    src = tmp / "mine.ipynb"
    shutil.copy(TINY, src)
    return ["run", str(src), "-o", str(src)]


def _dir_output(tmp: Path) -> list[str]:
    (tmp / "out" / "x.ipynb").mkdir(parents=True)
    return ["run", str(TINY), "-o", str(tmp / "out" / "x.ipynb")]


def _file_as_dest(tmp: Path) -> list[str]:
    (tmp / "afile").write_text("x", encoding="utf-8")
    return ["data", "fetch", "--dest", str(tmp / "afile")]


def _batch_onto_folder(tmp: Path) -> list[str]:
    g = tmp / "g.yaml"
    g.write_text("tasks:\n  - kind: function\n    function: carbonlab.leap.logistic\n"
                 "    params: {K: 1.0, r: 0.3, t0: 2025, t: 2030}\n", encoding="utf-8")
    (tmp / "out" / "r.parquet").mkdir(parents=True)
    return ["batch", str(g), "-o", str(tmp / "out" / "r.parquet")]


LONG = "x" * 245 + ".ipynb"  # 251 bytes: legal alone, too long with the temporary suffix

CASES: list[Case] = [
    # --- carbonlab run: parameters (checked before anything runs)
    Case("run-unknown-notebook", "unknown notebook '99_nonsense'", cli=_run(nb="99_nonsense")),
    Case("run-empty-notebook-name", "notebook name is empty", cli=_run(nb=" ")),
    Case("run-misspelt-parameter", "unknown parameter 'regoin'", cli=_run("regoin", "Beijing")),
    Case("run-unknown-region", "unknown region 'Atlantis'", cli=_run("region", "Atlantis")),
    Case("run-region-outside-study", "not one of the study's 30", cli=_run("region", "西藏")),
    Case("run-empty-region", "region name is empty", cli=_run("region", "")),
    Case("run-unknown-dataset", "unknown dataset 'cead'", cli=_run("dataset", "cead")),
    Case("run-int-not-a-number", "parameter n expects int, got 'zero'", cli=_run("n", "zero")),
    Case("run-fractional-int", "parameter n expects int, got '2021.9'", cli=_run("n", "2021.9")),
    Case("run-float-nan", "parameter x expects float, got 'nan'", cli=_run("x", "nan")),
    Case("run-float-inf", "parameter x expects float, got 'inf'", cli=_run("x", "inf")),
    Case("run-bool-maybe", "parameter flag expects bool, got 'maybe'", cli=_run("flag", "maybe")),
    Case("run-parameter-twice", "parameter 'n' given twice", cli=_run("n", "1", "n", "2")),
    # --- carbonlab run: the output location (checked before anything runs)
    Case("run-o-source-notebook", "source notebooks are never overwritten",
         cli=_run(out=str(ROOT / "notebooks" / "00_overview.ipynb"))),
    Case("run-o-into-notebooks-folder", "source notebooks are never overwritten",
         cli=_run(out=str(ROOT / "notebooks" / "new.ipynb"))),
    Case("run-o-the-input-itself", "is the input notebook", cli=_copy_tiny_and_run_onto_itself),
    Case("run-o-existing-folder", "is an existing folder", cli=_dir_output),
    Case("run-o-unwritable", "cannot be written", cli=_run(out=str(UNWRITABLE / "x.ipynb"))),
    Case("run-o-name-too-long", "file name is too long", cli=_run(out="{tmp}/out/" + LONG)),
    Case("run-o-not-ipynb", "must end in .ipynb", cli=_run(out="{tmp}/out/x.txt")),
    # --- carbonlab run: notebooks that fail while running (the tiny notebook)
    Case("run-sys-exit-0", "did not run", cli=_run("stop", "exit")),
    Case("run-dead-kernel", "the kernel died", cli=_run("stop", "die")),
    Case("run-cell-raises-first-line", "cell 3 failed: ValueError: boom",
         cli=_run("stop", "raise"), subprocess=True),
    Case("run-notebook-not-json", "cannot read notebook parameters", cli=lambda t: [
        "run", str(_write(t / "broken.ipynb", "{not json")), "-o", str(t / "out" / "x.ipynb")]),
    # --- other commands
    Case("book-jobs-not-a-number", "invalid int value: 'abc'",
         cli=lambda t: ["book", "--jobs", "abc"]),
    Case("verify-missing-data-dir", "does not exist",
         cli=lambda t: ["data", "verify", "--data-dir", str(t / "nothing")]),
    Case("batch-grid-wrong-suffix", "must end in .yaml, .yml or .csv", cli=lambda t: [
        "batch", str(_write(t / "grid.txt", "tasks: []")), "-o", str(t / "out" / "r.parquet")]),
    Case("regions-resolve-empty", "region name is empty", cli=lambda t: ["regions", "--resolve", ""]),
    Case("regions-resolve-unknown", "unknown region 'Narnia'",
         cli=lambda t: ["regions", "--resolve", "Narnia"]),
    Case("book-unknown-dataset", "unknown dataset 'nope'",
         cli=lambda t: ["book", "--dataset", "nope"]),
    Case("book-jobs-zero", "--jobs must be", cli=lambda t: ["book", "--jobs", "0"]),
    Case("fetch-dest-is-a-file", "is not a folder", cli=_file_as_dest),
    Case("fetch-dest-unwritable", "cannot be written",
         cli=lambda t: ["data", "fetch", "--dest", str(UNWRITABLE / "d")]),
    Case("teaching-check-missing-dir", "does not exist",
         cli=lambda t: ["data", "teaching", "--check"],
         env={"CARBONLAB_TEACHING_DIR": "/nonexistent/carbonlab"}),
    Case("batch-os-system", "is not allowed", cli=_grid(
        "tasks:\n  - kind: function\n    function: os.system\n"
        "    params: {{command: 'touch {tmp}/pwned'}}\n")),
    Case("batch-private-function", "not a public carbonlab function", cli=_grid(
        "tasks:\n  - kind: function\n    function: carbonlab.regions._key\n")),
    Case("batch-grid-missing", "does not exist",
         cli=lambda t: ["batch", str(t / "none.yaml"), "-o", str(t / "out" / "r.parquet")]),
    Case("batch-o-existing-folder", "is an existing folder", cli=_batch_onto_folder),
    Case("batch-o-unwritable", "cannot be written", cli=lambda t: [
        *(_grid("tasks:\n  - kind: function\n    function: carbonlab.leap.logistic\n"
                "    params: {{K: 1.0, r: 0.3, t0: 2025, t: 2030}}\n")(t)[:2]),
        "-o", str(UNWRITABLE / "r.parquet")]),
    Case("batch-notebook-dir-unwritable", "cannot be written", cli=_grid(
        f"output_dir: {UNWRITABLE}\ntasks:\n  - kind: notebook\n"
        f"    notebook: {TINY}\n")),
    Case("batch-notebook-bad-int", "parameter n expects int", cli=_grid(
        f"tasks:\n  - kind: notebook\n    notebook: {TINY}\n    params: {{{{n: 2021.9}}}}\n")),
    # --- data (Python API; the CLI maps these to exit 2)
    Case("panel-fractional-year", "column year: year 2021.9 is not a whole number",
         api=_load("panel", "panel.csv", _set(3, "year", "2021.9"))),
    Case("panel-inf", "column lcar: value inf is not finite",
         api=_load("panel", "panel.csv", _set(5, "lcar", "inf"))),
    Case("panel-header-only", "no data rows", api=_load(
        "panel", "panel.csv", raw=(TEACHING / "panel.csv").read_bytes().split(b"\n")[0] + b"\n")),
    Case("panel-zero-bytes", "empty file", api=_load("panel", "panel.csv", raw=b"")),
    Case("panel-not-a-year", "is not a year", api=_load("panel", "panel.csv",
                                                          _set(0, "year", "MMXX"))),
    Case("cities-unknown-province", "column province: unknown region 'Atlantis'",
         api=_load("cities", "cities.csv", _set(0, "province", "Atlantis"))),
    Case("fuel-negative-named-right", "column quantity: negative fuel use -5",
         api=_load("fuel_use", "fuel_use.csv", _fuel("quantity", "-5"))),
    Case("fuel-blank-is-blank", "column quantity: blank quantity",
         api=_load("fuel_use", "fuel_use.csv", _fuel("quantity", ""))),
    Case("scenario-latin1", "not UTF-8", api=_scenario(
        "name: bad\nparent: baseline\ndescription: Région Ningxia\n", encoding="latin-1")),
    Case("scenario-bool-share", "value True is not a number", api=_scenario(
        "name: bad\nparent: baseline\ndrivers:\n  gas:\n    '*': {anchors: {2030: true}}\n")),
    Case("scenario-string-number", "value '0.3' is not a number", api=_scenario(
        "name: bad\nparent: baseline\ndrivers:\n  gas:\n    '*': {anchors: {2030: '0.3'}}\n")),
    Case("panel-missing-year-in-projection", "Ningxia has no row for year(s) [2020]",
         api=_gap_panel),
    Case("api-region-official-name-typo", "unknown region",
         api=lambda t: __import__("carbonlab.regions").regions.resolve_region(
             "Ningxia Hui Autonomous Regin")),
    Case("api-runner-source-output", "source notebooks are never overwritten",
         api=lambda t: __import__("carbonlab.runner").runner.run_notebook(
             TINY, {}, ROOT / "notebooks" / "tiny.ipynb")),
    Case("api-grid-os-system", "is not allowed",
         api=lambda t: __import__("carbonlab.batch").batch.expand_grid(
             {"tasks": [{"kind": "function", "function": "os.system",
                         "params": {"command": f"touch {t}/pwned"}}]})),
    Case("api-cache-kind-escape", "cache kind must be a plain name",
         api=lambda t: __import__("carbonlab.cache").cache.cached("../up", [1], lambda: 1)),
]


# ---------------------------------------------------------------------- the test


def _snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _cli_inprocess(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    from carbonlab.cli import main

    err = io.StringIO()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse usage errors
                code = int(exc.code or 0)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, err.getvalue()


def _cli_subprocess(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    r = subprocess.run([sys.executable, "-m", "carbonlab", *argv], capture_output=True,
                       text=True, timeout=300, env={**os.environ, **env}, cwd=ROOT)
    return r.returncode, r.stderr


def test_the_table_has_forty_cases_across_cli_and_api():
    assert len(CASES) >= 40
    assert sum(c.cli is not None for c in CASES) >= 20
    assert sum(c.api is not None for c in CASES) >= 10
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    sources = _snapshot(ROOT / "notebooks")
    if case.cli is not None:
        argv = case.cli(tmp_path)
        before = _snapshot(tmp_path)
        env = {k: v.format(tmp=tmp_path) for k, v in case.env.items()}
        code, err = (_cli_subprocess if case.subprocess else _cli_inprocess)(argv, env)
        lines = err.strip().splitlines()
        assert code == case.code, err
        assert lines and lines[0].startswith("carbonlab: error: "), err
        assert case.fragment in lines[0], err
        assert len(lines) == 1, err
    else:
        assert case.api is not None
        before = _snapshot(tmp_path)
        with pytest.raises(CarbonlabError) as ei:
            case.api(tmp_path)
        msg = str(ei.value)
        assert case.fragment in msg and "\n" not in msg.strip(), msg
        # teaching copies made by the case itself are inputs, not outputs
        before |= {p for p in _snapshot(tmp_path) if p.split(os.sep)[0] in ("teaching", "scen")}
    after = _snapshot(tmp_path)
    assert after == before, f"files left behind: {sorted(after - before)}"
    assert _snapshot(ROOT / "notebooks") == sources
    assert not (tmp_path / "pwned").exists()


# ---------------------------------------------------------------------- signals


def _wait_for_kernel(proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Wait until the run's kernel is up (a child process running ipykernel)."""
    import psutil

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        kids = psutil.Process(proc.pid).children(recursive=True)
        if any("ipykernel" in " ".join(k.cmdline()) for k in kids if k.is_running()):
            time.sleep(1.0)  # the cell with the sleep is running
            return
        if proc.poll() is not None:
            return
        time.sleep(0.2)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl-c-130", "sigterm-143"])
def test_signal_during_run_kills_the_kernel_and_leaves_nothing(tmp_path, sig, code):
    import psutil

    out = tmp_path / "out" / "x.ipynb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "carbonlab", "run", str(TINY), "-p", "sleep", "120",
         "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        _wait_for_kernel(proc)
        kids = psutil.Process(proc.pid).children(recursive=True)
        t0 = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert took < 15, took
    assert err.strip().splitlines()[0].startswith("carbonlab: "), err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    time.sleep(0.5)
    assert not [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]


def test_ctrl_c_in_book_stops_within_seconds_and_keeps_executed(tmp_path, monkeypatch):
    """Issue 16 item 10: Ctrl-C during the notebook runs: KeyboardInterrupt within seconds,
    the previous executed/ untouched, no temporary folder left."""
    from carbonlab import book

    executed = tmp_path / "executed"
    executed.mkdir()
    (executed / "previous.ipynb").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(book, "notebooks", lambda root=None: [TINY])
    timer = threading.Timer(6.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            book.execute_all(out_dir=executed, jobs=2, gallery=False, log=lambda s: None,
                             extra={"tiny": {"sleep": 120}})
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 25
    assert sorted(p.name for p in tmp_path.iterdir()) == ["executed"]
    assert [p.name for p in executed.iterdir()] == ["previous.ipynb"]
