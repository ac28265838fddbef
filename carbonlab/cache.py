"""The one content-keyed disk cache of carbonlab.

Every cached computation in the package goes through :func:`cached`::

    from carbonlab.cache import cached

    table = cached("backtest", [panel[cols], scenario_file, {"cutoffs": cutoffs, "seed": 0}],
                   lambda: _backtest(...), enabled=cache)

The result of ``compute()`` is stored with joblib at
``<cache_dir()>/<kind>/<key>.pkl`` where ``key = content_key(*parts)``:

- the key is a SHA-256 over a canonical encoding of *everything the result depends on*
  — pass the data (DataFrames, Series, arrays), the files read (as :class:`~pathlib.Path`:
  their **content** is hashed, not their name, so editing ``trend.yaml`` invalidates),
  the parameters (scalars, strings, dicts, lists, dataclasses, estimators via
  ``get_params()``);
- the key always mixes in ``carbonlab.__version__``, a hash of the package's own source
  files (any code edit invalidates every entry) and the numpy/pandas versions;
- a part of a type the encoder does not know raises :class:`TypeError` rather than being
  ``repr``-ed (a repr can hide the content that matters, or contain a memory address);
- one process computes a key while the others wanting it wait and then read it (a
  ``flock`` on ``<key>.lock``), so notebooks run side by side fit a shared model once;
- entries are written atomically (:func:`carbonlab._util.atomic_path`); an entry that
  cannot be read (truncated, corrupt, written by an incompatible library) is recomputed
  and replaced; a cache folder that cannot be written only costs the recomputation.

The folder is ``$CARBONLAB_CACHE_DIR`` or ``<repo>/.cache/carbonlab`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as _dt
import enum
import functools
import hashlib
import math
import os
import re
import struct
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any, TypeVar

from carbonlab._util import ParameterError, atomic_path, repo_root

__all__ = ["cache_dir", "content_key", "cached", "cache_path", "source_fingerprint", "clear"]

T = TypeVar("T")

_KIND = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def cache_dir() -> Path:
    """The cache folder: ``$CARBONLAB_CACHE_DIR`` or ``<repo>/.cache/carbonlab``."""
    env = os.environ.get("CARBONLAB_CACHE_DIR")
    return Path(env) if env else repo_root() / ".cache" / "carbonlab"


# --------------------------------------------------------------------------- fingerprint


def _source_hash(package_dir: Path) -> str:
    """SHA-256 over the relative paths and bytes of every ``*.py`` file under ``package_dir``."""
    h = hashlib.sha256()
    for p in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        h.update(p.relative_to(package_dir).as_posix().encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """Hash of carbonlab's version, its source files and the numpy/pandas versions."""
    from carbonlab import __version__

    pkg = Path(__file__).resolve().parent
    libs = []
    for name in ("numpy", "pandas"):
        try:
            mod = __import__(name)
            libs.append(f"{name}={mod.__version__}")
        except ImportError:  # pragma: no cover - both are hard dependencies
            libs.append(f"{name}=none")
    return hashlib.sha256(
        f"{__version__}|{sys.version_info[:2]}|{'|'.join(libs)}|{_source_hash(pkg)}".encode()
    ).hexdigest()


# --------------------------------------------------------------------------- encoding


class _Hasher:
    """Feeds a canonical, type-tagged byte encoding of Python values into SHA-256."""

    def __init__(self) -> None:
        self.h = hashlib.sha256()

    def tag(self, t: str, payload: bytes = b"") -> None:
        self.h.update(t.encode() + b":" + struct.pack("<Q", len(payload)) + payload)

    def text(self, t: str, s: str) -> None:
        self.tag(t, s.encode("utf-8", "surrogatepass"))

    def digest(self) -> str:
        return self.h.hexdigest()


def _sub_digest(value: Any) -> bytes:
    h = _Hasher()
    _encode(h, value)
    return h.h.digest()


