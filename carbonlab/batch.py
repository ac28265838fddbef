"""Parameter grids on a Dask cluster: ``carbonlab batch GRID.yaml|csv``.

A *grid* lists tasks of two kinds:

- ``notebook``: a papermill run of a chapter notebook with some parameters; its result
  table is what the notebook glued (``myst_nb.glue``): one row per glued name with
  ``name``, ``value`` (float, NaN when not a number) and ``text``;
- ``function``: a call of a carbonlab function (``carbonlab.leap.logistic``) with
  keyword parameters; it returns a tidy DataFrame, a dict or dataclass (one row), a
  Series (one column) or a scalar (column ``value``). Only the public functions of the
  modules in :data:`BATCH_MODULES` may be named (:func:`batch_functions` lists them): a
  grid file cannot run ``os.system``. Their parameters are checked against the signature
  (a NaN or infinite value, or ``true`` for a number, is refused, never dropped or read as
  1). Notebook tasks name the project's own notebooks (``notebooks/``), not any ``.ipynb``
  on disk. ``allow_any_function=True`` (``carbonlab batch --allow-any-function``) lifts
  both restrictions for grids you wrote yourself.

Sizes are capped before anything is expanded: :data:`MAX_TASKS` tasks per grid, the
grid file at :data:`carbonlab._util.YAML_MAX_BYTES` (aliases refused: no alias bombs).

:func:`expand_grid` turns a grid (YAML or CSV file, or the parsed YAML mapping) into a
task table, checking every entry first (unknown kind, unknown or disallowed function,
unknown notebook or notebook/function parameter -> one-line :class:`ParameterError` naming
the entry). Notebook tasks run with the one runner, :func:`carbonlab.runner.run_notebook`
(same parameter checks and coercion as ``carbonlab run``). The output locations (results
file, notebook folder) are checked before any task runs; temporary files of interrupted
notebook tasks are removed on every exit path.
:func:`run_batch` runs the tasks on a Dask distributed cluster (an existing scheduler or
a ``LocalCluster``), retries failed tasks, never lets one failure abort the others, and
gathers one tidy table: the task's parameters x its result rows, with ``status``
(``"ok"``/``"failed"``), ``attempts``, ``error`` and ``elapsed_s``.

YAML grid::

    output_dir: runs/batch              # executed notebooks (default), relative to the cwd
    tasks:
      - name: overview                  # optional label (column ``entry``)
        kind: notebook
        notebook: 00_overview           # path, file name or stem under notebooks/
        params: {dataset: teaching}     # fixed parameters
        grid: {region: [Beijing, 宁夏]}  # lists, expanded as a Cartesian product
      - kind: function
        function: carbonlab.leap.logistic
        params: {K: 1.0, t0: 2025}
        grid: {r: [0.2, 0.5], t: {range: [2020, 2031, 5]}}

``region: "*"`` in a grid means all 30 provinces. CSV grid: one task per row, columns
``kind``, ``target`` (function path or notebook), optional ``name``, the other columns
are parameters (an empty cell leaves the parameter at its default).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import inspect
import itertools
import json
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr

from carbonlab._util import (
    CarbonlabError,
    DataError,
    ParameterError,
    WriteError,
    atomic_path,
    check_writable_dir,
    read_yaml,
    repo_root,
    require_columns,
    validate_schema,
)
from carbonlab.regions import PROVINCES
from carbonlab.runner import check_output, check_parameters, find_notebook, run_notebook

__all__ = [
    "KINDS",
    "BATCH_MODULES",
    "batch_functions",
    "expand_grid",
    "run_batch",
    "run_task",
    "glued_values",
    "write_results",
    "add_batch_parser",
    "run_batch_command",
]

KINDS = ("notebook", "function")
"""Task kinds a grid may hold."""

META = ("task", "entry", "kind", "target", "output")
"""Columns of the task table that are not parameters."""

STATUS = ("status", "attempts", "error", "elapsed_s")
"""Columns :func:`run_batch` adds for each task."""

BATCH_MODULES = ("carbonlab.accounting", "carbonlab.bma", "carbonlab.models",
                 "carbonlab.scenarios", "carbonlab.peaks", "carbonlab.leap", "carbonlab.regions",
                 "carbonlab.units", "carbonlab.data")
"""Modules whose public functions a grid may call (the allow-list of batch functions)."""

MAX_TASKS = 100_000
"""Most tasks a grid may expand to (a Cartesian product grows fast)."""



class GridEntry(BaseModel):
    """The declared schema of one grid entry (a YAML ``tasks`` item or a CSV row)."""

    model_config = ConfigDict(extra="forbid")
    name: StrictStr | StrictInt | None = None
    kind: Literal["notebook", "function"]
    notebook: StrictStr | None = None
    function: StrictStr | None = None
    target: StrictStr | None = None
    params: dict[StrictStr, Any] | None = None
    grid: dict[StrictStr, Any] | None = None


class GridFile(BaseModel):
    """The declared schema of a grid file: ``tasks`` and an optional ``output_dir``."""

    model_config = ConfigDict(extra="forbid")
    tasks: list[GridEntry]
    output_dir: StrictStr | None = None
_GLUE_MIME = "application/papermill.record/"


# --------------------------------------------------------------------------------------
# Grid -> task table
# --------------------------------------------------------------------------------------

def expand_grid(spec: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str | os.PathLike[str],
                output_dir: str | os.PathLike[str] | None = None, *,
                allow_any_function: bool = False) -> pd.DataFrame:
    """Expand a grid into one row per task, checking every entry.

    Parameters
    ----------
    spec : mapping, list of entries, or path of a ``.yaml``/``.yml``/``.csv`` file
        The grid (see the module docstring for the format).
    output_dir : path, optional
        Folder of the executed notebooks; overrides the grid's ``output_dir``
        (default ``runs/batch`` under the current directory; never ``executed/``, which
        the book build replaces).
    allow_any_function : bool
        Accept any importable function, not only :func:`batch_functions`, and any notebook,
        not only the project's (default False).

    Returns
    -------
    DataFrame
        Columns ``task`` (0, 1, ...), ``entry`` (label of the grid entry), ``kind``,
        ``target`` (function path or notebook file), ``output`` (executed notebook path,
        None for functions), then one object column per parameter holding the Python
        value, None where a task does not set it.

    Raises
    ------
    ParameterError
        One line naming the file and entry: unreadable file, unknown kind, unknown
        function or notebook, unknown parameter, bad region/dataset/type.
    """
    where, entries, grid_out = _read_spec(spec)
    out_dir = Path(output_dir or grid_out or Path("runs") / "batch")
    rows: list[dict[str, Any]] = []
    for label, entry in entries:
        at = f"{where}{label}"
        rows += _expand_entry(at, label, entry, out_dir, start=len(rows),
                              allow_any=allow_any_function)
        if len(rows) > MAX_TASKS:
            raise ParameterError(f"{at}: the grid expands to more than {MAX_TASKS:,} tasks")
    if not rows:
        raise ParameterError(f"{where.rstrip(': ') or 'grid'}: no tasks")
    params: list[str] = []
    for r in rows:
        params += [k for k in r["params"] if k not in params]
    table = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in META})
    table["task"] = table["task"].astype(np.int64)
    for p in params:
        table[p] = pd.Series([r["params"].get(p) for r in rows], dtype=object)
    return table


def _read_spec(spec: Any) -> tuple[str, list[tuple[str, dict[str, Any]]], Any]:
    """(prefix for messages, [(label, entry)], output_dir) from any accepted spec."""
    if isinstance(spec, str | os.PathLike):
        path = Path(spec)
        if not path.is_file():
            raise ParameterError(f"grid file {str(path)!r} does not exist")
        if path.suffix.lower() == ".csv":
            return f"{path.name}: ", _read_csv(path), None
        if path.suffix.lower() not in (".yaml", ".yml"):
            raise ParameterError(f"{path.name}: a grid file must end in .yaml, .yml or .csv")
        try:
            data = read_yaml(path, "grid file")
        except DataError as exc:
            raise ParameterError(str(exc)) from None
        where = f"{path.name}: "
    else:
        data, where = spec, ""
    if not isinstance(data, Mapping):
        data = {"tasks": data}
    grid = validate_schema(GridFile, data, where.rstrip(": ") or "grid", ParameterError)
    return where, [(f"tasks[{i}]", t) for i, t in enumerate(grid.tasks)], grid.output_dir


def _read_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ParameterError(f"{path.name}: not a readable CSV ({exc})") from None
    require_columns(df, ("kind", "target"), path.name, error=ParameterError,
                    hint="a CSV grid has kind, target, optional name, then parameters")
    out = []
    for i, row in enumerate(df.to_dict("records")):
        params = {k: _parse_cell(v) for k, v in row.items()
                  if k not in ("kind", "target", "name") and v.strip() != ""}
        entry = {"kind": row["kind"].strip(), "target": row["target"].strip(), "params": params}
        if row.get("name", "").strip():
            entry["name"] = row["name"].strip()
        at = f"{path.name}: row {i + 2}"  # row 1 is the header
        out.append((f"row {i + 2}", validate_schema(GridEntry, entry, at, ParameterError)))
    return out


def _parse_cell(s: str) -> Any:
    s = s.strip()
    for conv in (int, float):
        try:
            return conv(s)
        except ValueError:
            pass
    if s.lower() in ("true", "false"):
        return s.lower() == "true"
    return s


def _expand_entry(at: str, label: str, entry: GridEntry, out_dir: Path,
                  start: int, allow_any: bool = False) -> list[dict[str, Any]]:
    kind = entry.kind
    target = getattr(entry, kind) or entry.target
    if not target or not target.strip():
        raise ParameterError(f"{at}: a {kind} task needs '{kind}' (or 'target')")
    fixed, grid = entry.params or {}, entry.grid or {}
    both = set(fixed) & set(grid)
    if both:
        raise ParameterError(f"{at}: parameter(s) {sorted(both)} in both 'params' and 'grid'")
    clash = (set(fixed) | set(grid)) & set(META + STATUS)
    if clash:
        raise ParameterError(f"{at}: parameter name(s) {sorted(clash)} are reserved columns")
    axes = {k: _grid_values(at, k, v) for k, v in grid.items()}
    size = math.prod(len(v) for v in axes.values())
    if start + size > MAX_TASKS:
        raise ParameterError(f"{at}: the grid expands to {start + size:,} tasks; at most "
                             f"{MAX_TASKS:,}")
    combos = [dict(zip(axes, vals, strict=True)) for vals in itertools.product(*axes.values())]
    name = str(entry.name if entry.name not in (None, "") else label)
    if kind == "function":
        target = target.strip()
        check = _function_checker(at, target, allow_any)
        path = None
    else:
        nb = _find_notebook(at, target, allow_any)
        check = _notebook_checker(at, nb)
        target, path = str(nb), nb
    rows = []
    for j, combo in enumerate(combos):
        params = check({**fixed, **combo})
        out = None
        if path is not None:
            slug = "_".join(_slug(params.get(k)) for k in combo if _slug(params.get(k)))[:60]
            out = str(out_dir / f"{path.stem}_{start + j:04d}{'_' + slug if slug else ''}.ipynb")
        rows.append({"task": start + j, "entry": name, "kind": kind, "target": target,
                     "output": out, "params": params})
    return rows


def _grid_values(at: str, key: str, v: Any) -> list[Any]:
    if key == "region" and v == "*":
        return list(PROVINCES)
    if isinstance(v, Mapping) and set(v) == {"range"}:
        r = v["range"]
        if not (isinstance(r, list) and 1 <= len(r) <= 3
                and all(isinstance(x, int) and not isinstance(x, bool) for x in r)) \
                or (len(r) == 3 and r[2] == 0):
            raise ParameterError(f"{at}: grid {key}: range takes 1-3 integers (a step not 0), "
                                 f"got {r!r}")
        if len(range(*r)) > MAX_TASKS:
            raise ParameterError(f"{at}: grid {key}: range {r!r} has {len(range(*r)):,} values; "
                                 f"at most {MAX_TASKS:,}")
        v = list(range(*r))
    if not isinstance(v, list) or not v:
        raise ParameterError(f"{at}: grid {key} must be a non-empty list (or {{range: [a, b]}})")
    return v


def _slug(v: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", str(v)).strip("-")


def _import_target(target: str) -> Any:
    """The object named by a dotted path (``pkg.module.func`` or ``pkg.module.Class.meth``)."""
    parts = target.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError as exc:
            if exc.name and ".".join(parts[:i]).startswith(exc.name):
                continue
            raise
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(target)


def _allowed(module: Any, name: str) -> bool:
    public = getattr(module, "__all__", None)
    if public is not None and name not in public:
        return False
    if name.startswith("_"):
        return False
    obj = getattr(module, name, None)
    return (inspect.isfunction(obj) or inspect.isclass(obj)) and \
        str(getattr(obj, "__module__", "")).startswith("carbonlab.")


def batch_functions() -> list[str]:
    """The dotted names a grid may call without ``allow_any_function`` (sorted)."""
    out = []
    for mod_name in BATCH_MODULES:
        mod = importlib.import_module(mod_name)
        out += [f"{mod_name}.{n}" for n in dir(mod) if _allowed(mod, n)]
    return sorted(out)


def _function_checker(at: str, target: str,
                      allow_any: bool = False) -> Callable[[dict[str, Any]], dict[str, Any]]:
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", target):
        raise ParameterError(f"{at}: function {target!r} is not a dotted path (module.function)")
    if not allow_any:
        mod_name, _, name = target.rpartition(".")
        if mod_name not in BATCH_MODULES:
            raise ParameterError(
                f"{at}: function {target!r} is not allowed: a grid may call the public "
                f"functions of {', '.join(BATCH_MODULES)} (or pass --allow-any-function)")
        try:
            mod = importlib.import_module(mod_name)
        except ImportError as exc:
            raise ParameterError(f"{at}: unknown function {target!r} ({exc})") from None
        if not hasattr(mod, name):
            raise ParameterError(f"{at}: unknown function {target!r} (AttributeError: "
                                 f"{mod_name} has no {name!r})")
        if not _allowed(mod, name):
            raise ParameterError(f"{at}: function {target!r} is not a public carbonlab "
                                 "function a grid may call (or pass --allow-any-function)")
    try:
        fn = _import_target(target)
    except (ImportError, AttributeError) as exc:
        raise ParameterError(f"{at}: unknown function {target!r} ({type(exc).__name__}: "
                             f"{exc})") from None
    if not callable(fn):
        raise ParameterError(f"{at}: {target!r} is not callable")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: no check
        return dict
    ps = sig.parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in ps):
        return dict
    names = [p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = [p.name for p in ps if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                and p.default is p.empty]

    by_name = {p.name: p for p in ps}

    def check(params: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in params if k not in names]
        if unknown:
            raise ParameterError(f"{at}: unknown parameter(s) {unknown} for {target} "
                                 f"(accepted: {', '.join(names) or 'none'})")
        missing = [k for k in required if k not in params]
        if missing:
            raise ParameterError(f"{at}: {target} needs parameter(s) {missing}")
        for k, v in params.items():
            _check_value(f"{at}: {target}", by_name[k], v)
        return dict(params)

    return check


def _check_value(at: str, param: inspect.Parameter, value: Any) -> None:
    """One line unless ``value`` suits ``param``: never NaN/inf, never a bool where the
    function takes a number (its annotation or default is not a bool)."""
    ann = param.annotation if isinstance(param.annotation, str) else \
        getattr(param.annotation, "__name__", str(param.annotation))
    takes_bool = "bool" in str(ann) or isinstance(param.default, bool)
    if isinstance(value, bool | np.bool_):
        if not takes_bool:
            raise ParameterError(f"{at}: parameter {param.name} takes {ann or 'a value'}, "
                                 f"not {value!r}")
        return
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        raise ParameterError(f"{at}: parameter {param.name}: value {value!r} is not finite "
                             "(leave the cell empty for the default)")
    if str(ann) == "int" and isinstance(value, float | np.floating) \
            and not float(value).is_integer():
        raise ParameterError(f"{at}: parameter {param.name} takes int, got {value!r}")


def _find_notebook(at: str, name: str, allow_any: bool = False) -> Path:
    try:
        nb = find_notebook(name)
    except CarbonlabError:
        raise ParameterError(f"{at}: unknown notebook {name!r}") from None
    own = (repo_root() / "notebooks").resolve()
    if not allow_any and nb.parent != own:
        raise ParameterError(f"{at}: notebook {name!r} is not allowed: a grid runs the "
                             "project's notebooks (notebooks/), or pass --allow-any-function")
    return nb


def _notebook_checker(at: str, nb: Path) -> Callable[[dict[str, Any]], dict[str, Any]]:
    check_parameters(nb, {}, where=f"{at}: ")  # readable parameters cell, else one line

    def check(params: dict[str, Any]) -> dict[str, Any]:
        return check_parameters(nb, params, where=f"{at}: ")

    return check


# --------------------------------------------------------------------------------------
# One task (runs on a worker)
# --------------------------------------------------------------------------------------

def run_task(kind: str, target: str, params: Mapping[str, Any],
             output: str | None = None) -> pd.DataFrame:
    """Run one task in this process and return its tidy result table.

    Parameters
    ----------
    kind : "notebook" or "function"
    target : dotted function path, or notebook path
    params : keyword parameters (already checked by :func:`expand_grid`)
    output : executed notebook path (notebook tasks), written atomically

    Returns
    -------
    DataFrame
        The function's result as a table, or the notebook's glued values
        (``name``, ``value``, ``text``).
    """
    if kind == "function":
        return _as_table(_import_target(target)(**params), target)
    if kind == "notebook":
        return _run_notebook(Path(target), dict(params), Path(output or Path(target).name))
    raise ParameterError(f"unknown task kind {kind!r}")


def _as_table(res: Any, target: str) -> pd.DataFrame:
    if isinstance(res, pd.DataFrame):
        return res.reset_index(drop=isinstance(res.index, pd.RangeIndex))
    if isinstance(res, pd.Series):
        return res.to_frame(res.name if res.name is not None else "value").reset_index(
            drop=isinstance(res.index, pd.RangeIndex))
    if dataclasses.is_dataclass(res) and not isinstance(res, type):
        res = dataclasses.asdict(res)
    if isinstance(res, Mapping):
        if all(np.ndim(v) == 0 for v in res.values()):
            return pd.DataFrame([{str(k): _py(v) for k, v in res.items()}])
        try:
            return pd.DataFrame({str(k): v for k, v in res.items()})
        except ValueError as exc:
            raise ParameterError(f"{target} returned a dict that is not a table ({exc})") from None
    if res is None or np.ndim(res) == 0:
        return pd.DataFrame({"value": [_py(res)]})
    arr = np.asarray(res)
    if arr.ndim == 1:
        return pd.DataFrame({"value": arr})
    raise ParameterError(f"{target} returned {type(res).__name__} of shape {arr.shape}; "
                         "return a DataFrame, dict, Series or scalar")


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _run_notebook(nb: Path, params: dict[str, Any], output: Path) -> pd.DataFrame:
    """Execute with the one runner (parameters already checked); the glued values."""
    out = run_notebook(nb, params, output, check=False)
    return glued_values(out)


def glued_values(notebook: str | os.PathLike[str]) -> pd.DataFrame:
    """The values an executed notebook glued (``myst_nb.glue``), in order of appearance.

    Returns
    -------
    DataFrame
        ``name``, ``value`` (float; NaN when the value is not a number) and ``text`` (its
        plain-text representation); a later glue of the same name replaces an earlier one.
    """
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            scrap = out.get("metadata", {}).get("scrapbook")
            if not scrap or "name" not in scrap:
                continue
            data = out.get("data", {})
            prefix = scrap.get("mime_prefix", "")
            text = data.get(prefix + "text/plain", data.get(_GLUE_MIME + "text/plain", ""))
            found.pop(scrap["name"], None)
            found[scrap["name"]] = "".join(text) if isinstance(text, list) else str(text)
    texts = [t.strip().strip("'\"") if t.strip()[:1] in "'\"" else t.strip()
             for t in found.values()]
    return pd.DataFrame({"name": pd.Series(list(found), dtype=object),
                         "value": [_number(t) for t in found.values()],
                         "text": pd.Series(texts, dtype=object)})


def _number(text: str) -> float:
    t = text.strip()
    m = re.fullmatch(r"(?:np\.\w+\()?([-+]?[\d.]+(?:e[-+]?\d+)?|nan|inf|-inf)\)?", t)
    if m:
        try:
            return float(m.group(1))
        except ValueError:
            return math.nan
    return {"True": 1.0, "False": 0.0}.get(t, math.nan)


def _attempt(kind: str, target: str, params: Mapping[str, Any],
             output: str | None) -> dict[str, Any]:
    """Run one attempt on a worker; never raises (the error is returned)."""
    t0 = time.perf_counter()
    try:
        table = run_task(kind, target, params, output)
        return {"ok": True, "table": table, "error": None, "elapsed": time.perf_counter() - t0}
    except Exception as exc:  # a task's failure is data, not a crash of the batch
        return {"ok": False, "table": None, "error": _one_line(exc),
                "elapsed": time.perf_counter() - t0}


def _attempts(payload: list[tuple[str, str, Mapping[str, Any], str | None]]
              ) -> list[dict[str, Any]]:
    """Run a chunk of tasks one after the other on a worker (see :func:`_attempt`)."""
    return [_attempt(*p) for p in payload]


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {msg[0] if msg else ''}".rstrip(": ")
    return text[:500]


# --------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------

def run_batch(tasks: pd.DataFrame | Mapping[str, Any] | str | os.PathLike[str],
              scheduler: Any = None, n_workers: int = 2, retries: int = 1,
              output: str | os.PathLike[str] | None = None,
              log: Callable[[str], None] | None = None, chunk_size: int = 1, *,
              allow_any_function: bool = False) -> pd.DataFrame:
    """Run every task on a Dask cluster and gather one tidy table.

    Parameters
    ----------
    tasks : DataFrame from :func:`expand_grid`, or a grid (mapping or file path)
    scheduler : str or distributed.Client, optional
        ``tcp://host:port`` of a running scheduler, or a connected client; default a
        ``LocalCluster(n_workers, threads_per_worker=1, processes=True)`` for this call.
    n_workers : int
        Workers of the local cluster (at most the CPU count; ignored with ``scheduler``).
    retries : int
        A failed task is run again up to ``retries`` more times.
    output : path, optional
        Also write the table to this parquet file (atomically).
    log : callable, optional
        Receives one line per failed attempt.
    chunk_size : int
        Tasks sent to a worker together (for many cheap function calls: Dask costs a few
        milliseconds per task); a failed task is retried on its own.
    allow_any_function : bool
        Let function tasks name any importable function (default: :func:`batch_functions`).

    Returns
    -------
    DataFrame
        One row per (task x result row), ordered by task: the ``task``, ``entry``,
        ``kind``, ``target`` and parameter columns, ``status`` ("ok"/"failed"),
        ``attempts``, ``error`` (first line of the last exception, else missing),
        ``elapsed_s`` (seconds on the workers, summed over attempts), ``output``
        (executed notebook) and the result columns (a name that clashes with the
        columns before gets the prefix ``result_``). A failed task has one row with
        missing results. Identical for identical inputs except ``elapsed_s``.
    """
    if not isinstance(n_workers, int | np.integer) or isinstance(n_workers, bool) or n_workers < 1:
        raise ParameterError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    if not isinstance(retries, int | np.integer) or isinstance(retries, bool) or retries < 0:
        raise ParameterError(f"retries must be an integer >= 0, got {retries!r}")
    if not isinstance(chunk_size, int | np.integer) or isinstance(chunk_size, bool) \
            or chunk_size < 1:
        raise ParameterError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    _check_scheduler(scheduler)
    table = tasks if isinstance(tasks, pd.DataFrame) else \
        expand_grid(tasks, allow_any_function=allow_any_function)
    require_columns(table, META, "tasks", error=ParameterError, hint="build it with expand_grid")
    bad = sorted(set(table["kind"]) - set(KINDS))
    if bad:
        raise ParameterError(f"tasks: unknown task kind(s) {bad}")
    if table["task"].duplicated().any():
        raise ParameterError("tasks: column 'task' has duplicate ids")
    for tid, target in zip(table["task"], table["target"].where(table["kind"] == "function"),
                           strict=True):
        if isinstance(target, str):  # a hand-built table gets the same allow-lists
            _function_checker(f"task {tid}", target, allow_any_function)
    for tid, target in zip(table["task"], table["target"].where(table["kind"] == "notebook"),
                           strict=True):
        if isinstance(target, str):
            _find_notebook(f"task {tid}", target, allow_any_function)
    if output is not None:
        _check_results_path(Path(output))
    _check_notebook_outputs(table)
    pcols = [c for c in table.columns if c not in META]
    specs = []
    for rec in table.to_dict("records"):
        params = {k: _py(v) for k, v in ((c, rec[c]) for c in pcols) if not _missing(v)}
        specs.append((rec, params))
    try:
        records = _gather(specs, scheduler, int(n_workers), int(retries), int(chunk_size), log)
    finally:  # Ctrl-C, SIGTERM, a crash: no hidden partial notebooks stay behind
        _remove_partial_notebooks(table)
    result = _assemble(table, pcols, records)
    if output is not None:
        try:
            write_results(result, output)
        except WriteError as exc:  # a full disk: the finished work is not thrown away
            raise _rescued(exc, result, Path(output)) from None
    return result


def _rescued(exc: WriteError, result: pd.DataFrame, output: Path) -> WriteError:
    """The write error, with the results saved in the temporary folder (named in the
    message) and attached as ``.results``."""
    import tempfile

    spare = Path(tempfile.gettempdir()) / f"carbonlab-{output.stem}-{os.getpid()}.parquet"
    try:
        write_results(result, spare)
        where = f"the results were saved to {spare} instead"
    except WriteError:
        where = "the results are in this error's .results (Python API) only"
    err = WriteError(f"{exc}; {where}")
    err.results = result  # type: ignore[attr-defined]
    return err


def _check_results_path(path: Path) -> None:
    """One line, before any task runs, unless ``path`` can receive the results file."""
    if len(path.name.encode()) + 16 > 255:
        raise ParameterError(f"results file name {path.name[:40]!r}... is too long")
    if path.is_dir():
        raise ParameterError(f"results file {str(path)!r} is an existing folder")
    check_writable_dir(path.parent, f"results file {str(path)!r}")


def _check_notebook_outputs(table: pd.DataFrame) -> None:
    """Every notebook task's output can be written and no two tasks share one."""
    outs = [str(o) for k, o in zip(table["kind"], table["output"], strict=True)
            if k == "notebook" and not _missing(o)]
    dup = sorted({o for o in outs if outs.count(o) > 1})
    if dup:
        raise ParameterError(f"tasks: two tasks write the same notebook {dup[0]!r}")
    checked: set[Path] = set()
    for o in outs:
        p = Path(o)
        if p.parent in checked and not p.is_dir():
            continue
        check_output(p)
        checked.add(p.parent)


