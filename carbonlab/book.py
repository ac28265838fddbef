"""Running chapters with papermill and building the Jupyter Book.

``run_notebook`` executes one chapter for one region after checking every
parameter against the notebook's ``parameters`` cell (papermill itself only
logs a misspelt name and runs the default). ``build_book`` executes every
chapter into ``executed/`` and builds ``_build/html`` with warnings as errors.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from carbonlab._util import CarbonlabError, ParameterError, atomic_dir, atomic_path, repo_root
from carbonlab.regions import PROVINCES, resolve_region

__all__ = [
    "notebooks",
    "find_notebook",
    "declared_parameters",
    "check_parameters",
    "run_notebook",
    "execute_all",
    "build_book",
    "EXECUTED",
    "GALLERY",
    "GALLERY_GROUPS",
    "gallery_runs",
    "write_toc",
]

EXECUTED = "executed"
"""Git-ignored folder (under the repository root) of executed notebooks; ``_toc.yml`` points here."""


GALLERY: dict[str, tuple[str, tuple[str, ...], str]] = {
    "region": ("region", PROVINCES, "will it peak by 2030?"),
    "05_cities_leap": ("city", ("Beijing", "Lanzhou", "Hohhot", "Shangluo"),
                       "city policy scenarios"),
}
"""Notebooks re-run per region for the book's "Regions" part: stem -> (parameter, values,
page title after the region's name). ``region`` is the light answer-first province page."""

GALLERY_GROUPS: dict[str, tuple[str, str]] = {
    "region": ("Provinces", "book/provinces"),
    "05_cities_leap": ("Cities", "book/cities"),
}
"""Gallery stem -> (group, landing page listing the group's pages in the sidebar)."""


def notebooks(root: Path | None = None) -> list[Path]:
    """The front page and the chapter notebooks, in order (``index``, ``notebooks/NN_*``)."""
    root = root or repo_root()
    front = [root / "notebooks" / "index.ipynb"]
    return [p for p in front if p.is_file()] + sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def find_notebook(name: str | os.PathLike[str]) -> Path:
    """Resolve a notebook given as a path, a file name or a stem (``04_forecast_peaks``)."""
    p = Path(name)
    candidates = [p, repo_root() / p, repo_root() / "notebooks" / p,
                  repo_root() / "notebooks" / f"{p}.ipynb"]
    for c in candidates:
        if c.is_file() and c.suffix == ".ipynb":
            return c.resolve()
    known = ", ".join(n.name for n in notebooks())
    raise ParameterError(f"unknown notebook {str(name)!r} (known: {known})")


def declared_parameters(nb: Path) -> dict[str, dict[str, Any]]:
    """Parameters declared in the notebook's ``parameters`` cell (papermill's inspection)."""
    import papermill as pm

    try:
        return pm.inspect_notebook(str(nb))
    except Exception as exc:  # unreadable JSON etc.
        raise ParameterError(f"{nb}: cannot read notebook parameters ({exc})") from None


def _coerce(name: str, value: Any, type_name: str, nb: Path) -> Any:
    if not isinstance(value, str):
        return value
    t = (type_name or "").lower()
    try:
        if t == "int":
            return int(value)
        if t == "float":
            return float(value)
        if t == "bool":
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
    except ValueError:
        raise ParameterError(
            f"{nb.name}: parameter {name} expects {t}, got {value!r}") from None
    return value


