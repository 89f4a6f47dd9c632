"""Paying the clients and individual creditors of a failed securities company."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.protection import (
    Category,
    CustodianRecord,
    DiscrepancyReason,
    ProtectionDataError,
    ProtectionError,
    RegisteredClaim,
    compensate,
    parse_payout_rules,
    payout_rules,
    subrogated_claim_fen,
    verify,
)
from redress.protection._common import read_data

THRESHOLD_FEN = 10_000_000  # 100,000 yuan
DEBT = "individual_debt"
CASH = "settlement_funds"


def reference_paid_fen(eligible_fen: int) -> int:
    """In full up to 100,000 yuan, 90% above, rounded half up: an independent reference."""
    excess_fen = max(eligible_fen - THRESHOLD_FEN, 0)
    exact = Fraction(min(eligible_fen, THRESHOLD_FEN)) + Fraction(9, 10) * excess_fen
    return math.floor(exact + Fraction(1, 2))


def pay_one(principal_fen: int, category: str = DEBT, interest_fen: int = 0) -> int:
    claim = RegisteredClaim("p1", category, principal_fen, interest_fen, "R1")
    return compensate([claim]).compensations[0].paid_fen


@pytest.mark.parametrize("principal,paid", [
    (0, 0),
    (1, 1),
    (9_999_999, 9_999_999),
    (10_000_000, 10_000_000),       # exactly 100,000 yuan: in full
    (10_000_001, 10_000_001),       # 10,000,000 + round(0.9) = 10,000,001
    (10_000_005, 10_000_005),       # 10,000,000 + round(4.5) = 10,000,005 (half up)
    (10_000_010, 10_000_009),       # 10,000,000 + 9
    (10_000_015, 10_000_014),       # 10,000,000 + round(13.5) = 14
    (20_000_000, 19_000_000),       # 200,000 yuan -> 190,000 yuan
])
def test_individual_debt_threshold(principal, paid):
    assert pay_one(principal) == paid


@given(st.integers(0, 10**13))
def test_individual_debt_matches_fraction_reference(principal):
    assert pay_one(principal) == reference_paid_fen(principal)


@given(st.integers(0, 10**13))
def test_settlement_funds_are_paid_in_full(principal):
    assert pay_one(principal, CASH) == principal


@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_more_claimed_never_means_less_paid(a, b):
    lo, hi = sorted((a, b))
    assert pay_one(lo) <= pay_one(hi) <= hi


def test_claims_of_one_claimant_are_added_before_the_threshold():
    claims = [RegisteredClaim("wang", DEBT, 6_000_000, 0, "W1"),
              RegisteredClaim("wang", DEBT, 6_000_000, 0, "W2"),
              RegisteredClaim("li", DEBT, 6_000_000, 0, "L1")]
    payout = compensate(claims)
    wang = payout.compensation("wang", DEBT)
    # 120,000 yuan together: 100,000 + 90% x 20,000 = 118,000 yuan (not 2 x 60,000 in full)
    assert (wang.eligible_fen, wang.paid_fen, wang.not_paid_fen) == (12_000_000, 11_800_000, 200_000)
    assert wang.references == ("W1", "W2")
    assert payout.compensation("li", DEBT).paid_fen == 6_000_000


def test_rounding_is_once_per_claimant():
    # Taken one by one: 10,000,000 + round(4.5) = 10,000,005, plus 5 = 10,000,010.
    claims = [RegisteredClaim("zhao", DEBT, 10_000_005, 0, "Z1"), RegisteredClaim("zhao", DEBT, 5, 0, "Z2")]
    comp = compensate(claims).compensations[0]
    # Added first, as the rule requires: 10,000,010 in total -> 10,000,000 + 9 = 10,000,009.
    assert comp.paid_fen == 10_000_009


def test_categories_are_separate():
    claims = [RegisteredClaim("chen", CASH, 30_000_000, 0, "C1"),
              RegisteredClaim("chen", DEBT, 30_000_000, 0, "C2")]
    payout = compensate(claims)
    assert payout.compensation("chen", CASH).paid_fen == 30_000_000
    assert payout.compensation("chen", DEBT).paid_fen == 10_000_000 + 18_000_000
    assert payout.paid_by_category_fen() == {Category.SETTLEMENT_FUNDS: 30_000_000,
                                             Category.INDIVIDUAL_DEBT: 28_000_000}


def test_interest_is_excluded():
    comp = compensate([RegisteredClaim("sun", DEBT, 5_000_000, 123_456, "S1")]).compensations[0]
    assert comp.claimed_fen == 5_123_456
    assert comp.interest_excluded_fen == 123_456
    assert comp.eligible_fen == 5_000_000
    assert comp.paid_fen == 5_000_000
    assert comp.not_paid_fen == 123_456
    assert any("interest" in line for line in comp.lines)


def test_interest_does_not_push_over_the_threshold():
    assert pay_one(THRESHOLD_FEN, interest_fen=1_000_000) == THRESHOLD_FEN


def test_totals_and_subrogated_claim():
    claims = [RegisteredClaim("a", DEBT, 20_000_000, 500, "A1"), RegisteredClaim("b", CASH, 700, 0, "B1")]
    payout = compensate(claims)
    assert payout.claimed_fen == 20_000_000 + 500 + 700
    assert payout.paid_fen == 19_000_000 + 700
    assert payout.not_paid_fen == payout.claimed_fen - payout.paid_fen
    assert payout.subrogated_claim_fen == subrogated_claim_fen(payout) == payout.paid_fen
    assert "Art. 19" in payout.explain()


# --- verification --------------------------------------------------------------------------------------

def test_verify_accepts_matching_claims():
    registered = [RegisteredClaim("a", DEBT, 100, 5, "A1"), RegisteredClaim("a", DEBT, 200, 0, "A2")]
    records = [CustodianRecord("a", DEBT, 300)]
    v = verify(registered, records)
    assert [c.reference for c in v.accepted] == ["A1", "A2"]
    assert v.discrepancies == () and v.unclaimed == ()
    assert compensate(v).paid_fen == 300


def test_verify_flags_amount_that_differs_with_both_amounts():
    v = verify([RegisteredClaim("a", DEBT, 1_000, 0, "A1")], [CustodianRecord("a", DEBT, 900)])
    assert v.accepted == ()
    (d,) = v.discrepancies
    assert d.reason == DiscrepancyReason.AMOUNT_DIFFERS
    assert (d.registered_fen, d.custodian_fen, d.references) == (1_000, 900, ("A1",))
    assert "10.00 yuan" in d.message_en and "9.00 yuan" in d.message_en and "不符" in d.message_zh
    assert compensate(v).paid_fen == 0


def test_verify_flags_lower_registered_amount_too():
    v = verify([RegisteredClaim("a", CASH, 800, 0, "A1")], [CustodianRecord("a", CASH, 900)])
    assert [d.reason for d in v.discrepancies] == [DiscrepancyReason.AMOUNT_DIFFERS]


def test_verify_flags_claim_not_in_custodian_records():
    v = verify([RegisteredClaim("a", DEBT, 1_000, 0, "A1")], [CustodianRecord("a", CASH, 1_000)])
    assert [d.reason for d in v.discrepancies] == [DiscrepancyReason.NOT_IN_CUSTODIAN_RECORDS]
    assert v.discrepancies[0].custodian_fen is None
    assert v.unclaimed == (CustodianRecord("a", CASH, 1_000),)


def test_verify_identical_duplicate_is_counted_once():
    claim = RegisteredClaim("a", DEBT, 1_000, 0, "A1")
    v = verify([claim, claim], [CustodianRecord("a", DEBT, 1_000)])
    assert v.accepted == (claim,)
    assert [d.reason for d in v.discrepancies] == [DiscrepancyReason.DUPLICATE_REFERENCE]


def test_verify_differing_duplicates_are_all_held_back():
    v = verify([RegisteredClaim("a", DEBT, 1_000, 0, "A1"), RegisteredClaim("a", DEBT, 2_000, 0, "A1")],
               [CustodianRecord("a", DEBT, 1_000)])
    assert v.accepted == ()
    reasons = [d.reason for d in v.discrepancies]
    assert reasons == [DiscrepancyReason.DUPLICATE_REFERENCE]
    assert v.discrepancies[0].registered_fen == 3_000


def test_custodian_records_of_one_claimant_are_added():
    v = verify([RegisteredClaim("a", CASH, 1_500, 0, "A1")],
               [CustodianRecord("a", CASH, 1_000), CustodianRecord("a", CASH, 500)])
    assert len(v.accepted) == 1


def test_compensate_refuses_repeated_references():
    claim = RegisteredClaim("a", DEBT, 1_000, 0, "A1")
    with pytest.raises(ProtectionError, match="appears twice"):
        compensate([claim, claim])


@pytest.mark.parametrize("kwargs", [
    {"category": "bonus"}, {"principal_fen": -1}, {"principal_fen": 1.5}, {"interest_fen": -2},
    {"claimant_id": ""}, {"reference": " "},
])
def test_bad_claims_are_refused(kwargs):
    args = {"claimant_id": "a", "category": DEBT, "principal_fen": 1, "interest_fen": 0, "reference": "R"}
    with pytest.raises(ProtectionError):
        RegisteredClaim(**(args | kwargs))


# --- the data file -------------------------------------------------------------------------------------

def test_rules_are_dated():
    rules = payout_rules(dt.date(2024, 1, 1))
    assert rules.effective == dt.date(2004, 10, 1)
    debt = rules.rule(Category.INDIVIDUAL_DEBT)
    assert (debt.in_full_up_to_fen, debt.share_above_bp, debt.interest_paid) == (THRESHOLD_FEN, 9000, False)
    assert rules.rule(Category.SETTLEMENT_FUNDS).in_full_up_to_fen is None
    with pytest.raises(ProtectionError, match="no payout rules are recorded before 2004-10-01"):
        payout_rules(dt.date(2004, 9, 30))


def test_unknown_key_names_file_and_key():
    text, origin = read_data("failed_firm_payout")
    text = text.replace("share_above_bp = 9000", "share_above_bp = 9000\ncap_fen = 1", 1)
    where = "failed_firm_payout.toml: period 1: individual_debt: cap_fen"
    with pytest.raises(ProtectionDataError, match=where):
        parse_payout_rules(text, origin)


def test_threshold_without_share_is_an_error():
    text, origin = read_data("failed_firm_payout")
    text = text.replace("share_above_bp = 9000", "", 1)
    with pytest.raises(ProtectionDataError, match="share_above_bp"):
        parse_payout_rules(text, origin)


def test_a_later_policy_is_a_new_period():
    text, origin = read_data("failed_firm_payout")
    later = text[text.index("\n[[period]]"):].replace("2004-10-01", "2030-01-01", 1) \
        .replace("10_000_000", "20_000_000", 1)
    periods = parse_payout_rules(text + "\n" + later, origin)
    assert [p.effective for p in periods] == [dt.date(2004, 10, 1), dt.date(2030, 1, 1)]
    new = periods[1]
    claim = RegisteredClaim("a", DEBT, 25_000_000, 0, "A1")
    assert compensate([claim], new).paid_fen == 20_000_000 + 4_500_000
    assert compensate([claim], periods[0]).paid_fen == 10_000_000 + 13_500_000


claim_sets = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from([CASH, DEBT]),
                                st.integers(0, 3 * THRESHOLD_FEN), st.integers(0, 10**6)), max_size=12)


@given(claim_sets)
def test_payout_reconciles_and_matches_reference_per_claimant(rows):
    claims = [RegisteredClaim(who, cat, principal, interest, f"R{i}")
              for i, (who, cat, principal, interest) in enumerate(rows)]
    payout = compensate(claims)
    assert payout.claimed_fen == payout.paid_fen + payout.not_paid_fen
    assert payout.claimed_fen == sum(c.principal_fen + c.interest_fen for c in claims)
    for comp in payout.compensations:
        principal = sum(c.principal_fen for c in claims
                        if (c.claimant_id, c.category) == (comp.claimant_id, comp.category))
        assert comp.eligible_fen == principal
        expected = principal if comp.category == CASH else reference_paid_fen(principal)
        assert comp.paid_fen == expected
