"""carbonlab: carbon-peak forecasting for Chinese provinces and cities.

Modules, in the order data flows through them (each imports only modules
above it in this list):

- :mod:`carbonlab.cache` — the one content-keyed disk cache
- :mod:`carbonlab.regions`, :mod:`carbonlab.units` — names and units
- :mod:`carbonlab.data` — the teaching panel, real-data loaders, schemas
- :mod:`carbonlab.accounting` — IPCC factor-method emission accounting
- :mod:`carbonlab.synth` — the generator of the teaching panel
- :mod:`carbonlab.bma` — Bayesian model averaging (Zellner g-prior)
- :mod:`carbonlab.models` — the model zoo, splits and metrics
- :mod:`carbonlab.scenarios`, :mod:`carbonlab.peaks` — scenarios, forecasts, peaks
- :mod:`carbonlab.leap` — LEAP-style demand trees and policy scenarios
- :mod:`carbonlab.plotting` — the house figure style
- :mod:`carbonlab.runner` — the one notebook runner (papermill, checked and atomic)
- :mod:`carbonlab.batch` — parameter grids on a Dask cluster
- :mod:`carbonlab.book`, :mod:`carbonlab.cli` — the book build, the CLI
"""

__version__ = "0.1.0"
