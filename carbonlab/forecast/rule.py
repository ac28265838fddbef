"""The book's one peak rule (:func:`find_peak`), the peak classes and the key drivers."""


from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from carbonlab._util import ParameterError
from carbonlab.data.drivers import key_drivers
from carbonlab.plotting import PALETTE

KEY_DRIVERS: tuple[str, ...] = key_drivers()
"""The five key drivers the study's BMA retained and forecasts with (the ``key`` rows of the
driver table, :mod:`carbonlab.data.drivers`)."""


@dataclass(frozen=True)
class PeakResult:
    """Peak of a series (from :func:`find_peak`).

    ``peak_year``: first year of the maximum; ``peak_value``: the maximum (the series'
    unit, e.g. Mt CO2); ``peaked``: whether the series has peaked by its last year;
    ``last_growth``: relative change in the last year (fraction); ``end_gap``: last value
    below the maximum (fraction, ≥ 0).
    """

    peak_year: int
    peak_value: float
    peaked: bool
    last_growth: float = float("nan")
    end_gap: float = float("nan")

    @property
    def peak_class(self) -> str:
        """The class of :func:`classify` with the study's years."""
        return classify(self.peak_year, self.peaked)

    def describe(self, unit: str = "") -> str:
        """One line for a reader, e.g. "a peak in 2012 at 105.0 Mt CO2 (peaked before 2020; …)"
        (no tense: the peak year may be observed or forecast)."""
        u = f" {unit}" if unit else ""
        if self.peaked:
            return (f"a peak in {self.peak_year} at {self.peak_value:,.1f}{u} "
                    f"({self.peak_class}; last value {100 * self.end_gap:.1f} % below the peak)")
        return (f"no peak: highest value {self.peak_value:,.1f}{u} in {self.peak_year}, "
                f"last-year growth {100 * self.last_growth:+.2f} %")

    def __str__(self) -> str:
        return self.describe()

    def _repr_markdown_(self) -> str:
        return str(self)


PEAK_TOL: float = 0.01
"""Default relative tolerance of :func:`find_peak` (1 %)."""

PLEDGE_YEAR: int = 2020
"""The 2020 pledge; a maximum before it (and before the 2022 plans) is 'peaked before 2020'."""

CLASSES: tuple[str, ...] = (f"peaked before {PLEDGE_YEAR}", "by 2025", "by 2030", "not by 2030")
"""Peak classes: already peaked before the plans, then the study's Table 8 classes
(leading: by 2025, standard: by 2030, not peaked by 2030). The one place they are named."""

CLASS_BEFORE, CLASS_2025, CLASS_2030, CLASS_NOT = CLASSES

ALREADY_P: float = 0.9
"""A region is said to have *already peaked* when its class is :data:`CLASS_BEFORE`, or when
the point path's maximum lies before the last data year and at least this share of the
ensemble members peak by 2025 (:meth:`Outlook.region`). The one place the threshold is set."""

CLASS_COLORS: dict[str, str] = {CLASS_BEFORE: PALETTE[7], CLASS_2025: PALETTE[2],
                                CLASS_2030: PALETTE[4], CLASS_NOT: PALETTE[1]}
"""One colour per class in every figure."""


def find_peak(years: Sequence[int] | np.ndarray, values: Sequence[float] | np.ndarray,
              tol: float = PEAK_TOL) -> PeakResult:
    """Year and value of the maximum of ``values`` and whether the series has peaked.

    Parameters
    ----------
    years : sequence of int
        Strictly increasing years (at least two).
    values : sequence of float
        The series (any unit, e.g. Mt CO2; history + forecast), finite.
    tol : float
        Relative tolerance (default 1 %).

    Returns
    -------
    PeakResult
        ``peak_year`` is the first year of the maximum. ``peaked`` is True when the last
        value is below the maximum by more than ``tol`` (``E_T < (1 - tol)·max``), or when
        the maximum lies before the last year and the tail is flat within ``tol``
        (``|E_T/E_{T-1} - 1| <= tol``). A maximum in the last year is never a peak.
    """
    y = np.asarray(years)
    v = np.asarray(values, dtype=float)
    if y.ndim != 1 or v.ndim != 1 or len(y) != len(v):
        raise ParameterError(f"find_peak: years ({y.shape}) and values ({v.shape}) must be 1-D of equal length")
    if len(v) < 2:
        raise ParameterError("find_peak: need at least two years")
    if not np.all(np.isfinite(v)):
        raise ParameterError(f"find_peak: values has a missing or infinite entry at year {y[~np.isfinite(v)][0]}")
    if not np.all(np.diff(y.astype(float)) > 0):
        raise ParameterError("find_peak: years must be strictly increasing")
    if isinstance(tol, bool) or not (np.isfinite(tol) and 0 <= tol < 1):
        raise ParameterError(f"find_peak: tol must be in [0, 1), got {tol!r}")
    i = int(np.argmax(v))
    vmax = float(v[i])
    growth = float(v[-1] / v[-2] - 1.0) if v[-2] != 0 else float(np.sign(v[-1] - v[-2]))
    gap = float(1.0 - v[-1] / vmax) if vmax > 0 else 0.0
    below = bool(v[-1] < vmax - tol * abs(vmax))
    flat_tail = i < len(v) - 1 and abs(growth) <= tol
    return PeakResult(peak_year=int(y[i]), peak_value=vmax, peaked=bool(below or flat_tail),
                      last_growth=growth, end_gap=gap)


def classify(peak_year: int, peaked: bool, *, before: int = PLEDGE_YEAR, early: int = 2025,
             target: int = 2030) -> str:
    """The peak class (:data:`CLASSES`) of a peak year and ``peaked`` flag.

    ``"peaked before 2020"`` for a peaked series whose maximum is before ``before``;
    ``"by 2025"`` / ``"by 2030"`` for a peak up to ``early`` / ``target``; ``"not by 2030"``
    for a series that has not peaked or peaks after ``target``. With other years the
    labels keep the default names (the classes are named in one place).
    """
    if isinstance(peak_year, float) and not np.isfinite(peak_year):
        raise ParameterError(f"classify: peak_year {peak_year!r} is not a year")
    if not peaked or peak_year > target:
        return CLASS_NOT
    if peak_year < before:
        return CLASS_BEFORE
    return CLASS_2025 if peak_year <= early else CLASS_2030
