"""Provincial non-fossil share targets for 2025 and 2030, read from the mirror's
``targets-sources.md`` at run time (nothing of it is transcribed into the repository),
plus the figures carbonlab's authors found themselves (``data/targets/found.csv``).

The file quotes each province's carbon-peak plan from public web pages. Two
Markdown tables are parsed:

- **Figures found**: a figure quoted from a named page; ``confirmed`` is True
  except for the Ningxia consultation draft (``status="draft"``).
- **Leads not re-confirmed**: seen once, not re-quoted; ``confirmed`` is False unless
  ``data/targets/confirmations.csv`` (committed; one row per figure re-found on a public
  page by carbonlab's authors, with its URL and a note, no quotation) has the same value
  for the province and year: then ``confirmed`` is True and ``status`` ``"lead, confirmed"``.

A cell like ``>14.4 %``, ``≥11.7 % (力争)``, ``≈25 %`` becomes ``value`` (fraction)
and ``qualifier`` (``>``, ``≥``, ``≈``, ``=``); ``not found`` gives no row.
Beijing's figures measure the **renewable** share (``measure="renewable"``), the
others the non-fossil share.

``data/targets/found.csv`` (committed) holds figures for provinces the mirror has none
for, found on public pages by carbonlab's authors (November 2026): one row per province
and year with value, qualifier, measure, URL, document and a paraphrase. They become
``status="found (carbonlab)"``, ``confirmed`` True (a row is kept only where the page
states the figure). A row of the mirror's tables wins over found.csv for the same
province and year. Provinces without a figure for a year get the
national targets of the State Council's action plan, which the mirror's file quotes
(about 20 % in 2025, 25 % in 2030), flagged ``status="national default"``.
"""

from __future__ import annotations

import os
import re

import pandas as pd

from carbonlab._util import DataError, repo_root
from carbonlab.data.nbs import province_or_none
from carbonlab.data.registry import check_file, data_dir
from carbonlab.regions import PROVINCES

__all__ = ["FOUND_STATUS", "TARGETS_FILE", "confirmations", "found_targets", "published_targets",
           "provincial_targets"]

TARGETS_FILE = "targets-sources.md"
FOUND_STATUS = "found (carbonlab)"
_QUALIFIERS = ("=", "≈", "≥", ">", "≤", "<")
_MEASURES = ("non-fossil", "renewable")
_NUM = re.compile(r"([<>≥≤≈~]?)\s*(\d+(?:\.\d+)?)\s*%")
_NATIONAL = re.compile(r"到(20\d\d)年[,，]?\s*非化石能源消费比重达到(\d+(?:\.\d+)?)%左右")


def _cell(s: str) -> tuple[float, str] | None:
    m = _NUM.search(s)
    if not m:
        return None
    q = {"": "=", "~": "≈"}.get(m.group(1), m.group(1))
    return float(m.group(2)) / 100.0, q


def _tables(text: str, path) -> dict[str, list[list[str]]]:
    """Markdown tables under each '## ' heading: heading -> rows of cells (header dropped)."""
    out: dict[str, list[list[str]]] = {}
    head = None
    for line in text.splitlines():
        if line.startswith("## "):
            head = line[3:].strip()
            continue
        if head and line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if set("".join(cells)) <= set("-: "):
                continue
            out.setdefault(head, []).append(cells)
    for key in out:
        out[key] = out[key][1:]  # drop the header row
    return out


