"""Targets found by carbonlab (data/targets/found.csv): validation, status, precedence.

The bad-row and clash tests work on a temporary copy of found.csv (``found_path``);
the committed file is only read.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from carbonlab._util import DataError, repo_root
from carbonlab.data import targets

FOUND = repo_root() / "data" / "targets" / "found.csv"
REAL = Path(os.environ.get("CARBONLAB_DATA_DIR", repo_root().parent / "shared" / "data"))
needs_mirror = pytest.mark.skipif(not (REAL / "MANIFEST.csv").is_file(),
                                  reason=f"real-data mirror not found at {REAL}")


def _rows() -> tuple[list[str], list[dict[str, str]]]:
    with open(FOUND, newline="", encoding="utf-8") as fh:
        rd = csv.DictReader(fh)
        return list(rd.fieldnames or []), list(rd)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return path


def test_found_table_is_valid_and_non_empty():
    f = targets.found_targets()
    assert len(f) > 0
    assert not f.duplicated(["region", "year"]).any()
    assert f["value"].between(0, 1, inclusive="right").all()
    assert set(f["year"]) <= {2025, 2030}
    assert f["url"].str.startswith("http").all()


@needs_mirror
def test_found_rows_appear_with_status_and_source():
    pub = targets.published_targets(REAL)
    f = targets.found_targets().set_index(["region", "year"])
    mirror = pub[pub["status"] != targets.FOUND_STATUS].set_index(["region", "year"]).index
    new = f.index.difference(mirror)
    got = pub[pub["status"] == targets.FOUND_STATUS].set_index(["region", "year"])
    assert len(new) and set(got.index) == set(new)
    for key, row in got.iterrows():
        assert row["value"] == pytest.approx(f.loc[key, "value"])
        assert row["source"] == f.loc[key, "url"] and row["confirmed"]
        assert row["qualifier"] == f.loc[key, "qualifier"]
    t = targets.provincial_targets(REAL).set_index(["region", "year"])
    assert (t.loc[list(new), "status"] == targets.FOUND_STATUS).all()
    assert len(t) == 60 and not t.index.duplicated().any()


@pytest.mark.parametrize(("column", "bad", "message"), [
    ("value", "abc", "not a number 'abc'"),
    ("value", "15.5", r"expected a fraction in \(0, 1\], found '15.5'"),
    ("region", "Atlantis", "Atlantis"),
    ("year", "2026", "expected 2025 or 2030, found '2026'"),
    ("url", "www.example.org", "expected a URL"),
    ("qualifier", "about", "expected one of"),
    ("measure", "fossil", "expected one of non-fossil, renewable"),
])
def test_bad_found_row_names_line_and_column(tmp_path, column, bad, message):
    header, rows = _rows()
    rows[1][column] = bad  # the second data row: line 3 of the file
    path = _write(tmp_path / "found.csv", header, rows)
    with pytest.raises(DataError, match=rf"found\.csv, line 3, column {column}\b.*{message}") as exc:
        targets.found_targets(path)
    assert "\n" not in str(exc.value)


@needs_mirror
def test_bad_found_row_stops_published_targets(tmp_path):
    header, rows = _rows()
    rows[0]["region"] = "Atlantis"
    path = _write(tmp_path / "found.csv", header, rows)
    with pytest.raises(DataError, match=r"found\.csv, line 2, column region"):
        targets.published_targets(REAL, found_path=path)


@needs_mirror
def test_mirror_figure_wins_on_a_clash(tmp_path):
    pub0 = targets.published_targets(REAL)
    mirror = pub0[pub0["status"] != targets.FOUND_STATUS]
    quoted = mirror[mirror["status"] == "quoted"].iloc[0]
    lead = mirror[mirror["status"].str.startswith("lead")].iloc[0]
    header, rows = _rows()
    clash = []
    for r in (quoted, lead):
        clash.append({"region": r["region"], "year": str(r["year"]),
                      "value": f"{min(r['value'] + 0.1, 0.99):.3f}", "qualifier": "≈",
                      "measure": "non-fossil", "url": "https://example.org/clash",
                      "document": "test", "note": "a clash with the mirror"})
    path = _write(tmp_path / "found.csv", header, rows + clash)
    pub = targets.published_targets(REAL, found_path=path)
    assert not pub.duplicated(["region", "year"]).any()
    for r in (quoted, lead):
        hit = pub[(pub["region"] == r["region"]) & (pub["year"] == r["year"])]
        assert len(hit) == 1
        assert hit.iloc[0]["status"] == r["status"]
        assert hit.iloc[0]["value"] == pytest.approx(r["value"])
    assert (pub["source"] != "https://example.org/clash").all()
    # the other found rows are unaffected
    assert (pub["status"] == targets.FOUND_STATUS).sum() == (pub0["status"] == targets.FOUND_STATUS).sum()
