"""The one rounding rule (loss-rules.md section 7): compute in full precision, round half-up once.

Money is reported in yuan to 0.01 (integer fen internally), prices to 4 decimals.  Computation is in
binary floating point, so a value that is exactly a half in decimal (2.325) may arrive as
2.3249999999999997; a nudge far below a hundredth of a fen (1e-9 absolute plus 1e-13 relative) lets such
values round as their decimal reading says.  Halves round away from zero.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

FEN_PER_YUAN = 100
PRICE_UNITS = 10_000


def half_up_units(values: np.ndarray, units_per_one: int) -> np.ndarray:
    """Round ``values`` half away from zero to integer units of 1/units_per_one."""
    return _half_up(np.ascontiguousarray(values, dtype=np.float64), float(units_per_one))


@njit(cache=True, inline="always")
def half_up_one(x, units):
    v = x * units
    a = abs(v)
    rounded = np.floor(a + 0.5 + (1e-9 + a * 1e-13))
    return np.int64(rounded) if v >= 0 else -np.int64(rounded)


@njit(cache=True, parallel=True)
def _half_up(values, units):
    out = np.empty(values.shape, np.int64)
    for i in prange(values.size):
        out[i] = half_up_one(values[i], units)
    return out


@njit(cache=True, parallel=True)
def _rounded_where(values, keep, units):
    out = np.empty(values.shape[0], np.float64)
    for i in prange(values.shape[0]):
        out[i] = half_up_one(values[i], units) / units if keep[i] else 0.0
    return out


def rounded(values: np.ndarray, units_per_one: int, keep: np.ndarray | None = None) -> np.ndarray:
    """``half_up_units(values) / units_per_one`` as floats (0 where ``keep`` is False), in one pass: each
    temporary array a computation makes costs fresh memory, which is slow to touch the first time."""
    if keep is None:
        keep = np.ones(len(values), dtype=np.bool_)
    return _rounded_where(values, np.ascontiguousarray(keep, dtype=np.bool_), float(units_per_one))
