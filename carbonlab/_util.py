"""Small shared helpers: the project's error type, atomic writes, hashing.

This module is the leftmost in carbonlab's data flow: it imports nothing from
the package, and every other module may import it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CarbonlabError",
    "DataError",
    "ParameterError",
    "WriteError",
    "NotFittedError",  # noqa: F822 - built on first use by the module __getattr__
    "check_fitted",
    "atomic_path",
    "atomic_dir",
    "sha256_file",
    "repo_root",
    "read_yaml",
    "read_yaml_mapping",
    "check_writable_dir",
    "require_columns",
    "first_bad",
    "cpu_jobs",
    "link_trouble",
    "YAML_MAX_BYTES",
    "validate_schema",
]


class CarbonlabError(ValueError):
    """Base class of every error carbonlab raises on bad input.

    The message is one line that names the file, row, column or parameter at
    fault; the CLI prints it and exits with code 2.
    """


class DataError(CarbonlabError):
    """A data file or table does not meet its schema."""


class ParameterError(CarbonlabError):
    """A function or notebook parameter is invalid."""


class WriteError(CarbonlabError):
    """A file could not be written (full disk, read-only folder): the message names it."""


def _mkdir(folder: Path, target: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"{target}: cannot create its folder {folder} "
                         f"({exc.strerror or exc})") from None


def _not_fitted_error() -> type:
    """The class :class:`NotFittedError`, built once, on first use: its scikit-learn base class
    costs the import of scikit-learn, which this module's light users (the CLI, the cache)
    should not pay."""
    cls = globals().get("NotFittedError")
    if cls is None:
        from sklearn.exceptions import NotFittedError as SkNotFittedError

        class NotFittedError(ParameterError, SkNotFittedError):
            """A fitted attribute, ``predict`` or a result used before ``fit``: a carbonlab
            :class:`ParameterError` and scikit-learn's ``NotFittedError`` (an AttributeError)."""

        NotFittedError.__module__, NotFittedError.__qualname__ = __name__, "NotFittedError"
        cls = globals()["NotFittedError"] = NotFittedError
    return cls


def __getattr__(name: str) -> Any:
    if name == "NotFittedError":
        return _not_fitted_error()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_fitted(est: Any, attr: str, action: str = "predict") -> None:
    """Raise :class:`NotFittedError` ("<Estimator>: call fit before <action>") unless ``est``
    has the fitted attribute ``attr``."""
    if not hasattr(est, attr):
        raise _not_fitted_error()(f"{type(est).__name__}: call fit before {action}")


def repo_root() -> Path:
    """The folder that holds ``carbonlab/`` and ``data/`` (the source checkout)."""
    return Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place on success.

    Nothing is left at ``target`` (or beside it) if the block raises.
    """
    target = Path(target)
    _mkdir(target.parent, target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            os.chmod(tmp_path, 0o666 & ~_umask())
            os.replace(tmp_path, target)
        except OSError as exc:  # full disk, quota, read-only: one line naming the file
            raise WriteError(f"{target}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; swap it into place on success."""
    target = Path(target)
    _mkdir(target.parent, target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        try:
            yield tmp
            os.chmod(tmp, 0o777 & ~_umask())
            if target.exists():
                old = target.with_name(f".{target.name}.old")
                if old.exists():
                    shutil.rmtree(old)
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old)
            else:
                os.replace(tmp, target)
        except OSError as exc:
            raise WriteError(f"{target}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


YAML_MAX_BYTES: int = 1_000_000
"""Largest YAML input file (scenarios, city trees, batch grids) read, in bytes."""

_YAML12_FLOAT = (r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                 r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+)$")


def _strict_loader() -> type:
    """A ``yaml.SafeLoader`` that refuses duplicate keys and aliases (``*x``: an alias bomb of
    a few hundred bytes expands to billions of nodes), and reads ``5e-2`` as a number (YAML
    1.2; PyYAML's 1.1 resolver wants a dot)."""
    import re

    import yaml

    class StrictLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(
                    None, None, "aliases (*name) are not accepted; write the value out",
                    event.start_mark)
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: PyYAML's own message follows
                    break
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line "
                        f"{first.start_mark.line + 1})", key_node.start_mark)
            return super().construct_mapping(node, deep=deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                 StrictLoader.construct_mapping)
    StrictLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(_YAML12_FLOAT),
                                       list("-+0123456789."))
    return StrictLoader


