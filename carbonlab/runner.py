"""The one notebook runner: ``carbonlab run``, ``book``, ``batch`` and the tests use it.

:func:`run_notebook` does, in this order and before any work is done:

1. **find** the notebook (:func:`find_notebook`: a path, a file name or a stem);
2. **check** every parameter name against the notebook's ``parameters`` cell as papermill
   inspects it, and **coerce** each value to the declared type (:func:`coerce`, the one
   coercion: ``"3"`` → 3 for an ``int``, ``"2021.9"`` refused, ``"yes"`` → True for a
   ``bool``); region, city and dataset names are resolved to their canonical spelling;
   enumerated and ranged values are checked against :data:`PARAMETER_RULES` (each
   notebook's allowed values, declared in one place);
3. **check the output location** (:func:`check_output`): never a source notebook under
   ``notebooks/`` nor the input itself, not a folder, a ``.ipynb`` name short enough for
   the temporary name, a folder that can be written (probed with a real file), never under
   ``executed/`` (the book's) nor through a dangling or looping symbolic link.

Then it executes the notebook with papermill in a fresh thread (no running event loop),
entirely in memory, and writes the result atomically (temporary file beside the target,
then a move). A run fails with one line (:class:`~carbonlab._util.CarbonlabError`) if a
cell raised, if any code cell did not run (``sys.exit(0)`` included) or if the kernel
died. On Ctrl-C or SIGTERM the kernel is killed, nothing is written and no temporary file
is left. Re-running an executed notebook replaces its ``injected-parameters`` cell and
papermill's metadata: the new parameters are used, the old ones never survive. Two runs
with the same parameters write the same bytes (:func:`_reproducible`: no timings, no random
ids, no memory addresses).

The kernel's own stderr (e.g. ipykernel's "running over TCP without encryption"
warning) goes to a private log, so an error line is the first line on stderr; the tail
of that log is quoted when the kernel dies.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import math
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from carbonlab._util import (
    CarbonlabError,
    ParameterError,
    atomic_path,
    check_writable_dir,
    link_trouble,
    repo_root,
)
from carbonlab.regions import resolve_region

__all__ = [
    "RUNS",
    "notebooks",
    "find_notebook",
    "declared_parameters",
    "coerce",
    "check_parameters",
    "Allowed",
    "PARAMETER_RULES",
    "resolve_city",
    "default_output",
    "check_output",
    "run_notebook",
    "cancel_all",
    "clear_cancel",
    "terminate_on_sigterm",
    "Interrupted",
]

RUNS = "runs"
"""Folder (under the repository root) of one-off ``carbonlab run`` outputs; never ``executed/``."""

EXECUTED = "executed"
"""Folder (under the repository root) of the book's executed notebooks: only the book build
writes there (it builds a hidden sibling folder and swaps it in); ``carbonlab run -o`` and
batch outputs there are refused, so ``book --no-execute`` never publishes a one-off run."""

HIDE_TAG = "remove-cell"
"""Tag that hides the parameters and injected-parameters cells in the book (papermill still
finds those cells by their own tags, which are kept)."""

_NAME_MAX = 255
_TEMP_EXTRA = 16  # ".<name>." + 8 random characters + ".ipynb" minus the name itself


class Interrupted(KeyboardInterrupt):
    """SIGTERM turned into an exception so every ``finally`` cleans up (exit code 143)."""


# --------------------------------------------------------------------------- finding


def notebooks(root: Path | None = None) -> list[Path]:
    """The front page and the chapter notebooks, in order (``index``, ``notebooks/NN_*``)."""
    root = root or repo_root()
    front = [root / "notebooks" / "index.ipynb"]
    return [p for p in front if p.is_file()] + sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def find_notebook(name: str | os.PathLike[str]) -> Path:
    """Resolve a notebook given as a path, a file name or a stem (``04_forecast_peaks``)."""
    if not str(name).strip():
        raise ParameterError("notebook name is empty")
    p = Path(name)
    root = repo_root()
    for c in (p, root / p, root / "notebooks" / p, root / "notebooks" / f"{p}.ipynb"):
        if c.is_file() and c.suffix == ".ipynb":
            return c.resolve()
    known = ", ".join(n.stem for n in notebooks())
    raise ParameterError(f"unknown notebook {str(name)!r} (known: {known})")


def declared_parameters(nb: Path) -> dict[str, dict[str, Any]]:
    """Parameters declared in the notebook's ``parameters`` cell (papermill's inspection)."""
    import papermill as pm

    try:
        with _quiet_nbformat():
            return pm.inspect_notebook(str(nb))
    except Exception as exc:  # noqa: BLE001 - unreadable JSON etc.: one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ParameterError(f"{nb.name}: cannot read notebook parameters ({first})") from None


# --------------------------------------------------------------------------- parameters

_INT = re.compile(r"[+-]?\d+")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def _declared_type(info: Mapping[str, Any]) -> str:
    """``int``/``float``/``bool``/``str`` from the annotation, else from the default's literal."""
    t = str(info.get("inferred_type_name") or "").strip().lower()
    if t in ("int", "float", "bool", "str"):
        return t
    try:
        default = ast.literal_eval(str(info.get("default", "")))
    except (ValueError, SyntaxError):
        return ""
    return {bool: "bool", int: "int", float: "float", str: "str"}.get(type(default), "")


