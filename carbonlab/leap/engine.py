"""The generic LEAP engine: demand trees, expressions, scenario inheritance, LMDI.

A general, data-free engine (the city pipeline in :mod:`carbonlab.leap.city` builds on
its expressions; a tree can also be run on its own, e.g. ``data/scenarios/cities/
demand_tree_example.yaml``).

The tree
    Every branch has a ``share`` of its parent's activity (a fraction; the root has an
    ``activity`` level instead) and an optional ``intensity`` multiplier (default 1).
    Leaves carry a ``fuel``. For a leaf k::

        energy_k [TJ]    = activity_root x prod(shares on the path) x prod(intensities on the path)
        emissions_k [Mt] = energy_k x factor[fuel_k] [t CO2/TJ] / 1e6

Quantities and expressions
    Quantities are named ``"<path>:<field>"`` (``"city/transport/road:intensity"``) or
    ``"var:<name>"`` for key assumptions (the levers). Each is a number, ``"remainder"``
    (share closure) or an expression mapping: ``interp``, ``growth``, ``growth_as``,
    ``step``, ``logistic``, ``ref`` (linear in another quantity) and ``diffuse`` (the
    policy lever path, below). The same expressions are public plain functions.

Scenarios and inheritance
    ``current_accounts`` is the tree's own values (constant in time unless an expression).
    A scenario names a ``parent`` and stores only the quantities it changes. A quantity is
    looked up along :meth:`DemandTree.resolution_order` -- the scenario, its parent, ...,
    ``current_accounts`` -- and the first definition wins; ``ref`` and ``growth_as``
    always read the other quantity in the scenario being run, and ``diffuse`` reads the
    *same* quantity one step further down the chain (its parent's value).

Policy diffusion (the city study's calibration table)
    The policy strength in year t is the logistic diffusion stage
    ``S(t) = logistic(t, 1, r, t0)``, ``t0`` = the pilot year. The base year's data already
    contain the diffusion up to then, so a lever moves with the strength *beyond* its
    base-year level, ``S(t) - S(t_b)`` (LEAP's scenario logic: every scenario starts from the
    same current accounts). A lever's yearly rate is read either as relative growth a year
    (``reading="relative"``) or as percentage points a year (``"pp"``), see :func:`diffuse`;
    it never exceeds the technology's maximum ``K`` where one is given.

Calibration
    :meth:`DemandTree.calibrate` scales the root activity so the base year reproduces an
    inventory exactly and, given a forecast, sets the baseline root activity year by year
    so the baseline reproduces it (relative deviation <= ``CALIBRATION_RTOL``).

LMDI: :func:`lmdi_factors` is an exact additive LMDI-I decomposition of any product of
factors (:func:`lmdi` applies it to a tree's leaves).
"""

from __future__ import annotations

import ast
import copy
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError, read_yaml_mapping, repo_root
from carbonlab.leap.stock import StockResult, initial_vintages, stock_turnover, survival_curve
from carbonlab.plotting import PALETTE, new_figure

__all__ = [
    "CALIBRATION_RTOL",
    "CURRENT_ACCOUNTS",
    "READINGS",
    "Branch",
    "DemandTree",
    "diffuse",
    "diffusion_stage",
    "growth",
    "growth_as",
    "interp",
    "lmdi",
    "lmdi_factors",
    "logistic",
    "remainder",
    "scenario_dir",
    "step",
    "plot_tree",
    "plot_diffusion",
]

CURRENT_ACCOUNTS = "current_accounts"
CALIBRATION_RTOL = 1e-9
READINGS: tuple[str, ...] = ("pp", "relative")
"""The two readings of a yearly calibration rate: percentage points a year (``"pp"``,
the lever gains ``rate``) or relative growth a year (``"relative"``, the lever is
multiplied by ``1 + rate``)."""
_FIELDS = ("activity", "share", "intensity")
_EXPR_KINDS = ("const", "interp", "growth", "growth_as", "step", "logistic", "ref", "diffuse",
               "formula", "stock")
_FORMULA_OPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply,
                ast.Div: np.divide, ast.Pow: np.power}
_STOCK_KEYS = {"of", "km_per_vehicle", "sales_share", "stock_share", "output"}


def scenario_dir() -> Path:
    """Folder of the shipped scenario files (``data/scenarios/cities``)."""
    return repo_root() / "data" / "scenarios" / "cities"


# --------------------------------------------------------------------------------------
# Expressions as plain functions (years are integer calendar years)
# --------------------------------------------------------------------------------------

def logistic(t: Any, K: float, r: float, t0: float) -> Any:
    """Logistic diffusion ``K / (1 + exp(-r (t - t0)))``; equals K/2 at t0, tends to 0 and K.

    Parameters
    ----------
    t : year(s); K : saturation level (same unit as the result); r : speed (1/yr);
    t0 : inflection year.
    """
    t = np.asarray(t, dtype=float)
    z = np.clip(-float(r) * (t - float(t0)), -700.0, 700.0)
    out = float(K) / (1.0 + np.exp(z))
    return out if out.ndim else float(out)


def interp(years: Sequence[int], anchors: Mapping[int, float]) -> np.ndarray:
    """Linear interpolation between anchor years, constant beyond the first/last anchor."""
    if not anchors:
        raise ParameterError("interp: anchors must name at least one year")
    ks = sorted(int(k) for k in anchors)
    vs = [float(anchors[k]) for k in ks]
    return np.interp(np.asarray(years, dtype=float), ks, vs)


def growth(years: Sequence[int], base_value: float, rate: float | Mapping[int, float],
           base_year: int) -> np.ndarray:
    """LEAP's Growth: ``base_value (1 + rate)^(t - base_year)`` (rate per year, fraction).

    ``rate`` may map anchor years to rates (LEAP's ``Growth(Interp(...))``): the rate of each
    year is interpolated between the anchors and compounded from the base year,
    ``base_value prod_{base_year < s <= t} (1 + rate_s)``.
    """
    yrs = np.asarray(years, float)
    if isinstance(rate, Mapping):
        rates = interp(yrs, {int(k): float(v) for k, v in rate.items()})
        if not np.all(rates > -1):
            raise ParameterError(f"growth: rates must be > -1, got {rates.min()}")
        return float(base_value) * np.cumprod(np.where(yrs > base_year, 1.0 + rates, 1.0))
    if not rate > -1:
        raise ParameterError(f"growth: rate must be > -1, got {rate}")
    return float(base_value) * (1.0 + float(rate)) ** (yrs - base_year)


