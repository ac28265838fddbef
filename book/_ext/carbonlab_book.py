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
- The first use of each glossary term on a page links to its entry in the glossary
  (:func:`link_glossary_terms`): "PIP", "peak class", "LEAP" … as written in prose, not in
  code, math, headings or existing links.
- Every page built from a dataset says which, at its top (:func:`add_dataset_label`): on the
  teaching panel "synthetic teaching data, not a forecast of China", on the real data the
  inventories' name and their last year in the panel the build used. A page's dataset is the
  ``dataset`` parameter papermill recorded in its executed notebook; the gallery's landing
  pages take the build's one dataset.
- The repository and launch buttons (:func:`set_repository`): the repository is
  ``repository.url`` of ``_config.yml``, else ``$CARBONLAB_REPOSITORY_URL``, else the clone's
  git remote ``origin``; with one, the page header links to it (repository, issues) and each
  notebook page opens its source notebook (``notebooks/…``, not the git-ignored ``executed/``
  copy) on Binder or Colab; with none, no button. Links only: nothing is fetched at build time.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

_UNITS = r"(?:%|‰|Mt|Gt|kt|TJ|PJ|GJ|MJ|kWh|MWh|TWh|GW|MW|kg|km|m³|亿t|t CO2|tce|yuan)(?![A-Za-z])"
_UNIT_SPACE = re.compile(rf"(?<=\d) (?={_UNITS})")
_LEADING_UNIT = re.compile(rf"^ (?={_UNITS})")
_TRAILING_NUMBER = re.compile(r"(?<=\d) $")


def keep_units_with_numbers(app: Any, doctree: Any, docname: str) -> None:
    """Replace the space between a number and its unit by a no-break space in text nodes
    outside literals (inline code, code blocks, math and raw output are left as they are).

    The number and its unit may sit in neighbouring text nodes: a glued value
    (``{glue:text}`x` %``) is a node of its own, followed by the text " %".
    """
    from docutils import nodes

    skip = (nodes.literal, nodes.literal_block, nodes.raw, nodes.math, nodes.math_block)
    texts = list(doctree.findall(nodes.Text))
    new_texts: list[str] = [str(t) for t in texts]
    for i, node in enumerate(texts):
        parent = node.parent
        if parent is None or isinstance(parent, skip):
            continue
        text = _UNIT_SPACE.sub("\u00a0", new_texts[i])
        if i > 0 and new_texts[i - 1][-1:].isdigit():
            text = _LEADING_UNIT.sub("\u00a0", text)
        if i + 1 < len(texts) and re.match(_UNITS, new_texts[i + 1]):
            text = _TRAILING_NUMBER.sub("\u00a0", text)
        new_texts[i] = text
    for node, text in zip(texts, new_texts, strict=True):
        if text != str(node) and node.parent is not None:
            node.parent.replace(node, nodes.Text(text))


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


# --------------------------------------------------------------------------- glossary links


NO_TERM_LINKS = ("book/references",)
"""Pages whose text is not prose (the bibliography): no glossary links."""


def glossary_terms(env: Any) -> dict[str, tuple[str, str]]:
    """Glossary term (lower case, as defined) -> (glossary page, anchor), from Sphinx's std domain."""
    std = env.get_domain("std")
    return dict(getattr(std, "_terms", {}))