def coerce(name: str, value: Any, type_name: str, where: str = "") -> Any:
    """``value`` as ``type_name`` (``int``, ``float``, ``bool``, ``str``; else unchanged).

    Strings from the command line are parsed strictly: ``"2021.9"`` is not an ``int``,
    ``"nan"`` is not a ``float``, ``"maybe"`` is not a ``bool``; a bool is never a number.
    """
    t = (type_name or "").lower()

    def bad() -> ParameterError:
        return ParameterError(f"{where}parameter {name} expects {t}, got {value!r}")

    if t == "int":
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT.fullmatch(value.strip()):
            return int(value.strip())
        if type(value).__module__ == "numpy" and hasattr(value, "item"):
            return coerce(name, value.item(), t, where)
        raise bad()
    if t == "float":
        if isinstance(value, bool):
            raise bad()
        if type(value).__module__ == "numpy" and hasattr(value, "item"):
            value = value.item()
        if isinstance(value, int | float):
            out = float(value)
        elif isinstance(value, str):
            try:
                out = float(value.strip())
            except ValueError:
                raise bad() from None
        else:
            raise bad()
        if not math.isfinite(out):
            raise bad()
        return out
    if t == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise bad()
    if t == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise bad()
    return value


@dataclasses.dataclass(frozen=True)
class Allowed:
    """The allowed values of one notebook parameter, checked before the kernel starts.

    ``choices``: the accepted values, or a function of the run's parameters (all of them,
    defaults included) that returns them; ``lo``/``hi``: an inclusive range, each a number
    or such a function; ``power_of_2``: the value must be a power of two; ``number``:
    besides ``choices``, a positive number (given as text) is accepted. ``note`` ends the
    message.
    """

    choices: tuple[Any, ...] | Callable[[Mapping[str, Any]], Any] | None = None
    lo: float | Callable[[Mapping[str, Any]], float] | None = None
    hi: float | Callable[[Mapping[str, Any]], float] | None = None
    power_of_2: bool = False
    number: bool = False
    items: bool = False
    note: str = ""

    def check(self, name: str, value: Any, params: Mapping[str, Any]) -> None:
        """Raise a one-line :class:`ParameterError` unless ``value`` is allowed."""
        def value_of(x: Any) -> Any:
            return x(params) if callable(x) else x

        if self.choices is not None:
            choices = tuple(value_of(self.choices))
            vals = [v.strip() for v in str(value).split(",")] if self.items else [value]
            for v in vals:
                if v in choices or (self.number and _positive_number(v)):
                    continue
                also = " or a positive number" if self.number else ""
                what = f"item {v!r} of " if self.items else ""
                raise ParameterError(f"parameter {name}: {what}{value!r} is not one of "
                                     f"{', '.join(map(str, choices))}{also}"
                                     + (f" ({self.note})" if self.note else ""))
        lo, hi = value_of(self.lo), value_of(self.hi)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            span = (f"in {lo}..{hi}" if lo is not None and hi is not None
                    else f">= {lo}" if lo is not None else f"<= {hi}")
            raise ParameterError(f"parameter {name}: {value!r} is not {span}"
                                 + (f" ({self.note})" if self.note else ""))
        if self.power_of_2 and (value < 1 or value & (value - 1)):
            raise ParameterError(f"parameter {name}: {value!r} is not a power of 2")


