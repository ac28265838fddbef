"""City-name crosswalk for the CEADs city inventory: Chinese ↔ English ↔ province.

CEADs writes a city as province + city without 省/市/自治区 (``安徽安庆``,
``内蒙古包头``, ``新疆阿克苏``); the four municipalities are written alone
(``北京``, ``重庆``). The province is read from that prefix
(:func:`province_of`), so it is computed, not transcribed.

The English name is Hanyu pinyin without tones (``Anqing``, ``Lu'an``,
``Xi'an``), except for names of non-Han origin, where the conventional
romanisation used by the national gazetteer and in English-language literature
is given (``Hohhot``, ``Ordos``, ``Urumqi``, ``Kashgar``, ``Harbin``,
``Qiqihar``). Four English names occur twice (Fuzhou 福州/抚州, Suzhou 苏州/宿州,
Taizhou 台州/泰州, Yichun 伊春/宜春); :func:`city_table` makes them unique by
appending the province, e.g. ``Suzhou (Anhui)``. ``city_zh`` is the key for
joins; ``伊犁州直属县`` (counties directly under Ili Prefecture) is ``Ili``.
"""

from __future__ import annotations

import functools
import unicodedata

import pandas as pd

from carbonlab._util import ParameterError
from carbonlab.regions import PROVINCES, province_table

__all__ = ["CITY_NAMES", "city_table", "province_of", "english_name", "resolve_city", "match_city",
           "nowcast"]