def growth_as(base_value: float, other: Sequence[float] | Sequence[Sequence[float]],
              elasticity: float | Sequence[float]) -> np.ndarray:
    """LEAP's GrowthAs: ``base_value prod_i (other_i,t / other_i,0)^elasticity_i``.

    ``other`` is one series (and one elasticity) or several (with one elasticity each);
    ``other_0`` is the first year's value.
    """
    others = np.atleast_2d(np.asarray(other, dtype=float))
    els = np.atleast_1d(np.asarray(elasticity, dtype=float))
    if others.size == 0 or not np.all(others > 0):
        raise ParameterError("growth_as: the referenced quantity must be positive in every year")
    if len(els) != len(others):
        raise ParameterError(f"growth_as: {len(others)} series but {len(els)} elasticities")
    rel = (others / others[:, :1]) ** els[:, None]
    return float(base_value) * np.prod(rel, axis=0)


@functools.lru_cache(maxsize=512)
def formula_names(text: str) -> tuple[str, ...]:
    """The key assumptions a ``formula`` expression reads (raises DataError if not arithmetic).

    A formula is arithmetic (``+ - * / **``, unary minus, parentheses) of numbers and key
    assumption names, e.g. ``"(1 - shared_share) / occupancy_private"``.
    """
    try:
        tree = ast.parse(str(text), mode="eval")
    except SyntaxError:
        raise DataError(f"formula {text!r}: not an arithmetic expression") from None
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.BinOp) and type(node.op) not in _FORMULA_OPS:
            raise DataError(f"formula {text!r}: operator {type(node.op).__name__} not allowed")
        elif isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                                 or not isinstance(node.value, int | float)):
            raise DataError(f"formula {text!r}: {node.value!r} is not a number")
        elif not isinstance(node, ast.Expression | ast.BinOp | ast.UnaryOp | ast.Name
                            | ast.Constant | ast.Load | ast.USub | ast.UAdd | ast.operator):
            raise DataError(f"formula {text!r}: {type(node).__name__} not allowed")
    return tuple(dict.fromkeys(names))


def formula(text: str, values: Mapping[str, Any]) -> Any:
    """Evaluate a ``formula`` (:func:`formula_names`) with ``values`` for its names."""
    formula_names(text)

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.UnaryOp):
            return -ev(node.operand) if isinstance(node.op, ast.USub) else ev(node.operand)
        return _FORMULA_OPS[type(node.op)](ev(node.left), ev(node.right))  # type: ignore[union-attr]

    return ev(_parsed(str(text)))


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> ast.Expression:
    return ast.parse(text, mode="eval")


def step(years: Sequence[int], steps: Mapping[int, float], before: float) -> np.ndarray:
    """Piecewise constant: the value of the latest step year <= t; ``before`` until the first."""
    yrs = np.asarray(years, dtype=int)
    out = np.full(yrs.shape, float(before))
    for y in sorted(int(k) for k in steps):
        out[yrs >= y] = float(steps[y])
    return out


def remainder(*shares: Any) -> Any:
    """Share closure ``1 - sum(shares)`` (fractions); raises if the siblings exceed 1."""
    total = sum(np.asarray(s, dtype=float) for s in shares) if shares else 0.0
    rest = 1.0 - np.asarray(total, dtype=float)
    if np.any(rest < -1e-12):
        raise ParameterError(f"remainder: sibling shares sum to {float(np.max(total)):.6g} > 1")
    rest = np.clip(rest, 0.0, None)
    return rest if rest.ndim else float(rest)


def diffusion_stage(years: Sequence[int], r: float, t0: float) -> np.ndarray:
    """Policy strength S(t) = logistic(t, 1, r, t0) in [0, 1]."""
    return np.asarray(logistic(np.asarray(years, float), 1.0, r, t0), dtype=float)


def diffuse(
    years: Sequence[int], parent: Sequence[float], *, K: float | None = None, rate: float,
    r: float, t0: float, base_year: int, reading: str = "pp",
) -> np.ndarray:
    """Policy lever path: the parent path plus the diffusion beyond the base year.

    The strength added after the base year is ``D(t) = max(S(t) - S(base_year), 0)`` for
    t > base_year and 0 up to it, so the base year keeps the parent's value (policy =
    baseline there) and a pilot year long past leaves little strength to add.
    ``reading="relative"``: ``rate`` is relative growth a year,
    ``lever_t = lever_{t-1} (1 + rate D(t))`` (gain = parent x (prod(1 + rate D) - 1)).
    ``reading="pp"``: ``rate`` is in units of the lever a year (percentage points/yr for
    fractions: 0.05), gain = rate x cumulative D. ``K`` caps the lever (None: no cap).
    """
    if not (np.isfinite(rate) and rate >= 0):
        raise ParameterError(f"diffuse: rate must be >= 0, got {rate}")
    if K is not None and not (np.isfinite(K) and K >= 0):
        raise ParameterError(f"diffuse: K must be >= 0, got {K}")
    if not (np.isfinite(r) and r > 0):
        raise ParameterError(f"diffuse: r must be > 0, got {r}")
    yrs = np.asarray(years, dtype=float)
    parent = np.asarray(parent, dtype=float)
    if reading not in READINGS:
        raise ParameterError(f"reading: {reading!r} is not one of {', '.join(READINGS)}")
    s_base = float(diffusion_stage([base_year], r, t0)[0])
    d = np.where(yrs > base_year, np.clip(diffusion_stage(yrs, r, t0) - s_base, 0.0, None), 0.0)
    if reading == "pp":
        gain = rate * np.cumsum(d)
    else:  # relative growth: lever_t = lever_{t-1} (1 + rate D(t)), before the cap
        gain = parent * (np.cumprod(1.0 + rate * d) - 1.0)
    if K is None:
        return parent + gain
    return parent + np.minimum(gain, np.maximum(K - parent, 0.0))


# --------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------

@dataclass
class Branch:
    """One node of the demand tree (``path`` like ``"city/transport/road"``)."""

    path: str
    share: Any = None          # fraction of the parent's activity (non-root)
    activity: Any = None       # the root's level, or a level per unit of the parent's
    intensity: Any = 1.0       # multiplier (TJ per unit of activity at the leaf)
    fuel: str | None = None    # leaves only
    children: list[str] = field(default_factory=list)
    description: str = ""
    label: str = ""            # name of the branch's activity in results (e.g. passenger_pkm)

    @property
    def level(self) -> str:
        """``"activity"`` (the root, or a branch with its own activity level) or ``"share"``."""
        return "activity" if self.activity is not None else "share"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def parent(self) -> str | None:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else None

    @property
    def is_leaf(self) -> bool:
        return not self.children


