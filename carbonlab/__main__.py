"""``python -m carbonlab`` is the ``carbonlab`` command."""

import sys

try:
    from carbonlab.cli import main
except KeyboardInterrupt:  # Ctrl-C while importing: one line, exit 130, no traceback
    sys.stderr.write("carbonlab: interrupted\n")
    raise SystemExit(130) from None

raise SystemExit(main())
