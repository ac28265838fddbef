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
        h1 = main.find("<h1")
        label = main.find('class="carbonlab-dataset')
        first_p = main.find("<p", h1)
        assert 0 <= h1 < label < first_p, f"{page.name}: the label is not right under the title"
        text = _text(main[main.find(">", label) + 1:])
        assert text.lstrip().startswith("Synthetic teaching data, not a forecast of China."), page.name
        assert "Dataset teaching: the carbonlab teaching panel" in text
    for page in (html / "book" / "running.html", html / "book" / "glossary.html"):
        assert 'class="carbonlab-dataset' not in page.read_text(encoding="utf-8"), page.name


# --------------------------------------------------------------------------- repository, launch


def test_repository_url_from_config_environment_or_git_origin(ext, tmp_path, monkeypatch):
    import subprocess

    monkeypatch.delenv("CARBONLAB_REPOSITORY_URL", raising=False)
    assert ext.repository_url("https://gitlab.com/a/b/", tmp_path) == "https://gitlab.com/a/b"
    assert ext.repository_url("", tmp_path) == ""  # not a git clone, nothing set: no buttons
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin",
                    "git@github.com:someone/carbonlab.git"], check=True)
    assert ext.repository_url("", tmp_path) == "https://github.com/someone/carbonlab"
    monkeypatch.setenv("CARBONLAB_REPOSITORY_URL", "https://github.com/other/fork.git")
    assert ext.repository_url("", tmp_path) == "https://github.com/other/fork"
    assert ext.repository_url("not a url", tmp_path) == ""


def test_buttons_are_on_with_a_repository_and_off_without(ext, tmp_path, monkeypatch):
    monkeypatch.delenv("CARBONLAB_REPOSITORY_URL", raising=False)
    (tmp_path / "_config.yml").write_text(
        "repository:\n  url: ''\n  branch: dev\nlaunch_buttons:\n"
        "  binderhub_url: https://mybinder.org\n  colab_url: https://colab.research.google.com\n",
        encoding="utf-8")

    class Config:
        def __init__(self):
            self.html_theme_options = {"search_bar_text": "Search"}

    class App:
        confdir = str(tmp_path)

    off = Config()
    ext.set_repository(App(), off)
    assert not off.html_theme_options["use_repository_button"]
    assert off.html_theme_options["launch_buttons"]["binderhub_url"] == ""
    monkeypatch.setenv("CARBONLAB_REPOSITORY_URL", "https://github.com/someone/carbonlab")
    on = Config()
    ext.set_repository(App(), on)
    opts = on.html_theme_options
    assert opts["repository_url"] == "https://github.com/someone/carbonlab"
    assert opts["use_repository_button"] and opts["repository_branch"] == "dev"
    assert opts["launch_buttons"]["binderhub_url"] == "https://mybinder.org"


def test_launch_links_open_the_source_notebook(ext):
    f = ext.source_notebook_url
    assert (f("https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/executed/04_forecast_peaks.ipynb")
            == "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/notebooks/04_forecast_peaks.ipynb")
    assert (f("https://colab.research.google.com/github/o/r/blob/main/executed/regions/region_Inner_Mongolia.ipynb")
            == "https://colab.research.google.com/github/o/r/blob/main/notebooks/region.ipynb")
    assert f("x/executed/regions/city_Lanzhou.ipynb") == "x/notebooks/city.ipynb"
    assert f("x/executed/index.ipynb") == "x/notebooks/index.ipynb"


