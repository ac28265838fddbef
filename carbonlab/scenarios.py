"""Scenario inputs for the 2022–2030 forecasts: anchors, interpolation, roll-forward, inheritance.

A *scenario* says, per driver and region, how each driver moves from the last
observed year ``t0`` to the horizon (2030):

* **anchors** — values in target years (e.g. the non-fossil share ``fossil`` in
  2025 and 2030 from the provincial peaking plans). Between ``t0`` and the
  first anchor, and between consecutive anchors, the path is a straight line;
  after the last anchor it is rolled forward by the moving-average rule.
* **the moving-average rule** (the provincial study, section 2.4: "依据近5 a变动
  趋势采用移动平均法 … 以2018~2022年的数据估计2023年的数值, 再以2019~2023年的数据估计
  2024年的数值"). The sentence has two readings, both available as ``rule``:

  - ``rule="mean_change"`` (default): "the trend of the last 5 years" is the mean of
    the last ``w = 5`` annual *changes*, rolled forward one year at a time so that
    each new value enters the next window:

    .. math:: x_{t+1} = x_t + \\frac{1}{w}\\sum_{k=0}^{w-1} (x_{t-k} - x_{t-k-1})
              = x_t + \\frac{x_t - x_{t-w}}{w}.

    The changes dated 2018–2022 (``x_2018 - x_2017`` … ``x_2022 - x_2021``) give
    2023, those dated 2019–2023 give 2024, and so on. (``window=4`` gives the four
    changes *inside* the five data years 2018–2022.) A trend continues.
  - ``rule="level_ma"``: a literal moving average of the last ``w`` *levels*,
    :math:`x_{t+1} = \\frac{1}{w}\\sum_{k=0}^{w-1} x_{t-k}`: the values 2018–2022 give
    2023, 2019–2023 give 2024. A rising series falls back in the first projected
    year (2023 is the mean of 2018–2022, below 2022) and then flattens: every trend
    stops, which is why this reading peaks almost everything at once.

  Shares are clipped to [0, 1] after rolling forward (to :data:`SHARE_BANDS` when the
  scenario sets ``bands: true``).
* **saturating level drivers** — drivers listed under ``saturate`` (the shipped
  baseline: ``lcar``) are not rolled forward but follow a logistic in *per-capita*
  terms fitted to their history (:func:`logistic_fit`): private cars per person
  ``c_t = K / (1 + exp(-(a + b t)))``, saturation ``K`` profiled by least squares on
  ln c, the curve shifted to pass through the last observation, times the projected
  population (:func:`population_path`). Growth slows as ownership approaches ``K``
  instead of compounding.
* **adjust** — an additive change ``delta`` reached in a year ``Y`` relative to
  the parent scenario's path, ramped linearly from 0 in ``t0`` and held after
  ``Y``: ``x'_t = x_t + delta * min(1, (t - t0) / (Y - t0))``.

Scenarios are YAML files (``data/scenarios/provinces/*.yaml``)::

    name: peak_cars
    parent: baseline            # inherit everything, override only what changes
    description: slower growth of private cars
    drivers:
      lcar:
        "*":     {adjust: {2030: -0.10}}     # every region
        Ningxia: {anchors: {2030: 5.0}}      # a region entry beats "*"

The root scenario may set ``targets: true`` (anchors from
:func:`carbonlab.data.load_targets`), ``window`` (default 5), ``rule`` (default
``mean_change``), ``saturate`` (a list of level drivers, default none) and
``bands`` (default false); children inherit them. Layers apply root first: an ``anchors`` entry rebuilds the path, an
``adjust`` entry shifts the path built so far.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from carbonlab._util import (
    DataError,
    ParameterError,
    read_yaml_mapping,
    repo_root,
    validate_schema,
)
from carbonlab.data import drivers as _drivers
from carbonlab.regions import resolve_region

__all__ = [
    "DRIVERS",
    "SHARE_DRIVERS",
    "HORIZON",
    "Scenario",
    "DriverSpec",
    "scenario_dir",
    "list_scenarios",
    "load_scenario",
    "parse_scenario",
    "roll_forward",
    "RULES",
    "SHARE_BANDS",
    "LogisticFit",
    "logistic_fit",
    "driver_paths",
    "population_path",
    "MIX_FLOOR_DRIVERS",
]

DRIVERS = _drivers.DRIVERS
"""The candidate drivers (a live view of the driver table, :mod:`carbonlab.data.drivers`)."""

SHARE_DRIVERS = _drivers.SHARE_DRIVERS
"""Drivers that are fractions and must stay in [0, 1] (the table's shares)."""

HORIZON: int = 2030
"""Last forecast year of the provincial study."""

RULES: tuple[str, ...] = ("mean_change", "level_ma")
"""The two readings of the study's moving-average rule (see the module docstring)."""

SHARE_BANDS = _drivers.SHARE_BANDS
"""Plausible ranges (fraction) for projected shares when a scenario sets ``bands: true``
(each share's ``band`` in the driver table).

Wide enough for every Chinese province's recent values (e.g. Beijing's tertiary share
above 0.8, Yunnan's non-fossil share near 0.5); a projected value is clipped to the band
but never beyond the last observed value (an observation outside a band stays reachable).
"""

MIX_FLOOR_DRIVERS = _drivers.Codes(lambda s: s.mix_floor)
"""Energy-mix shares (the table's ``mix_floor`` rows) whose trend never falls below the lowest of their last ``window`` values
(a falling trend rolled to 2030 reached 0.000 for Xinjiang's gas share); anchors still apply."""

COUNT_DRIVERS = _drivers.Codes(lambda s: s.kind == "level")
"""Drivers that are counts or rates per population (``student``) and cannot be negative."""

SATURATION_MAX: float = 0.6
"""Largest saturation level K (per person) :func:`logistic_fit` considers for cars."""


@dataclass(frozen=True)
class DriverSpec:
    """How one scenario layer sets one driver for one region (or ``"*"``).

    Exactly one of ``anchors`` ({year: value}) or ``adjust`` ((year, delta)) is set.
    """

    anchors: tuple[tuple[int, float], ...] | None = None
    adjust: tuple[int, float] | None = None
    source: str = ""


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: its layers from the root (index 0) to itself.

    Attributes
    ----------
    name, description : str
    chain : tuple of str
        Scenario names from the root to this one.
    layers : tuple of dict
        ``layers[i][driver][region_or_star] -> DriverSpec`` for ``chain[i]``.
    targets : bool
        Whether anchors from :func:`carbonlab.data.load_targets` enter the root layer.
    window : int
        Number of annual changes (or levels) averaged by the roll-forward rule.
    rule : str
        ``"mean_change"`` or ``"level_ma"`` (:data:`RULES`).
    saturate : tuple of str
        Level drivers projected on a per-capita logistic instead of the rule.
    bands : bool
        Whether projected shares are clipped to :data:`SHARE_BANDS`.
    """

    name: str
    description: str = ""
    chain: tuple[str, ...] = ()
    layers: tuple[dict[str, dict[str, DriverSpec]], ...] = ()
    targets: bool = True
    window: int = 5
    rule: str = "mean_change"
    saturate: tuple[str, ...] = ()
    bands: bool = False
    sources: tuple[str, ...] = field(default=(), compare=False)

    def drivers(self) -> set[str]:
        """Drivers that some layer of the scenario sets explicitly."""
        return {d for layer in self.layers for d in layer}


def scenario_dir() -> Path:
    """Folder of the shipped provincial scenarios (``data/scenarios/provinces``)."""
    return repo_root() / "data" / "scenarios" / "provinces"


def list_scenarios(directory: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the scenario files (``*.yaml``) in ``directory``."""
    d = Path(directory) if directory is not None else scenario_dir()
    return sorted(p.stem for p in d.glob("*.yaml"))


def _check_value(driver: str, value: Any, where: str) -> float:
    if isinstance(value, bool | np.bool_ | str):  # `true` is not 1.0, "0.3" is not 0.3
        raise DataError(f"{where}: value {value!r} is not a number (write a plain number)")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: value {value!r} is not a number") from None
    if not math.isfinite(v):
        raise DataError(f"{where}: value {value!r} is not finite")
    if driver in SHARE_DRIVERS and not 0.0 <= v <= 1.0:
        raise DataError(f"{where}: share {v!r} outside [0, 1]")
    if driver in COUNT_DRIVERS and v < 0:
        raise DataError(f"{where}: {driver} {v!r} is negative (a count per population)")
    return v


def _check_year(year: Any, where: str) -> int:
    if isinstance(year, bool | np.bool_):  # `true` is not year 1
        raise DataError(f"{where}: year {year!r} is not an integer")
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise DataError(f"{where}: year {year!r} is not an integer") from None
    if str(y) != str(year).strip() and y != year:
        raise DataError(f"{where}: year {year!r} is not an integer")
    return y


def _parse_spec(driver: str, spec: Any, where: str) -> DriverSpec:
    if not isinstance(spec, Mapping):
        raise DataError(f"{where}: expected a mapping with 'anchors' or 'adjust', got {spec!r}")
    unknown = set(spec) - {"anchors", "adjust", "source"}
    if unknown:
        raise DataError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: anchors, adjust, source)")
    if ("anchors" in spec) == ("adjust" in spec):
        raise DataError(f"{where}: give exactly one of 'anchors' or 'adjust'")
    source = str(spec.get("source", ""))
    if "anchors" in spec:
        a = spec["anchors"]
        if not isinstance(a, Mapping) or not a:
            raise DataError(f"{where}: 'anchors' must be a non-empty mapping year: value")
        items = []
        for y, v in a.items():
            yy = _check_year(y, f"{where}, anchor {y}")
            items.append((yy, _check_value(driver, v, f"{where}, anchor {yy}")))
        items.sort()
        return DriverSpec(anchors=tuple(items), source=source)
    a = spec["adjust"]
    if not isinstance(a, Mapping) or len(a) != 1:
        raise DataError(f"{where}: 'adjust' must be one entry year: delta, got {a!r}")
    ((y, v),) = a.items()
    yy = _check_year(y, f"{where}, adjust {y}")
    if isinstance(v, bool | np.bool_ | str):
        raise DataError(f"{where}, adjust {yy}: delta {v!r} is not a number")
    try:
        dv = float(v)
    except (TypeError, ValueError):
        raise DataError(f"{where}, adjust {yy}: delta {v!r} is not a number") from None
    if not math.isfinite(dv):
        raise DataError(f"{where}, adjust {yy}: delta {v!r} is not finite")
    if driver in SHARE_DRIVERS and abs(dv) > 1:
        raise DataError(f"{where}, adjust {yy}: share change {dv!r} outside [-1, 1]")
    return DriverSpec(adjust=(yy, dv), source=source)