def _where(source: str, what: str) -> str:
    return f"{source}: {what}" if source else what


def _check_expr(spec: Any, where: str) -> None:
    """Validate an expression spec (number, 'remainder' or a one-key mapping)."""
    if isinstance(spec, bool):
        raise DataError(f"{where}: a boolean is not a value")
    if isinstance(spec, int | float):
        if not math.isfinite(spec):
            raise DataError(f"{where}: value must be finite, got {spec}")
        return
    if spec == "remainder":
        return
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise DataError(f"{where}: expected a number, 'remainder' or one of {list(_EXPR_KINDS)}")
    (kind, arg), = spec.items()
    if kind not in _EXPR_KINDS:
        raise DataError(f"{where}: unknown expression '{kind}' (known: {', '.join(_EXPR_KINDS)})")
    need = {
        "interp": None, "step": None, "const": None, "growth": None, "formula": None,
        "growth_as": set(), "logistic": {"K", "r", "t0"},
        "ref": {"ref"}, "diffuse": {"rate"}, "stock": _STOCK_KEYS,
    }[kind]
    if kind in ("interp", "step") or (kind == "growth" and isinstance(arg, Mapping)):
        if not isinstance(arg, Mapping) or not arg:
            raise DataError(f"{where}: {kind} needs a mapping year -> value")
        for k, v in arg.items():
            if not re.fullmatch(r"\d{4}", str(k)) or isinstance(v, bool) \
                    or not isinstance(v, int | float):
                raise DataError(f"{where}: {kind} entry {k!r}: {v!r} is not year: number")
    elif kind in ("const", "growth"):
        if isinstance(arg, bool) or not isinstance(arg, int | float):
            raise DataError(f"{where}: {kind} needs a number, got {arg!r}")
    elif kind == "formula":
        if not isinstance(arg, str):
            raise DataError(f"{where}: formula needs a text, got {arg!r}")
        try:
            formula_names(arg)
        except DataError as exc:
            raise DataError(f"{where}: {exc}") from None
    else:
        if not isinstance(arg, Mapping):
            raise DataError(f"{where}: {kind} needs a mapping with keys {sorted(need)}")
        missing = need - set(arg)
        if kind == "growth_as" and not ({"ref", "elasticity"} <= set(arg) or "refs" in arg):
            missing = {"ref", "elasticity"} - set(arg)
        if missing:
            raise DataError(f"{where}: {kind} is missing {sorted(missing)}")