def _encode(h: _Hasher, v: Any) -> None:  # noqa: C901 - one dispatch table, kept together
    np = sys.modules.get("numpy")
    pd = sys.modules.get("pandas")
    if v is None:
        h.tag("none")
    elif isinstance(v, bool):
        h.tag("bool", b"1" if v else b"0")
    elif isinstance(v, enum.Enum):
        h.text("enum", f"{type(v).__module__}.{type(v).__qualname__}.{v.name}")
    elif isinstance(v, int):
        h.text("int", str(v))
    elif isinstance(v, float):
        h.text("float", "nan" if math.isnan(v) else repr(v))
    elif isinstance(v, complex):
        h.text("complex", repr(v))
    elif isinstance(v, str):
        h.text("str", v)
    elif isinstance(v, bytes | bytearray | memoryview):
        h.tag("bytes", bytes(v))
    elif isinstance(v, PurePath):
        _encode_path(h, Path(v))
    elif isinstance(v, _dt.datetime | _dt.date | _dt.time):
        h.text(type(v).__name__, v.isoformat())
    elif isinstance(v, range | slice):
        h.text(type(v).__name__, f"{v.start},{v.stop},{v.step}")
    elif pd is not None and isinstance(v, pd.DataFrame):
        h.tag("DataFrame", struct.pack("<QQ", *v.shape))
        _encode_index(h, v.columns, pd)
        _encode_index(h, v.index, pd)
        for i in range(v.shape[1]):
            _encode_values(h, v.iloc[:, i], pd)
    elif pd is not None and isinstance(v, pd.Series):
        h.tag("Series")
        _encode(h, v.name)
        _encode_index(h, v.index, pd)
        _encode_values(h, v, pd)
    elif pd is not None and isinstance(v, pd.Index):
        _encode_index(h, v, pd)
    elif np is not None and isinstance(v, np.ndarray):
        h.text("ndarray", f"{v.dtype.str}|{v.shape}")
        if v.dtype.hasobject:
            for item in v.ravel(order="C"):
                _encode(h, item.item() if isinstance(item, np.generic) else item)
        else:
            h.tag("data", np.ascontiguousarray(v).tobytes())
    elif np is not None and isinstance(v, np.generic):
        h.text("npscalar", v.dtype.str)
        h.tag("data", v.tobytes())
    elif np is not None and isinstance(v, np.dtype):
        h.text("dtype", v.str)
    elif isinstance(v, Mapping):
        items = sorted((_sub_digest(k), _sub_digest(val)) for k, val in v.items())
        h.tag("dict", struct.pack("<Q", len(items)))
        for k, val in items:
            h.tag("k", k)
            h.tag("v", val)
    elif isinstance(v, list | tuple):
        h.tag(type(v).__name__ if type(v) in (list, tuple) else "seq", struct.pack("<Q", len(v)))
        for item in v:
            _encode(h, item)
    elif isinstance(v, set | frozenset):
        items = sorted(_sub_digest(x) for x in v)
        h.tag("set", struct.pack("<Q", len(items)))
        for item in items:
            h.tag("i", item)
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        h.text("dataclass", f"{type(v).__module__}.{type(v).__qualname__}")
        for f in dataclasses.fields(v):
            h.text("field", f.name)
            _encode(h, getattr(v, f.name))
    elif hasattr(v, "get_params") and callable(v.get_params) and not isinstance(v, type):
        cls = type(v)
        top = cls.__module__.split(".")[0]
        version = getattr(sys.modules.get(top), "__version__", "")
        h.text("estimator", f"{cls.__module__}.{cls.__qualname__}|{top}={version}")
        _encode(h, dict(v.get_params(deep=False)))
    elif callable(v) and getattr(v, "__module__", "").split(".")[0] == "carbonlab" \
            and hasattr(v, "__qualname__") and "<" not in v.__qualname__:
        # a carbonlab function or class: its code is covered by the source fingerprint
        h.text("callable", f"{v.__module__}.{v.__qualname__}")
    else:
        raise TypeError(
            f"content_key: cannot hash a {type(v).__module__}.{type(v).__qualname__}; pass its "
            "content (data, file Path, parameters) instead")


def _encode_index(h: _Hasher, idx: Any, pd: Any) -> None:
    h.text("Index", f"{type(idx).__name__}|{idx.dtype}|{len(idx)}")
    _encode(h, list(idx.names))
    if isinstance(idx, pd.MultiIndex):
        for level in range(idx.nlevels):
            _encode_values(h, pd.Series(idx.get_level_values(level)), pd)
    else:
        _encode_values(h, pd.Series(idx), pd)


