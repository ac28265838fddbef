"""China Energy Statistical Yearbook 2008: the 30 provincial energy balances of 2007.

``cesy2008/N.xls`` (Excel 97, read with ``xlrd``) is yearbook Table 6-N, the
physical energy balance of province N for 2007; ``fu04.xls`` is the appendix of
reference conversion factors. These are activity data that CEADs did not produce
from its own emissions, so accounting them with a factor set and comparing with
the CEADs 2007 inventory is a non-circular check (:func:`carbonlab.accounting.check_2007`).

Layout (mirror README section 9): rows 11-43 are balance items, columns C-X the
fuels (see :data:`FUEL_COLUMNS`). Empty cells are zero. Quirks handled: the
province is read from cell A1 and must match the file number; Hainan's and
Sichuan's files (21, 23) print ``(万吨)`` over the gas columns I and J and no unit
over natural gas, while the English header says 10^8 m3 -- the gas units are
taken as 10^8 m3 for every file.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from carbonlab._util import DataError
from carbonlab.data.registry import check_file, data_dir
from carbonlab.regions import PROVINCES, resolve_region
from carbonlab.units import GJ_PER_TCE

__all__ = [
    "FILES",
    "FUEL_COLUMNS",
    "ITEMS",
    "CEADS_FUEL_OF",
    "energy_balance",
    "combustion_2007",
    "other_gas_origin_2007",
    "conversion_factors",
    "national_conversion_2007",
]

FILES: dict[str, str] = {
    resolve_region(zh): f"cesy2008/{n}.xls" for n, zh in enumerate(
        ["北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
         "浙江", "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南",
         "重庆", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "宁夏", "新疆"], start=1)
}
"""Region -> its balance file (Table 6-N)."""

# column index (0-based) -> (fuel code, unit)
FUEL_COLUMNS: dict[int, tuple[str, str]] = {
    2: ("coal_total", "10^4 t"), 3: ("raw_coal", "10^4 t"), 4: ("cleaned_coal", "10^4 t"),
    5: ("other_washed_coal", "10^4 t"), 6: ("briquettes", "10^4 t"), 7: ("coke", "10^4 t"),
    8: ("coke_oven_gas", "10^8 m3"), 9: ("other_gas", "10^8 m3"),
    10: ("petroleum_total", "10^4 t"), 11: ("crude_oil", "10^4 t"), 12: ("gasoline", "10^4 t"),
    13: ("kerosene", "10^4 t"), 14: ("diesel", "10^4 t"), 15: ("fuel_oil", "10^4 t"),
    16: ("lpg", "10^4 t"), 17: ("refinery_gas", "10^4 t"), 18: ("natural_gas", "10^8 m3"),
    19: ("other_petroleum_products", "10^4 t"), 20: ("other_coking_products", "10^4 t"),
    21: ("heat", "10^10 kJ"), 22: ("electricity", "10^8 kWh"), 23: ("other_energy", "10^4 tce"),
}
"""Columns C-X: fuel code and unit (万吨 = 10^4 t, 亿立方米 = 10^8 m3, 百亿千焦 = 10^10 kJ)."""

# Excel row (1-based) -> (item code, a key fragment of the Chinese label)
ITEMS: dict[int, tuple[str, str]] = {
    11: ("supply", "可供"), 12: ("production", "一次能源生产"), 13: ("recovered", "回收能"),
    14: ("inflow", "调入"), 15: ("imports", "进口"), 16: ("bunkers_abroad", "在外国加油"),
    17: ("outflow", "调出"), 18: ("exports", "出口"), 19: ("bunkers_foreign", "在我国加油"),
    20: ("stock_change", "库存"), 21: ("transformation", "加工转换"), 22: ("thermal_power", "火力发电"),
    23: ("heating", "供热"), 24: ("coal_washing", "洗选煤"), 25: ("coking", "炼焦"),
    26: ("refining", "炼油"), 27: ("gas_making", "制气"), 28: ("coke_reinput", "焦炭再投入"),
    29: ("briquetting", "煤制品加工"), 30: ("losses", "损失"), 31: ("final_consumption", "终端消费"),
    32: ("agriculture", "农、林"), 33: ("industry", "工业"), 34: ("non_energy_use", "原料"),
    35: ("construction", "建筑"), 36: ("transport", "交通"), 37: ("commerce", "批发"),
    38: ("households", "生活消费"), 39: ("urban", "城镇"), 40: ("rural", "乡村"), 41: ("other", "其他"),
    42: ("statistical_difference", "平衡差额"), 43: ("total_consumption", "消费量合计"),
}
"""Balance rows 11-43 (Excel numbering) with a fragment of their Chinese label, checked."""

CEADS_FUEL_OF: dict[str, str] = {
    "raw_coal": "Raw Coal", "cleaned_coal": "Cleaned Coal", "other_washed_coal": "Other Washed Coal",
    "briquettes": "Briquettes", "coke": "Coke", "coke_oven_gas": "Coke Oven Gas",
    "other_gas": "Other Gas", "other_coking_products": "Other Coking Products",
    "crude_oil": "Crude Oil", "gasoline": "Gasoline", "kerosene": "Kerosene", "diesel": "Diesel Oil",
    "fuel_oil": "Fuel Oil", "lpg": "LPG", "refinery_gas": "Refinery Gas",
    "other_petroleum_products": "Other Petroleum Products", "natural_gas": "Natural Gas",
}
"""The 17 CESY fossil-fuel columns and CEADs' name of the same fuel (one to one)."""


