"""GCAM-China inputs: population, urbanisation, real GDP, generation, electricity flows, grids.

CSV files of ``gcam-china/`` and ``gcam-china-hk/`` (mirror README section 2). Quirks:
``#`` comment header; thousands separators; Hong Kong, Macau, Tibet and the ``National
Total``/``sum``/``difference`` rows are dropped. CPSY generation is converted from
100 GWh to GWh; 2003 and 2006 are missing (all zero in the file) and become NaN, as do
other all-zero rows; one published negative residual (Hainan 2009 ``other`` = -1.8 x
100 GWh) is set to 0 and recorded in ``attrs["repairs"]``. Population: isolated one-year
spikes (Heilongjiang 2013 = 3535) are interpolated and recorded in ``attrs["repairs"]``.
Electricity flows: 2020 and 2021 are copies of 2019 and are excluded unless asked for.
Every problem is a :class:`~carbonlab._util.DataError` naming the file, line and column.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.data._read import _attrs, _cached, _root
from carbonlab.data.registry import check_file
from carbonlab.regions import PROVINCES, resolve_region

PathLike = str | os.PathLike[str] | None

CSY_POP_FILE = "gcam-china/China_Statistics_Yearbook.csv"
COMPENDIUM_FILE = "gcam-china-hk/China_Compendium_of_Statistics.csv"
URBAN_FILE = "gcam-china-hk/urban_pop_share_province_Yh.csv"
GDP_FILE = "gcam-china-hk/gdp_mil10usd_province.csv"
CPSY_FILE = "gcam-china-hk/CPSY_GWh_province_F_elec_out.csv"
FLOWS_FILE = "gcam-china-hk/ABSPI_intra_province_electricity_trade.csv"
MAPPING_FILE = "gcam-china-hk/province_names_mappings.csv"

# Rows of the GCAM wide files that are not one of the 30 provinces.
_NON_PROVINCE = {"national total", "sum", "difference", "hong kong", "macau", "macao", "tibet"}
_OUTSIDE_CODES = {"HK", "MC", "XZ"}
_GRID_NAMES = {
    "North China Grid": "North", "Northeast China Grid": "Northeast",
    "East China Grid": "East", "Central China Grid": "Central",
    "Northwest China Grid": "Northwest", "China Southern Power Grid": "China Southern",
}



# --------------------------------------------------------------------------- GCAM CSVs


def _read_gcam_csv(path: Path) -> tuple[pd.DataFrame, int]:
    """Read a GCAM CSV as strings; return (table, line number of its first data row)."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            n_comment = 0
            for line in fh:
                if line.startswith("#"):
                    n_comment += 1
                else:
                    break
        df = pd.read_csv(path, skiprows=n_comment, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: unreadable CSV ({msg})") from None
    df.columns = [c.strip() for c in df.columns]
    return df, n_comment + 2


def _numeric(df: pd.DataFrame, col: str, path: Path, first_line: int,
             allow_negative: bool = False, required: bool = True) -> pd.Series:
    s = df[col].astype(str).str.strip().str.replace(",", "", regex=False)
    out = pd.to_numeric(s.where(s != ""), errors="coerce")
    bad = out.isna() & (s != "") if not required else out.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        what = "missing value" if s.iloc[i] == "" else f"not a number ({df[col].iloc[i]!r})"
        raise DataError(f"{path}, line {first_line + i}, column {col}: {what}")
    if not allow_negative and (out < 0).any():
        i = int(np.flatnonzero((out < 0).to_numpy())[0])
        raise DataError(f"{path}, line {first_line + i}, column {col}: negative value {out.iloc[i]!r}")
    return out.astype(float)


def _regions(df: pd.DataFrame, col: str, path: Path, first_line: int) -> tuple[pd.Series, np.ndarray]:
    """Canonical region names of a GCAM name column and a mask of the rows to keep."""
    if col not in df.columns:
        raise DataError(f"{path}: missing column {col!r}")
    keep = np.ones(len(df), dtype=bool)
    canon = []
    for i, name in enumerate(df[col]):
        n = str(name).strip()
        if n.lower() in _NON_PROVINCE:
            keep[i] = False
            canon.append(None)
            continue
        try:
            canon.append(resolve_region(n))
        except ParameterError as exc:
            raise DataError(f"{path}, line {first_line + i}, column {col}: {exc}") from None
    return pd.Series(canon, index=df.index, dtype=object), keep


def _wide_province(path: Path, value: str, years: range, allow_nan: bool = False,
                   share: bool = False) -> pd.DataFrame:
    """Long region, year, value table from a GCAM wide file (one column per year)."""
    df, first = _read_gcam_csv(path)
    name_col = df.columns[0]
    regions, keep = _regions(df, name_col, path, first)
    year_cols = [str(y) for y in years]
    missing = [c for c in year_cols if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing[:5])}")
    lines = first + np.arange(len(df))
    sub = df.loc[keep]
    reg = regions[keep]
    dup = reg.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{path}, line {lines[keep][i]}, column {name_col}: duplicate row for {reg.iloc[i]}")
    absent = [p for p in PROVINCES if p not in set(reg)]
    if absent:
        raise DataError(f"{path}, column {name_col}: no row for {', '.join(absent)}")
    cols = {}
    for c in year_cols:
        s = sub[c].astype(str).str.strip().str.replace(",", "", regex=False)
        v = pd.to_numeric(s.where(s != ""), errors="coerce")
        bad = (v.isna() & (s != "")) | (v.isna() & (not allow_nan))
        neg = v < 0
        outside = (v > 1) if share else pd.Series(False, index=v.index)
        for mask, what in ((bad, "missing or non-numeric value"), (neg, "negative value"),
                           (outside, "share outside [0, 1]")):
            if mask.any():
                i = int(np.flatnonzero(mask.to_numpy())[0])
                raise DataError(f"{path}, line {lines[keep][i]}, column {c}: {what} ({sub[c].iloc[i]!r})")
        cols[int(c)] = v.to_numpy(float)
    wide = pd.DataFrame(cols, index=reg.to_numpy())
    long = wide.stack(future_stack=True).rename(value).rename_axis(["region", "year"]).reset_index()
    order = {p: i for i, p in enumerate(PROVINCES)}
    long = long.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    return long.reset_index(drop=True)


