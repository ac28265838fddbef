"""Sphinx tweaks for the carbonlab book (loaded through ``_config.yml``'s ``local_extensions``).

- Every page listed some inline scripts twice (sphinx-thebe's ``const THEBE_JS_URL = ...``
  and sphinx-togglebutton's settings), so browsers logged "Identifier 'THEBE_JS_URL' has
  already been declared". The page's script list is de-duplicated before rendering.
- MathJax is served from the book's own ``_static/mathjax`` (installed by ``make``), so
  formulas render offline; the build fails early if it is missing instead of silently
  falling back to a CDN.
- Figures, tables and exercises are numbered by chapter ("Fig. 4.2", "Exercise 3.1"; the
  chapters' files are 00-05, so are their numbers) and from 1 on every other page (a
  province page's first figure is "Fig. 1"), instead of one sequence through the book
  (Sphinx numbers across documents unless the toctree is numbered, and numbering the
  toctree would call the chapters 1-6).
- A number and its unit stay on one line ("8.7 %", "164.9 Mt" could break before the unit):
  the space between them becomes a no-break space in the prose (not in code or raw HTML).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_UNIT_SPACE = re.compile(
    r"(?<=\d) (?=(?:%|‰|Mt|Gt|kt|TJ|PJ|GJ|MJ|kWh|MWh|TWh|GW|MW|kg|m³|亿t|t CO2|yuan)(?![A-Za-z]))")


def keep_units_with_numbers(app: Any, doctree: Any, docname: str) -> None:
    """Replace the space between a number and its unit by a no-break space in text nodes
    outside literals (inline code, code blocks, math and raw output are left as they are)."""
    from docutils import nodes

    skip = (nodes.literal, nodes.literal_block, nodes.raw, nodes.math, nodes.math_block)
    for node in list(doctree.findall(nodes.Text)):
        parent = node.parent
        if parent is None or isinstance(parent, skip):
            continue
        text = str(node)
        new = _UNIT_SPACE.sub("\u00a0", text)
        if new != text:
            parent.replace(node, nodes.Text(new))


_CHAPTER = re.compile(r"(?:^|/)(\d\d)_[^/]*$")


def chapter_number(docname: str) -> int | None:
    """'executed/04_forecast_peaks' -> 4; None for pages that are not numbered chapters."""
    m = _CHAPTER.search(docname)
    return int(m.group(1)) if m else None


def number_by_page(app: Any, env: Any) -> list[str]:
    """Renumber ``env.toc_fignumbers`` per document: (chapter, k) in a chapter, (k,) elsewhere.

    Runs after Sphinx assigned its book-wide sequence (``env-get-updated``, late priority) and
    keeps each document's order of figures; returns every numbered document so that pages
    citing a number are written again.
    """
    for docname, by_type in env.toc_fignumbers.items():
        chapter = chapter_number(docname)
        prefix = () if chapter is None else (chapter,)
        for figtype, ids in by_type.items():
            order = sorted(ids, key=lambda i: ids[i])
            by_type[figtype] = {fid: (*prefix, k) for k, fid in enumerate(order, start=1)}
    return sorted(env.toc_fignumbers)


def _script_key(js: Any) -> tuple[str, str]:
    filename = str(getattr(js, "filename", js) or "")
    attributes = getattr(js, "attributes", {}) or {}
    return filename, repr(sorted((str(k), str(v)) for k, v in attributes.items()))


def dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """Drop repeated entries of the page's ``script_files`` (same file or same inline body)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    kept = []
    for js in scripts:
        key = _script_key(js)
        if key in seen:
            continue
        seen.add(key)
        kept.append(js)
    scripts[:] = kept


def check_mathjax(app: Any) -> None:
    """Fail the build early when the offline MathJax is not in any html_static_path entry."""
    path = app.config.mathjax_path
    if not path or "://" in path:
        return
    roots = [Path(app.confdir) / p for p in app.config.html_static_path]
    if not any((r / path).is_file() for r in roots):
        from sphinx.errors import ConfigError

        raise ConfigError(f"mathjax_path {path!r} is in no html_static_path entry "
                          f"({', '.join(map(str, app.config.html_static_path))}); run `make mathjax`")


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("builder-inited", check_mathjax)
    app.connect("env-get-updated", number_by_page, priority=900)
    app.connect("doctree-resolved", keep_units_with_numbers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
