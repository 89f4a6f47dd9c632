"""Largest-remainder (Hamilton) allocation to the fen: exact, fair to within one fen, order-independent.

Properties are checked against the definition (exact quotas as fractions) and against a slow reference that
hands the leftover fen out one at a time to whoever is furthest below their exact quota.
"""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from redress.ledger.allocation import Allocation, allocate

KEYS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=6)
# claims in fen: from one fen up to a billion yuan; zero weights are allowed and get nothing
WEIGHTS = st.dictionaries(KEYS, st.one_of(st.integers(0, 10**11), st.integers(0, 200), st.just(0)),
                          min_size=1, max_size=12).filter(lambda w: sum(w.values()) > 0)
AMOUNTS = st.one_of(st.integers(0, 10**13), st.integers(0, 1000))


def reference(amount: int, weights: dict[str, int]) -> dict[str, int]:
    """The slow, obviously-correct Hamilton method: give every key the whole fen of its exact quota, then
    give the remaining fen one at a time to the key whose share is furthest below its quota (ties: larger
    weight, then smaller key), never twice to the same key."""
    total = sum(weights.values())
    quota = {k: Fraction(amount * w, total) for k, w in weights.items()}
    shares = {k: math.floor(q) for k, q in quota.items()}
    while sum(shares.values()) < amount:
        candidates = [k for k in weights if shares[k] == math.floor(quota[k])]
        best = sorted(candidates, key=lambda k: (-(quota[k] - shares[k]), -weights[k], k))[0]
        shares[best] += 1
    return shares


def _check_bookkeeping(a: Allocation, amount: int, weights: dict[str, int]) -> None:
    assert a.amount_fen == amount
    assert set(a.shares_fen) == set(weights)
    assert a.total_fen == sum(a.shares_fen.values()) == amount
    assert a.floor_total_fen + a.remainder_fen == amount
    assert len(a.remainder_keys) == a.remainder_fen
    assert len(set(a.remainder_keys)) == len(a.remainder_keys)      # nobody gets two leftover fen


# -- properties ----------------------------------------------------------------------------------------------

@settings(max_examples=300)
@given(AMOUNTS, WEIGHTS)
@example(200, {"A": 100, "B": 100, "C": 100})
@example(1, {"A": 0, "B": 0, "C": 5})
@example(10**13, {"A": 1, "B": 10**11 - 1})
def test_parts_sum_exactly_to_the_amount_and_match_the_reference(amount, weights):
    a = allocate(amount, weights)
    _check_bookkeeping(a, amount, weights)
    assert dict(a.shares_fen) == reference(amount, weights)


@settings(max_examples=300)
@given(AMOUNTS, WEIGHTS)
def test_each_share_is_strictly_within_one_fen_of_its_exact_quota(amount, weights):
    a = allocate(amount, weights)
    total = sum(weights.values())
    for key, w in weights.items():
        quota = Fraction(amount * w, total)
        assert abs(a.shares_fen[key] - quota) < 1, (key, a.shares_fen[key], quota)
        assert a.shares_fen[key] in (math.floor(quota), math.ceil(quota))
        assert a.shares_fen[key] >= 0


@settings(max_examples=300)
@given(AMOUNTS, WEIGHTS)
def test_leftover_fen_go_to_the_largest_remainders(amount, weights):
    """Whoever got a leftover fen had a remainder at least as large as anyone who did not."""
    a = allocate(amount, weights)
    total = sum(weights.values())
    quota = {k: Fraction(amount * w, total) for k, w in weights.items()}
    frac = {k: q - math.floor(q) for k, q in quota.items()}
    winners = set(a.remainder_keys)
    assert winners == {k for k in weights if a.shares_fen[k] > math.floor(quota[k])}
    for k in winners:
        assert frac[k] > 0
        for other in set(weights) - winners:
            assert (-frac[k], -weights[k], k) < (-frac[other], -weights[other], other)


@settings(max_examples=300)
@given(st.data(), WEIGHTS)
def test_in_a_shortfall_no_share_exceeds_its_claim(data, weights):
    total = sum(weights.values())
    amount = data.draw(st.integers(0, total), label="amount <= total weight")
    a = allocate(amount, weights)
    for key, w in weights.items():
        assert a.shares_fen[key] <= w, (key, a.shares_fen[key], w)


@given(AMOUNTS, WEIGHTS, st.randoms(use_true_random=False))
def test_independent_of_insertion_order_and_deterministic(amount, weights, rnd):
    first = allocate(amount, weights)
    again = allocate(amount, weights)
    assert again == first
    assert list(first.shares_fen) == sorted(weights)     # reproducible files: shares listed in key order
    items = list(weights.items())
    perms = (itertools.permutations(items) if len(items) <= 4
             else (rnd.sample(items, len(items)) for _ in range(20)))
    for perm in perms:
        other = allocate(amount, dict(perm))
        assert dict(other.shares_fen) == dict(first.shares_fen)
        assert other.remainder_keys == first.remainder_keys
        assert (other.floor_total_fen, other.remainder_fen) == (first.floor_total_fen, first.remainder_fen)


