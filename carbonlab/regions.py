"""The 30 provinces of the provincial study and how their names are spelt.

Every table in carbonlab uses the canonical English (pinyin) name in its
``region`` column. :func:`resolve_region` maps pinyin, Chinese (full or short),
two-letter codes, GB/T 2260 codes and common spellings onto it.

Grid regions follow the six regional grids of the NDRC/MEE regional grid
baseline emission factor notices (North, Northeast, East, Central, Northwest,
China Southern); Sichuan and Chongqing belong to the Central grid and all of
Inner Mongolia to the North grid, as in those notices up to 2019.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

from carbonlab._util import ParameterError

__all__ = ["PROVINCES", "province_table", "resolve_region", "resolve_regions", "grid_region"]

# code, canonical name, short Chinese name, full Chinese name, GB/T 2260 code, grid region
_ROWS: list[tuple[str, str, str, str, int, str]] = [
    ("BJ", "Beijing", "北京", "北京市", 11, "North"),
    ("TJ", "Tianjin", "天津", "天津市", 12, "North"),
    ("HE", "Hebei", "河北", "河北省", 13, "North"),
    ("SX", "Shanxi", "山西", "山西省", 14, "North"),
    ("NM", "Inner Mongolia", "内蒙古", "内蒙古自治区", 15, "North"),
    ("LN", "Liaoning", "辽宁", "辽宁省", 21, "Northeast"),
    ("JL", "Jilin", "吉林", "吉林省", 22, "Northeast"),
    ("HL", "Heilongjiang", "黑龙江", "黑龙江省", 23, "Northeast"),
    ("SH", "Shanghai", "上海", "上海市", 31, "East"),
    ("JS", "Jiangsu", "江苏", "江苏省", 32, "East"),
    ("ZJ", "Zhejiang", "浙江", "浙江省", 33, "East"),
    ("AH", "Anhui", "安徽", "安徽省", 34, "East"),
    ("FJ", "Fujian", "福建", "福建省", 35, "East"),
    ("JX", "Jiangxi", "江西", "江西省", 36, "Central"),
    ("SD", "Shandong", "山东", "山东省", 37, "North"),
    ("HA", "Henan", "河南", "河南省", 41, "Central"),
    ("HB", "Hubei", "湖北", "湖北省", 42, "Central"),
    ("HN", "Hunan", "湖南", "湖南省", 43, "Central"),
    ("GD", "Guangdong", "广东", "广东省", 44, "China Southern"),
    ("GX", "Guangxi", "广西", "广西壮族自治区", 45, "China Southern"),
    ("HI", "Hainan", "海南", "海南省", 46, "China Southern"),
    ("CQ", "Chongqing", "重庆", "重庆市", 50, "Central"),
    ("SC", "Sichuan", "四川", "四川省", 51, "Central"),
    ("GZ", "Guizhou", "贵州", "贵州省", 52, "China Southern"),
    ("YN", "Yunnan", "云南", "云南省", 53, "China Southern"),
    ("SN", "Shaanxi", "陕西", "陕西省", 61, "Northwest"),
    ("GS", "Gansu", "甘肃", "甘肃省", 62, "Northwest"),
    ("QH", "Qinghai", "青海", "青海省", 63, "Northwest"),
    ("NX", "Ningxia", "宁夏", "宁夏回族自治区", 64, "Northwest"),
    ("XJ", "Xinjiang", "新疆", "新疆维吾尔自治区", 65, "Northwest"),
]

# Extra spellings seen in the data sources and in the literature.
_ALIASES: dict[str, str] = {
    "innermongolia": "Inner Mongolia",
    "neimongol": "Inner Mongolia",
    "neimenggu": "Inner Mongolia",
    "neimonggol": "Inner Mongolia",
    "nmg": "Inner Mongolia",
    "shaanxi": "Shaanxi",
    "shensi": "Shaanxi",
    "shansi": "Shanxi",
    "peking": "Beijing",
    "canton": "Guangdong",
    "kwangtung": "Guangdong",
    "ningxiahui": "Ningxia",
    "xinjianguygur": "Xinjiang",
    "xinjianguyghur": "Xinjiang",
    "guangxizhuang": "Guangxi",
}

# Regions that exist but are outside the study's 30 provinces.
_OUTSIDE = {
    "tibet": "Tibet", "xizang": "Tibet", "西藏": "Tibet", "西藏自治区": "Tibet", "xz": "Tibet",
    "tibetautonomousregion": "Tibet", "xizangautonomousregion": "Tibet",
    "hongkong": "Hong Kong", "香港": "Hong Kong", "hk": "Hong Kong",
    "macau": "Macao", "macao": "Macao", "澳门": "Macao", "mc": "Macao",
    "taiwan": "Taiwan", "台湾": "Taiwan",
}

PROVINCES: tuple[str, ...] = tuple(r[1] for r in _ROWS)
"""The 30 canonical province names, in GB/T 2260 order."""


def province_table() -> pd.DataFrame:
    """One row per province: code, region, name_zh, name_zh_full, gb_code, grid."""
    return pd.DataFrame(
        _ROWS, columns=["code", "region", "name_zh", "name_zh_full", "gb_code", "grid"]
    )


def _key(name: str) -> str:
    s = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s_\-'’.]+", "", s)


def _build_lookup() -> dict[str, str]:
    lut: dict[str, str] = {}
    for code, name, zh, zh_full, gb, _grid in _ROWS:
        for k in (code, name, zh, zh_full, str(gb)):
            lut[_key(k)] = name
        # "Hebei Province", "Beijing Shi", ...
        for suffix in ("province", "sheng", "shi", "city", "municipality", "autonomousregion", "zizhiqu"):
            lut[_key(name) + suffix] = name
    for k, v in _ALIASES.items():
        # "Ningxia Hui Autonomous Region", "Xinjiang Uygur Autonomous Region", ...
        for suffix in ("", "province", "autonomousregion", "zizhiqu"):
            lut[_key(k) + suffix] = v
    return lut


_LOOKUP = _build_lookup()


def resolve_region(name: str) -> str:
    """Canonical province name for any accepted spelling.

    >>> resolve_region("内蒙古"), resolve_region("Nei Mongol"), resolve_region("InnerMongolia")
    ('Inner Mongolia', 'Inner Mongolia', 'Inner Mongolia')

    Raises :class:`~carbonlab._util.ParameterError` naming the input for an
    unknown region, or for one outside the study's 30 (Tibet, Hong Kong, …).
    """
    k = _key(name)
    if not k:
        raise ParameterError(f"region name is empty ({name!r}); see `carbonlab regions`")
    if k in _LOOKUP:
        return _LOOKUP[k]
    if k in _OUTSIDE:
        raise ParameterError(
            f"region {name!r} ({_OUTSIDE[k]}) is not one of the study's 30 provinces"
        )
    close = [p for p in PROVINCES if _key(p)[:3] == k[:3]] if len(k) >= 3 else []
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise ParameterError(f"unknown region {name!r}{hint} (see `carbonlab regions`)")


def resolve_regions(names: pd.Series, where: str = "region") -> pd.Series:
    """Vectorised :func:`resolve_region`; the error names ``where`` and the row."""
    uniq = {}
    for i, v in names.items():
        if v not in uniq:
            try:
                uniq[v] = resolve_region(v)
            except ParameterError as exc:
                raise ParameterError(f"{where}, row {i}: {exc}") from None
    return names.map(uniq)


def grid_region(name: str) -> str:
    """The regional grid (North, Northeast, East, Central, Northwest, China Southern)."""
    canon = resolve_region(name)
    return next(r[5] for r in _ROWS if r[1] == canon)