def _parse_layer(doc: Mapping[str, Any], where: str) -> dict[str, dict[str, DriverSpec]]:
    drivers = doc.get("drivers") or {}
    if not isinstance(drivers, Mapping):
        raise DataError(f"{where}: 'drivers' must be a mapping driver: {{region: spec}}")
    layer: dict[str, dict[str, DriverSpec]] = {}
    for d, by_region in drivers.items():
        if d not in DRIVERS:
            raise DataError(f"{where}: unknown driver {d!r} (known: {', '.join(DRIVERS)})")
        if not isinstance(by_region, Mapping) or not by_region:
            raise DataError(f"{where}, driver {d}: expected a mapping region: spec")
        layer[d] = {}
        for r, spec in by_region.items():
            w = f"{where}, driver {d}, region {r}"
            if r == "*":
                key = "*"
            else:
                try:
                    key = resolve_region(str(r))
                except ParameterError as exc:
                    raise DataError(f"{w}: {exc}") from None
            if key in layer[d]:
                raise DataError(f"{w}: region given twice")
            layer[d][key] = _parse_spec(d, spec, w)
    return layer


_SATURABLE = _drivers.Codes(lambda s: s.saturable)
"""Level drivers (ln of a count) that can follow a per-capita logistic (the table's
``saturable`` rows)."""