def read_yaml(path: str | os.PathLike[str], what: str = "YAML file") -> Any:
    """Read a UTF-8 YAML file strictly: the one YAML reader of carbonlab's input files.

    Every failure is one :class:`DataError` line naming the file: missing (``what`` names
    the kind of file), larger than :data:`YAML_MAX_BYTES`, not UTF-8 (with the byte
    offset), not YAML, a duplicate key or an alias (with the line).
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: {what} not found")
    size = p.stat().st_size
    if size > YAML_MAX_BYTES:
        raise DataError(f"{p}: {what} of {size:,} bytes is larger than the "
                        f"{YAML_MAX_BYTES:,} accepted")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    global _LOADER
    if _LOADER is None:
        _LOADER = _strict_loader()
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        why = f": {problem}" if problem and ("duplicate" in problem or "alias" in problem) \
            else ""
        if why:
            raise DataError(f"{p}{at}{why}") from None
        raise DataError(f"{p}: not valid YAML{f' ({at.strip()})' if at else ''}") from None


_LOADER: type | None = None


def read_yaml_mapping(path: str | os.PathLike[str], what: str = "YAML file") -> dict[str, Any]:
    """:func:`read_yaml` for a file whose top level must be a mapping (scenario, city, tree)."""
    doc = read_yaml(path, what)
    if not isinstance(doc, dict):
        raise DataError(f"{path}: top level must be a mapping")
    return doc


def link_trouble(path: Path) -> str | None:
    """Why ``path`` or a folder above it cannot be reached (a dangling or looping symbolic
    link), else None."""
    import errno

    for part in [path, *path.parents]:
        if not os.path.islink(part):
            continue
        try:
            os.stat(part)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"{part} is a symbolic link loop"
            return f"{part} is a symbolic link to {os.readlink(part)}, which does not exist"
    return None


def check_writable_dir(folder: str | os.PathLike[str], what: str) -> None:
    """One-line :class:`ParameterError` unless ``folder`` is, or can become, a writable folder.

    Refuses a dangling or looping symbolic link on the way. Walks up to the nearest existing
    ancestor, which must be a folder, and writes and removes a probe file there (permission
    bits do not stop root; a read-only mount does). ``what`` names the argument in the
    message (``"output 'x.ipynb'"``, ``"fetch --dest"``).
    """
    folder = Path(folder)
    trouble = link_trouble(folder.absolute())
    if trouble:
        raise ParameterError(f"{what}: {trouble}")
    if folder.exists() and not folder.is_dir():
        raise ParameterError(f"{what}: {folder} is not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ParameterError(f"{what}: {existing} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".carbonlab-probe-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ParameterError(f"{what}: {existing} cannot be written "
                             f"({exc.strerror or exc})") from None


def cpu_jobs(value: Any, what: str) -> int:
    """``value`` (an int or its text) as a number of worker processes, capped at the CPU count.

    One-line :class:`ParameterError` naming ``what`` unless it is a whole number >= 1.
    """
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise ParameterError(f"{what} must be an integer >= 1, got {value!r}")
    return min(int(text), os.cpu_count() or 1)


def n_jobs(n_jobs: Any = None) -> int:
    """Worker processes: ``n_jobs`` if given (an integer >= 1, not capped), else the
    environment variable ``CARBONLAB_JOBS`` (capped at the CPU count), else the CPU count.

    The book sets ``CARBONLAB_JOBS`` so that notebooks run side by side share the machine;
    every parallel loop in carbonlab (the skill backtest's origins, the cities) asks here.
    """
    if n_jobs is None:
        env = os.environ.get("CARBONLAB_JOBS", "").strip()
        return cpu_jobs(env, "CARBONLAB_JOBS") if env else max(1, os.cpu_count() or 1)
    text = str(n_jobs).strip()
    if isinstance(n_jobs, bool) or not text.isdigit() or int(text) < 1:
        raise ParameterError(f"n_jobs must be an integer >= 1, got {n_jobs!r}")
    return int(text)


class RowTable(dict):
    """One extension point's table: rows (frozen dataclasses) keyed by one of their fields
    (models by ``name``, drivers by ``code``). :meth:`register` adds a row,
    :meth:`registered` adds one for the length of a ``with`` block, :meth:`row` looks one up;
    errors are one line naming the parameter. The table is a dict, so live views read it."""

    def __init__(self, what: str, key: str, row_type: type, rows: Any = ()) -> None:
        super().__init__((getattr(r, key), r) for r in rows)
        self.what, self.key, self.row_type = what, key, row_type

    def register(self, spec: Any, *, replace: bool = False) -> Any:
        """Add ``spec`` (an existing key only with ``replace``)."""
        if not isinstance(spec, self.row_type):
            raise ParameterError(f"spec: expected a {self.row_type.__name__}, "
                                 f"got {type(spec).__name__}")
        k = getattr(spec, self.key)
        if k in self and not replace:
            raise ParameterError(f"{self.key}: {self.what} {k!r} is already registered")
        self[k] = spec
        return spec

    @contextlib.contextmanager
    def registered(self, spec: Any) -> Iterator[Any]:
        """``spec`` is in the table inside the block and gone after it."""
        self.register(spec)
        try:
            yield spec
        finally:
            self.pop(getattr(spec, self.key), None)

    def row(self, key: str) -> Any:
        """The row of ``key``; an unknown key raises :class:`ParameterError` listing them."""
        if not isinstance(key, str) or key not in self:
            raise ParameterError(f"{self.what}: unknown {self.what} {key!r}; "
                                 f"use one of {', '.join(self)}")
        return self[key]


class RowView(Mapping):
    """A live, read-only mapping ``{key: value(row)}`` over the rows of a :class:`RowTable`
    that satisfy ``keep`` (table order), e.g. the models' labels; a row registered later
    shows at once. Pickles (and content-hashes) as the dict it shows."""

    def __init__(self, table: RowTable, value: Callable[[Any], Any],
                 keep: Callable[[Any], bool] = lambda row: True) -> None:
        self._table, self._value, self._keep = table, value, keep

    def __getitem__(self, key: str) -> Any:
        row = self._table.get(key)
        if row is None or not self._keep(row):
            raise KeyError(key)
        return self._value(row)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(k for k, row in self._table.items() if self._keep(row)))

    def __len__(self) -> int:
        return sum(1 for row in self._table.values() if self._keep(row))

    def __repr__(self) -> str:
        return repr(dict(self))

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


# --------------------------------------------------------------------------- validation


def require_columns(df: Any, columns: Any, where: str, *,
                    error: type[CarbonlabError] = DataError, hint: str = "") -> None:
    """One-line :class:`DataError` ("WHERE: missing column(s) a, b (hint)") unless ``df`` has
    every one of ``columns``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise error(f"{where}: missing column(s) {', '.join(map(str, missing))}"
                    + (f" ({hint})" if hint else ""))


def first_bad(values: Any, ok: Any, where: str, column: str, why: str, *,
              lines: Any = None, error: type[CarbonlabError] = DataError) -> None:
    """Raise one line about the first value where ``ok`` is False, else return.

    The one wording of a bad value: ``"WHERE line N, column C: value V — why"``.
    ``values`` and ``ok`` are aligned sequences (``ok`` a boolean mask); ``lines`` gives
    each value's file line (default: its position + 2, the line of a CSV row under its
    header); ``where`` names the file or table.
    """
    import numpy as np

    mask = np.asarray(ok, dtype=bool)
    if mask.all():
        return
    i = int(np.flatnonzero(~mask)[0])
    vals = list(values)
    line = list(lines)[i] if lines is not None else i + 2
    raise error(f"{where} line {line}, column {column}: value {vals[i]!r} — {why}")


def validate_schema(model: type, data: Any, where: str,
                    error: type[CarbonlabError] = DataError) -> Any:
    """``model.model_validate(data)`` (a pydantic model: the declared schema of a YAML file),
    or one line naming the first problem: ``"WHERE: tasks[0].kind: value 'shell' — must be
    one of 'notebook', 'function'"``, ``"WHERE: unknown key 'colour'"`` (``unknown top-level
    key`` at the top), ``"WHERE: tasks[0]: missing key 'kind'"``. A validator's own message
    (``ValueError("'window' must be ...")``) is used as it is."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        e = exc.errors(include_url=False)[0]
    loc = list(e["loc"])
    kind, ctx = e["type"], e.get("ctx") or {}

    def path(parts: list[Any]) -> str:
        return "".join(f"[{p}]" if isinstance(p, int) else " key" if p == "[key]" else f".{p}"
                       for p in parts).lstrip(".")

    at = f"{where}: {path(loc[:-1])}: " if len(loc) > 1 else f"{where}: "
    if kind == "extra_forbidden":
        top = "top-level " if len(loc) == 1 else ""
        raise error(f"{at}unknown {top}key {loc[-1]!r}")
    if kind == "missing":
        raise error(f"{at}missing key {loc[-1]!r}")
    if kind == "value_error":
        raise error(f"{where}: {str(ctx.get('error', e['msg'])).removeprefix('Value error, ')}")
    why = f"must be one of {ctx['expected']}" if kind == "literal_error" else \
        e["msg"][:1].lower() + e["msg"][1:]
    raise error(f"{where}: {path(loc)}: value {e.get('input')!r} — {why}")
