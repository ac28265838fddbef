"""A LEAP-grade city energy model: physical activity, vehicle stock, industry, buildings, power.

One city file (``data/scenarios/cities/<city>.yaml``, format in ``template.yaml``) gives
the base-year structure, each number with a ``source`` (a publication, or the word
``assumption``). Years run from the base year (the city's last inventory year) to
``end_year``. All energy in TJ, emissions in Mt CO2.

Drivers
    GDP (10^8 yuan) and population (10^4) grow at the file's yearly rates (interpolated
    between anchor years). Activities follow LEAP's GrowthAs: ``A_t = A_0 (GDP_t/GDP_0)^e_gdp
    (pop_t/pop_0)^e_pop``.

Demand
    *Passenger*: passenger-km per person; a car share of it, the rest by bus. Car pkm become
    vehicle-km through occupancy (shared mobility, the ``shared_share`` lever, has the higher
    occupancy), vehicle-km become the car fleet needed, and the fleet turns over with sales,
    a survival curve and vintages (:mod:`carbonlab.leap.stock`); the ``ev_sales_share`` lever
    is the EV share of **sales**. The ``traffic_brain`` lever saves that fraction of road
    vehicle energy. *Freight*: tonne-km with a GDP elasticity, diesel and electric trucks
    (``freight_electric`` lever). *Industry*: value added by branch with energy intensities
    by fuel (TJ per 10^8 yuan), cut by the ``energy_saving`` lever. *Buildings*: residential
    energy per person and services energy per 10^8 yuan of GDP by fuel; the
    ``building_electrification`` lever moves fossil heat to electricity (heat pumps, at
    ``electric_ratio`` TJ of electricity per TJ of fuel). All non-transport intensities
    improve by ``autonomous_efficiency`` a year in every scenario.

Supply
    Electricity demand goes to the power sector (:mod:`carbonlab.leap.power`): the
    ``industrial_pv`` lever (share of industrial electricity from PV) and the ``renewables``
    lever (share of the power requirement) displace imports and local fossil plants.

Calibration
    :meth:`CityModel.calibrate` multiplies every activity by one factor so the base year
    reproduces the city's inventory exactly (the factor is reported: it says how far the
    file's assumed structure is from the inventory), then -- for ``baseline="ml"`` -- sets
    an activity multiplier per year so the baseline reproduces the ML forecast (relative
    deviation <= 1e-9). ``baseline="drivers"`` keeps the driver-based projection instead.
    The policy scenario shares the baseline's activity and changes the levers only.

Levers
    ``lever(t) = diffuse(base, K, rate, r, t0, reading)`` (:func:`carbonlab.leap.engine.diffuse`):
    the study's yearly rates read as relative growth of adoption (``reading="relative"``,
    the default: the study's "一年上升 5%" of a level, and its result of "2 %-5 % a year") or
    as percentage points a year (``"pp"``); a cap ``K`` only where a source gives one (else
    a fraction stops at 1), driven by the diffusion stage *beyond* its base-year
    level, ``S(t) - S(t_b)`` (the base year's data already contain the diffusion so far, so
    policy = baseline in the base year); ``t0`` = the city's smart-city pilot year (a
    never-pilot city gets a hypothetical pilot in the first forecast year).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError, read_yaml_mapping
from carbonlab.leap.engine import READINGS, diffuse, interp, scenario_dir
from carbonlab.leap.power import Dispatch, PowerSector
from carbonlab.leap.stock import StockResult, initial_vintages, stock_turnover, survival_curve

__all__ = ["LEVERS", "SCENARIOS", "CityModel", "ScenarioResult"]

LEVERS: tuple[str, ...] = ("ev_sales_share", "shared_share", "traffic_brain", "industrial_pv",
                           "energy_saving", "renewables", "freight_electric",
                           "building_electrification")
"""Policy levers (fractions). The first five are the city study's; the last three are ours."""
SCENARIOS: tuple[str, ...] = ("baseline", "policy")
_FOSSIL = ("raw_coal", "natural_gas", "gasoline", "diesel")
CALIBRATION_RTOL = 1e-9


