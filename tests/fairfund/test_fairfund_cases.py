"""Fair fund distribution: readable cases, computed by hand.  Amounts in fen (100 fen = 1 yuan)."""

from __future__ import annotations

import pytest

from redress.fairfund import (
    CARRIED_FORWARD,
    Eligible,
    FairFundError,
    FairFundPlan,
    Source,
    cumulative_payments,
    distribute,
    fund_total_fen,
    net_claims,
    rounds,
)

TO_PROTECTION_FUND = FairFundPlan(minimum_payment_fen=0, residual_to="investor protection fund")


def test_the_fund_is_fed_by_fines_confiscations_and_settlements():
    sources = [
        Source("fine", 60_000_000, "CSRC decision [2023] No. 12, fine"),
        Source("confiscation", 25_000_000, "CSRC decision [2023] No. 12, illegal gains"),
        Source("settlement", 15_000_000, "administrative settlement agreement 2023-01"),
    ]
    assert fund_total_fen(sources) == 100_000_000
    with pytest.raises(FairFundError, match="use one of"):
        Source("donation", 1, "x")
    with pytest.raises(FairFundError, match="integer number of fen"):
        Source("fine", 10.5, "x")


def test_full_payment_leaves_a_residual_that_goes_to_the_plans_destination():
    eligible = [Eligible("A", 100_000), Eligible("B", 50_000)]
    r = distribute(TO_PROTECTION_FUND, eligible, 200_000)
    assert dict(r.payments) == {"A": 100_000, "B": 50_000}
    assert r.residual_fen == 50_000
    assert r.residual_destination == "investor protection fund"   # nobody is owed anything any more
    assert not r.fund_short
    assert r.paid_fen + r.residual_fen == r.available_fen


def test_a_short_fund_is_shared_pro_rata_to_the_fen():
    # claims 1000 / 2000 / 4000 fen, 1000 fen available: exact shares 142 6/7, 285 5/7, 571 3/7.
    # Floors 142 + 285 + 571 = 998; the 2 fen left go to the largest remainders (A 6/7, B 5/7).
    eligible = [Eligible("A", 1_000), Eligible("B", 2_000), Eligible("C", 4_000)]
    r = distribute(TO_PROTECTION_FUND, eligible, 1_000)
    assert dict(r.payments) == {"A": 143, "B": 286, "C": 571}
    assert r.residual_fen == 0
    assert r.fund_short
    assert dict(r.remaining_after_fen) == {"A": 857, "B": 1_714, "C": 3_429}
    assert r.residual_destination == CARRIED_FORWARD


def test_advance_compensation_is_netted_so_nobody_recovers_twice():
    eligible = [
        Eligible("A", loss_fen=10_000, advance_paid_fen=10_000),   # compensated in full already
        Eligible("B", loss_fen=10_000, advance_paid_fen=4_000),    # 6000 still due
        Eligible("C", loss_fen=5_000, advance_paid_fen=8_000),     # paid more than the loss: floored at 0
    ]
    claims = net_claims(eligible)
    assert dict(claims) == {"A": 0, "B": 6_000, "C": 0}
    assert "already compensated in full" in claims.explain("A")
    assert "floored at 0" in claims.explain("C")
    r = distribute(TO_PROTECTION_FUND, eligible, 10_000)
    assert dict(r.payments) == {"A": 0, "B": 6_000, "C": 0}
    assert r.residual_fen == 4_000
    assert r.residual_destination == "investor protection fund"
    assert "nothing due" in r.explain("A")


def test_de_minimis_shares_are_redistributed_to_the_others():
    # claims 100000 / 50000 / 300, 15030 available: exact shares 10000, 5000 and 30 (< 100 minimum).
    # C gets nothing; 15030 is shared by A and B alone: 10020 and 5010.
    plan = FairFundPlan(minimum_payment_fen=100, residual_to="treasury")
    eligible = [Eligible("A", 100_000), Eligible("B", 50_000), Eligible("C", 300)]
    r = distribute(plan, eligible, 15_030)
    assert dict(r.payments) == {"A": 10_020, "B": 5_010, "C": 0}
    assert r.below_minimum == ("C",)
    assert r.residual_fen == 0
    assert r.de_minimis_passes == 2
    assert "below the minimum" in r.explain("C")


