"""The real-data loaders under their earlier import path (kept for one release).

The loaders now live by source: :mod:`carbonlab.data.ceads` (CEADs provinces, both
releases, national, cities), :mod:`carbonlab.data.gcam` (GCAM-China population,
urbanisation, GDP, generation, electricity flows, grids), :mod:`carbonlab.data.nbs`,
:mod:`carbonlab.data.nbs_provinces`, :mod:`carbonlab.data.techme`,
:mod:`carbonlab.data.wpp`; the shared (private) readers are in :mod:`carbonlab.data._read`,
not re-exported here. The
real panel is :func:`carbonlab.data.panel.real_panel` (``load_panel("ceads")``).
"""

from __future__ import annotations

from carbonlab.data.ceads import (  # noqa: F401 (re-exported for the loaders' old path)
    CEADS_FUELS,
    CEADS_SECTORS,
    CITIES_FILE,
    NATIONAL_FILE,
    POWER_SECTOR,
    PROVINCE_YEARS,
    ceads_cities,
    ceads_national,
    ceads_power_sector_emissions,
    ceads_province_fuels,
    ceads_province_sectors,
    ceads_province_totals,
    province_file,
)
from carbonlab.data.gcam import (  # noqa: F401
    COMPENDIUM_FILE,
    CPSY_FILE,
    CSY_POP_FILE,
    FLOWS_FILE,
    GDP_FILE,
    MAPPING_FILE,
    URBAN_FILE,
    gdp_real,
    generation_by_fuel,
    grid_mapping,
    net_electricity_imports,
    population,
    urbanisation,
)
from carbonlab.data.registry import data_dir  # noqa: F401

__all__ = [
    "data_dir", "CEADS_FUELS", "CEADS_SECTORS", "POWER_SECTOR", "PROVINCE_YEARS",
    "province_file", "ceads_province_fuels", "ceads_province_sectors",
    "ceads_power_sector_emissions", "ceads_province_totals", "ceads_national", "ceads_cities",
    "population", "urbanisation", "gdp_real", "generation_by_fuel", "net_electricity_imports",
    "grid_mapping",
]