def _positive_number(text: Any) -> bool:
    try:
        return math.isfinite(float(text)) and float(text) > 0
    except (TypeError, ValueError):
        return False


def _scenario_names(p: Mapping[str, Any]) -> list[str]:
    from carbonlab.scenarios import list_scenarios

    return list_scenarios()


def _panel_models(p: Mapping[str, Any]) -> tuple[str, ...]:
    from carbonlab.models import MODELS

    return ("auto", *MODELS)


def _city_models(p: Mapping[str, Any]) -> tuple[str, ...]:
    from carbonlab.leap import CITY_MODELS

    return ("auto", "ensemble", *CITY_MODELS)


def _drivers(p: Mapping[str, Any]) -> tuple[str, ...]:
    from carbonlab.data import DRIVERS

    return tuple(DRIVERS)


def _teaching_only(bound: Callable[[Any], float]) -> Callable[[Mapping[str, Any]], float | None]:
    """A bound computed from the teaching panel's tables; None (not checked before the run)
    on the real data, whose loaders take a minute."""
    def at(p: Mapping[str, Any]) -> float | None:
        if p.get("dataset", "teaching") != "teaching":
            return None
        from carbonlab import data

        return bound(data)
    return at


_SEED = Allowed(lo=0, hi=2**32 - 1, note="numpy seeds are 0..2**32-1")
_COUNT = Allowed(lo=1, hi=1_000_000)
_YEAR_OR_0 = Allowed(lo=0, hi=_teaching_only(lambda d: int(d.load_panel()["year"].max())),
                     note="0 (all the data) or a year of the panel")
_SCENARIO = Allowed(choices=_scenario_names, note="the files in data/scenarios/provinces/")
_CITY = {
    "window": Allowed(lo=1, hi=10), "n_origins": Allowed(lo=1, hi=30),
    "horizon_end": Allowed(lo=_teaching_only(lambda d: int(d.load_cities()["year"].max()) + 1),
                           hi=2060, note="after the city data's last year"),
    "model": Allowed(choices=_city_models), "reading": Allowed(choices=("pp", "relative")),
    "baseline": Allowed(choices=("ml", "drivers")), "all_cities": Allowed(lo=0),
}

PARAMETER_RULES: dict[str, dict[str, Allowed]] = {
    "00_overview": {"seed": _SEED, "as_of": _YEAR_OR_0},
    "01_accounting": {
        "seed": _SEED, "factors": Allowed(choices=("ndrc2011", "ipcc2006", "ceads")),
        "year": Allowed(lo=_teaching_only(lambda d: int(d.load_fuel_use()["year"].min())),
                        hi=_teaching_only(lambda d: int(d.load_fuel_use()["year"].max())),
                        note="a year of the fuel-use table"),
        "as_of": _YEAR_OR_0},
    "02_bma": {"seed": _SEED,
               "g": Allowed(choices=("UIP", "BRIC", "RIC", "HQ", "hyper"), number=True),
               "mprior": Allowed(choices=("uniform", "fixed", "random")),
               "within": Allowed(choices=("individual", "twoway", "none")), "as_of": _YEAR_OR_0},
    "03_models": {"seed": _SEED, "n_trees": _COUNT, "epochs": _COUNT, "rolling_trees": _COUNT,
                  "search_iter": _COUNT, "as_of": _YEAR_OR_0,
                  "drivers": Allowed(choices=_drivers, items=True, note="comma-separated")},
    "04_forecast_peaks": {"seed": _SEED, "n_members": _COUNT,
                          "model": Allowed(choices=_panel_models), "scenario": _SCENARIO,
                          "as_of": _YEAR_OR_0, "check_year": _YEAR_OR_0},
    "05_cities_leap": {"seed": _SEED, **_CITY, "n_sobol": Allowed(lo=1, hi=65536,
                                                                   power_of_2=True)},
    "city": {"seed": _SEED, **_CITY},
    "index": {"seed": _SEED, "n_members": _COUNT, "model": Allowed(choices=_panel_models),
              "as_of": _YEAR_OR_0},
    "region": {"seed": _SEED, "n_members": _COUNT, "model": Allowed(choices=_panel_models),
               "as_of": _YEAR_OR_0,
               "scenario": _SCENARIO},
}
"""Each notebook's parameters' allowed values or ranges (notebook stem -> parameter ->
:class:`Allowed`), the one place they are declared: :func:`check_parameters` checks a run's
values against it before the kernel starts (``-p scenario baseliine`` fails in a second,
not after a minute of fitting)."""


