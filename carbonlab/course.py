"""Course material from the book: the student edition of the notebooks, the book as PDF.

:func:`student_edition` writes every notebook under ``notebooks/`` without its solutions
(code cells tagged ``solution``, gated ``{solution-start}`` … ``{solution-end}`` sections and
``{solution}`` directives) and without outputs, with an empty code cell after each exercise
for the answer. The folder is replaced as a whole (nothing half-written) and only if it is
new, empty or an earlier student edition.

:func:`book_pdf` prints the built HTML book (``_build/html``) with the Debian Chromium
(``chromium --headless --print-to-pdf``, offline: the pages' own files only) and merges the
pages with :mod:`pypdf`: one PDF for the whole book and one per chapter.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from carbonlab._util import (
    CarbonlabError,
    ParameterError,
    atomic_dir,
    atomic_path,
    check_writable_dir,
    repo_root,
)

__all__ = ["MARKER", "strip_solutions", "student_edition", "book_pages", "book_pdf", "find_chromium"]

MARKER = ".carbonlab-student-edition"
"""File that marks a folder written by :func:`student_edition` (it may be replaced)."""

_SOLUTION_START = re.compile(r"^([`:]{3,})\{solution-start\}", re.M)
_SOLUTION_END = re.compile(r"^([`:]{3,})\{solution-end\}[^\n]*\n\1[ \t]*(?:\n|$)", re.M)
_SOLUTION = re.compile(r"^([`:]{3,})\{solution\}[^\n]*\n", re.M)
_EXERCISE = re.compile(r"^[`:]{3,}\{exercise\}[^\n]*\n(?::[^\n]*\n)*?:label:[ \t]*(\S+)", re.M)


def _text(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _drop_solution_directives(md: str) -> str:
    """``md`` without its ``{solution}`` directives (each up to the closing fence of its own length)."""
    while True:
        m = _SOLUTION.search(md)
        if not m:
            return md
        end = re.compile(rf"^{re.escape(m[1])}[ \t]*$\n?", re.M).search(md, m.end())
        md = md[:m.start()] + (md[end.end():] if end else "")


def _answer_cell(label: str) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "id": f"answer-{label}"[:64],
            "metadata": {"tags": ["answer"]}, "outputs": [],
            "source": [f"# Exercise {label}: your answer here\n"]}


def strip_solutions(nb: dict[str, Any]) -> dict[str, Any]:
    """A copy of the notebook ``nb`` (nbformat 4 JSON) for students.

    Drops solution code cells, gated solution sections and ``{solution}`` directives, clears
    outputs, execution counts and papermill/execution metadata, and puts an empty code cell
    (tagged ``answer``) after each exercise. Raises :class:`ParameterError` on a
    ``{solution-start}`` without its ``{solution-end}``.
    """
    out = copy.deepcopy(nb)
    out.get("metadata", {}).pop("papermill", None)
    cells: list[dict[str, Any]] = []
    in_gate = False
    for cell in out.get("cells", []):
        meta = cell.setdefault("metadata", {})
        for key in ("papermill", "execution"):
            meta.pop(key, None)
        tags = meta.get("tags", [])
        if "injected-parameters" in tags:
            continue
        if cell.get("cell_type") == "code":
            if in_gate or "solution" in tags:
                continue
            cell["outputs"] = []
            cell["execution_count"] = None
            cells.append(cell)
            continue
        text = _text(cell)
        if in_gate:
            end = _SOLUTION_END.search(text)
            if not end:
                continue
            in_gate = False
            text = text[end.end():]
        start = _SOLUTION_START.search(text)
        if start:
            end = _SOLUTION_END.search(text, start.end())
            if end:
                text = text[:start.start()] + text[end.end():]
            else:
                text, in_gate = text[:start.start()], True
        text = _drop_solution_directives(text)
        if not text.strip():
            continue
        cell["source"] = text
        cell.pop("outputs", None)
        cells.append(cell)
        cells += [_answer_cell(label) for label in _EXERCISE.findall(text)]
    if in_gate:
        raise ParameterError("student edition: a {solution-start} has no {solution-end}")
    out["cells"] = cells
    return out


def student_edition(folder: str | os.PathLike[str], notebooks: Sequence[Path] | None = None,
                    log: Callable[[str], None] = print) -> list[Path]:
    """Write the student edition of ``notebooks`` (default: every ``notebooks/*.ipynb``) to ``folder``.

    ``folder`` must be new, empty or an earlier student edition (it is replaced whole), and
    never the source ``notebooks/`` folder or inside it. Returns the written notebooks.
    """
    if not str(folder).strip():
        raise ParameterError("student-edition: the folder name is empty")
    target = Path(folder).expanduser().absolute()
    source = (repo_root() / "notebooks").resolve()
    resolved = target.resolve()
    if resolved == source or source in resolved.parents or resolved in source.parents:
        raise ParameterError(f"student-edition: {folder} is or holds the source notebooks/ folder; "
                             "choose another folder")
    check_writable_dir(target, "student-edition")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).is_file():
        raise ParameterError(f"student-edition: {folder} is not empty and holds no earlier student "
                             "edition; choose a new or empty folder")
    paths = sorted(notebooks if notebooks is not None else (repo_root() / "notebooks").glob("*.ipynb"))
    if not paths:
        raise ParameterError("student-edition: no notebooks to write")
    written = []
    with atomic_dir(target) as tmp:
        for path in paths:
            try:
                nb = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ParameterError(f"student-edition: cannot read {path} ({exc})") from None
            try:
                student = strip_solutions(nb)
            except ParameterError as exc:
                raise ParameterError(f"{Path(path).name}: {exc}") from None
            (tmp / Path(path).name).write_text(
                json.dumps(student, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            written.append(target / Path(path).name)
        (tmp / MARKER).write_text("carbonlab student edition: notebooks without solutions or "
                                  "outputs; this folder is replaced by the next one\n", encoding="utf-8")
    for p in written:
        log(str(p))
    return written


# --------------------------------------------------------------------------- PDF


def find_chromium() -> str:
    """The Chromium (or Chrome) executable; one-line :class:`CarbonlabError` if none."""
    for name in (os.environ.get("CARBONLAB_CHROMIUM", ""), "chromium", "chromium-browser",
                 "google-chrome", "google-chrome-stable"):
        found = shutil.which(name) if name else None
        if found:
            return found
    raise CarbonlabError("no Chromium found to print the PDF (apt-get install chromium, "
                         "or set CARBONLAB_CHROMIUM)")


_NOT_PRINTED = frozenset({"genindex.html", "search.html", "py-modindex.html"})


def book_pages(html: Path) -> list[tuple[str, Path]]:
    """(chapter stem or '', page) of every page of the built book, in the order of the book's
    navigation (the sidebar of the front page); the stem is set on the chapters' pages."""
    index = html / "index.html"
    if not index.is_file():
        raise ParameterError(f"{html}: no built book (run `make book` first)")
    front = index  # the root index.html redirects to the front page
    redirect = re.search(r'http-equiv="Refresh" content="\d+;\s*url=([^"]+)"',
                         index.read_text(encoding="utf-8"), re.I)
    if redirect and (html / redirect[1]).is_file():
        front = html / redirect[1]
    text = front.read_text(encoding="utf-8")
    nav = re.search(r'<nav class="bd-docs-nav.*?</nav>', text, re.S)
    hrefs = re.findall(r'href="([^"#]+\.html)"', nav.group(0) if nav else text)
    pages: list[tuple[str, Path]] = [("", front)]
    seen = {front.resolve()}
    for href in hrefs:
        page = (front.parent / href).resolve()
        if (page in seen or not page.is_file() or html.resolve() not in page.parents
                or page.name in _NOT_PRINTED):
            continue
        seen.add(page)
        pages.append((page.stem if re.match(r"\d\d_", page.name) else "", page))
    return pages


def _print_page(chromium: str, page: Path, out: Path, profile: Path) -> None:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9",
           f"--user-data-dir={profile}", "--run-all-compositor-stages-before-draw",
           "--virtual-time-budget=20000", "--no-pdf-header-footer",
           f"--print-to-pdf={out}", page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise CarbonlabError(f"chromium could not print {page.name} (exit {proc.returncode}: {tail})")


def book_pdf(html: str | os.PathLike[str] | None = None, out_dir: str | os.PathLike[str] | None = None,
             log: Callable[[str], None] = print) -> list[Path]:
    """Print the built book to ``out_dir`` (default ``_build/pdf``): ``book.pdf`` and one
    ``<chapter>.pdf`` per chapter; returns the written files (whole book first)."""
    from pypdf import PdfWriter

    html = Path(html) if html is not None else repo_root() / "_build" / "html"
    out_dir = Path(out_dir) if out_dir is not None else html.parent / "pdf"
    check_writable_dir(out_dir, "pdf output folder")
    pages = book_pages(html)
    chromium = find_chromium()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="carbonlab-pdf-") as work:
        work_dir = Path(work)
        printed: list[tuple[str, Path]] = []
        for k, (chapter, page) in enumerate(pages):
            pdf = work_dir / f"{k:03d}.pdf"
            _print_page(chromium, page, pdf, work_dir / "profile")
            printed.append((chapter, pdf))
            log(f"[{k + 1}/{len(pages)}] {page.relative_to(html)}")
        groups: dict[str, list[Path]] = {"book": [p for _, p in printed]}
        for chapter, pdf in printed:
            if chapter:
                groups.setdefault(chapter, []).append(pdf)
        for name, parts in groups.items():
            writer = PdfWriter()
            for part in parts:
                writer.append(str(part))
            target = out_dir / f"{name}.pdf"
            with atomic_path(target) as tmp, open(tmp, "wb") as fh:
                writer.write(fh)
            written.append(target)
    return written