@pytest.mark.slow
def test_a_small_book_renders_the_label_and_the_launch_buttons(tmp_path):
    """The real _config.yml and extension on a one-page book: label, repository and launch
    buttons (to notebooks/, not executed/), built offline with warnings as errors."""
    import os
    import shutil
    import subprocess

    if not (ROOT / ".cache" / "book-static" / "mathjax" / "tex-chtml.js").is_file():
        pytest.skip("offline MathJax missing (make mathjax)")
    book = tmp_path / "book"
    (book / "executed").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", book)
    for name in ("book", ".cache"):
        (book / name).symlink_to(ROOT / name)
    nb = json.loads((ROOT / "tests" / "fixtures" / "tiny.ipynb").read_text(encoding="utf-8"))
    nb["metadata"]["papermill"] = {"parameters": {"dataset": "teaching", "region": "Ningxia"}}
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (book / "executed" / "02_tiny.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    (book / "_toc.yml").write_text("format: jb-book\nroot: executed/02_tiny\n", encoding="utf-8")
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent))
    env = {**os.environ, "CARBONLAB_REPOSITORY_URL": "https://github.com/someone/carbonlab"}
    proc = subprocess.run([jb, "build", str(book), "--builder", "html", "-W", "-n"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    page = (book / "_build" / "html" / "executed" / "02_tiny.html").read_text(encoding="utf-8")
    assert "Synthetic teaching data, not a forecast of China." in _text(page)
    links = set(re.findall(r'href="(https://[^"]+)"', page))
    assert "https://github.com/someone/carbonlab" in links
    assert ("https://mybinder.org/v2/gh/someone/carbonlab/main?urlpath=lab/tree/notebooks/02_tiny.ipynb"
            in links), links
    assert ("https://colab.research.google.com/github/someone/carbonlab/blob/main/notebooks/02_tiny.ipynb"
            in links), links


# --------------------------------------------------------------------------- glossary, units

BREAKABLE = re.compile(r"\d[ \n]+(?:%|‰|Mt|Gt|kt|TJ|PJ|GJ|MJ|kWh|MWh|TWh|GW|MW|kg|km|m³|亿t|"
                       r"t CO2|tce|yuan)(?![A-Za-z])")
"""A number and its unit with a breakable space between them (the book uses U+00A0)."""


def _prose(html: str) -> str:
    """The page's main text without code, math and scripts (where a break does not matter)."""
    main = html[html.find("<main"):]
    # code, math and tables (their cells never wrap: carbonlab.css) are not prose
    main = re.sub(r"<(pre|code|script|style|mjx-container|math|table)\b.*?</\1>", " ", main,
                  flags=re.S)
    import html as h

    return h.unescape(re.sub(r"<[^>]+>", "", main))


def test_a_glued_number_keeps_its_unit(ext):
    from docutils import nodes

    para = nodes.paragraph("", "", nodes.Text("a change of "), nodes.inline("", "+12"),
                           nodes.Text(" % and "), nodes.inline("", "110.0 "), nodes.Text("Mt in 2021"))
    code = nodes.literal("", "x = 3 %")
    doc = nodes.document(None, None)
    doc += [para, nodes.paragraph("", "", code)]
    ext.keep_units_with_numbers(None, doc, "executed/00_overview")
    assert para.astext() == "a change of +12\u00a0% and 110.0\u00a0Mt in 2021"
    assert code.astext() == "x = 3 %"


def test_first_use_of_each_glossary_term_links_to_it(ext):
    from docutils import nodes

    class Std:
        _terms = {"pip": ("book/glossary", "term-PIP"), "peak class": ("book/glossary", "term-peak-class"),
                  "ce1, ce2": ("book/glossary", "term-CE1-CE2")}

    class Env:
        def get_domain(self, name):
            return Std()

    class Builder:
        def get_relative_uri(self, frm, to):
            return "../book/glossary.html"

    class App:
        env, builder = Env(), Builder()

    doc = nodes.document(None, None)
    sec = nodes.section()
    sec += nodes.title("", "PIP and peak class")
    p1 = nodes.paragraph("", "", nodes.Text("Each driver's PIPs and the `pip` column; CE2 then CE1."))
    p2 = nodes.paragraph("", "", nodes.Text("A PIP again, and the peak classes "),
                         nodes.literal("", "peak class"), nodes.Text(" of pipelines."))
    sec += [p1, p2]
    doc += sec
    ext.link_glossary_terms(App(), doc, "executed/02_bma")
    refs = [(r.astext(), r["refuri"]) for r in doc.findall(nodes.reference)]
    assert refs == [("PIPs", "../book/glossary.html#term-PIP"),
                    ("CE2", "../book/glossary.html#term-CE1-CE2"),
                    ("peak classes", "../book/glossary.html#term-peak-class")]
    assert sec[0].astext() == "PIP and peak class"  # headings are left alone
    assert p1.astext() == "Each driver's PIPs and the `pip` column; CE2 then CE1."
    glossary = nodes.document(None, None)
    glossary += nodes.paragraph("", "", nodes.Text("PIP"))
    Std._terms = {"pip": ("executed/02_bma", "x")}
    ext.link_glossary_terms(App(), glossary, "executed/02_bma")  # the glossary page itself
    assert not list(glossary.findall(nodes.reference))


@pytest.mark.slow
def test_built_pages_keep_units_and_link_the_glossary(built_book):
    html = built_book.parent
    pages = sorted((html / "executed").rglob("*.html")) + sorted((html / "book").glob("*.html"))
    broken = {}
    for page in pages:
        text = _prose(page.read_text(encoding="utf-8"))
        hits = [text[max(0, m.start() - 20):m.end()] for m in BREAKABLE.finditer(text)]
        if hits:
            broken[str(page.relative_to(html))] = hits[:3]
    assert not broken, f"numbers and units that can break apart: {broken}"
    linked = 0
    for page in sorted((html / "executed").glob("0[0-5]_*.html")):
        raw = page.read_text(encoding="utf-8")
        terms = re.findall(r'class="carbonlab-term[^"]*" href="[^"#]*#(term-[^"]+)"', raw)
        assert len(terms) == len(set(terms)), f"{page.name}: a term linked twice"
        linked += len(terms)
    assert linked >= 6, "the chapters link the glossary's terms from their first use"


# --------------------------------------------------------------------------- teacher's kit


def test_teaching_page_has_a_session_and_an_assignment_per_chapter():
    import yaml

    text = (ROOT / "book" / "teaching.md").read_text(encoding="utf-8")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    using = next(p for p in toc["parts"] if p["caption"] == "Using the book")
    assert "book/teaching" in [c["file"] for c in using["chapters"]]
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-8][0-9]_*.ipynb"))  # 9x: appendices
    sessions = re.split(r"^### Session \d+: ", text, flags=re.M)[1:]
    assert len(sessions) == len(chapters)
    for chapter, session in zip(chapters, sessions, strict=True):
        session = session.split("\n## ")[0]
        assert f"{{doc}}`/executed/{chapter}`" in session, chapter
        for part in ("**Goals**", "**Reading**", "**Exercises**", "**In class (20 min)**"):
            assert part in session, (chapter, part)
    assignments = re.split(r"^### Assignment \d+: ", text, flags=re.M)[1:]
    assert len(assignments) == len(chapters)
    assert all("*Grading note*:" in a for a in assignments)
    for target in re.findall(r"\{doc\}`/?(?:book/)?([\w/]+)`", text):
        stem = target.split("/")[-1]
        assert ((ROOT / "notebooks" / f"{stem}.ipynb").is_file()
                or (ROOT / "book" / f"{stem}.md").is_file()), target


def test_running_page_says_how_to_run_it_yourself():
    text = (ROOT / "book" / "running.md").read_text(encoding="utf-8")
    section = text.split("## Run it yourself", 1)[1].split("\n## ", 1)[0]
    for needed in ("make lab", "carbonlab run", "-p region", "make student", "make pdf",
                   "Binder", "Colab", "CARBONLAB_REPOSITORY_URL"):
        assert needed in section, needed


# --------------------------------------------------------------------------- figure legibility

BOOK_COLUMN_PX = 660  # = carbonlab.plotting.BOOK_WIDTH_IN × 96
"""Width (CSS px) at which the book shows a figure as wide as its text column: measured in
Chromium at a 1280-px window with sphinx-book-theme 1.3 (images are scaled to the column,
``max-width: 100%``); ``test_browser.py`` re-measures it on the built book."""
MIN_TEXT_PX = 12.0
"""9 pt at the screen's 96 px per inch: no figure text may be smaller at display size."""


def displayed_text_px(fig, column_px: float = BOOK_COLUMN_PX) -> tuple[float, str]:
    """(size in CSS px, text) of the smallest visible text of ``fig`` when the book shows it:
    the saved image (tight box) is scaled to the column if wider, so a font of f pt shows as
    f/72 × column_px / width_in px, independent of the dpi."""
    from matplotlib.text import Text

    fig.canvas.draw()
    width_in = fig.get_tightbbox(fig.canvas.get_renderer()).width
    scale = min(1.0, column_px / (width_in * 96.0))  # 96 px per inch: CSS px of an unscaled image
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
             and t.get_figure() is fig]
    smallest = min(texts, key=lambda t: t.get_fontsize())
    return smallest.get_fontsize() / 72.0 * 96.0 * scale, smallest.get_text()