def check_parameters(nb: Path, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check names against the notebook, coerce types, canonicalise region/dataset names."""
    declared = declared_parameters(nb)
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in declared:
            raise ParameterError(
                f"{nb.name}: unknown parameter {name!r} (declared: {', '.join(declared) or 'none'})")
        value = _coerce(name, value, declared[name].get("inferred_type_name", ""), nb)
        if name == "region":
            value = resolve_region(value)
        elif name == "dataset":
            from carbonlab.data import check_dataset

            value = check_dataset(value)
        elif name == "city":
            value = _resolve_city(value, params.get("dataset", declared.get("dataset", {})
                                                   .get("default", "teaching")))
        out[name] = value
    return out


def _resolve_city(value: str, dataset: Any) -> str:
    from carbonlab.data import load_cities

    ds = str(dataset).strip("'\"")
    cities = load_cities(ds if ds in ("teaching", "ceads") else "teaching")
    names = dict(zip(cities["city"], cities["city"], strict=False))
    names.update(dict(zip(cities["city_zh"], cities["city"], strict=False)))
    key = {k.lower().replace(" ", ""): v for k, v in names.items()}
    v = key.get(str(value).lower().replace(" ", "").removesuffix("市").removesuffix("city"))
    if v is None:
        raise ParameterError(f"unknown city {value!r} in the {ds} city panel")
    return v


def run_notebook(notebook: str | os.PathLike[str], params: Mapping[str, Any] | None = None,
                 output: str | os.PathLike[str] | None = None, *, check: bool = True,
                 log: Callable[[str], None] | None = None) -> Path:
    """Execute one notebook with papermill; the output appears only if every cell ran.

    Parameters are checked first (unknown name, bad region, bad dataset → ParameterError);
    the executed notebook is written to a temporary file and moved to ``output``.
    """
    import papermill as pm

    nb = find_notebook(notebook)
    params = check_parameters(nb, params or {}) if check else dict(params or {})
    if output is None:
        suffix = "".join(f"_{v}" for k, v in params.items() if k in ("region", "city"))
        output = repo_root() / EXECUTED / f"{nb.stem}{suffix}.ipynb"
    output = Path(output)
    t0 = time.perf_counter()
    with atomic_path(output, suffix=".ipynb") as tmp:
        try:
            pm.execute_notebook(str(nb), str(tmp), parameters=params, kernel_name="python3",
                                cwd=str(repo_root()), progress_bar=False, log_output=False)
        except pm.PapermillExecutionError as exc:
            raise CarbonlabError(
                f"{nb.name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}") from None
        _strip_papermill_noise(tmp)
    if log:
        log(f"  {nb.name:<28s} {time.perf_counter() - t0:6.1f} s  -> {output}")
    return output


def _strip_papermill_noise(path: Path) -> None:
    """Drop the injected-parameters tag so the book shows the cell as a normal one."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags:
            cell["metadata"]["tags"] = [t for t in tags if t != "injected-parameters"] + [
                "remove-cell"]
        elif "parameters" in tags:
            cell["metadata"]["tags"] = tags + ["remove-cell"]
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


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
    """A gallery page's title; a province's carries its Chinese name so search finds 宁夏."""
    if GALLERY[stem][0] == "region":
        from carbonlab.regions import province_table

        zh = province_table().set_index("region").loc[resolve_region(value), "name_zh"]
        return f"{zh} {value}: {GALLERY[stem][2]}"
    return f"{value}: {GALLERY[stem][2]}"


def _slug(value: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in value)


def _label_slug(value: str) -> str:
    """``value`` as a label suffix: lowercase, other characters as one hyphen ("inner-mongolia")."""
    return re.sub(r"[\W_]+", "-", value.lower()).strip("-")


_MYST_TARGET = re.compile(r"^\(([^()\s]+)\)=[ \t]*$", re.MULTILINE)
_REF_ROLE = re.compile(r"(\{(?:numref|ref)\}`(?:[^`<]*<)?)([^`<>]+)(>?`)")


def _adapt_gallery_page(path: Path, title: str, value: str) -> None:
    """Fit one gallery page (a chapter run for one region or city) beside the others.

    Replaces the page title (the first Markdown H1) with ``title``. Sphinx labels are
    global and the same chapter appears once per value, so every figure name
    (``mystnb.figure.name`` in a cell's metadata) and every MyST target ``(label)=`` gets
    the suffix ``-<slug of value>`` (``fig-peaks-path-inner-mongolia``), and the page's own
    ``{numref}``/``{ref}`` references to them follow.
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
        cell["source"] = src
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1), encoding="utf-8")


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
    jobs_list: list[tuple[Path, dict[str, Any], Path, tuple[str, str] | None]] = []
    with atomic_dir(out_dir) as tmp:
        for nb in notebooks():
            jobs_list.append((nb, {"dataset": dataset, **extra.get(nb.stem, {})}, tmp / nb.name,
                              None))
        pages: list[str] = []
        for nb, param, value in gallery_runs(chosen):
            out = tmp / "regions" / f"{nb.stem}_{_slug(value)}.ipynb"
            params = {"dataset": dataset, **extra.get(nb.stem, {}), param: value}
            jobs_list.append((nb, params, out, (_gallery_title(nb.stem, value), value)))
            pages.append(f"{EXECUTED}/regions/{out.stem}")

        def one(job: tuple[Path, dict[str, Any], Path, tuple[str, str] | None]) -> Path:
            nb, params, out, page = job
            declared = declared_parameters(nb)
            params = {k: v for k, v in params.items() if k in declared}
            path = run_notebook(nb, params, out, log=log)
            if page:
                _adapt_gallery_page(path, *page)
            return path

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            done = list(pool.map(one, jobs_list))
        write_toc(tmp / "_toc.yml", pages)
    return [out_dir / p.relative_to(tmp) for p in done]


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


def build_book(dataset: str = "teaching", jobs: int = 2, log: Callable[[str], None] = print,
               execute: bool = True, gallery: bool | Sequence[str] = True,
               extra: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Execute the chapters and the gallery, build the HTML book; returns ``index.html``."""
    root = repo_root()
    t0 = time.perf_counter()
    if execute:
        n = len(notebooks()) + len(gallery_runs(_gallery_choice(gallery)))
        log(f"executing {n} notebooks on the {dataset} dataset (jobs={jobs})")
        execute_all(dataset=dataset, jobs=jobs, log=log, gallery=gallery, extra=extra)
    log("building the book (jupyter-book, warnings are errors)")
    html = root / "_build" / "html"
    # sphinx-external-toc writes the root redirect only when it is missing, so a redirect
    # left by an earlier table of contents would survive; remove it before every build
    (html / "index.html").unlink(missing_ok=True)
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    toc = root / EXECUTED / "_toc.yml"
    cmd = [jb, "build", str(root), "--builder", "html", "-W", "-n", "--keep-going",
           "--toc", str(toc if toc.is_file() else root / "_toc.yml")]
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).splitlines()
        warn = [ln for ln in lines if "WARNING" in ln or "ERROR" in ln]
        tail = "\n".join((warn or lines)[-40:])
        raise CarbonlabError(f"jupyter-book build failed (exit {proc.returncode}):\n{tail}")
    index = html / "index.html"
    log(f"book built in {time.perf_counter() - t0:.0f} s")
    return index