def _encode_values(h: _Hasher, s: Any, pd: Any) -> None:
    """Values of a Series (not its index): dtype, then a row hash (NaN-aware)."""
    h.text("dtype", str(s.dtype))
    try:
        rows = pd.util.hash_pandas_object(s, index=False, categorize=False).to_numpy()
    except TypeError:  # unhashable objects in an object column: encode element by element
        h.tag("objects", struct.pack("<Q", len(s)))
        for item in s.tolist():
            _encode(h, item)
        return
    h.tag("rows", rows.tobytes())


def _encode_path(h: _Hasher, p: Path) -> None:
    """A file's content (not its name); a folder's relative names and contents."""
    if p.is_file():
        h.tag("file", _file_digest(p))
    elif p.is_dir():
        files = sorted(q for q in p.rglob("*") if q.is_file())
        h.tag("dir", struct.pack("<Q", len(files)))
        for q in files:
            h.text("name", q.relative_to(p).as_posix())
            h.tag("file", _file_digest(q))
    else:
        raise ParameterError(f"content_key: {p} does not exist (a cache key hashes its content)")


def _file_digest(p: Path) -> bytes:
    d = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            d.update(chunk)
    return d.digest()


def content_key(*parts: Any) -> str:
    """Hex SHA-256 of ``parts`` (canonically encoded) mixed with :func:`source_fingerprint`.

    Equal content gives equal keys whatever the object identity, dict order or file name;
    unknown types raise :class:`TypeError`.
    """
    h = _Hasher()
    h.text("carbonlab", source_fingerprint())
    _encode(h, list(parts))
    return h.digest()


# --------------------------------------------------------------------------- the cache


def cache_path(kind: str, parts: Sequence[Any]) -> Path:
    """Where :func:`cached` keeps the result for ``kind`` and ``parts``."""
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise ParameterError(f"cache kind must be a plain name (letters, digits, _ . -), "
                             f"got {kind!r}")
    return cache_dir() / kind / f"{content_key(*parts)}.pkl"


def cached(kind: str, parts: Sequence[Any], compute: Callable[[], T], *,
           enabled: bool = True) -> T:
    """``compute()``, or its stored result for the same ``kind`` and content of ``parts``.

    With ``enabled=False`` the cache is neither read nor written. A corrupt entry is
    recomputed and rewritten; a cache folder that cannot be written gives a warning.
    """
    if not enabled:
        return compute()
    import joblib

    path = cache_path(kind, parts)
    hit, out = _load(path)
    if hit:
        return out
    with _key_lock(path):  # one process computes a key; the others wait, then read it
        hit, out = _load(path)
        if hit:
            return out
        out = compute()
        try:
            with atomic_path(path, suffix=".pkl") as tmp:
                joblib.dump(out, tmp)
        except OSError as exc:
            warnings.warn(f"carbonlab cache: cannot write {path} ({exc}); result not cached",
                          RuntimeWarning, stacklevel=3)
    return out


def _load(path: Path) -> tuple[bool, Any]:
    """(True, entry) if ``path`` holds a readable entry, else (False, None)."""
    import joblib

    if path.is_file():
        try:
            return True, joblib.load(path)
        except Exception:  # noqa: BLE001 - a corrupt entry is recomputed, never trusted
            pass
    return False, None


@contextlib.contextmanager
def _key_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<entry>.lock`` while one process computes the entry.

    The book runs notebooks side by side; two that need the same fit (chapter 4 and the
    front page both forecast with the chosen model) would otherwise both compute it. The
    lock is an advisory ``flock``, released by the kernel if the holder dies; where it
    cannot be taken (no ``fcntl``, a read-only folder) the entry is computed unlocked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path.with_suffix(".lock"), "a+b")  # noqa: SIM115 - closed below
    except OSError:
        yield
        return
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        fh.close()  # releases the lock


def clear(kind: str | None = None) -> int:
    """Delete the cached entries of ``kind`` (all kinds if None); returns how many."""
    root = cache_dir() if kind is None else cache_path(kind, []).parent
    n = 0
    if root.is_dir():
        for p in root.rglob("*.pkl"):
            p.unlink(missing_ok=True)
            n += 1
        for p in root.rglob("*.lock"):
            p.unlink(missing_ok=True)
    return n
