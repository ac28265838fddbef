"""The province page (notebooks/region.ipynb): the answer comes first and matches the outlook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import TEST_PARAMS

ROOT = Path(__file__).resolve().parent.parent


def _first_output_markdown(path: Path) -> tuple[str, int]:
    """The first Markdown output of the executed page and the index of its cell."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for i, c in enumerate(cells):
        for o in c.get("outputs", []):
            md = o.get("data", {}).get("text/markdown")
            if md:
                return ("".join(md) if isinstance(md, list) else md), i
    raise AssertionError(f"{path.name}: no Markdown answer in the outputs")


@pytest.mark.slow
def test_region_page_opens_with_the_outlooks_answer(tmp_path):
    from carbonlab import peaks
    from carbonlab.runner import run_notebook

    params = {"dataset": "teaching", **TEST_PARAMS.get("region", {})}
    o = peaks.outlook("teaching", n_members=params.get("n_members", 200))
    table = o.table.set_index("region")
    already = [r for r in table.index if o.region(r)["already"]]
    rising = table[~table["peaked"]].index
    picks = {"already": already[0] if len(already) else None,
             "not peaked": rising[0] if len(rising) else None}
    assert any(picks.values())
    for kind, region in picks.items():
        if region is None:
            continue
        out = run_notebook(ROOT / "notebooks" / "region.ipynb", {**params, "region": region},
                           tmp_path / f"region_{region}.ipynb")
        text, cell = _first_output_markdown(Path(out))
        answer = o.region(region)
        assert text.startswith(f"**{region} (")
        assert f"the class is *{answer['class']}*" in text
        assert f"(P = {answer['p_by_2030']:.2f};" in text
        assert "What it would take" in text
        if kind == "already":
            assert "has already peaked" in text and str(answer["peak_year"]) in text
        else:
            assert "does not peak by 2030 in the point forecast" in text
            assert re.search(r"What it would take:\*\* \S", text)
            # the same inverse problem as chapter 4's Table 10: the scenario model, starting
            # from the point path the page quotes
            adj_drivers, then = peaks.adjustment_drivers(o.drivers)
            adj = peaks.peak_adjustment(o.adjustment_model()[1], o.panel, o.paths, region,
                                        drivers=adj_drivers, then=then, population=o.population,
                                        base=o.members[o.members["member"] == -1])
            assert adj.message in text
        # nothing but hidden bookkeeping before the answer
        cells = json.loads(Path(out).read_text(encoding="utf-8"))["cells"]
        shown = [c for c in cells[:cell] if c["cell_type"] == "code"
                 and not {"remove-cell", "parameters", "injected-parameters"}
                 & set(c.get("metadata", {}).get("tags", []))]
        assert not shown, "a visible code cell comes before the answer"
