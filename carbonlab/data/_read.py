"""Shared pieces of the real-data loaders (:mod:`carbonlab.data.ceads`, :mod:`~carbonlab.data.gcam`,
:mod:`~carbonlab.data.nbs_provinces`, :mod:`~carbonlab.data.wpp`, ...).

- :func:`_cached`: the loaders' in-process cache, keyed on the data directory, the
  stats (size, mtime) of the files a table is read from and the arguments; every call
  returns a fresh copy, and an edited file is read again.
- workbook access (:func:`_open_workbook`, :func:`_sheet_rows`), cell names
  (:func:`_col_letter`), header keys (:func:`_hkey`) and the number check
  (:func:`_number`) whose errors name the file, sheet and cell;
- the CEADs workbook reader (:func:`_ceads_sheets`: one parsed sheet per province or year)
  and its cell block (:func:`_cell_block`), shared by the CO2 and the energy inventories.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data.registry import data_dir
from carbonlab.regions import PROVINCES, resolve_region

PathLike = str | os.PathLike[str] | None

# --------------------------------------------------------------------------- caching


def _signature(root: Path, rels: Sequence[str]) -> tuple:
    sig = []
    for rel in rels:
        try:
            st = (root / rel).stat()
            sig.append((rel, st.st_size, st.st_mtime_ns))
        except OSError:
            sig.append((rel, None, None))
    return tuple(sig)


def _cached(rels_of: Callable[..., Sequence[str]]):
    """Decorate ``f(root: Path, verify: bool, *args)``: lru-cached, keyed on the files' stats."""

    def deco(f):
        @functools.lru_cache(maxsize=32)
        def inner(root_s, verify, sig, args):
            return f(Path(root_s), verify, *args)

        @functools.wraps(f)
        def outer(root: Path, verify: bool, *args) -> pd.DataFrame:
            sig = _signature(root, rels_of(*args))
            out = inner(str(root), bool(verify), sig, args)
            return out.copy(deep=True)

        outer.cache_clear = inner.cache_clear  # type: ignore[attr-defined]
        return outer

    return deco


# --------------------------------------------------------------------------- helpers


def _col_letter(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on corrupt archives
        raise DataError(f"{path}: not a readable xlsx workbook ({type(exc).__name__}: {exc})") from None


def _sheet_rows(wb, name: str, path: Path) -> list[tuple]:
    try:
        return list(wb[name].iter_rows(values_only=True))
    except Exception as exc:
        raise DataError(f"{path}, sheet {name!r}: unreadable ({type(exc).__name__}: {exc})") from None


def _hkey(s: object) -> str:
    """Header key insensitive to CEADs' header-style drift (spaces, underscores, case)."""
    return re.sub(r"[\s_]+", "", str(s)).lower()


def _number(v: object, where: str, allow_negative: bool = False) -> float:
    if v is None or (isinstance(v, str) and not v.strip()):
        raise DataError(f"{where}: missing value")
    if isinstance(v, bool) or not isinstance(v, int | float):
        try:
            v = float(str(v).replace(",", ""))
        except ValueError:
            raise DataError(f"{where}: not a number ({v!r})") from None
    x = float(v)
    if not math.isfinite(x):
        raise DataError(f"{where}: not a finite number ({v!r})")
    if x < 0 and not allow_negative:
        raise DataError(f"{where}: negative value {x!r}")
    return x


def _attrs(df: pd.DataFrame, units: dict[str, str], source: str, **extra) -> pd.DataFrame:
    df.attrs["units"] = units
    df.attrs["source"] = source
    df.attrs.update(extra)
    return df


def _order(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in the canonical province order (:data:`carbonlab.regions.PROVINCES`), then year."""
    order = {p: i for i, p in enumerate(PROVINCES)}
    return (df.assign(_o=df["region"].map(order)).sort_values(["_o", "year"], kind="stable")
            .drop(columns="_o").reset_index(drop=True))


def _root(data_dir_arg: PathLike) -> Path:
    return data_dir(data_dir_arg)


def _cell_block(rows: list[tuple], row_numbers: Sequence[int], first_col: int, last_col: int,
                where: str, allow_negative: bool = False) -> np.ndarray:
    """The cells of ``row_numbers`` (1-based sheet rows) x columns ``first_col..last_col - 1``
    (0-based) as a float array; a blank, non-numeric, non-finite (or, unless
    ``allow_negative``, negative) cell is a DataError naming the first such cell."""
    block = [rows[r - 1][first_col:last_col] for r in row_numbers]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for row in block for v in row):
        arr = np.array(block, dtype=float)
        if np.isfinite(arr).all() and (allow_negative or (arr >= 0).all()):
            return arr
    return np.array([[_number(v, f"{where}, cell {_col_letter(first_col + j)}{r}", allow_negative)
                      for j, v in enumerate(row)] for r, row in zip(row_numbers, block, strict=True)])


def _ceads_sheets(path: Path, year: int | None, parse: Callable[[list[tuple], str], np.ndarray],
                  expected: Sequence[object]) -> dict[object, np.ndarray]:
    """Every sheet of a CEADs workbook but ``NOTE``, parsed by ``parse(rows, where)``.

    ``year`` given: sheets named ``<Province><YYYY>`` of that year, keyed by the canonical
    province; ``year`` None: sheets named ``<YYYY>``, keyed by the year. A wrong name, year,
    province, a duplicate or a missing ``expected`` key is a DataError naming file and sheet.
    """
    wb = _open_workbook(path)
    out: dict[object, np.ndarray] = {}
    try:
        for name in wb.sheetnames:
            if name.strip().upper() == "NOTE":
                continue
            where = f"{path}, sheet {name!r}"
            if year is None:
                if not re.fullmatch(r"\s*\d{4}\s*", name):
                    raise DataError(f"{where}: expected a sheet named <YYYY>")
                key: object = int(name)
            else:
                m = re.fullmatch(r"\s*(.*?)\s*(\d{4})\s*", name)
                if not m:
                    raise DataError(f"{where}: expected a sheet named <Province><YYYY>")
                if int(m.group(2)) != year:
                    raise DataError(f"{where}: year {m.group(2)} in a file for {year}")
                try:
                    key = resolve_region(m.group(1))
                except ParameterError as exc:
                    raise DataError(f"{where}: {exc}") from None
            if key in out:
                raise DataError(f"{where}: duplicate sheet for {key}")
            out[key] = parse(_sheet_rows(wb, name, path), where)
    finally:
        wb.close()
    missing = [str(k) for k in expected if k not in out]
    if missing:
        raise DataError(f"{path}: no sheet for {', '.join(missing)}")
    return out
