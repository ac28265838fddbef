"""Year splits: the study's random split and time-ordered rolling origins."""


from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from carbonlab._util import DataError, ParameterError
from carbonlab.models._base import _positive_int


@dataclass(frozen=True)
class YearSplit:
    """A split of the panel by year: every province shares the same train and test years."""

    name: str
    train_years: tuple[int, ...]
    test_years: tuple[int, ...]

    def masks(self, years: Any) -> tuple[np.ndarray, np.ndarray]:
        """Boolean (train, test) masks for an array of years."""
        y = np.asarray(years)
        return np.isin(y, self.train_years), np.isin(y, self.test_years)


def _years(panel_or_years: Any) -> np.ndarray:
    if isinstance(panel_or_years, pd.DataFrame):
        if "year" not in panel_or_years.columns:
            raise DataError("panel: missing column year")
        years = panel_or_years["year"]
    else:
        years = panel_or_years
    out = np.unique(np.asarray(years, dtype=int))
    if out.size == 0:
        raise DataError("panel: no years")
    return out


def random_year_split(panel_or_years: Any, n_train: int = 11, random_state: int = 0
                      ) -> YearSplit:
    """The study's split: ``n_train`` years drawn at random (seeded) train, the rest test.

    Parameters
    ----------
    panel_or_years : the panel (its ``year`` column) or the years themselves.
    n_train : number of training years (the study: 11 of 2005–2021, so 6 test years).
    random_state : seed of the draw.
    """
    years = _years(panel_or_years)
    n_train = _positive_int(n_train, "n_train")
    if n_train >= years.size:
        raise ParameterError(f"n_train: {n_train} training years leave no test year "
                             f"({years.size} years in the panel)")
    rng = np.random.default_rng(random_state)
    train = np.sort(rng.choice(years, size=n_train, replace=False))
    test = np.setdiff1d(years, train)
    return YearSplit("random", tuple(int(v) for v in train), tuple(int(v) for v in test))


def rolling_origin_splits(panel_or_years: Any, n_folds: int = 3, horizon: int = 2,
                          min_train: int = 5) -> list[YearSplit]:
    """Time-ordered splits: train on every year up to an origin, test the next ``horizon``.

    The last fold's test window ends in the last year; origins step back by ``horizon``,
    so with 2005–2021, ``n_folds=3, horizon=2`` tests 2016–17, 2018–19 and 2020–21
    (the same 6 test years as the study's split, none seen in training), and
    ``n_folds=1, horizon=6`` is the plain time holdout 2005–2015 | 2016–2021.
    """
    years = _years(panel_or_years)
    n_folds = _positive_int(n_folds, "n_folds")
    horizon = _positive_int(horizon, "horizon")
    min_train = _positive_int(min_train, "min_train")
    first_test = years.size - n_folds * horizon
    if first_test < min_train:
        raise ParameterError(
            f"n_folds: {n_folds} folds of {horizon} years leave {max(first_test, 0)} training "
            f"years in the first fold (min_train={min_train}, {years.size} years)")
    out = []
    for k in range(n_folds):
        start = first_test + k * horizon
        train, test = years[:start], years[start:start + horizon]
        out.append(YearSplit(f"rolling@{int(train[-1])}", tuple(int(v) for v in train),
                             tuple(int(v) for v in test)))
    return out


def _resolve_splits(panel: pd.DataFrame, split: Any, random_state: int, n_train: int
                    ) -> tuple[str, list[YearSplit]]:
    if isinstance(split, str):
        if split == "random":
            return "random", [random_year_split(panel, n_train=n_train, random_state=random_state)]
        if split == "rolling":
            return "rolling", rolling_origin_splits(panel)
        raise ParameterError(f"split: unknown split {split!r}; use 'random', 'rolling', "
                             "a YearSplit or a list of them")
    if isinstance(split, YearSplit):
        return split.name, [split]
    if isinstance(split, Sequence) and split and all(isinstance(s, YearSplit) for s in split):
        name = "rolling" if all(s.name.startswith("rolling") for s in split) else split[0].name
        return name, list(split)
    raise ParameterError(f"split: expected 'random', 'rolling' or YearSplit(s), got {split!r}")


def _check_split(regions: np.ndarray, years: np.ndarray, split: YearSplit) -> tuple[np.ndarray,
                                                                                     np.ndarray]:
    train, test = split.masks(years)
    if not train.any():
        raise DataError(f"split {split.name}: empty training set (no rows in years "
                        f"{list(split.train_years)})")
    if not test.any():
        raise DataError(f"split {split.name}: empty test set (no rows in years "
                        f"{list(split.test_years)})")
    missing = sorted(set(regions[test]) - set(regions[train]))
    if missing:
        raise DataError(f"split {split.name}: province {missing[0]} has no training years "
                        f"({len(missing)} such province(s))")
    return train, test
