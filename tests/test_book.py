"""The book builds with warnings as errors from notebooks executed by papermill."""

import re
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

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
    assert shutil.which("jupyter-book", path=str(Path(sys.executable).parent))


@pytest.mark.slow
def test_gallery_pages_and_toc(built_book):
    html = built_book.parent
    for region in ("Ningxia", "Beijing"):
        page = html / "executed" / "regions" / f"04_forecast_peaks_{region}.html"
        assert page.is_file(), page
        assert region in page.read_text(encoding="utf-8").split("</title>")[0]
    toc = (ROOT / "executed" / "_toc.yml").read_text(encoding="utf-8")
    assert "caption: Regions" in toc and "04_forecast_peaks_Ningxia" in toc
