"""LEAP-style city energy and emission scenarios (chapter 5): engine and city pipeline."""

from carbonlab.leap.engine import *  # noqa: F401,F403
from carbonlab.leap.forecast import *  # noqa: F401,F403