def _isolated_spikes(wide: pd.DataFrame, rel: float = 0.05, agree: float = 0.02) -> list[tuple[str, int]]:
    """(region, year) cells that differ from both neighbours by > ``rel`` while the
    neighbours agree within ``agree``: one-year typos in a smooth series."""
    out = []
    vals = wide.to_numpy(float)
    years = list(wide.columns)
    for r, region in enumerate(wide.index):
        for t in range(1, len(years) - 1):
            a, x, b = vals[r, t - 1], vals[r, t], vals[r, t + 1]
            mid = (a + b) / 2
            if abs(a - b) <= agree * mid and abs(x - mid) > rel * mid:
                out.append((region, int(years[t])))
    return out


@_cached(lambda: [CSY_POP_FILE, COMPENDIUM_FILE])
def _population(root: Path, verify: bool) -> pd.DataFrame:
    csy_path = check_file(CSY_POP_FILE, root, verify_hash=verify)
    comp_path = check_file(COMPENDIUM_FILE, root, verify_hash=verify)
    csy = _wide_province(csy_path, "population_10k", range(2000, 2020))
    comp = _wide_province(comp_path, "population_10k", range(1975, 2000))
    for df, p in ((csy, csy_path), (comp, comp_path)):
        if (df["population_10k"] <= 0).any():
            r = df.loc[df["population_10k"] <= 0].iloc[0]
            raise DataError(f"{p}, row {r['region']}, column {r['year']}: population must be positive")
    wide = csy.pivot(index="region", columns="year", values="population_10k")
    repairs = []
    for region, year in _isolated_spikes(wide):
        old = float(wide.loc[region, year])
        new = (float(wide.loc[region, year - 1]) + float(wide.loc[region, year + 1])) / 2
        wide.loc[region, year] = new
        repairs.append({"region": region, "year": year, "column": "population_10k",
                        "published": old, "value": new, "file": CSY_POP_FILE,
                        "reason": "isolated one-year spike (typo); linear interpolation of neighbours"})
    csy = wide.stack().rename("population_10k").reset_index()
    df = pd.concat([comp, csy], ignore_index=True)
    order = {p: i for i, p in enumerate(PROVINCES)}
    df = df.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    df = df.reset_index(drop=True)
    df["year"] = df["year"].astype(int)
    return _attrs(
        df, {"population_10k": "10^4 persons"},
        "China Statistical Yearbook (2000-2019) and Compendium of Statistics 1949-2008 "
        "(1975-1999), via GCAM-China",
        repairs=repairs,
    )


