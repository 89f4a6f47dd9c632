"""The compiled lookup of closed-exchange days (``market.calendar.SessionTable.is_closed``), in a module of its
own so that reading the calendar does not load Numba."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def closed_days(days, first_day, open_mask):
    """True where a day number is inside the calendar's coverage and the exchange was closed."""
    n = days.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    size = open_mask.shape[0]
    for i in prange(n):
        j = np.int64(days[i]) - first_day
        if 0 <= j < size:
            out[i] = not open_mask[j]
    return out

