"""Recourse after advance compensation, computed by hand (amounts in fen; 100 fen = 1 yuan).

Each case reads like a small judgment: who paid, the internal shares of fault, who is bankrupt, and what the
payer may claim from whom.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from redress.recovery import (
    ClaimBasis,
    LiableParty,
    Payment,
    RecourseError,
    apply_recoveries,
    recourse_claims,
)


def party(party_id: str, kind: str, share_bp: int, rate_bp: int | None = None) -> LiableParty:
    """A liable party; ``rate_bp`` given means it is bankrupt and pays that recovery rate."""
    if rate_bp is None:
        return LiableParty(party_id, party_id.title(), kind, share_bp)
    return LiableParty(party_id, party_id.title(), kind, share_bp, solvent=False, recovery_rate_bp=rate_bp)


def claims_of(plan, payer_id):
    return {c.against_party_id: (c.amount_fen, c.expected_fen) for c in plan.payer(payer_id).claims}


def test_payer_with_no_fault_recovers_everything():
    # the sponsor was found not at fault; issuer 70%, controlling shareholder 20%, auditor 10%
    parties = [party("issuer", "issuer", 7000), party("holder", "controlling_shareholder", 2000),
               party("auditor", "auditor", 1000)]
    plan = recourse_claims([Payment("sponsor", 10_000_000)], parties, {"sponsor": None})
    sponsor = plan.payer("sponsor")
    assert (sponsor.own_share_fen, sponsor.recoverable_fen, sponsor.unrecoverable_fen) == (0, 10_000_000, 0)
    assert claims_of(plan, "sponsor") == {"issuer": (7_000_000, 7_000_000), "holder": (2_000_000, 2_000_000),
                                          "auditor": (1_000_000, 1_000_000)}
    assert {c.basis for c in sponsor.claims} == {ClaimBasis.FAULT_SHARE}
    assert plan.burden("issuer").total_fen == 7_000_000


def test_payer_at_20_percent_fault_bears_its_share_and_recovers_the_rest():
    parties = [party("issuer", "issuer", 6000), party("sponsor", "sponsor", 2000),
               party("auditor", "auditor", 1500), party("lawfirm", "law_firm", 500)]
    plan = recourse_claims([Payment("sponsor", 10_000_000)], parties, {"sponsor": "sponsor"})
    sponsor = plan.payer("sponsor")
    assert sponsor.own_share_fen == 2_000_000
    assert sponsor.recoverable_fen == 8_000_000
    assert claims_of(plan, "sponsor") == {"issuer": (6_000_000, 6_000_000), "auditor": (1_500_000, 1_500_000),
                                          "lawfirm": (500_000, 500_000)}


def test_bankrupt_issuer_at_5_percent_shortfall_reallocated_to_solvent_parties():
    # shares 60/30/10; the issuer (60%) is bankrupt and pays a 5% dividend; the sponsor (10%) paid 10,000 yuan
    # issuer: claim 600,000, dividend 30,000, shortfall 570,000 -> controller and sponsor in proportion 30:10
    parties = [party("issuer", "issuer", 6000, rate_bp=500), party("holder", "controlling_shareholder", 3000),
               party("sponsor", "sponsor", 1000)]
    plan = recourse_claims([Payment("sponsor", 1_000_000)], parties, {"sponsor": "sponsor"})
    sponsor = plan.payer("sponsor")
    assert sponsor.shortfall_share == Fraction(57, 100)
    assert sponsor.own_share_fen == 100_000 + 142_500
    assert claims_of(plan, "sponsor") == {"issuer": (600_000, 30_000), "holder": (300_000 + 427_500,) * 2}
    assert plan.payer("sponsor").claim_against("issuer").basis is ClaimBasis.BANKRUPTCY_DIVIDEND
    assert plan.payer("sponsor").claim_against("holder").basis is ClaimBasis.FAULT_SHARE_AND_REALLOCATION
    assert (plan.burden("holder").total_fen, plan.burden("issuer").total_fen) == (727_500, 30_000)
    assert plan.unrecoverable_fen == 0


def test_two_payers_paying_different_amounts():
    # issuer 70% bankrupt at 10%; sponsor 20% paid 9,000 yuan; auditor 10% paid 3,000 yuan.
    # shortfall 70% x 90% = 63% -> sponsor 42%, auditor 21%; effective shares 62% / 31% / issuer 7%
    parties = [party("issuer", "issuer", 7000, rate_bp=1000), party("sponsor", "sponsor", 2000),
               party("auditor", "auditor", 1000)]
    paid = [Payment("sponsor", 900_000), Payment("auditor", 200_000), Payment("auditor", 100_000)]
    plan = recourse_claims(paid, parties, {"sponsor": "sponsor", "auditor": "auditor"})
    assert plan.payer("sponsor").own_share_fen == 558_000
    assert claims_of(plan, "sponsor") == {"auditor": (279_000, 279_000), "issuer": (630_000, 63_000)}
    assert plan.payer("auditor").paid_fen == 300_000
    assert plan.payer("auditor").own_share_fen == 93_000
    assert claims_of(plan, "auditor") == {"sponsor": (186_000, 186_000), "issuer": (210_000, 21_000)}
    # what each party ultimately bears, over both payments: its effective share of 12,000 yuan
    assert [(b.party_id, b.total_fen) for b in plan.burdens] == [
        ("auditor", 372_000), ("issuer", 84_000), ("sponsor", 744_000)]

    # the bankruptcy pays the dividend: 84,000 split 630,000 : 210,000 between the two payers
    got = apply_recoveries(plan, [("issuer", 84_000)])
    assert (got.received_fen("sponsor"), got.received_fen("auditor"), got.excess) == (63_000, 21_000, ())
    # a dividend larger than all claims never overpays them; the rest is the issuer's excess
    got = apply_recoveries(plan, [("issuer", 800_000), ("issuer", 100_000)])
    assert [(r.payer_id, r.amount_fen) for r in got.receipts] == [("auditor", 210_000), ("sponsor", 630_000)]
    assert got.excess == (("issuer", 60_000),)


def test_every_party_bankrupt_and_no_fault_payer_leaves_an_unrecoverable_loss():
    parties = [party("issuer", "issuer", 8000, rate_bp=2500), party("holder", "controlling_shareholder", 2000,
                                                                     rate_bp=0)]
    plan = recourse_claims([Payment("sponsor", 1_000_000)], parties, {"sponsor": None})
    sponsor = plan.payer("sponsor")
    assert sponsor.own_share_fen == 0
    assert (sponsor.recoverable_fen, sponsor.unrecoverable_fen) == (200_000, 800_000)
    assert claims_of(plan, "sponsor") == {"issuer": (800_000, 200_000), "holder": (200_000, 0)}


def test_thirds_are_split_to_the_fen_by_largest_remainder():
    parties = [LiableParty(k, k, "other", Fraction(1, 3)) for k in ("a", "b", "c")]
    plan = recourse_claims([Payment("fund", 100)], parties, {"fund": None})
    assert claims_of(plan, "fund") == {"a": (34, 34), "b": (33, 33), "c": (33, 33)}


def test_explain_names_party_share_amount_and_rule():
    parties = [party("issuer", "issuer", 6000, rate_bp=500), party("holder", "controlling_shareholder", 3000),
               party("sponsor", "sponsor", 1000)]
    plan = recourse_claims([Payment("sponsor", 1_000_000)], parties, {"sponsor": "sponsor"})
    text = plan.explain()
    assert "sponsor / issuer claim: 60% 6,000.00 yuan" in text
    assert "sponsor / issuer expected: 3% 300.00 yuan (recovery rate 500 bp" in text
    assert "Art. 519(2)" in text and "Art. 93" in text
    assert "total paid 10,000.00 yuan = borne 10,000.00 yuan + unrecoverable 0.00 yuan" in text
    assert all(line.rule for line in plan.lines)


@pytest.mark.parametrize("make, field", [
    (lambda: recourse_claims([Payment("s", 1)], [party("a", "issuer", 6000), party("b", "auditor", 3000)],
                             {"s": None}), "parties.fault_share"),
    (lambda: Payment("s", -1), "payment of s.paid_fen"),
    (lambda: recourse_claims([Payment("s", 1)], [party("a", "issuer", 10000)], {"s": "zz"}),
     "payer_party['s']"),
    (lambda: recourse_claims([Payment("s", 1)], [party("a", "issuer", 10000)], {}), "payer_party['s']"),
    (lambda: recourse_claims([Payment("s", 1)], [party("a", "issuer", 10000)], {"s": None, "t": None}),
     "payer_party['t']"),
    (lambda: recourse_claims([Payment("s", 1)], [party("a", "issuer", 5000), party("a", "issuer", 5000)],
                             {"s": None}), "parties[1].party_id"),
    (lambda: LiableParty("a", "A", "issuer", 0.5), "party a.fault_share"),
    (lambda: LiableParty("a", "A", "bank", 5000), "party a.kind"),
    (lambda: LiableParty("a", "A", "issuer", 5000, recovery_rate_bp=500), "party a.recovery_rate_bp"),
    (lambda: apply_recoveries(recourse_claims([Payment("s", 1)], [party("a", "issuer", 10000)], {"s": None}),
                              [("zz", 1)]), "recovered[0].party_id"),
])
def test_bad_input_names_the_field(make, field):
    with pytest.raises(RecourseError) as err:
        make()
    assert err.value.field == field
    assert isinstance(err.value, ValueError)


def test_bankrupt_payer_still_bears_its_own_share_and_takes_part_of_the_shortfall():
    # the issuer (50%) paid 4,000 yuan and then went bankrupt; the controller (30%) is bankrupt at 0%;
    # the auditor (20%) is solvent. The controller's 30% is reallocated to the issuer and the auditor 50:20.
    parties = [party("issuer", "issuer", 5000, rate_bp=1000),
               party("holder", "controlling_shareholder", 3000, rate_bp=0),
               party("auditor", "auditor", 2000)]
    plan = recourse_claims([Payment("issuer", 400_000)], parties, {"issuer": "issuer"})
    issuer = plan.payer("issuer")
    assert issuer.own_effective_share == Fraction(1, 2) + Fraction(3, 10) * Fraction(5, 7)
    assert issuer.own_share_fen == 285_714            # 400,000 x 5/7 = 285,714.29, half up
    assert claims_of(plan, "issuer") == {"auditor": (114_286, 114_286), "holder": (120_000, 0)}
