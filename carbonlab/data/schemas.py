"""Schemas checked on every load (pandera), with one-line errors.

Every table carbonlab reads is validated here: at least one data row, required columns
and dtypes, whole-number years (``2021.9`` is refused, not truncated), finite numbers
(``inf`` is refused), ``(region, year)`` unique, no NaN where a value is required, no
negative fuel use (named on the ``quantity`` column with its value; a blank quantity is
called blank), shares within [0, 1], region and city-province names mapped to the
canonical name (an unknown province such as "Atlantis" is refused). A
failure raises :class:`~carbonlab._util.DataError` naming the source file, the
row (the file's line number for CSV files) and the column.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
import pandera.pandas as pa

from carbonlab._util import CarbonlabError, DataError
from carbonlab.data import drivers as _drivers
from carbonlab.regions import PROVINCES, resolve_region
from carbonlab.units import UNITS

__all__ = ["DRIVERS", "SHARE_DRIVERS", "FUELS", "validate", "KINDS"]

# the driver table (carbonlab.data.drivers): live views {code: (meaning, unit)} and the shares
DRIVERS = _drivers.DRIVERS
SHARE_DRIVERS = _drivers.SHARE_DRIVERS

FUELS: tuple[str, ...] = (
    "raw_coal", "coke", "coke_oven_gas", "blast_furnace_gas", "converter_gas", "other_gas",
    "crude_oil", "gasoline", "kerosene", "diesel", "fuel_oil", "lpg", "natural_gas", "lng",
)
"""The provincial study's 14 fossil fuels."""
ELECTRICITY = "net_electricity"

_year = pa.Column(int, pa.Check.in_range(1950, 2100), coerce=True)
_share = pa.Check.in_range(0.0, 1.0)


def _panel_schema(required_drivers: bool) -> pa.DataFrameSchema:
    cols = {
        "region": pa.Column(str, pa.Check.isin(PROVINCES)),
        "year": _year,
        "population_10k": pa.Column(float, pa.Check.gt(0), coerce=True),
        "emissions_mt": pa.Column(float, pa.Check.ge(0), coerce=True),
    }
    for spec in _drivers.driver_specs():  # the teaching panel carries its rows' columns
        required = required_drivers and spec.teaching
        checks = [_share] if spec.kind == "share" else []
        cols[spec.code] = pa.Column(float, checks, nullable=not required, coerce=True,
                                    required=required)
    return pa.DataFrameSchema(cols, unique=["region", "year"], strict=False)


def _fuel_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "region": pa.Column(str, pa.Check.isin(PROVINCES)),
            "year": _year,
            "fuel": pa.Column(str),
            "quantity": pa.Column(float, coerce=True),
            "unit": pa.Column(str, pa.Check.isin(list(UNITS))),
        },
        checks=[
            pa.Check(
                lambda df: (df["quantity"] >= 0) | (df["fuel"] == ELECTRICITY),
                element_wise=False,
                error="negative fuel use (only net_electricity may be negative)",
            )
        ],
        unique=["region", "year", "fuel", "unit"],
        strict=False,
    )


def _cities_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "city": pa.Column(str),
            "city_zh": pa.Column(str),
            "province": pa.Column(str),
            "year": _year,
            "emissions_mt": pa.Column(float, pa.Check.ge(0), coerce=True),
            "pilot_year": pa.Column("Int64", pa.Check.isin([2012, 2013, 2015]), nullable=True,
                                    coerce=True),
        },
        unique=["city", "year"],
        strict=False,
    )


def _targets_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "region": pa.Column(str, pa.Check.isin(PROVINCES)),
            "driver": pa.Column(str, pa.Check.isin(list(DRIVERS))),
            "year": _year,
            "value": pa.Column(float, _share, coerce=True),
        },
        unique=["region", "driver", "year"],
        strict=False,
    )


KINDS = ("panel", "panel_partial", "fuel_use", "cities", "targets")


def _schema(kind: str) -> pa.DataFrameSchema:
    if kind == "panel":
        return _panel_schema(required_drivers=True)
    if kind == "panel_partial":
        return _panel_schema(required_drivers=False)
    if kind == "fuel_use":
        return _fuel_schema()
    if kind == "cities":
        return _cities_schema()
    if kind == "targets":
        return _targets_schema()
    raise ValueError(f"unknown schema kind {kind!r}; known: {KINDS}")


def _where(source: str, index: object, row_offset: int | None) -> str:
    if index is None or (isinstance(index, float) and pd.isna(index)):
        return source
    if row_offset is not None and isinstance(index, numbers.Real):
        return f"{source}, line {int(index) + row_offset}"
    return f"{source}, row {index}"


def _first(mask: pd.Series) -> object:
    return mask.index[np.flatnonzero(mask.to_numpy())[0]]


