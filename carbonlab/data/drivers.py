"""The driver table: one row (:class:`DriverSpec`) per candidate driver.

Everything that needs to know about a driver reads its row: the schemas (name, unit; a
``fraction`` is a share checked in [0, 1]), the real-panel builder and its coverage table
(:mod:`carbonlab.data.panel`: status, source, reading and loader of the real data), the
teaching world (:mod:`carbonlab.synth` generates the rows with ``teaching``), the scenario
rules (:mod:`carbonlab.scenarios`: plausible band of a share, energy-mix floor, logistic
saturation), the forecasts (the study's five key drivers), Table 10 (which drivers the
inverse problem may move, and in what order; natural units from the unit) and the glossary
(:func:`glossary_table`, copied into ``book/glossary.md``; a test keeps the two equal).

The name views (:data:`DRIVERS`, :data:`SHARE_DRIVERS`, :func:`key_drivers`, ...) are live,
so a row added with :func:`register_driver` reaches all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import ParameterError, RowTable, RowView

__all__ = [
    "DriverSpec",
    "DRIVERS",
    "SHARE_DRIVERS",
    "SHARE_BANDS",
    "STATUSES",
    "Codes",
    "register_driver",
    "registered",
    "driver_spec",
    "driver_specs",
    "key_drivers",
    "teaching_drivers",
    "adjustable",
    "glossary_table",
]

Loader = Callable[[Path, bool], pd.DataFrame]
"""``loader(data_dir, verify)`` -> a frame with ``region, year`` and the driver's column
(it may carry other drivers' columns too: a loader shared by two rows runs once)."""

STATUSES: tuple[str, ...] = ("real", "proxy", "unavailable")
"""Status of a driver on the real data: a real series, a documented proxy, or missing."""


@dataclass(frozen=True)
class DriverSpec:
    """One row of the driver table.

    code, meaning, unit : column name (the provincial study's), what it measures, its unit
        (``"fraction"`` = a share in [0, 1]; ``"ln(X)"`` = natural log of a quantity in X).
    note : what the glossary adds to the meaning.
    study_source : the yearbook that publishes the study's series (glossary).
    sign, sign_source : expected sign of the effect on ln per-capita emissions (+1, -1; 0 =
        the study retained no effect) and where the sign comes from.
    key : position (1, 2, ...) among the study's key drivers that BMA retained and the
        forecasts use; 0 = not one of them.
    adjust, adjust_order : ``"first"`` or ``"then"`` if Table 10's inverse problem may move
        the driver (first the ``first`` ones, then the ``then`` ones, each by
        ``adjust_order``); ``""`` = never moved.
    band : plausible (low, high) range of a projected share (scenarios with ``bands``).
    mix_floor : an energy-mix share whose trend never falls below its recent low.
    saturable : a log count that may follow a per-capita logistic (``saturate`` in scenarios).
    teaching : a column of the teaching panel (:mod:`carbonlab.synth` draws its process).
    ceads_status, ceads_source, ceads_how : the real data's status (:data:`STATUSES`),
        source files and what the column measures there (or why it is missing).
    ceads_loader : ``loader(data_dir, verify)`` of the real series (None if unavailable).
    ceads_years : (first, last) year of a source too short to use (coverage table only).
    """

    code: str
    meaning: str
    unit: str
    note: str = ""
    study_source: str = ""
    sign: int = 0
    sign_source: str = ""
    key: int = 0
    adjust: str = ""
    adjust_order: int = 0
    band: tuple[float, float] | None = None
    mix_floor: bool = False
    saturable: bool = False
    teaching: bool = True
    ceads_status: str = "unavailable"
    ceads_source: str = ""
    ceads_how: str = ""
    ceads_loader: Loader | None = None
    ceads_years: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.isidentifier():
            raise ParameterError(f"code: a driver code is an identifier, got {self.code!r}")
        if self.sign not in (-1, 0, 1):
            raise ParameterError(f"sign: driver {self.code}: expected -1, 0 or 1, got {self.sign!r}")
        if self.adjust not in ("", "first", "then"):
            raise ParameterError(f"adjust: driver {self.code}: expected '', 'first' or 'then', "
                                 f"got {self.adjust!r}")
        if self.ceads_status not in STATUSES:
            raise ParameterError(f"ceads_status: driver {self.code}: {self.ceads_status!r} not in "
                                 f"{', '.join(STATUSES)}")
        if (self.ceads_loader is None) != (self.ceads_status == "unavailable"):
            raise ParameterError(f"ceads_loader: driver {self.code}: a loader exactly when the "
                                 f"status is not 'unavailable' (status {self.ceads_status!r})")
        if self.band is not None:
            lo, hi = self.band
            if not (self.kind == "share" and 0.0 <= lo <= hi <= 1.0):
                raise ParameterError(f"band: driver {self.code}: a band is (low, high) within "
                                     f"[0, 1] of a share, got {self.band!r} for unit {self.unit!r}")
        if self.saturable and self.kind != "log":
            raise ParameterError(f"saturable: driver {self.code}: only a log count can saturate")

    @property
    def kind(self) -> str:
        """``"share"`` (unit ``fraction``), ``"log"`` (unit ``ln(X)``) or ``"level"``."""
        if self.unit == "fraction":
            return "share"
        if self.unit.startswith("ln(") and self.unit.endswith(")"):
            return "log"
        return "level"

    @property
    def level_unit(self) -> str:
        """The unit a reader sees: ``%`` for a share, X for ``ln(X)``, else the unit."""
        return {"share": "%", "log": self.unit[3:-1]}.get(self.kind, self.unit)


# --------------------------------------------------------------------------- real-data loaders
# Each returns region, year and the driver column(s); imports are local (the loaders sit to
# the right of this table in carbonlab.data).

def _wack520(root: Path, verify: bool) -> pd.DataFrame:
    from carbonlab.data import nbs, nbs_provinces

    ns = nbs.nbs_series(root, verify)
    sec = nbs_provinces.series("secondary_100m_cny", root, verify)
    fi = ns.merge(sec, on=["region", "year"], how="left")
    return fi.assign(
        tertrate=fi["tertiary_100m_cny"] / fi["gdp_100m_cny"],
        first=1.0 - (fi["secondary_100m_cny"] + fi["tertiary_100m_cny"]) / fi["gdp_100m_cny"],
        ltourist=np.log(fi["passenger_turnover_100m_pkm"]),
        lfreight=np.log(fi["freight_turnover_100m_tkm"]))


def _nbs_provinces(name: str, code: str, how: Callable[[pd.Series], pd.Series],
                   years: tuple[int, int] | None = None) -> Loader:
    def load(root: Path, verify: bool) -> pd.DataFrame:
        from carbonlab.data import nbs_provinces

        s = nbs_provinces.series(name, root, verify, years=years)
        return s.assign(**{code: how(s[name])})
    load.__doc__ = f"{code} from nbs-provinces {name}."
    return load


def _techme(table: str, item: str, code: str) -> Loader:
    def load(root: Path, verify: bool) -> pd.DataFrame:
        from carbonlab.data import techme

        t = techme.techme_item(table, item, "value", root, verify)
        return t.assign(**{code: np.log(t["value"])})
    load.__doc__ = f"{code}: ln techme {table} {item}."
    return load


def _energy_mix(root: Path, verify: bool) -> pd.DataFrame:
    from carbonlab.data import panel

    return panel.energy_mix(root, verify)


_STUDY = "provincial study, BMA posterior mean (§2.2)"
_TABLE = RowTable("driver", "code", DriverSpec, (
    DriverSpec("lconsume", "per-capita household consumption expenditure", "ln(yuan/person)",
               study_source="China Statistical Yearbook",
               ceads_status="proxy", ceads_source="nbs-provinces (全体居民人均可支配收入, NBS export)",
               ceads_how="ln per-capita DISPOSABLE INCOME, not consumption expenditure (the NBS "
                         "consumption export starts in 2016); before 2013 the pre-survey series",
               ceads_loader=_nbs_provinces("disposable_income_yuan", "lconsume", np.log,
                                           years=(2005, 2100))),
    DriverSpec("student", "college students per 100,000 people", "persons/10^5",
               note="the study's proxy for environmental awareness",
               study_source="China Statistical Yearbook; China Education Statistical Yearbook",
               ceads_how="college students per 10^5: no public file"),
    DriverSpec("first", "primary-industry share of GDP", "fraction", note="value added",
               study_source="China Statistical Yearbook; provincial yearbooks",
               sign=1, sign_source=_STUDY, key=5, band=(0.002, 0.35), ceads_status="real",
               ceads_source="nbs-wack520 (A020101, A020104) + nbs-provinces (第二产业增加值)",
               ceads_how="1 - (secondary + tertiary value added) / GDP, all current-vintage NBS "
                         "series",
               ceads_loader=_wack520),
    DriverSpec("tertrate", "tertiary-industry share of GDP", "fraction", note="value added",
               study_source="China Statistical Yearbook; provincial yearbooks",
               sign=-1, sign_source=_STUDY, key=3, adjust="first", adjust_order=2,
               band=(0.25, 0.85), ceads_status="real",
               ceads_source="nbs-wack520 (A020104 / A020101)",
               ceads_how="tertiary value added / GDP", ceads_loader=_wack520),
    DriverSpec("ltrade", "import-export value", "ln(10^8 yuan)",
               study_source="China Statistical Yearbook",
               ceads_source="techme IndustryTrade",
               ceads_how="only high-tech trade, 2016-2018: too short for the panel years",
               ceads_years=(2016, 2018)),
    DriverSpec("lrd", "R&D expenditure", "ln(10^8 yuan)",
               note="research and experimental development",
               study_source="China Statistical Yearbook", ceads_status="real",
               ceads_source="techme RDIntense (RD经费)", ceads_how="ln R&D expenditure, 10^8 yuan",
               ceads_loader=_techme("RDIntense", "RD经费", "lrd")),
    DriverSpec("gas", "natural-gas share of energy consumption", "fraction",
               study_source="China Energy Statistical Yearbook",
               sign=-1, sign_source=_STUDY, key=2, adjust="first", adjust_order=3,
               band=(0.0, 0.45), mix_floor=True, ceads_status="real",
               ceads_source="CEADs energy inventories + CESY calorific values",
               ceads_how="natural-gas energy / energy consumed: fossil fuels' total consumption "
                         "(volumes x calorific values) plus local non-fossil electricity and net "
                         "imports at the coal-equivalent rate of the year's thermal power",
               ceads_loader=_energy_mix),
    DriverSpec("fossil", "non-fossil share of energy consumption", "fraction",
               note="the study's name, despite the word",
               study_source="China Energy Statistical Yearbook; provincial peaking plans for "
                            "2025 and 2030",
               sign=-1, sign_source=_STUDY, key=1, adjust="then", adjust_order=1,
               band=(0.0, 0.8), mix_floor=True, ceads_status="proxy",
               ceads_source="CEADs energy inventories + generation (CPSY, NBS) + CESY calorific "
                            "values",
               ceads_how="non-fossil electricity consumed (local non-thermal generation, plus net "
                         "imports at the grid's non-thermal share) over energy consumed (as for "
                         "gas); primary electricity only, other non-fossil energy is not in the "
                         "inventories",
               ceads_loader=_energy_mix),
    DriverSpec("urban", "urbanisation rate", "fraction", note="of the resident population",
               study_source="China Statistical Yearbook", band=(0.15, 0.9), ceads_status="real",
               ceads_source="nbs-provinces (城镇人口所占比重, China Statistical Yearbook via EPS)",
               ceads_how="urbanisation rate",
               ceads_loader=_nbs_provinces("urban_pct", "urban", lambda s: s / 100.0)),
    DriverSpec("ledufund", "education expenditure", "ln(10^8 yuan)", note="total",
               study_source="China Education Statistical Yearbook", ceads_status="real",
               ceads_source="techme PublicBudget (教育)",
               ceads_how="ln education expenditure, 10^8 yuan",
               ceads_loader=_techme("PublicBudget", "教育", "ledufund")),
    DriverSpec("college", "share of population aged 6+ with college education", "fraction",
               note="or above",
               study_source="China Statistical Yearbook (population sample survey)",
               band=(0.0, 0.6), ceads_how="share with college education: no public file"),
    DriverSpec("lpatent", "invention patents granted", "ln(count)",
               study_source="China Statistical Yearbook", ceads_status="real",
               ceads_source="techme RDPatentAuthority (发明)",
               ceads_how="ln invention patents granted",
               ceads_loader=_techme("RDPatentAuthority", "发明", "lpatent")),
    DriverSpec("lcar", "private cars", "ln(10^4 vehicles)", note="owned",
               study_source="China Statistical Yearbook",
               sign=1, sign_source=_STUDY, key=4, adjust="first", adjust_order=1, saturable=True,
               ceads_status="proxy", ceads_source="nbs-provinces (民用汽车拥有量)",
               ceads_how="ln CIVIL vehicles, not private cars (scaling by a constant private "
                         "share would only shift the log, which province effects absorb)",
               ceads_loader=_nbs_provinces("civil_vehicles_10k", "lcar", np.log)),
    DriverSpec("ltourist", "passenger turnover", "ln(10^8 person-km)",
               study_source="China Statistical Yearbook", ceads_status="real",
               ceads_source="nbs-wack520 (A0G0401)",
               ceads_how="ln passenger turnover; statistical basis changes 2012 -> 2013",
               ceads_loader=_wack520),
    DriverSpec("lfreight", "freight turnover", "ln(10^8 t-km)",
               study_source="China Statistical Yearbook", ceads_status="real",
               ceads_source="nbs-wack520 (A0G0601)",
               ceads_how="ln freight turnover; level shifts ~2019", ceads_loader=_wack520),
    DriverSpec("lenvfund", "government environmental-protection expenditure", "ln(10^8 yuan)",
               study_source="China Statistical Yearbook; provincial yearbooks",
               ceads_source="techme PublicBudget", ceads_how="no 节能环保 item in the file"),
    DriverSpec("lindustry", "industrial value added", "ln(10^8 yuan)",
               study_source="China Statistical Yearbook", ceads_status="proxy",
               ceads_source="nbs-provinces (第二产业增加值, NBS export, current vintage)",
               ceads_how="ln SECONDARY value added (industry + construction), not industry alone",
               ceads_loader=_nbs_provinces("secondary_100m_cny", "lindustry", np.log)),
    DriverSpec("garbage", "harmless treatment rate of household garbage", "fraction",
               study_source="China Statistical Yearbook", band=(0.0, 1.0),
               ceads_how="harmless garbage treatment rate: no public file"),
))


# --------------------------------------------------------------------------- the table's API

register_driver = _TABLE.register
"""Add a row to the driver table (an existing key only with ``replace=True``)."""
registered = _TABLE.registered
"""Context manager: a row is in the driver table inside the ``with`` block and gone after it."""
driver_spec = _TABLE.row
"""The row of a driver; an unknown one raises :class:`ParameterError` listing them."""


def driver_specs() -> tuple[DriverSpec, ...]:
    """Every row, in table order."""
    return tuple(_TABLE.values())


def key_drivers() -> tuple[str, ...]:
    """The study's key drivers (rows with ``key``), in their order."""
    return tuple(s.code for s in sorted((s for s in _TABLE.values() if s.key), key=lambda s: s.key))


def teaching_drivers() -> tuple[str, ...]:
    """The columns of the teaching panel (rows with ``teaching``), table order."""
    return tuple(s.code for s in _TABLE.values() if s.teaching)


def adjustable(stage: str) -> tuple[str, ...]:
    """The drivers Table 10 moves at ``stage`` (``"first"`` or ``"then"``), in order."""
    return tuple(s.code for s in sorted((s for s in _TABLE.values() if s.adjust == stage),
                                        key=lambda s: s.adjust_order))


class Codes(Set[str]):
    """A live, read-only set of the codes whose row satisfies a condition (table order)."""

    def __init__(self, keep: Callable[[DriverSpec], bool]) -> None:
        self._keep = keep

    def _codes(self) -> tuple[str, ...]:
        return tuple(c for c, s in _TABLE.items() if self._keep(s))

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes())

    def __len__(self) -> int:
        return len(self._codes())

    def __contains__(self, code: object) -> bool:
        return code in self._codes()

    def __repr__(self) -> str:
        return repr(frozenset(self._codes()))

    def __reduce__(self) -> Any:  # pickles (and content-hashes) as the set it shows
        return (frozenset, (self._codes(),))


DRIVERS: Mapping[str, tuple[str, str]] = RowView(_TABLE, lambda s: (s.meaning, s.unit))
"""Every driver: ``{code: (meaning, unit)}``, table order (the 18 of CONTRIBUTING.md)."""

SHARE_DRIVERS: Set[str] = Codes(lambda s: s.kind == "share")
"""The shares (unit ``fraction``): checked in [0, 1], banded by the scenario rules."""

SHARE_BANDS: Mapping[str, tuple[float, float]] = RowView(
    _TABLE, lambda s: s.band, keep=lambda s: s.band is not None)
"""Plausible (low, high) of each share that has a ``band`` (scenarios with ``bands: true``)."""


def glossary_table() -> str:
    """The glossary's driver table (Markdown), one line per row of the table."""
    def unit(u: str) -> str:
        return u.replace("10^4", "10⁴").replace("10^8", "10⁸").replace("10^5", "10⁵")

    lines = ["| code | meaning | unit | source |", "|---|---|---|---|"]
    for s in _TABLE.values():
        meaning = f"{s.meaning} ({s.note})" if s.note else s.meaning
        lines.append(f"| `{s.code}` | {meaning} | {unit(s.unit)} | {s.study_source} |")
    return "\n".join(lines)