def population(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Year-end resident population: region, year, population_10k (10^4 persons), 1975-2019.

    China Statistical Yearbook for 2000-2019, Compendium of Statistics before 2000.
    Isolated one-year spikes in the yearbook series (a value > 5 % off the mean of
    its two neighbours, which agree within 2 %) are replaced by that mean and listed
    in ``attrs["repairs"]``; in the published file this catches Heilongjiang 2013
    (3535, neighbours 3834 and 3833).
    """
    return _population(_root(data_dir), verify)


@_cached(lambda: [URBAN_FILE])
def _urban(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(URBAN_FILE, root, verify_hash=verify)
    df = _wide_province(path, "urban", range(1971, 2018), share=True)
    return _attrs(df, {"urban": "fraction"}, "China Statistical Yearbook 2018 Table 2-7, via GCAM-China")


def urbanisation(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Urbanisation rate: region, year, urban (fraction 0-1), 1971-2017 (``_Yh`` file).

    Early (pre-1990) values look smoothed in the source; use with care.
    """
    return _urban(_root(data_dir), verify)


@_cached(lambda: [GDP_FILE])
def _gdp(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(GDP_FILE, root, verify_hash=verify)
    df = _wide_province(path, "gdp_musd2010", range(1975, 2020), allow_nan=True)
    if (df["gdp_musd2010"] <= 0).any():
        r = df.loc[df["gdp_musd2010"] <= 0].iloc[0]
        raise DataError(f"{path}, row {r['region']}, column {r['year']}: GDP must be positive")
    return _attrs(df, {"gdp_musd2010": "million 2010 USD"},
                  "GCAM-China gdp_mil10usd_province.csv (NBS, history to 2019)")


def gdp_real(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Real GDP: region, year, gdp_musd2010 (million 2010 USD), history 1975-2019.

    Blank cells stay NaN (Hainan 1975-1977, before it became a province).
    """
    return _gdp(_root(data_dir), verify)


# --------------------------------------------------------------------------- electricity

_EXPORT = "Export"  # to.region of exports abroad (e.g. Yunnan to Vietnam) in the flows file
_GEN_COLS = ("coal", "hydro", "nuclear", "wind", "solar", "other")
_MISSING_GEN_YEARS = (2003, 2006)
# Published values known to be wrong, set explicitly: (region, year, column) -> (published, used)
_CPSY_REPAIRS = {("Hainan", 2009, "other"): (-1.8, 0.0)}


@_cached(lambda: [CPSY_FILE])
def _generation(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(CPSY_FILE, root, verify_hash=verify)
    df, first = _read_gcam_csv(path)
    need = ("province.name", "year") + _GEN_COLS + ("geothermal",)
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    regions, keep = _regions(df, "province.name", path, first)
    year = _numeric(df, "year", path, first).astype(int)
    vals = {c: _numeric(df, c, path, first, allow_negative=True) for c in _GEN_COLS + ("geothermal",)}
    out = pd.DataFrame({"region": regions, "year": year, **vals})
    out["line"] = first + np.arange(len(out))
    out = out.loc[keep].reset_index(drop=True)
    dup = out.duplicated(["region", "year"])
    if dup.any():
        r = out.loc[dup].iloc[0]
        raise DataError(f"{path}, line {r['line']}: duplicate row for ({r['region']}, {r['year']})")
    num = list(_GEN_COLS) + ["geothermal"]
    out[num] = out[num].mask(out[num].abs() < 1e-9, 0.0)  # float noise like -1.4e-14
    missing_row = out["year"].isin(_MISSING_GEN_YEARS) | (out[list(_GEN_COLS)].abs().sum(axis=1) == 0)
    out.loc[missing_row, num] = np.nan
    repairs = []
    for (region, yr, col), (published, used) in _CPSY_REPAIRS.items():
        m = (out["region"] == region) & (out["year"] == yr)
        if m.any() and np.isclose(out.loc[m, col].iloc[0], published):
            out.loc[m, col] = used
            repairs.append({"region": region, "year": yr, "column": f"{col}_gwh",
                            "published": published * 100, "value": used * 100, "file": CPSY_FILE,
                            "reason": "negative residual in the published file set to 0"})
    neg = (out[num] < 0).any(axis=1)
    if neg.any():
        r = out.loc[neg].iloc[0]
        col = next(c for c in num if r[c] < 0)
        raise DataError(f"{path}, line {r['line']}, column {col}: negative generation {r[col]!r}")
    out["other"] = out["other"] + out["geothermal"]
    res = pd.DataFrame({"region": out["region"], "year": out["year"]})
    for c in _GEN_COLS:
        res[f"{c}_gwh"] = out[c] * 100.0  # 100 GWh -> GWh
    res["total_gwh"] = res[[f"{c}_gwh" for c in _GEN_COLS]].sum(axis=1, min_count=1)
    order = {p: i for i, p in enumerate(PROVINCES)}
    res = res.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    units = {f"{c}_gwh": "GWh" for c in _GEN_COLS} | {"total_gwh": "GWh"}
    return _attrs(
        res.reset_index(drop=True), units,
        "China Electric Power Yearbook via GCAM-China CPSY_GWh_province_F_elec_out.csv "
        "(100 GWh converted to GWh; coal = all thermal; geothermal added to other)",
        missing_years=list(_MISSING_GEN_YEARS), repairs=repairs,
    )


def generation_by_fuel(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Electricity generation: region, year, coal_gwh, hydro_gwh, nuclear_gwh, wind_gwh,
    solar_gwh, other_gwh, total_gwh (GWh), 1994-2017 and 2021.

    ``coal`` is all thermal generation; ``other`` includes geothermal. 2003 and
    2006 (all zero in the file: missing, not zero) and other all-zero rows are NaN.
    """
    return _generation(_root(data_dir), verify)


@_cached(lambda: [MAPPING_FILE])
def _mapping(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(MAPPING_FILE, root, verify_hash=verify)
    df, first = _read_gcam_csv(path)
    need = ("province", "province.name", "GB.Code", "grid.region")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    regions, keep = _regions(df, "province.name", path, first)
    for i, g in enumerate(df["grid.region"]):
        if g.strip() not in _GRID_NAMES:
            raise DataError(f"{path}, line {first + i}, column grid.region: unknown grid {g!r}")
    code = df["province"].str.strip()
    out = pd.DataFrame({
        "region": regions, "code": code,
        "gb_code": _numeric(df, "GB.Code", path, first).astype(int),
        "grid": df["grid.region"].str.strip().map(_GRID_NAMES),
        "grid_name": df["grid.region"].str.strip(),
    })
    # keep the outside rows' codes (HK, MC, XZ) for decoding flows, marked region=None
    out["in_study"] = keep
    for col in ("region", "code"):
        d = out.loc[out[col].notna(), col].duplicated()
        if d.any():
            i = int(d[d].index[0])
            raise DataError(f"{path}, line {first + i}, column {col}: duplicate {out.loc[i, col]!r}")
    absent = [p for p in PROVINCES if p not in set(out["region"].dropna())]
    if absent:
        raise DataError(f"{path}, column province.name: no row for {', '.join(absent)}")
    return out


def grid_mapping(data_dir: PathLike = None, verify: bool = True) -> pd.DataFrame:
    """Province to regional grid from GCAM-China: region, code, gb_code, grid, grid_name.

    30 rows; ``grid`` uses :func:`carbonlab.regions.grid_region`'s names (North,
    Northeast, East, Central, Northwest, China Southern); ``grid_name`` is the
    file's spelling. Hong Kong, Macau and Tibet are dropped.
    """
    m = _mapping(_root(data_dir), verify)
    m = m.loc[m["in_study"]].drop(columns="in_study")
    order = {p: i for i, p in enumerate(PROVINCES)}
    m = m.sort_values("region", key=lambda s: s.map(order)).reset_index(drop=True)
    return _attrs(m, {}, "GCAM-China province_names_mappings.csv (older six-grid layout)")


@_cached(lambda: [FLOWS_FILE, MAPPING_FILE])
def _flows(root: Path, verify: bool) -> pd.DataFrame:
    path = check_file(FLOWS_FILE, root, verify_hash=verify)
    mapping = _mapping(root, verify)
    codes = dict(zip(mapping["code"], mapping["region"], strict=True))
    df, first = _read_gcam_csv(path)
    need = ("from.region", "to.region", "value", "year", "units")
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    for col in ("from.region", "to.region"):
        s = df[col].str.strip()
        known = list(codes) + ([_EXPORT] if col == "to.region" else [])
        bad = ~s.isin(known)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"{path}, line {first + i}, column {col}: unknown region code {df[col].iloc[i]!r}")
        df[col] = s
    bad = df["units"].str.strip() != "GWh"
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path}, line {first + i}, column units: expected 'GWh', found {df['units'].iloc[i]!r}")
    out = pd.DataFrame({
        "from": df["from.region"], "to": df["to.region"],
        "value": _numeric(df, "value", path, first),
        "year": _numeric(df, "year", path, first).astype(int),
    })
    dup = out.duplicated(["from", "to", "year"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"{path}, line {first + i}: duplicate flow ({out['from'].iloc[i]} -> {out['to'].iloc[i]}, {out['year'].iloc[i]})")
    return out


def _net_imports(flows: pd.DataFrame, mapping: pd.DataFrame) -> pd.DataFrame:
    f = flows.loc[flows["from"] != flows["to"]]
    inflow = f.groupby(["to", "year"])["value"].sum()
    outflow = f.groupby(["from", "year"])["value"].sum()
    years = sorted(flows["year"].unique())
    codes = mapping.loc[mapping["in_study"], ["code", "region"]]
    idx = pd.MultiIndex.from_product([codes["code"], years])
    net = inflow.reindex(idx, fill_value=0.0) - outflow.reindex(idx, fill_value=0.0)
    gross_in = inflow.reindex(idx, fill_value=0.0)
    gross_out = outflow.reindex(idx, fill_value=0.0)
    df = pd.DataFrame({"code": idx.get_level_values(0), "year": idx.get_level_values(1),
                       "net_import_gwh": net.to_numpy(), "inflow_gwh": gross_in.to_numpy(),
                       "outflow_gwh": gross_out.to_numpy()})
    df["region"] = df["code"].map(dict(zip(codes["code"], codes["region"], strict=True)))
    return df


def net_electricity_imports(data_dir: PathLike = None, verify: bool = True,
                            include_copies: bool = False) -> pd.DataFrame:
    """Net imported electricity: region, year, net_import_gwh, inflow_gwh, outflow_gwh (GWh).

    net = sum of flows into the province - sum of flows out of it, self-flows
    excluded; flows with Hong Kong and Tibet count (they are the province's
    trade) but those two get no row, and exports abroad (``to.region`` =
    ``Export``) count as outflows. 2005-2019. The file's 2020 and 2021 are
    copies of 2019 (except the flows to Hong Kong, re-estimated by the HK fork):
    with ``include_copies=True`` they are added and flagged in column
    ``copy_of_2019``.
    """
    root = _root(data_dir)
    flows = _flows(root, verify)
    mapping = _mapping(root, verify)
    df = _net_imports(flows, mapping)
    df["copy_of_2019"] = df["year"] > 2019
    if not include_copies:
        df = df.loc[~df["copy_of_2019"]]
    order = {p: i for i, p in enumerate(PROVINCES)}
    df = df[["region", "year", "net_import_gwh", "inflow_gwh", "outflow_gwh", "copy_of_2019"]]
    df = df.sort_values(["region", "year"], key=lambda s: s.map(order) if s.name == "region" else s)
    units = {"net_import_gwh": "GWh", "inflow_gwh": "GWh", "outflow_gwh": "GWh"}
    return _attrs(df.reset_index(drop=True), units,
                  "Annual Book of Statistics for Power Industry 2005-2019, via GCAM-China "
                  "ABSPI_intra_province_electricity_trade.csv (2020-21 are copies of 2019)")