def _check_values(df: pd.DataFrame, schema: pa.DataFrameSchema, kind: str, source: str,
                  row_offset: int | None) -> None:
    """Checks pandera would get wrong or word badly: years, infinities, fuel quantities."""
    def show(v: object) -> str:
        v = v.item() if isinstance(v, np.generic) else v
        return f"{v:g}" if isinstance(v, float) else str(v) if isinstance(v, int) else repr(v)

    def fail(idx: object, col: str, what: str) -> DataError:
        return DataError(f"{_where(source, idx, row_offset)}, column {col}: {what}")

    if "year" in df.columns:
        years = pd.to_numeric(df["year"], errors="coerce")
        bad = years.isna() & df["year"].notna()
        if bad.any():
            i = _first(bad)
            raise fail(i, "year", f"value {df.at[i, 'year']!r} is not a year")
        frac = years.notna() & (years != np.round(years))
        if frac.any():
            i = _first(frac)
            raise fail(i, "year", f"year {show(df.at[i, 'year'])} is not a whole number")
    for col, spec in schema.columns.items():
        if col not in df.columns or str(spec.dtype) not in ("float64", "int64", "Int64"):
            continue
        vals = pd.to_numeric(df[col], errors="coerce")
        inf = vals.isin([np.inf, -np.inf])
        if inf.any():
            i = _first(inf)
            raise fail(i, col, f"value {show(df.at[i, col])} is not finite")
    if kind == "fuel_use" and {"quantity", "fuel"} <= set(df.columns):
        q = pd.to_numeric(df["quantity"], errors="coerce")
        blank = df["quantity"].isna() | df["quantity"].astype(str).str.strip().eq("")
        if blank.any():
            i = _first(blank)
            raise fail(i, "quantity", f"blank quantity for fuel {df.at[i, 'fuel']!r}")
        notnum = q.isna()
        if notnum.any():
            i = _first(notnum)
            raise fail(i, "quantity", f"value {show(df.at[i, 'quantity'])} is not a number")
        neg = (q < 0) & (df["fuel"] != ELECTRICITY)
        if neg.any():
            i = _first(neg)
            v = q.at[i]
            raise fail(i, "quantity", f"negative fuel use {v:g} for fuel {df.at[i, 'fuel']!r} "
                       f"(only {ELECTRICITY} may be negative)")


def validate(df: pd.DataFrame, kind: str, source: str = "<table>",
             row_offset: int | None = None) -> pd.DataFrame:
    """Validate ``df`` against the ``kind`` schema and return the coerced table.

    ``row_offset`` turns a default RangeIndex into file line numbers (2 for a
    CSV with one header line). Region names (column ``region``) are mapped to
    the canonical spelling first; an unknown one is an error naming its row.
    """
    schema = _schema(kind)
    missing = [c for c, col in schema.columns.items() if col.required and c not in df.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)}")
    if len(df) == 0:
        raise DataError(f"{source}: no data rows (only a header)")
    df = df.copy()
    name_col = "province" if kind == "cities" else "region"
    if name_col in df.columns:
        canon: dict[object, str] = {}
        for idx, name in df[name_col].items():
            if name in canon:
                continue
            if pd.isna(name):
                raise DataError(
                    f"{_where(source, idx, row_offset)}, column {name_col}: missing value")
            try:
                canon[name] = resolve_region(name)
            except CarbonlabError as exc:
                raise DataError(
                    f"{_where(source, idx, row_offset)}, column {name_col}: {exc}") from None
        df[name_col] = df[name_col].map(canon)
    _check_values(df, schema, kind, source, row_offset)
    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases.iloc[0]
        col = fc.get("column")
        check = str(fc.get("check"))
        case = fc.get("failure_case")
        case = case.item() if hasattr(case, "item") else case
        idx = fc.get("index")
        if check == "not_nullable":
            what = "missing value (NaN) where a value is required"
        elif "uniqueness" in check or check.startswith("field_uniqueness"):
            keys = ", ".join(schema.unique or [])
            what = f"duplicate row: ({keys}) must be unique, {case!r} repeats"
            col = keys
        elif check.startswith("in_range(0.0, 1.0)"):
            what = f"share {case!r} outside [0, 1]"
        elif check.startswith("greater_than") or check.startswith("negative"):
            what = f"value {case!r} fails {check}"
        elif check.startswith("isin"):
            what = f"value {case!r} is not allowed ({check[:80]})"
        elif check.startswith("coerce_dtype") or check.startswith("dtype"):
            what = f"value {case!r} has the wrong type ({check})"
        else:
            what = f"value {case!r} fails check {check}"
        colpart = f", column {col}" if col and str(col) != "nan" and col != "None" else ""
        raise DataError(f"{_where(source, idx, row_offset)}{colpart}: {what}") from None
