"""The engine's record: one row per trade or opening position, as the grouping writes it and the walk reads it.

One 56-byte row (seven 64-bit words), so that moving it while grouping touches one or two cache lines, and
the walk reads it as it lies.  ``R_META`` packs the day (offset by 2**31), the security and the kind;
``R_QTY`` and ``R_PRICE`` hold float64 bits (restated for ex-rights).
"""

from __future__ import annotations

import numpy as np
from numba import njit

KIND_SELL, KIND_BUY, KIND_OPENING = 0, 1, 2
CLASS_PRE, CLASS_ELIGIBLE, CLASS_POST = 0, 1, 2

R_KEY, R_TIME, R_ROW, R_META, R_CHECK, R_QTY, R_PRICE = range(7)
N_REC = 7
MAX_PARTITION_BITS = 11  # at most 2,048 first-pass partitions: few enough output streams for memory speed


@njit(cache=True, inline="always")
def rec_kind(rec, r):
    return np.int64(rec[r, R_META] & np.uint64(3))


@njit(cache=True, inline="always")
def rec_day(rec, r):
    return np.int64(rec[r, R_META] >> np.uint64(32)) - 2**31


@njit(cache=True, inline="always")
def rec_sec(rec, r):
    return np.int64((rec[r, R_META] & np.uint64(0xFFFFFFFF)) >> np.uint64(2))


@njit(cache=True, inline="always")
def _pack_meta(day, sec, kind):
    return (np.uint64(np.int64(day) + 2**31) << np.uint64(32)) | (np.uint64(sec) << np.uint64(2)) | np.uint64(kind)


def unpack_meta(meta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind, security code and day number of records' R_META words (NumPy; the inverse of ``_pack_meta``,
    which ``rec_kind``, ``rec_sec`` and ``rec_day`` read one record at a time inside the kernels)."""
    kind = (meta & np.uint64(3)).astype(np.int8)
    sec = ((meta & np.uint64(0xFFFFFFFF)) >> np.uint64(2)).astype(np.int32)
    day = ((meta >> np.uint64(32)).astype(np.int64) - 2**31).astype(np.int32)
    return kind, sec, day