def term_pattern(term: str) -> re.Pattern[str]:
    """How a term is written in prose: case-insensitive, as a whole word, plural allowed;
    "CE1, CE2" matches either name."""
    names = [t.strip() for t in term.split(",") if t.strip()]
    alts = "|".join(r"\s+".join(map(re.escape, n.split())) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w`-])(?:{alts})(?:s|es)?(?![\w-])", re.IGNORECASE)


def link_glossary_terms(app: Any, doctree: Any, docname: str) -> None:
    """``doctree-resolved``: link each glossary term's first use on the page to its entry."""
    from docutils import nodes
    from sphinx import addnodes

    terms = {t: where for t, where in glossary_terms(app.env).items() if where[0] != docname}
    if not terms or docname in NO_TERM_LINKS:
        return
    patterns = {t: term_pattern(t) for t in terms}
    skip = (nodes.literal, nodes.literal_block, nodes.raw, nodes.math, nodes.math_block,
            nodes.reference, nodes.title, nodes.term, addnodes.pending_xref, nodes.FixedTextElement,
            nodes.caption, nodes.rubric)

    def skipped(node: Any) -> bool:
        p = node.parent
        while isinstance(p, nodes.Element):
            if isinstance(p, skip) or "carbonlab-dataset" in p.get("classes", []):
                return True
            p = p.parent
        return False

    queue = list(doctree.findall(nodes.Text))
    k = 0
    while k < len(queue) and patterns:
        node = queue[k]
        k += 1
        if node.parent is None or skipped(node):
            continue
        text = str(node)
        hits = [(m.start(), m.end(), t) for t, pat in patterns.items() if (m := pat.search(text))]
        if not hits:
            continue
        start, end, term = min(hits)
        target_doc, anchor = terms[term]
        try:
            uri = app.builder.get_relative_uri(docname, target_doc) + "#" + anchor
        except Exception:  # noqa: BLE001 - a builder without URIs: leave the text
            patterns.pop(term)
            continue
        ref = nodes.reference("", text[start:end], internal=True, refuri=uri,
                              reftitle=f"Glossary: {text[start:end]}", classes=["carbonlab-term"])
        after = nodes.Text(text[end:])
        parent = node.parent
        i = parent.index(node)
        parent.replace(node, nodes.Text(text[:start]))
        parent.insert(i + 1, ref)
        parent.insert(i + 2, after)
        queue.insert(k, after)
        patterns.pop(term)


# --------------------------------------------------------------------------- dataset label

LANDING_PAGES = ("book/provinces", "book/cities")
"""Pages listing gallery pages: labelled with the build's dataset (they have no notebook)."""


def notebook_dataset(source: str) -> tuple[str, bool] | None:
    """(dataset, is a city page) from a notebook's JSON text: the ``dataset`` parameter papermill
    recorded, else the default in the ``parameters`` cell; None for a page without one."""
    import ast

    try:
        nb = json.loads(source)
        meta = nb.get("metadata", {})
    except (ValueError, AttributeError):
        return None
    params = dict((meta.get("papermill") or {}).get("parameters") or {})
    for cell in nb.get("cells", []):
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        src = cell.get("source", "")
        try:
            tree = ast.parse("".join(src) if isinstance(src, list) else src)
        except SyntaxError:
            break
        for node in tree.body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                for t in targets:
                    if isinstance(t, ast.Name) and t.id not in params and node.value is not None:
                        try:
                            params[t.id] = ast.literal_eval(node.value)
                        except ValueError:
                            params[t.id] = None
        break
    dataset = params.get("dataset")
    return (str(dataset), "city" in params) if dataset else None


@functools.cache
def dataset_label(dataset: str, cities: bool = False) -> tuple[str, str]:
    """(lead, rest) of the label of a page built from ``dataset`` (the city panel if ``cities``).

    The years are those of the panel the build reads (``carbonlab.data``), not typed here.
    """
    from carbonlab import data

    df = data.load_cities(dataset) if cities else data.load_panel(dataset)
    first, last = int(df["year"].min()), int(df["year"].max())
    what = (f"{df['city'].nunique()} cities" if cities else f"{df['region'].nunique()} provinces")
    if dataset == "teaching":
        return ("Synthetic teaching data, not a forecast of China.",
                f" Dataset teaching: the carbonlab teaching panel ({what}, {first}–{last}), "
                "generated from a known, made-up truth calibrated to the studies' figures: "
                "its peaks show how the methods work.")
    source = "city inventories" if cities else "provincial inventories"
    return (f"Real data: CEADs {source} as of {last}.",
            f" Dataset {dataset}: {what}, {first}–{last}, read from the public files "
            "(CEADs, GCAM-China and yearbook statistics); forecasts beyond are the methods' "
            "answers, not official projections.")


def record_dataset(app: Any, docname: str, source: list[str]) -> None:
    """``source-read``: remember the dataset of an executed notebook."""
    found = notebook_dataset(source[0]) if source and source[0].lstrip().startswith("{") else None
    if found:
        if not hasattr(app.env, "carbonlab_datasets"):
            app.env.carbonlab_datasets = {}
        app.env.carbonlab_datasets[docname] = found


def _purge_dataset(app: Any, env: Any, docname: str) -> None:
    getattr(env, "carbonlab_datasets", {}).pop(docname, None)


def _merge_datasets(app: Any, env: Any, docnames: Any, other: Any) -> None:
    if not hasattr(env, "carbonlab_datasets"):
        env.carbonlab_datasets = {}
    theirs = getattr(other, "carbonlab_datasets", {})
    env.carbonlab_datasets.update({d: theirs[d] for d in docnames if d in theirs})


def page_dataset(env: Any, docname: str) -> tuple[str, bool] | None:
    """The dataset a page is built from: its notebook's, or the build's one for a landing page."""
    known = getattr(env, "carbonlab_datasets", {})
    if docname in known:
        return known[docname]
    if docname in LANDING_PAGES:
        datasets = {d for d, _ in known.values()}
        if len(datasets) == 1:
            return datasets.pop(), docname.endswith("cities")
    return None


def label_node(dataset: str, cities: bool = False, data_uri: str | None = None) -> Any:
    """The label as a docutils paragraph in a ``div.carbonlab-dataset`` box."""
    from docutils import nodes

    lead, rest = dataset_label(dataset, cities)
    para = nodes.paragraph()
    para += nodes.strong(lead, lead)
    para += nodes.Text(rest)
    if data_uri:
        para += nodes.Text(" ")
        para += nodes.reference("", "About the data.", refuri=data_uri, internal=True)
    kind = "synthetic" if dataset == "teaching" else "real"
    return nodes.container("", para, classes=["carbonlab-dataset", f"carbonlab-dataset-{kind}"])


def add_dataset_label(app: Any, doctree: Any, docname: str) -> None:
    """``doctree-resolved``: put the page's dataset label right under its title."""
    from docutils import nodes

    found = page_dataset(app.env, docname)
    if found is None:
        return
    uri = None
    if "book/data" in app.env.all_docs and docname != "book/data":
        try:
            uri = app.builder.get_relative_uri(docname, "book/data")
        except Exception:  # noqa: BLE001 - a builder without URIs: no link
            uri = None
    box = label_node(*found, data_uri=uri)
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        section.insert(1, box)
    else:
        doctree.insert(0, box)


# --------------------------------------------------------------------------- repository, launch

def repository_url(configured: str, root: str | Path) -> str:
    """The repository's web address: ``configured``, else ``$CARBONLAB_REPOSITORY_URL``, else
    the git remote ``origin`` of ``root`` as https (``git@github.com:o/r.git`` ->
    ``https://github.com/o/r``); "" if none."""
    url = (configured or os.environ.get("CARBONLAB_REPOSITORY_URL", "")).strip()
    if not url:
        try:
            proc = subprocess.run(["git", "-C", str(root), "config", "--get", "remote.origin.url"],
                                  capture_output=True, text=True, timeout=10)
            url = proc.stdout.strip() if proc.returncode == 0 else ""
        except (OSError, subprocess.SubprocessError):
            url = ""
    m = re.fullmatch(r"(?:ssh://)?git@([^:/]+)[:/](.+)", url)
    if m:
        url = f"https://{m[1]}/{m[2]}"
    url = re.sub(r"\.git$", "", url.rstrip("/"))
    return url if re.fullmatch(r"https?://[^/]+/[^/]+/[^/]+", url) else ""


def _book_config(root: str | Path) -> dict[str, Any]:
    """The book's ``_config.yml`` as a dict ({} if there is none)."""
    path = Path(root) / "_config.yml"
    if not path.is_file():
        return {}
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def set_repository(app: Any, config: Any) -> None:
    """``config-inited``: repository and launch buttons on when a repository is known, off else."""
    opts = config.html_theme_options
    # _config.yml's sphinx.config.html_theme_options replaces the theme options Jupyter Book
    # derives from its repository and launch_buttons sections: read those sections here
    book = _book_config(app.confdir)
    repo = book.get("repository") or {}
    for key, yml in (("repository_branch", "branch"), ("path_to_docs", "path_to_book")):
        if repo.get(yml) and key not in opts:
            opts[key] = repo[yml]
    url = repository_url(opts.get("repository_url") or repo.get("url") or "", app.confdir)
    launch = dict(opts.get("launch_buttons") or book.get("launch_buttons") or {})
    if url:
        opts["repository_url"] = url
        opts.setdefault("repository_branch", "main")
        opts["use_repository_button"] = True
        opts["use_issues_button"] = "github.com" in url or "gitlab.com" in url
    else:
        opts.pop("repository_url", None)
        for key in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            opts[key] = False
        launch = {k: ("" if k.endswith("_url") else v) for k, v in launch.items()}
    opts["launch_buttons"] = launch


_EXECUTED_PAGE = re.compile(r"executed/regions/(region|city)_[^/?&#\s]*?\.ipynb")
_EXECUTED_CHAPTER = re.compile(r"executed/([^/?&#\s]+)\.ipynb")


def source_notebook_url(url: str) -> str:
    """A launch link to an executed page rewritten to its source notebook: ``executed/04_x.ipynb``
    -> ``notebooks/04_x.ipynb``, ``executed/regions/region_Ningxia.ipynb`` -> ``notebooks/region.ipynb``."""
    url = _EXECUTED_PAGE.sub(r"notebooks/\1.ipynb", url)
    return _EXECUTED_CHAPTER.sub(r"notebooks/\1.ipynb", url)


def launch_sources(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """``html-page-context`` after the theme's launch buttons: point them at ``notebooks/``."""
    def fix(buttons: list[Any]) -> None:
        for b in buttons:
            if isinstance(b, dict):
                if isinstance(b.get("url"), str) and b["url"].startswith("http"):
                    b["url"] = source_notebook_url(b["url"])
                fix(b.get("buttons") or [])

    fix(context.get("header_buttons") or [])


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", dedupe_scripts, priority=900)
    app.connect("builder-inited", check_mathjax)
    app.connect("env-get-updated", number_by_page, priority=900)
    app.connect("doctree-resolved", keep_units_with_numbers)
    app.connect("doctree-resolved", link_glossary_terms)
    app.connect("source-read", record_dataset)
    app.connect("env-purge-doc", _purge_dataset)
    app.connect("env-merge-info", _merge_datasets)
    app.connect("doctree-resolved", add_dataset_label)
    app.connect("config-inited", set_repository)
    app.connect("html-page-context", launch_sources, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
