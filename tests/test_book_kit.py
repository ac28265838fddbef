"""Issue 25: every page built from a dataset says which (synthetic or real, as of which year)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ext():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import carbonlab_book
    finally:
        sys.path.pop(0)
    return carbonlab_book


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#8217;", "’")


# --------------------------------------------------------------------------- dataset label


def test_notebook_dataset_reads_papermill_parameters(ext):
    nb = {"cells": [], "metadata": {"papermill": {"parameters": {"dataset": "teaching",
                                                                 "city": "Lanzhou"}}}}
    assert ext.notebook_dataset(json.dumps(nb)) == ("teaching", True)
    nb["metadata"]["papermill"]["parameters"] = {"dataset": "ceads", "region": "Ningxia"}
    assert ext.notebook_dataset(json.dumps(nb)) == ("ceads", False)
    assert ext.notebook_dataset(json.dumps({"cells": [], "metadata": {}})) is None
    # run without -p dataset: papermill records only the parameters given; the default counts
    cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "outputs": [],
            "source": ['dataset: str = "teaching"  # or "ceads"\n', 'city: str = "Beijing"\n']}
    nb = {"cells": [cell], "metadata": {"papermill": {"parameters": {"n_boot": 8}}}}
    assert ext.notebook_dataset(json.dumps(nb)) == ("teaching", True)
    nb["metadata"]["papermill"]["parameters"]["dataset"] = "ceads"
    assert ext.notebook_dataset(json.dumps(nb)) == ("ceads", True)
    assert ext.notebook_dataset("# A Markdown page") is None


def test_teaching_label_says_synthetic_with_the_panels_years(ext):
    from carbonlab import data

    lead, rest = ext.dataset_label("teaching")
    panel = data.load_panel("teaching")
    assert lead == "Synthetic teaching data, not a forecast of China."
    years = f"{panel['year'].min()}–{panel['year'].max()}"
    assert "teaching" in rest and years in rest and f"{panel['region'].nunique()} provinces" in rest
    cities = data.load_cities("teaching")
    _, rest = ext.dataset_label("teaching", cities=True)
    assert f"{cities['year'].min()}–{cities['year'].max()}" in rest


def test_real_label_gives_the_last_year_of_the_panel_the_build_read(ext, monkeypatch):
    from carbonlab import data

    for last in (2017, 2019):
        fake = pd.DataFrame({"region": ["Beijing", "Hebei"] * 3, "year": [2005, 2005, 2010, 2010, last, last]})
        monkeypatch.setattr(data, "load_panel", lambda dataset, fake=fake: fake)
        lead, rest = ext.dataset_label.__wrapped__("ceads")
        assert lead == f"Real data: CEADs provincial inventories as of {last}."
        assert f"2 provinces, 2005–{last}" in rest and "synthetic" not in lead.lower()


def test_label_goes_under_the_title_of_pages_with_a_dataset(ext):
    from docutils import nodes

    def doc(title):
        d = nodes.document(None, None)
        sec = nodes.section()
        sec += nodes.title(title, title)
        sec += nodes.paragraph("", "First paragraph.")
        d += sec
        return d

    class Env:
        carbonlab_datasets = {"executed/regions/region_Ningxia": ("teaching", False)}
        all_docs = {"executed/regions/region_Ningxia": 0, "book/provinces": 0, "book/running": 0,
                    "book/data": 0}

    class Builder:
        def get_relative_uri(self, frm, to):
            return "../../book/data.html"

    class App:
        env, builder = Env(), Builder()

    pages = {name: doc(name) for name in ("executed/regions/region_Ningxia", "book/provinces",
                                          "book/running")}
    for name, d in pages.items():
        ext.add_dataset_label(App(), d, name)
    for name in ("executed/regions/region_Ningxia", "book/provinces"):
        sec = pages[name][0]
        assert "carbonlab-dataset" in sec[1]["classes"], name
        assert sec[1].astext().startswith("Synthetic teaching data, not a forecast of China.")
        assert sec[2].astext() == "First paragraph."
        ref = next(iter(sec[1].findall(nodes.reference)))
        assert ref["refuri"] == "../../book/data.html"
    assert len(pages["book/running"][0]) == 2  # a page not built from a dataset: no label
    App.env.carbonlab_datasets["executed/index"] = ("ceads", False)  # two datasets in one build
    d = doc("x")
    ext.add_dataset_label(App(), d, "book/provinces")
    assert len(d[0]) == 2


@pytest.mark.slow
def test_every_page_built_from_the_teaching_panel_is_labelled(built_book):
    """Front page, chapters, province and city pages and their landing pages: the label sits
    at the top of the page's text (before its first section heading)."""
    html = built_book.parent
    pages = sorted((html / "executed").rglob("*.html")) + [html / "book" / "provinces.html",
                                                          html / "book" / "cities.html"]
    pages = [p for p in pages if p.is_file()]
    kinds = {p.stem.split("_")[0] for p in pages}
    assert {"index", "00", "04", "region", "city", "provinces", "cities"} <= kinds, kinds
    for page in pages:
        raw = page.read_text(encoding="utf-8")
        main = raw[raw.find("<main"):]
        assert 'class="carbonlab-dataset' in main, f"{page.name}: no dataset label"
        text = _text(main[main.find("<h1"):])
        i = text.find("Synthetic teaching data, not a forecast of China.")
        assert 0 <= i < 300, f"{page.name}: the label is not at the top ({i})"
        assert "Dataset teaching: the carbonlab teaching panel" in text
    for page in (html / "book" / "running.html", html / "book" / "glossary.html"):
        assert 'class="carbonlab-dataset' not in page.read_text(encoding="utf-8"), page.name