def _open(path):
    import xlrd

    try:
        book = xlrd.open_workbook(str(path))
        return book.sheet_by_index(0)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, ...
        raise DataError(f"{path}: not a readable .xls workbook ({type(exc).__name__}: {exc})") from None


def _col(j: int) -> str:
    return chr(65 + j)


def energy_balance(region: str, data_dir_: str | os.PathLike[str] | None = None,
                   verify: bool = True) -> pd.DataFrame:
    """One province's 2007 physical energy balance, tidy.

    Returns
    -------
    DataFrame
        region, year (2007), row (Excel row), item (see :data:`ITEMS`), fuel (see
        :data:`FUEL_COLUMNS`), quantity, unit. Transformation inputs are negative as
        printed; blank cells are 0.
    """
    region = resolve_region(region)
    if region not in FILES:
        raise DataError(f"cesy2008: no balance for {region}")
    rel = FILES[region]
    path = check_file(rel, data_dir(data_dir_), verify_hash=verify)
    sh = _open(path)
    if sh.nrows < 43 or sh.ncols < 24:
        raise DataError(f"{path}: expected at least 43 rows x 24 columns, found {sh.nrows} x {sh.ncols}")
    title = "".join(str(sh.cell_value(0, 0)).split())
    m = re.search(r"6-\d+(.+?)能源平衡表", title)
    if not m:
        raise DataError(f"{path}, cell A1: expected a title '6-N <province>能源平衡表(实物量)-2007', "
                        f"found {title!r}")
    try:
        in_file = resolve_region(m.group(1))
    except Exception:
        raise DataError(f"{path}, cell A1: unknown province {m.group(1)!r}") from None
    if in_file != region:
        raise DataError(f"{path}, cell A1: balance of {in_file}, expected {region}")
    if "2007" not in title:
        raise DataError(f"{path}, cell A1: not a 2007 balance ({title!r})")
    rows = []
    for r, (item, key) in ITEMS.items():
        label = "".join(str(sh.cell_value(r - 1, 0)).split())
        if key not in label:
            raise DataError(f"{path}, cell A{r}: expected item containing {key!r}, found {label!r}")
        for j, (fuel, unit) in FUEL_COLUMNS.items():
            v = sh.cell_value(r - 1, j)
            if isinstance(v, str):
                if v.strip() == "":
                    v = 0.0
                else:
                    try:
                        v = float(v.replace(",", ""))
                    except ValueError:
                        raise DataError(f"{path}, cell {_col(j)}{r}: not a number {v!r}") from None
            if not np.isfinite(float(v)):
                raise DataError(f"{path}, cell {_col(j)}{r}: not a finite number {v!r}")
            rows.append((region, 2007, r, item, fuel, float(v), unit))
    out = pd.DataFrame(rows, columns=["region", "year", "row", "item", "fuel", "quantity", "unit"])
    out.attrs["source"] = ("China Energy Statistical Yearbook 2008, Table 6-"
                           f"{rel.split('/')[1].split('.')[0]} (via zhangda1021/data)")
    return out


