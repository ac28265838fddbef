"""Shared test set-up: environment before anything heavy is imported, data-dir fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Before TensorFlow or matplotlib can be imported by any test module.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("PYTHONHASHSEED", "0")
os.environ.setdefault("CARBONLAB_DATA_DIR", str(ROOT.parent / "shared" / "data"))
os.environ.setdefault("CARBONLAB_CACHE_DIR", str(ROOT / ".cache" / "tests"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-data mirror ($CARBONLAB_DATA_DIR); skipped only where it is absent."""
    p = Path(os.environ["CARBONLAB_DATA_DIR"])
    if not p.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CARBONLAB_DATA_DIR={p} does not exist in CI")
        pytest.skip(f"real data not available at {p}")
    return p


# Small parameters so every chapter executes quickly in the tests; the book itself
# (`make book`) runs the notebooks' own defaults.
TEST_PARAMS = {
    "03_models": {"n_trees": 200, "epochs": 30, "rolling_trees": 50, "search_iter": 20},
    "index": {"n_members": 20},
    "04_forecast_peaks": {"n_members": 20},
    "region": {"n_members": 20},
    "05_cities_leap": {"n_sobol": 8, "fast": True, "horizon_end": 2030},
    "city": {"fast": True, "horizon_end": 2030},
}
TEST_GALLERY = ("Ningxia", "Beijing")


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Execute every chapter and two regions' pages with papermill, build the HTML book."""
    from carbonlab.book import build_book

    return build_book(dataset="teaching", jobs=2, gallery=TEST_GALLERY, extra=TEST_PARAMS,
                      log=lambda s: None)