class DemandTree:
    """A LEAP-style demand tree with fuels, key assumptions (levers) and scenarios.

    Build it with :meth:`from_yaml` (or :meth:`from_dict`); :meth:`run` returns tidy
    results with columns ``branch, sector, fuel, year, energy, emissions, scenario``
    (energy in TJ, emissions in Mt CO2; see ``df.attrs["units"]``).
    """

    def __init__(self, spec: Mapping[str, Any], source: str = "") -> None:
        self.source = source
        self.spec = copy.deepcopy(dict(spec))
        s = self.spec
        for key in ("tree", "fuels"):
            if key not in s:
                raise DataError(_where(source, f"missing top-level key '{key}'"))
        self.name: str = str(s.get("name", s.get("city", "tree")))
        self.city: str | None = s.get("city")
        self.base_year: int = self._int(s.get("base_year", 2022), "base_year")
        self.end_year: int = self._int(s.get("end_year", 2035), "end_year")
        if self.end_year < self.base_year:
            raise DataError(_where(source, f"end_year {self.end_year} < base_year {self.base_year}"))
        py = s.get("pilot_year")
        self.pilot_year: int | None = None if py is None else self._int(py, "pilot_year")
        # fuels: name -> t CO2 per TJ, each with a source
        self.factors: dict[str, float] = {}
        if not isinstance(s["fuels"], Mapping) or not s["fuels"]:
            raise DataError(_where(source, "fuels must map fuel code -> {t_co2_per_tj, source}"))
        for fuel, row in s["fuels"].items():
            w = _where(source, f"fuels.{fuel}")
            if not isinstance(row, Mapping) or "t_co2_per_tj" not in row or not row.get("source"):
                raise DataError(f"{w}: needs t_co2_per_tj and a source")
            f = row["t_co2_per_tj"]
            if isinstance(f, bool) or not isinstance(f, int | float) or not f >= 0:
                raise DataError(f"{w}: t_co2_per_tj must be a number >= 0, got {f!r}")
            self.factors[str(fuel)] = float(f)
        self.non_energy = {str(k) for k, row in s["fuels"].items() if row.get("non_energy")}
        # key assumptions
        self.variables: dict[str, dict[str, Any]] = {}
        for vname, row in (s.get("variables") or {}).items():
            w = _where(source, f"variables.{vname}")
            if not isinstance(row, Mapping) or "value" not in row:
                raise DataError(f"{w}: needs a value")
            _check_expr(row["value"], w)
            if row["value"] == "remainder":
                raise DataError(f"{w}: 'remainder' is only for branch shares")
            self.variables[str(vname)] = dict(row)
        # branches
        self.branches: dict[str, Branch] = {}
        self._add_branch(s["tree"], None)
        self.root: str = next(iter(self.branches))
        for b in self.branches.values():
            if b.is_leaf:
                if not b.fuel:
                    raise DataError(_where(source, f"branch {b.path}: a leaf needs a fuel"))
                if b.fuel not in self.factors:
                    raise DataError(_where(source, f"branch {b.path}: no emission factor for fuel "
                                                   f"'{b.fuel}' (add it under fuels)"))
            elif b.fuel:
                raise DataError(_where(source, f"branch {b.path}: only leaves carry a fuel"))
            levels = {self.branches[c].level for c in b.children}
            if len(levels) > 1:
                raise DataError(_where(source, f"branch {b.path}: children mix shares and "
                                               "activity levels (give all of them one kind)"))
            rem = [c for c in b.children if self.branches[c].share == "remainder"]
            if len(rem) > 1:
                raise DataError(_where(source, f"branch {b.path}: more than one 'remainder' child"))
        # scenarios
        self.scenarios: dict[str, dict[str, Any]] = {}
        for sname, row in (s.get("scenarios") or {}).items():
            w = _where(source, f"scenarios.{sname}")
            if sname == CURRENT_ACCOUNTS:
                raise DataError(f"{w}: '{CURRENT_ACCOUNTS}' is implicit (the tree's own values)")
            if not isinstance(row, Mapping) or "parent" not in row:
                raise DataError(f"{w}: needs a parent")
            exprs = dict(row.get("expressions") or {})
            for q, e in exprs.items():
                self._check_quantity(q, f"{w}.expressions")
                _check_expr(e, f"{w}.expressions.{q}")
            self.scenarios[str(sname)] = {"parent": str(row["parent"]), "expressions": exprs,
                                          "description": row.get("description", "")}
        for sname in self.scenarios:
            self.resolution_order(sname)  # unknown parents and cycles fail here

    # ---- construction helpers ----
    def _int(self, v: Any, key: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise DataError(_where(self.source, f"{key} must be an integer year, got {v!r}"))
        return int(v)

    def _add_branch(self, node: Any, parent: str | None) -> None:
        if not isinstance(node, Mapping) or "name" not in node:
            raise DataError(_where(self.source, f"a branch under {parent or 'tree'} has no name"))
        name = str(node["name"])
        if "/" in name or ":" in name or not name:
            raise DataError(_where(self.source, f"branch name {name!r} may not contain '/' or ':'"))
        path = name if parent is None else f"{parent}/{name}"
        if path in self.branches:
            raise DataError(_where(self.source, f"branch {path} defined twice"))
        w = _where(self.source, f"branch {path}")
        if parent is None:
            if "activity" not in node or "share" in node:
                raise DataError(f"{w}: the root needs an activity and no share")
            _check_expr(node["activity"], f"{w}.activity")
        else:
            if ("share" in node) == ("activity" in node):
                raise DataError(f"{w}: a child branch needs a share or an activity level "
                                "(one of them)")
            _check_expr(node.get("share", node.get("activity")), f"{w}.share")
            if node.get("activity") == "remainder":
                raise DataError(f"{w}: 'remainder' is only for shares")
        if "intensity" in node:
            _check_expr(node["intensity"], f"{w}.intensity")
        br = Branch(path=path, share=node.get("share"), activity=node.get("activity"),
                    intensity=node.get("intensity", 1.0), fuel=node.get("fuel"),
                    description=str(node.get("description", "")),
                    label=str(node.get("label", "")))
        self.branches[path] = br
        if parent is not None:
            self.branches[parent].children.append(path)
        for child in node.get("children") or []:
            self._add_branch(child, path)

    def _check_quantity(self, q: str, where: str) -> None:
        if q.startswith("var:"):
            if q[4:] not in self.variables:
                raise DataError(f"{where}: unknown key assumption {q!r}")
            return
        path, _, fld = q.partition(":")
        if path not in self.branches or fld not in _FIELDS:
            raise DataError(f"{where}: unknown quantity {q!r} (use '<branch path>:<field>' "
                            f"with field in {_FIELDS}, or 'var:<name>')")
        b = self.branches[path]
        if fld != "intensity" and fld != b.level:
            raise DataError(f"{where}: {q!r}: branch {path} has a{'n' * (b.level == 'activity')} "
                            f"{b.level}, not a{'n' * (fld == 'activity')} {fld}")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any], source: str = "") -> DemandTree:
        """Build from an already-parsed scenario mapping."""
        return cls(spec, source)

    @classmethod
    def from_yaml(cls, path: str | Path) -> DemandTree:
        """Read and validate a scenario file (see ``data/scenarios/cities/template.yaml``)."""
        p = Path(path)
        spec = read_yaml_mapping(p, "scenario file")
        return cls(spec, str(p))

    def copy(self) -> DemandTree:
        """A deep copy (calibration and parameter changes never mutate the original)."""
        new = copy.copy(self)  # self.spec (the parsed file) is never mutated: shared
        new.factors = dict(self.factors)
        new.variables = copy.deepcopy(self.variables)
        new.branches = {k: replace(v, children=list(v.children)) for k, v in self.branches.items()}
        new.scenarios = copy.deepcopy(self.scenarios)
        return new

    # ---- scenarios ----
    def resolution_order(self, scenario: str) -> list[str]:
        """The lookup chain ``[scenario, parent, ..., 'current_accounts']``."""
        if scenario == CURRENT_ACCOUNTS:
            return [CURRENT_ACCOUNTS]
        chain = [scenario]
        while chain[-1] != CURRENT_ACCOUNTS:
            name = chain[-1]
            if name not in self.scenarios:
                where = (f"scenario {chain[-2]!r} names unknown parent {name!r}" if len(chain) > 1
                         else f"unknown scenario {name!r} (known: {sorted(self.scenarios)})")
                raise DataError(_where(self.source, where))
            parent = self.scenarios[name]["parent"]
            if parent in chain:
                raise DataError(_where(self.source, "scenario inheritance cycle: "
                                       + " -> ".join([*chain, parent])))
            chain.append(parent)
        return chain

    def years(self) -> np.ndarray:
        """Modelled years, base year to end year inclusive."""
        return np.arange(self.base_year, self.end_year + 1)

    def base_spec(self, q: str) -> Any:
        """The current-accounts definition of quantity ``q``."""
        if q.startswith("var:"):
            return self.variables[q[4:]]["value"]
        path, _, fld = q.partition(":")
        return getattr(self.branches[path], fld)

    def set_expression(self, scenario: str, q: str, spec: Any) -> None:
        """Define (or replace) ``q`` in ``scenario`` (``current_accounts`` edits the tree)."""
        self._check_quantity(q, _where(self.source, f"scenarios.{scenario}"))
        _check_expr(spec, f"scenarios.{scenario}.expressions.{q}")
        if scenario == CURRENT_ACCOUNTS:
            if q.startswith("var:"):
                self.variables[q[4:]]["value"] = spec
            else:
                path, _, fld = q.partition(":")
                setattr(self.branches[path], fld, spec)
        else:
            self.resolution_order(scenario)
            self.scenarios[scenario]["expressions"][q] = spec

    # ---- evaluation ----
    def evaluate(self, scenario: str) -> dict[str, np.ndarray]:
        """Every quantity of the tree over :meth:`years` in ``scenario`` (validated)."""
        return self.solve(scenario)[0]

    def solve(self, scenario: str) -> tuple[dict[str, np.ndarray], dict[str, StockResult]]:
        """:meth:`evaluate` and the stock turnovers it ran, by the quantity that asked."""
        ev = _Evaluator(self, scenario)
        out: dict[str, np.ndarray] = {}
        yrs = self.years()
        for v, row in self.variables.items():
            out[f"var:{v}"] = ev.get(f"var:{v}", 0)
            if row.get("fraction"):  # levers first: a diffusion step past 1 is named as such
                _check_fraction(out[f"var:{v}"], yrs, f"key assumption {v}", scenario, self.source)
        for b in self.branches.values():
            for fld in (b.level, "intensity"):
                out[f"{b.path}:{fld}"] = ev.get(f"{b.path}:{fld}", 0)
        self._validate(out, scenario)
        return out, {r.extras["quantity"]: r for r in ev.stocks.values()}  # type: ignore[attr-defined]

    def _validate(self, vals: Mapping[str, np.ndarray], scenario: str) -> None:
        yrs = self.years()
        for q, arr in vals.items():
            bad = ~np.isfinite(arr)
            if bad.any():
                raise DataError(_where(self.source, f"{q} is not finite in {yrs[bad][0]} "
                                                    f"(scenario {scenario})"))
        for v, row in self.variables.items():
            if row.get("fraction"):
                _check_fraction(vals[f"var:{v}"], yrs, f"key assumption {v}", scenario, self.source)
        for b in self.branches.values():
            shared = [c for c in b.children if self.branches[c].level == "share"]
            if shared:
                tot = sum(vals[f"{c}:share"] for c in shared)
                for c in shared:
                    _check_fraction(vals[f"{c}:share"], yrs, f"share of {c}", scenario, self.source)
                off = np.abs(tot - 1.0) > 1e-9
                if off.any():
                    i = int(np.argmax(off))
                    raise DataError(_where(self.source, f"shares under {b.path} sum to "
                                           f"{tot[i]:.6g}, not 1, in {yrs[i]} (scenario "
                                           f"{scenario}); give one child share: remainder"))
            for tag in dict.fromkeys(("activity" if b.level == "activity" else "intensity",
                                      "intensity")):
                arr = vals[f"{b.path}:{tag}"]
                if np.any(arr < 0):
                    i = int(np.argmax(arr < 0))
                    raise DataError(_where(self.source, f"{b.path}:{tag} is negative "
                                           f"({arr[i]:.6g}) in {yrs[i]} (scenario {scenario})"))

    def leaf_factors(self, scenario: str) -> dict[str, dict[str, np.ndarray]]:
        """Per leaf, the multiplicative factors whose product is its emissions (t CO2 / 1e6).

        Keys: ``activity``, ``share:<node>``, ``intensity:<node>`` (nodes along the path,
        intensities equal to 1 throughout are left out) and ``emission_factor`` (Mt/TJ).
        """
        return self._leaf_factors(self.evaluate(scenario))

    def _leaf_factors(self, vals: Mapping[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
        n = len(self.years())
        out: dict[str, dict[str, np.ndarray]] = {}
        for b in self.branches.values():
            if not b.is_leaf:
                continue
            parts = b.path.split("/")
            fac: dict[str, np.ndarray] = {"activity": vals[f"{self.root}:activity"]}
            for i in range(1, len(parts) + 1):
                node = "/".join(parts[:i])
                if i > 1:
                    lv = self.branches[node].level
                    fac[f"{lv}:{node}"] = vals[f"{node}:{lv}"]
                inten = vals[f"{node}:intensity"]
                if not np.all(inten == 1.0) or i == len(parts):
                    fac[f"intensity:{node}"] = inten
            fac["emission_factor"] = np.full(n, self.factors[b.fuel] / 1e6)
            out[b.path] = fac
        return out

    def run(self, scenario: str = "baseline") -> pd.DataFrame:
        """Tidy results of one scenario: branch, sector, fuel, year, energy (TJ), emissions (Mt).

        Also ``activity`` and ``activity_name``: the total activity of the leaf's driver,
        the nearest branch above it (or itself) with its own activity level.
        """
        return self.solve_run(scenario)[0]

    def solve_run(self, scenario: str = "baseline"
                  ) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, StockResult]]:
        """:meth:`run` with the quantities and stock turnovers behind it (one evaluation)."""
        vals, stocks = self.solve(scenario)
        facs = self._leaf_factors(vals)
        yrs = self.years()
        total: dict[str, np.ndarray] = {}
        for b in self.branches.values():   # parents come before children
            own = vals[f"{b.path}:{b.level}"]
            total[b.path] = own if b.parent is None else total[b.parent] * own
        rows = []
        for path, fac in facs.items():
            energy = np.prod([v for k, v in fac.items() if k != "emission_factor"], axis=0)
            emis = energy * fac["emission_factor"]
            if self.branches[path].fuel in self.non_energy:   # e.g. process CO2: not energy
                energy = np.zeros(len(yrs))
            rel = path.split("/", 1)[1] if "/" in path else path
            drv = path
            while self.branches[drv].parent is not None and self.branches[drv].level != "activity":
                drv = self.branches[drv].parent  # type: ignore[assignment]
            name = self.branches[drv].label or drv
            rows.append(pd.DataFrame({
                "branch": rel, "sector": rel.split("/")[0], "fuel": self.branches[path].fuel,
                "year": yrs, "energy": energy, "emissions": emis, "scenario": scenario,
                "activity": total[drv], "activity_name": name,
            }))
        df = pd.concat(rows, ignore_index=True)
        df.attrs["units"] = {"energy": "TJ", "emissions": "Mt CO2"}
        df.attrs["total_activity"] = total
        return df, vals, stocks

    def totals(self, scenario: str = "baseline") -> pd.Series:
        """Total emissions by year (Mt CO2)."""
        facs = self.leaf_factors(scenario)
        tot = np.sum([np.prod(list(f.values()), axis=0) for f in facs.values()], axis=0)
        return pd.Series(tot, index=pd.Index(self.years(), name="year"), name="emissions_mt")

    # ---- calibration ----
    def calibrate(
        self, history: pd.Series, forecast: pd.Series | None = None, scenario: str = "baseline",
        total: Any = None,
    ) -> DemandTree:
        """A copy calibrated to a city's inventory (and ML baseline forecast).

        Parameters
        ----------
        history : emissions by year (Mt CO2); its last year becomes the base year and is
            reproduced exactly by every scenario.
        forecast : ML baseline by year (Mt CO2) for the years after the base year; the
            ``scenario`` root activity is set year by year so its totals match (iterated:
            a stock turnover makes a year's emissions depend on earlier years' activity).
        total : ``total(tree, scenario) -> Mt CO2 by year`` to calibrate on (default the
            tree's own :meth:`totals`; a city adds its power sector).

        Long because the input checks, the base year and the year-by-year iteration belong
        together.
        """
        if not isinstance(history, pd.Series) or history.dropna().empty:
            raise ParameterError("history must be a non-empty Series year -> Mt CO2")
        hist = history.dropna()
        base = int(hist.index.max())
        target = float(hist.loc[base])
        if not target > 0:
            raise DataError(f"history: emissions in base year {base} must be > 0, got {target}")
        tot = total or (lambda tr, sc: tr.totals(sc).to_numpy())
        new = self.copy()
        new.base_year = base
        if forecast is not None:
            fc = forecast[forecast.index > base].astype(float)
            if fc.empty or not np.all(np.diff(fc.index.to_numpy()) == 1) or fc.index.min() != base + 1:
                raise ParameterError(f"forecast must cover consecutive years from {base + 1}")
            if not np.all(fc.to_numpy() > 0):
                raise DataError("forecast: emissions must be > 0 in every year")
            new.end_year = int(fc.index.max())
        root = f"{new.root}:activity"
        a0 = float(new.evaluate(CURRENT_ACCOUNTS)[root][0])
        e0 = float(tot(new, CURRENT_ACCOUNTS)[0])
        if not (a0 > 0 and e0 > 0):
            raise DataError(_where(self.source, "base-year activity and emissions must be > 0"))
        a_base = a0 * target / e0
        new.set_expression(CURRENT_ACCOUNTS, root, a_base)
        new.calibration_deviation = 0.0
        if forecast is not None:
            want = np.concatenate([[target], fc.to_numpy()])
            m = np.ones(len(want))
            for _ in range(200):
                new.set_expression(scenario, root, {"interp": {
                    int(y): float(a_base * x) for y, x in zip(new.years(), m, strict=True)}})
                got = np.asarray(tot(new, scenario), float)
                dev = float(np.max(np.abs(got / want - 1.0)))
                if dev <= CALIBRATION_RTOL:
                    break
                m = m * want / got
            else:
                raise DataError(_where(self.source, f"baseline calibration missed the forecast "
                                       f"by {dev:.3g} (> {CALIBRATION_RTOL}) after 200 "
                                       "iterations; is the root activity referenced by "
                                       "another quantity?"))
            new.calibration_deviation = dev
        check = tot(new, CURRENT_ACCOUNTS)[0]
        if abs(check / target - 1.0) > CALIBRATION_RTOL:
            raise DataError(_where(self.source, "base-year calibration failed"))
        return new

    calibration_deviation: float = 0.0

    # ---- policy parameters ----
    def levers(self, scenario: str = "policy") -> pd.DataFrame:
        """The diffusion parameters (lever, K, rate, r, t0) that ``scenario`` itself defines."""
        self.resolution_order(scenario)
        rows = []
        for q, e in self.scenarios[scenario]["expressions"].items():
            if isinstance(e, Mapping) and "diffuse" in e:
                d = e["diffuse"]
                rows.append({"lever": q.removeprefix("var:"),
                             "K": None if d.get("K") is None else float(d["K"]),
                             "rate": float(d["rate"]), "r": float(d.get("r", 0.2)),
                             "t0": self.resolve_t0(d.get("t0", "pilot"))})
        return pd.DataFrame(rows, columns=["lever", "K", "rate", "r", "t0"])

    def resolve_t0(self, t0: Any) -> float:
        """``'pilot'`` -> the pilot year (never-pilot: the first forecast year); else a number."""
        if t0 == "pilot":
            return float(self.pilot_year if self.pilot_year is not None else self.base_year + 1)
        if isinstance(t0, bool) or not isinstance(t0, int | float):
            raise ParameterError(f"t0 must be a year or 'pilot', got {t0!r}")
        return float(t0)

    def with_policy(
        self, scenario: str = "policy", *, r: float | None = None,
        K: Mapping[str, float] | None = None, rate: Mapping[str, float] | None = None,
        pilot_year: int | None = ...,  # type: ignore[assignment]
        reading: str | None = None,
    ) -> DemandTree:
        """A copy with the policy's diffusion speed, saturation levels, rates or reading replaced."""
        if reading is not None and reading not in READINGS:
            raise ParameterError(f"reading: {reading!r} is not one of {', '.join(READINGS)}")
        new = self.copy()
        if pilot_year is not ...:
            new.pilot_year = pilot_year
        exprs = new.scenarios[scenario]["expressions"] if scenario in new.scenarios else None
        if exprs is None:
            raise ParameterError(f"scenario: unknown scenario {scenario!r}")
        known = {q.removeprefix("var:") for q, e in exprs.items()
                 if isinstance(e, Mapping) and "diffuse" in e}
        for name, m in (("K", K or {}), ("rate", rate or {})):
            unknown = set(m) - known
            if unknown:
                raise ParameterError(f"{name}: unknown lever(s) {sorted(unknown)}; "
                                     f"known {sorted(known)}")
        for lever in known:
            d = exprs[f"var:{lever}"]["diffuse"]
            if r is not None:
                d["r"] = float(r)
            if K and lever in K:
                d["K"] = float(K[lever])
            if rate and lever in rate:
                d["rate"] = float(rate[lever])
            if reading is not None:
                d["reading"] = reading
        return new


