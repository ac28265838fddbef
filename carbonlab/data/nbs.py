"""Provincial statistics from NBS exports and student/agent data projects (issue 14 files).

Loaders of the mirror's ``nbs-wack520/``, ``nbs-exports/`` and ``shu-ces/`` files
(see the mirror's README sections 6-8). Every loader checks the file's SHA-256
first, maps Chinese province names with :func:`carbonlab.regions.resolve_region`
(full names such as ``内蒙古自治区``; Tibet and the national total are dropped)
and returns a tidy table ``region, year, <value columns with units>``. A bad
cell is a :class:`~carbonlab._util.DataError` naming the file, line and column.

- :func:`nbs_series`: GDP, tertiary value added, resident and urban population,
  passenger and freight turnover (NBS, 30 provinces x 2012-2023).
- :func:`nbs_power`: total / hydro / thermal generation (NBS, 2012-2023) from the
  case01 panel (its CEADs-derived and digitised columns are not read).
- :func:`consumption_per_capita`: per-capita consumption expenditure (NBS export,
  2016-2024; UTF-8 with BOM, ``TAB,`` separators, newest year first).
- :func:`shu_ces`: civil vehicles, disposable income, passenger volume (2005-2024).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data.registry import check_file, data_dir
from carbonlab.regions import PROVINCES, resolve_region

__all__ = [
    "NBS_DIR",
    "NBS_SERIES",
    "POWER_FILE",
    "CONSUMPTION_FILE",
    "SHU_CES_FILE",
    "province_or_none",
    "nbs_series",
    "nbs_power",
    "consumption_per_capita",
    "shu_ces",
]

PathLike = str | os.PathLike[str] | None

NBS_DIR = "nbs-wack520/cases/case02-nev-emission-controls/data"
NBS_SERIES: dict[str, tuple[str, str, str]] = {
    # output column: (file, value column in the file, NBS indicator code)
    "gdp_100m_cny": ("nbs_gdp_100m_cny.csv", "gdp_100m_cny", "A020101"),
    "tertiary_100m_cny": ("nbs_tertiary_value_added_100m_cny.csv",
                          "tertiary_value_added_100m_cny", "A020104"),
    "population_10k": ("nbs_resident_population_10k_person.csv",
                       "resident_population_10k_person", "A030101"),
    "urban_population_10k": ("nbs_urban_population_10k_person.csv",
                             "urban_population_10k_person", "A030102"),
    "passenger_turnover_100m_pkm": ("nbs_passenger_turnover_100m_pkm.csv",
                                    "passenger_turnover_100m_pkm", "A0G0401"),
    "freight_turnover_100m_tkm": ("nbs_freight_turnover_100m_tkm.csv",
                                  "freight_turnover_100m_tkm", "A0G0601"),
}
"""NBS series of ``nbs-wack520`` case02: output column -> (file, column, indicator code)."""
POWER_FILE = "nbs-wack520/cases/case01-nev-carbon/data/panel_30prov_2012_2023.csv"
CONSUMPTION_FILE = "nbs-exports/分省年度数据消费支出.csv"
SHU_CES_FILE = "shu-ces/merged_provincial_data.json"
_OUTSIDE = {"全国", "西藏", "西藏自治区", "Tibet", "Xizang"}
_NBS_SRC = "NBS (data.stats.gov.cn, 分省年度数据) via Wack520/academic-data-hunter"


def province_or_none(name: object, where: str, typos: dict[str, str] | None = None
                     ) -> str | None:
    """Canonical region of a source's province name; None for Tibet / the national total.

    Whitespace inside names (``内蒙 古``) is removed; ``typos`` maps known typos of a
    source (e.g. ``山两`` -> ``山西``). Any other unknown name is a DataError at ``where``.
    """
    s = "".join(str(name).split())
    s = (typos or {}).get(s, s)
    if s in _OUTSIDE:
        return None
    try:
        return resolve_region(s)
    except ParameterError as exc:
        if "not one of the study's 30" in str(exc):
            return None
        raise DataError(f"{where}: {exc}") from None


def _order(df: pd.DataFrame) -> pd.DataFrame:
    order = {p: i for i, p in enumerate(PROVINCES)}
    return (df.assign(_o=df["region"].map(order)).sort_values(["_o", "year"])
            .drop(columns="_o").reset_index(drop=True))


def _read_long_csv(path: Path, value: str, rel: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: unreadable CSV ({str(exc).splitlines()[0]})") from None
    for c in ("province", "year", value):
        if c not in df.columns:
            raise DataError(f"{path}: missing column {c!r}")
    regions = [province_or_none(n, f"{path}, line {i + 2}, column province")
               for i, n in enumerate(df["province"])]
    year = pd.to_numeric(df["year"].str.strip(), errors="coerce")
    val = pd.to_numeric(df[value].str.strip().str.replace(",", "", regex=False), errors="coerce")
    for col, s in (("year", year), (value, val)):
        bad = s.isna() | (s < 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}, line {i + 2}, column {col}: missing, negative or "
                            f"non-numeric value {df[col].iloc[i]!r}")
    out = pd.DataFrame({"region": regions, "year": year.astype(int), value: val.astype(float)})
    out["line"] = np.arange(len(out)) + 2
    out = out[out["region"].notna()]
    dup = out.duplicated(["region", "year"])
    if dup.any():
        r = out[dup].iloc[0]
        raise DataError(f"{path}, line {r['line']}: duplicate row for ({r['region']}, {r['year']})")
    return out.drop(columns="line")


def nbs_series(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """NBS provincial series: region, year (2012-2023) and the :data:`NBS_SERIES` columns.

    gdp_100m_cny and tertiary_100m_cny in 10^8 yuan (current prices, NBS vintage of
    2026-03-25), population_10k and urban_population_10k in 10^4 persons (year-end
    resident; urban = resident x the published rate), passenger_turnover_100m_pkm
    (10^8 person-km; basis break 2012 -> 2013) and freight_turnover_100m_tkm (10^8 t-km).
    """
    root = data_dir(data_dir_)
    out = None
    for col, (fname, value, _code) in NBS_SERIES.items():
        rel = f"{NBS_DIR}/{fname}"
        path = check_file(rel, root, verify_hash=verify)
        d = _read_long_csv(path, value, rel).rename(columns={value: col})
        out = d if out is None else out.merge(d, on=["region", "year"], how="outer",
                                              validate="1:1")
    assert out is not None
    missing = [p for p in PROVINCES if p not in set(out["region"])]
    if missing:
        raise DataError(f"{root / NBS_DIR}: no rows for {', '.join(missing)}")
    out = _order(out)
    out.attrs["units"] = {"gdp_100m_cny": "10^8 yuan", "tertiary_100m_cny": "10^8 yuan",
                          "population_10k": "10^4 persons", "urban_population_10k": "10^4 persons",
                          "passenger_turnover_100m_pkm": "10^8 person-km",
                          "freight_turnover_100m_tkm": "10^8 t-km"}
    out.attrs["source"] = _NBS_SRC + " (" + ", ".join(
        f"{c} {code}" for c, (_f, _v, code) in NBS_SERIES.items()) + ")"
    return out


def nbs_power(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """NBS electricity generation: region, year, total_gwh, hydro_gwh, thermal_gwh (GWh).

    From the case01 panel's NBS columns (A070308/A070309/A07030A, 10^8 kWh x 100),
    2012-2023; ``nonthermal_share`` = 1 - thermal / total (hydro, nuclear, wind, solar).
    """
    root = data_dir(data_dir_)
    path = check_file(POWER_FILE, root, verify_hash=verify)
    cols = {"total_generation_100m_kwh": "total_gwh", "hydro_generation_100m_kwh": "hydro_gwh",
            "thermal_generation_100m_kwh": "thermal_gwh"}
    parts = [_read_long_csv(path, c, POWER_FILE).rename(columns={c: n}) for c, n in cols.items()]
    out = parts[0].merge(parts[1], on=["region", "year"]).merge(parts[2], on=["region", "year"])
    for n in cols.values():
        out[n] = out[n] * 100.0  # 10^8 kWh -> GWh
    bad = out["thermal_gwh"] > out["total_gwh"] * (1 + 1e-9)
    if bad.any():
        r = out[bad].iloc[0]
        raise DataError(f"{path}: thermal generation above total for ({r['region']}, {r['year']})")
    out["nonthermal_share"] = 1.0 - out["thermal_gwh"] / out["total_gwh"]
    out = _order(out)
    out.attrs["units"] = {"total_gwh": "GWh", "hydro_gwh": "GWh", "thermal_gwh": "GWh",
                          "nonthermal_share": "fraction"}
    out.attrs["source"] = _NBS_SRC + " (A070308, A070309, A07030A)"
    return out


def consumption_per_capita(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Per-capita consumption expenditure of all residents: region, year, consumption_yuan.

    NBS 分省年度数据 export (2016-2024). The file is UTF-8 with a BOM, every field
    ends in ``TAB,``, the header lists the newest year first and the last line is
    the source note; all of these are handled.
    """
    root = data_dir(data_dir_)
    path = check_file(CONSUMPTION_FILE, root, verify_hash=verify)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc.reason})") from None
    head_i = next((i for i, s in enumerate(lines) if s.startswith("地区")), None)
    if head_i is None:
        raise DataError(f"{path}: no header line starting with 地区")
    fields = [f.strip() for f in lines[head_i].split(",")]
    years = []
    for j, f in enumerate(fields[1:], start=2):
        if not f:
            continue
        if not (f.endswith("年") and f[:-1].isdigit()):
            raise DataError(f"{path}, line {head_i + 1}, column {j}: expected a year like 2024年, "
                            f"found {f!r}")
        years.append((j - 1, int(f[:-1])))
    rows = []
    for i in range(head_i + 1, len(lines)):
        cells = [c.strip() for c in lines[i].split(",")]
        if not cells[0] or cells[0].startswith("数据来源") or cells[0].startswith("注"):
            continue
        region = province_or_none(cells[0], f"{path}, line {i + 1}, column 1")
        if region is None:
            continue
        for j, y in years:
            raw = cells[j] if j < len(cells) else ""
            try:
                v = float(raw)
            except ValueError:
                raise DataError(f"{path}, line {i + 1}, column {j + 1} ({y}): not a number "
                                f"{raw!r}") from None
            if not v > 0:
                raise DataError(f"{path}, line {i + 1}, column {j + 1} ({y}): non-positive {v}")
            rows.append((region, y, v))
    out = pd.DataFrame(rows, columns=["region", "year", "consumption_yuan"])
    missing = [p for p in PROVINCES if p not in set(out["region"])]
    if missing:
        raise DataError(f"{path}: no row for {', '.join(missing)}")
    out = _order(out)
    out.attrs["units"] = {"consumption_yuan": "yuan/person"}
    out.attrs["source"] = "NBS 分省年度数据 export, 居民人均消费支出 (via province-economy)"
    return out


