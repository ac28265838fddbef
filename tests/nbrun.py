"""Run a carbonlab notebook for the tests with the one runner (a failing cell fails the test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def run_notebook(name: str, out_dir: Path, **parameters: Any) -> Path:
    """Execute ``notebooks/<name>`` with ``parameters`` into ``out_dir``; return the output path.

    This is :func:`carbonlab.runner.run_notebook`, as ``carbonlab run`` uses it: names are
    checked against the notebook's ``parameters`` cell, values coerced the same way, and a
    cell that fails or does not run fails the test.
    """
    from carbonlab.runner import run_notebook as run

    return run(NOTEBOOKS / name, parameters, Path(out_dir) / name)
