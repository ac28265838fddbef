"""LEAP-style city energy and emission scenarios (chapter 5).

The package separates the generic engine from the city pipeline:

- :mod:`~carbonlab.leap.engine` -- demand trees, expressions, scenario inheritance,
  logistic diffusion (both readings of a yearly rate), LMDI;
- :mod:`~carbonlab.leap.stock` -- vehicle stock turnover (sales, survival, vintages);
- :mod:`~carbonlab.leap.power` -- the power sector (generation mix, efficiencies, losses);
- :mod:`~carbonlab.leap.city` -- a city's LEAP model (physical activity, levers, calibration);
- :mod:`~carbonlab.leap.results` -- energy balance, emissions tables, Sankey;
- :mod:`~carbonlab.leap.forecast` -- honest univariate city forecasts (registry models,
  rolling-origin recursive scores, all-cities table);
- :mod:`~carbonlab.leap.pilots` -- smart-city pilot batches and user pilot lists;
- :mod:`~carbonlab.leap.pipeline` -- one city end to end; :mod:`~carbonlab.leap.sensitivity`
  -- Sobol and Monte Carlo; :mod:`~carbonlab.leap.plots` -- the chapter's figures;
  :mod:`~carbonlab.leap.describe` -- the chapter's sentences; :mod:`~carbonlab.leap.study`
  -- the study's four cities, one choice at a time.

Everything public is re-exported here (``from carbonlab import leap; leap.run_city(...)``).
"""

from carbonlab.leap.accounts import *  # noqa: F403
from carbonlab.leap.city import *  # noqa: F403
from carbonlab.leap.describe import *  # noqa: F403
from carbonlab.leap.engine import *  # noqa: F403
from carbonlab.leap.forecast import *  # noqa: F403
from carbonlab.leap.pilots import *  # noqa: F403
from carbonlab.leap.pipeline import *  # noqa: F403
from carbonlab.leap.plots import *  # noqa: F403
from carbonlab.leap.power import *  # noqa: F403
from carbonlab.leap.results import *  # noqa: F403
from carbonlab.leap.sensitivity import *  # noqa: F403
from carbonlab.leap.spread import *  # noqa: F403
from carbonlab.leap.stock import *  # noqa: F403
from carbonlab.leap.study import *  # noqa: F403
