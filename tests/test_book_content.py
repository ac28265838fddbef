"""The book's reference apparatus: complete bibliography, in-text citations, glossary."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "book" / "references.bib"
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
_CITE = re.compile(r"\{cite(?::[pt])?\}`([^`]+)`")


def _notebook_markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in cells if c["cell_type"] == "markdown")


def _sources() -> dict[str, str]:
    out = {p.name: _notebook_markdown(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    out.update({p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "book").glob("*.md"))})
    return out


def test_bibliography_entries_are_complete():
    from pybtex.database import parse_file

    db = parse_file(str(BIB))
    assert len(db.entries) >= 20
    for key, e in db.entries.items():
        f = e.fields
        assert e.persons.get("author"), f"{key}: no author"
        assert f.get("title") and re.fullmatch(r"\d{4}", f.get("year", "")), f"{key}: title/year"
        where = {"journal", "booktitle", "publisher", "howpublished", "url", "doi"} & set(f)
        assert where, f"{key}: no venue, publisher, URL or DOI"
        if e.type == "article":
            assert "journal" in f, f"{key}: article without a journal"


def test_every_cited_key_is_in_the_bibliography():
    from pybtex.database import parse_file

    keys = set(parse_file(str(BIB)).entries)
    for name, text in _sources().items():
        for group in _CITE.findall(text):
            for key in (k.strip() for k in group.split(",")):
                assert key in keys, f"{name}: {{cite}} of unknown key {key!r}"


def test_no_python_domain_roles():
    """The book has no API pages, so a {py:func} role is an unresolved reference under -n."""
    for name, text in _sources().items():
        roles = re.findall(r"\{py:\w+\}`[^`]+`", text)
        assert not roles, f"{name}: {roles[:3]} (write the name as a literal instead)"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_each_chapter_cites_in_the_text(path):
    cites = _CITE.findall(_notebook_markdown(path))
    assert cites, f"{path.name}: no {{cite}} role in the chapter's text"


def test_glossary_defines_every_driver_and_the_units():
    from carbonlab.data import DRIVERS

    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `(\w+)` \|(.+)$", text, re.M)}
    missing = [d for d in DRIVERS if d not in rows]
    assert not missing, f"glossary lacks drivers {missing}"
    sup = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
    for d, (_meaning, unit) in DRIVERS.items():
        cells = [c.strip() for c in rows[d].split("|")]
        assert len(cells) >= 3 and all(cells[:3]), f"{d}: meaning, unit and source needed"
        shown = cells[1].translate(sup).replace("10", "10^").replace("10^^", "10^")
        assert shown == unit or cells[1].translate(sup) == unit.replace("^", ""), (
            f"{d}: glossary unit {cells[1]!r}, data layer {unit!r}")
    assert "亿t" in text and "100 Mt" in text
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "book/glossary" in toc
