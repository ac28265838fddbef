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

from carbonlab._util import DataError, ParameterError, read_yaml_mapping, validate_schema
from carbonlab.leap.engine import CURRENT_ACCOUNTS, DemandTree, scenario_dir
from carbonlab.leap.power import MWH_PER_TJ, Dispatch, PowerSector
from carbonlab.leap.schema import CityFile
from carbonlab.leap.stock import StockResult

__all__ = ["LEVERS", "SCENARIOS", "CityModel", "ScenarioResult", "city_tree"]

LEVERS: tuple[str, ...] = ("ev_sales_share", "shared_share", "traffic_brain", "industrial_pv",
                           "energy_saving", "renewables", "freight_electric",
                           "building_electrification")
"""Policy levers (fractions). The first five are the city study's; the last three are ours."""
SCENARIOS: tuple[str, ...] = ("baseline", "policy")
_FOSSIL = ("raw_coal", "coal", "oil", "natural_gas", "gasoline", "diesel")
_REQUIRED_FUELS = ("gasoline", "diesel", "electricity")
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
    accounts: dict[str, Any] | None = None  # the data behind the current accounts, if any

    def totals(self) -> pd.Series:
        """Total emissions by year (Mt CO2)."""
        t = self.results.groupby("year")["emissions_mt"].sum()
        return t.rename("emissions_mt")

    @property
    def grid_factor(self) -> pd.Series:
        """Emission factor of the delivered electricity (t CO2/MWh) by year: the city's own
        plants (its scope 1) per MWh delivered; imports are counted where they are made."""
        d = self.power.demand * MWH_PER_TJ
        g = np.divide(self.power.local_emissions * 1e6, d, out=np.zeros_like(d), where=d > 0)
        return pd.Series(g, index=pd.Index(self.years, name="year"), name="grid_factor_t_per_mwh")


def _v(row: Any) -> float:
    return float(row["value"] if isinstance(row, Mapping) else row)


