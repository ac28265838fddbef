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


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


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


# ---------------------------------------------------------------------- issue 26 builders

EXECUTED = ROOT / "executed"
LOGISTIC = ("tasks:\n  - kind: function\n    function: carbonlab.leap.logistic\n"
            "    params: {{{{K: 1.0, r: {r}, t0: 2025, t: 2030}}}}\n")
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def _scenario_in(text: str, name: str = "bad"):
    """A scenario file ``name`` (with the shipped baseline beside it) loaded by path."""
    def go(tmp: Path) -> Any:
        from carbonlab import scenarios

        d = tmp / "scen"
        d.mkdir(exist_ok=True)
        shutil.copy(scenarios.scenario_dir() / "baseline.yaml", d / "baseline.yaml")
        p = d / f"{name}.yaml"
        p.write_text(text, encoding="utf-8")
        return scenarios.load_scenario(p)
    return go


def _link(name: str, to: str):
    """``tmp/inputs/name`` a symbolic link to ``to`` (beside it; a loop if ``to == name``)."""
    def make(tmp: Path) -> Path:
        (tmp / "inputs").mkdir(exist_ok=True)
        link = tmp / "inputs" / name
        if not link.is_symlink():
            link.symlink_to(tmp / "inputs" / to)
        return link
    return make


def _run_into(make: Callable[[Path], Path]):
    def argv(tmp: Path) -> list[str]:
        return ["run", str(TINY), "-o", str(make(tmp) / "x.ipynb")]
    return argv


def _chapter(stem: str, *params: str):
    """``carbonlab run STEM -p ... -o tmp/out/x.ipynb``: refused before any kernel starts."""
    return _run(*params, nb=stem)


def _stale_cache(tmp: Path) -> Any:
    """Issue 26 item 4: load the copy, break it, load again: the second load must see it."""
    from carbonlab import data

    d = _teaching_copy(tmp, "panel.csv", None)
    os.environ["CARBONLAB_TEACHING_DIR"] = str(d)
    try:
        data.load_panel("teaching")
        df = pd.read_csv(d / "panel.csv", dtype=str, keep_default_na=False)
        df.loc[0, "year"] = "MMXX"
        df.to_csv(d / "panel.csv", index=False)
        return data.load_panel("teaching")
    finally:
        del os.environ["CARBONLAB_TEACHING_DIR"]


def _panel_without_dataset(tmp: Path) -> Any:
    from carbonlab import data, scenarios

    panel = data.load_panel("teaching")
    panel.attrs.pop("dataset", None)
    return scenarios.driver_paths(panel, "baseline", drivers=["fossil"])


def _full_disk(tmp: Path) -> Any:
    import errno

    from carbonlab._util import atomic_path

    with atomic_path(tmp / "out" / "r.parquet") as t:
        t.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")


def _no_mathjax(tmp: Path) -> Any:
    from carbonlab.book import check_build_tools

    (tmp / "inputs").mkdir()
    shutil.copy(ROOT / "_config.yml", tmp / "inputs" / "_config.yml")
    return check_build_tools(tmp / "inputs")


def _notebook_with_os_system(tmp: Path) -> list[str]:
    nb = (TINY.read_text(encoding="utf-8")
          .replace('"raise ValueError(\\"boom\\")\\n"',
                   f'"os.system(\\"touch {tmp}/pwned\\")\\n"'))
    (tmp / "evil.ipynb").write_text(nb, encoding="utf-8")
    return _grid(f"tasks:\n  - kind: notebook\n    notebook: {tmp}/evil.ipynb\n"
                 "    params: {{stop: raise}}\n")(tmp)


