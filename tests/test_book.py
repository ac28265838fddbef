"""The book builds with warnings as errors from notebooks executed by papermill."""

import os
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
def test_figures_and_exercises_are_numbered_by_chapter_and_page(built_book):
    html = built_book.parent / "executed"
    text = {p: re.sub(r"<[^>]+>", "", (html / p).read_text(encoding="utf-8"))
            for p in ("04_forecast_peaks.html", "03_models.html", "regions/region_Ningxia.html")}
    assert "Fig. 4.1" in text["04_forecast_peaks.html"] and "Exercise 4.1" in text["04_forecast_peaks.html"]
    assert "Fig. 3.1" in text["03_models.html"]
    assert not re.search(r"Fig\. [0-35]\.\d", text["04_forecast_peaks.html"])
    page = text["regions/region_Ningxia.html"]
    assert "Fig. 1" in page and not re.search(r"Fig\. (\d+\.\d|[2-9]\d)", page)


def test_number_by_page_renumbers_each_document():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        from carbonlab_book import chapter_number, number_by_page
    finally:
        sys.path.pop(0)

    class Env:
        toc_fignumbers = {
            "executed/04_forecast_peaks": {"figure": {"b": (12,), "a": (11,)}, "table": {"t": (3,)}},
            "executed/regions/region_Ningxia": {"figure": {"x": (31,)}},
        }

    env = Env()
    changed = number_by_page(None, env)
    assert env.toc_fignumbers["executed/04_forecast_peaks"] == {
        "figure": {"a": (4, 1), "b": (4, 2)}, "table": {"t": (4, 1)}}
    assert env.toc_fignumbers["executed/regions/region_Ningxia"] == {"figure": {"x": (1,)}}
    assert changed == sorted(env.toc_fignumbers)
    assert chapter_number("executed/00_overview") == 0 and chapter_number("executed/index") is None
    assert chapter_number("executed/regions/region_Ningxia") is None


def test_numbers_keep_their_units_on_the_line():
    from docutils import nodes

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        from carbonlab_book import keep_units_with_numbers
    finally:
        sys.path.pop(0)
    para = nodes.paragraph("", "", nodes.Text("falls 8.7 % to 164.9 Mt CO2 (1.65 亿t) in 2030, 2 models"))
    code = nodes.literal("", "", nodes.Text("x = 8.7 %"))
    doc = nodes.document(None, None)
    doc += [para, nodes.paragraph("", "", code)]
    keep_units_with_numbers(None, doc, "executed/04_forecast_peaks")
    assert para.astext() == "falls 8.7\u00a0% to 164.9\u00a0Mt CO2 (1.65\u00a0亿t) in 2030, 2 models"
    assert code.astext() == "x = 8.7 %"  # code is left as written


@pytest.mark.slow
def test_gallery_pages_and_toc(built_book):
    html = built_book.parent
    for region in ("Ningxia", "Beijing"):
        page = html / "executed" / "regions" / f"region_{region}.html"
        assert page.is_file(), page
        assert region in page.read_text(encoding="utf-8").split("</title>")[0]
    toc = (ROOT / "executed" / "_toc.yml").read_text(encoding="utf-8")
    assert "caption: Regions" in toc and "region_Ningxia" in toc and "book/provinces" in toc


