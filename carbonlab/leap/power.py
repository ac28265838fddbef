"""The power sector (LEAP's transformation module): generation mix, efficiencies, losses.

Electricity delivered to the demand sectors, ``D`` (TJ), needs ``D / (1 - loss)`` at the
busbar. That requirement is met, in this order, by

1. on-site / distributed **solar PV**: ``pv`` TJ given by the PV lever;
2. **other renewables** (hydro, wind): ``renewables_share`` of the requirement;
3. the rest, ``R``, split between **imports** from the regional grid (``import_share`` of
   R, at the regional grid's emission factor; negative for a net exporter, whose plants
   then generate more than R) and **local fossil plants** in their base-year proportions;
   a fossil plant burns ``generation / efficiency`` TJ of its fuel.

Emissions are the fossil inputs times their factors (the city's scope 1,
:attr:`Dispatch.local_emissions`) plus the imports times the import factor (scope 2); the
**grid emission factor** of the delivered electricity is their sum over D. More
PV or renewables leaves less for fossil plants and imports, so the factor falls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from carbonlab._util import DataError, ParameterError

__all__ = ["MWH_PER_TJ", "Dispatch", "PowerSector"]

MWH_PER_TJ = 1e6 / 3600.0
"""277.78 MWh per TJ."""


@dataclass
class Dispatch:
    """One dispatch over years (energy in TJ, emissions in Mt CO2)."""

    demand: np.ndarray                      # electricity delivered to final demand
    losses: np.ndarray                      # transmission and distribution losses
    generation: dict[str, np.ndarray]       # plant -> electricity generated (incl. "solar_pv")
    imports: np.ndarray                     # electricity imported from the regional grid
    fuel_input: dict[str, np.ndarray]       # fuel -> TJ burnt / used by local plants
    emissions: dict[str, np.ndarray]        # plant (and "imports") -> Mt CO2
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def total_emissions(self) -> np.ndarray:
        """Local plants and imports (Mt CO2): the emissions of the electricity delivered."""
        return sum(self.emissions.values())  # type: ignore[return-value]

    @property
    def local_emissions(self) -> np.ndarray:
        """Local plants only (Mt CO2): the city's scope 1, as its inventory counts."""
        return sum(v for k, v in self.emissions.items() if k != "imports")  # type: ignore[return-value]

    @property
    def grid_factor_t_per_mwh(self) -> np.ndarray:
        """Emissions per MWh delivered (t CO2/MWh)."""
        d = self.demand * MWH_PER_TJ
        return np.divide(self.total_emissions * 1e6, d, out=np.zeros_like(d), where=d > 0)


class PowerSector:
    """A city's power supply: plants with fuel and efficiency, imports and losses.

    ``plants`` maps a plant name to ``{fuel, efficiency, share}`` where ``share`` is the
    plant's share of base-year *local fossil* generation (fossil shares sum to 1);
    renewables (hydro, wind) enter through ``renewables_share`` and PV through the PV lever.
    ``factors`` are t CO2 per TJ of fuel. ``import_factor_t_per_mwh`` is the regional grid's.
    """

    def __init__(self, plants: Mapping[str, Mapping[str, Any]], *, loss: float,
                 import_share: float, import_factor_t_per_mwh: float,
                 factors: Mapping[str, float], source: str = "power") -> None:
        self.source = source
        if not 0 <= loss < 1:
            raise DataError(f"{source}: loss must be in [0, 1), got {loss}")
        if not import_share <= 1:
            raise DataError(f"{source}: import_share must be <= 1 (negative: a net exporter), "
                            f"got {import_share}")
        if not import_factor_t_per_mwh >= 0:
            raise DataError(f"{source}: import_factor_t_per_mwh must be >= 0")
        self.loss = float(loss)
        self.import_share = float(import_share)
        self.import_factor = float(import_factor_t_per_mwh)
        self.plants: dict[str, dict[str, Any]] = {}
        for name, p in plants.items():
            for key in ("fuel", "efficiency", "share"):
                if key not in p:
                    raise DataError(f"{source}: plant {name} needs {key}")
            if p["fuel"] not in factors:
                raise DataError(f"{source}: plant {name}: no emission factor for fuel {p['fuel']!r}")
            if not 0 < float(p["efficiency"]) <= 1:
                raise DataError(f"{source}: plant {name}: efficiency must be in (0, 1]")
            self.plants[str(name)] = {"fuel": str(p["fuel"]), "efficiency": float(p["efficiency"]),
                                      "share": float(p["share"])}
        tot = sum(p["share"] for p in self.plants.values())
        if self.plants and abs(tot - 1.0) > 1e-9:
            raise DataError(f"{source}: fossil plant shares sum to {tot:.6g}, not 1")
        self.factors = {k: float(v) for k, v in factors.items()}

    def dispatch(self, demand: Any, pv: Any = 0.0, renewables_share: Any = 0.0) -> Dispatch:
        """Meet ``demand`` (TJ delivered) with PV (TJ), renewables (share) and the rest."""
        d = np.asarray(demand, dtype=float)
        if np.any(d < 0):
            raise ParameterError("dispatch: electricity demand must be >= 0")
        need = d / (1.0 - self.loss)
        pv = np.broadcast_to(np.asarray(pv, float), d.shape).copy()
        ren = np.broadcast_to(np.asarray(renewables_share, float), d.shape) * need
        if np.any(pv < 0) or np.any(ren < 0):
            raise ParameterError("dispatch: PV and renewables must be >= 0")
        over = pv + ren > need
        if np.any(over):  # PV and renewables cover everything: curtail renewables first
            ren = np.where(over, np.maximum(need - pv, 0.0), ren)
            pv = np.minimum(pv, need)
        rest = need - pv - ren
        imports = self.import_share * rest
        fossil = rest - imports
        gen: dict[str, np.ndarray] = {"solar_pv": pv, "renewables": ren}
        fuel_in: dict[str, np.ndarray] = {}
        emis: dict[str, np.ndarray] = {}
        for name, p in self.plants.items():
            g = fossil * p["share"]
            gen[name] = g
            inp = g / p["efficiency"]
            fuel_in[p["fuel"]] = fuel_in.get(p["fuel"], 0.0) + inp
            emis[name] = inp * self.factors[p["fuel"]] / 1e6
        emis["imports"] = imports * MWH_PER_TJ * self.import_factor / 1e6
        return Dispatch(demand=d, losses=need - d, generation=gen, imports=imports,
                        fuel_input=fuel_in, emissions=emis)
