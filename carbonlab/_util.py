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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "CarbonlabError",
    "DataError",
    "ParameterError",
    "NotFittedError",  # noqa: F822 - built on first use by the module __getattr__
    "check_fitted",
    "atomic_path",
    "atomic_dir",
    "sha256_file",
    "repo_root",
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
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; swap it into place on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
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


def read_yaml_mapping(path: str | os.PathLike[str], what: str = "YAML file") -> dict[str, Any]:
    """Read a UTF-8 YAML file whose top level is a mapping (scenario, city, tree files).

    Every failure is one :class:`DataError` line naming the file: missing (``what`` names
    the kind of file), not UTF-8 (with the byte offset), not YAML (with the line), or a top
    level that is not a mapping.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: {what} not found")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{p}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise DataError(f"{p}: not valid YAML{at}") from None
    if not isinstance(doc, dict):
        raise DataError(f"{p}: top level must be a mapping")
    return doc


def check_writable_dir(folder: str | os.PathLike[str], what: str) -> None:
    """One-line :class:`ParameterError` unless ``folder`` is, or can become, a writable folder.

    Walks up to the nearest existing ancestor, which must be a folder, and writes and removes
    a probe file there (permission bits do not stop root; a read-only mount does). ``what``
    names the argument in the message (``"output 'x.ipynb'"``, ``"fetch --dest"``).
    """
    import tempfile

    folder = Path(folder)
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