def _big_scenario(tmp: Path) -> Any:
    from carbonlab._util import YAML_MAX_BYTES

    return _scenario_in("name: bad\nparent: baseline\n# " + "x" * YAML_MAX_BYTES + "\n")(tmp)


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
    Case("student-edition-into-notebooks", "holds the source notebooks/ folder",
         cli=lambda t: ["student-edition", str(ROOT / "notebooks")]),
    Case("student-edition-dir-is-a-file", "is not a folder",
         cli=lambda t: ["student-edition", str(_write(t / "a-file", "x"))]),
    Case("student-edition-not-empty", "is not empty and holds no earlier student edition",
         cli=lambda t: ["student-edition", str(_write(_mkdir(t / "mine") / "thesis.tex", "x").parent)]),
    Case("student-edition-unwritable", "cannot be written",
         cli=lambda t: ["student-edition", str(UNWRITABLE / "s")]),
    Case("pdf-no-built-book", "no built book",
         cli=lambda t: ["pdf", "--html", str(t / "no-book"), "--out", str(t / "pdf")]),
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
        "    notebook: 00_overview\n")),
    Case("batch-notebook-bad-int", "parameter seed expects int", cli=_grid(
        "tasks:\n  - kind: notebook\n    notebook: 00_overview\n"
        "    params: {{seed: 2021.9}}\n")),
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
    # === issue 26 ==========================================================================
    # 1. -o into executed/ (book --no-execute would publish the one-off)
    Case("run-o-into-executed", "inside executed/",
         cli=_run(out=str(EXECUTED / "00_overview.ipynb"))),
    Case("run-o-into-executed-regions", "inside executed/",
         cli=_run(out=str(EXECUTED / "regions" / "region_Ningxia.ipynb"))),
    Case("api-check-output-executed", "inside executed/",
         api=lambda t: __import__("carbonlab.runner").runner.check_output(
             EXECUTED / "x.ipynb")),
    Case("batch-output-dir-executed", "inside executed/", cli=_grid(
        f"output_dir: {EXECUTED / 'batch'}\ntasks:\n  - kind: notebook\n"
        "    notebook: 00_overview\n")),
    # 2. batch function parameters: NaN, inf, true
    Case("batch-function-nan", "value nan is not finite", cli=_grid(LOGISTIC.format(r=".nan"))),
    Case("batch-function-inf", "value inf is not finite", cli=_grid(LOGISTIC.format(r=".inf"))),
    Case("batch-function-true-as-number", "not True", cli=_grid(LOGISTIC.format(r="true"))),
    Case("batch-csv-nan-cell", "value nan is not finite", cli=lambda t: [
        "batch", str(_write(t / "g.csv", "kind,target,K,r,t0,t\n"
                            "function,carbonlab.leap.logistic,1.0,nan,2025,2030\n")),
        "-o", str(t / "out" / "r.parquet")]),
    Case("api-grid-nan", "is not finite",
         api=lambda t: __import__("carbonlab.batch").batch.expand_grid(
             {"tasks": [{"kind": "function", "function": "carbonlab.leap.logistic",
                         "params": {"K": 1.0, "r": float("nan"), "t0": 2025, "t": 2030}}]})),
    Case("api-grid-false-as-number", "not False",
         api=lambda t: __import__("carbonlab.batch").batch.expand_grid(
             {"tasks": [{"kind": "function", "function": "carbonlab.leap.logistic",
                         "params": {"K": False, "r": 0.3, "t0": 2025, "t": 2030}}]})),
    # 3. duplicate keys in YAML files
    Case("scenario-duplicate-driver", "duplicate key 'gas'", api=_scenario_in(
        "name: bad\nparent: baseline\ndrivers:\n  gas:\n    '*': {anchors: {2030: 0.2}}\n"
        "  gas:\n    '*': {anchors: {2030: 0.4}}\n")),
    Case("scenario-duplicate-top-key", "duplicate key 'window'",
         api=_scenario_in("name: bad\nwindow: 5\nwindow: 3\ntargets: false\n")),
    Case("scenario-duplicate-anchor-year", "duplicate key 2030", api=_scenario_in(
        "name: bad\nparent: baseline\ndrivers:\n  gas:\n"
        "    '*': {anchors: {2030: 0.2, 2030: 0.4}}\n")),
    Case("grid-duplicate-key", "duplicate key 'params'", cli=_grid(
        "tasks:\n  - kind: function\n    function: carbonlab.leap.logistic\n"
        "    params: {{K: 1.0, r: 0.3, t0: 2025, t: 2030}}\n    params: {{K: 2.0}}\n")),
    # 4. an edited teaching file is read again in the same process
    Case("panel-edited-in-process", "is not a year", api=_stale_cache),
    # 5. a count driver cannot be negative
    Case("scenario-negative-count", "student -100.0 is negative", api=_scenario_in(
        "name: bad\nparent: baseline\ndrivers:\n  student:\n"
        "    '*': {anchors: {2030: -100}}\n")),
    # 6. driver_paths without targets= does not silently drop them
    Case("driver-paths-targets-not-given", "anchors on published targets",
         api=_panel_without_dataset),
    # 7. true is not a year
    Case("scenario-true-year", "year True is not an integer", api=_scenario_in(
        "name: bad\nparent: baseline\ndrivers:\n  gas:\n    '*': {anchors: {true: 0.3}}\n")),
    Case("scenario-true-adjust-year", "year True is not an integer", api=_scenario_in(
        "name: bad\nparent: baseline\ndrivers:\n  gas:\n    '*': {adjust: {true: 0.1}}\n")),
    # 10. dangling and looping symbolic links, refused before any work
    Case("run-o-dangling-link", "which does not exist", cli=_run_into(_link("gone", "nowhere"))),
    Case("run-o-link-loop", "symbolic link loop", cli=_run_into(_link("loop", "loop"))),
    Case("batch-o-dangling-link", "which does not exist", cli=lambda t: [
        *(_grid(LOGISTIC.format(r="0.3"))(t)[:2]),
        "-o", str(_link("gone", "nowhere")(t) / "r.parquet")]),
    Case("fetch-dest-link-loop", "symbolic link loop",
         cli=lambda t: ["data", "fetch", "--dest", str(_link("loop", "loop")(t) / "d")]),
    Case("api-check-writable-dangling", "which does not exist",
         api=lambda t: __import__("carbonlab._util")._util.check_writable_dir(
             _link("gone", "nowhere")(t) / "sub", "dest")),
    # 11. a full disk: one line naming the file, nothing left
    Case("api-full-disk-names-the-file", "r.parquet: cannot write (No space left on device)",
         api=_full_disk),
    # 12. notebooks in a grid are the project's; scenario names are names
    Case("batch-notebook-outside-project", "is not allowed", cli=_grid(
        f"tasks:\n  - kind: notebook\n    notebook: {TINY}\n")),
    Case("batch-notebook-os-system", "is not allowed", cli=_notebook_with_os_system),
    Case("api-grid-notebook-outside-project", "is not allowed",
         api=lambda t: __import__("carbonlab.batch").batch.expand_grid(
             {"tasks": [{"kind": "notebook", "notebook": str(TINY)}]})),
    Case("api-scenario-dotdot-name", "is not a scenario name",
         api=lambda t: __import__("carbonlab.scenarios").scenarios.load_scenario(
             "../../tests/fixtures/x")),
    Case("scenario-parent-dotdot", "is not a scenario name",
         api=_scenario_in("name: bad\nparent: ../../../etc/x\n")),
    Case("run-scenario-dotdot", "is not one of",
         cli=_chapter("04_forecast_peaks", "scenario", "../../x")),
    # 13. enumerated and ranged notebook parameters, checked before the kernel starts
    Case("run-scenario-typo", "'baseliine' is not one of",
         cli=_chapter("04_forecast_peaks", "scenario", "baseliine")),
    Case("run-horizon-before-data", "horizon_end: 2010 is not in",
         cli=_chapter("05_cities_leap", "horizon_end", "2010")),
    Case("run-year-outside-data", "year: 2050 is not in",
         cli=_chapter("01_accounting", "year", "2050")),
    Case("run-factors-unknown", "'ipcc' is not one of",
         cli=_chapter("01_accounting", "factors", "ipcc")),
    Case("run-g-prior-unknown", "'UPI' is not one of",
         cli=_chapter("02_bma", "g", "UPI")),
    Case("run-g-prior-negative", "'-1' is not one of",
         cli=_chapter("02_bma", "g", "-1")),
    Case("run-mprior-unknown", "'flat' is not one of",
         cli=_chapter("02_bma", "mprior", "flat")),
    Case("run-drivers-typo", "item 'fosil'",
         cli=_chapter("03_models", "drivers", "fosil,gas")),
    Case("run-n-trees-zero", "n_trees: 0 is not in",
         cli=_chapter("03_models", "n_trees", "0")),
    Case("run-model-unknown", "'xgboost' is not one of",
         cli=_chapter("04_forecast_peaks", "model", "xgboost")),
    Case("run-n-members-zero", "n_members: 0 is not in", cli=_chapter("region", "n_members", "0")),
    Case("run-n-sobol-not-power-of-2", "n_sobol: 12 is not a power of 2",
         cli=_chapter("05_cities_leap", "n_sobol", "12")),
    Case("run-reading-unknown", "'percent' is not one of",
         cli=_chapter("city", "reading", "percent")),
    Case("run-seed-negative", "seed: -1 is not in", cli=_chapter("00_overview", "seed", "-1")),
    Case("batch-notebook-scenario-typo", "'baseliine' is not one of", cli=_grid(
        "tasks:\n  - kind: notebook\n    notebook: 04_forecast_peaks\n"
        "    grid: {{scenario: [baseline, baseliine]}}\n")),
    # 14. what the HTML build needs is checked before any notebook runs
    Case("book-without-mathjax", "run `make mathjax` first", api=_no_mathjax),
    # 15. input sizes are capped
    Case("scenario-alias-bomb", "aliases (*name) are not accepted",
         api=_scenario_in(ALIAS_BOMB)),
    Case("grid-alias-bomb", "aliases (*name) are not accepted",
         cli=_grid("tasks: []\n" + ALIAS_BOMB)),
    Case("grid-ten-to-the-ten-tasks", "tasks; at most 100,000", cli=_grid(
        "tasks:\n  - kind: function\n    function: carbonlab.leap.logistic\n"
        "    grid: {{K: {{range: [1, 101]}}, r: {{range: [1, 101]}}, t0: {{range: [1, 101]}},"
        " t: {{range: [1, 101]}}, K2: {{range: [1, 101]}}}}\n")),
    Case("grid-range-to-a-billion", "has 1,000,000,000 values", cli=_grid(
        "tasks:\n  - kind: function\n    function: carbonlab.leap.logistic\n"
        "    params: {{K: 1.0, r: 0.3, t0: 2025}}\n    grid: {{t: {{range: [0, 1000000000]}}}}\n")),
    Case("grid-range-step-zero", "a step not 0", cli=_grid(
        "tasks:\n  - kind: function\n    function: carbonlab.leap.logistic\n"
        "    params: {{K: 1.0, r: 0.3, t0: 2025}}\n    grid: {{t: {{range: [0, 10, 0]}}}}\n")),
    Case("scenario-file-too-large", "larger than the 1,000,000 accepted", api=_big_scenario),
    # 16. one line, never a traceback
    Case("batch-scheduler-not-a-url", "is not an address like tcp://host:8786", cli=lambda t: [
        *(_grid(LOGISTIC.format(r="0.3"))(t)), "--scheduler", "not a url"]),
    Case("batch-workers-zero", "--workers must be >= 1", cli=lambda t: [
        *(_grid(LOGISTIC.format(r="0.3"))(t)), "--workers", "0"]),
    Case("api-jobs-not-a-number", "CARBONLAB_JOBS must be an integer >= 1",
         api=lambda t: __import__("carbonlab._util")._util.cpu_jobs("lots", "CARBONLAB_JOBS")),
    # issue 22: the real-data loaders' parameters (checked before any file is read)
    Case("api-ceads-unknown-release", "release='v3': choose one of v1, v2",
         api=lambda t: __import__("carbonlab.data.ceads").data.ceads.ceads_province_totals(
             t, release="v3")),
    Case("api-ceads-year-outside-release", "year=1998: CEADs province files (v2) cover 2001-2022",
         api=lambda t: __import__("carbonlab.data.ceads").data.ceads.province_file(1998)),
    Case("api-nbs-unknown-series", "series='gdp': choose one of",
         api=lambda t: __import__("carbonlab.data.nbs_provinces").data.nbs_provinces.series(
             "gdp", t)),
    # issue 22: CEADs' factors are derived, not read; gas factors within their molecules' limit
    Case("api-ceads-factors-not-transcribed", "'ceads' is derived from CEADs' energy and emission",
         api=lambda t: __import__("carbonlab.data.factors").data.factors.load_fuel_factors("ceads")),
    Case("api-energy-year-outside", "year=1996: CEADs energy inventories cover 1997-2022",
         api=lambda t: __import__("carbonlab.data.ceads_energy").data.ceads_energy.energy_file(1996)),
    Case("api-gas-factor-above-limit", "is above the physical limit 1.96 kg CO2/m3",
         api=lambda t: __import__("carbonlab.accounting").accounting.emission_factors(
             __import__("carbonlab.data.factors").data.factors.load_fuel_factors().assign(
                 ncv=lambda d: d["ncv"].where(d["fuel"] != "blast_furnace_gas", 8.5e3)))),
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