def combustion_2007(data_dir_: str | os.PathLike[str] | None = None, verify: bool = True
                    ) -> pd.DataFrame:
    """Fuel burnt in 2007 by province and fuel: the activity behind a CEADs-style inventory.

    combusted = final consumption (row 31) - non-energy use (row 34)
    + inputs to thermal power (row 22) and heating (row 23), the IPCC sectoral
    scope CEADs uses (Shan et al. 2016). Other transformation (coking, refining,
    gas making, washing) converts fuels rather than burning them and is left out.

    Returns
    -------
    DataFrame
        region, year, fuel (the 17 :data:`CEADS_FUEL_OF` codes), quantity, unit, and the
        parts final_use, non_energy_use, power_input, heat_input (same unit).
    """
    parts = []
    for region in PROVINCES:
        b = energy_balance(region, data_dir_, verify)
        b = b[b["fuel"].isin(list(CEADS_FUEL_OF))]
        w = b.pivot(index=["fuel", "unit"], columns="item", values="quantity").reset_index()
        d = pd.DataFrame({
            "region": region, "year": 2007, "fuel": w["fuel"], "unit": w["unit"],
            "final_use": w["final_consumption"], "industry": w["industry"],
            "non_energy_use": w["non_energy_use"],
            "power_input": -w["thermal_power"], "heat_input": -w["heating"],
        })
        parts.append(d)
    out = pd.concat(parts, ignore_index=True)
    # non-energy use is part of industry (row 34 under row 33); where a table prints more
    # (Shaanxi coke-oven gas: 5.26 of 4.38), cap it at the industry use and record it
    over = out["non_energy_use"] > out["industry"] + 1e-9
    repairs = [{"region": r["region"], "fuel": r["fuel"], "column": "non_energy_use",
                "published": float(r["non_energy_use"]), "value": float(r["industry"]),
                "file": FILES[r["region"]],
                "reason": "non-energy use (row 34) above industry use (row 33): capped"}
               for _, r in out[over].iterrows()]
    out.loc[over, "non_energy_use"] = out.loc[over, "industry"]
    out = out.drop(columns="industry")
    out["quantity"] = out["final_use"] - out["non_energy_use"] + out["power_input"] + out["heat_input"]
    neg = out["quantity"] < -0.011  # the tables print 2 decimals: -0.01 is rounding
    if neg.any():
        r = out[neg].iloc[0]
        raise DataError(f"{FILES[r['region']]}: negative combustion {r['quantity']:.3g} {r['unit']} "
                        f"of {r['fuel']} (final - non-energy + power + heat inputs)")
    out["quantity"] = out["quantity"].clip(lower=0.0)
    out = out[["region", "year", "fuel", "quantity", "unit", "final_use", "non_energy_use",
               "power_input", "heat_input"]]
    out.attrs["source"] = "China Energy Statistical Yearbook 2008, Tables 6-1 to 6-30"
    out.attrs["repairs"] = repairs
    return out


def other_gas_origin_2007(data_dir_: str | os.PathLike[str] | None = None, verify: bool = True
                          ) -> pd.DataFrame:
    """Where each province's "other gas" (其他煤气) came from in 2007.

    Recovered gas (row 13, 回收能: blast-furnace and converter gas of the steel works)
    against gas made in gas works and coke ovens (the positive outputs of rows 27
    制气 and 25 炼焦: producer gas, water gas and the like).

    Returns
    -------
    DataFrame
        region, recovered, manufactured (10^8 m3), manufactured_share (of the two; NaN where
        the province has neither). ``attrs["national_share"]``: the share for China.
    """
    rows = []
    for region in PROVINCES:
        b = energy_balance(region, data_dir_, verify)
        g = b[b["fuel"] == "other_gas"].set_index("item")["quantity"]
        rec = max(float(g["recovered"]), 0.0)
        man = max(float(g["gas_making"]), 0.0) + max(float(g["coking"]), 0.0)
        rows.append((region, rec, man))
    out = pd.DataFrame(rows, columns=["region", "recovered", "manufactured"])
    tot = out["recovered"] + out["manufactured"]
    out["manufactured_share"] = (out["manufactured"] / tot).where(tot > 0)
    out.attrs["national_share"] = float(out["manufactured"].sum() / tot.sum())
    out.attrs["source"] = "China Energy Statistical Yearbook 2008, rows 13, 25 and 27 of Tables 6-N"
    return out


_NCV = re.compile(r"([\d\s]+?)\s*(?:～[\d\s]+)?\s*千焦")


def conversion_factors(data_dir_: str | os.PathLike[str] | None = None, verify: bool = True
                       ) -> pd.DataFrame:
    """The yearbook's reference conversion factors (``fu04.xls``).

    Returns
    -------
    DataFrame
        name (Chinese, spaces removed), ncv_kj (average net calorific value in kJ per
        kg or m3, the lower end of a printed range), per ("kg"/"m3"/"kWh"), kgce (kg of
        coal equivalent per unit, lower end of a range), row (Excel row). Rows without
        an NCV (headings, heat) are left out.
    """
    path = check_file("cesy2008/fu04.xls", data_dir(data_dir_), verify_hash=verify)
    sh = _open(path)
    rows = []
    for r in range(sh.nrows):
        name = "".join(str(sh.cell_value(r, 0)).split())
        ncv_s = str(sh.cell_value(r, 1)) if sh.ncols > 1 else ""
        ce_s = str(sh.cell_value(r, 2)) if sh.ncols > 2 else ""
        m = _NCV.search(ncv_s)
        if not name or not m:
            continue
        ncv = float("".join(m.group(1).split()))
        per = "m3" if "立方米" in ncv_s else ("kWh" if "千瓦小时" in ncv_s else "kg")
        mc = re.search(r"([\d.]+)", ce_s)
        kgce = float(mc.group(1)) if mc else np.nan
        rows.append((name, ncv, per, kgce, r + 1))
    out = pd.DataFrame(rows, columns=["name", "ncv_kj", "per", "kgce", "row"])
    if out.empty or "原煤" not in set(out["name"]):
        raise DataError(f"{path}: no conversion factor for 原煤 (raw coal) found")
    out.attrs["source"] = "China Energy Statistical Yearbook 2008, appendix 各种能源折标准煤参考系数"
    return out