class ScenarioFile(BaseModel):
    """The declared schema of a scenario file's top level (one line per problem through
    :func:`carbonlab._util.validate_schema`); driver entries are checked by the layer parser
    (regions, shares, years)."""

    model_config = ConfigDict(extra="forbid")
    name: Any = None
    parent: Any = None
    description: Any = ""
    source: Any = ""
    drivers: Any = None
    targets: bool = True
    window: int = 5
    rule: str = "mean_change"
    saturate: tuple[str, ...] = ()
    bands: bool = False

    @field_validator("targets", "bands", mode="before")
    @classmethod
    def _true_or_false(cls, v: Any, info: ValidationInfo) -> bool:
        if not isinstance(v, bool):
            raise ValueError(f"'{info.field_name}' must be true or false")
        return v

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 20:
            raise ValueError(f"'window' must be an integer in 1..20, got {v!r}")
        return v

    @field_validator("rule", mode="before")
    @classmethod
    def _rule(cls, v: Any) -> str:
        if v not in RULES:
            raise ValueError(f"'rule' must be one of {', '.join(RULES)}, got {v!r}")
        return v

    @field_validator("saturate", mode="before")
    @classmethod
    def _saturate(cls, v: Any) -> tuple[str, ...]:
        sat = v or []
        if not isinstance(sat, list) or any(d not in _SATURABLE for d in sat):
            raise ValueError(f"'saturate' must be a list of {', '.join(_SATURABLE)}, got {v!r}")
        return tuple(sat)