@given(AMOUNTS, WEIGHTS, st.sets(KEYS, min_size=1, max_size=4))
def test_zero_weights_get_nothing_and_change_nothing_for_the_others(amount, weights, zero_keys):
    zero_keys -= set(weights)
    assume(zero_keys)
    with_zeros = {**weights, **{k: 0 for k in zero_keys}}
    a = allocate(amount, with_zeros)
    b = allocate(amount, weights)
    for k in zero_keys:
        assert a.shares_fen[k] == 0
        assert k not in a.remainder_keys
    assert {k: v for k, v in a.shares_fen.items() if k not in zero_keys} == dict(b.shares_fen)


@given(st.integers(0, 10**9), WEIGHTS, st.integers(1, 1000))
def test_scaling_every_weight_changes_nothing(amount, weights, factor):
    """Only proportions matter: claims in yuan or in fen give the same split."""
    a = allocate(amount, weights)
    b = allocate(amount, {k: w * factor for k, w in weights.items()})
    assert dict(a.shares_fen) == dict(b.shares_fen)


@given(st.integers(0, 10**9), WEIGHTS)
def test_paying_every_claim_in_full_gives_each_its_claim(extra, weights):
    total = sum(weights.values())
    a = allocate(total, weights)
    assert dict(a.shares_fen) == weights
    assert a.remainder_fen == 0
    if extra:
        # more money than claimed: everyone gets at least the claim (the excess is still split pro rata)
        b = allocate(total + extra, weights)
        assert all(b.shares_fen[k] >= w for k, w in weights.items())


# -- readable examples ---------------------------------------------------------------------------------------

def test_two_yuan_over_three_equal_one_yuan_claims_ties_to_the_smaller_key():
    a = allocate(2_00, {"INV3": 1_00, "INV1": 1_00, "INV2": 1_00})
    assert dict(a.shares_fen) == {"INV1": 67, "INV2": 67, "INV3": 66}
    assert (a.floor_total_fen, a.remainder_fen, a.remainder_keys) == (198, 2, ("INV1", "INV2"))


def test_tie_on_remainder_goes_to_the_larger_claim_before_the_smaller_key():
    # 5 fen over weights 1:6:3 (total 10): quotas 0.5, 3.0, 1.5 -> floors 0, 3, 1; one fen left, and
    # A and C tie on remainder 1/2; C has the larger claim, so C gets it although A sorts first
    a = allocate(5, {"A": 1, "B": 6, "C": 3})
    assert dict(a.shares_fen) == {"A": 0, "B": 3, "C": 2}
    assert a.remainder_keys == ("C",)


def test_largest_remainder_beats_larger_claim():
    # 1 fen over 1:2 -> quotas 1/3, 2/3: B has the larger remainder
    assert dict(allocate(1, {"A": 1, "B": 2}).shares_fen) == {"A": 0, "B": 1}
    # 1 fen over 3:1:1 (total 5) -> quotas 0.6, 0.2, 0.2
    assert dict(allocate(1, {"A": 3, "B": 1, "C": 1}).shares_fen) == {"A": 1, "B": 0, "C": 0}


def test_a_short_fund_is_split_in_proportion_to_the_claims():
    claims = {"INV1": 100_00, "INV2": 2_500_37, "INV4": 10_000_00}
    budget = 6_300_18          # just under half of the 12_600_37 fen claimed
    assert sum(claims.values()) == 12_600_37
    a = allocate(budget, claims)
    total = sum(claims.values())
    assert a.total_fen == budget
    assert all(abs(a.shares_fen[k] - Fraction(budget * w, total)) < 1 for k, w in claims.items())
    assert all(a.shares_fen[k] <= w for k, w in claims.items())


def test_nothing_to_allocate():
    a = allocate(0, {"A": 5, "B": 7})
    assert dict(a.shares_fen) == {"A": 0, "B": 0} and a.remainder_keys == ()
    empty = allocate(0, {})
    assert dict(empty.shares_fen) == {} and empty.total_fen == 0
    zeros = allocate(0, {"A": 0, "B": 0})
    assert dict(zeros.shares_fen) == {"A": 0, "B": 0}


def test_a_single_claimant_gets_everything():
    assert dict(allocate(12_345, {"only": 1}).shares_fen) == {"only": 12_345}


def test_many_equal_claims_reproducible_with_a_seeded_shuffle():
    keys = [f"INV{i:03d}" for i in range(101)]
    a = allocate(1_000_00, {k: 7 for k in keys})
    shuffled = keys[:]
    random.Random(7).shuffle(shuffled)
    b = allocate(1_000_00, {k: 7 for k in shuffled})
    assert a == b
    # 100000 / 101 = 990 r 10: the ten smallest keys get 991
    assert [a.shares_fen[k] for k in keys] == [991] * 10 + [990] * 91


# -- bad inputs ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [-1, -100_00])
def test_negative_amount_refused(amount):
    with pytest.raises(ValueError, match="negative"):
        allocate(amount, {"A": 1})


@pytest.mark.parametrize("bad", [-1, 1.0, 0.5, "100", None, True, Fraction(1, 2)])
def test_negative_or_non_integer_weight_refused(bad):
    with pytest.raises(ValueError, match="'B'"):
        allocate(10, {"A": 1, "B": bad})


@pytest.mark.parametrize("weights", [{}, {"A": 0}, {"A": 0, "B": 0}])
def test_positive_amount_over_zero_weight_refused(weights):
    with pytest.raises(ValueError, match="zero total weight"):
        allocate(1, weights)
