"""Deprecated location of :mod:`carbonlab.forecast` (kept for one release).

``carbonlab.peaks`` was one 1,400-line module; it is now the package
:mod:`carbonlab.forecast` (peak rule, paths, ensembles, outlook, inverse problem, backtest,
plots). Every name the package exports is re-exported here unchanged, so ``from
carbonlab.peaks import find_peak`` keeps working; new code imports from
:mod:`carbonlab.forecast`.
"""

from __future__ import annotations

import carbonlab.forecast as _forecast

globals().update({k: v for k, v in vars(_forecast).items()
                  if not k.startswith("_") and not isinstance(v, type(_forecast))})
__all__ = list(_forecast.__all__)