def _consecutive(region: str, years: np.ndarray, what: str = "panel") -> None:
    """A region's years must have no gap (a missing row is not ignored)."""
    if len(years) and np.any(np.diff(years) != 1):
        have = set(years.tolist())
        gap = [y for y in range(int(years[0]), int(years[-1]) + 1) if y not in have]
        dup = sorted({int(y) for y in years[1:][np.diff(years) == 0]})
        what_ = f"no row for year(s) {gap}" if gap else f"duplicate year(s) {dup}"
        raise DataError(f"{what}: {region} has {what_}; its years must be consecutive")


def _read_doc(path: Path) -> dict[str, Any]:
    doc = read_yaml_mapping(path, "scenario file")
    validate_schema(ScenarioFile, doc, str(path))
    if "name" in doc and str(doc["name"]) != path.stem:
        raise DataError(f"{path}: name {doc['name']!r} differs from the file name {path.stem!r}")
    return doc


def parse_scenario(
    docs: Mapping[str, Mapping[str, Any]], name: str, where: Mapping[str, str] | None = None
) -> Scenario:
    """Resolve scenario ``name`` from already-read documents ``{name: doc}``.

    ``where`` maps names to a location (file path) used in error messages.
    Raises :class:`DataError` for an unknown parent or a cycle in the inheritance.
    """
    where = dict(where or {})
    chain: list[str] = []
    cur: str | None = name
    while cur is not None:
        if cur in chain:
            cyc = " -> ".join([*chain, cur])
            raise DataError(f"{where.get(name, name)}: inheritance cycle {cyc}")
        if cur not in docs:
            child = chain[-1] if chain else None
            at = where.get(child, child) if child else "scenario"
            raise DataError(f"{at}: unknown scenario {cur!r} (parent not found)")
        chain.append(cur)
        parent = docs[cur].get("parent")
        cur = None if parent in (None, "", "null") else str(parent)
    chain.reverse()
    layers = tuple(_parse_layer(docs[n], where.get(n, n)) for n in chain)
    settings: dict[str, Any] = {}
    for n in chain:  # the root's settings, each overridden by the children that set it
        spec = validate_schema(ScenarioFile, docs[n], str(where.get(n, n)))
        settings.update({k: getattr(spec, k) for k in spec.model_fields_set
                         if k in ("targets", "window", "rule", "saturate", "bands")})
    defaults = ScenarioFile()
    targets, window, rule, saturate, bands = (
        settings.get(k, getattr(defaults, k)) for k in ("targets", "window", "rule", "saturate",
                                                         "bands"))
    return Scenario(
        name=name, description=str(docs[name].get("description", "")), chain=tuple(chain),
        layers=layers, targets=targets, window=window, rule=rule, saturate=saturate, bands=bands,
        sources=tuple(str(where.get(n, n)) for n in chain),
    )


