"""Smart-city pilot batches: the study's four representatives and user pilot lists.

China's national smart-city pilots came in three batches (2012, 2013, 2015). No
machine-readable copy of the batch lists is in the shared data, so carbonlab knows only the
city study's four representatives (:data:`STUDY_PILOTS`) and reads any other list from a
user CSV (:func:`read_pilot_list`; example: ``data/scenarios/pilot_cities_example.csv``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from carbonlab._util import DataError, ParameterError, repo_root
from carbonlab.data.cities import match_city, resolve_city

__all__ = ["BATCHES", "REPRESENTATIVES", "STUDY_PILOTS", "example_pilot_list", "read_pilot_list"]

BATCHES: tuple[int, ...] = (2012, 2013, 2015)
"""The national smart-city pilot batches."""
STUDY_PILOTS: dict[str, int | None] = {"Beijing": 2012, "Lanzhou": 2013, "Hohhot": 2015,
                                       "Shangluo": None}
"""The city study's representative of each batch (None: never a pilot)."""
REPRESENTATIVES: tuple[str, ...] = tuple(STUDY_PILOTS)


def example_pilot_list() -> Path:
    """The shipped example CSV (the study's four representatives)."""
    return repo_root() / "data" / "scenarios" / "pilot_cities_example.csv"


def read_pilot_list(path: str | Path, cities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read a pilot list CSV ``city,pilot_year`` (blank = never) and validate every row.

    ``city`` is any spelling :func:`~carbonlab.data.cities.match_city` (with ``cities``) or
    the CEADs crosswalk (without) knows; it is returned as the canonical English name.
    One-line errors name file, row and column: unknown city, duplicate city, a batch year
    that is not 2012, 2013 or 2015. Returns ``city`` (str), ``pilot_year`` (Int64).
    """
    from carbonlab.data.cities import english_name

    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: pilot list not found")
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    cols = [c.strip() for c in raw.columns]
    if cols != ["city", "pilot_year"]:
        raise DataError(f"{p}: columns must be exactly 'city,pilot_year', got {','.join(cols)}")
    raw.columns = cols
    names: list[str] = []
    years: list[Any] = []
    for i, (city, yr) in enumerate(zip(raw["city"], raw["pilot_year"], strict=True)):
        row = i + 2  # 1-based line after the header (comment lines not counted)
        city = city.strip()
        if not city:
            raise DataError(f"{p}: row {row}, column city: empty city name")
        try:
            name = match_city(cities, city) if cities is not None else english_name(resolve_city(city))
        except ParameterError:
            raise DataError(f"{p}: row {row}, column city: unknown city {city!r}") from None
        if name in names:
            raise DataError(f"{p}: row {row}, column city: duplicate city {city!r} ({name})")
        names.append(name)
        yr = yr.strip()
        if yr == "":
            years.append(pd.NA)
            continue
        if not re.fullmatch(r"\d{4}", yr) or int(yr) not in BATCHES:
            raise DataError(f"{p}: row {row}, column pilot_year: {yr!r} is not a pilot batch "
                            f"({', '.join(map(str, BATCHES))}) or blank")
        years.append(int(yr))
    return pd.DataFrame({"city": names, "pilot_year": pd.array(years, dtype="Int64")})