# CEADs city name (province prefix + city) -> English name.
# Source: the city names of the CEADs 290-city inventory (Shan et al. 2022,
# Science Bulletin 67:1910); romanisation per the module docstring.
CITY_NAMES: dict[str, str] = {
    "北京": "Beijing", "天津": "Tianjin", "上海": "Shanghai", "重庆": "Chongqing",
    # Hebei
    "河北保定": "Baoding", "河北唐山": "Tangshan", "河北廊坊": "Langfang",
    "河北张家口": "Zhangjiakou", "河北承德": "Chengde", "河北沧州": "Cangzhou",
    "河北石家庄": "Shijiazhuang", "河北秦皇岛": "Qinhuangdao", "河北衡水": "Hengshui",
    "河北邢台": "Xingtai", "河北邯郸": "Handan",
    # Shanxi
    "山西太原": "Taiyuan", "山西忻州": "Xinzhou", "山西晋中": "Jinzhong", "山西晋城": "Jincheng",
    "山西朔州": "Shuozhou", "山西运城": "Yuncheng", "山西长治": "Changzhi", "山西阳泉": "Yangquan",
    # Inner Mongolia
    "内蒙古乌兰察布": "Ulanqab", "内蒙古乌海": "Wuhai", "内蒙古兴安盟": "Hinggan",
    "内蒙古包头": "Baotou", "内蒙古呼伦贝尔": "Hulunbuir", "内蒙古呼和浩特": "Hohhot",
    "内蒙古巴彦淖尔": "Bayannur", "内蒙古赤峰": "Chifeng", "内蒙古通辽": "Tongliao",
    "内蒙古鄂尔多斯": "Ordos", "内蒙古锡林郭勒": "Xilingol", "内蒙古阿拉善": "Alxa",
    # Liaoning
    "辽宁丹东": "Dandong", "辽宁大连": "Dalian", "辽宁抚顺": "Fushun", "辽宁朝阳": "Chaoyang",
    "辽宁本溪": "Benxi", "辽宁沈阳": "Shenyang", "辽宁盘锦": "Panjin", "辽宁辽阳": "Liaoyang",
    "辽宁阜新": "Fuxin", "辽宁鞍山": "Anshan",
    # Jilin
    "吉林吉林": "Jilin", "吉林四平": "Siping", "吉林延边": "Yanbian", "吉林松原": "Songyuan",
    "吉林白城": "Baicheng", "吉林白山": "Baishan", "吉林辽源": "Liaoyuan", "吉林通化": "Tonghua",
    "吉林长春": "Changchun",
    # Heilongjiang
    "黑龙江伊春": "Yichun", "黑龙江佳木斯": "Jiamusi", "黑龙江双鸭山": "Shuangyashan",
    "黑龙江哈尔滨": "Harbin", "黑龙江大兴安岭": "Daxing'anling", "黑龙江大庆": "Daqing",
    "黑龙江牡丹江": "Mudanjiang", "黑龙江绥化": "Suihua", "黑龙江鸡西": "Jixi",
    "黑龙江鹤岗": "Hegang", "黑龙江黑河": "Heihe", "黑龙江齐齐哈尔": "Qiqihar",
    # Jiangsu
    "江苏南京": "Nanjing", "江苏南通": "Nantong", "江苏宿迁": "Suqian", "江苏常州": "Changzhou",
    "江苏徐州": "Xuzhou", "江苏扬州": "Yangzhou", "江苏无锡": "Wuxi", "江苏泰州": "Taizhou",
    "江苏淮安": "Huai'an", "江苏盐城": "Yancheng", "江苏苏州": "Suzhou",
    "江苏连云港": "Lianyungang", "江苏镇江": "Zhenjiang",
    # Zhejiang
    "浙江丽水": "Lishui", "浙江台州": "Taizhou", "浙江嘉兴": "Jiaxing", "浙江宁波": "Ningbo",
    "浙江杭州": "Hangzhou", "浙江温州": "Wenzhou", "浙江湖州": "Huzhou", "浙江绍兴": "Shaoxing",
    "浙江舟山": "Zhoushan", "浙江衢州": "Quzhou", "浙江金华": "Jinhua",
    # Anhui
    "安徽亳州": "Bozhou", "安徽六安": "Lu'an", "安徽合肥": "Hefei", "安徽安庆": "Anqing",
    "安徽宣城": "Xuancheng", "安徽宿州": "Suzhou", "安徽巢湖": "Chaohu", "安徽池州": "Chizhou",
    "安徽淮北": "Huaibei", "安徽淮南": "Huainan", "安徽滁州": "Chuzhou", "安徽芜湖": "Wuhu",
    "安徽蚌埠": "Bengbu", "安徽铜陵": "Tongling", "安徽阜阳": "Fuyang",
    "安徽马鞍山": "Ma'anshan", "安徽黄山": "Huangshan",
    # Fujian
    "福建三明": "Sanming", "福建南平": "Nanping", "福建厦门": "Xiamen", "福建宁德": "Ningde",
    "福建泉州": "Quanzhou", "福建漳州": "Zhangzhou", "福建福州": "Fuzhou", "福建莆田": "Putian",
    "福建龙岩": "Longyan",
    # Jiangxi
    "江西上饶": "Shangrao", "江西九江": "Jiujiang", "江西南昌": "Nanchang", "江西吉安": "Ji'an",
    "江西宜春": "Yichun", "江西抚州": "Fuzhou", "江西新余": "Xinyu", "江西景德镇": "Jingdezhen",
    "江西萍乡": "Pingxiang", "江西赣州": "Ganzhou", "江西鹰潭": "Yingtan",
    # Shandong
    "山东东营": "Dongying", "山东临沂": "Linyi", "山东威海": "Weihai", "山东德州": "Dezhou",
    "山东日照": "Rizhao", "山东枣庄": "Zaozhuang", "山东泰安": "Tai'an", "山东济南": "Jinan",
    "山东济宁": "Jining", "山东淄博": "Zibo", "山东滨州": "Binzhou", "山东潍坊": "Weifang",
    "山东烟台": "Yantai", "山东聊城": "Liaocheng", "山东莱芜": "Laiwu", "山东菏泽": "Heze",
    "山东青岛": "Qingdao",
    # Henan
    "河南三门峡": "Sanmenxia", "河南信阳": "Xinyang", "河南南阳": "Nanyang", "河南周口": "Zhoukou",
    "河南商丘": "Shangqiu", "河南安阳": "Anyang", "河南平顶山": "Pingdingshan",
    "河南开封": "Kaifeng", "河南新乡": "Xinxiang", "河南洛阳": "Luoyang", "河南济源": "Jiyuan",
    "河南濮阳": "Puyang", "河南焦作": "Jiaozuo", "河南许昌": "Xuchang", "河南郑州": "Zhengzhou",
    "河南驻马店": "Zhumadian", "河南鹤壁": "Hebi",
    # Hubei
    "湖北仙桃": "Xiantao", "湖北十堰": "Shiyan", "湖北咸宁": "Xianning", "湖北孝感": "Xiaogan",
    "湖北宜昌": "Yichang", "湖北恩施州": "Enshi", "湖北武汉": "Wuhan", "湖北潜江": "Qianjiang",
    "湖北荆州": "Jingzhou", "湖北荆门": "Jingmen", "湖北襄阳": "Xiangyang", "湖北鄂州": "Ezhou",
    "湖北随州": "Suizhou", "湖北黄冈": "Huanggang", "湖北黄石": "Huangshi",
    # Hunan
    "湖南岳阳": "Yueyang", "湖南常德": "Changde", "湖南张家界": "Zhangjiajie",
    "湖南怀化": "Huaihua", "湖南株洲": "Zhuzhou", "湖南永州": "Yongzhou", "湖南湘潭": "Xiangtan",
    "湖南湘西": "Xiangxi", "湖南益阳": "Yiyang", "湖南衡阳": "Hengyang", "湖南邵阳": "Shaoyang",
    "湖南郴州": "Chenzhou", "湖南长沙": "Changsha",
    # Guangdong
    "广东东莞": "Dongguan", "广东中山": "Zhongshan", "广东云浮": "Yunfu", "广东佛山": "Foshan",
    "广东广州": "Guangzhou", "广东惠州": "Huizhou", "广东揭阳": "Jieyang", "广东梅州": "Meizhou",
    "广东汕头": "Shantou", "广东汕尾": "Shanwei", "广东江门": "Jiangmen", "广东河源": "Heyuan",
    "广东深圳": "Shenzhen", "广东清远": "Qingyuan", "广东湛江": "Zhanjiang", "广东潮州": "Chaozhou",
    "广东珠海": "Zhuhai", "广东肇庆": "Zhaoqing", "广东茂名": "Maoming", "广东阳江": "Yangjiang",
    "广东韶关": "Shaoguan",
    # Guangxi
    "广西北海": "Beihai", "广西南宁": "Nanning", "广西崇左": "Chongzuo", "广西来宾": "Laibin",
    "广西柳州": "Liuzhou", "广西桂林": "Guilin", "广西梧州": "Wuzhou", "广西河池": "Hechi",
    "广西百色": "Baise", "广西贵港": "Guigang", "广西贺州": "Hezhou", "广西钦州": "Qinzhou",
    "广西防城港": "Fangchenggang",
    # Hainan
    "海南海口": "Haikou",
    # Sichuan
    "四川乐山": "Leshan", "四川内江": "Neijiang", "四川宜宾": "Yibin", "四川广元": "Guangyuan",
    "四川德阳": "Deyang", "四川成都": "Chengdu", "四川攀枝花": "Panzhihua", "四川泸州": "Luzhou",
    "四川甘孜": "Garze", "四川眉山": "Meishan", "四川绵阳": "Mianyang", "四川自贡": "Zigong",
    "四川资阳": "Ziyang", "四川遂宁": "Suining", "四川雅安": "Ya'an",
    # Guizhou
    "贵州六盘水": "Liupanshui", "贵州安顺": "Anshun", "贵州毕节": "Bijie", "贵州贵阳": "Guiyang",
    "贵州遵义": "Zunyi", "贵州铜仁": "Tongren", "贵州黔东南": "Qiandongnan",
    "贵州黔南": "Qiannan", "贵州黔西南": "Qianxinan",
    # Yunnan
    "云南大理": "Dali", "云南文山": "Wenshan", "云南昆明": "Kunming", "云南红河": "Honghe",
    # Shaanxi
    "陕西咸阳": "Xianyang", "陕西商洛": "Shangluo", "陕西安康": "Ankang", "陕西宝鸡": "Baoji",
    "陕西延安": "Yan'an", "陕西榆林": "Yulin", "陕西汉中": "Hanzhong", "陕西渭南": "Weinan",
    "陕西西安": "Xi'an",
    # Gansu
    "甘肃兰州": "Lanzhou", "甘肃嘉峪关": "Jiayuguan", "甘肃天水": "Tianshui", "甘肃定西": "Dingxi",
    "甘肃平凉": "Pingliang", "甘肃张掖": "Zhangye", "甘肃武威": "Wuwei", "甘肃白银": "Baiyin",
    "甘肃金昌": "Jinchang",
    # Qinghai, Ningxia
    "青海西宁": "Xining",
    "宁夏中卫": "Zhongwei", "宁夏吴忠": "Wuzhong", "宁夏石嘴山": "Shizuishan", "宁夏银川": "Yinchuan",
    # Xinjiang
    "新疆乌鲁木齐": "Urumqi", "新疆伊犁州直属县": "Ili", "新疆克孜勒苏": "Kizilsu",
    "新疆克拉玛依": "Karamay", "新疆博尔塔拉": "Bortala", "新疆吐鲁番": "Turpan",
    "新疆和田": "Hotan", "新疆哈密": "Hami", "新疆喀什": "Kashgar", "新疆塔城": "Tacheng",
    "新疆巴音郭楞": "Bayingolin", "新疆昌吉": "Changji", "新疆石河子": "Shihezi",
    "新疆阿克苏": "Aksu", "新疆阿勒泰": "Altay",
}