def load_scenario(
    name: str | os.PathLike[str] = "baseline", directory: str | os.PathLike[str] | None = None
) -> Scenario:
    """Read, validate and resolve a scenario (a name in ``directory`` or a path to a YAML file).

    Parents are looked up in the same folder as the file. Errors name the file.
    """
    p = Path(name)
    if p.suffix in (".yaml", ".yml"):
        directory, stem = p.parent, p.stem
    else:
        stem = _check_name(str(name), "scenario")
    d = Path(directory) if directory is not None else scenario_dir()
    docs: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    cur: str | None = stem
    while cur is not None and cur not in docs:
        path = d / f"{cur}.yaml"
        if not path.exists():
            alt = d / f"{cur}.yml"
            path = alt if alt.exists() else path
        if not path.exists():
            child = list(docs)[-1] if docs else None
            at = where[child] if child else str(d)
            raise (DataError if child else ParameterError)(
                f"{at}: unknown scenario {cur!r} (no {path.name} in {d})"
            )
        docs[cur] = _read_doc(path)
        where[cur] = str(path)
        parent = docs[cur].get("parent")
        cur = None if parent in (None, "", "null") else \
            _check_name(str(parent), f"{path}: parent", DataError)
    return parse_scenario(docs, stem, where)


def _check_name(name: str, what: str, error: type[Exception] = ParameterError) -> str:
    """A scenario name is a name (letters, digits, ``_``, ``-``), never a path: ``../x`` is
    refused (give a path ending in .yaml to read a file elsewhere)."""
    if not re.fullmatch(r"\w[\w-]*", name):
        raise error(f"{what} {name!r} is not a scenario name (letters, digits, _ and -; "
                    "give a path ending in .yaml for a file elsewhere)")
    return name


# --------------------------------------------------------------------------- paths


def roll_forward(history: Iterable[float], n: int, window: int = 5,
                 rule: str = "mean_change") -> np.ndarray:
    """Extend a series by ``n`` years with the study's moving-average rule.

    ``rule="mean_change"``: ``x[t+1] = x[t] + (x[t] - x[t-window]) / window`` (the mean
    of the last ``window`` changes); ``rule="level_ma"``: ``x[t+1] = mean(x[t-window+1..t])``
    (the mean of the last ``window`` levels). One year at a time, each new value enters
    the next window. The study's example, "以2018~2022年的数据估计2023年的数值": with
    ``level_ma`` and ``window=5`` the levels 2018–2022 give 2023; with ``mean_change``
    the changes dated 2018–2022 do. With a short history the available points are used;
    a single point is held constant.

    Returns the ``n`` new values.
    """
    x = [float(v) for v in history]
    if not x:
        raise ParameterError("roll_forward: history is empty")
    if window < 1:
        raise ParameterError(f"roll_forward: window must be >= 1, got {window}")
    if rule not in RULES:
        raise ParameterError(f"roll_forward: rule {rule!r} is not one of {', '.join(RULES)}")
    out = []
    for _ in range(int(n)):
        if rule == "level_ma":
            nxt = float(np.mean(x[-window:]))
        else:
            w = min(window, len(x) - 1)
            nxt = x[-1] if w == 0 else x[-1] + (x[-1] - x[-1 - w]) / w
        x.append(nxt)
        out.append(nxt)
    return np.asarray(out, dtype=float)


@dataclass(frozen=True)
class LogisticFit:
    """A logistic ``c_t = K / (1 + exp(-(a + b t)))`` fitted to a per-capita series.

    ``K`` is the saturation level (same unit as the series), ``b`` the rate (1/yr),
    ``t_mid = -a / b`` the year of half saturation, ``rmse`` the fit's RMSE in ln c.
    """

    K: float
    a: float
    b: float
    rmse: float

    @property
    def t_mid(self) -> float:
        return -self.a / self.b

    def __call__(self, years: Iterable[float]) -> np.ndarray:
        t = np.asarray(list(years), dtype=float)
        return self.K / (1 + np.exp(-(self.a + self.b * t)))