_SHU_FIELDS = {
    "民用汽车拥有量(万辆)": "civil_vehicles_10k",
    "全体居民人均可支配收入(元)": "disposable_income_yuan",
    "客运量(万人)": "passengers_10k",
}


def shu_ces(data_dir_: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """SHU-CES panel: region, year (2005-2024), civil_vehicles_10k (10^4 vehicles),
    disposable_income_yuan (yuan/person), passengers_10k (road + rail + water, 10^4).

    ``null`` stays NaN (all provinces have no 2024 vehicles). Civil vehicles are
    not private cars; the 2005-2012 income values are of undocumented basis.
    """
    root = data_dir(data_dir_)
    path = check_file(SHU_CES_FILE, root, verify_hash=verify)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise DataError(f"{path}: expected an object keyed by province")
    rows = []
    for name, recs in raw.items():
        region = province_or_none(name, f"{path}, key {name!r}")
        if region is None:
            continue
        if not isinstance(recs, list):
            raise DataError(f"{path}, key {name!r}: expected a list of yearly records")
        for k, rec in enumerate(recs):
            where = f"{path}, key {name!r}, record {k}"
            try:
                year = int(str(rec["年份"]).strip())
            except (KeyError, ValueError, TypeError):
                raise DataError(f"{where}, field 年份: missing or invalid year") from None
            vals = []
            for f in _SHU_FIELDS:
                v = rec.get(f)
                if v is None:
                    vals.append(np.nan)
                    continue
                if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                    raise DataError(f"{where}, field {f}: invalid value {v!r}")
                vals.append(float(v))
            rows.append((region, year, *vals))
    out = pd.DataFrame(rows, columns=["region", "year", *_SHU_FIELDS.values()])
    dup = out.duplicated(["region", "year"])
    if dup.any():
        r = out[dup].iloc[0]
        raise DataError(f"{path}: duplicate record for ({r['region']}, {r['year']})")
    missing = [p for p in PROVINCES if p not in set(out["region"])]
    if missing:
        raise DataError(f"{path}: no key for {', '.join(missing)}")
    out = _order(out)
    out.attrs["units"] = {"civil_vehicles_10k": "10^4 vehicles",
                          "disposable_income_yuan": "yuan/person", "passengers_10k": "10^4 persons"}
    out.attrs["source"] = ("SHU-CES platform merged_provincial_data.json (NBS / statistical "
                           "yearbook series, undocumented)")
    return out
