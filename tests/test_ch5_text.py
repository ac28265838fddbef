"""Chapter 5 reads as a finished lecture page: rankings in words, no scientific notation,
bookkeeping hidden, every section computed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from carbonlab import leap

ROOT = Path(__file__).resolve().parent.parent
CH5 = ROOT / "notebooks" / "05_cities_leap.ipynb"

# 5.8e-11, 1.1e-14, 3E+05 (not "ex-city", not a hex digest inside a path)
SCI = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[eE][-+]?\d+(?![\w])")


def _cells() -> list[dict]:
    return json.loads(CH5.read_text(encoding="utf-8"))["cells"]


def _src(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


# ------------------------------------------------------------------ rankings in words

def test_ranking_sentence_in_words_lowest_error_first():
    text = leap.ranking_sentence(["rf", "svr", "bpnn", "lstm"])
    assert ">" not in text and "<" not in text
    assert text.startswith("from lowest to highest mean APE: RF, SVR, BP, LSTM;")
    # the study's order is its test RMSE from lowest to highest: SVR best, LSTM worst
    assert "one-step test RMSE: SVR, RF, BP, LSTM" in text
    assert "a different order, though both put BP third and LSTM fourth" in text


def test_ranking_sentence_agreement_is_computed():
    assert leap.ranking_sentence(list(leap.STUDY_RANKING)).endswith("the same order")
    reverse = leap.ranking_sentence(list(reversed(leap.STUDY_RANKING)))
    assert reverse.endswith("with no model in the same place")
    partial = leap.ranking_sentence(["svr", "bpnn", "rf"], measure="median APE")
    assert partial.startswith("from lowest to highest median APE: SVR, BP, RF;")
    assert "(LSTM not scored)" in partial and "both put SVR first" in partial


def test_study_ranking_is_lowest_rmse_first():
    """The study: test RMSE LSTM > BP > RF > SVR, so from lowest: SVR, RF, BP, LSTM."""
    assert leap.STUDY_RANKING == ("svr", "rf", "bpnn", "lstm")


# ------------------------------------------------------------------ the source notebook

def test_markdown_has_no_greater_than_rankings():
    """A ranking written with '>' reads either way; the chapter writes it in words."""
    models = "|".join(re.escape(v) for v in leap.LABELS.values())
    chain = re.compile(rf"(?:{models})\s*[<>]\s*(?:{models})")
    for cell in _cells():
        if cell["cell_type"] == "markdown":
            assert not chain.search(_src(cell)), _src(cell)[:200]


def test_markdown_never_formats_glue_in_scientific_notation():
    for cell in _cells():
        if cell["cell_type"] == "markdown":
            assert not re.search(r"\{glue:text\}`[^`]*:[^`]*[eEgG]`", _src(cell)), _src(cell)[:200]


def test_bookkeeping_is_hidden():
    """Visible code is the method's calls (no glue, no imports); hidden cells only import."""
    code = [c for c in _cells() if c["cell_type"] == "code"
            and not {"parameters", "solution"} & set(_tags(c))]
    visible = [c for c in code if not {"remove-input", "remove-cell"} & set(_tags(c))]
    assert len(visible) >= 10, "the chapter's method is not visible"
    for cell in visible:
        src = _src(cell)
        assert "glue(" not in src and "import " not in src, src
    for cell in code:
        if cell in visible:
            continue
        for line in _src(cell).splitlines():
            assert not line.strip() or line.startswith(("import ", "from ", "plotting.use_style(")), line


def test_skeleton_and_citations():
    md = "\n".join(_src(c) for c in _cells() if c["cell_type"] == "markdown")
    heads = [h.strip() for h in re.findall(r"^##\s+(.+)$", md, re.M)]
    for name in ("Overview", "Prerequisites", "Summary", "What's next", "References", "Exercises"):
        assert name in heads, name
    order = [heads.index(n) for n in ("Overview", "Prerequisites", "Summary", "What's next",
                                       "References", "Exercises")]
    assert order == sorted(order)
    for key in ("cao2025smart", "heaps2022leap", "ang2004decomposition", "saltelli2010variance",
                "tashman2000out"):
        assert f"{key}" in md, key
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    for key in re.findall(r"\{cite[:pt]*\}`([^`]+)`", md):
        for k in key.split(","):
            assert f"{{{k.strip()}," in bib, k


def test_every_parameter_is_declared():
    """papermill parses every line of the parameters cell (an '=' in a comment breaks one)."""
    import papermill as pm

    cell = next(c for c in _cells() if "parameters" in _tags(c))
    names = [ln.split(":")[0] for ln in _src(cell).splitlines() if ln.strip()]
    assert list(pm.inspect_notebook(str(CH5))) == names


# ------------------------------------------------------------------ the executed chapter

@pytest.mark.slow
def test_executed_text_has_no_scientific_notation(tmp_path):
    """Every glued value and every shown table of a run reads in fixed notation."""
    from conftest import TEST_PARAMS

    from tests.nbrun import run_notebook

    out = run_notebook(CH5.name, tmp_path, **TEST_PARAMS["05_cities_leap"])
    nb = json.loads(out.read_text(encoding="utf-8"))
    shown, floats = [], set()
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            record = data.get("application/papermill.record/text/plain")
            if record is not None:  # a glued value
                plain = "".join(record)
                if plain.startswith(("'", '"')):
                    shown.append(plain)
                elif not re.fullmatch(r"-?\d+", plain):
                    floats.add(o["metadata"]["scrapbook"]["name"])
                continue
            for mime in ("text/markdown", "text/plain", "text/html"):
                if mime in data and "image/png" not in data:
                    shown.append("".join(data[mime]))
            if o.get("output_type") == "stream":
                shown.append("".join(o["text"]))
    text = "\n".join(shown)
    assert text
    assert not SCI.search(text), SCI.search(text)[0]
    for bad in ("dtype:", "PeakResult(", "CityRun(", "Traceback"):
        assert bad not in text, bad
    ranking = [t for t in shown if "from lowest to highest" in t]
    assert ranking and not any(" > " in r for r in ranking)
    # a glued float is pasted with a fixed format ({glue:text}`x:.1f`), never as its repr
    md = "\n".join(_src(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    bare = sorted(set(re.findall(r"\{glue:text\}`([^`:]+)`", md)) & floats)
    assert not bare, f"floats pasted without a format: {bare}"


# ------------------------------------------------------------------ figures

def test_city_figures_are_legible():
    """The representative cities in a 2-column grid with one legend off the data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from carbonlab.data import load_cities

    cities = load_cities("teaching")
    runs = {c: leap.run_city(cities, c, model="drift", models=("persistence", "drift"),
                             horizon_end=2030, fast=True, cache=False)
            for c in ("Beijing", "Lanzhou", "Hohhot")}
    axes = leap.plot_cities(runs)
    assert len(axes) == 3
    fig = axes[0].figure
    panels = [a for a in fig.axes if a.get_visible()]
    assert len(panels) == 3 and all(a.get_legend() is None for a in panels)
    assert len(fig.legends) == 1
    assert {"inventory", "baseline", "policy"} <= {t.get_text() for t in fig.legends[0].get_texts()}
    fig.canvas.draw()
    assert len({round(a.get_position().x0, 2) for a in panels}) == 2  # two columns
    labels = [t.get_text() for t in leap.plot_levers(runs["Lanzhou"]).get_legend().get_texts()]
    assert "EV sales share" in labels and not any(lab.startswith("ev ") for lab in labels)
    plt.close("all")