def _region_band_and_paths(region: str = "Ningxia"):
    """Chapter 4's inputs to Fig. 4.1 in their shape: the teaching panel's history of one
    region and a flat continuation to 2030 (the figure's layout does not depend on the values)."""
    from carbonlab import data
    from carbonlab.forecast.rule import KEY_DRIVERS

    panel = data.load_panel("teaching")
    h = panel[panel["region"] == region].sort_values("year")
    last = h.iloc[-1]
    future = pd.DataFrame({"region": region, "year": range(int(last["year"]) + 1, 2031)})
    band = pd.concat([
        h.assign(projected=False, point_mt=h["emissions_mt"], lo_mt=h["emissions_mt"],
                 hi_mt=h["emissions_mt"])[["region", "year", "projected", "point_mt", "lo_mt", "hi_mt"]],
        future.assign(projected=True, point_mt=last["emissions_mt"], lo_mt=0.9 * last["emissions_mt"],
                      hi_mt=1.1 * last["emissions_mt"])], ignore_index=True)
    paths = pd.concat([h.assign(projected=False)[["region", "year", "projected", *KEY_DRIVERS]],
                       future.assign(projected=True, **{d: last[d] for d in KEY_DRIVERS})],
                      ignore_index=True)
    return band, paths


def test_fig_4_1_text_is_legible_at_the_books_width():
    """Fig. 4.1 (chapter 4's first figure: the region's forecast beside its scenario inputs,
    ``peaks.plot_region(..., paths=...)``): no text under 9 pt at the size the book shows it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from carbonlab import peaks, plotting

    plotting.use_style()
    band, paths = _region_band_and_paths()
    axes = peaks.plot_region(band, "Ningxia", paths=paths)
    fig = axes[0].get_figure()
    try:
        px, text = displayed_text_px(fig)
    finally:
        plt.close(fig)
    assert px >= MIN_TEXT_PX, (f"Fig. 4.1's text {text!r} shows at {px:.1f} px "
                               f"(< {MIN_TEXT_PX:.0f} px = 9 pt) in a {BOOK_COLUMN_PX}-px column")


def test_the_legibility_measure_sees_a_too_wide_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from carbonlab import plotting

    plotting.use_style()
    for width, legible in ((6.5, True), (11, False)):  # plain matplotlib figures
        fig, ax = plt.subplots(figsize=(width, 3), layout="constrained")
        ax.plot([2005, 2030], [1, 2], label="x")
        ax.set(xlabel="year", ylabel="emissions (Mt CO2)")
        px, _ = displayed_text_px(fig)
        plt.close(fig)
        assert bool(px >= MIN_TEXT_PX) is legible, (width, px)
    # the book's figures (plotting.new_figure) enlarge their text when wider than the column,
    # keeping the order of the sizes (title > axis label > tick label)
    fig, ax = plotting.new_figure(figsize=(11, 3))
    ax.plot([2005, 2030], [1, 2], label="x")
    ax.set(xlabel="year", ylabel="emissions (Mt CO2)", title="a title")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    px, _ = displayed_text_px(fig)
    sizes = [ax.title.get_fontsize(), ax.xaxis.label.get_fontsize(),
             ax.get_xticklabels()[0].get_fontsize()]
    plt.close(fig)
    assert px >= MIN_TEXT_PX and sizes == sorted(sizes, reverse=True) and sizes[-1] > 9, (px, sizes)