def test_the_table_has_a_hundred_cases_across_cli_and_api():
    assert len(CASES) >= 100
    assert sum(c.cli is not None for c in CASES) >= 50
    assert sum(c.api is not None for c in CASES) >= 30
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
        before |= {p for p in _snapshot(tmp_path) if p.split(os.sep)[0] in ("teaching", "scen", "inputs")}
    after = _snapshot(tmp_path)
    assert after == before, f"files left behind: {sorted(after - before)}"
    assert _snapshot(ROOT / "notebooks") == sources
    assert not (tmp_path / "pwned").exists()


# ---------------------------------------------------------------------- signals


def _wait_for(marker: Path, proc: subprocess.Popen[str] | None = None,
              timeout: float = 600.0) -> None:
    """Wait until the notebook wrote ``marker`` (its sleeping cell is running); a generous
    timeout only against a hang, never an assertion about speed."""
    t0 = time.monotonic()
    while not marker.exists():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the run ended before it was ready: {proc.stderr.read()}")
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"{marker} never appeared")
        time.sleep(0.1)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl-c-130", "sigterm-143"])
def test_signal_during_run_kills_the_kernel_and_leaves_nothing(tmp_path, sig, code):
    import psutil

    out = tmp_path / "out" / "x.ipynb"
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-m", "carbonlab", "run", str(TINY), "-p", "sleep", "600",
         "-p", "ready", str(ready), "-o", str(out)], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        _wait_for(ready, proc)
        kids = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)  # against a hang only (the sleep is 600 s)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert err.strip().splitlines()[0].startswith("carbonlab: "), err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    gone, alive = psutil.wait_procs(kids, timeout=60)
    assert not [k for k in alive if k.status() != psutil.STATUS_ZOMBIE]


