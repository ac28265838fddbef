"""Building the Jupyter Book: every chapter and the per-region gallery, then the HTML.

``build_book`` executes every chapter and gallery page into ``executed/`` with the one
notebook runner (:func:`carbonlab.runner.run_notebook`) and builds ``_build/html`` with
warnings as errors. ``executed/`` is replaced atomically: a failed or interrupted build
(Ctrl-C stops it within seconds) keeps the previous one. Progress (notebooks done / total,
elapsed time) is logged as each notebook finishes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from carbonlab._util import CarbonlabError, ParameterError, atomic_dir, atomic_path, repo_root
from carbonlab.regions import PROVINCES, resolve_region
from carbonlab.runner import EXECUTED, cancel_all, declared_parameters, notebooks, run_notebook
from carbonlab.runner import clear_cancel as _clear_cancel

__all__ = [
    "execute_all",
    "build_book",
    "EXECUTED",
    "GALLERY",
    "GALLERY_GROUPS",
    "gallery_runs",
    "write_toc",
    "check_build_tools",
    "build_html",
]



GALLERY: dict[str, tuple[str, tuple[str, ...], str]] = {
    "region": ("region", PROVINCES, "will it peak by 2030?"),
    "city": ("city", ("Beijing", "Lanzhou", "Hohhot", "Shangluo"), "peak and policy"),
}
"""Notebooks re-run per region for the book's "Regions" part: stem -> (parameter, values,
page title after the region's name). ``region`` and ``city`` are the light answer-first
province and city pages (the city page reads chapter 5's cached scores)."""

FIRST: tuple[str, ...] = ("03_models", "05_cities_leap")
"""Chapters the build starts first, longest first: chapter 3 fits the 10,000-tree forest,
the network search and the rolling-origin model choice; chapter 5 scores every model on
every city. The other chapters fill the second slot meanwhile."""

AFTER: dict[str, str] = {
    "index": "04_forecast_peaks",
    "region": "04_forecast_peaks",
    "city": "05_cities_leap",
}
"""Notebook stem -> the chapter that must finish before it starts. The later page reads
what the earlier one fitted (model choice, forecast ensemble, city scores) from the
content-keyed cache, so every shared fit runs once, before the gallery, and a gallery
page only forecasts and plots."""

GALLERY_GROUPS: dict[str, tuple[str, str]] = {
    "region": ("Provinces", "book/provinces"),
    "city": ("Cities", "book/cities"),
}
"""Gallery stem -> (group, landing page listing the group's pages in the sidebar)."""


def gallery_runs(regions: Sequence[str] | None = None) -> list[tuple[Path, str, str]]:
    """(notebook, parameter, value) of every gallery page; ``regions`` limits the values."""
    runs = []
    for stem, (param, values, _) in GALLERY.items():
        nb = repo_root() / "notebooks" / f"{stem}.ipynb"
        if not nb.is_file():
            continue
        chosen = [v for v in values if regions is None or v in regions]
        runs += [(nb, param, v) for v in chosen]
    return runs


def _gallery_choice(gallery: bool | Sequence[str]) -> list[str] | None:
    """``gallery`` as :func:`gallery_runs` takes it: None for all values, a list otherwise."""
    if gallery is True:
        return None
    return [] if gallery is False else list(gallery)


def _gallery_title(stem: str, value: str) -> str:
    """A gallery page's title with the Chinese name first, so search finds 宁夏 or 兰州."""
    param = GALLERY[stem][0]
    if param == "region":
        from carbonlab.regions import province_table

        zh = province_table().set_index("region").loc[resolve_region(value), "name_zh"]
        return f"{zh} {value}: {GALLERY[stem][2]}"
    if param == "city":
        from carbonlab.data import load_cities

        names = load_cities("teaching").drop_duplicates("city").set_index("city")["city_zh"]
        if value in names.index:
            return f"{names[value]} {value}: {GALLERY[stem][2]}"
    return f"{value}: {GALLERY[stem][2]}"


def _slug(value: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in value)


def _label_slug(value: str) -> str:
    """``value`` as a label suffix: lowercase, other characters as one hyphen ("inner-mongolia")."""
    return re.sub(r"[\W_]+", "-", value.lower()).strip("-")


_MYST_TARGET = re.compile(r"^\(([^()\s]+)\)=[ \t]*$", re.MULTILINE)
_REF_ROLE = re.compile(r"(\{(?:numref|ref)\}`(?:[^`<]*<)?)([^`<>]+)(>?`)")
# sphinx-exercise labels (``:label: ex-x``) and the solutions that name them (```{solution} ex-x)
_EXERCISE_LABEL = re.compile(r"^(:label:[ \t]+)(\S+)[ \t]*$", re.MULTILINE)
_SOLUTION_OF = re.compile(r"^([`:]{3,}\{solution\}[ \t]+)(\S+)[ \t]*$", re.MULTILINE)


def _adapt_gallery_page(path: Path, title: str, value: str) -> None:
    """Fit one gallery page (a chapter run for one region or city) beside the others.

    Replaces the page title (the first Markdown H1) with ``title``. Sphinx labels are
    global and the same chapter appears once per value, so every figure name
    (``mystnb.figure.name`` in a cell's metadata), every MyST target ``(label)=`` and every
    exercise ``:label:`` gets the suffix ``-<slug of value>`` (``fig-peaks-path-inner-mongolia``),
    and the page's own ``{numref}``/``{ref}`` references and ``{solution}`` directives follow.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    suffix = f"-{_label_slug(value)}"
    renamed: dict[str, str] = {}

    def text(cell: dict[str, Any]) -> str:
        src = cell["source"]
        return "".join(src) if isinstance(src, list) else src

    for cell in nb["cells"]:
        fig = cell.get("metadata", {}).get("mystnb", {}).get("figure")
        if isinstance(fig, dict) and fig.get("name"):
            renamed[str(fig["name"])] = fig["name"] = f"{fig['name']}{suffix}"
        if cell["cell_type"] == "markdown":
            for label in _MYST_TARGET.findall(text(cell)):
                renamed[label] = f"{label}{suffix}"
            for _, label in _EXERCISE_LABEL.findall(text(cell)):
                renamed[label] = f"{label}{suffix}"
    first = True
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = text(cell)
        if first:
            head, _, rest = src.partition("\n")
            if head.startswith("# "):
                src = f"# {title}\n{rest}"
            first = False
        src = _MYST_TARGET.sub(lambda m: f"({renamed[m[1]]})=", src)
        src = _REF_ROLE.sub(lambda m: m[1] + renamed.get(m[2], m[2]) + m[3], src)
        for pattern in (_EXERCISE_LABEL, _SOLUTION_OF):
            src = pattern.sub(lambda m: m[1] + renamed.get(m[2], m[2]), src)
        cell["source"] = src
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


@contextlib.contextmanager
def _env_default(name: str, value: str) -> Iterator[None]:
    """Within the block, environment variable ``name`` is ``value`` unless it was set
    already; afterwards the environment is as it was."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


def execute_all(dataset: str = "teaching", jobs: int = 1, out_dir: Path | None = None,
                log: Callable[[str], None] = print,
                extra: Mapping[str, Mapping[str, Any]] | None = None,
                gallery: bool | Sequence[str] = True) -> list[Path]:
    """Execute every chapter (and the per-region gallery) into ``out_dir``, atomically.

    ``gallery`` is True for every region of :data:`GALLERY`, False for none, or a list
    of region/city names. ``extra`` maps a notebook stem to parameter overrides.
    Also writes ``out_dir/_toc.yml``: the book's ``_toc.yml`` plus a "Regions" part.
    """
    out_dir = Path(out_dir or repo_root() / EXECUTED)
    extra = extra or {}
    chosen = _gallery_choice(gallery)
    # the kernels run side by side share the CPUs: chapter 5's city-scoring workers
    # (_util.n_jobs) get their share unless CARBONLAB_JOBS is set already
    share = str(max(1, (os.cpu_count() or 1) // max(1, jobs)))
    jobs_list: list[tuple[Path, dict[str, Any], Path, tuple[str, str] | None]] = []
    with _env_default("CARBONLAB_JOBS", share), atomic_dir(out_dir) as tmp:
        for nb in notebooks():
            jobs_list.append((nb, {"dataset": dataset, **extra.get(nb.stem, {})}, tmp / nb.name,
                              None))
        pages: list[str] = []
        for nb, param, value in gallery_runs(chosen):
            out = tmp / "regions" / f"{nb.stem}_{_slug(value)}.ipynb"
            params = {"dataset": dataset, **extra.get(nb.stem, {}), param: value}
            jobs_list.append((nb, params, out, (_gallery_title(nb.stem, value), value)))
            pages.append(f"{EXECUTED}/regions/{out.stem}")
        # start the longest chapters first; a page waits for the chapter it reads (AFTER)
        order = sorted(range(len(jobs_list)), key=lambda i: (
            jobs_list[i][0].stem not in FIRST or jobs_list[i][3] is not None,
            FIRST.index(jobs_list[i][0].stem) if jobs_list[i][0].stem in FIRST else 0, i))
        started = [jobs_list[i] for i in order]
        chapter_at = {job[0].stem: k for k, job in enumerate(started) if job[3] is None}
        after = [[chapter_at[AFTER[job[0].stem]]] if AFTER.get(job[0].stem) in chapter_at else []
                 for job in started]

        def one(job: tuple[Path, dict[str, Any], Path, tuple[str, str] | None]) -> Path:
            nb, params, out, page = job
            declared = declared_parameters(nb)
            params = {k: v for k, v in params.items() if k in declared}
            path = run_notebook(nb, params, out)
            if page:
                _adapt_gallery_page(path, *page)
            return path

        ran = _run_all(one, started, jobs, log, tmp, after)
        done = [ran[order.index(i)] for i in range(len(jobs_list))]  # in the book's order
        write_toc(tmp / "_toc.yml", pages)
    return [out_dir / p.relative_to(tmp) for p in done]


def _run_all(one: Callable[[Any], Path], jobs_list: list[Any], jobs: int,
             log: Callable[[str], None], tmp: Path,
             after: Sequence[Sequence[int]] | None = None) -> list[Path]:
    """Run ``one`` over ``jobs_list`` on ``jobs`` threads, logging progress as each ends.

    Jobs start in list order (put the longest first); ``after[i]`` lists the indices of
    the jobs that must have finished before job ``i`` starts. The first failure, Ctrl-C
    or SIGTERM kills every running kernel, cancels what has not started and re-raises
    within seconds (the pool is not waited for).
    """
    t0 = time.perf_counter()
    n = len(jobs_list)
    needs = [set(a) for a in after] if after is not None else [set() for _ in range(n)]
    width = max(1, jobs)
    pool = ThreadPoolExecutor(max_workers=width, thread_name_prefix="carbonlab-book")
    futures: dict[Future[Path], int] = {}
    results: dict[int, Path] = {}
    waiting = list(range(n))
    try:
        while len(results) < n:
            while len(futures) - len(results) < width:  # fill the free slots, in list order
                ready = next((i for i in waiting if needs[i] <= results.keys()), None)
                if ready is None:
                    break
                waiting.remove(ready)
                futures[pool.submit(one, jobs_list[ready])] = ready
            running = [f for f, i in futures.items() if i not in results]
            if not running:
                raise CarbonlabError("book: a notebook waits for one that is not in the build")
            finished, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = futures[fut]
                results[i] = fut.result()  # the first failure stops the build
                el = time.perf_counter() - t0
                log(f"[{len(results):>{len(str(n))}d}/{n}] {results[i].relative_to(tmp)}"
                    f"  elapsed {int(el // 60)}:{int(el % 60):02d}")
    except BaseException:
        cancel_all()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.perf_counter() + 10
        for fut in futures:  # running notebooks end quickly once their kernel is killed
            if not fut.done():
                left = deadline - time.perf_counter()
                if left <= 0:
                    break
                wait([fut], timeout=left)
        _clear_cancel()
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in range(n)]


def write_toc(path: Path, gallery_pages: Sequence[str]) -> Path:
    """The book's ``_toc.yml`` with a "Regions" part listing ``gallery_pages``.

    The pages are grouped (:data:`GALLERY_GROUPS`: provinces, cities) under one landing
    page each, so the sidebar shows two collapsed entries instead of every page.
    """
    import yaml

    toc = yaml.safe_load((repo_root() / "_toc.yml").read_text(encoding="utf-8"))
    groups: dict[str, list[str]] = {stem: [] for stem in GALLERY_GROUPS}
    for page in gallery_pages:
        name = Path(page).name
        stem = max((s for s in GALLERY_GROUPS if name.startswith(f"{s}_")), key=len, default=None)
        if stem is None:
            raise ParameterError(f"gallery page {page!r} belongs to no gallery group")
        groups[stem].append(page)
    chapters = [{"file": GALLERY_GROUPS[stem][1], "sections": [{"file": p} for p in pages]}
                for stem, pages in groups.items() if pages]
    if chapters:
        toc["parts"].insert(1, {"caption": "Regions", "chapters": chapters})
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _build_failure(code: int, log: str) -> str:
    """The failure as one first line naming the first warning or error, the log after it."""
    lines = [ln.rstrip() for ln in _ANSI.sub("", log).splitlines() if ln.strip()]
    warn = [ln for ln in lines if "WARNING" in ln or "ERROR" in ln or "Error" in ln]
    cause = (warn or lines or ["no output"])[0].strip()
    tail = "\n".join((warn or lines)[-40:])
    return f"jupyter-book build failed (exit {code}): {cause}\n{tail}"


def check_build_tools(root: Path | None = None) -> str:
    """The ``jupyter-book`` command; one-line :class:`ParameterError` before any work if it or
    the offline MathJax (``mathjax_path`` in an ``html_static_path`` entry of
    ``_config.yml``; ``make mathjax``) is missing."""
    import yaml

    root = root or repo_root()
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or \
        shutil.which("jupyter-book")
    if jb is None:
        raise ParameterError("jupyter-book is not installed (pip install -e '.[book]')")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    html = ((config.get("sphinx") or {}).get("config") or {})
    path = html.get("mathjax_path")
    if path and "://" not in str(path):
        static = html.get("html_static_path") or []
        if not any((root / d / path).is_file() for d in static):
            raise ParameterError(f"the offline MathJax ({path}) is in none of "
                                 f"{', '.join(map(str, static))}: run `make mathjax` first")
    return jb


def build_html(root: Path, toc: Path, jb: str | None = None) -> Path:
    """Build ``root/_build/html`` with jupyter-book from the table of contents ``toc``
    (warnings are errors); returns ``index.html``.

    The previous ``index.html`` is kept if the build fails or is interrupted (Ctrl-C).
    Two builds of the same executed notebooks write the same bytes.
    """
    jb = jb or check_build_tools(root)
    html = root / "_build" / "html"
    cmd = [jb, "build", str(root), "--builder", "html", "-W", "-n", "--keep-going",
           "--toc", str(toc)]
    index = html / "index.html"
    # sphinx-external-toc writes the root redirect only when it is missing, so a redirect
    # left by an earlier table of contents would survive: it is moved aside for the build
    # and put back if the build fails or is interrupted
    kept = html / ".index.html.previous"
    if index.is_file():
        os.replace(index, kept)
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                              env={**os.environ, "NO_COLOR": "1", "TERM": "dumb"})
        if proc.returncode != 0:
            raise CarbonlabError(_build_failure(proc.returncode, proc.stdout + proc.stderr))
    except BaseException:
        if kept.is_file():
            os.replace(kept, index)
        raise
    kept.unlink(missing_ok=True)
    return index


def build_book(dataset: str = "teaching", jobs: int = 2, log: Callable[[str], None] = print,
               execute: bool = True, gallery: bool | Sequence[str] = True,
               extra: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Execute the chapters and the gallery, build the HTML book; returns ``index.html``.

    What the HTML build needs (jupyter-book, the offline MathJax of ``make mathjax``) is
    checked before any notebook runs. A failed or interrupted HTML build keeps the previous
    ``_build/html/index.html``; the error's first line names the first warning (no colour
    codes).
    """
    root = repo_root()
    t0 = time.perf_counter()
    jb = check_build_tools(root)
    if execute:
        n = len(notebooks()) + len(gallery_runs(_gallery_choice(gallery)))
        log(f"executing {n} notebooks on the {dataset} dataset (jobs={jobs})")
        execute_all(dataset=dataset, jobs=jobs, log=log, gallery=gallery, extra=extra)
    log("building the book (jupyter-book, warnings are errors)")
    toc = root / EXECUTED / "_toc.yml"
    index = build_html(root, toc if toc.is_file() else root / "_toc.yml", jb)
    log(f"book built in {time.perf_counter() - t0:.0f} s")
    return index