def _defaults(declared: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out = {}
    for name, info in declared.items():
        try:
            out[name] = ast.literal_eval(str(info.get("default", "")))
        except (ValueError, SyntaxError):
            continue
    return out


def check_parameters(nb: Path, params: Mapping[str, Any], *, where: str = "") -> dict[str, Any]:
    """Check names against the notebook, coerce types, canonicalise region/city/dataset.

    ``where`` prefixes every message (a batch grid entry, say). Raises
    :class:`ParameterError` with one line naming the notebook and the parameter.
    """
    declared = declared_parameters(nb)
    at = f"{where}{nb.name}: "
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in declared:
            raise ParameterError(
                f"{at}unknown parameter {name!r} (declared: {', '.join(declared) or 'none'})")
        value = coerce(name, value, _declared_type(declared[name]), at)
        try:
            if name == "region":
                value = resolve_region(value)
            elif name == "dataset":
                from carbonlab.data import check_dataset

                value = check_dataset(value)
        except CarbonlabError as exc:
            raise ParameterError(f"{at}{exc}") from None
        out[name] = value
    rules = PARAMETER_RULES.get(nb.stem, {})
    if rules:
        every = {**_defaults(declared), **out}
        for name, value in out.items():
            if name in rules:
                try:
                    rules[name].check(name, value, every)
                except CarbonlabError as exc:
                    raise ParameterError(f"{at}{exc}") from None
    if "city" in out:
        default = declared.get("dataset", {}).get("default", "teaching")
        dataset = out.get("dataset", str(default).strip("'\""))
        try:
            out["city"] = resolve_city(out["city"], dataset)
        except CarbonlabError as exc:
            raise ParameterError(f"{at}{exc}") from None
    return out


def resolve_city(value: str, dataset: str = "teaching") -> str:
    """Canonical city name (English or Chinese, with or without 市/City) in a city panel."""
    from carbonlab.data import load_cities
    from carbonlab.data.cities import match_city  # the same rule as leap.city_series

    ds = dataset if dataset in ("teaching", "ceads") else "teaching"
    try:
        return match_city(load_cities(ds), str(value).strip())
    except ParameterError:
        raise ParameterError(f"unknown city {value!r} in the {ds} city panel") from None


# --------------------------------------------------------------------------- outputs


def _slug(value: Any) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in str(value))


_DEFAULT_NAME_MAX = 120


def default_output(nb: Path, params: Mapping[str, Any]) -> Path:
    """``runs/<stem>[_<region or city>][_<name>-<value>...].ipynb`` under the repository root
    (never ``executed/``): every given parameter is in the name, so two runs with different
    parameters never share a file (a long name ends in a hash of the parameters instead)."""
    import hashlib

    place = "".join(f"_{_slug(v)}" for k, v in params.items() if k in ("region", "city"))
    rest = "".join(f"_{_slug(k)}-{_slug(v)}" for k, v in sorted(params.items())
                   if k not in ("region", "city"))
    name = f"{nb.stem}{place}{rest}"
    if len(name.encode()) > _DEFAULT_NAME_MAX:
        digest = hashlib.sha256(repr(sorted((k, str(v)) for k, v in params.items()))
                                .encode()).hexdigest()[:12]
        name = f"{name.encode()[:_DEFAULT_NAME_MAX - 13].decode(errors='ignore')}_{digest}"
    return repo_root() / RUNS / f"{name}.ipynb"


def _is_under(path: Path, folder: str) -> bool:
    top = (repo_root() / folder).resolve()
    try:
        path.resolve().relative_to(top)
    except ValueError:
        return False
    return True


def _is_source(path: Path) -> bool:
    return _is_under(path, "notebooks")