def logistic_fit(years: Iterable[float], per_capita: Iterable[float], *,
                 k_max: float = SATURATION_MAX, n_grid: int = 400) -> LogisticFit:
    """Fit a logistic to a rising per-capita series (e.g. private cars per person).

    For each saturation level ``K`` on a grid from just above the largest observation to
    ``k_max``, ``logit(c/K) = a + b t`` is fitted by least squares; the ``K`` whose curve
    has the smallest squared error in ln c wins. A series that is not rising (b ≤ 0 at
    every K) raises :class:`ParameterError`.
    """
    t = np.asarray(list(years), dtype=float)
    c = np.asarray(list(per_capita), dtype=float)
    if len(t) != len(c) or len(t) < 3:
        raise ParameterError("logistic_fit: need at least three (year, value) pairs")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ParameterError("logistic_fit: per-capita values must be positive and finite")
    lo = 1.02 * float(c.max())
    if lo >= k_max:
        raise ParameterError(f"logistic_fit: largest value {c.max():.3g} is at the saturation "
                             f"ceiling k_max={k_max}")
    best: LogisticFit | None = None
    tc = t - t.mean()
    for K in np.geomspace(lo, k_max, n_grid):
        z = np.log(c / (K - c))
        b = float(np.sum(tc * (z - z.mean())) / np.sum(tc * tc))
        if b <= 0:
            continue
        a = float(z.mean() - b * t.mean())
        fit = K / (1 + np.exp(-(a + b * t)))
        rmse = float(np.sqrt(np.mean((np.log(c) - np.log(fit)) ** 2)))
        if best is None or rmse < best.rmse - 1e-12:
            best = LogisticFit(float(K), a, b, rmse)
    if best is None:
        raise ParameterError("logistic_fit: the series is not rising; no logistic fits")
    return best


def _saturating(years: np.ndarray, level: np.ndarray, pop_hist: np.ndarray,
                future: np.ndarray, pop_future: np.ndarray) -> np.ndarray:
    """ln level on the per-capita logistic, passing through the last observation."""
    pc = np.exp(level) / pop_hist
    try:
        fit = logistic_fit(years, pc)
    except ParameterError:  # not rising: hold ownership per person
        return np.log(pc[-1] * pop_future)
    # shift a so that the curve meets the last observation (K and b kept)
    z_last = np.log(pc[-1] / (fit.K - pc[-1]))
    a = z_last - fit.b * float(years[-1])
    c = fit.K / (1 + np.exp(-(a + fit.b * future.astype(float))))
    return np.log(c * pop_future)


def _path_from_anchors(
    hist_years: np.ndarray, hist: np.ndarray, anchors: tuple[tuple[int, float], ...],
    future: np.ndarray, window: int, rule: str = "mean_change",
) -> np.ndarray:
    t0 = int(hist_years[-1])
    ay = np.array([t0] + [a[0] for a in anchors], dtype=float)
    av = np.array([hist[-1]] + [a[1] for a in anchors], dtype=float)
    last = int(ay[-1])
    inside = future[future <= last]
    vals = np.interp(inside, ay, av)
    n_after = int((future > last).sum())
    if n_after:
        # the full annual series up to the last anchor feeds the moving average
        span = np.arange(t0 + 1, last + 1)
        series = np.concatenate([hist, np.interp(span, ay, av)])
        vals = np.concatenate([vals, roll_forward(series, n_after, window, rule)])
    return vals


def _targets_layer(targets: pd.DataFrame | None) -> dict[str, dict[str, DriverSpec]]:
    if targets is None or len(targets) == 0:
        return {}
    need = {"region", "driver", "year", "value"}
    missing = need - set(targets.columns)
    if missing:
        raise DataError(f"targets: missing column(s) {sorted(missing)}")
    layer: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for i, row in targets.reset_index(drop=True).iterrows():
        where = f"targets, row {i}"
        d = str(row["driver"])
        if d not in DRIVERS:
            raise DataError(f"{where}: unknown driver {d!r}")
        try:
            r = resolve_region(str(row["region"]))
        except ParameterError as exc:
            raise DataError(f"{where}: {exc}") from None
        v = _check_value(d, row["value"], f"{where}, column value")
        y = _check_year(row["year"], f"{where}, column year")
        layer.setdefault(d, {}).setdefault(r, []).append((y, v))
    return {
        d: {r: DriverSpec(anchors=tuple(sorted(a)), source="targets") for r, a in by.items()}
        for d, by in layer.items()
    }