def _var(row: Any, fraction: bool = False, value: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": _v(row) if value is None else value}
    if isinstance(row, Mapping) and row.get("source"):
        out["source"] = str(row["source"])
    if fraction:
        out["fraction"] = True
    return out


def _heat_children(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Fuel leaves of a building sector: fossil heat moved to heat pumps by the lever."""
    fs = {str(k): float(x) for k, x in row["fuel_shares"].items()}
    fossil = sum(x for f, x in fs.items() if f in _FOSSIL)
    kids: list[dict[str, Any]] = []
    for f, x in fs.items():
        share: Any = {"formula": f"{x!r} * (1 - building_electrification)"} if f in _FOSSIL else x
        kids.append({"name": f, "share": share, "fuel": f})
    kids.append({"name": "heat_pumps", "fuel": "electricity",
                 "share": {"formula": f"{fossil!r} * building_electrification"},
                 "intensity": {"formula": "electric_ratio"}})
    return kids


def city_tree(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The LEAP tree of a city file (:class:`~carbonlab.leap.engine.DemandTree` spec).

    Key assumptions: the drivers (``gdp``, ``population``), the levers (fractions), the
    physical parameters the formulas read and ``efficiency`` (1 in the base year). Branches:
    passenger (p-km; cars by occupancy to vehicle-km, EV and ICE by **stock turnover**; bus),
    freight (t-km), industry (value added by branch, fuel shares x TJ per 10^8 yuan, cut by
    energy saving and efficiency), buildings (residential, services; fossil heat to heat
    pumps). Scenarios: ``current_accounts`` (the file's base year) -> ``baseline`` (Growth of
    the drivers from their anchor rates, GrowthAs of every activity, efficiency Growth) ->
    ``policy`` (every lever diffuses from the pilot year).

    Long because it is the tree, written out branch by branch as a LEAP user reads it.
    """
    s = spec
    d, p, f, ind, b = (s[k] for k in ("drivers", "passenger", "freight", "industry", "buildings"))
    gdp0, pop0 = _v(d["gdp_1e8yuan"]), _v(d["population_10k"])
    aeei = _v(s.get("autonomous_efficiency", {"value": 0.0}))
    var: dict[str, Any] = {"gdp": _var(d["gdp_1e8yuan"]), "population": _var(d["population_10k"]),
                           "efficiency": {"value": 1.0, "source": "base-year technology = 1"}}
    for k in ("occupancy_private", "occupancy_shared", "km_per_vehicle", "mj_per_vkm_ice",
              "mj_per_vkm_ev", "bus_mj_per_pkm"):
        var[k] = _var(p[k])
    var["ev_stock_share"] = _var(p.get("ev_stock_share", {"value": 0.0}), fraction=True)
    for k in ("mj_per_tkm_diesel", "mj_per_tkm_electric"):
        var[k] = _var(f[k])
    var["electric_ratio"] = _var(b.get("electric_ratio", {"value": 0.4}))
    for name, lv in s["levers"].items():
        var[name] = _var(lv, fraction=True, value=float(lv["base"]))
    sv = dict(p.get("survival") or {})
    stock = {"of": "city/passenger/car/road", "km_per_vehicle": "km_per_vehicle",
             "sales_share": "ev_sales_share", "stock_share": "ev_stock_share",
             "names": ["ev", "ice"],
             "survival": {k: sv[k] for k in ("median_life", "shape", "max_age",
                                             "sales_growth_before") if k in sv}}
    saving = "(1 - traffic_brain)"
    passenger = {"name": "passenger", "label": "passenger_pkm",
                 "activity": _v(p["pkm_per_capita"]) * pop0 * 1e4, "children": [
                     {"name": "car", "share": _v(p["car_share"]), "children": [
                         {"name": "road", "label": "car_vkm", "activity": {"formula":
                          "(1 - shared_share) / occupancy_private + shared_share / occupancy_shared"},
                          "intensity": {"stock": {**stock, "output": "fill"}}, "children": [
                             {"name": "ev", "fuel": "electricity",
                              "share": {"stock": {**stock, "output": "share"}},
                              "intensity": {"formula": f"mj_per_vkm_ev / 1e6 * {saving}"}},
                             {"name": "ice", "fuel": "gasoline", "share": "remainder",
                              "intensity": {"formula": f"mj_per_vkm_ice / 1e6 * {saving}"}}]}]},
                     {"name": "bus", "fuel": "diesel", "share": "remainder",
                      "intensity": {"formula": f"bus_mj_per_pkm / 1e6 * {saving}"}}]}
    freight = {"name": "freight", "label": "freight_tkm",
               "activity": _v(f["tkm_per_1e4yuan"]) * gdp0 * 1e4, "children": [
                   {"name": "road_diesel", "fuel": "diesel", "share": {"formula": "1 - freight_electric"},
                    "intensity": {"formula": f"mj_per_tkm_diesel / 1e6 * {saving}"}},
                   {"name": "road_electric", "fuel": "electricity",
                    "share": {"formula": "freight_electric"},
                    "intensity": {"formula": f"mj_per_tkm_electric / 1e6 * {saving}"}}]}
    base: dict[str, Any] = {
        "city/passenger:activity": {"growth_as": {"refs": {
            "var:gdp": _v(p["elasticity_gdp"]), "var:population": _v(p["elasticity_population"])}}},
        "city/freight:activity": {"growth_as": {"refs": {"var:gdp": _v(f["elasticity_gdp"])}}},
        "var:gdp": {"growth": {int(k): float(x) for k, x in d["gdp_growth"]["value"].items()}},
        "var:population": {"growth": {int(k): float(x)
                                      for k, x in d["population_growth"]["value"].items()}},
        "var:efficiency": {"growth": -aeei},
    }
    branches = []
    for name, row in ind["branches"].items():
        inten = {str(k): float(x) for k, x in row["tj_per_1e8yuan"].items()}
        tot = sum(inten.values())
        branches.append({"name": name, "label": f"industry_{name}_va",
                         "activity": gdp0 * _v(ind["value_added_share"]) * float(row["share"]),
                         "intensity": tot, "children": [
                             {"name": k, "fuel": k, "share": x / tot if tot else 0.0}
                             for k, x in inten.items()]})
        base[f"city/industry/{name}:activity"] = {
            "growth_as": {"refs": {"var:gdp": float(row["elasticity_gdp"])}}}
    res, svc = b["residential"], b["services"]
    e_inc = _v(res["elasticity_income"])
    buildings = {"name": "buildings", "activity": 1.0, "intensity": {"formula": "efficiency"},
                 "children": [
                     {"name": "residential", "label": "residential_tj",
                      "activity": _v(res["gj_per_capita"]) * pop0 * 1e4 / 1e3,
                      "children": _heat_children(res)},
                     {"name": "services", "label": "services_tj",
                      "activity": _v(svc["tj_per_1e8yuan"]) * gdp0, "children": _heat_children(svc)}]}
    base["city/buildings/residential:activity"] = {"growth_as": {"refs": {
        "var:population": 1.0 - e_inc, "var:gdp": e_inc}}}
    base["city/buildings/services:activity"] = {"growth_as": {"refs": {"var:gdp": 1.0}}}
    policy = {f"var:{name}": {"diffuse": {k: v for k, v in (
        ("rate", float(lv["rate"])), ("r", float(lv.get("r", 0.2))), ("t0", "pilot"),
        ("reading", str(s.get("reading", "relative"))),
        ("K", None if lv.get("K") is None else float(lv["K"]))) if v is not None}}
        for name, lv in s["levers"].items()}
    extra = []
    if s.get("other"):
        o = s["other"]
        tot = sum(float(x) for x in o["tj"].values())
        if tot > 0:
            extra.append({"name": "other", "label": "other_tj", "activity": tot,
                          "intensity": {"formula": "efficiency"}, "children": [
                              {"name": k, "fuel": k, "share": float(x) / tot}
                              for k, x in o["tj"].items()]})
            base["city/other:activity"] = {"growth_as": {"refs": {
                "var:gdp": _v(o["elasticity_gdp"])}}}
    if s.get("process") and _v(s["process"]["mt"]) > 0:
        extra.append({"name": "process", "label": "process_mt", "activity": _v(s["process"]["mt"]),
                      "children": [{"name": "co2", "fuel": "process", "share": 1.0}]})
        base["city/process:activity"] = {"growth_as": {"refs": {
            "var:gdp": _v(s["process"]["elasticity_gdp"])}}}
    return {
        "name": s["name"], "city": s.get("city", s["name"]), "pilot_year": s.get("pilot_year"),
        "base_year": int(s.get("base_year", 2019)), "end_year": int(s.get("end_year", 2035)),
        "fuels": {k: dict(v) for k, v in s["fuels"].items()}, "variables": var,
        "tree": {"name": "city", "activity": float(s.get("calibration_factor", 1.0)), "children": [
            passenger, freight,
            {"name": "industry", "activity": 1.0, "children": branches,
             "intensity": {"formula": "(1 - energy_saving) * efficiency"}},
            buildings, *extra]},
        "scenarios": {
            "baseline": {"parent": CURRENT_ACCOUNTS, "expressions": base,
                         "description": "drivers grow at the file's rates; activities GrowthAs "
                                        "the drivers; levers stay at base-year levels"},
            "policy": {"parent": "baseline", "expressions": policy,
                       "description": "smart-city pilot policy: every lever diffuses beyond its "
                                      "base-year level from the pilot year"}},
    }


class CityModel:
    """A city's LEAP model on the one engine: a :class:`~carbonlab.leap.engine.DemandTree`
    (:func:`city_tree`) plus the power sector; build with :meth:`from_yaml`."""

    template: bool = False

    def __init__(self, spec: Mapping[str, Any], source: str = "") -> None:
        self.source = source or str(spec.get("name", "city"))
        self.spec = copy.deepcopy(dict(spec))
        validate_schema(CityFile, self.spec, self.source)
        s = self.spec
        self.name = str(s["name"])
        self.city = str(s.get("city") or self.name)
        self.factors = {str(f): float(row["t_co2_per_tj"]) for f, row in s["fuels"].items()}
        self._power()   # the plants' own checks (PowerSector)
        self.tree = DemandTree(city_tree(s), self.source)

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

    def with_accounts(self, province: str, year: int, total_mt: float) -> CityModel:
        """A copy whose current accounts come from data (:mod:`carbonlab.leap.accounts`).

        The province's CEADs structure in ``year`` scaled to the city's ``total_mt``
        (Mt CO2): a proxy, stated in every source. The import share is what the city's
        requirement leaves after its plants' generation in the base year (negative: a net
        exporter, as its province).
        """
        from carbonlab.leap.accounts import accounts_spec, province_accounts, scaled_accounts

        acc = scaled_accounts(province_accounts(province, int(year)), float(total_mt))
        spec = accounts_spec(self.spec, acc)
        spec["base_year"], spec["pilot_year"] = int(year), self.pilot_year
        spec["end_year"] = max(int(self.end_year), int(year) + 1)
        spec["power"]["import_share"] = {"value": 0.0, "source": "derived below"}
        m = CityModel(spec, f"{self.source} + {acc['source']}")
        dem, vals, _ = m.tree.solve_run(CURRENT_ACCOUNTS)
        d0 = dem[(dem["year"] == year) & (dem["fuel"] == "electricity")]
        el = float(d0["energy"].sum())
        ind = float(d0.loc[d0["sector"] == "industry", "energy"].sum())
        pw = m._power()
        need = el / (1 - pw.loss)
        rest = need - float(vals["var:industrial_pv"][0]) * ind \
            - float(vals["var:renewables"][0]) * need
        gen = float(spec["power"]["thermal_tj"]) if pw.plants else 0.0
        share = 1.0 - gen / rest if rest > 0 else 0.0
        spec["power"]["import_share"] = {"value": min(share, 1.0), "source": (
            f"{acc['source']}: 1 - local thermal generation / what the city's requirement "
            "leaves after PV and non-thermal generation (negative: net exporter)")}
        new = CityModel(spec, m.source)
        new.city, new.name = self.city, self.name
        return new

    def copy(self) -> CityModel:
        """A deep copy (calibration and lever changes never mutate the original)."""
        new = copy.copy(self)
        new.tree = self.tree.copy()
        return new

    # ------------------------------------------------------------------ the tree's settings
    @property
    def base_year(self) -> int:
        return self.tree.base_year

    @base_year.setter
    def base_year(self, year: int) -> None:
        self.tree.base_year = int(year)

    @property
    def end_year(self) -> int:
        return self.tree.end_year

    @end_year.setter
    def end_year(self, year: int) -> None:
        self.tree.end_year = int(year)

    @property
    def pilot_year(self) -> int | None:
        return self.tree.pilot_year

    @pilot_year.setter
    def pilot_year(self, year: int | None) -> None:
        self.tree.pilot_year = year

    @property
    def scale(self) -> float:
        """The calibration factor: the root activity of the current accounts."""
        return float(self.tree.evaluate(CURRENT_ACCOUNTS)[f"{self.tree.root}:activity"][0])

    @property
    def calibration_deviation(self) -> float:
        return float(getattr(self.tree, "calibration_deviation", 0.0))

    @property
    def levers(self) -> dict[str, dict[str, Any]]:
        """Each lever's base-year level and policy diffusion (base, K, rate, r), a copy."""
        exprs = self.tree.scenarios["policy"]["expressions"]
        out = {}
        for name in LEVERS:
            d = exprs[f"var:{name}"]["diffuse"]
            out[name] = {"base": float(self.tree.variables[name]["value"]),
                         "K": None if d.get("K") is None else float(d["K"]),
                         "rate": float(d["rate"]), "r": float(d.get("r", 0.2))}
        return out

    @property
    def reading(self) -> str:
        d = self.tree.scenarios["policy"]["expressions"][f"var:{LEVERS[0]}"]["diffuse"]
        return str(d.get("reading", "pp"))

    def years(self) -> np.ndarray:
        """Modelled years, base year to end year."""
        return self.tree.years()

    def t0(self) -> float:
        """Inflection year of the policy diffusion: the pilot year (never: base year + 1)."""
        return self.tree.resolve_t0("pilot")

    def with_policy(self, *, r: float | None = None, K: Mapping[str, float] | None = None,
                    rate: Mapping[str, float] | None = None, pilot_year: Any = ...,
                    reading: str | None = None) -> CityModel:
        """A copy with diffusion speed, saturation levels, rates, pilot year or reading replaced."""
        for label, m in (("K", K or {}), ("rate", rate or {})):
            bad = set(m) - set(LEVERS)
            if bad:
                raise ParameterError(f"{label}: unknown lever(s) {sorted(bad)}; known {', '.join(LEVERS)}")
        if pilot_year is not ... and pilot_year is not None and pilot_year not in (2012, 2013, 2015):
            raise ParameterError(f"pilot_year: {pilot_year!r} is not a pilot batch "
                                 "(2012, 2013, 2015) or None")
        new = copy.copy(self)
        new.tree = self.tree.with_policy("policy", r=r, K=K, rate=rate, pilot_year=pilot_year,
                                         reading=reading)
        return new

    def lever_paths(self, scenario: str = "policy", reading: str | None = None) -> pd.DataFrame:
        """Each lever by year (fraction): constant in the baseline, diffusing in the policy."""
        if scenario not in SCENARIOS:
            raise ParameterError(f"scenario: {scenario!r} is not one of {', '.join(SCENARIOS)}")
        m = self if reading is None else self.with_policy(reading=reading)
        vals = m.tree.evaluate(scenario)
        return pd.DataFrame({k: vals[f"var:{k}"] for k in LEVERS},
                            index=pd.Index(self.years(), name="year"))

    # ------------------------------------------------------------------ supply
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

    def _solve(self, scenario: str, tree: DemandTree | None = None
               ) -> tuple[pd.DataFrame, Dispatch, dict[str, np.ndarray], dict[str, StockResult]]:
        """The one calculation: the tree's demand, then the power sector dispatches it."""
        tree = tree or self.tree
        if scenario not in (*SCENARIOS, CURRENT_ACCOUNTS):
            raise ParameterError(f"scenario: {scenario!r} is not one of {', '.join(SCENARIOS)}")
        dem, vals, stocks = tree.solve_run(scenario)
        n = len(tree.years())
        el = dem[dem["fuel"] == "electricity"]
        by_year = el.groupby("year", sort=True)["energy"].sum().reindex(tree.years(),
                                                                         fill_value=0.0)
        ind_el = el[el["sector"] == "industry"].groupby("year", sort=True)["energy"].sum() \
            .reindex(tree.years(), fill_value=0.0).to_numpy()
        disp = self._power().dispatch(by_year.to_numpy() + np.zeros(n),
                                      pv=vals["var:industrial_pv"] * ind_el,
                                      renewables_share=vals["var:renewables"])
        return dem, disp, vals, stocks

    def _total(self, tree: DemandTree, scenario: str) -> np.ndarray:
        """Total emissions by year: the same tree and dispatch as :meth:`run`, without tables."""
        vals, _ = tree.solve(scenario)
        n = len(tree.years())
        el, ind_el, direct = np.zeros(n), np.zeros(n), np.zeros(n)
        for path, fac in tree._leaf_factors(vals).items():
            energy = np.prod([v for k, v in fac.items() if k != "emission_factor"], axis=0)
            direct += energy * fac["emission_factor"]
            if tree.branches[path].fuel == "electricity":
                el += energy
                if path.split("/")[1] == "industry":
                    ind_el += energy
        disp = self._power().dispatch(el, pv=vals["var:industrial_pv"] * ind_el,
                                      renewables_share=vals["var:renewables"])
        return direct + disp.local_emissions

    def total_emissions(self, scenario: str = "policy", reading: str | None = None) -> np.ndarray:
        """Total emissions by year (Mt CO2): demand branches' fuels plus the power sector."""
        m = self if reading is None else self.with_policy(reading=reading)
        return m._total(m.tree, scenario)

    def run(self, scenario: str = "baseline", reading: str | None = None,
            levers: pd.DataFrame | None = None) -> ScenarioResult:
        """Run one scenario: results by branch, fuel and year, stock, dispatch, levers.

        ``levers`` (a year x lever frame, fractions) replaces the scenario's lever paths.
        """
        m = self if reading is None else self.with_policy(reading=reading)
        if levers is not None:
            m = m.copy()
            for k in levers.columns:
                if k not in LEVERS:
                    raise ParameterError(f"levers: unknown lever {k!r}; known {', '.join(LEVERS)}")
                m.tree.set_expression(scenario, f"var:{k}", {"interp": {
                    int(y): float(x) for y, x in levers[k].items()}})
        dem, disp, vals, stocks = m._solve(scenario)
        yrs = m.years()
        n = len(yrs)
        # the city's scope 1: its plants' emissions per TJ delivered (imports are scope 2)
        grid = np.divide(disp.local_emissions, disp.demand, out=np.zeros(n), where=disp.demand > 0)
        out = pd.DataFrame({"sector": dem["sector"], "branch": dem["branch"], "fuel": dem["fuel"],
                            "year": dem["year"], "energy_tj": dem["energy"],
                            "emissions_mt": dem["emissions"],
                            "emissions_attributed_mt": np.where(
                                dem["fuel"] == "electricity",
                                dem["energy"] * grid[dem["year"].to_numpy() - yrs[0]],
                                dem["emissions"]),
                            "activity": dem["activity"], "activity_name": dem["activity_name"]})
        plants = self.spec["power"].get("plants") or {}
        frames = [out]
        for plant, g in disp.generation.items():
            p = plants.get(plant)
            frames.append(pd.DataFrame({"sector": "power", "branch": f"power/{plant}",
                                        "fuel": p["fuel"] if p else plant, "year": yrs,
                                        "energy_tj": g / p["efficiency"] if p else g,
                                        "emissions_mt": disp.emissions.get(plant, np.zeros(n)),
                                        "emissions_attributed_mt": 0.0, "activity": g,
                                        "activity_name": "generation_tj"}))
        frames.append(pd.DataFrame({"sector": "power", "branch": "power/imports",
                                    "fuel": "electricity", "year": yrs, "energy_tj": disp.imports,
                                    "emissions_mt": 0.0,  # scope 2: outside the city's inventory
                                    "emissions_attributed_mt": 0.0, "activity": disp.imports,
                                    "activity_name": "imports_tj"}))
        res = pd.concat(frames, ignore_index=True)
        res.insert(0, "scenario", scenario)
        res.attrs["units"] = {"energy_tj": "TJ", "emissions_mt": "Mt CO2",
                              "emissions_attributed_mt": "Mt CO2 (electricity at the grid factor)"}
        tot = dem.attrs["total_activity"]
        acts = pd.DataFrame({b.label: tot[b.path] for b in m.tree.branches.values() if b.label},
                            index=pd.Index(yrs, name="year"))
        stock = next(iter(stocks.values()))
        acts["car_stock"] = stock.total
        acts["car_sales"] = stock.sales["ev"] + stock.sales["ice"]
        acts["ev_stock_share"] = stock.share("ev")
        lv = pd.DataFrame({k: vals[f"var:{k}"] for k in LEVERS}, index=pd.Index(yrs, name="year"))
        acc = self.spec.get("accounts")
        return ScenarioResult(scenario, yrs, res, stock, disp, lv, acts,
                              None if acc is None else {**acc, "base_year": int(yrs[0])})

    def totals(self, scenario: str = "baseline", reading: str | None = None) -> pd.Series:
        """Total emissions by year (Mt CO2)."""
        return self.run(scenario, reading).totals()

    # ------------------------------------------------------------------ calibration
    def calibrate(self, history: pd.Series, forecast: pd.Series | None = None) -> CityModel:
        """A copy calibrated to the inventory (and, given, the ML baseline forecast).

        ``history``: emissions by year (Mt CO2); its last year becomes the base year.
        ``forecast``: Mt CO2 for consecutive years after it; the baseline reproduces it
        (:meth:`~carbonlab.leap.engine.DemandTree.calibrate` on the city's totals).
        """
        if not isinstance(history, pd.Series) or history.dropna().empty:
            raise ParameterError("history must be a non-empty Series year -> Mt CO2")
        new = copy.copy(self)
        tree = self.tree.copy()
        tree.set_expression(CURRENT_ACCOUNTS, f"{tree.root}:activity", 1.0)
        try:
            new.tree = tree.calibrate(history, forecast, total=self._total)
        except DataError as exc:
            if "must be > 0" in str(exc) and "base-year activity" in str(exc):
                raise DataError(f"{self.source}: the city file gives no base-year emissions") from None
            raise
        return new