def _num(v: Any, where: str, lo: float | None = None, hi: float | None = None) -> float:
    if isinstance(v, Mapping):
        if "value" not in v:
            raise DataError(f"{where}: needs a value")
        v = v["value"]
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        raise DataError(f"{where}: expected a number, got {v!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise DataError(f"{where}: {v} outside [{lo}, {hi}]")
    return float(v)


def _src(v: Any, where: str) -> str:
    if not isinstance(v, Mapping) or not str(v.get("source", "")).strip():
        raise DataError(f"{where}: needs a source (a publication or 'assumption')")
    return str(v["source"])


@dataclass
class ScenarioResult:
    """One scenario run: tidy results plus the stock and power-sector details."""

    scenario: str
    years: np.ndarray
    results: pd.DataFrame          # scenario, sector, branch, fuel, year, energy_tj, emissions_mt, ...
    stock: StockResult
    power: Dispatch
    levers: pd.DataFrame           # year x lever (fractions)
    activity: pd.DataFrame         # year x activity (units in attrs)

    def totals(self) -> pd.Series:
        """Total emissions by year (Mt CO2)."""
        t = self.results.groupby("year")["emissions_mt"].sum()
        return t.rename("emissions_mt")

    @property
    def grid_factor(self) -> pd.Series:
        """Grid emission factor of the delivered electricity (t CO2/MWh) by year."""
        return pd.Series(self.power.grid_factor_t_per_mwh, index=pd.Index(self.years, name="year"),
                         name="grid_factor_t_per_mwh")


class CityModel:
    """A city's LEAP model (see the module docstring); build with :meth:`from_yaml`."""

    def __init__(self, spec: Mapping[str, Any], source: str = "") -> None:
        self.source = source or str(spec.get("name", "city"))
        self.spec = copy.deepcopy(dict(spec))
        w = self.source
        s = self.spec
        for key in ("name", "drivers", "fuels", "passenger", "freight", "industry", "buildings",
                    "power", "levers"):
            if key not in s:
                raise DataError(f"{w}: missing top-level key '{key}'")
        self.name = str(s["name"])
        self.city = str(s.get("city", self.name))
        py = s.get("pilot_year")
        if py is not None and (isinstance(py, bool) or not isinstance(py, int)):
            raise DataError(f"{w}: pilot_year must be a year or null, got {py!r}")
        self.pilot_year: int | None = py
        self.base_year = int(s.get("base_year", 2019))
        self.end_year = int(s.get("end_year", 2035))
        if self.end_year <= self.base_year:
            raise DataError(f"{w}: end_year {self.end_year} must be after base_year {self.base_year}")
        self.reading = str(s.get("reading", "relative"))
        if self.reading not in READINGS:
            raise DataError(f"{w}: reading must be one of {READINGS}, got {self.reading!r}")
        self.factors = {}
        for f, row in s["fuels"].items():
            _src(row, f"{w}: fuels.{f}")
            self.factors[str(f)] = _num(row.get("t_co2_per_tj"), f"{w}: fuels.{f}.t_co2_per_tj", 0)
        for f in (*_FOSSIL, "electricity"):
            if f not in self.factors:
                raise DataError(f"{w}: fuels: missing {f}")
        self.levers: dict[str, dict[str, float]] = {}
        for name in LEVERS:
            row = s["levers"].get(name)
            lw = f"{w}: levers.{name}"
            if row is None:
                raise DataError(f"{lw}: missing (levers: {', '.join(LEVERS)})")
            _src(row, lw)
            self.levers[name] = {"base": _num(row.get("base"), f"{lw}.base", 0, 1),
                                 "K": (None if row.get("K") is None
                                       else _num(row.get("K"), f"{lw}.K", 0, 1)),
                                 "rate": _num(row.get("rate"), f"{lw}.rate", 0),
                                 "r": _num(row.get("r", 0.2), f"{lw}.r", 1e-6)}
        unknown = set(s["levers"]) - set(LEVERS)
        if unknown:
            raise DataError(f"{w}: levers: unknown {sorted(unknown)} (known: {', '.join(LEVERS)})")
        self.scale = float(s.get("calibration_factor", 1.0))
        self.multiplier: dict[int, float] | None = None
        self._check_structure()

    # ------------------------------------------------------------------ construction
    def _check_structure(self) -> None:
        w, s = self.source, self.spec
        d = s["drivers"]
        for k in ("gdp_1e8yuan", "population_10k"):
            _src(d.get(k), f"{w}: drivers.{k}")
            _num(d[k], f"{w}: drivers.{k}", 1e-9)
        for k in ("gdp_growth", "population_growth"):
            row = d.get(k)
            _src(row, f"{w}: drivers.{k}")
            if not isinstance(row.get("value"), Mapping) or not row["value"]:
                raise DataError(f"{w}: drivers.{k}: value must map year -> rate")
        p = s["passenger"]
        for k in ("pkm_per_capita", "car_share", "occupancy_private", "occupancy_shared",
                  "km_per_vehicle", "mj_per_vkm_ice", "mj_per_vkm_ev", "bus_mj_per_pkm",
                  "elasticity_gdp", "elasticity_population"):
            _src(p.get(k), f"{w}: passenger.{k}")
            _num(p[k], f"{w}: passenger.{k}", 0)
        _num(p["car_share"], f"{w}: passenger.car_share", 0, 1)
        f = s["freight"]
        for k in ("tkm_per_1e4yuan", "elasticity_gdp", "mj_per_tkm_diesel", "mj_per_tkm_electric"):
            _src(f.get(k), f"{w}: freight.{k}")
            _num(f[k], f"{w}: freight.{k}", 0)
        ind = s["industry"]
        _src(ind.get("value_added_share"), f"{w}: industry.value_added_share")
        shares = 0.0
        for b, row in (ind.get("branches") or {}).items():
            bw = f"{w}: industry.branches.{b}"
            _src(row, bw)
            shares += _num(row.get("share"), f"{bw}.share", 0, 1)
            _num(row.get("elasticity_gdp"), f"{bw}.elasticity_gdp", 0)
            for fuel, v in (row.get("tj_per_1e8yuan") or {}).items():
                if fuel not in self.factors:
                    raise DataError(f"{bw}.tj_per_1e8yuan: unknown fuel {fuel!r}")
                _num(v, f"{bw}.tj_per_1e8yuan.{fuel}", 0)
        if abs(shares - 1.0) > 1e-9:
            raise DataError(f"{w}: industry.branches shares sum to {shares:.6g}, not 1")
        for sec in ("residential", "services"):
            row = s["buildings"].get(sec)
            _src(row, f"{w}: buildings.{sec}")
            tot = sum(_num(v, f"{w}: buildings.{sec}.fuel_shares.{k}", 0, 1)
                      for k, v in (row.get("fuel_shares") or {}).items())
            if abs(tot - 1.0) > 1e-9:
                raise DataError(f"{w}: buildings.{sec}.fuel_shares sum to {tot:.6g}, not 1")
        self._power()

    def _power(self) -> PowerSector:
        pw = self.spec["power"]
        w = f"{self.source}: power"
        for k in ("loss", "import_share", "import_factor_t_per_mwh"):
            _src(pw.get(k), f"{w}.{k}")
        return PowerSector(pw.get("plants") or {}, loss=_num(pw["loss"], f"{w}.loss"),
                           import_share=_num(pw["import_share"], f"{w}.import_share"),
                           import_factor_t_per_mwh=_num(pw["import_factor_t_per_mwh"],
                                                        f"{w}.import_factor_t_per_mwh"),
                           factors=self.factors, source=w)

    @classmethod
    def from_yaml(cls, path: str | Path) -> CityModel:
        """Read and validate a city file (see ``data/scenarios/cities/template.yaml``)."""
        p = Path(path)
        spec = read_yaml_mapping(p, "city file")
        return cls(spec, str(p))

    @classmethod
    def for_city(cls, city: str) -> CityModel:
        """The shipped file of a city, else the generic template (named after the city)."""
        p = scenario_dir() / f"{city.lower().replace(' ', '_')}.yaml"
        if p.is_file():
            return cls.from_yaml(p)
        m = cls.from_yaml(scenario_dir() / "template.yaml")
        m.city = m.name = city
        m.pilot_year = None
        m.template = True
        return m

    template: bool = False

    def copy(self) -> CityModel:
        """A deep copy (calibration and lever changes never mutate the original)."""
        new = copy.copy(self)
        new.levers = copy.deepcopy(self.levers)
        new.multiplier = None if self.multiplier is None else dict(self.multiplier)
        return new

    def years(self) -> np.ndarray:
        """Modelled years, base year to end year."""
        return np.arange(self.base_year, self.end_year + 1)

    # ------------------------------------------------------------------ levers
    def t0(self) -> float:
        """Inflection year of the policy diffusion: the pilot year (never: base year + 1)."""
        return float(self.pilot_year if self.pilot_year is not None else self.base_year + 1)

    def lever_paths(self, scenario: str = "policy", reading: str | None = None) -> pd.DataFrame:
        """Each lever by year (fraction): constant in the baseline, diffusing in the policy."""
        if scenario not in SCENARIOS:
            raise ParameterError(f"scenario: {scenario!r} is not one of {', '.join(SCENARIOS)}")
        yrs = self.years()
        out = {}
        for name, lv in self.levers.items():
            base = np.full(len(yrs), lv["base"])
            if scenario == "baseline":
                out[name] = base
            else:
                # no cited cap: a fraction stops at 1 (a physical bound, not an assumption)
                cap = 1.0 if lv["K"] is None else lv["K"]
                out[name] = diffuse(yrs, base, K=cap, rate=lv["rate"], r=lv["r"],
                                    t0=self.t0(), base_year=self.base_year,
                                    reading=reading or self.reading)
        return pd.DataFrame(out, index=pd.Index(yrs, name="year"))

    def with_policy(self, *, r: float | None = None, K: Mapping[str, float] | None = None,
                    rate: Mapping[str, float] | None = None, pilot_year: Any = ...,
                    reading: str | None = None) -> CityModel:
        """A copy with diffusion speed, saturation levels, rates, pilot year or reading replaced."""
        new = self.copy()
        for label, m in (("K", K or {}), ("rate", rate or {})):
            bad = set(m) - set(LEVERS)
            if bad:
                raise ParameterError(f"{label}: unknown lever(s) {sorted(bad)}; known {', '.join(LEVERS)}")
            for k, v in m.items():
                new.levers[k][label] = float(v)
        if r is not None:
            for lv in new.levers.values():
                lv["r"] = float(r)
        if pilot_year is not ...:
            if pilot_year is not None and pilot_year not in (2012, 2013, 2015):
                raise ParameterError(f"pilot_year: {pilot_year!r} is not a pilot batch "
                                     "(2012, 2013, 2015) or None")
            new.pilot_year = pilot_year
        if reading is not None:
            if reading not in READINGS:
                raise ParameterError(f"reading: {reading!r} is not one of {', '.join(READINGS)}")
            new.reading = reading
        return new

    # ------------------------------------------------------------------ drivers
    def _growth_path(self, key: str) -> np.ndarray:
        d = self.spec["drivers"]
        yrs = self.years()
        rates = interp(yrs, {int(k): float(v) for k, v in d[key]["value"].items()})
        rates[0] = 0.0
        return np.cumprod(1.0 + rates)

    def drivers(self) -> pd.DataFrame:
        """GDP (10^8 yuan) and population (10^4) by year (before calibration)."""
        d = self.spec["drivers"]
        gdp = _num(d["gdp_1e8yuan"], "gdp") * self._growth_path("gdp_growth")
        pop = _num(d["population_10k"], "population") * self._growth_path("population_growth")
        return pd.DataFrame({"gdp_1e8yuan": gdp, "population_10k": pop},
                            index=pd.Index(self.years(), name="year"))

    def _mult(self) -> np.ndarray:
        if self.multiplier is None:
            return np.ones(len(self.years()))
        return np.array([self.multiplier[int(y)] for y in self.years()])

    # ------------------------------------------------------------------ the model
    def _compute(self, L: Mapping[str, np.ndarray]) -> tuple[Any, ...]:
        """The model arithmetic (numpy only): demand by branch, dispatch, stock, activity."""
        s = self.spec
        yrs = self.years()
        n = len(yrs)
        drv = self.drivers()
        gdp, pop = drv["gdp_1e8yuan"].to_numpy(), drv["population_10k"].to_numpy()
        g_rel, p_rel = gdp / gdp[0], pop / pop[0]
        act = self.scale * self._mult()
        rows: list[dict[str, Any]] = []
        activity: dict[str, np.ndarray] = {}

        def add(sector: str, branch: str, fuel: str, energy: np.ndarray, act_name: str) -> None:
            rows.append({"sector": sector, "branch": f"{sector}/{branch}", "fuel": fuel,
                         "energy": np.asarray(energy, float), "activity": act_name})

        # passenger transport
        p = s["passenger"]
        v = {k: _num(p[k], k) for k in p if isinstance(p[k], Mapping) and "value" in p[k]}
        pkm = act * v["pkm_per_capita"] * pop[0] * 1e4 * g_rel ** v["elasticity_gdp"] \
            * p_rel ** v["elasticity_population"]
        activity["passenger_pkm"] = pkm
        car_pkm = v["car_share"] * pkm
        bus_pkm = pkm - car_pkm
        shared = L["shared_share"]
        vkm = car_pkm * ((1 - shared) / v["occupancy_private"] + shared / v["occupancy_shared"])
        required = vkm / v["km_per_vehicle"]
        surv_spec = p.get("survival") or {}
        surv = survival_curve(float(surv_spec.get("median_life", 15)),
                              float(surv_spec.get("shape", 3.5)), int(surv_spec.get("max_age", 30)))
        v0 = initial_vintages(required[0], surv, float(surv_spec.get("sales_growth_before", 0.05)))
        ev0 = float(p.get("ev_stock_share", {}).get("value", 0.0)) if isinstance(
            p.get("ev_stock_share"), Mapping) else 0.0
        stock = stock_turnover(required, surv, {"ev": v0 * ev0, "ice": v0 * (1 - ev0)},
                               {"ev": L["ev_sales_share"], "ice": 1 - L["ev_sales_share"]}, yrs)
        saving = 1 - L["traffic_brain"]
        km = v["km_per_vehicle"]
        add("passenger", "car_ice", "gasoline", stock.stock["ice"] * km * v["mj_per_vkm_ice"]
            * saving / 1e6, "passenger_pkm")
        add("passenger", "car_ev", "electricity", stock.stock["ev"] * km * v["mj_per_vkm_ev"]
            * saving / 1e6, "passenger_pkm")
        add("passenger", "bus", "diesel", bus_pkm * v["bus_mj_per_pkm"] * saving / 1e6,
            "passenger_pkm")
        # freight
        f = s["freight"]
        tkm = act * _num(f["tkm_per_1e4yuan"], "tkm") * gdp[0] * 1e4 \
            * g_rel ** _num(f["elasticity_gdp"], "e")
        activity["freight_tkm"] = tkm
        fe = L["freight_electric"]
        add("freight", "road_diesel", "diesel", tkm * (1 - fe) * _num(f["mj_per_tkm_diesel"], "d")
            * saving / 1e6, "freight_tkm")
        add("freight", "road_electric", "electricity", tkm * fe
            * _num(f["mj_per_tkm_electric"], "e") * saving / 1e6, "freight_tkm")
        # industry
        aeei = float(s.get("autonomous_efficiency", {}).get("value", 0.0)) \
            if isinstance(s.get("autonomous_efficiency"), Mapping) else 0.0
        eff = (1 - aeei) ** (yrs - yrs[0])
        ind = s["industry"]
        va_share = _num(ind["value_added_share"], "va")
        es = 1 - L["energy_saving"]
        ind_el = np.zeros(n)
        for b, row in ind["branches"].items():
            va = act * gdp[0] * va_share * float(row["share"]) * g_rel ** float(row["elasticity_gdp"])
            activity[f"industry_{b}_va"] = va
            for fuel, inten in row["tj_per_1e8yuan"].items():
                e = va * float(inten) * es * eff
                if fuel == "electricity":
                    ind_el += e
                add("industry", b, fuel, e, f"industry_{b}_va")
        # buildings
        b = s["buildings"]
        be = L["building_electrification"]
        ratio = float(b.get("electric_ratio", {}).get("value", 0.4)) if isinstance(
            b.get("electric_ratio"), Mapping) else 0.4
        res = b["residential"]
        res_e = act * _num(res["gj_per_capita"], "gj") * pop * 1e4 / 1e3 \
            * (g_rel / p_rel) ** _num(res["elasticity_income"], "e") * eff
        svc = b["services"]
        svc_e = act * _num(svc["tj_per_1e8yuan"], "tj") * gdp * eff
        activity["residential_population"] = act * pop
        activity["services_gdp"] = act * gdp
        for sec, tot, row, aname in (("residential", res_e, res, "residential_population"),
                                     ("services", svc_e, svc, "services_gdp")):
            fs = {k: float(x) for k, x in row["fuel_shares"].items()}
            moved = np.zeros(n)
            for fuel, sh in fs.items():
                if fuel == "electricity":
                    continue
                e = tot * sh
                if fuel in _FOSSIL:
                    moved += e * be
                    e = e * (1 - be)
                add("buildings", f"{sec}", fuel, e, aname)
            add("buildings", f"{sec}", "electricity", tot * fs.get("electricity", 0.0)
                + moved * ratio, aname)
        # merge duplicate (branch, fuel) rows, then the power sector
        demand: dict[tuple[str, str, str, str], np.ndarray] = {}
        for r in rows:
            key = (r["sector"], r["branch"], r["fuel"], r["activity"])
            demand[key] = demand.get(key, 0.0) + r["energy"]
        el = sum(e for (_, _, fuel, _), e in demand.items() if fuel == "electricity")
        pv = L["industrial_pv"] * ind_el
        disp = self._power().dispatch(el, pv=pv, renewables_share=L["renewables"])
        grid = np.divide(disp.total_emissions, el, out=np.zeros(n), where=el > 0)  # Mt per TJ
        return demand, disp, stock, activity, grid

    def total_emissions(self, scenario: str = "policy", reading: str | None = None) -> np.ndarray:
        """Total emissions by year (Mt CO2) without building tables (fast; for sampling)."""
        lv = self.lever_paths(scenario, reading)
        demand, disp, _, _, _ = self._compute({k: lv[k].to_numpy(float) for k in LEVERS})
        direct = sum(e * self.factors[fuel] / 1e6 for (_, _, fuel, _), e in demand.items())
        return direct + disp.total_emissions

    def run(self, scenario: str = "baseline", reading: str | None = None,
            levers: pd.DataFrame | None = None) -> ScenarioResult:
        """Run one scenario (``levers`` overrides the lever paths, a year x lever frame)."""
        lv = self.lever_paths(scenario, reading) if levers is None else levers
        demand, disp, stock, activity, grid = self._compute(
            {k: lv[k].to_numpy(float) for k in LEVERS})
        yrs = self.years()
        n = len(yrs)
        frames = []
        for (sec, br, fuel, aname), e in demand.items():
            direct = e * self.factors[fuel] / 1e6
            attr = e * grid if fuel == "electricity" else direct
            frames.append(pd.DataFrame({"sector": sec, "branch": br, "fuel": fuel, "year": yrs,
                                        "energy_tj": e, "emissions_mt": direct,
                                        "emissions_attributed_mt": attr,
                                        "activity": activity[aname], "activity_name": aname}))
        for plant, g in disp.generation.items():
            fuel = self.spec["power"]["plants"][plant]["fuel"] if plant in (
                self.spec["power"].get("plants") or {}) else plant
            inp = g / self.spec["power"]["plants"][plant]["efficiency"] if plant in (
                self.spec["power"].get("plants") or {}) else g
            frames.append(pd.DataFrame({"sector": "power", "branch": f"power/{plant}",
                                        "fuel": fuel, "year": yrs, "energy_tj": inp,
                                        "emissions_mt": disp.emissions.get(plant, np.zeros(n)),
                                        "emissions_attributed_mt": 0.0, "activity": g,
                                        "activity_name": "generation_tj"}))
        frames.append(pd.DataFrame({"sector": "power", "branch": "power/imports",
                                    "fuel": "electricity", "year": yrs, "energy_tj": disp.imports,
                                    "emissions_mt": disp.emissions["imports"],
                                    "emissions_attributed_mt": 0.0, "activity": disp.imports,
                                    "activity_name": "imports_tj"}))
        out = pd.concat(frames, ignore_index=True)
        out.insert(0, "scenario", scenario)
        out.attrs["units"] = {"energy_tj": "TJ", "emissions_mt": "Mt CO2",
                              "emissions_attributed_mt": "Mt CO2 (electricity at the grid factor)"}
        acts = pd.DataFrame(activity, index=pd.Index(yrs, name="year"))
        acts["car_stock"] = stock.total
        acts["car_sales"] = stock.sales["ev"] + stock.sales["ice"]
        acts["ev_stock_share"] = stock.share("ev")
        return ScenarioResult(scenario, yrs, out, stock, disp, lv, acts)

    def totals(self, scenario: str = "baseline", reading: str | None = None) -> pd.Series:
        """Total emissions by year (Mt CO2)."""
        return self.run(scenario, reading).totals()

    # ------------------------------------------------------------------ calibration
    def calibrate(self, history: pd.Series, forecast: pd.Series | None = None) -> CityModel:
        """A copy calibrated to the inventory (and, given, the ML baseline forecast).

        ``history``: emissions by year (Mt CO2); its last year becomes the base year.
        ``forecast``: Mt CO2 for consecutive years after it; the baseline reproduces it.
        """
        if not isinstance(history, pd.Series) or history.dropna().empty:
            raise ParameterError("history must be a non-empty Series year -> Mt CO2")
        hist = history.dropna()
        base = int(hist.index.max())
        target = float(hist.loc[base])
        if not target > 0:
            raise DataError(f"history: emissions in {base} must be > 0, got {target}")
        new = self.copy()
        new.base_year = base
        new.multiplier = None
        if forecast is not None:
            fc = forecast[forecast.index > base].astype(float)
            if fc.empty or fc.index.min() != base + 1 or not np.all(np.diff(fc.index) == 1):
                raise ParameterError(f"forecast must cover consecutive years from {base + 1}")
            new.end_year = int(fc.index.max())
        new.scale = 1.0
        e0 = float(new.total_emissions("baseline")[0])
        if not e0 > 0:
            raise DataError(f"{self.source}: the city file gives no base-year emissions")
        new.scale = target / e0
        if forecast is not None:
            want = np.concatenate([[target], fc.to_numpy()])
            m = np.ones(len(want))
            for _ in range(200):
                new.multiplier = {int(y): float(x) for y, x in zip(new.years(), m, strict=True)}
                got = new.total_emissions("baseline")
                dev = float(np.max(np.abs(got / want - 1)))
                if dev <= CALIBRATION_RTOL:
                    break
                m = m * want / got
            else:
                raise DataError(f"{self.source}: baseline calibration missed the forecast by "
                                f"{dev:.3g} after 200 iterations")
            new.calibration_deviation = dev
        return new

    calibration_deviation: float = 0.0