# CEADs fuel code -> the start of its header in Tables 4-1 / 4-2 (spaces removed)
_NATIONAL_HEADER: dict[str, str] = {
    "raw_coal": "原煤", "cleaned_coal": "洗精煤", "other_washed_coal": "其他洗煤",
    "briquettes": "型煤", "coke": "焦炭", "coke_oven_gas": "焦炉煤气", "other_gas": "其他煤气",
    "other_coking_products": "其他焦化", "crude_oil": "原油", "gasoline": "汽油",
    "kerosene": "煤油", "diesel": "柴油", "fuel_oil": "燃料油", "lpg": "液化石",
    "refinery_gas": "炼厂干气", "other_petroleum_products": "其他石", "natural_gas": "天然气",
}


def _header_columns(sh, row: int, path) -> dict[str, int]:
    heads = ["".join(str(sh.cell_value(row, j)).split()) for j in range(sh.ncols)]
    out = {}
    for fuel, pre in _NATIONAL_HEADER.items():
        js = [j for j, h in enumerate(heads) if h.startswith(pre)]
        if len(js) != 1:
            raise DataError(f"{path}, row {row + 1}: expected one column headed {pre!r}, "
                            f"found {len(js)}")
        out[fuel] = js[0]
    return out


def national_conversion_2007(data_dir_: str | os.PathLike[str] | None = None,
                             verify: bool = True) -> pd.DataFrame:
    """The yearbook's own standard-coal conversion of each fuel in 2007.

    Table 4-1 (``0401.xls``, national balance in 10^4 tce) divided cell by cell by
    Table 4-2 (``0402.xls``, the same balance in physical units), over balance rows
    11-43 where both cells are non-zero. This is the calorific value the statistics
    themselves assign, e.g. to 其他煤气 (other gas), for which the appendix of
    reference factors (``fu04.xls``) prints only its sub-kinds.

    Returns
    -------
    DataFrame
        fuel (CEADs code), unit (physical), kgce_per_base (kg of coal equivalent per kg or
        m3: median of the cell ratios), ncv_kj (kJ per kg or m3, at 29.3076 MJ/kgce),
        cells (number of ratios), spread (max/min - 1 of the absolute ratios; 0 where the
        statistics use one factor for every row).
    """
    root = data_dir(data_dir_)
    pa = check_file("cesy2008/0401.xls", root, verify_hash=verify)
    pb = check_file("cesy2008/0402.xls", root, verify_hash=verify)
    sa, sb = _open(pa), _open(pb)
    ca, cb = _header_columns(sa, 4, pa), _header_columns(sb, 3, pb)
    units = {f: u for f, u in FUEL_COLUMNS.values()}
    rows = []
    for fuel in _NATIONAL_HEADER:
        ratios = []
        for r in range(10, min(sa.nrows, sb.nrows, 43)):
            x, y = sa.cell_value(r, ca[fuel]), sb.cell_value(r, cb[fuel])
            if isinstance(x, float) and isinstance(y, float) and abs(x) > 1e-9 and abs(y) > 1e-9:
                ratios.append(abs(x / y))  # 0401 prints some signs wrongly (README section 9)
        if not ratios:
            raise DataError(f"{pa}: no row with {_NATIONAL_HEADER[fuel]} in both 0401 and 0402")
        q = np.asarray(ratios)
        unit = units[fuel]
        per_base = float(np.median(q)) * (1.0 if unit == "10^4 t" else 0.1)  # 10^4 tce/10^8 m3
        rows.append((fuel, unit, per_base, per_base * GJ_PER_TCE * 1e3, len(q),
                     float(q.max() / q.min() - 1)))
    out = pd.DataFrame(rows, columns=["fuel", "unit", "kgce_per_base", "ncv_kj", "cells", "spread"])
    out.attrs["source"] = ("China Energy Statistical Yearbook 2008, Tables 4-1 (standard quantity) "
                           "and 4-2 (physical quantity)")
    return out