def _remove_partial_notebooks(table: pd.DataFrame) -> None:
    """Delete temporary files (``.<name>.*``) beside every notebook task's output."""
    for k, o in zip(table["kind"], table["output"], strict=True):
        if k != "notebook" or _missing(o):
            continue
        p = Path(str(o))
        if p.parent.is_dir():
            for tmp in p.parent.glob(f".{p.name}.*"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def _check_scheduler(scheduler: Any) -> None:
    """One line unless ``scheduler`` is None, a Client or an address like tcp://host:8786."""
    if scheduler is None or type(scheduler).__name__ == "Client":
        return
    if not isinstance(scheduler, str) or not re.fullmatch(
            r"(tcp|tls|ws|wss|ucx)://[\w.\-\[\]:]+:\d{1,5}", scheduler.strip()):
        raise ParameterError(f"scheduler {scheduler!r} is not an address like "
                             "tcp://host:8786 (or a distributed.Client)")


def _client(scheduler: Any, n_workers: int) -> tuple[Any, Callable[[], None]]:
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, lambda: None
    if scheduler is not None:
        _check_scheduler(scheduler)
        try:
            client = Client(scheduler.strip(), timeout=10)
        except Exception as exc:  # noqa: BLE001 - unreachable, refused, bad TLS: one line
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ParameterError(f"scheduler {scheduler}: cannot connect ({first})") from None
        return client, client.close
    import logging

    cluster = LocalCluster(n_workers=min(n_workers, os.cpu_count() or 1), threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR,
                           scheduler_kwargs={"dashboard_address": ":0"})  # no fixed port
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close


def _gather(specs: list[tuple[dict[str, Any], dict[str, Any]]], scheduler: Any, n_workers: int,
            retries: int, chunk_size: int,
            log: Callable[[str], None] | None) -> dict[int, dict[str, Any]]:
    from distributed import as_completed

    client, close = _client(scheduler, n_workers)
    done: dict[int, dict[str, Any]] = {}
    try:
        state: dict[str, tuple[list[int], int]] = {}
        spent = dict.fromkeys(range(len(specs)), 0.0)
        ac = as_completed(with_results=True, raise_errors=False)
        tag = os.urandom(4).hex()

        def submit(idx: list[int], attempt: int) -> None:
            payload = [(specs[i][0]["kind"], specs[i][0]["target"], specs[i][1],
                        specs[i][0]["output"]) for i in idx]
            key = f"carbonlab-batch-{tag}-{specs[idx[0]][0]['task']}-{len(idx)}-{attempt}"
            fut = client.submit(_attempts, payload, pure=False, key=key)
            state[fut.key] = (idx, attempt)
            ac.add(fut)

        for start in range(0, len(specs), chunk_size):
            submit(list(range(start, min(start + chunk_size, len(specs)))), 1)
        for group in ac.batches():
            for fut, res in group:
                idx, attempt = state.pop(fut.key)
                if fut.status != "finished":  # worker died, result not picklable, cancelled
                    exc = res[1] if isinstance(res, tuple) and len(res) == 3 else None
                    err = _one_line(exc) if isinstance(exc, BaseException) else \
                        f"task {fut.status}"
                    res = [{"ok": False, "table": None, "error": err, "elapsed": 0.0}] * len(idx)
                fut.release()
                for i, r in zip(idx, res, strict=True):
                    spent[i] += float(r["elapsed"])
                    if not r["ok"]:
                        if log:
                            log(f"task {specs[i][0]['task']} ({specs[i][0]['entry']}) failed, "
                                f"attempt {attempt}/{retries + 1}: {r['error']}")
                        if attempt <= retries:
                            submit([i], attempt + 1)
                            continue
                    done[i] = {**r, "attempts": attempt, "elapsed": spent[i]}
    finally:
        close()
    return done


def _assemble(table: pd.DataFrame, pcols: list[str],
              records: dict[int, dict[str, Any]]) -> pd.DataFrame:
    front = ["task", "entry", "kind", "target", *pcols]
    head = [*front, *STATUS, "output"]
    n = len(table)
    recs = [records[i] for i in range(n)]
    tables = []
    for r in recs:
        res = r["table"]
        if res is None or len(res) == 0:
            tables.append(pd.DataFrame(index=pd.RangeIndex(1)))
        else:
            clash = {c: f"result_{c}" for c in res.columns if c in head}
            tables.append(res.rename(columns=clash) if clash else res)
    rows = np.repeat(np.arange(n), [len(t) for t in tables])
    cols: dict[str, Any] = {c: pd.Series(table[c].tolist(), dtype=object).take(rows)
                            for c in front}
    cols["status"] = np.array(["ok" if r["ok"] else "failed" for r in recs], dtype=object)[rows]
    cols["attempts"] = np.array([r["attempts"] for r in recs], dtype=np.int64)[rows]
    cols["error"] = np.array([r["error"] for r in recs], dtype=object)[rows]
    cols["elapsed_s"] = np.array([r["elapsed"] for r in recs], dtype=float)[rows]
    cols["output"] = np.array(table["output"].tolist(), dtype=object)[rows]
    left = pd.DataFrame({k: np.asarray(v, dtype=v.dtype if hasattr(v, "dtype") else object)
                         for k, v in cols.items()})
    with warnings.catch_warnings():  # all-missing result columns of failed tasks
        warnings.simplefilter("ignore", FutureWarning)
        right = pd.concat(tables, ignore_index=True, sort=False)
    out = pd.concat([left, right], axis=1)
    return _arrow_round_trip(out)


def _arrow_round_trip(df: pd.DataFrame) -> pd.DataFrame:
    """The table as parquet stores it (so the written file reads back identical)."""
    import pyarrow as pa

    df = df.copy()
    for c in df.columns:
        if df[c].dtype == object:
            vals = [_py(v) for v in df[c]]
            if any(isinstance(v, list | tuple | dict | np.ndarray) for v in vals):
                vals = [None if _missing(v) else v if isinstance(v, str) else
                        json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, default=str,
                                   ensure_ascii=False) for v in vals]
            try:
                pa.array(vals, from_pandas=True)
                df[c] = pd.Series(vals, dtype=object)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                df[c] = pd.Series([None if _missing(v) else str(v) for v in vals], dtype=object)
    tab = pa.Table.from_pandas(df, preserve_index=False)
    out = tab.to_pandas()
    out["task"] = out["task"].astype(np.int64)
    out["attempts"] = out["attempts"].astype(np.int64)
    return out


