"""Issue 25's teacher's kit: the student edition (no solutions, no outputs) and the book's PDFs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "carbonlab", *args], capture_output=True,
                          text=True, cwd=ROOT)


def _md(nb: dict) -> str:
    return "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in nb["cells"] if c["cell_type"] == "markdown")


def _exercises(nb: dict) -> list[str]:
    return re.findall(r"^[`:]{3,}\{exercise\}[^\n]*\n(?::[^\n]*\n)*?:label:\s*(\S+)", _md(nb), re.M)


def test_student_edition_has_the_exercises_without_solutions_or_outputs(tmp_path):
    import nbformat

    out = tmp_path / "student"
    proc = _cli("student-edition", str(out))
    assert proc.returncode == 0, proc.stderr
    written = sorted(out.glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    n_exercises = 0
    for src, path in zip(NOTEBOOKS, written, strict=True):
        teacher = json.loads(src.read_text(encoding="utf-8"))
        nb = json.loads(path.read_text(encoding="utf-8"))
        nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))
        text = _md(nb)
        assert "{solution" not in text, f"{path.name}: a solution is left"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert not any("solution" in c["metadata"].get("tags", []) for c in code), path.name
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code), path.name
        assert _exercises(nb) == _exercises(teacher), f"{path.name}: exercises lost"
        answers = [c for c in code if "answer" in c["metadata"].get("tags", [])]
        assert len(answers) == len(_exercises(teacher)), path.name
        params = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
        assert len(params) == 1, f"{path.name}: the parameters cell must stay"
        # everything that is not a solution stays: the chapter's own cells, in order
        kept = ["".join(c["source"]) for c in nb["cells"] if "answer" not in c["metadata"].get("tags", [])]
        assert kept[0] == "".join(teacher["cells"][0]["source"])
        n_exercises += len(_exercises(teacher))
    assert n_exercises >= 20
    teacher_text = "\n".join(_md(json.loads(p.read_text(encoding="utf-8"))) for p in NOTEBOOKS)
    assert teacher_text.count("{solution") >= n_exercises  # the check above had solutions to miss
    # again into the same folder: replaced whole, nothing left beside it
    (out / "02_bma.ipynb").write_text("{}", encoding="utf-8")
    assert _cli("student-edition", str(out)).returncode == 0
    assert json.loads((out / "02_bma.ipynb").read_text(encoding="utf-8"))["cells"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"]


def test_strip_solutions_handles_every_form():
    from carbonlab._util import ParameterError
    from carbonlab.course import strip_solutions

    def md(s):
        return {"cell_type": "markdown", "metadata": {}, "source": s}

    def code(s, *tags, outputs=()):
        return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": s,
                "outputs": list(outputs), "execution_count": 3}

    nb = {"metadata": {"papermill": {"parameters": {}}}, "nbformat": 4, "nbformat_minor": 5, "cells": [
        md("# Title"),
        code("x = 1", outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}]),
        md("```{exercise} A\n:label: ex-a\n\nWhy?\n```\n````{solution} ex-a\n:class: dropdown\n\n"
           "Because.\n\n```python\nprint(2)\n```\n````\nAfter the solution."),
        md("```{exercise} B\n:label: ex-b\n\nHow?\n```"),
        md("```{solution-start} ex-b\n:class: dropdown\n```\nLike this:"),
        code("y = 2", "solution"),
        md("Done.\n\n```{solution-end}\n```"),
        code("z = 3", "remove-cell"),
    ]}
    out = strip_solutions(nb)
    texts = ["".join(c["source"]) for c in out["cells"]]
    assert texts == ["# Title", "x = 1",
                     "```{exercise} A\n:label: ex-a\n\nWhy?\n```\nAfter the solution.",
                     "# Exercise ex-a: your answer here\n",
                     "```{exercise} B\n:label: ex-b\n\nHow?\n```",
                     "# Exercise ex-b: your answer here\n", "z = 3"]
    assert out["cells"][1]["outputs"] == [] and out["cells"][1]["execution_count"] is None
    assert "papermill" not in out["metadata"] and nb["cells"][1]["outputs"]  # the input is unchanged
    nb["cells"] = nb["cells"][:5]
    with pytest.raises(ParameterError, match="no \\{solution-end\\}"):
        strip_solutions(nb)


@pytest.mark.parametrize("case", ["file", "source", "not-empty"])
def test_student_edition_refuses_a_bad_folder_in_one_line(tmp_path, case):
    target = {"file": tmp_path / "a-file", "source": ROOT / "notebooks",
              "not-empty": tmp_path / "mine"}[case]
    if case == "file":
        target.write_text("x", encoding="utf-8")
    if case == "not-empty":
        target.mkdir()
        (target / "thesis.tex").write_text("keep me", encoding="utf-8")
    before = sorted(p.name for p in (target.iterdir() if target.is_dir() else []))
    proc = _cli("student-edition", str(target))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("carbonlab: error: ") and "student-edition" in lines[0]
    assert sorted(p.name for p in (target.iterdir() if target.is_dir() else [])) == before
    if case == "not-empty":
        assert (target / "thesis.tex").read_text(encoding="utf-8") == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_make_student_and_pdf_targets_exist():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^student:.*\n\t.*carbonlab student-edition", make, re.M)
    assert re.search(r"^pdf:.*\n(?:\t.*\n)*?\t.*carbonlab pdf", make, re.M)


@pytest.mark.slow
def test_book_pdf_prints_the_book_and_each_chapter(built_book, tmp_path):
    """The whole book and one PDF per chapter, printed offline by Chromium and merged."""
    from pypdf import PdfReader

    from carbonlab.course import book_pages, find_chromium

    try:
        find_chromium()
    except Exception:  # noqa: BLE001
        if __import__("os").environ.get("CI"):
            raise
        pytest.skip("chromium not installed")
    html = built_book.parent
    out = tmp_path / "pdf"
    proc = _cli("pdf", "--html", str(html), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(chapters) >= 6
    assert sorted(p.stem for p in out.glob("*.pdf")) == sorted(["book", *chapters])
    book = PdfReader(str(out / "book.pdf"))
    pages = book_pages(html)
    assert len(book.pages) >= len(pages) > 10
    text = "\n".join(p.extract_text() for p in book.pages[:3])
    assert "Synthetic teaching data" in text
    ch4 = PdfReader(str(out / "04_forecast_peaks.pdf"))
    assert 3 <= len(ch4.pages) < len(book.pages)
    assert "Fig. 4.1" in "\n".join(p.extract_text() for p in ch4.pages)
