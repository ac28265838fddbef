"""The generator of carbonlab's teaching panel (``data/teaching/``).

A synthetic but realistic world with a known truth, generated deterministically
from a seed (``carbonlab data teaching --write`` regenerates it; a test asserts
that the committed files are reproduced byte for byte):

1. **Drivers.** For each of the 30 provinces, smooth 2005→2021 paths of the 18
   drivers. The five true drivers start and end at plausible, province-specific
   values (``data/teaching/calibration.csv``); the private-car path is solved so
   that each province's 2021/2005 emissions ratio matches the calibration.
   The 13 other drivers are built from the true ones' province levels and trends
   plus independent components, so they are realistically correlated with them
   but have no effect.
2. **Emissions.** ln(CE/person) = α_i + Σ_k β_k x_k + ε, with the five
   semi-elasticities the provincial study reports (§2.2): non-fossil share −2.52,
   gas share −1.6, tertiary share −0.83, ln private cars +0.3575, primary share +1.13;
   α_i puts each province's 2005 level on the calibration; ε is AR(1).
3. **Fuel use.** CE is split into net imported electricity (CE2, a province path
   ending at the calibrated 2021 share) and fossil fuels (CE1); CE1 is spread over
   the 14 fuels so that natural gas + LNG make up the ``gas`` share of energy
   consumption and non-fossil energy the ``fossil`` share. Quantities are in
   physical units (10^4 t, 10^8 m³, 10^8 kWh), and the committed ``emissions_mt``
   is what :func:`carbonlab.accounting.account` computes from the committed
   quantities — so the accounting reproduces it exactly.
4. **Cities** (2002–2022), **targets** (non-fossil share 2025/2030) and the
   **truth** table.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

from carbonlab import accounting
from carbonlab._util import ParameterError, atomic_path, repo_root
from carbonlab.data.schemas import DRIVERS, ELECTRICITY, FUELS
from carbonlab.regions import PROVINCES
from carbonlab.units import UNITS

__all__ = ["SEED", "YEARS", "TRUE_COEFFICIENTS", "generate", "write", "FILES"]

SEED = 20240601
"""The seed of the committed teaching panel."""

YEARS = tuple(range(2005, 2022))
CITY_YEARS = tuple(range(2002, 2023))

TRUE_COEFFICIENTS: dict[str, float] = {
    "fossil": -2.52,
    "gas": -1.6,
    "tertrate": -0.83,
    "lcar": 0.3575,
    "first": 1.13,
}
"""Semi-elasticities of ln per-capita emissions (provincial study §2.2)."""

NOISE_SD = 0.025  # s.d. of the AR(1) innovation of ln per-capita emissions
NOISE_RHO = 0.3
FACTOR_SET = "ndrc2011"

FILES = ("panel.csv", "fuel_use.csv", "cities.csv", "targets.csv", "truth.csv", "README.md")

# Units in which each fuel's quantity is published in the energy statistics.
FUEL_UNITS: dict[str, str] = {
    **{f: "10^4 t" for f in ("raw_coal", "coke", "crude_oil", "gasoline", "kerosene", "diesel",
                             "fuel_oil", "lpg", "lng")},
    **{f: "10^8 m3" for f in ("coke_oven_gas", "blast_furnace_gas", "converter_gas", "other_gas",
                              "natural_gas")},
}
ELEC_UNIT = "10^8 kWh"

# Energy shares among non-gas fossil fuels: (low, high) of the province draw in 2005;
# coal falls and oil products rise over time.
_MIX_2005: dict[str, tuple[float, float]] = {
    "raw_coal": (0.62, 0.80),
    "coke": (0.04, 0.12),
    "coke_oven_gas": (0.008, 0.03),
    "blast_furnace_gas": (0.015, 0.05),
    "converter_gas": (0.002, 0.01),
    "other_gas": (0.002, 0.01),
    "crude_oil": (0.005, 0.04),
    "gasoline": (0.03, 0.07),
    "kerosene": (0.004, 0.025),
    "diesel": (0.05, 0.10),
    "fuel_oil": (0.005, 0.03),
    "lpg": (0.005, 0.02),
}
_MIX_TREND: dict[str, float] = {"raw_coal": -0.12, "gasoline": 0.35, "kerosene": 0.5, "lpg": 0.2,
                                "diesel": 0.05, "coke": -0.05, "fuel_oil": -0.3}

# The 13 drivers without effect: (2005 centre, 2005 spread, growth centre, growth spread,
# the true driver whose province level they follow, weight, lower, upper)
_OTHER: dict[str, tuple[float, float, float, float, str, float, float, float]] = {
    "lconsume": (np.log(6500), 0.30, 1.15, 0.15, "tertrate", 0.6, -np.inf, np.inf),
    "student": (1600.0, 600.0, 900.0, 350.0, "tertrate", 0.6, 300.0, 7000.0),
    "ltrade": (np.log(900), 1.2, 0.9, 0.35, "tertrate", 0.5, -np.inf, np.inf),
    "lrd": (np.log(60), 0.9, 1.9, 0.3, "tertrate", 0.5, -np.inf, np.inf),
    "urban": (0.45, 0.11, 0.15, 0.04, "tertrate", 0.7, 0.2, 0.95),
    "ledufund": (np.log(250), 0.5, 1.5, 0.2, "first", -0.3, -np.inf, np.inf),
    "college": (0.065, 0.035, 0.09, 0.03, "tertrate", 0.7, 0.01, 0.6),
    "lpatent": (np.log(800), 0.9, 2.5, 0.4, "tertrate", 0.5, -np.inf, np.inf),
    "ltourist": (np.log(500), 0.6, 0.25, 0.3, "first", 0.3, -np.inf, np.inf),
    "lfreight": (np.log(1500), 0.8, 0.9, 0.3, "first", 0.3, -np.inf, np.inf),
    "lenvfund": (np.log(15), 0.5, 2.0, 0.4, "gas", 0.3, -np.inf, np.inf),
    "lindustry": (np.log(2500), 0.8, 1.2, 0.3, "tertrate", -0.5, -np.inf, np.inf),
    "garbage": (0.50, 0.18, 0.45, 0.10, "tertrate", 0.5, 0.05, 1.0),
}

# Cities: (pinyin, Chinese, province, 2002 Mt, growth shape: total ratio 2022/2002,
# midpoint year of the logistic slow-down, pilot year or None)
_REPRESENTATIVES = [
    ("Beijing", "北京", "Beijing", 88.0, 1.35, 2008, 2012),
    ("Lanzhou", "兰州", "Gansu", 24.0, 1.85, 2016, 2013),
    ("Hohhot", "呼和浩特", "Inner Mongolia", 18.0, 2.9, 2019, 2015),
    ("Shangluo", "商洛", "Shaanxi", 2.6, 3.1, 2024, None),
]
_OTHER_CITIES = [
    ("Tianjin", "天津", "Tianjin"), ("Shijiazhuang", "石家庄", "Hebei"),
    ("Tangshan", "唐山", "Hebei"), ("Handan", "邯郸", "Hebei"), ("Taiyuan", "太原", "Shanxi"),
    ("Baotou", "包头", "Inner Mongolia"), ("Ordos", "鄂尔多斯", "Inner Mongolia"),
    ("Shenyang", "沈阳", "Liaoning"), ("Dalian", "大连", "Liaoning"),
    ("Changchun", "长春", "Jilin"), ("Harbin", "哈尔滨", "Heilongjiang"),
    ("Nanjing", "南京", "Jiangsu"), ("Wuxi", "无锡", "Jiangsu"), ("Hangzhou", "杭州", "Zhejiang"),
    ("Ningbo", "宁波", "Zhejiang"), ("Hefei", "合肥", "Anhui"), ("Fuzhou", "福州", "Fujian"),
    ("Xiamen", "厦门", "Fujian"), ("Nanchang", "南昌", "Jiangxi"), ("Jinan", "济南", "Shandong"),
    ("Qingdao", "青岛", "Shandong"), ("Zhengzhou", "郑州", "Henan"), ("Wuhan", "武汉", "Hubei"),
    ("Changsha", "长沙", "Hunan"), ("Guangzhou", "广州", "Guangdong"),
    ("Shenzhen", "深圳", "Guangdong"), ("Nanning", "南宁", "Guangxi"), ("Haikou", "海口", "Hainan"),
    ("Chengdu", "成都", "Sichuan"), ("Guiyang", "贵阳", "Guizhou"), ("Kunming", "昆明", "Yunnan"),
    ("Xi'an", "西安", "Shaanxi"), ("Yulin", "榆林", "Shaanxi"), ("Xining", "西宁", "Qinghai"),
    ("Yinchuan", "银川", "Ningxia"), ("Urumqi", "乌鲁木齐", "Xinjiang"),
]


def _calibration(folder: Path) -> pd.DataFrame:
    cal = pd.read_csv(folder / "calibration.csv")
    if list(cal["region"]) != list(PROVINCES):
        raise ParameterError(f"{folder / 'calibration.csv'}: regions must be the 30 provinces in "
                             "carbonlab.regions.PROVINCES order")
    return cal.set_index("region")


def _shape(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    """Province paths s(t) in [0, 1] over YEARS with random curvature exponents."""
    tau = (np.asarray(YEARS) - YEARS[0]) / (YEARS[-1] - YEARS[0])
    p = rng.uniform(lo, hi, size=(n, 1))
    return tau[None, :] ** p


def _ar1(rng: np.random.Generator, shape: tuple[int, int], sd: float, rho: float) -> np.ndarray:
    e = rng.normal(0.0, sd, size=shape)
    out = np.empty(shape)
    out[:, 0] = e[:, 0] / np.sqrt(1 - rho**2)
    for t in range(1, shape[1]):
        out[:, t] = rho * out[:, t - 1] + e[:, t]
    return out


def _bridge(rng: np.random.Generator, n: int, sd: float) -> np.ndarray:
    """AR(1) noise pinned to zero at the first and last year (keeps the end points)."""
    z = _ar1(rng, (n, len(YEARS)), sd, 0.6)
    tau = np.linspace(0.0, 1.0, len(YEARS))[None, :]
    return z - (1 - tau) * z[:, :1] - tau * z[:, -1:]


def _standardise(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


def _drivers(rng: np.random.Generator, cal: pd.DataFrame) -> dict[str, np.ndarray]:
    """Driver paths (30 × 17 arrays) except lcar, which is solved later."""
    n = len(cal)
    x: dict[str, np.ndarray] = {}
    # driver -> (calibration.csv column prefix, range of the path's curvature exponent)
    for d, (col, lo_hi) in {"fossil": ("nf", (0.7, 1.5)), "gas": ("gas", (0.8, 1.6)),
                            "tertrate": ("tert", (0.7, 1.3)),
                            "first": ("first", (0.6, 1.4))}.items():
        a = cal[f"{col}2005"].to_numpy()
        b = cal[f"{col}2021"].to_numpy()
        s = _shape(rng, n, *lo_hi)
        span = np.abs(b - a)[:, None] + 0.01
        path = a[:, None] + (b - a)[:, None] * s + _bridge(rng, n, 0.04) * span
        x[d] = np.clip(path, 0.001, 0.95)
    # the 13 others
    levels = {d: _standardise(x[d][:, 0]) for d in ("tertrate", "first", "gas")}
    trends = {d: _standardise(x[d][:, -1] - x[d][:, 0]) for d in ("tertrate", "first", "gas")}
    for d, (c0, s0, g0, gs, link, w, lo, hi) in _OTHER.items():
        ww = np.sqrt(1 - w**2)
        z0 = w * levels[link] + ww * rng.normal(size=n)
        zg = abs(w) * trends[link] + ww * rng.normal(size=n)
        start = c0 + s0 * z0
        growth = g0 + gs * zg
        s = _shape(rng, n, 0.5, 1.6)
        noise_sd = 0.02 * (abs(g0) + gs) + (0.01 if np.isfinite(lo) else 0.02)
        path = start[:, None] + growth[:, None] * s + _ar1(rng, (n, len(YEARS)), noise_sd, 0.5)
        if d == "ltourist":  # the 2020 collapse of passenger travel, common to all provinces
            path[:, YEARS.index(2020):] -= 0.45
            path[:, YEARS.index(2021):] += 0.15
        if d == "garbage":  # saturating towards full treatment
            path = 1 - (1 - start[:, None]) * np.exp(-2.5 * s * growth[:, None] / 0.45)
            path += _ar1(rng, (n, len(YEARS)), 0.01, 0.5)
        x[d] = np.clip(path, lo, hi)
    return x


def _solve_cars(cal: pd.DataFrame, x: dict[str, np.ndarray], rng: np.random.Generator
                ) -> np.ndarray:
    """ln private-car paths whose growth reproduces the calibrated emissions ratios."""
    n = len(cal)
    pop05 = cal["pop2005_10k"].to_numpy()
    pop21 = cal["pop2021_10k"].to_numpy()
    target = np.log(cal["ce2021_mt"].to_numpy() / pop21) - np.log(cal["ce2005_mt"].to_numpy() / pop05)
    others = sum(TRUE_COEFFICIENTS[d] * (x[d][:, -1] - x[d][:, 0])
                 for d in TRUE_COEFFICIENTS if d != "lcar")
    growth = np.clip((target - others) / TRUE_COEFFICIENTS["lcar"], np.log(2.5), np.log(90.0))
    cars05 = cal["cars_per_person2005"].to_numpy() * pop05
    s = _shape(rng, n, 0.55, 0.9)  # concave: car ownership growth slows down
    return np.log(cars05)[:, None] + growth[:, None] * s + _bridge(rng, n, 0.03)


def _population(cal: pd.DataFrame) -> np.ndarray:
    a = cal["pop2005_10k"].to_numpy()[:, None]
    b = cal["pop2021_10k"].to_numpy()[:, None]
    tau = (np.asarray(YEARS) - YEARS[0]) / (YEARS[-1] - YEARS[0])
    return a * (b / a) ** tau[None, :]


def _fuel_mix(rng: np.random.Generator, n: int) -> np.ndarray:
    """Energy shares of the 12 non-gas fossil fuels: (province, year, fuel)."""
    names = list(_MIX_2005)
    base = np.column_stack([rng.uniform(*_MIX_2005[f], size=n) for f in names])
    tau = (np.asarray(YEARS) - YEARS[0]) / (YEARS[-1] - YEARS[0])
    trend = np.array([_MIX_TREND.get(f, 0.0) for f in names])
    mix = base[:, None, :] * np.exp(trend[None, None, :] * tau[None, :, None])
    return mix / mix.sum(axis=2, keepdims=True)


def generate(seed: int = SEED, folder: str | os.PathLike[str] | None = None
             ) -> dict[str, pd.DataFrame | str]:
    """Generate the teaching panel; returns the tables (and the data card text) by file name."""
    folder = Path(folder) if folder is not None else repo_root() / "data" / "teaching"
    cal = _calibration(folder)
    rng = np.random.default_rng(seed)
    n, T = len(cal), len(YEARS)
    x = _drivers(rng, cal)
    x["lcar"] = _solve_cars(cal, x, rng)
    for d in x:
        x[d] = np.round(x[d], 6)
    pop = np.round(_population(cal), 2)

    # emissions from the true model
    lin = sum(TRUE_COEFFICIENTS[d] * x[d] for d in TRUE_COEFFICIENTS)
    alpha = np.log(cal["ce2005_mt"].to_numpy() * 1e6 / (pop[:, 0] * 1e4)) - lin[:, 0]
    eps = _ar1(rng, (n, T), NOISE_SD, NOISE_RHO)
    ln_pc = alpha[:, None] + lin + eps
    ce_target = np.exp(ln_pc) * pop * 1e4 / 1e6  # Mt

    # split into net imported electricity and fossil fuels
    elec21 = cal["elec2021"].to_numpy()
    tau = (np.asarray(YEARS) - YEARS[0]) / (YEARS[-1] - YEARS[0])
    elec_share = elec21[:, None] * (0.55 + 0.45 * tau[None, :]) + _bridge(rng, n, 0.01)
    ce2 = ce_target * elec_share
    ce1 = ce_target - ce2

    ef = accounting.emission_factors(FACTOR_SET)
    regions = np.repeat(np.asarray(PROVINCES), T)
    years = np.tile(np.asarray(YEARS), n)
    ecf = accounting.electricity_factors(list(PROVINCES), list(YEARS))
    ecf = ecf.set_index(["region", "year"])["factor_tco2_per_kwh"]
    ecf = ecf.reindex(pd.MultiIndex.from_arrays([regions, years])).to_numpy().reshape(n, T)
    nec = ce2 * 1e6 / ecf / UNITS[ELEC_UNIT][1]  # 10^8 kWh

    mix = _fuel_mix(rng, n)  # (n, T, 12) energy shares among non-gas fossil fuels
    non_gas = list(_MIX_2005)
    lng_share = 0.04 + 0.16 * tau[None, :] * rng.uniform(0.3, 1.0, size=(n, 1))
    tco2_per_tj = ef["tco2_per_base"] / ef["tj_per_base"]  # t CO2 per TJ
    ef_other = (mix * tco2_per_tj[non_gas].to_numpy()[None, None, :]).sum(axis=2)
    ef_gas = (1 - lng_share) * tco2_per_tj["natural_gas"] + lng_share * tco2_per_tj["lng"]
    g, nf = x["gas"], x["fossil"]
    if np.any(1 - g - nf <= 0.05):
        raise ParameterError("teaching generator: gas + non-fossil shares leave no room for coal/oil")
    e_tot = ce1 * 1e6 / (g * ef_gas + (1 - g - nf) * ef_other)  # TJ of energy consumption
    energy = {f: e_tot * (1 - g - nf) * mix[:, :, i] for i, f in enumerate(non_gas)}
    energy["natural_gas"] = e_tot * g * (1 - lng_share)
    energy["lng"] = e_tot * g * lng_share

    rows = []
    for f in FUELS:
        unit = FUEL_UNITS[f]
        q = energy[f] / ef.loc[f, "tj_per_base"] / UNITS[unit][1]
        rows.append(pd.DataFrame({"region": regions, "year": years, "fuel": f,
                                  "quantity": np.round(q.ravel(), 4), "unit": unit}))
    rows.append(pd.DataFrame({"region": regions, "year": years, "fuel": ELECTRICITY,
                              "quantity": np.round(nec.ravel(), 4), "unit": ELEC_UNIT}))
    fuel_use = pd.concat(rows, ignore_index=True).sort_values(["region", "year", "fuel"],
                                                               key=_region_order)
    fuel_use = fuel_use.reset_index(drop=True)
    # the committed emissions are what the accounting makes of the committed quantities
    fuel_use = pd.read_csv(io.StringIO(fuel_use.to_csv(index=False)))
    acc = accounting.account(fuel_use, factors=FACTOR_SET).set_index(["region", "year"])

    panel = pd.DataFrame({"region": regions, "year": years, "population_10k": pop.ravel()})
    panel["emissions_mt"] = acc["ce_mt"].reindex(
        pd.MultiIndex.from_arrays([regions, years])).to_numpy()
    for d in DRIVERS:
        panel[d] = x[d].ravel()

    cities = _cities(rng)
    targets = _targets(rng, cal, x)
    truth = pd.DataFrame({
        "driver": list(DRIVERS),
        "coefficient": [TRUE_COEFFICIENTS.get(d, 0.0) for d in DRIVERS],
        "true": [d in TRUE_COEFFICIENTS for d in DRIVERS],
        "unit": [DRIVERS[d][1] for d in DRIVERS],
    })
    card = _card(seed, cal, panel, acc)
    return {"panel.csv": panel, "fuel_use.csv": fuel_use, "cities.csv": cities,
            "targets.csv": targets, "truth.csv": truth, "README.md": card}


def _region_order(col: pd.Series) -> pd.Series:
    if col.name == "region":
        return col.map({r: i for i, r in enumerate(PROVINCES)})
    return col


def _cities(rng: np.random.Generator) -> pd.DataFrame:
    yrs = np.asarray(CITY_YEARS, dtype=float)
    out = []
    specs = list(_REPRESENTATIVES)
    batches = [2012, 2013, 2015, None]
    for name, zh, prov in _OTHER_CITIES:
        base = float(np.exp(rng.uniform(np.log(8), np.log(80))))
        ratio = float(rng.uniform(1.2, 3.0))
        mid = int(rng.integers(2008, 2027))
        pilot = batches[int(rng.integers(0, 4))]
        specs.append((name, zh, prov, base, ratio, mid, pilot))
    for name, zh, prov, base, ratio, mid, pilot in specs:
        # logistic approach to a plateau: E(2002) = base, E(2022) ≈ base·ratio
        k = 0.22
        s = 1 / (1 + np.exp(-k * (yrs - mid)))
        s = (s - s[0]) / (s[-1] - s[0])
        path = base * np.exp(np.log(ratio) * s)
        noise = np.exp(_ar1(rng, (1, len(yrs)), 0.025, 0.4)[0])
        out.append(pd.DataFrame({
            "city": name, "city_zh": zh, "province": prov, "year": CITY_YEARS,
            "emissions_mt": np.round(path * noise, 4),
            "pilot_year": pd.array([pilot] * len(yrs), dtype="Int64"),
        }))
    return pd.concat(out, ignore_index=True)


def _targets(rng: np.random.Generator, cal: pd.DataFrame, x: dict[str, np.ndarray]
             ) -> pd.DataFrame:
    nf21 = x["fossil"][:, -1]
    t25 = np.round(np.minimum(nf21 + rng.uniform(0.025, 0.055, size=len(nf21)), 0.7), 3)
    t30 = np.round(np.minimum(t25 + rng.uniform(0.035, 0.07, size=len(nf21)), 0.75), 3)
    rows = []
    for i, r in enumerate(cal.index):
        rows.append((r, "fossil", 2025, t25[i]))
        rows.append((r, "fossil", 2030, t30[i]))
    return pd.DataFrame(rows, columns=["region", "driver", "year", "value"])


def _card(seed: int, cal: pd.DataFrame, panel: pd.DataFrame, acc: pd.DataFrame) -> str:
    by = panel.pivot(index="region", columns="year", values="emissions_mt").loc[list(PROVINCES)]
    tab = pd.DataFrame({
        "2005 target (Mt)": cal["ce2005_mt"], "2005 panel (Mt)": by[2005].round(1),
        "2021 target (Mt)": cal["ce2021_mt"], "2021 panel (Mt)": by[2021].round(1),
    })
    tab["2005 dev. %"] = (100 * (tab["2005 panel (Mt)"] / tab["2005 target (Mt)"] - 1)).round(1)
    tab["2021 dev. %"] = (100 * (tab["2021 panel (Mt)"] / tab["2021 target (Mt)"] - 1)).round(1)
    lines = [
        "# The carbonlab teaching panel (synthetic)",
        "",
        f"Generated by `carbonlab.synth.generate(seed={seed})`; regenerate with "
        "`carbonlab data teaching --write` (a test checks the files are reproduced byte for byte).",
        "**Synthetic data for teaching: not statistics of any real province or city.**",
        "",
        "## Files",
        "- `panel.csv`: 30 provinces × 2005–2021 (510 rows): `region`, `year`, `population_10k` "
        "(10^4 persons), `emissions_mt` (Mt CO2, CE = CE1 + CE2), and the 18 drivers of the "
        "provincial study (names and units in CONTRIBUTING.md and `carbonlab.data.DRIVERS`).",
        "- `fuel_use.csv`: tidy `region, year, fuel, quantity, unit`: the 14 fuels in physical "
        "units (10^4 t; 10^8 m3 for gases) and `net_electricity` (10^8 kWh, negative = net export).",
        "- `cities.csv`: 40 cities × 2002–2022: `city, city_zh, province, year, emissions_mt, "
        "pilot_year` (2012/2013/2015 or empty = never). The four representatives of the city study "
        "carry its pilot batches (Beijing 2012, Lanzhou 2013, Hohhot 2015, Shangluo never); the "
        "others' batches are random teaching assignments, not the official lists.",
        "- `targets.csv`: per province, plausible non-fossil share (`fossil`) targets for 2025 and "
        "2030 (around the national 20 %/25 %).",
        "- `truth.csv`: the true driver model.",
        "- `calibration.csv` (input, hand-made): province levels and driver end points; its "
        "`ce_source` column says which emissions figures come from the provincial study's §2.1 "
        "and which are assumptions.",
        "",
        "## What is true",
        "ln(emissions per person, t) = α_province + Σ β_k·x_k + ε, with ε AR(1) "
        f"(ρ = {NOISE_RHO}, innovation s.d. {NOISE_SD}) and",
        "",
        "| driver | β (semi-elasticity) |",
        "|---|---|",
        *[f"| `{k}` | {v:+.4g} |" for k, v in TRUE_COEFFICIENTS.items()],
        "",
        "The other 13 drivers have β = 0 but follow the true drivers' province levels and trends, "
        "so they are correlated with them. Shares are fractions: a 0.01 rise in `fossil` lowers "
        "emissions by 2.52 %. `gas` and `fossil` are also the energy shares of natural gas (incl. "
        "LNG) and of non-fossil energy implied by `fuel_use.csv`.",
        "",
        f"The emissions are exactly what `carbonlab.accounting.account(fuel_use, factors=\"{FACTOR_SET}\")` "
        "computes from `fuel_use.csv` (the committed quantities, rounded to 4 decimals).",
        "",
        "## Calibration (2005 and 2021 totals vs the targets, ±15 % allowed)",
        "",
        _markdown(tab.reset_index()),
        "",
    ]
    return "\n".join(lines)


def _markdown(df: pd.DataFrame) -> str:
    """A plain Markdown table (no optional dependency, stable bytes)."""
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def write(folder: str | os.PathLike[str] | None = None, seed: int = SEED) -> list[Path]:
    """Generate and write the teaching panel files atomically; returns the paths written."""
    folder = Path(folder) if folder is not None else repo_root() / "data" / "teaching"
    tables = generate(seed=seed, folder=folder)
    paths = []
    for name in FILES:
        obj = tables[name]
        with atomic_path(folder / name) as tmp:
            if isinstance(obj, str):
                tmp.write_text(obj, encoding="utf-8")
            else:
                obj.to_csv(tmp, index=False, lineterminator="\n")
        paths.append(folder / name)
    return paths


def render(seed: int = SEED, folder: str | os.PathLike[str] | None = None) -> dict[str, bytes]:
    """The bytes each file would have (used by the byte-identity test)."""
    tables = generate(seed=seed, folder=folder)
    out = {}
    for name in FILES:
        obj = tables[name]
        out[name] = (obj if isinstance(obj, str) else obj.to_csv(index=False, lineterminator="\n")
                     ).encode("utf-8")
    return out