def write_results(results: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a batch table to parquet, atomically (nothing is left half-written)."""
    path = Path(path)
    with atomic_path(path, suffix=".parquet") as tmp:
        _arrow_round_trip(results).to_parquet(tmp, index=False)
    return path


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------

def add_batch_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``carbonlab batch`` to an argparse sub-parser collection; returns the parser."""
    b = subparsers.add_parser(
        "batch", help="run a parameter grid (notebooks or functions) on a Dask cluster",
        description="Run every task of GRID (YAML or CSV) on a Dask distributed cluster and "
        "write one tidy table (parameters x results, status, attempts, error, elapsed_s).")
    b.add_argument("grid", help="grid file (.yaml, .yml or .csv)")
    b.add_argument("--scheduler", help="tcp://host:port of a running scheduler "
                   "(default: a local cluster)")
    b.add_argument("--workers", type=int, default=2,
                   help="workers of the local cluster (default 2)")
    b.add_argument("--retries", type=int, default=1,
                   help="extra attempts for a failed task (default 1)")
    b.add_argument("--chunk-size", type=int, default=1,
                   help="tasks sent to a worker together (many cheap function calls)")
    b.add_argument("-o", "--output", default="batch_results.parquet",
                   help="parquet file of results (default batch_results.parquet)")
    b.add_argument("--output-dir", help="folder of executed notebooks (default: the grid's "
                   "output_dir, else runs/batch; never executed/)")
    b.add_argument("--allow-any-function", action="store_true",
                   help="let the grid call any importable function and run any notebook, not "
                   "only carbonlab's public functions and notebooks/ (only for grids you wrote "
                   "yourself)")
    return b


def run_batch_command(args: argparse.Namespace) -> int:
    """Run ``carbonlab batch``; 0 if every task succeeded, 1 if some failed, 2 on bad input.

    Bad input (grid file, entries, options) prints one line on stderr.
    """
    def err(line: str) -> None:
        sys.stderr.write(line + "\n")

    try:
        if args.workers < 1:
            raise ParameterError(f"--workers must be >= 1, got {args.workers}")
        if args.retries < 0:
            raise ParameterError(f"--retries must be >= 0, got {args.retries}")
        if getattr(args, "chunk_size", 1) < 1:
            raise ParameterError(f"--chunk-size must be >= 1, got {args.chunk_size}")
        tasks = expand_grid(args.grid, output_dir=getattr(args, "output_dir", None),
                            allow_any_function=getattr(args, "allow_any_function", False))
        res = run_batch(tasks, scheduler=args.scheduler, n_workers=args.workers,
                        retries=args.retries, output=args.output, log=err,
                        chunk_size=getattr(args, "chunk_size", 1),
                        allow_any_function=getattr(args, "allow_any_function", False))
    except CarbonlabError as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        err(f"carbonlab: error: {first}")
        return 2
    per_task = res.drop_duplicates("task")
    failed = per_task[per_task["status"] == "failed"]
    print(f"{len(per_task)} tasks: {len(per_task) - len(failed)} ok, {len(failed)} failed; "
          f"{len(res)} rows -> {args.output}")
    for rec in failed.to_dict("records"):
        err(f"failed: task {rec['task']} ({rec['entry']}) after {rec['attempts']} attempt(s): "
            f"{rec['error']}")
    return 1 if len(failed) else 0
