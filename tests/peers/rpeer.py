"""Shared helper for the R peer tests: find Rscript, run R code, require R packages.

Usage in a peer test::

    from tests.peers.rpeer import require_r_packages, run_r

    def test_something():
        require_r_packages("BMS")            # skips (or fails with CARBONLAB_REQUIRE_PEERS=1)
        out = run_r('cat(1 + 1)')            # stdout of `Rscript --vanilla`

Each ``run_r`` call is a fresh R process, so packages that reseed R's RNG (BMS does) cannot
leak into another peer.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["rscript", "peers_required", "require_r_packages", "run_r"]


def rscript() -> str | None:
    """Path of ``Rscript`` (env ``CARBONLAB_RSCRIPT`` overrides), or None."""
    return os.environ.get("CARBONLAB_RSCRIPT") or shutil.which("Rscript")


def peers_required() -> bool:
    """True when ``CARBONLAB_REQUIRE_PEERS=1``: a missing R or package fails instead of skipping."""
    return os.environ.get("CARBONLAB_REQUIRE_PEERS", "") not in ("", "0")


def _unavailable(msg: str) -> None:
    if peers_required():
        pytest.fail(f"{msg} (CARBONLAB_REQUIRE_PEERS=1)", pytrace=False)
    pytest.skip(msg)


@functools.cache
def _missing(pkgs: tuple[str, ...]) -> tuple[str, ...]:
    code = ("for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) cat(p, '\\n')")
    res = subprocess.run([rscript(), "--vanilla", "-e", code, *pkgs],
                         capture_output=True, text=True, timeout=120)
    return tuple(res.stdout.split())


def require_r_packages(*pkgs: str) -> None:
    """Skip the calling test (or fail, see :func:`peers_required`) unless Rscript and every
    package in ``pkgs`` are installed."""
    if rscript() is None:
        _unavailable("Rscript not found")
    missing = _missing(tuple(pkgs))
    if missing:
        _unavailable(f"R packages missing: {', '.join(missing)}")


def run_r(code: str, timeout: float = 600) -> str:
    """Run ``code`` with ``Rscript --vanilla`` in a fresh process; return its stdout.

    A non-zero exit raises AssertionError carrying R's stderr.
    """
    if rscript() is None:
        _unavailable("Rscript not found")
    with tempfile.TemporaryDirectory(prefix="carbonlab-r-") as tmp:
        script = Path(tmp) / "peer.R"
        script.write_text(code, encoding="utf-8")
        res = subprocess.run([rscript(), "--vanilla", str(script)], capture_output=True,
                             text=True, timeout=timeout, cwd=tmp)
    if res.returncode != 0:
        raise AssertionError(f"Rscript failed (exit {res.returncode}):\n{res.stderr[-4000:]}")
    return res.stdout