def driver_paths(
    panel: pd.DataFrame,
    scenario: Scenario | str = "baseline",
    *,
    drivers: Iterable[str] | None = None,
    targets: pd.DataFrame | None | bool = None,
    horizon: int = HORIZON,
    regions: Iterable[str] | None = None,
    rule: str | None = None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Driver values per region and year, history followed by the scenario to ``horizon``.

    Parameters
    ----------
    panel : DataFrame
        Tidy panel with ``region``, ``year`` and the driver columns (history).
    scenario : Scenario or str
        A resolved scenario or the name of a shipped one.
    drivers : iterable of str, optional
        Drivers to project (default: every driver column of ``panel``).
    targets : DataFrame, False or None
        ``region, driver, year, value`` anchors (e.g. :func:`carbonlab.data.load_targets`),
        used when the scenario has ``targets: true``. None (default): the targets of the
        panel's dataset (``panel.attrs["dataset"]``, set by ``load_panel``); a panel without
        it raises :class:`ParameterError` rather than silently dropping the targets.
        ``False``: project without targets.
    horizon : int
        Last year projected (inclusive).
    regions : iterable of str, optional
        Regions to keep (any spelling); default all regions of ``panel``.
    rule : {"mean_change", "level_ma"}, optional
        Overrides the scenario's reading of the moving-average rule (a sensitivity).
    population : DataFrame, optional
        ``region, year, population_10k`` to ``horizon`` for the per-capita logistic of the
        scenario's ``saturate`` drivers (default :func:`population_path` of ``panel``).

    Returns
    -------
    DataFrame
        ``region, year, projected`` and one column per driver (driver units), one row
        per region and year from the panel's first year to ``horizon``.
    """
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    for c in ("region", "year"):
        if c not in panel.columns:
            raise DataError(f"panel: missing column {c!r}")
    drivers = [d for d in panel.columns if d in DRIVERS] if drivers is None else list(drivers)
    for d in drivers:
        if d not in DRIVERS:
            raise ParameterError(f"drivers: unknown driver {d!r}")
        if d not in panel.columns:
            raise DataError(f"panel: missing driver column {d!r}")
    if regions is not None:
        keep = {resolve_region(r) for r in regions}
        panel = panel[panel["region"].isin(keep)]
        if panel.empty:
            raise ParameterError(f"regions: none of {sorted(keep)} is in the panel")
    rule = scenario.rule if rule is None else rule
    if rule not in RULES:
        raise ParameterError(f"rule: {rule!r} is not one of {', '.join(RULES)}")
    saturate = [d for d in scenario.saturate if d in drivers]
    pop = None
    if saturate:
        if population is None:
            if "population_10k" not in panel.columns:
                raise DataError(f"panel: missing column 'population_10k' (needed to saturate "
                                f"{', '.join(saturate)} per person)")
            population = population_path(panel, horizon=horizon)
        pop = population.set_index(["region", "year"])["population_10k"]
    layers = list(scenario.layers)
    if scenario.targets and targets is None:
        dataset = panel.attrs.get("dataset")
        if dataset is None:
            raise ParameterError(
                f"scenario {scenario.name!r} anchors on published targets: pass "
                "targets=data.load_targets(dataset) (or targets=False to project without them)")
        from carbonlab.data import load_targets

        targets = load_targets(dataset)
    with_targets = scenario.targets and targets is not False
    if with_targets:
        layers.insert(0, _targets_layer(targets))
    names = (["targets"] if with_targets else []) + list(scenario.sources)
    out = []
    for region, g in panel.sort_values(["region", "year"]).groupby("region", sort=True):
        years = g["year"].to_numpy(dtype=int)
        _consecutive(region, years)
        t0 = int(years[-1])
        if horizon <= t0:
            raise ParameterError(f"horizon: {horizon} is not after the data's last year {t0}")
        future = np.arange(t0 + 1, horizon + 1)
        frame = {"region": region, "year": np.concatenate([years, future]),
                 "projected": np.r_[np.zeros(len(years), bool), np.ones(len(future), bool)]}
        for d in drivers:
            hist = g[d].to_numpy(dtype=float)
            if not np.isfinite(hist[-1]):
                raise DataError(f"panel: driver {d!r} is missing for {region} in {t0}")
            ok = np.isfinite(hist)
            hy, hv = years[ok], hist[ok]
            if d in saturate:
                assert pop is not None
                try:
                    ph = pop.loc[[(region, int(y)) for y in hy]].to_numpy(dtype=float)
                    pf = pop.loc[[(region, int(y)) for y in future]].to_numpy(dtype=float)
                except KeyError:
                    raise DataError(f"population: no value for {region} in some year "
                                    f"{int(hy[0])}-{horizon}") from None
                path = _saturating(hy, hv, ph, future, pf)
            else:
                path = roll_forward(hv, len(future), scenario.window, rule)
            if d in MIX_FLOOR_DRIVERS:  # the trend never takes a fuel-mix share below its recent low
                path = np.maximum(path, float(np.min(hv[-scenario.window:])))
            for li, layer in enumerate(layers):
                spec = layer.get(d, {}).get(region) or layer.get(d, {}).get("*")
                if spec is None:
                    continue
                where = f"{names[li]}: driver {d}, region {region}"
                if spec.anchors is not None:
                    bad = [y for y, _ in spec.anchors if y <= t0]
                    if bad:
                        raise DataError(f"{where}: anchor year {bad[0]} is not after the data's last year {t0}")
                    path = _path_from_anchors(hy, hv, spec.anchors, future, scenario.window, rule)
                else:
                    y, delta = spec.adjust
                    if y <= t0:
                        raise DataError(f"{where}: adjust year {y} is not after the data's last year {t0}")
                    path = path + delta * np.minimum(1.0, (future - t0) / (y - t0))
            if scenario.bands and d in SHARE_BANDS:
                lo, hi = SHARE_BANDS[d]
                path = np.clip(path, min(lo, hv[-1]), max(hi, hv[-1]))
            if d in SHARE_DRIVERS:
                path = np.clip(path, 0.0, 1.0)
            elif d in COUNT_DRIVERS:
                path = np.maximum(path, 0.0)
            frame[d] = np.concatenate([hist, path])
        out.append(pd.DataFrame(frame))
    res = pd.concat(out, ignore_index=True)
    res.attrs["scenario"] = scenario.name
    res.attrs["horizon"] = horizon
    res.attrs["rule"] = rule
    return res


def population_path(
    panel: pd.DataFrame,
    *,
    horizon: int = HORIZON,
    window: int = 5,
    projection: pd.DataFrame | None = None,
    national: Mapping[int, float] | None = None,
) -> pd.DataFrame:
    """Population per region and year to ``horizon`` (10^4 persons).

    Real data (``national`` given, or the panel's ``attrs["national_population"]``: UN WPP
    2024, year -> persons): the official-projection rule of
    :func:`carbonlab.data.population.official_projection`. Otherwise (the teaching world's
    rule) log population is rolled forward with :func:`roll_forward`:
    ``P[t+1] = P[t] * (P[t] / P[t-window]) ** (1 / window)``, or follows the growth of a
    regional ``projection`` (``region, year, population_10k``) from the data's last year.

    Returns ``region, year, population_10k, projected``.
    """
    for c in ("region", "year", "population_10k"):
        if c not in panel.columns:
            raise DataError(f"panel: missing column {c!r}")
    if national is None and projection is None:
        national = panel.attrs.get("national_population")
    if national is not None:
        from carbonlab.data.population import official_projection

        return official_projection(panel, national, horizon)
    out = []
    proj = None
    if projection is not None:
        for c in ("region", "year", "population_10k"):
            if c not in projection.columns:
                raise DataError(f"population projection: missing column {c!r}")
        proj = projection.set_index(["region", "year"])["population_10k"]
    for region, g in panel.sort_values(["region", "year"]).groupby("region", sort=True):
        years = g["year"].to_numpy(dtype=int)
        _consecutive(region, years)
        pop = g["population_10k"].to_numpy(dtype=float)
        if not np.all(np.isfinite(pop)) or np.any(pop <= 0):
            raise DataError(f"panel: population_10k must be positive for {region}")
        t0 = int(years[-1])
        future = np.arange(t0 + 1, horizon + 1)
        fut = np.exp(roll_forward(np.log(pop), len(future), window))
        if proj is not None and (region, t0) in proj.index:
            base = float(proj.loc[(region, t0)])
            for i, y in enumerate(future):
                if (region, int(y)) in proj.index:
                    fut[i] = pop[-1] * float(proj.loc[(region, int(y))]) / base
        out.append(pd.DataFrame({
            "region": region, "year": np.concatenate([years, future]),
            "population_10k": np.concatenate([pop, fut]),
            "projected": np.r_[np.zeros(len(years), bool), np.ones(len(future), bool)],
        }))
    return pd.concat(out, ignore_index=True)