def test_de_minimis_shares_withheld_when_the_plan_does_not_redistribute():
    plan = FairFundPlan(minimum_payment_fen=100, residual_to="treasury", redistribute_below_minimum=False)
    eligible = [Eligible("A", 100_000), Eligible("B", 50_000), Eligible("C", 300)]
    r = distribute(plan, eligible, 15_030)
    assert dict(r.payments) == {"A": 10_000, "B": 5_000, "C": 0}
    assert r.withheld_below_minimum_fen == 30
    assert r.residual_fen == 30
    assert r.residual_destination == CARRIED_FORWARD      # C's 300 fen could still be paid in a later round


def test_a_claim_smaller_than_the_minimum_is_never_paid_and_its_money_goes_to_the_residual():
    plan = FairFundPlan(minimum_payment_fen=100, residual_to="treasury")
    r = distribute(plan, [Eligible("A", 5_000), Eligible("B", 99)], 10_000)
    assert dict(r.payments) == {"A": 5_000, "B": 0}
    assert r.below_minimum == ("B",)
    assert r.residual_fen == 5_000
    assert r.residual_destination == "treasury"           # B's 99 fen can never reach the minimum


def test_two_rounds_top_up_towards_the_net_loss_without_exceeding_it():
    # Net claims A 6000, B 4000.  Round 1: 5000 fen, half of everything due.  Round 2: 8000 fen,
    # pays the remaining 3000 + 2000 in full and sends 3000 to the plan's destination.
    eligible = [Eligible("A", 8_000, advance_paid_fen=2_000), Eligible("B", 4_000)]
    first, second = rounds(TO_PROTECTION_FUND, eligible, [5_000, 8_000])
    assert dict(first.payments) == {"A": 3_000, "B": 2_000}
    assert first.residual_fen == 0
    assert dict(second.payments) == {"A": 3_000, "B": 2_000}
    assert second.residual_fen == 3_000
    assert second.residual_destination == "investor protection fund"
    assert cumulative_payments([first, second]) == {"A": 6_000, "B": 4_000}


def test_a_residual_is_carried_into_the_next_round_while_someone_can_still_be_paid():
    # Round 1: 200 fen for claims A 100, B 150 with a 100 fen minimum.  A's exact share is 80: left out.
    # B alone is paid 150 in full; 50 fen are carried forward because A is still owed 100.
    # Round 2: 50 new fen + 50 carried = 100 = A's claim, paid in full; nothing is left.
    plan = FairFundPlan(minimum_payment_fen=100, residual_to="treasury")
    first, second = rounds(plan, [Eligible("A", 100), Eligible("B", 150)], [200, 50])
    assert dict(first.payments) == {"A": 0, "B": 150}
    assert (first.residual_fen, first.residual_destination) == (50, CARRIED_FORWARD)
    assert (second.carried_in_fen, second.inflow_fen, second.available_fen) == (50, 50, 100)
    assert dict(second.payments) == {"A": 100, "B": 0}
    assert second.residual_fen == 0


def test_once_everyone_is_paid_later_money_goes_straight_to_the_residual_destination():
    plan = FairFundPlan(minimum_payment_fen=0, residual_to="treasury")
    history = rounds(plan, [Eligible("A", 1_000)], [1_000, 700])
    assert dict(history[1].payments) == {"A": 0}
    assert (history[1].carried_in_fen, history[1].residual_fen) == (0, 700)
    assert history[1].residual_destination == "treasury"


def test_errors_say_what_to_do():
    with pytest.raises(FairFundError, match="merge the losses"):
        net_claims([Eligible("A", 1), Eligible("A", 2)])
    with pytest.raises(FairFundError, match="record the overpayment"):
        distribute(TO_PROTECTION_FUND, [Eligible("A", 100)], 10, {"A": 101})
    with pytest.raises(FairFundError, match="not eligible"):
        distribute(TO_PROTECTION_FUND, [Eligible("A", 100)], 10, {"Z": 1})
    with pytest.raises(FairFundError, match="must not be negative"):
        distribute(TO_PROTECTION_FUND, [Eligible("A", 100)], -1)
    with pytest.raises(FairFundError, match="residual_to"):
        FairFundPlan(minimum_payment_fen=0, residual_to=" ")