def check_output(output: str | os.PathLike[str], source: Path | None = None) -> Path:
    """Check, before any work, that ``output`` can receive an executed notebook.

    Refused (one-line :class:`ParameterError`): a path under the source ``notebooks/``
    folder or the input notebook itself, an existing folder, a name not ending in
    ``.ipynb`` or too long for the temporary name, a folder that cannot be written.
    """
    out = Path(output).expanduser()
    if not str(output).strip():
        raise ParameterError("output path is empty")
    if out.suffix != ".ipynb":
        raise ParameterError(f"output {str(output)!r} must end in .ipynb")
    if len(out.name.encode()) + _TEMP_EXTRA > _NAME_MAX:
        raise ParameterError(f"output file name is too long ({len(out.name.encode())} bytes; "
                             f"at most {_NAME_MAX - _TEMP_EXTRA})")
    trouble = link_trouble(out.absolute())
    if trouble:
        raise ParameterError(f"output {str(output)!r}: {trouble}")
    if _is_source(out):
        raise ParameterError(f"output {str(output)!r} is inside the source notebooks/ folder; "
                             "source notebooks are never overwritten (choose another -o)")
    if _is_under(out, EXECUTED):
        raise ParameterError(f"output {str(output)!r} is inside {EXECUTED}/, which only the "
                             "book build writes (choose another -o; the default is runs/)")
    if source is not None and out.exists() and out.resolve() == Path(source).resolve():
        raise ParameterError(f"output {str(output)!r} is the input notebook; choose another -o")
    if out.is_dir():
        raise ParameterError(f"output {str(output)!r} is an existing folder")
    check_writable_dir(out.parent, f"output {str(output)!r}")
    return out.absolute()


# --------------------------------------------------------------------------- kernels

_ACTIVE: dict[int, Any] = {}
_ACTIVE_LOCK = threading.Lock()
_CANCELLED = threading.Event()


def _kernel_manager_class() -> type:
    """An AsyncKernelManager that logs the kernel's stderr privately and can be killed."""
    global _KM_CLASS
    if _KM_CLASS is not None:
        return _KM_CLASS
    from jupyter_client import AsyncKernelManager

    class TrackedKernelManager(AsyncKernelManager):  # type: ignore[misc]
        stderr_log: Any = None

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            if _CANCELLED.is_set():
                raise KeyboardInterrupt
            self.stderr_log = tempfile.TemporaryFile(prefix="carbonlab-kernel-")
            kw["stderr"] = self.stderr_log
            await super()._async_launch_kernel(kernel_cmd, **kw)
            with _ACTIVE_LOCK:
                _ACTIVE[id(self)] = self
            if _CANCELLED.is_set():  # cancelled while this kernel was starting
                cancel_all()

        def stderr_tail(self) -> str:
            if self.stderr_log is None:
                return ""
            try:
                self.stderr_log.seek(0)
                lines = [ln for ln in self.stderr_log.read().decode("utf-8", "replace")
                         .splitlines() if ln.strip() and "without encryption" not in ln]
            except (OSError, ValueError):
                return ""
            return lines[-1].strip() if lines else ""

    _KM_CLASS = TrackedKernelManager
    return _KM_CLASS


_KM_CLASS: type | None = None


def cancel_all() -> int:
    """Kill every kernel this process started and refuse new ones; returns how many."""
    _CANCELLED.set()
    with _ACTIVE_LOCK:
        kms = list(_ACTIVE.values())
    n = 0
    for km in kms:
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
                n += 1
    return n


def clear_cancel() -> None:
    """Allow new kernels again after :func:`cancel_all` (once the cancelled runs ended)."""
    _CANCELLED.clear()