def test_ctrl_c_in_book_stops_and_keeps_executed(tmp_path, monkeypatch):
    """Issue 16 item 10: Ctrl-C during the notebook runs (sent once the notebook is running,
    not after a fixed delay): KeyboardInterrupt, the previous executed/ untouched, no
    temporary folder left."""
    from carbonlab import book

    executed = tmp_path / "executed"
    executed.mkdir()
    (executed / "previous.ipynb").write_text("{}", encoding="utf-8")
    ready = tmp_path / "ready"
    monkeypatch.setattr(book, "notebooks", lambda root=None: [TINY])

    def interrupt_when_ready() -> None:
        _wait_for(ready)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=interrupt_when_ready, daemon=True)
    sender.start()
    with pytest.raises(KeyboardInterrupt):
        book.execute_all(out_dir=executed, jobs=2, gallery=False, log=lambda s: None,
                         extra={"tiny": {"sleep": 600, "ready": str(ready)}})
    sender.join(60)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["executed", "ready"]
    assert [p.name for p in executed.iterdir()] == ["previous.ipynb"]


# ---------------------------------------------------------------------- what must not be refused


def test_driver_paths_uses_the_datasets_targets_by_default():
    """Issue 26 item 6: without targets= the baseline anchors on the panel's dataset's targets
    (it used to drop them and equal 'trend'); targets=False projects without them."""
    from carbonlab import data, scenarios

    panel = data.load_panel("teaching")
    targets = data.load_targets("teaching")
    given = scenarios.driver_paths(panel, "baseline", drivers=["fossil"], targets=targets)
    default = scenarios.driver_paths(panel, "baseline", drivers=["fossil"])
    without = scenarios.driver_paths(panel, "baseline", drivers=["fossil"], targets=False)
    pd.testing.assert_frame_equal(default, given)
    at = (given["region"] == "Ningxia") & (given["year"] == 2030)
    assert float(given.loc[at, "fossil"].iloc[0]) != float(without.loc[at, "fossil"].iloc[0])


def test_exponent_numbers_are_numbers_and_quoted_ones_are_not(tmp_path):
    """Issue 26 item 7: 5e-2 is the number 0.05 (YAML 1.2); '0.3' in quotes stays refused."""
    text = ("name: ok\nparent: baseline\ndrivers:\n  gas:\n    '*': {anchors: {2030: 5e-2}}\n"
            "  fossil:\n    Ningxia: {anchors: {2030: 2.5E-1}}\n")
    sc = _scenario_in(text, name="ok")(tmp_path)
    assert sc.layers[-1]["gas"]["*"].anchors == ((2030, 0.05),)
    assert sc.layers[-1]["fossil"]["Ningxia"].anchors == ((2030, 0.25),)