def _check_fraction(arr: np.ndarray, yrs: np.ndarray, what: str, scenario: str, src: str) -> None:
    bad = (arr > 1.0 + 1e-12) | (arr < -1e-12)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(_where(src, f"{what} = {arr[i]:.6g} outside [0, 1] in {yrs[i]} "
                                    f"(scenario {scenario})"))


class _Evaluator:
    """Lazy, memoised evaluation of quantities along a scenario chain (detects cycles)."""

    def __init__(self, tree: DemandTree, scenario: str) -> None:
        self.tree = tree
        self.chain = tree.resolution_order(scenario)
        self.years = tree.years()
        self.memo: dict[tuple[str, int], np.ndarray] = {}
        self.stack: list[tuple[str, int]] = []
        self.stocks: dict[str, StockResult] = {}

    def spec(self, q: str, start: int) -> tuple[Any, int]:
        for i in range(start, len(self.chain)):
            name = self.chain[i]
            if name == CURRENT_ACCOUNTS:
                return self.tree.base_spec(q), i
            exprs = self.tree.scenarios[name]["expressions"]
            if q in exprs:
                return exprs[q], i
        raise DataError(_where(self.tree.source, f"{q} has no parent definition"))

    def get(self, q: str, start: int) -> np.ndarray:
        key = (q, start)
        if key in self.memo:
            return self.memo[key]
        if key in self.stack:
            loop = " -> ".join(k for k, _ in [*self.stack[self.stack.index(key):], key])
            raise DataError(_where(self.tree.source, f"circular reference: {loop}"))
        self.stack.append(key)
        try:
            spec, idx = self.spec(q, start)
            val = self.compute(q, spec, idx)
        finally:
            self.stack.pop()
        self.memo[key] = val
        return val

    def compute(self, q: str, spec: Any, idx: int) -> np.ndarray:
        """One quantity from its expression.

        Long because it is the table of expression kinds, one branch each.
        """
        t = self.tree
        yrs = self.years
        where = _where(t.source, f"{q} in {self.chain[idx]}")
        if isinstance(spec, int | float):
            return np.full(len(yrs), float(spec))
        if spec == "remainder":
            path = q.partition(":")[0]
            if not q.endswith(":share"):
                raise DataError(f"{where}: 'remainder' is only for shares")
            sibs = [c for c in t.branches[t.branches[path].parent].children
                    if c != path and t.branches[c].level == "share"]
            tot = sum((self.get(f"{c}:share", 0) for c in sibs), np.zeros(len(yrs)))
            if np.any(tot > 1.0 + 1e-12):
                i = int(np.argmax(tot > 1.0 + 1e-12))
                raise DataError(_where(t.source, f"share of {path} (remainder): its siblings sum "
                                       f"to {tot[i]:.6g} > 1 in {yrs[i]} (scenario "
                                       f"{self.chain[0]})"))
            return np.clip(1.0 - tot, 0.0, None)
        (kind, arg), = spec.items()
        if kind == "const":
            return np.full(len(yrs), float(arg))
        if kind == "interp":
            return interp(yrs, {int(k): v for k, v in arg.items()})
        if kind == "step":
            return step(yrs, {int(k): v for k, v in arg.items()}, before=self.base_value(q, where))
        if kind == "growth":
            rate = arg if isinstance(arg, Mapping) else float(arg)
            return growth(yrs, self.base_value(q, where), rate, t.base_year)
        if kind == "formula":
            names = formula_names(arg)
            vals = {n: self.ref(f"var:{n}", where) for n in names}
            return np.asarray(formula(arg, vals), float) + np.zeros(len(yrs))
        if kind == "stock":
            return self.stock(q, arg, where)
        if kind == "logistic":
            return np.asarray(logistic(yrs, float(arg["K"]), float(arg["r"]),
                                       t.resolve_t0(arg["t0"])), dtype=float)
        if kind == "ref":
            other = self.ref(arg["ref"], where)
            return float(arg.get("offset", 0.0)) + float(arg.get("scale", 1.0)) * other
        if kind == "growth_as":
            refs = arg.get("refs") or {arg["ref"]: arg["elasticity"]}
            try:
                return growth_as(self.base_value(q, where),
                                 [self.ref(r, where) for r in refs],
                                 [float(e) for e in refs.values()])
            except ParameterError as exc:
                raise DataError(f"{where}: {exc}") from None
        if kind == "diffuse":
            if idx + 1 >= len(self.chain):
                raise DataError(f"{where}: diffuse needs a parent scenario value")
            parent = self.get(q, idx + 1)
            K = arg.get("K")
            if K is None and q.startswith("var:") and t.variables[q[4:]].get("fraction"):
                K = 1.0  # no cited cap: a fraction stops at 1 (a physical bound)
            try:
                return diffuse(yrs, parent, K=None if K is None else float(K),
                               rate=float(arg["rate"]),
                               r=float(arg.get("r", 0.2)), t0=t.resolve_t0(arg.get("t0", "pilot")),
                               base_year=t.base_year, reading=str(arg.get("reading", "pp")))
            except ParameterError as exc:
                raise DataError(f"{where}: {exc}") from None
        raise DataError(f"{where}: unknown expression {kind!r}")  # pragma: no cover

    def total_activity(self, path: str, where: str) -> np.ndarray:
        """A branch's total activity: the product of the levels and shares down to it."""
        t = self.tree
        if path not in t.branches:
            raise DataError(f"{where}: unknown branch {path!r}")
        parts = path.split("/")
        out = np.ones(len(self.years))
        for i in range(1, len(parts) + 1):
            b = t.branches["/".join(parts[:i])]
            out = out * self.get(f"{b.path}:{b.level}", 0)
        return out

    def stock(self, q: str, arg: Mapping[str, Any], where: str) -> np.ndarray:
        """Stock turnover (:mod:`carbonlab.leap.stock`) of the vehicles a branch needs.

        ``of``: the branch whose total activity is vehicle-km; ``km_per_vehicle``,
        ``sales_share`` (share of sales of the technology) and ``stock_share`` (its base-year
        share of the stock) name key assumptions; ``survival``: median_life, shape,
        max_age, sales_growth_before. ``output``: ``share`` (the technology's share of the
        stock) or ``fill`` (stock / vehicles needed; 1 unless the need falls faster than
        the cars retire).
        """
        key = repr(sorted((k, str(v)) for k, v in arg.items() if k != "output"))
        if key not in self.stocks:
            km = self.ref(f"var:{arg['km_per_vehicle']}", where)
            required = self.total_activity(str(arg["of"]), where) / km
            sv = dict(arg.get("survival") or {})
            surv = survival_curve(float(sv.get("median_life", 15)), float(sv.get("shape", 3.5)),
                                  int(sv.get("max_age", 30)))
            v0 = initial_vintages(float(required[0]), surv,
                                  float(sv.get("sales_growth_before", 0.05)))
            s0 = float(self.ref(f"var:{arg['stock_share']}", where)[0])
            sales = self.ref(f"var:{arg['sales_share']}", where)
            tech, other = (str(x) for x in arg.get("names", ("tech", "other")))
            self.stocks[key] = stock_turnover(required, surv, {tech: v0 * s0, other: v0 * (1 - s0)},
                                              {tech: sales, other: 1 - sales}, self.years)
            self.stocks[key].extras = {"required": required, "quantity": q,  # type: ignore[attr-defined]
                                       "tech": tech}
        res = self.stocks[key]
        if arg["output"] == "share":
            return res.share(res.extras["tech"])  # type: ignore[attr-defined]
        if arg["output"] == "fill":
            req = res.extras["required"]  # type: ignore[attr-defined]
            return np.divide(res.total, req, out=np.ones_like(req), where=req > 0)
        raise DataError(f"{where}: stock output must be 'share' or 'fill', got {arg['output']!r}")

    def ref(self, name: Any, where: str) -> np.ndarray:
        name = str(name)
        try:
            self.tree._check_quantity(name, where)
        except DataError:
            raise DataError(f"{where}: reference to unknown quantity {name!r}") from None
        return self.get(name, 0)

    def base_value(self, q: str, where: str) -> float:
        """The current-accounts value of q in the base year (LEAP's base for Growth)."""
        return float(self.get(q, len(self.chain) - 1)[0])


