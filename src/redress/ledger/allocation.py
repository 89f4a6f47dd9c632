"""Pro-rata allocation to the fen by the largest-remainder (Hamilton) method.

Used when the special fund cannot pay every accepted claim in full, to split interest among investors and to
return the surplus to payers in proportion to their contributions.  The result is exact (the parts sum to the
amount, not a fen more or less), deterministic and independent of the order in which claims are given:
remainders are compared as exact fractions and ties go to the larger claim, then the smaller key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Allocation:
    """How ``amount_fen`` was split among ``weights``."""

    amount_fen: int
    shares_fen: Mapping[str, int]
    floor_total_fen: int           # sum of the whole-fen parts before remainders were handed out
    remainder_fen: int             # fen handed out one by one by largest remainder (the residual)
    remainder_keys: tuple[str, ...]  # who received those fen, in order

    @property
    def total_fen(self) -> int:
        return sum(self.shares_fen.values())


def allocate(amount_fen: int, weights: Mapping[str, int]) -> Allocation:
    """Split ``amount_fen`` among ``weights`` (key -> non-negative integer weight, e.g. a claim in fen).

    Each key gets ``floor(amount * w / W)``; the ``amount - sum(floors)`` fen left over go one each to the
    keys with the largest remainders ``(amount * w) mod W``.  Ties: larger weight first, then smaller key.
    A key never receives more than its weight when ``amount <= W`` (the shortfall case).
    """
    if amount_fen < 0:
        raise ValueError(f"amount to allocate is negative: {amount_fen} fen")
    for key, w in weights.items():
        if not isinstance(w, int) or isinstance(w, bool) or w < 0:
            raise ValueError(f"weight of {key!r} must be a non-negative integer, got {w!r}")
    total_weight = sum(weights.values())
    if total_weight == 0:
        if amount_fen:
            raise ValueError("cannot allocate a positive amount over zero total weight")
        return Allocation(0, {k: 0 for k in sorted(weights)}, 0, 0, ())
    shares: dict[str, int] = {}
    remainders: list[tuple[int, int, str]] = []
    for key in sorted(weights):
        w = weights[key]
        q, r = divmod(amount_fen * w, total_weight)
        shares[key] = q
        remainders.append((-r, -w, key))
    floor_total = sum(shares.values())
    left = amount_fen - floor_total
    remainders.sort()
    winners = tuple(key for _r, _w, key in remainders[:left])
    for key in winners:
        shares[key] += 1
    return Allocation(amount_fen, shares, floor_total, left, winners)
