"""The generator of carbonlab's teaching panel (``data/teaching/``).

A synthetic but realistic world with a known truth, generated deterministically
from a seed (``carbonlab data teaching --write`` regenerates it; a test asserts
that the committed files are reproduced byte for byte):

1. **Drivers.** For each of the 30 provinces, smooth 2005→2021 paths of the 18
   drivers, calibrated to published magnitudes (``data/teaching/calibration_targets.csv``,
   every figure with its source): the province emissions the provincial study states
   in §2.1 (±5 %) and national aggregates of the drivers from NBS statistics (±10 %).
   The four share drivers start and end near plausible province values
   (``calibration.csv``); private cars per person follow an S-curve (logistic) in
   income; the 2021 end points are moved the least (weighted least squares) so that
   the true model reproduces each province's 2005→2021 emissions change, and where
   the study states intermediate figures the drivers follow them (see
   :func:`_true_paths`). The 13 other drivers are built from the true ones' province
   levels and trends plus independent components, so they are realistically
   correlated with them but have no effect.
2. **Emissions.** ln(CE/person) = α_i + Σ_k β_k x_k + ε, with the five
   semi-elasticities the provincial study reports (§2.2): non-fossil share −2.52,
   gas share −1.6, tertiary share −0.83, ln private cars +0.3575, primary share +1.13;
   α_i puts each province's 2005 level on the calibration; ε is AR(1), zero in the
   years with a calibration figure.
3. **Fuel use.** CE is split into net imported electricity (CE2, a province path
   ending at the calibrated 2021 share) and fossil fuels (CE1); CE1 is spread over
   the 14 fuels so that natural gas + LNG make up the ``gas`` share of energy
   consumption and non-fossil energy the ``fossil`` share. Quantities are in
   physical units (10^4 t, 10^8 m³, 10^8 kWh), and the committed ``emissions_mt``
   is what :func:`carbonlab.accounting.account` computes from the committed
   quantities — so the accounting reproduces it exactly.
4. **Cities** (2002–2022), **targets** (non-fossil share 2025/2030, gas share 2025)
   and the **truth** table. :func:`check_calibration` and :func:`national_aggregates`
   compare the panel with every target.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonlab import accounting
from carbonlab._util import ParameterError, atomic_path, repo_root
from carbonlab.data.drivers import DRIVERS
from carbonlab.data.drivers import teaching_drivers as _teaching_drivers
from carbonlab.data.schemas import ELECTRICITY, FUELS
from carbonlab.regions import PROVINCES
from carbonlab.units import UNITS

__all__ = ["SEED", "YEARS", "TRUE_COEFFICIENTS", "INTERACTION", "true_index", "true_design", "describe_truth",
           "linear_misfit", "generate", "write", "render", "FILES",
           "calibration_targets", "check_calibration", "national_aggregates", "energy_consumption"]

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
"""Semi-elasticities of ln per-capita emissions (provincial study §2.2); for ``fossil``, the
effect at the reference service share :data:`INTERACTION` ``["reference"]``."""

INTERACTION: dict[str, float | str] = {"driver": "fossil", "by": "tertrate", "floor": 0.35,
                                       "reference": 0.533}
"""The truth's nonlinearity: the non-fossil share's effect scales with the service share.

The term is ``β_fossil · fossil · (tertrate − floor) / (reference − floor)``: at the
reference service share (53.3 %, China 2021, NBS) a point of non-fossil energy lowers
emissions per person by 2.52 % as in the study; at a 42 % service share (an industrial
province) by 0.96 %, at 75 % by 5.5 %; no effect at or below the floor (35 %). Non-fossil electricity displaces the fossil fuel of power and
heat, not the coal and coke burnt directly in industry, so it bites less where industry
dominates. The product of two drivers is what a linear panel cannot represent.
"""

NOISE_SD = 0.025  # s.d. of the AR(1) innovation of ln per-capita emissions
NOISE_RHO = 0.3
CAR_SATURATION = 0.22  # private cars per person at saturation (at least CAR_HEADROOM × the 2021 level)
CAR_HEADROOM = 1.8
CAR_MAX_LATE_GROWTH = 0.15  # at most 15 %/yr growth of a province's cars in 2017-2021 (less K)
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
    "urban": (0.442, 0.11, 0.205, 0.04, "tertrate", 0.7, 0.2, 0.95),
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


def calibration_targets(folder: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The calibration targets (``calibration_targets.csv``), each row with its source.

    Columns ``region`` ("China" for a 30-province aggregate), ``quantity`` (a panel
    column, ``ce1_mt``, ``emissions_ratio`` or ``cars_10k``), ``first_year``,
    ``last_year``, ``low``, ``high`` (blank: no upper bound), ``unit``, ``tolerance``
    (relative), ``basis`` (study / study (reading) / NBS / assumption) and ``source``.
    """
    folder = Path(folder) if folder is not None else repo_root() / "data" / "teaching"
    path = folder / "calibration_targets.csv"
    t = pd.read_csv(path)
    need = ["region", "quantity", "first_year", "last_year", "low", "high", "unit",
            "tolerance", "basis", "source"]
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise ParameterError(f"{path}: missing column(s) {', '.join(missing)}")
    bad = ~t["region"].isin([*PROVINCES, "China"])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParameterError(f"{path}, line {i + 2}, column region: unknown region {t['region'][i]!r}")
    return t


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


