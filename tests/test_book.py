"""The book builds with warnings as errors from notebooks executed by papermill."""

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Small parameters so every chapter executes quickly in the test; the book itself
# (`make book`) runs the notebooks' own defaults.
TEST_PARAMS = {
    "03_models": {"n_trees": 200, "epochs": 30},
    "04_forecast_peaks": {"n_boot": 8},
    "05_cities_leap": {"n_sobol": 8, "fast": True, "horizon_end": 2030},
}


@pytest.fixture(scope="session")
def built_book():
    from carbonlab.book import build_book, execute_all

    execute_all(dataset="teaching", jobs=2, extra=TEST_PARAMS, log=lambda s: None)
    index = build_book(execute=False, log=lambda s: None)
    return index


@pytest.mark.slow
def test_book_builds_with_overview_and_figure(built_book):
    html = built_book.parent
    assert built_book.is_file()
    page = html / "executed" / "00_overview.html"
    text = page.read_text(encoding="utf-8")
    assert "Overview: the question, the data and how to re-run a chapter" in text
    imgs = re.findall(r'<img[^>]+src="([^"]+)"', text)
    assert imgs, "the overview chapter has no figure"
    for src in imgs:
        f = (page.parent / src).resolve()
        assert f.is_file() and f.stat().st_size > 1000, src
    assert "Traceback" not in text and "Error" not in re.sub(r"<[^>]+>", "", text).split(
        "Exercises")[0]


@pytest.mark.slow
def test_every_chapter_is_in_the_book(built_book):
    html = built_book.parent
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert (html / "executed" / f"{nb.stem}.html").is_file(), nb.name
    assert shutil.which("jupyter-book", path=str(Path(__import__("sys").executable).parent))