def _targets_table(path: str | os.PathLike[str] | None, name: str, need: list[str], what: str
                   ) -> pd.DataFrame:
    """A committed table ``data/targets/<name>`` checked row by row: region one of the 30
    provinces, year 2025 or 2030, value a fraction in (0, 1], url a URL, measure
    non-fossil/renewable and (where the table has one) qualifier one of = ≈ ≥ > ≤ <.
    A bad cell is a one-line DataError naming the file, line and column."""
    from pathlib import Path

    path = Path(path) if path is not None else repo_root() / "data" / "targets" / name
    if not path.is_file():
        raise DataError(f"{path}: {what} table not found")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"{path}: not a readable CSV ({reason})") from None
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    out = df[need].copy()
    for i, r in out.iterrows():
        where = f"{path}, line {i + 2}"
        region = province_or_none(r["region"], f"{where}, column region")
        if region is None:
            raise DataError(f"{where}, column region: not one of the 30 provinces")
        out.loc[i, "region"] = region
        if r["year"].strip() not in ("2025", "2030"):
            raise DataError(f"{where}, column year: expected 2025 or 2030, found {r['year']!r}")
        try:
            value = float(r["value"])
        except ValueError:
            raise DataError(f"{where}, column value: not a number {r['value']!r}") from None
        if not 0 < value <= 1:
            raise DataError(f"{where}, column value: expected a fraction in (0, 1], "
                            f"found {r['value']!r}")
        if not r["url"].startswith("http"):
            raise DataError(f"{where}, column url: expected a URL, found {r['url']!r}")
        if r["measure"] not in _MEASURES:
            raise DataError(f"{where}, column measure: expected one of {', '.join(_MEASURES)}, "
                            f"found {r['measure']!r}")
        if "qualifier" in need and r["qualifier"] not in _QUALIFIERS:
            raise DataError(f"{where}, column qualifier: expected one of {' '.join(_QUALIFIERS)}, "
                            f"found {r['qualifier']!r}")
    out["year"] = out["year"].astype(int)
    out["value"] = out["value"].astype(float)
    return out