def test_gallery_pages_get_unique_figure_names(tmp_path):
    """Sphinx labels are global: each gallery page suffixes its figure names and targets."""
    import json

    from carbonlab.book import GALLERY, _adapt_gallery_page

    stem = "04_forecast_peaks"
    chapter = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    chapter["cells"].insert(1, {"cell_type": "markdown", "metadata": {},
                                "source": "(sec-peaks-intro)=\n## Intro\n\nSee {ref}`sec-peaks-intro`."})
    original = [c["metadata"]["mystnb"]["figure"]["name"] for c in chapter["cells"]
                if "mystnb" in c["metadata"]]
    assert len(original) >= 2
    labels: list[str] = list(original) + ["sec-peaks-intro"]  # the chapter page itself
    for value in ("Inner Mongolia", "Beijing", "Ningxia"):
        page = tmp_path / f"{value}.ipynb"
        page.write_text(json.dumps(chapter, ensure_ascii=False), encoding="utf-8")
        _adapt_gallery_page(page, f"{value}: {GALLERY['region'][2]}", value)
        nb = json.loads(page.read_text(encoding="utf-8"))
        slug = value.lower().replace(" ", "-")
        names = [c["metadata"]["mystnb"]["figure"]["name"] for c in nb["cells"]
                 if "mystnb" in c["metadata"]]
        assert names == [f"{n}-{slug}" for n in original]
        md = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
        assert md[0].startswith(f"# {value}: {GALLERY['region'][2]}\n")
        assert f"(sec-peaks-intro-{slug})=\n" in md[1] and f"{{ref}}`sec-peaks-intro-{slug}`" in md[1]
        # references to the page's figures point at the page's own, renamed figures
        refs = [r for m in md for r in re.findall(r"\{numref\}`([^`]+)`", m)]
        assert refs and all(r.endswith(f"-{slug}") and r in names for r in refs)
        labels += names + [f"sec-peaks-intro-{slug}"]
    assert "fig-peaks-path-inner-mongolia" in labels
    assert len(labels) == len(set(labels))