# --------------------------------------------------------------------------------------
# LMDI decomposition
# --------------------------------------------------------------------------------------

def _logmean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    out = np.where(a > 0, a, 0.0)
    both = (a > 0) & (b > 0) & (np.abs(a - b) > 1e-12 * np.maximum(a, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(both, (a - b) / (np.log(a) - np.log(b)), out)
    return out


def lmdi_factors(
    fa: Mapping[str, Mapping[str, np.ndarray]], fb: Mapping[str, Mapping[str, np.ndarray]],
    years: Sequence[int],
) -> pd.DataFrame:
    """Additive LMDI-I of ``other - base`` for items whose value is a product of factors.

    ``fa``/``fb`` map an item (e.g. a branch path) to its factors by name (arrays over
    ``years``); the item's value is the product. The effect of factor x is
    ``L(C_other, C_base) ln(x_other / x_base)`` with the logarithmic mean L, so the effects of
    an item sum exactly to its change. Zeros use the limits of Ang & Liu (2007): if an item is
    zero in one scenario, its whole change goes (in equal parts) to the factors that are zero.
    Returns tidy rows ``branch, sector, factor, year, effect`` (unit of the product).
    """
    yrs = np.asarray(years)
    rows = []
    for path in fa:
        a, b = fa[path], fb[path]
        keys = list(dict.fromkeys([*a, *b]))
        ones = np.ones(len(yrs))
        xa = {k: np.asarray(a.get(k, ones), float) for k in keys}
        xb = {k: np.asarray(b.get(k, ones), float) for k in keys}
        ca = np.prod(list(xa.values()), axis=0)
        cb = np.prod(list(xb.values()), axis=0)
        lm = _logmean(cb, ca)
        rel = path.split("/", 1)[1] if "/" in path else path
        zero_a = {k: xa[k] == 0 for k in keys}
        zero_b = {k: xb[k] == 0 for k in keys}
        nzero = np.sum([zero_a[k] | zero_b[k] for k in keys], axis=0)
        for k in keys:
            with np.errstate(divide="ignore", invalid="ignore"):
                eff = np.where((xa[k] > 0) & (xb[k] > 0), lm * np.log(xb[k] / xa[k]), 0.0)
            edge = (ca == 0) ^ (cb == 0)
            eff = np.where(edge, np.where(zero_a[k] | zero_b[k], (cb - ca) / np.maximum(nzero, 1),
                                          0.0), eff)
            eff = np.where((ca == 0) & (cb == 0), 0.0, eff)
            rows.append(pd.DataFrame({"branch": rel, "sector": rel.split("/")[0],
                                      "factor": k, "year": yrs, "effect": eff}))
    return pd.concat(rows, ignore_index=True)


def lmdi(tree: DemandTree, base: str = "baseline", other: str = "policy") -> pd.DataFrame:
    """Additive LMDI-I decomposition of a tree's ``other - base`` emissions by leaf and factor.

    The factors are :meth:`DemandTree.leaf_factors`; see :func:`lmdi_factors`.
    Returns tidy rows ``branch, sector, factor, year, effect`` (Mt CO2).
    """
    df = lmdi_factors(tree.leaf_factors(base), tree.leaf_factors(other), tree.years())
    df.attrs["units"] = {"effect": "Mt CO2"}
    return df


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------

def plot_tree(tree: DemandTree, ax: Any = None) -> Any:
    """Draw the demand tree as boxes and arrows (root left, leaves right with their fuel)."""
    if ax is None:
        _, ax = new_figure(figsize=(8.5, 5.0))
    leaves = [b for b in tree.branches.values() if b.is_leaf]
    ypos: dict[str, float] = {b.path: -i for i, b in enumerate(leaves)}

    def place(path: str) -> float:
        b = tree.branches[path]
        if path not in ypos:
            ypos[path] = float(np.mean([place(c) for c in b.children]))
        return ypos[path]

    place(tree.root)
    depth = {p: p.count("/") for p in tree.branches}
    levers = {f"var:{v}" for v in tree.variables}
    for b in tree.branches.values():
        x, y = depth[b.path] * 1.0, ypos[b.path]
        if b.parent:  # centre to centre, under the opaque boxes
            ax.annotate("", xy=(x, y), xytext=(depth[b.parent] * 1.0, ypos[b.parent]),
                        arrowprops={"arrowstyle": "->", "color": "#888888", "lw": 0.8,
                                    "shrinkA": 18, "shrinkB": 18}, zorder=1)
        used = [str(s) for s in (b.share, b.intensity) if isinstance(s, Mapping)]
        lever = any(lv in u for u in used for lv in levers)
        label = b.name + (f"\n[{b.fuel}]" if b.fuel else "")
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5, zorder=3,
                bbox={"boxstyle": "round,pad=0.25", "fc": "#f6c9a8" if lever else "#f2f2f2",
                      "ec": "#555555", "lw": 0.6})
    ax.set_xlim(-0.5, max(depth.values()) + 0.5)
    ax.set_ylim(min(ypos.values()) - 0.8, 0.8)
    ax.axis("off")
    ax.set_title(f"Demand tree: {tree.name} (shaded: driven by a policy lever)")
    return ax


def plot_diffusion(
    pilot_years: Mapping[str, int | None], r: float = 0.2, years: Sequence[int] = range(2005, 2041),
    base_year: int = 2022, ax: Any = None,
) -> Any:
    """Diffusion stage S(t) = logistic(t, 1, r, t0) for cities' pilot years (never: base+1)."""
    if ax is None:
        _, ax = new_figure()
    yrs = np.asarray(list(years))
    for i, (name, py) in enumerate(pilot_years.items()):
        t0 = py if py is not None and not pd.isna(py) else base_year + 1
        lab = f"{name} (t0 = {t0}{'' if py is not None and not pd.isna(py) else ', hypothetical'})"
        ax.plot(yrs, diffusion_stage(yrs, r, t0), color=PALETTE[i % len(PALETTE)], label=lab)
    ax.axvline(base_year, color="#999999", ls=":", lw=1)
    ax.set_xlabel("year")
    ax.set_ylabel("policy strength S(t)")
    ax.set_title(f"Logistic diffusion, r = {r}")
    ax.legend()
    return ax


