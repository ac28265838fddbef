"""``python -m carbonlab`` is the ``carbonlab`` command."""

from carbonlab.cli import main

raise SystemExit(main())