def confirmations(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Re-confirmations of the leads (``data/targets/confirmations.csv``): region, year,
    value (fraction), measure, url, document, note."""
    return _targets_table(path, "confirmations.csv",
                          ["region", "year", "value", "measure", "url", "document", "note"],
                          "confirmations")


def found_targets(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Figures carbonlab's authors found on public pages (``data/targets/found.csv``):
    region, year, value (fraction), qualifier (= ≈ ≥ > ≤ <), measure, url, document, note."""
    return _targets_table(path, "found.csv",
                          ["region", "year", "value", "qualifier", "measure", "url", "document",
                           "note"], "found-targets")


def published_targets(data_dir_: str | os.PathLike[str] | None = None, verify: bool = True,
                      found_path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The published figures, one row per province and year: those of the mirror's
    ``targets-sources.md``, then those of ``data/targets/found.csv`` (``found_path``)
    for province-years the mirror has no figure for.

    Precedence for one province and year: a quoted figure or draft of the mirror, then a
    lead (re-confirmed or not), then a row of found.csv. A mirror row always wins over
    found.csv; the found row is then dropped.

    Returns
    -------
    DataFrame
        region, year, value (fraction), qualifier, measure ("non-fossil"/"renewable"),
        status ("quoted", "draft", "lead", "lead, confirmed", "found (carbonlab)"),
        confirmed (bool), source (URL or page), document.
        ``attrs["national"]``: {2025: 0.20, 2030: 0.25} as the mirror's file quotes it.
    """
    path = check_file(TARGETS_FILE, data_dir(data_dir_), verify_hash=verify)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc.reason})") from None
    ref = next((ln for ln in text.splitlines() if ln.startswith("**National reference")), "")
    national = {int(y): float(v) / 100 for y, v in _NATIONAL.findall(ref)}
    if set(national) != {2025, 2030}:
        raise DataError(f"{path}: the '**National reference.**' line gives no 2025 and 2030 share "
                        f"(found {sorted(national)})")
    tabs = _tables(text, path)
    found = next((v for k, v in tabs.items() if k.lower().startswith("figures found")), None)
    leads = next((v for k, v in tabs.items() if k.lower().startswith("leads")), None)
    if found is None or leads is None:
        raise DataError(f"{path}: expected sections 'Figures found' and 'Leads not re-confirmed'")
    rows = []
    for kind, table in (("quoted", found), ("lead", leads)):
        for cells in table:
            where = f"{path}, {kind} table, row {cells[0]!r}"
            if len(cells) < 4:
                raise DataError(f"{where}: expected at least 4 cells, found {len(cells)}")
            name = cells[0]
            draft = "draft" in name.lower()
            region = province_or_none(re.sub(r"\(.*?\)|[A-Za-z*]", "", name).strip(), where)
            if region is None:
                raise DataError(f"{where}: unknown province {name!r}")
            what = cells[3].lower() if kind == "quoted" else ""
            measure = "renewable" if "renewable" in what and "not non-fossil" in what else "non-fossil"
            source = cells[4] if kind == "quoted" and len(cells) > 4 else cells[3]
            document = cells[5] if kind == "quoted" and len(cells) > 5 else ""
            for year, cell in ((2025, cells[1]), (2030, cells[2])):
                parsed = _cell(cell)
                if parsed is None:
                    continue
                status = "draft" if draft else kind
                rows.append((region, year, parsed[0], parsed[1], measure, status,
                             status == "quoted", source, document))
    out = pd.DataFrame(rows, columns=["region", "year", "value", "qualifier", "measure", "status",
                                      "confirmed", "source", "document"])
    conf = confirmations().set_index(["region", "year"])
    for i, r in out[out["status"] == "lead"].iterrows():
        key = (r["region"], int(r["year"]))
        if key in conf.index and abs(conf.loc[key, "value"] - r["value"]) < 1e-9:
            out.loc[i, "confirmed"] = True
            out.loc[i, "status"] = "lead, confirmed"
            out.loc[i, "source"] = f"{conf.loc[key, 'url']} (re-confirmed; lead: {r['source']})"
            out.loc[i, "document"] = conf.loc[key, "document"]
    dup = out.duplicated(["region", "year"], keep="first")
    out = out[~dup].reset_index(drop=True)  # a quoted figure wins over a lead
    fnd = found_targets(found_path)
    have = pd.MultiIndex.from_frame(out[["region", "year"]])
    fnd = fnd[~pd.MultiIndex.from_frame(fnd[["region", "year"]]).isin(have)]  # the mirror wins
    if len(fnd):
        add = pd.DataFrame({"region": fnd["region"], "year": fnd["year"], "value": fnd["value"],
                            "qualifier": fnd["qualifier"], "measure": fnd["measure"],
                            "status": FOUND_STATUS, "confirmed": True, "source": fnd["url"],
                            "document": fnd["document"]})
        out = pd.concat([out, add], ignore_index=True)
    out.attrs["national"] = national
    out.attrs["source"] = (f"{TARGETS_FILE} (public web pages quoting the provincial plans) and "
                           "data/targets/found.csv (figures found by carbonlab's authors)")
    return out


def provincial_targets(data_dir_: str | os.PathLike[str] | None = None, verify: bool = True
                       ) -> pd.DataFrame:
    """Targets for all 30 provinces: the published figure or the national default.

    Returns
    -------
    DataFrame
        region, driver ("fossil"), year (2025, 2030), value (fraction), plus the
        columns of :func:`published_targets` (status "national default",
        confirmed False for filled rows).
    """
    pub = published_targets(data_dir_, verify)
    national = pub.attrs["national"]
    rows = []
    for region in PROVINCES:
        for year in (2025, 2030):
            hit = pub[(pub["region"] == region) & (pub["year"] == year)]
            if len(hit):
                rows.append(hit.iloc[0].to_dict())
            else:
                rows.append({"region": region, "year": year, "value": national[year],
                             "qualifier": "≈", "measure": "non-fossil",
                             "status": "national default", "confirmed": False,
                             "source": "State Council 2030年前碳达峰行动方案 (国发〔2021〕23号), "
                                       "as quoted in " + TARGETS_FILE, "document": ""})
    out = pd.DataFrame(rows)
    out.insert(1, "driver", "fossil")
    out = out[["region", "driver", "year", "value", "qualifier", "measure", "status",
               "confirmed", "source", "document"]]
    out.attrs["national"] = national
    out.attrs["units"] = {"value": "fraction"}
    out.attrs["source"] = pub.attrs["source"] + "; national targets where no figure was found"
    return out