def _forget(km: Any) -> None:
    with _ACTIVE_LOCK:
        _ACTIVE.pop(id(km), None)
    log = getattr(km, "stderr_log", None)
    if log is not None:
        with contextlib.suppress(OSError):
            log.close()


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Interrupted` in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted("terminated (SIGTERM)")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


# --------------------------------------------------------------------------- running


class _QuietRunnerThreads:
    """Logging filter: papermill/nbclient records from the runner's threads are dropped
    (the runner reports failures itself, in one line)."""

    def filter(self, record: Any) -> bool:
        return not threading.current_thread().name.startswith("carbonlab-run")


def _quiet_loggers() -> None:
    import logging

    for name in ("papermill", "nbclient", "traitlets"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, _QuietRunnerThreads) for f in lg.filters):
            lg.addFilter(_QuietRunnerThreads())


@contextlib.contextmanager
def _quiet_nbformat() -> Iterator[None]:
    """nbformat's warnings (a cell without an id) are not the user's error: not on stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="nbformat.*")
        warnings.filterwarnings("ignore", message=".*missing an id field.*")
        yield


def _prepare(nb_path: Path) -> Any:
    """The notebook as its source: no earlier ``injected-parameters`` cell, no outputs, no
    earlier run's metadata (papermill's parameters and timings), every cell with an id
    (``cell-<n>`` where the file has none, so reruns do not draw random ids)."""
    import json

    import nbformat

    try:
        raw = json.loads(nb_path.read_text(encoding="utf-8"))
        for i, cell in enumerate(raw.get("cells", [])):
            if isinstance(cell, dict) and not cell.get("id"):
                cell["id"] = f"cell-{i}"
        raw["nbformat_minor"] = max(int(raw.get("nbformat_minor", 5)), 5)
        with _quiet_nbformat():
            nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # noqa: BLE001 - invalid JSON etc.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ParameterError(f"{nb_path.name}: not a readable notebook ({first})") from None
    nb.cells = [c for c in nb.cells
                if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    for c in nb.cells:
        c.metadata.pop("papermill", None)
        c.metadata.pop("execution", None)
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return nb


_TIMING = ("start_time", "end_time", "duration")
_STYLER_ID = re.compile(r"(?<![\w-])T_([0-9a-f]{5})(?![0-9A-Za-z])")
_ADDRESS = re.compile(r" at 0x[0-9a-f]{6,16}>")


def _reproducible(nb: Any) -> None:
    """Make two runs of the same notebook with the same parameters byte-identical.

    Drops timings (papermill's start/end/duration, nbclient's ``execution`` timestamps),
    gives the injected-parameters cell a fixed id, numbers pandas Styler's random table ids
    (``T_3fa9c`` -> ``T_c12t1``: cell 12, first table) and writes memory addresses in
    reprs (``<Axes at 0x7f3a...>``) as ``<... at 0x...>``.
    """
    for key in _TIMING:
        nb.metadata.get("papermill", {}).pop(key, None)
    for i, cell in enumerate(nb.cells):
        cell.metadata.pop("execution", None)
        for key in _TIMING:
            cell.metadata.get("papermill", {}).pop(key, None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
        ids: dict[str, str] = {}
        for out in cell.get("outputs", []):
            for mime, text in list(out.get("data", {}).items()):
                if isinstance(text, str) and "text/" in mime:  # glued ones too
                    out["data"][mime] = _stable_text(text, i, ids)
            if isinstance(out.get("text"), str):
                out["text"] = _ADDRESS.sub(" at 0x...>", out["text"])


def _stable_text(text: str, cell: int, ids: dict[str, str]) -> str:
    def table_id(m: re.Match[str]) -> str:
        return ids.setdefault(m[1], f"T_c{cell}t{len(ids) + 1}")

    return _ADDRESS.sub(" at 0x...>", _STYLER_ID.sub(table_id, text))


def _hide_parameter_cells(nb: Any) -> None:
    """Add ``remove-cell`` to the parameters and injected cells, keeping papermill's tags."""
    for cell in nb.cells:
        tags = list(cell.get("metadata", {}).get("tags", []))
        if ("injected-parameters" in tags or "parameters" in tags) and HIDE_TAG not in tags:
            cell.setdefault("metadata", {})["tags"] = [*tags, HIDE_TAG]


def _not_run(nb: Any) -> int | None:
    """Index of the first non-empty code cell that did not run, else None."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not str(cell.source).strip():
            continue
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if cell.get("execution_count") is None or status not in (None, "completed"):
            return i
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return i
    return None


def _execute(nb_path: Path, params: dict[str, Any], cwd: Path,
             timeout: float | None) -> Any:
    """Execute in this thread (it must have no running event loop); return the notebook."""
    import papermill as pm

    _quiet_loggers()
    nb = _prepare(nb_path)
    km_holder: list[Any] = []
    km_class = _kernel_manager_class()

    class Recording(km_class):  # type: ignore[misc, valid-type]
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            km_holder.append(self)

    try:
        return pm.execute_notebook(
            nb, None, parameters=params, kernel_name="python3", cwd=str(cwd),
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            kernel_manager_class=Recording, execution_timeout=timeout, start_timeout=120)
    except pm.PapermillExecutionError as exc:
        if _CANCELLED.is_set():
            raise KeyboardInterrupt from None
        evalue = (str(exc.evalue).strip().splitlines() or [""])[0]
        raise CarbonlabError(f"{nb_path.name}: cell {exc.exec_count} failed: {exc.ename}: "
                             f"{evalue}") from None
    except Exception as exc:
        name = type(exc).__name__
        if _CANCELLED.is_set():
            raise KeyboardInterrupt from None
        if name == "DeadKernelError":
            tail = km_holder[0].stderr_tail() if km_holder else ""
            raise CarbonlabError(f"{nb_path.name}: the kernel died"
                                 + (f" ({tail})" if tail else "")) from None
        first = (str(exc).strip().splitlines() or [""])[0]
        if name in ("CellTimeoutError", "TimeoutError"):
            raise CarbonlabError(f"{nb_path.name}: timed out ({first})") from None
        # kernel could not start (no such kernel spec, port trouble, ...): one line
        raise CarbonlabError(f"{nb_path.name}: could not run ({name}: {first})") from None
    finally:
        for km in km_holder:
            _forget(km)


def _in_thread(fn: Callable[[], Any], name: str) -> Any:
    """Run ``fn`` in a fresh thread; Ctrl-C/SIGTERM here kill its kernel and re-raise."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            box["error"] = exc

    t = threading.Thread(target=target, name=name, daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(0.2)
    except BaseException:
        cancel_all()
        t.join(10)
        clear_cancel()
        raise
    if "error" in box:
        raise box["error"]
    return box["value"]


def run_notebook(notebook: str | os.PathLike[str], params: Mapping[str, Any] | None = None,
                 output: str | os.PathLike[str] | None = None, *, check: bool = True,
                 log: Callable[[str], None] | None = None, cwd: str | os.PathLike[str] | None = None,
                 timeout: float | None = None) -> Path:
    """Execute one notebook; the output appears only if every cell ran.

    Parameters
    ----------
    notebook : a path, file name or stem
    params : parameter name → value (strings are coerced to the declared type)
    output : executed notebook path (default :func:`default_output`, under ``runs/``)
    check : check names/types/regions (False: ``params`` are passed as they are)
    log : receives one line per finished run (name, seconds, output)
    cwd : the kernel's working directory (default the repository root)
    timeout : seconds per cell (default none)

    Returns the output path. Raises :class:`ParameterError` (bad input, checked before
    any work) or :class:`CarbonlabError` (a cell failed or did not run, the kernel died).
    """
    import nbformat

    nb_path = find_notebook(notebook)
    params = check_parameters(nb_path, params or {}) if check else dict(params or {})
    out = check_output(output if output is not None else default_output(nb_path, params),
                       nb_path)
    t0 = time.perf_counter()
    nb = _in_thread(lambda: _execute(nb_path, params, Path(cwd or repo_root()), timeout),
                    name=f"carbonlab-run-{nb_path.stem}")
    bad = _not_run(nb)
    if bad is not None:
        count = sum(1 for c in nb.cells[:bad] if c.cell_type == "code")
        raise CarbonlabError(f"{nb_path.name}: code cell {count + 1} (cell {bad}) did not run "
                             "(the notebook stopped early, e.g. sys.exit)")
    _hide_parameter_cells(nb)
    _reproducible(nb)
    meta = nb.metadata.setdefault("papermill", {})
    meta["input_path"], meta["output_path"] = nb_path.name, out.name  # not the whole notebook
    with atomic_path(out, suffix=".ipynb") as tmp:
        nbformat.write(nb, str(tmp))
    if log:
        log(f"  {nb_path.name:<28s} {time.perf_counter() - t0:6.1f} s  -> {out}")
    return out
