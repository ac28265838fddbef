"""The declared schema of a city file (``data/scenarios/cities/*.yaml``; pydantic).

Read through :func:`carbonlab._util.validate_schema`, so every problem is one line naming
the file and the key (``lanzhou.yaml: passenger.km_per_vehicle: missing key 'source'``).
Every number carries a ``source`` (a publication or the word "assumption"); shares and
levers are fractions; sums that must close (industry branches, building fuel shares, power
plants) are checked here too.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

__all__ = ["CityFile"]


def _finite(v: float) -> float:
    if not math.isfinite(v):
        raise ValueError(f"must be finite, got {v}")
    return v


Num = Annotated[float, AfterValidator(_finite)]
NonNeg = Annotated[float, Field(ge=0), AfterValidator(_finite)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A publication or the word "assumption" (not empty)."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Value(_M):
    """A number with its source."""

    value: NonNeg
    source: Source


class Share(_M):
    value: Fraction
    source: Source


class Anchors(_M):
    """Yearly rates at anchor years (linear between, constant beyond)."""

    value: dict[int, Num] = Field(min_length=1)
    source: Source


class Drivers(_M):
    gdp_1e8yuan: Value
    population_10k: Value
    gdp_growth: Anchors
    population_growth: Anchors


class Fuel(_M):
    t_co2_per_tj: NonNeg
    source: Source
    non_energy: bool = False


class Survival(_M):
    median_life: NonNeg = 15
    shape: NonNeg = 3.5
    max_age: int = Field(30, ge=1)
    sales_growth_before: Num = 0.05
    source: Source


class Passenger(_M):
    pkm_per_capita: Value
    elasticity_gdp: Value
    elasticity_population: Value
    car_share: Share
    occupancy_private: Value
    occupancy_shared: Value
    km_per_vehicle: Value
    mj_per_vkm_ice: Value
    mj_per_vkm_ev: Value
    bus_mj_per_pkm: Value
    ev_stock_share: Share | None = None
    bus_share_of_transport_diesel: Share | None = None
    survival: Survival | None = None


class Freight(_M):
    tkm_per_1e4yuan: Value
    elasticity_gdp: Value
    mj_per_tkm_diesel: Value
    mj_per_tkm_electric: Value


class IndustryBranch(_M):
    share: Fraction
    elasticity_gdp: NonNeg
    tj_per_1e8yuan: dict[str, NonNeg]
    source: Source


class Industry(_M):
    value_added_share: Share
    branches: dict[str, IndustryBranch] = Field(min_length=1)

    @model_validator(mode="after")
    def _close(self) -> Industry:
        tot = sum(b.share for b in self.branches.values())
        if abs(tot - 1.0) > 1e-9:
            raise ValueError(f"industry.branches shares sum to {tot:.6g}, not 1")
        return self


def _shares_close(shares: dict[str, float], where: str) -> None:
    tot = sum(shares.values())
    if abs(tot - 1.0) > 1e-9:
        raise ValueError(f"{where}.fuel_shares sum to {tot:.6g}, not 1")


class Residential(_M):
    gj_per_capita: NonNeg
    elasticity_income: Num
    fuel_shares: dict[str, Fraction]
    source: Source

    @model_validator(mode="after")
    def _close(self) -> Residential:
        _shares_close(self.fuel_shares, "buildings.residential")
        return self


class Services(_M):
    tj_per_1e8yuan: NonNeg
    fuel_shares: dict[str, Fraction]
    source: Source

    @model_validator(mode="after")
    def _close(self) -> Services:
        _shares_close(self.fuel_shares, "buildings.services")
        return self


class Buildings(_M):
    residential: Residential
    services: Services
    electric_ratio: Value | None = None


class Plant(_M):
    fuel: str
    efficiency: Annotated[float, Field(gt=0, le=1)]
    share: Fraction


class Power(_M):
    loss: Value
    import_share: dict[str, Any]          # may be negative (a net exporter): checked by PowerSector
    import_factor_t_per_mwh: Value
    plants: dict[str, Plant] = {}
    efficiency_source: str | None = None  # set when the structure comes from data
    thermal_tj: float | None = None

    @model_validator(mode="after")
    def _close(self) -> Power:
        if not str(self.import_share.get("source", "")).strip():
            raise ValueError("power.import_share: needs a source (a publication or 'assumption')")
        tot = sum(p.share for p in self.plants.values())
        if self.plants and abs(tot - 1.0) > 1e-9:
            raise ValueError(f"power.plants: fossil plant shares sum to {tot:.6g}, not 1")
        return self


class Lever(_M):
    base: Fraction
    rate: NonNeg
    r: Annotated[float, Field(gt=0)] = 0.2
    K: Fraction | None = None
    source: Source


class Levers(_M):
    ev_sales_share: Lever
    shared_share: Lever
    traffic_brain: Lever
    industrial_pv: Lever
    energy_saving: Lever
    renewables: Lever
    freight_electric: Lever
    building_electrification: Lever


class CityFile(_M):
    """A city file's top level (format in ``template.yaml``)."""

    name: str
    city: str = ""
    city_zh: str = ""
    province: str = ""
    pilot_year: Literal[2012, 2013, 2015] | None = None
    pilot_source: str = ""
    base_year: int = 2019
    end_year: int = 2035
    reading: Literal["relative", "pp"] = "relative"
    calibration_factor: NonNeg = 1.0
    drivers: Drivers
    fuels: dict[str, Fuel]
    passenger: Passenger
    freight: Freight
    industry: Industry
    buildings: Buildings
    autonomous_efficiency: Value | None = None
    power: Power
    levers: Levers
    # written by CityModel.with_accounts when the structure comes from data
    other: dict[str, Any] | None = None
    process: dict[str, Any] | None = None
    accounts: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _years(self) -> CityFile:
        if self.end_year <= self.base_year:
            raise ValueError(f"end_year {self.end_year} must be after base_year {self.base_year}")
        known = set(self.fuels)
        for need in ("gasoline", "diesel", "electricity"):
            if need not in known:
                raise ValueError(f"fuels: missing {need}")
        used = [(f"industry.branches.{b}.tj_per_1e8yuan", f) for b, row in
                self.industry.branches.items() for f in row.tj_per_1e8yuan]
        used += [(f"buildings.{k}.fuel_shares", f) for k in ("residential", "services")
                 for f in getattr(self.buildings, k).fuel_shares]
        used += [(f"power.plants.{p}", row.fuel) for p, row in self.power.plants.items()]
        for where, f in used:
            if f not in known:
                raise ValueError(f"{where}: unknown fuel {f!r} (add it under fuels)")
        return self
