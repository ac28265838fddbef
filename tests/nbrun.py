"""Run a carbonlab notebook with papermill for the tests (a failing cell fails the test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def run_notebook(name: str, out_dir: Path, **parameters: Any) -> Path:
    """Execute ``notebooks/<name>`` with ``parameters`` into ``out_dir``; return the output path.

    Parameter names are checked against the notebook's ``parameters`` cell first, as the
    CLI does, so a misspelt name fails instead of silently running the default.
    """
    import papermill as pm

    src = NOTEBOOKS / name
    declared = pm.inspect_notebook(str(src))
    unknown = set(parameters) - set(declared)
    if unknown:
        raise AssertionError(f"{name}: unknown parameters {sorted(unknown)}; declared {sorted(declared)}")
    out = Path(out_dir) / name
    pm.execute_notebook(
        str(src), str(out), parameters=parameters, kernel_name="python3",
        cwd=str(ROOT), progress_bar=False, log_output=False,
    )
    return out