def true_design(frame: pd.DataFrame, truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame``'s driver columns with the scaled driver replaced by its true form.

    ``fossil`` becomes ``fossil · (tertrate − floor)/(reference − floor)`` (the interaction of
    :data:`INTERACTION`), so a model linear in the returned columns is the true model's
    form: regress ln emissions per capita on them (e.g. BMA) to see the truth recovered.
    """
    _, inter = _truth_params(truth)
    out = frame.copy()
    if inter:
        out[inter["driver"]] = out[inter["driver"]].to_numpy(dtype=float) * _scale_of(out, inter)
    return out


def describe_truth(truth: pd.DataFrame | None = None) -> str:
    """One paragraph saying what the teaching world's true emission model is.

    Read from ``truth`` (a table like ``truth.csv``; default this module's constants), so
    a chapter quotes the truth rather than types it.
    """
    coef, inter = _truth_params(truth)
    d, by = inter.get("driver"), inter.get("by")
    lin = [f"{'−' if b < 0 else '+'} {abs(b):.4g}·{k}" for k, b in coef.items() if k != d]
    if not inter:
        return ("The truth is linear: ln(t CO2/person) = province effect "
                + " ".join(lin) + " + AR(1) noise; a linear panel model can represent it.")
    lo, ref = float(inter["floor"]), float(inter["reference"])
    b = coef[d]
    at = {s_: -100 * b * max(s_ - lo, 0) / (ref - lo) / 100 for s_ in (0.42, ref, 0.75)}
    return (f"The truth: ln(t CO2/person) = province effect {' '.join(lin)} "
            f"{'−' if b < 0 else '+'} {abs(b):.4g}·{d}·({by} − {lo:g})/({ref:g} − {lo:g}) + AR(1) "
            "noise. The non-fossil "
            f"share's effect scales with the service share: a point of non-fossil energy lowers "
            f"emissions per person by {at[ref]:.2f} % at a {100 * ref:.1f} % service share (the "
            f"study's coefficient), by {at[0.42]:.2f} % at 42 % (an industrial province) and by "
            f"{at[0.75]:.2f} % at 75 %, and not at all at or below {100 * lo:g} %; non-fossil electricity "
            "displaces the fuel of power and heat, not the coal and coke burnt in industry. "
            f"The product of two drivers ({d} × {by}) is a nonlinearity a model linear in the "
            "drivers (panel FE) cannot represent; the other 13 drivers have no effect.")


def linear_misfit(panel: pd.DataFrame, truth: pd.DataFrame | None = None) -> dict[str, float]:
    """What a linear panel model misses of the truth, on ``panel``'s own drivers, noise-free.

    The within-province least-squares fit of the true index (:func:`true_index`, no noise)
    on the five true drivers, i.e. panel FE on a noise-free world (the province effects
    absorb α). Returns ``residual_sd`` and ``residual_max`` (ln units: 0.01 ≈ 1 %),
    ``noise_sd`` (the world's noise, for scale), ``interaction_r2`` (share of the residual
    the within-demeaned product term of :data:`INTERACTION` explains: 1 = all of the misfit
    is the interaction) and ``max_region_trend`` (largest province slope of the residual
    over the years, ln per year: the misfit is a drift, not noise).
    """
    coef, inter = _truth_params(truth)
    for c in ("region", "year", *coef):
        if c not in panel.columns:
            raise ParameterError(f"panel: missing column {c!r}")
    reg = panel["region"].to_numpy()

    def within(v: np.ndarray) -> np.ndarray:
        return v - pd.Series(v).groupby(reg).transform("mean").to_numpy()

    y = within(true_index(panel, truth))
    X = np.column_stack([within(panel[k].to_numpy(dtype=float)) for k in coef])
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ b
    r2 = float("nan")
    if inter:
        z = within(panel[inter["driver"]].to_numpy(dtype=float) * panel[inter["by"]].to_numpy(dtype=float))
        Z = np.column_stack([X, z])
        bz, *_ = np.linalg.lstsq(Z, y, rcond=None)
        r2 = float(1 - np.sum((y - Z @ bz) ** 2) / np.sum(r ** 2))
    yrs = panel["year"].to_numpy(dtype=float)
    trends = [np.polyfit(yrs[reg == g], r[reg == g], 1)[0] for g in pd.unique(reg)]
    return {"residual_sd": float(np.std(r)), "residual_max": float(np.max(np.abs(r))),
            "noise_sd": float(NOISE_SD / np.sqrt(1 - NOISE_RHO ** 2)), "interaction_r2": r2,
            "max_region_trend": float(np.max(np.abs(trends)))}


def _truth_params(truth: pd.DataFrame | None) -> tuple[dict[str, float], dict[str, Any]]:
    """(β by driver, the interaction) from a truth table (``truth.csv``) or the module's."""
    if truth is None:
        return dict(TRUE_COEFFICIENTS), dict(INTERACTION)
    coef = {str(d): float(b) for d, b in zip(truth["driver"], truth["coefficient"], strict=True)
            if b != 0}
    inter: dict[str, Any] = {}
    if "scaled_by" in truth.columns:
        rows = truth[truth["scaled_by"].fillna("").astype(str).str.len() > 0]
        if len(rows) > 1:
            raise ParameterError("truth.csv, column scaled_by: at most one driver may be scaled")
        if len(rows):
            r = rows.iloc[0]
            inter = {"driver": str(r["driver"]), "by": str(r["scaled_by"]),
                     "floor": float(r["floor"]), "reference": float(r["reference"])}
    return coef, inter


def true_index(x: Mapping[str, Any], truth: pd.DataFrame | None = None) -> np.ndarray:
    """The drivers' part of the true ln(t CO2/person), the province effect α aside.

    ``Σ_k β_k x_k`` with the interaction of :data:`INTERACTION`: the ``fossil`` term is
    ``β_fossil · fossil · (tertrate − floor) / (reference − floor)``. ``x`` maps driver
    names to arrays (or is a DataFrame with the five true drivers); ``truth`` a table like
    ``truth.csv`` (default: this module's constants). Shares in fractions, ``lcar`` in
    ln(10^4 vehicles).
    """
    coef, inter = _truth_params(truth)
    out: Any = 0.0
    for d, b in coef.items():
        v = np.asarray(x[d], dtype=float)
        if inter and d == inter["driver"]:
            v = v * _scale_of(x, inter)
        out = out + b * v
    return np.asarray(out, dtype=float)


def _scale_of(x: Mapping[str, Any], inter: Mapping[str, Any]) -> np.ndarray:
    by = np.asarray(x[inter["by"]], dtype=float)
    lo = float(inter["floor"])
    return np.maximum(by - lo, 0.0) / (float(inter["reference"]) - lo)


def _true_gradient(x: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """∂ :func:`true_index` / ∂ x_k for the five true drivers (arrays like ``x``'s)."""
    b, inter = TRUE_COEFFICIENTS, INTERACTION
    d, by = str(inter["driver"]), str(inter["by"])
    width = float(inter["reference"]) - float(inter["floor"])
    shape = np.shape(np.asarray(x[d], dtype=float))
    g = {k: np.full(shape, v) for k, v in b.items()}
    g[d] = b[d] * _scale_of(x, inter)
    above = np.asarray(x[by], dtype=float) > float(inter["floor"])
    g[by] = b[by] + b[d] * np.asarray(x[d], dtype=float) / width * above
    return g


# driver -> (calibration.csv column prefix, range of the path's curvature exponent, the
# scale (driver units) over which it absorbs the shape of the stated emission paths)
_FLATTENING: dict[str, tuple[float, float]] = {"tertrate": (1.6, 2.6), "first": (1.6, 2.6)}
"""Shares whose path flattens towards 2021, ``s = 1 − (1 − τ)^q`` with q drawn in the range
(the service and primary shares plateau, as China's did after 2015), so their rolled-forward
trends are small."""
_SHARES: dict[str, tuple[str, tuple[float, float], float]] = {
    "fossil": ("nf", (0.7, 1.5), 0.03), "gas": ("gas", (0.8, 1.6), 0.01),
    "tertrate": ("tert", (0.7, 1.3), 0.03), "first": ("first", (0.6, 1.4), 0.015),
}


def _drivers(rng: np.random.Generator, cal: pd.DataFrame
             ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Driver paths (30 × 17 arrays) except lcar, and the smooth part of ``lconsume``."""
    n = len(cal)
    x: dict[str, np.ndarray] = {}
    for d, (col, lo_hi, _) in _SHARES.items():
        a = cal[f"{col}2005"].to_numpy()
        b = cal[f"{col}2021"].to_numpy()
        if d in _FLATTENING:
            s = 1 - _shape(rng, n, *_FLATTENING[d])[:, ::-1]
        else:
            s = _shape(rng, n, *lo_hi)
        span = np.abs(b - a)[:, None] + 0.01
        path = a[:, None] + (b - a)[:, None] * s + _bridge(rng, n, 0.04) * span
        x[d] = np.clip(path, 0.001, 0.95)
    # the 13 others
    levels = {d: _standardise(x[d][:, 0]) for d in ("tertrate", "first", "gas")}
    trends = {d: _standardise(x[d][:, -1] - x[d][:, 0]) for d in ("tertrate", "first", "gas")}
    income = np.empty(0)
    for d, (c0, s0, g0, gs, link, w, lo, hi) in _OTHER.items():
        ww = np.sqrt(1 - w**2)
        z0 = w * levels[link] + ww * rng.normal(size=n)
        zg = abs(w) * trends[link] + ww * rng.normal(size=n)
        start = c0 + s0 * z0
        growth = g0 + gs * zg
        # income (ln consumption) grows at a near-constant rate; the others bend more
        s = _shape(rng, n, 0.85, 1.15) if d == "lconsume" else _shape(rng, n, 0.5, 1.6)
        noise_sd = 0.02 * (abs(g0) + gs) + (0.01 if np.isfinite(lo) else 0.02)
        smooth = start[:, None] + growth[:, None] * s
        path = smooth + _ar1(rng, (n, len(YEARS)), noise_sd, 0.5)
        if d == "lconsume":
            income = smooth
        if d == "ltourist":  # the 2020 collapse of passenger travel, common to all provinces
            path[:, YEARS.index(2020):] -= 0.45
            path[:, YEARS.index(2021):] += 0.15
        if d == "garbage":  # saturating towards full treatment
            path = 1 - (1 - start[:, None]) * np.exp(-2.5 * s * growth[:, None] / 0.45)
            path += _ar1(rng, (n, len(YEARS)), 0.01, 0.5)
        x[d] = np.clip(path, lo, hi)
    return x, income


def _anchors(rng: np.random.Generator, cal: pd.DataFrame, targets: pd.DataFrame
             ) -> list[dict[int, float]]:
    """Per province, {year: emissions (Mt)} the panel passes through (from the targets).

    Point figures are used as stated; a lower bound ("passed 4 亿t in 2011") as 3 %
    above it; a plateau or range ("about 1.2 亿t in 2015–2021") as its middle with a
    ±1.5 % year-to-year wobble; a ratio (2021/2005) fills the end it does not state.
    Point figures win over a plateau in the same year.
    """
    out = []
    t = targets[targets["quantity"].isin(["emissions_mt", "emissions_ratio"])]
    for region in cal.index:
        g = t[t["region"] == region]
        point: dict[int, float] = {}
        plateau: dict[int, float] = {}
        for row in g[g["quantity"] == "emissions_mt"].itertuples(index=False):
            y0, y1 = int(row.first_year), int(row.last_year)
            hi = float(row.high) if pd.notna(row.high) else None
            if hi is None:
                v = 1.03 * float(row.low)
            else:
                v = 0.5 * (float(row.low) + hi)
            if y0 == y1:
                point[y0] = v
            else:
                for y in range(y0, y1 + 1):
                    plateau[y] = v * (1 + rng.uniform(-0.015, 0.015))
        anchors = {**plateau, **point}
        for row in g[g["quantity"] == "emissions_ratio"].itertuples(index=False):
            y0, y1, r = int(row.first_year), int(row.last_year), float(row.low)
            if y0 in anchors and y1 not in anchors:
                anchors[y1] = anchors[y0] * r
            elif y1 in anchors and y0 not in anchors:
                anchors[y0] = anchors[y1] / r
        for y in (YEARS[0], YEARS[-1]):
            if y not in anchors:
                raise ParameterError(f"calibration_targets.csv: no {y} emissions for {region}")
        out.append(dict(sorted(anchors.items())))
    return out


# how far (driver units; ln for cars) each 2021 end point may move to meet the emissions
_END_SCALE: dict[str, float] = {"lcar": 0.2, "fossil": 0.03, "gas": 0.01, "tertrate": 0.03,
                                "first": 0.015}


_INNER_CAR_SCALE = 0.1  # ln cars: cars take a smaller part of the intermediate corrections


def _solve_ends(cal: pd.DataFrame, anchors: list[dict[int, float]], pop: np.ndarray
                ) -> pd.DataFrame:
    """Move the 2021 end points (cars per person and the four shares) the least, so that
    the true model reproduces each province's 2005→2021 change in ln emissions per person.

    With prior end points p (``calibration.csv``) and scales σ (:data:`_END_SCALE`), the
    weighted least-squares change along the true model's gradient g is
    ``Δ_k = σ_k² g_k · gap / Σ_j σ_j² g_j²``, where ``gap`` is what the end points leave
    unexplained; repeated (Gauss–Newton) until the gap closes, since the interaction
    makes g depend on the end points. Returns a copy of ``cal`` with the solved end points.
    """
    cal = cal.copy()
    cols = {"fossil": "nf2021", "gas": "gas2021", "tertrate": "tert2021", "first": "first2021"}
    y05 = np.array([np.log(a[YEARS[0]] * 1e6 / (pop[i, 0] * 1e4)) for i, a in enumerate(anchors)])
    y21 = np.array([np.log(a[YEARS[-1]] * 1e6 / (pop[i, -1] * 1e4)) for i, a in enumerate(anchors)])
    x05 = {d: cal[c.replace("2021", "2005")].to_numpy(dtype=float) for d, c in cols.items()}
    x05["lcar"] = np.log(cal["cars_per_person2005"].to_numpy() * pop[:, 0])
    x21 = {d: cal[c].to_numpy(dtype=float) for d, c in cols.items()}
    x21["lcar"] = np.log(cal["cars_per_person2021"].to_numpy() * pop[:, -1])
    # a share's scale is also at most a third of its prior (small shares stay positive)
    scale = {d: np.full(len(cal), _END_SCALE[d]) for d in TRUE_COEFFICIENTS}
    for d, c in cols.items():
        scale[d] = np.minimum(scale[d], cal[c].to_numpy() / 3)
    base = true_index(x05)
    for _ in range(50):
        gap = (y21 - y05) - (true_index(x21) - base)
        if np.max(np.abs(gap)) < 1e-12:
            break
        g = _true_gradient(x21)
        lam = gap / sum(scale[d] ** 2 * g[d] ** 2 for d in TRUE_COEFFICIENTS)
        x21 = {d: x21[d] + scale[d] ** 2 * g[d] * lam for d in TRUE_COEFFICIENTS}
    else:
        raise ParameterError("calibration: the 2021 end points did not converge")
    cal["cars_per_person2021"] = np.exp(x21["lcar"]) / pop[:, -1]
    for d, c in cols.items():
        v = x21[d]
        if np.any((v < 0.0005) | (v > 0.9)):
            i = int(np.flatnonzero((v < 0.0005) | (v > 0.9))[0])
            raise ParameterError(f"calibration.csv: the solved {c} of {cal.index[i]} is {v[i]:.3f}; "
                                 "revise its prior end points")
        cal[c] = v
    return cal


def _s_curve(income: np.ndarray, c0: np.ndarray, c1: np.ndarray, sat: np.ndarray) -> np.ndarray:
    """Cars per person on a logistic in income through c0 (first year) and c1 (last year).

    ``c = K / (1 + exp(-k (u - m)))`` with saturation ``K`` per person; ``k`` and ``m`` are
    solved from the two end points, so ownership is S-shaped in income ``u`` (ln yuan).
    """
    L0 = np.log(c0 / (sat - c0))
    L1 = np.log(c1 / (sat - c1))
    u0, u1 = income[:, 0], income[:, -1]
    k = (L1 - L0) / (u1 - u0)
    m = u0 - L0 / k
    return sat[:, None] / (1 + np.exp(-k[:, None] * (income - m[:, None])))


def _pchip(years: list[int], values: list[float]) -> np.ndarray:
    from scipy.interpolate import PchipInterpolator

    if len(years) == 2:
        return np.interp(YEARS, years, values)
    return PchipInterpolator(years, values)(np.asarray(YEARS, dtype=float))


def _true_paths(rng: np.random.Generator, cal: pd.DataFrame, anchors: list[dict[int, float]],
                x: dict[str, np.ndarray], income: np.ndarray, pop: np.ndarray,
                car_figures: dict[int, dict[int, float]] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Solve lcar, shape the share drivers and draw the noise; returns (α, ε).

    1. Private cars close each province's 2005→2021 change of ln emissions per person
       (after the four share drivers' contribution) and follow an S-curve in income
       between the two ends.
    2. Where the study states intermediate figures (Liaoning 2018, Guangdong 2011,
       plateaus, …) ln emissions per person follow the monotone (PCHIP) interpolation of
       all the figures; the difference from the drivers' own path (zero in 2005 and
       2021) is shared by the five drivers in proportion to ``scale² · β`` (the smallest
       weighted change).
    3. ε is AR(1) noise, set to zero in the years with a stated figure (a point, not a
       bridge: a bridge would add a random trend per province).
    """
    b = TRUE_COEFFICIENTS
    n, T = len(cal), len(YEARS)
    yr = {y: i for i, y in enumerate(YEARS)}
    y05 = np.array([np.log(a[YEARS[0]] * 1e6 / (pop[i, 0] * 1e4)) for i, a in enumerate(anchors)])
    y21 = np.array([np.log(a[YEARS[-1]] * 1e6 / (pop[i, -1] * 1e4)) for i, a in enumerate(anchors)])
    shares = [d for d in b if d != "lcar"]

    def share_part(xx: Mapping[str, np.ndarray]) -> np.ndarray:  # the index without cars
        return true_index({**xx, "lcar": np.zeros_like(xx[shares[0]])})

    others = share_part(x)
    s_change = others[:, -1] - others[:, 0]
    c0 = cal["cars_per_person2005"].to_numpy()
    lcar0 = np.log(c0 * pop[:, 0])
    lcar1 = lcar0 + (y21 - y05 - s_change) / b["lcar"]
    c1 = np.exp(lcar1) / pop[:, -1]
    if np.any(c1 <= c0):
        i = int(np.flatnonzero(c1 <= c0)[0])
        raise ParameterError(f"calibration: {cal.index[i]} would need fewer cars per person in 2021 "
                             "than in 2005; revise its share end points")
    # saturation K: the default headroom over the 2021 level, or, where the study states
    # intermediate figures, the headroom whose S-curve passes closest to them
    sat = np.maximum(CAR_SATURATION, CAR_HEADROOM * c1)
    for i in range(n):  # less headroom where cars would still race ahead in the last years
        for h in np.arange(CAR_HEADROOM, 1.04, -0.05):
            sat[i] = max(CAR_SATURATION, h * c1[i])
            c = _s_curve(income[i:i + 1], c0[i:i + 1], c1[i:i + 1], sat[i:i + 1])[0] * pop[i]
            if (c[-1] / c[-5]) ** 0.25 - 1 <= CAR_MAX_LATE_GROWTH:
                break
    for i, a in enumerate(anchors):
        inner = [y for y in a if YEARS[0] < y < YEARS[-1]]
        if not inner:
            continue
        target = np.array([np.log(a[y] * 1e6 / (pop[i, yr[y]] * 1e4)) for y in inner])
        best = np.inf
        for h in np.linspace(1.05, 3.0, 40):
            k = np.array([max(CAR_SATURATION, h * c1[i])])
            lc = np.log(_s_curve(income[i:i + 1], c0[i:i + 1], c1[i:i + 1], k)[0] * pop[i])
            m = b["lcar"] * lc + others[i]
            err = float(np.sum((target - (y05[i] - m[0]) - m[[yr[y] for y in inner]]) ** 2))
            if err < best - 1e-12:
                best, sat[i] = err, k[0]
    # where the study states a province's car count, the headroom whose curve passes closest
    for i, figs in (car_figures or {}).items():
        best = np.inf
        for h in np.linspace(1.05, 3.0, 40):
            k = np.array([max(CAR_SATURATION, h * c1[i])])
            cars = _s_curve(income[i:i + 1], c0[i:i + 1], c1[i:i + 1], k)[0] * pop[i]
            err = sum(np.log(cars[yr[y]] / v) ** 2 for y, v in figs.items())
            if err < best - 1e-12:
                best, sat[i] = err, k[0]
    x["lcar"] = np.log(_s_curve(income, c0, c1, sat) * pop)
    alpha = y05 - true_index(x)[:, 0]
    eps = _ar1(rng, (n, T), NOISE_SD, NOISE_RHO)
    # the interior correction moves the shares (scale at most a third of the province's
    # smallest level) and cars, each in proportion to scale² · ∂(true index)/∂x, repeated
    # (Newton) until the path meets the interpolation: the interaction bends the gradient
    scale = {d: np.minimum(_SHARES[d][2], x[d].min(axis=1) / 3)[:, None] for d in shares}
    scale["lcar"] = np.full((n, 1), _INNER_CAR_SCALE)
    target = alpha[:, None] + true_index(x)  # no correction where only the ends are stated
    for i, a in enumerate(anchors):
        ys = list(a)
        if len(ys) > 2:  # stated intermediate figures: follow their monotone interpolation
            target[i] = _pchip(ys, [np.log(a[y] * 1e6 / (pop[i, yr[y]] * 1e4)) for y in ys])
        eps[i, [yr[y] for y in ys]] = 0.0
    for _ in range(50):
        c = target - (alpha[:, None] + true_index(x))
        if np.max(np.abs(c)) < 1e-12:
            break
        g = _true_gradient(x)
        norm = sum(scale[d] ** 2 * g[d] ** 2 for d in b)
        for d in b:
            x[d] = x[d] + scale[d] ** 2 * g[d] / norm * c
    else:
        raise ParameterError("calibration: the interior corrections did not converge")
    for d in shares:
        x[d] = np.clip(x[d], 0.001, 0.95)
    return alpha, eps


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
    targets = calibration_targets(folder)
    rng = np.random.default_rng(seed)
    n, T = len(cal), len(YEARS)
    pop = np.round(_population(cal), 2)
    anchors = _anchors(rng, cal, targets)
    cal = _solve_ends(cal, anchors, pop)
    x, income = _drivers(rng, cal)
    cars = targets[(targets["quantity"] == "cars_10k") & (targets["region"] != "China")]
    car_figures: dict[int, dict[int, float]] = {}
    for row in cars.itertuples(index=False):
        for y in range(int(row.first_year), int(row.last_year) + 1):
            car_figures.setdefault(list(cal.index).index(row.region), {})[y] = float(row.low)
    alpha, eps = _true_paths(rng, cal, anchors, x, income, pop, car_figures)
    for d in x:
        x[d] = np.round(x[d], 6)

    # emissions from the true model
    ln_pc = alpha[:, None] + true_index(x) + eps
    ce_target = np.exp(ln_pc) * pop * 1e4 / 1e6  # Mt

    # split into net imported electricity and fossil fuels; a stated fossil-only figure
    # (CE1) fixes the 2021 share of net imported electricity
    elec21 = cal["elec2021"].to_numpy(dtype=float).copy()
    ce1_rows = targets[(targets["quantity"] == "ce1_mt") & (targets["first_year"] == YEARS[-1])]
    for row in ce1_rows.itertuples(index=False):
        i = list(cal.index).index(row.region)
        elec21[i] = 1 - float(row.low) / ce_target[i, -1]
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
    columns = _teaching_drivers()  # the driver table's teaching rows
    for d in columns:
        panel[d] = x[d].ravel()

    # cities and planning targets draw from their own streams
    cities = _cities(np.random.default_rng([seed, 1]), panel)
    plans = _targets(np.random.default_rng([seed, 2]), cal, x)
    truth = pd.DataFrame({
        "driver": list(columns),
        "coefficient": [TRUE_COEFFICIENTS.get(d, 0.0) for d in columns],
        "true": [d in TRUE_COEFFICIENTS for d in columns],
        "unit": [DRIVERS[d][1] for d in columns],
        "scaled_by": [INTERACTION["by"] if d == INTERACTION["driver"] else "" for d in columns],
        "floor": [INTERACTION["floor"] if d == INTERACTION["driver"] else np.nan for d in columns],
        "reference": [INTERACTION["reference"] if d == INTERACTION["driver"] else np.nan
                      for d in columns],
    })
    card = _card(seed, panel, fuel_use, targets, plans)
    return {"panel.csv": panel, "fuel_use.csv": fuel_use, "cities.csv": cities,
            "targets.csv": plans, "truth.csv": truth, "README.md": card}


def _region_order(col: pd.Series) -> pd.Series:
    if col.name == "region":
        return col.map({r: i for i, r in enumerate(PROVINCES)})
    return col


def _municipality_path(e: np.ndarray) -> np.ndarray:
    """A province-level city's emissions over CITY_YEARS from its province's over YEARS.

    The province's values in 2005–2021; before and after, its path continued at the mean
    annual ln growth of its first (last) three changes.
    """
    g0 = (np.log(e[3]) - np.log(e[0])) / 3
    g1 = (np.log(e[-1]) - np.log(e[-4])) / 3
    yrs = np.asarray(CITY_YEARS)
    out = np.interp(yrs, YEARS, e)
    early, late = yrs < YEARS[0], yrs > YEARS[-1]
    out[early] = e[0] * np.exp(g0 * (yrs[early] - YEARS[0]))
    out[late] = e[-1] * np.exp(g1 * (yrs[late] - YEARS[-1]))
    return out


def _cities(rng: np.random.Generator, panel: pd.DataFrame) -> pd.DataFrame:
    """The synthetic city panel. A city that is a province-level municipality (Beijing,
    Tianjin) *is* its province: its emissions are the province panel's (2005–2021) and
    that path continued (:func:`_municipality_path`); the other cities are drawn."""
    by_province = panel.pivot(index="region", columns="year", values="emissions_mt")
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
    for name, zh, region, base, ratio, mid, pilot in specs:
        # logistic approach to a plateau: E(2002) = base, E(2022) ≈ base·ratio
        k = 0.22
        s = 1 / (1 + np.exp(-k * (yrs - mid)))
        s = (s - s[0]) / (s[-1] - s[0])
        path = base * np.exp(np.log(ratio) * s)
        noise = np.exp(_ar1(rng, (1, len(yrs)), 0.025, 0.4)[0])
        e = path * noise
        if name == region:  # a province-level municipality: the province itself
            e = _municipality_path(by_province.loc[region, list(YEARS)].to_numpy(dtype=float))
        out.append(pd.DataFrame({
            "city": name, "city_zh": zh, "province": region, "year": CITY_YEARS,
            "emissions_mt": np.round(e, 4),
            "pilot_year": pd.array([pilot] * len(yrs), dtype="Int64"),
        }))
    return pd.concat(out, ignore_index=True)


_NF_LIFT_2030 = (0.045, 0.085)
_GAS_LIFT_2025 = (0.0, 0.01)


def _targets(rng: np.random.Generator, cal: pd.DataFrame, x: dict[str, np.ndarray]
             ) -> pd.DataFrame:
    """Teaching planning targets: non-fossil share 2025/2030 and natural-gas share 2025.

    Non-fossil: the 2021 share plus 2.5–5.5 points by 2025 and 3.5–7 more by 2030 (around
    the national 20 %/25 % goals). Gas (the study's ``gas`` anchor from the provinces'
    14th five-year energy plans): the 2021 share plus 0.5–2.5 points by 2025, more where
    the share is low (the national plans aim at about 10 % nationally).
    """
    nf21 = x["fossil"][:, -1]
    lift = rng.uniform(*_NF_LIFT_2030, size=len(nf21))
    t25 = np.round(np.minimum(nf21 + lift * 4 / 9, 0.7), 3)
    t30 = np.round(np.minimum(nf21 + lift, 0.75), 3)
    g21 = x["gas"][:, -1]
    lift = rng.uniform(*_GAS_LIFT_2025, size=len(g21)) + 0.005 * (g21 < 0.08)
    g25 = np.round(np.minimum(g21 + lift, 0.5), 3)
    rows = []
    for i, r in enumerate(cal.index):
        rows.append((r, "fossil", 2025, t25[i]))
        rows.append((r, "fossil", 2030, t30[i]))
        rows.append((r, "gas", 2025, g25[i]))
    return pd.DataFrame(rows, columns=["region", "driver", "year", "value"])


_ENERGY_WEIGHTED = ("fossil", "gas")
_GDP_WEIGHTED = ("tertrate", "first")
_POP_WEIGHTED = ("urban",)


def energy_consumption(panel: pd.DataFrame, fuel_use: pd.DataFrame) -> pd.Series:
    """Energy consumption per (region, year) in TJ: the fossil energy of ``fuel_use``
    divided by 1 − the panel's non-fossil share ``fossil``."""
    ef = accounting.emission_factors(FACTOR_SET)
    fu = fuel_use[fuel_use["fuel"] != ELECTRICITY]
    tj = (fu["quantity"].to_numpy(float) * fu["unit"].map(lambda u: UNITS[u][1]).to_numpy(float)
          * ef.loc[fu["fuel"], "tj_per_base"].to_numpy(float))
    fossil_tj = pd.Series(tj).groupby([fu["region"].to_numpy(), fu["year"].to_numpy()]).sum()
    p = panel.set_index(["region", "year"])
    out = fossil_tj.reindex(p.index) / (1 - p["fossil"])
    out.name = "energy_tj"
    return out


def national_aggregates(panel: pd.DataFrame, fuel_use: pd.DataFrame | None = None
                        ) -> pd.DataFrame:
    """30-province aggregates of the drivers per year, comparable with national statistics.

    ``cars_10k``: sum of private cars (10^4); ``fossil``, ``gas``: shares weighted by each
    province's energy consumption (TJ, the fossil energy of ``fuel_use`` divided by
    1 − non-fossil share); ``tertrate``, ``first``: weighted by household consumption
    (``exp(lconsume)`` × population, a GDP proxy); ``urban``: weighted by population.
    """
    if fuel_use is None:
        from carbonlab.data import load_fuel_use

        fuel_use = load_fuel_use()
    p = panel.set_index(["region", "year"])
    energy = energy_consumption(panel, fuel_use).reindex(p.index).to_numpy()
    w = {"energy": energy, "gdp": np.exp(p["lconsume"].to_numpy()) * p["population_10k"].to_numpy(),
         "pop": p["population_10k"].to_numpy()}
    year = p.index.get_level_values("year").to_numpy()
    out = {"cars_10k": pd.Series(np.exp(p["lcar"].to_numpy())).groupby(year).sum()}
    weight_of = {**{d: "energy" for d in _ENERGY_WEIGHTED}, **{d: "gdp" for d in _GDP_WEIGHTED},
                 **{d: "pop" for d in _POP_WEIGHTED}}
    for d, wk in weight_of.items():
        num = pd.Series(p[d].to_numpy() * w[wk]).groupby(year).sum()
        out[d] = num / pd.Series(w[wk]).groupby(year).sum()
    res = pd.DataFrame(out)
    res.index.name = "year"
    res["energy_tj"] = pd.Series(energy).groupby(year).sum()
    return res.reset_index()


def check_calibration(panel: pd.DataFrame | None = None, fuel_use: pd.DataFrame | None = None,
                      targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every calibration target beside the panel's value, one row per target and year.

    Columns ``region, quantity, year, low, high, value, deviation_pct`` (distance outside
    [low, high] relative to the bound, 0 inside), ``tolerance_pct``, ``ok``, ``basis``.
    Defaults: the committed teaching files.
    """
    from carbonlab.data import load_fuel_use, load_panel

    panel = load_panel("teaching") if panel is None else panel
    fuel_use = load_fuel_use("teaching") if fuel_use is None else fuel_use
    targets = calibration_targets() if targets is None else targets
    p = panel.set_index(["region", "year"])
    acc = accounting.account(fuel_use, factors=FACTOR_SET).set_index(["region", "year"])
    nat = national_aggregates(panel, fuel_use).set_index("year")
    rows = []
    for t in targets.itertuples(index=False):
        y0, y1 = int(t.first_year), int(t.last_year)
        years = [y1] if t.quantity == "emissions_ratio" else range(y0, y1 + 1)
        for y in years:
            if t.region == "China":
                v = float(nat.loc[y, t.quantity])
            elif t.quantity == "emissions_ratio":
                v = float(p.loc[(t.region, y1), "emissions_mt"] / p.loc[(t.region, y0), "emissions_mt"])
            elif t.quantity == "ce1_mt":
                v = float(acc.loc[(t.region, y), "ce1_mt"])
            elif t.quantity == "cars_10k":
                v = float(np.exp(p.loc[(t.region, y), "lcar"]))
            else:
                v = float(p.loc[(t.region, y), t.quantity])
            lo = float(t.low)
            hi = float(t.high) if pd.notna(t.high) else np.inf
            dev = 0.0 if lo <= v <= hi else (v / lo - 1 if v < lo else v / hi - 1)
            rows.append({"region": t.region, "quantity": t.quantity, "year": y, "low": lo,
                         "high": hi, "value": v, "deviation_pct": 100 * dev,
                         "tolerance_pct": 100 * float(t.tolerance),
                         "ok": abs(dev) <= float(t.tolerance), "basis": t.basis})
    return pd.DataFrame(rows)


def _card(seed: int, panel: pd.DataFrame, fuel_use: pd.DataFrame, targets: pd.DataFrame,
          plans: pd.DataFrame) -> str:
    chk = check_calibration(panel, fuel_use, targets)
    last = YEARS[-1]
    e = energy_consumption(panel, fuel_use).xs(last, level="year")
    equiv = {(d, y): float((g.set_index("region")["value"].reindex(e.index) * e).sum() / e.sum())
             for (d, y), g in plans.groupby(["driver", "year"])}
    plan_text = ", ".join(f"{'non-fossil' if d == 'fossil' else d} {100 * v:.1f} % in {y}"
                          for (d, y), v in sorted(equiv.items()))
    fmt = chk.assign(
        target=[f"{lo:g}" if lo == hi else (f"≥ {lo:g}" if not np.isfinite(hi) else f"{lo:g}–{hi:g}")
                for lo, hi in zip(chk["low"], chk["high"], strict=True)],
        panel=[f"{v:.4g}" for v in chk["value"]],
        dev=[f"{d:+.1f}" if abs(d) >= 0.05 else "0.0" for d in chk["deviation_pct"]],
        tol=[f"±{t:g}" for t in chk["tolerance_pct"]],
    )
    src = targets.assign(key=targets["region"] + "|" + targets["quantity"] + "|"
                         + targets["first_year"].astype(str) + "–" + targets["last_year"].astype(str))
    prov = fmt[fmt["region"] != "China"]
    nat = fmt[fmt["region"] == "China"]
    n_ok = int(chk["ok"].sum())
    lines = [
        "# The carbonlab teaching panel (synthetic)",
        "",
        f"Generated by `carbonlab.synth.generate(seed={seed})`; regenerate with "
        "`carbonlab data teaching --write` (a test checks the files are reproduced byte for byte).",
        "**Synthetic data for teaching: not statistics of any real province or city.** Its "
        "magnitudes are calibrated to the provincial study's §2.1 and to national statistics "
        "(below), so that its forecasts are of the size of the real China's.",
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
        "others' batches are random teaching assignments, not the official lists. A city that is a "
        "province-level municipality (Beijing, Tianjin) is its province: its 2005–2021 emissions "
        "are the province panel's, and 2002–2004 and 2022 continue that path at the mean annual "
        "growth of its first and last three years; the other cities are drawn.",
        "- `targets.csv`: per province, teaching planning targets: the non-fossil share (`fossil`) "
        f"in 2025 and 2030 (the 2021 share plus {100 * _NF_LIFT_2030[0]:g}–{100 * _NF_LIFT_2030[1]:g} "
        "points by 2030, on a straight line through 2025) and the natural-gas share (`gas`) in "
        "2025 (the study's anchor from the provinces' 14th five-year energy plans). Plausible, "
        f"not the provinces' published numbers; weighted by {last} energy consumption they amount "
        f"nationally to {plan_text} (short of the national 25 % for 2030: see *What lies ahead*).",
        "- `truth.csv`: the true model: one row per driver with its coefficient, whether it is "
        "true, its unit, and for the scaled driver the interaction (`scaled_by`, `floor`, "
        "`reference`; read by `carbonlab.synth.true_index`).",
        "- `calibration.csv` (input, hand-made): population 2005/2021, prior 2005 and 2021 end "
        "points of the four share drivers and of private cars per person, the 2021 share of net "
        "imported electricity in CE (computed instead where the study states the fossil-only CE1).",
        "- `calibration_targets.csv` (input, hand-made): every figure the panel is calibrated to, "
        "with its source sentence: the province emissions the study states in §2.1 (basis "
        "`study`, or `study (reading)` for a plateau or a threshold), the few values the study "
        "does not state and the generator assumes (`assumption`), the study's Ningxia car count, "
        "and the national driver aggregates from NBS statistics.",
        "",
        "## What is true",
        "ln(emissions per person, t) = α_province + Σ β_k·x_k·m_k + ε, with m = max(tertrate − "
        f"{INTERACTION['floor']:g}, 0) / ({INTERACTION['reference']:g} − {INTERACTION['floor']:g}) "
        "for `fossil` and 1 for the others, ε AR(1) "
        f"(ρ = {NOISE_RHO}, innovation s.d. {NOISE_SD}), set to zero in the years with a calibration "
        "figure (so the panel meets them up to rounding), and",
        "",
        "| driver | β (semi-elasticity) |",
        "|---|---|",
        *[f"| `{k}` | {v:+.4g} |" for k, v in TRUE_COEFFICIENTS.items()],
        "",
        describe_truth(),
        "",
        "The study's semi-elasticities are the truth's β; for `fossil` it is the effect at the "
        f"reference service share ({100 * float(INTERACTION['reference']):.1f} %, China 2021, NBS). "
        "The other 13 drivers have β = 0 but follow the true drivers' province levels and trends, "
        "so they are correlated with them. Shares are fractions. `gas` and `fossil` are also the "
        "energy shares of natural gas (incl. LNG) and of non-fossil energy implied by "
        "`fuel_use.csv`. `carbonlab.synth.linear_misfit(panel)` measures what a linear panel "
        "model misses of this truth on the panel's own drivers, without noise.",
        "",
        "## What lies ahead (designed)",
        "The world is built so that under the book's baseline scenario "
        "(`data/scenarios/provinces/baseline.yaml`, these targets) the true model leaves at least "
        "five provinces not peaked by 2030 and the 30-province total peaks between 2026 and 2030 "
        "(`tests/test_synth.py` checks both on the regenerated world). The levers: the "
        "non-fossil share bites less in industrial provinces (the interaction), the targets fall "
        "short of the national 25 % for 2030, private cars per person keep spreading "
        f"(saturation K up to {CAR_HEADROOM:g} × the 2021 level), and the service and primary "
        "shares flatten towards 2021 (paths 1 − (1 − τ)^q), so their rolled-forward trends are "
        "small.",
        "",
        f"The emissions are exactly what `carbonlab.accounting.account(fuel_use, factors=\"{FACTOR_SET}\")` "
        "computes from `fuel_use.csv` (the committed quantities, rounded to 4 decimals).",
        "",
        "## How the calibration is met",
        "1. End points: the 2005 values of `calibration.csv` are kept (α puts each province on "
        "its 2005 emissions); the prior 2021 values of cars per person and the four shares are "
        "moved the least (weighted least squares along the true model's gradient, Gauss–Newton; scales "
        + ", ".join(f"{d} {v:g}" for d, v in _END_SCALE.items())
        + ", a share's scale at most a third of its value) so that the true model reproduces each "
        "province's 2005→2021 change in ln emissions per person.",
        "2. Private cars per person follow an S-curve (logistic) in income between the two end "
        "points: c = K / (1 + exp(−k (u − m))) with u the smooth part of `lconsume`, "
        f"K = max({CAR_SATURATION}, {CAR_HEADROOM} × the 2021 level), less where the cars would "
        f"grow faster than {100 * CAR_MAX_LATE_GROWTH:g} %/yr in {YEARS[-5]}–{YEARS[-1]} (where the study states "
        "intermediate emission figures or a car count, the K whose curve passes closest to them), "
        "k and m through the end points.",
        "3. Where the study states intermediate figures (plateaus, Liaoning 2018, Guangdong 2011, "
        "Shaanxi 2012, Hebei's dip), ln emissions per person follow the monotone (PCHIP) "
        "interpolation of all the province's figures; the difference from the drivers' own path "
        "(zero in 2005 and 2021) is shared by the five true drivers in proportion to scale² times "
        "the true model's gradient (Newton steps, since the interaction bends it; cars with scale "
        f"{_INNER_CAR_SCALE}).",
        "4. ε is zero in the years with a figure, so the panel meets them up to the rounding of "
        "the fuel quantities; the other years carry the AR(1) noise.",
        "",
        f"## Calibration: {n_ok} of {len(chk)} checks within tolerance",
        "",
        "Province figures (Mt CO2 unless stated; one row per year of a plateau):",
        "",
        _markdown(prov[["region", "quantity", "year", "target", "panel", "dev", "tol", "basis"]]
                  .rename(columns={"dev": "dev. %", "tol": "tol. %"})),
        "",
        "National aggregates of the 30 provinces (`carbonlab.synth.national_aggregates`):",
        "",
        _markdown(nat[["quantity", "year", "target", "panel", "dev", "tol", "basis"]]
                  .rename(columns={"dev": "dev. %", "tol": "tol. %"})),
        "",
        "Sources (`calibration_targets.csv`, column `source`):",
        "",
        *[f"- {k}: {v}" for k, v in dict(zip(src["key"], src["source"], strict=True)).items()],
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
