"""Properties of the recourse plan: exact to the fen, independent of input order, nobody bears more than its
reallocated share, and paying more never means recovering less."""

from __future__ import annotations

import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from redress.recovery import LiableParty, Payment, apply_recoveries, recourse_claims

PARTY_IDS = ["issuer", "holder", "director", "sponsor", "auditor", "lawfirm"]


@st.composite
def cases(draw):
    """Liable parties with shares summing to 100%, some bankrupt, and one to three payers."""
    n = draw(st.integers(1, len(PARTY_IDS)))
    ids = PARTY_IDS[:n]
    weights = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n).filter(lambda w: sum(w) > 0))
    parties = []
    for k, w in zip(ids, weights):
        solvent = draw(st.booleans())
        rates = st.one_of(st.integers(0, 10_000), st.sampled_from([0, 500, 10_000]))
        rate = 10_000 if solvent else draw(rates)
        parties.append(LiableParty(k, k.title(), "other", Fraction(w, sum(weights)), solvent, rate))
    payer_ids = draw(st.lists(st.sampled_from(["p1", "p2", "p3"]), min_size=1, max_size=3, unique=True))
    payer_party = {p: draw(st.one_of(st.none(), st.sampled_from(ids))) for p in payer_ids}
    amounts = st.one_of(st.integers(0, 10**12), st.integers(0, 1000))
    payments = [Payment(p, draw(amounts)) for p in payer_ids for _ in range(draw(st.integers(1, 2)))]
    return payments, parties, payer_party


@settings(max_examples=200, deadline=None)
@given(cases())
def test_reconciles_exactly_to_the_fen(case):
    payments, parties, payer_party = case
    plan = recourse_claims(payments, parties, payer_party)
    plan.check()
    assert plan.paid_fen == sum(p.paid_fen for p in payments)
    for p in plan.payers:
        assert p.paid_fen == p.own_share_fen + p.recoverable_fen + p.unrecoverable_fen
        assert all(0 <= c.expected_fen <= c.amount_fen for c in p.claims)
    assert plan.paid_fen == sum(b.total_fen for b in plan.burdens) + plan.unrecoverable_fen
    assert sum(b.exact_fen for b in plan.burdens) + sum(p.unrecoverable_share * p.paid_fen
                                                        for p in plan.payers) == plan.paid_fen


@settings(max_examples=100, deadline=None)
@given(cases(), st.randoms(use_true_random=False))
def test_independent_of_input_order(case, rnd):
    payments, parties, payer_party = case
    shuffled = [list(payments), list(parties), list(payer_party.items())]
    for items in shuffled:
        rnd.shuffle(items)
    assert recourse_claims(shuffled[0], shuffled[1], dict(shuffled[2])) == recourse_claims(
        payments, parties, payer_party)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_no_party_bears_more_than_its_reallocated_share(case):
    payments, parties, payer_party = case
    plan = recourse_claims(payments, parties, payer_party)
    n_payers = len(plan.payers)
    by_id = {p.party_id: p for p in plan.parties}
    for b in plan.burdens:
        # within a fen or two per payer of its exact effective share of what was paid
        assert abs(b.total_fen - b.exact_fen) <= 2 * n_payers
        party = by_id[b.party_id]
        if not party.solvent:
            # what the payers expect from a bankrupt party is at most the dividend on the claims against it
            for c in plan.claims_against(b.party_id):
                assert c.expected_fen <= c.amount_fen
                assert c.effective_share == party.fault_share * party.recovery_rate


@settings(max_examples=200, deadline=None)
@given(cases(), st.integers(0, 10**9), st.data())
def test_more_paid_never_means_less_recoverable(case, extra_fen, data):
    payments, parties, payer_party = case
    plan = recourse_claims(payments, parties, payer_party)
    payer_id = data.draw(st.sampled_from(sorted(payer_party)))
    more = recourse_claims(payments + [Payment(payer_id, extra_fen)], parties, payer_party)
    assert more.payer(payer_id).recoverable_fen >= plan.payer(payer_id).recoverable_fen
    assert more.recoverable_fen >= plan.recoverable_fen
    # one fen more at a time, too
    one = recourse_claims(payments + [Payment(payer_id, 1)], parties, payer_party)
    assert one.payer(payer_id).recoverable_fen >= plan.payer(payer_id).recoverable_fen


@settings(max_examples=200, deadline=None)
@given(cases(), st.data())
def test_recoveries_never_overpay_a_claim_and_add_up(case, data):
    payments, parties, payer_party = case
    plan = recourse_claims(payments, parties, payer_party)
    ids = [p.party_id for p in plan.parties]
    recovered = data.draw(st.lists(st.tuples(st.sampled_from(ids), st.integers(0, 10**12)), max_size=6))
    got = apply_recoveries(plan, recovered)
    assert got.total_fen == sum(fen for _k, fen in recovered)
    for r in got.receipts:
        assert 0 <= r.amount_fen <= r.claim_fen
    for k, fen in got.excess:
        claimed_fen = sum(c.amount_fen for c in plan.claims_against(k))
        assert fen == sum(f for j, f in recovered if j == k) - claimed_fen
    assert apply_recoveries(plan, random.Random(0).sample(recovered, len(recovered))) == got
