"""Physical units of energy statistics and their conversion to base units.

Base units: ``kg`` for solid and liquid fuels, ``m3`` for gases, ``kWh`` for
electricity, ``TJ`` for energy. Standard coal: 1 tce = 29.3076 GJ (GB/T 2589).
An unknown unit is always an error, never a silent zero.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonlab._util import DataError

__all__ = ["UNITS", "GJ_PER_TCE", "unit_kind", "to_base", "C_TO_CO2"]

GJ_PER_TCE = 29.3076
"""Lower heating value of one tonne of standard coal equivalent, GJ/tce (GB/T 2589-2020)."""

C_TO_CO2 = 44.0 / 12.0
"""Mass ratio of CO2 to C."""

# unit -> (kind, factor to the kind's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "kg": ("mass", 1.0),
    "t": ("mass", 1e3),
    "kt": ("mass", 1e6),
    "10^4 t": ("mass", 1e7),
    "Mt": ("mass", 1e9),
    "m3": ("volume", 1.0),
    "10^4 m3": ("volume", 1e4),
    "10^8 m3": ("volume", 1e8),
    "kWh": ("electricity", 1.0),
    "MWh": ("electricity", 1e3),
    "GWh": ("electricity", 1e6),
    "10^8 kWh": ("electricity", 1e8),
    "TWh": ("electricity", 1e9),
    "GJ": ("energy", 1e-3),
    "TJ": ("energy", 1.0),
    "PJ": ("energy", 1e3),
    "10^10 kJ": ("energy", 10.0),
    "tce": ("energy", GJ_PER_TCE * 1e-3),
    "10^4 tce": ("energy", GJ_PER_TCE * 10.0),
    "Mtce": ("energy", GJ_PER_TCE * 1e3),
}


def unit_kind(unit: str, where: str = "unit") -> str:
    """``mass``, ``volume``, ``electricity`` or ``energy``; DataError for an unknown unit."""
    try:
        return UNITS[unit][0]
    except KeyError:
        raise DataError(
            f"{where}: unknown unit {unit!r} (known: {', '.join(UNITS)})"
        ) from None


def to_base(quantity: pd.Series | np.ndarray, unit: pd.Series | np.ndarray, where: str = "unit"
            ) -> tuple[np.ndarray, np.ndarray]:
    """Convert quantities to base units; returns ``(values, kinds)`` arrays."""
    unit = pd.Series(np.asarray(unit, dtype=object))
    bad = ~unit.isin(list(UNITS))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        unit_kind(unit.iloc[i], where=f"{where}, row {i}")
    factor = unit.map(lambda u: UNITS[u][1]).to_numpy(dtype=float)
    kinds = unit.map(lambda u: UNITS[u][0]).to_numpy(dtype=object)
    return np.asarray(quantity, dtype=float) * factor, kinds