def test_gallery_pages_get_unique_exercise_labels(tmp_path):
    """A city page (notebooks/city.ipynb for one city): its exercises and solutions are renamed."""
    import json

    from carbonlab.book import _adapt_gallery_page

    chapter = json.loads((ROOT / "notebooks" / "city.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in chapter["cells"] if c["cell_type"] == "markdown")
    original = re.findall(r"^:label:\s+(ex-\S+)", text, re.MULTILINE)
    assert original
    page = tmp_path / "Lanzhou.ipynb"
    page.write_text(json.dumps(chapter, ensure_ascii=False), encoding="utf-8")
    _adapt_gallery_page(page, "Lanzhou", "Lanzhou")
    nb = json.loads(page.read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert re.findall(r"^:label:\s+(ex-\S+)", text, re.MULTILINE) == [f"{x}-lanzhou" for x in original]
    solved = re.findall(r"\{solution\}\s+(\S+)", text)
    assert solved and all(s.endswith("-lanzhou") for s in solved)


def test_figure_names_are_unique_across_the_book():
    import json

    names = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            fig = cell.get("metadata", {}).get("mystnb", {}).get("figure")
            if fig:
                assert fig.get("caption") and fig.get("name", "").startswith("fig-"), path.name
                names.append(fig["name"])
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_toc_groups_gallery_pages_under_landing_pages(tmp_path):
    """Provinces and cities each sit under one landing page (collapsed in the sidebar)."""
    import yaml

    from carbonlab.book import _gallery_title, write_toc

    pages = ["executed/regions/region_Ningxia", "executed/regions/region_Beijing",
             "executed/regions/city_Lanzhou"]
    toc = yaml.safe_load(write_toc(tmp_path / "_toc.yml", pages).read_text(encoding="utf-8"))
    part = toc["parts"][1]
    assert part["caption"] == "Regions"
    assert [c["file"] for c in part["chapters"]] == ["book/provinces", "book/cities"]
    assert [s["file"] for s in part["chapters"][0]["sections"]] == pages[:2]
    assert all((ROOT / f"{c['file']}.md").is_file() for c in part["chapters"])
    only = yaml.safe_load(write_toc(tmp_path / "t2.yml", pages[:1]).read_text(encoding="utf-8"))
    assert [c["file"] for c in only["parts"][1]["chapters"]] == ["book/provinces"]
    assert _gallery_title("region", "Ningxia").startswith("宁夏 Ningxia")
    assert _gallery_title("city", "Lanzhou").startswith("兰州 Lanzhou")


TINY = ROOT / "tests" / "fixtures" / "tiny.ipynb"


@pytest.mark.parametrize("stop", ["", "raise"], ids=["ok", "failing-notebook"])
def test_execute_all_replaces_executed_only_when_everything_ran(tmp_path, monkeypatch, stop):
    """executed/ is swapped in whole: a failing notebook keeps the previous one untouched."""
    from carbonlab import book
    from carbonlab._util import CarbonlabError

    executed = tmp_path / "executed"
    executed.mkdir()
    (executed / "previous.ipynb").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(book, "notebooks", lambda root=None: [TINY])
    monkeypatch.delenv("CARBONLAB_JOBS", raising=False)
    lines: list[str] = []
    run = lambda: book.execute_all(out_dir=executed, jobs=1, gallery=False,  # noqa: E731
                                   log=lines.append, extra={"tiny": {"stop": stop}})
    if stop:
        with pytest.raises(CarbonlabError, match="ValueError: boom"):
            run()
        assert [p.name for p in executed.iterdir()] == ["previous.ipynb"]
    else:
        assert run() == [executed / "tiny.ipynb"]
        assert sorted(p.name for p in executed.iterdir()) == ["_toc.yml", "tiny.ipynb"]
        assert lines and lines[-1].startswith("[1/1] tiny.ipynb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["executed"]
    assert "CARBONLAB_JOBS" not in os.environ  # set for the build's kernels only


def test_env_default_sets_only_what_is_unset_and_restores(monkeypatch):
    from carbonlab.book import _env_default

    monkeypatch.delenv("CARBONLAB_JOBS", raising=False)
    with _env_default("CARBONLAB_JOBS", "1"):
        assert os.environ["CARBONLAB_JOBS"] == "1"
    assert "CARBONLAB_JOBS" not in os.environ
    monkeypatch.setenv("CARBONLAB_JOBS", "3")
    with pytest.raises(RuntimeError), _env_default("CARBONLAB_JOBS", "1"):
        assert os.environ["CARBONLAB_JOBS"] == "3"  # the caller's value wins
        raise RuntimeError
    assert os.environ["CARBONLAB_JOBS"] == "3"


def test_run_all_starts_in_order_and_waits_for_what_a_page_reads(tmp_path):
    """The longest jobs start first; a page starts only after the chapter it reads has ended.

    No sleeps: the chapter holds its slot until the other job has started, so both run side
    by side whatever the machine's load."""
    import threading

    from carbonlab import book

    events: list[str] = []
    lock = threading.Lock()
    other_started = threading.Event()

    def one(p):
        with lock:
            events.append(f"start {p.stem}")
        if p.stem == "other":
            other_started.set()
        if p.stem == "chapter":
            assert other_started.wait(60)
        with lock:
            events.append(f"end {p.stem}")
        return p

    jobs = [tmp_path / f"{s}.ipynb" for s in ("chapter", "other", "page1", "page2")]
    done = book._run_all(one, jobs, 2, lambda s: None, tmp_path, after=[[], [], [0], [0]])
    assert done == jobs
    assert set(events[:2]) == {"start chapter", "start other"}
    assert events.index("start page1") > events.index("end chapter")
    assert events.index("start page2") > events.index("end chapter")


def test_interrupted_html_build_keeps_the_previous_index(tmp_path, monkeypatch):
    """Issue 26 item 11: Ctrl-C during jupyter-book keeps _build/html/index.html."""
    from carbonlab import book

    index = tmp_path / "_build" / "html" / "index.html"
    index.parent.mkdir(parents=True)
    index.write_text("previous", encoding="utf-8")

    def interrupted(*a, **kw):
        assert not index.exists()  # moved aside while jupyter-book runs
        raise KeyboardInterrupt

    monkeypatch.setattr(book.subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        book.build_html(tmp_path, tmp_path / "_toc.yml", jb="jupyter-book")
    assert index.read_text(encoding="utf-8") == "previous"
    assert [p.name for p in index.parent.iterdir()] == ["index.html"]


def test_build_failure_names_the_cause_in_its_first_line():
    """Issue 26 item 14: the first warning, without colour codes, on the first line."""
    from carbonlab.book import _build_failure

    log = ("Running Sphinx v7\n\x1b[91m/x/executed/02_bma.ipynb:3: WARNING: undefined label: "
           "'fig-x'\x1b[39;49;00m\nbuild finished with problems.\n")
    first = _build_failure(1, log).splitlines()[0]
    assert first == ("jupyter-book build failed (exit 1): /x/executed/02_bma.ipynb:3: "
                     "WARNING: undefined label: 'fig-x'")


def test_book_starts_the_long_chapters_first_and_pages_after_their_chapter(tmp_path, monkeypatch):
    """execute_all: chapters 3 and 5 start first; province pages wait for chapter 4, city pages
    for chapter 5; the returned paths keep the book's order."""
    from carbonlab import book

    started: list[str] = []
    seen: dict[str, set[str]] = {}
    ended: set[str] = set()

    def fake_run(nb, params, out):
        started.append(out.stem)
        seen[out.stem] = set(ended)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
        ended.add(out.stem)
        return out

    monkeypatch.setattr(book, "run_notebook", fake_run)
    monkeypatch.setattr(book, "_adapt_gallery_page", lambda *a: None)
    done = book.execute_all(out_dir=tmp_path / "executed", jobs=1, log=lambda s: None,
                            gallery=["Ningxia", "Lanzhou"])
    assert started[:2] == ["03_models", "05_cities_leap"]
    assert "04_forecast_peaks" in seen["region_Ningxia"]
    assert "05_cities_leap" in seen["city_Lanzhou"]
    assert "04_forecast_peaks" in seen["index"]
    names = [p.stem for p in done]
    assert names[0] == "index" and names[-2:] == ["region_Ningxia", "city_Lanzhou"]


PAGE = ROOT / "tests" / "fixtures" / "page.ipynb"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.slow
def test_two_builds_of_a_small_gallery_are_byte_identical(tmp_path, monkeypatch):
    """Issue 26 item 17: a small book (a chapter and two gallery pages with a styled table,
    a figure and a glued number) executed and built twice: the executed notebooks and every
    file of the HTML are the same bytes."""
    import yaml

    from carbonlab import book

    root = tmp_path / "site"
    (root / ".cache").mkdir(parents=True)
    (root / "book").symlink_to(ROOT / "book")
    (root / ".cache" / "book-static").symlink_to(ROOT / ".cache" / "book-static")
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    monkeypatch.setattr(book, "notebooks", lambda root=None: [TINY])
    monkeypatch.setattr(book, "gallery_runs", lambda chosen=None: [
        (PAGE, "region", "Ningxia"), (PAGE, "region", "Beijing")])
    monkeypatch.setattr(book, "_gallery_title", lambda stem, value: f"{value}: a page")
    monkeypatch.setattr(book, "write_toc", lambda path, pages: path)  # the book's own below
    toc = root / "_toc.yml"
    toc.write_text(yaml.safe_dump({"format": "jb-book", "root": "executed/tiny", "parts": [
        {"caption": "Regions", "chapters": [{"file": "executed/regions/page_Ningxia"},
                                            {"file": "executed/regions/page_Beijing"}]}]}),
        encoding="utf-8")
    builds = []
    for _ in range(2):
        shutil.rmtree(root / "_build", ignore_errors=True)
        book.execute_all(out_dir=root / "executed", jobs=1, log=lambda s: None)
        executed = _tree(root / "executed")
        book.build_html(root, toc)
        builds.append((executed, _tree(root / "_build" / "html")))
    (ex1, html1), (ex2, html2) = builds
    assert "regions/page_Ningxia.ipynb" in ex1 and "executed/regions/page_Ningxia.html" in html1
    assert "T_c" in ex1["regions/page_Ningxia.ipynb"].decode()  # the Styler table is there
    assert sorted(ex1) == sorted(ex2)
    assert [n for n in ex1 if ex1[n] != ex2[n]] == []
    assert sorted(html1) == sorted(html2)
    assert [n for n in html1 if html1[n] != html2[n]] == []
