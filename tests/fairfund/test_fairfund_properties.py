"""Fair fund distribution: properties that hold for any plan, claims and money."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from redress.fairfund import (
    CARRIED_FORWARD,
    Eligible,
    FairFundPlan,
    cumulative_payments,
    distribute,
    net_claims,
    rounds,
)

IDS = st.text(alphabet="ABCDEFGHJK0123456789", min_size=1, max_size=4)
FEN = st.one_of(st.integers(0, 300), st.integers(0, 10**9))


@st.composite
def eligible_lists(draw):
    ids = draw(st.lists(IDS, min_size=1, max_size=8, unique=True))
    out = []
    for inv in ids:
        loss = draw(FEN)
        advance = draw(st.one_of(st.just(0), st.integers(0, loss + 100)))
        out.append(Eligible(inv, loss, advance))
    return out


PLANS = st.builds(FairFundPlan, minimum_payment_fen=st.one_of(st.just(0), st.integers(0, 500),
                                                              st.integers(0, 10**6)),
                  residual_to=st.just("investor protection fund"), redistribute_below_minimum=st.booleans())
MONEY = st.one_of(st.integers(0, 1_000), st.integers(0, 10**10))
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(PLANS, eligible_lists(), MONEY)
def test_every_round_reconciles_exactly_and_respects_claims_and_minimum(plan, eligible, available):
    r = distribute(plan, eligible, available)
    claims = net_claims(eligible)
    assert sum(r.payments.values()) + r.residual_fen == available
    assert r.residual_fen >= 0
    for inv, paid in r.payments.items():
        assert 0 <= paid <= claims[inv]
        assert paid == 0 or paid >= plan.minimum_payment_fen
    if plan.redistribute_below_minimum and r.residual_fen:
        # money is left over only once everyone still in the round is paid in full
        assert all(r.remaining_after_fen[inv] == 0 for inv, paid in r.payments.items() if paid)


@FAST
@given(PLANS, eligible_lists(), MONEY, st.randoms(use_true_random=False))
def test_the_order_of_investors_does_not_matter(plan, eligible, available, rnd):
    shuffled = list(eligible)
    rnd.shuffle(shuffled)
    assert distribute(plan, eligible, available) == distribute(plan, shuffled, available)


@FAST
@given(PLANS, eligible_lists(), MONEY, MONEY)
def test_more_money_never_pays_less_in_total(plan, eligible, available, extra):
    less = distribute(plan, eligible, available)
    more = distribute(plan, eligible, available + extra)
    assert more.paid_fen >= less.paid_fen


@FAST
@given(PLANS, eligible_lists(), st.lists(MONEY, min_size=1, max_size=4))
def test_rounds_top_up_never_exceed_net_claims_and_account_for_every_fen(plan, eligible, inflows):
    history = rounds(plan, eligible, inflows)
    claims = net_claims(eligible)
    cumulative = {inv: 0 for inv in claims}
    carried = sent_to_residual = 0
    for r in history:
        assert r.carried_in_fen == carried
        assert r.available_fen == carried + r.inflow_fen
        assert r.paid_fen + r.residual_fen == r.available_fen
        for inv, paid in r.payments.items():
            before = cumulative[inv]
            cumulative[inv] += paid
            assert cumulative[inv] >= before                 # a later round never takes anything back
            assert cumulative[inv] <= claims[inv]            # nor pays beyond the net claim
            assert r.remaining_after_fen[inv] == claims[inv] - cumulative[inv]
        if r.residual_destination == CARRIED_FORWARD:
            carried = r.residual_fen
        else:
            carried, sent_to_residual = 0, sent_to_residual + r.residual_fen
    assert cumulative == cumulative_payments(history)
    assert sum(inflows) == sum(cumulative.values()) + sent_to_residual + carried


@FAST
@given(PLANS, eligible_lists(), st.lists(MONEY, min_size=1, max_size=3))
def test_residual_leaves_the_fund_only_when_no_remaining_claim_can_be_paid(plan, eligible, inflows):
    smallest_payment = max(plan.minimum_payment_fen, 1)
    for r in rounds(plan, eligible, inflows):
        payable = [inv for inv, due in r.remaining_after_fen.items() if due >= smallest_payment]
        assert (r.residual_destination == CARRIED_FORWARD) == bool(payable)
        assert r.residual_destination in (CARRIED_FORWARD, plan.residual_to)