_PROV_ZH: dict[str, str] = dict(zip(province_table()["name_zh"], province_table()["region"], strict=True))
_MUNICIPALITIES = {"北京", "天津", "上海", "重庆"}


def _norm(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip()


def province_of(city_zh: str) -> str:
    """Canonical province of a CEADs city name, from its Chinese prefix.

    >>> province_of("内蒙古包头"), province_of("重庆")
    ('Inner Mongolia', 'Chongqing')

    Raises :class:`~carbonlab._util.ParameterError` if no prefix is one of the
    30 provinces' short Chinese names (e.g. a Tibetan city ``西藏拉萨``).
    """
    name = _norm(city_zh)
    if name in _MUNICIPALITIES:
        return _PROV_ZH[name]
    for n in (3, 2):  # 内蒙古, 黑龙江 before the two-character names
        pre = name[:n]
        if pre in _PROV_ZH and len(name) > n:
            return _PROV_ZH[pre]
    raise ParameterError(f"city {city_zh!r}: no province prefix among the 30 provinces")


@functools.cache
def _table() -> pd.DataFrame:
    df = pd.DataFrame({"city_zh": list(CITY_NAMES), "city": list(CITY_NAMES.values())})
    df["province"] = [province_of(c) for c in df["city_zh"]]
    dup = df["city"].duplicated(keep=False)
    df.loc[dup, "city"] = df.loc[dup, "city"] + " (" + df.loc[dup, "province"] + ")"
    order = {p: i for i, p in enumerate(PROVINCES)}
    df["_o"] = df["province"].map(order)
    return df.sort_values(["_o", "city"]).drop(columns="_o").reset_index(drop=True)


def city_table() -> pd.DataFrame:
    """The crosswalk: one row per CEADs city, columns city_zh, city (unique), province."""
    return _table().copy()


def english_name(city_zh: str) -> str:
    """English name of a CEADs city (unique; see :func:`city_table`).

    Raises :class:`~carbonlab._util.ParameterError` for a name not in the crosswalk.
    """
    t = _table()
    hit = t.loc[t["city_zh"] == _norm(city_zh), "city"]
    if hit.empty:
        raise ParameterError(f"city {city_zh!r} is not in the CEADs city crosswalk")
    return str(hit.iloc[0])


_ADMIN_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _strip_admin(name: str) -> str:
    """Drop administrative words: ``甘肃省兰州市`` -> ``甘肃兰州``, ``兰州市`` -> ``兰州``."""
    out = name
    if any("\u4e00" <= ch <= "\u9fff" for ch in out):
        for suf in _ADMIN_SUFFIXES:
            if out.endswith(suf) and len(out) > len(suf) + 1:
                out = out[: -len(suf)]
        for pre in sorted(_PROV_ZH, key=len, reverse=True):
            for word in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省"):
                if out.startswith(pre + word):
                    out = pre + out[len(pre) + len(word):]
    elif out.lower().endswith(" city"):
        out = out[:-5]
    return out


def resolve_city(name: str) -> str:
    """The CEADs ``city_zh`` key for a city given in Chinese (with or without the
    province prefix) or English (case-insensitive; ``Suzhou (Anhui)`` for the
    ambiguous four).

    Raises :class:`~carbonlab._util.ParameterError` for an unknown or ambiguous name.
    """
    t = _table()
    n = _strip_admin(_norm(name))
    if n in CITY_NAMES:
        return n
    hits = t.loc[t["city"].str.lower() == n.lower(), "city_zh"].tolist()
    if not hits:
        hits = [c for c in t["city_zh"] if c.endswith(n) and c != n and len(n) >= 2]
    if not hits:
        hits = t.loc[t["city"].str.lower().str.startswith(n.lower() + " ("), "city_zh"].tolist()
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        opts = ", ".join(t.loc[t["city_zh"].isin(hits), "city"])
        raise ParameterError(f"city {name!r} is ambiguous: {opts}")
    raise ParameterError(f"unknown city {name!r} (see carbonlab.data.cities.city_table())")



def match_city(cities: pd.DataFrame, name: str) -> str:
    """The ``city`` value of a cities table (``load_cities``) for any spelling of a city.

    Accepts the table's English name (case-insensitive), its ``city_zh`` and every Chinese
    form the CEADs crosswalk knows, with or without province prefix or 市/省
    (``"甘肃兰州"``, ``"兰州市"``, ``"甘肃省兰州市"``). Raises
    :class:`~carbonlab._util.ParameterError` naming the city when it is not in the table.
    """
    if "city" not in cities.columns:
        raise ParameterError("cities table: missing column city")
    names = [str(c) for c in pd.unique(cities["city"])]
    n = _norm(name)
    low = {c.lower(): c for c in names}
    if n.lower() in low:
        return low[n.lower()]
    stripped = _strip_admin(n)
    if stripped.lower() in low:
        return low[stripped.lower()]
    if "city_zh" in cities.columns:
        zh = dict(zip(cities["city_zh"].astype(str), cities["city"].astype(str), strict=False))
        for cand in (n, stripped):
            if cand in zh:
                return zh[cand]
    try:
        key = resolve_city(n)
    except ParameterError:
        key = None
    if key is not None:
        eng = english_name(key)
        if "city_zh" in cities.columns:
            hit = cities.loc[cities["city_zh"].astype(str) == key, "city"]
            if len(hit):
                return str(hit.iloc[0])
            short = key[len(_prefix_of(key)):]
            hit = cities.loc[cities["city_zh"].astype(str) == short, "city"]
            if len(hit):
                return str(hit.iloc[0])
        if eng in names:
            return eng
    raise ParameterError(f"city: {name!r} is not in the cities table "
                         f"({len(names)} cities, e.g. {', '.join(names[:4])})")


def _prefix_of(city_zh: str) -> str:  # the province prefix of a CEADs name
    if city_zh in _MUNICIPALITIES:
        return ""
    for n in (3, 2):
        if city_zh[:n] in _PROV_ZH and len(city_zh) > n:
            return city_zh[:n]
    return ""


def nowcast(cities: pd.DataFrame, province_totals: pd.DataFrame, until: int = 2022
            ) -> pd.DataFrame:
    """Extend each city's series to ``until`` with its province's growth (a nowcast).

    For a city whose last inventory year is ``T < until``, year ``t`` in ``T+1 ... until``
    gets ``city_T x province_t / province_T`` (Mt CO2): the city is assumed to grow as its
    province did. The rows are flagged ``nowcast = True`` (observed rows False); a city
    whose province has no total for a year is not extended past it. ``province_totals``
    is ``region, year, emissions_mt`` (e.g. CEADs' provincial totals); ``cities`` is the
    :func:`~carbonlab.data.load_cities` table (its ``province`` the canonical English name).
    """
    need = {"city", "province", "year", "emissions_mt"}
    if not need <= set(cities.columns):
        raise ParameterError(f"cities: missing columns {sorted(need - set(cities.columns))}")
    if not {"region", "year", "emissions_mt"} <= set(province_totals.columns):
        raise ParameterError("province_totals: needs columns region, year, emissions_mt")
    prov = province_totals.set_index(["region", "year"])["emissions_mt"].astype(float)
    obs = cities.copy()
    obs["nowcast"] = False
    new = []
    for _, d in obs.dropna(subset=["emissions_mt"]).groupby("city", sort=False):
        d = d[d["emissions_mt"] > 0]
        if d.empty:
            continue
        last = d.loc[d["year"].idxmax()]
        T, p = int(last["year"]), str(last["province"])
        if (p, T) not in prov.index or not prov[(p, T)] > 0:
            continue
        for t in range(T + 1, int(until) + 1):
            if (p, t) not in prov.index:
                break
            row = last.copy()
            row["year"] = t
            row["emissions_mt"] = float(last["emissions_mt"]) * float(prov[(p, t)] / prov[(p, T)])
            row["nowcast"] = True
            new.append(row)
    out = pd.concat([obs, pd.DataFrame(new)], ignore_index=True) if new else obs
    out = out.sort_values(["city", "year"], kind="stable").reset_index(drop=True)
    out["year"] = out["year"].astype(int)
    out["nowcast"] = out["nowcast"].astype(bool)
    out.attrs = {**cities.attrs, "nowcast_until": int(until)}
    return out
