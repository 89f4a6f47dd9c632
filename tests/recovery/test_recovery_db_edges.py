"""Edges of the administered recourse on both databases, every amount checked to the fen against a hand
computation (largest remainder and half-up rounding done by hand below, not by the code under test):

* an insolvent party: the claim filed is its fault share, the expected recovery the dividend, its shortfall
  reallocated to the solvent parties and the payer's own party; dividends passed on in proportion to claims;
* the take-back refusal when the plan changed after a recovery was passed on (a payer's top-up and a late
  window change the payers' proportions), changing nothing, and the recovery that then is large enough;
* a payer that is itself liable bears its own share (rounded half up), a no-fault payer recovers in full;
* caps and retries by reference."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from redress.admin import claims, fund, payments, recovery
from redress.admin.errors import AdminError, NotFound
from redress.store import audit
from redress.store.models import AuditEvent, LedgerEntry
from support.admin import open_case

D = dt.date
# INV03 does not answer (lapses at the deadline), INV04 declines; the others accept and are paid
OFFERS = {"INV00": 400_00, "INV01": 300_01, "INV02": 300_02, "INV03": 200_00, "INV04": 100_00}
PAID = 400_00 + 300_01 + 300_02        # 100003 fen actually paid
# contributions 3:1 -> 100003 * 3/4 = 75002.25 and 100003 / 4 = 25000.75: floors 75002 + 25000, the fen
# left goes to the larger remainder (law, .75)
SPONSOR_PAID, LAW_PAID = 75002, 25001


def _pay(w, on: dt.date, name: str) -> None:
    rows = w.export(w.pay_batch(on))
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, w.results_file(
            name, [(r[0], "paid", r[4], on.isoformat(), "") for r in rows]))


def _paid_case(db, tmp_path):
    """claims_closed: INV00..INV02 accepted and paid, INV03 lapsed, INV04 declined; payers sponsor:law 3:1."""
    w = open_case(db, tmp_path, OFFERS, contributions={"sponsor": 300_000_00, "law": 100_000_00})
    w.decide(w.decision("INV00"), w.decision("INV01"), w.decision("INV02"), w.decision("INV04", "decline"))
    _pay(w, D(2023, 2, 15), "r1.csv")
    with w.tx() as s:
        claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        assert recovery.paid_by_payer(s, w.case_id) == {"sponsor": SPONSOR_PAID, "law": LAW_PAID}
    return w


def _state(s, case_id):
    """Everything a refused operation must leave as it was."""
    return (s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.case_id == case_id)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
            fund.balances(s, case_id),
            recovery.received_by_payer(s, case_id),
            [(p.party_id, p.fault_share_bp, p.payer_id) for p in recovery.parties(s, case_id)])


def _books_ok(s, case_id, st0):
    bal = fund.balances(s, case_id)
    assert sum(bal.values()) == 0
    assert fund.trial(s, case_id).balanced and not fund.check_ledger(s, case_id)
    assert fund.statement(s, case_id) == st0       # memorandum accounts only: the fund is untouched
    assert audit.verify(s).ok
    return bal


def _claims(rp, party_id):
    return {c.payer_id: (c.amount_fen, c.expected_fen) for c in rp.claims_against(party_id)}


# -- a. an insolvent party -----------------------------------------------------------------------------------

def test_insolvent_party_claim_dividend_reallocation_and_recoveries(db, tmp_path):
    w = _paid_case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        st0 = fund.statement(s, cid)
        recovery.add_party(s, "alice", cid, "issuer", "Issuer", "issuer", 5000, solvent=False,
                           recovery_rate_bp=1000)
        recovery.add_party(s, "alice", cid, "auditor", "Auditor", "auditor", 3000)
        recovery.add_party(s, "alice", cid, "sponsor", "Sponsor", "sponsor", 2000, payer_id="sponsor")

    # The issuer (50%) pays a 10% dividend: shortfall 50% x 90% = 45%, reallocated over the solvent auditor
    # (30%) and the sponsor (20%, solvent, and the sponsor payer's own party) in proportion 30:20.
    # Effective shares, for either payer: issuer 5%, auditor 30% + 27% = 57%, sponsor 20% + 18% = 38%.
    eff = {"issuer": Fraction(5, 100), "auditor": Fraction(57, 100), "sponsor": Fraction(38, 100)}
    assert sum(eff.values()) == 1
    assert eff["auditor"] == Fraction(3, 10) + Fraction(45, 100) * Fraction(3, 5)
    # law (no fault), 25001 fen: 25001 x 5% = 1250.05, x 57% = 14250.57, x 38% = 9500.38; floors sum to
    # 25000, the last fen to the largest remainder (auditor .57)
    law_expected = {"issuer": 1250, "auditor": 14251, "sponsor": 9500}
    assert sum(law_expected.values()) == LAW_PAID
    # sponsor, 75002 fen: own 38% = 28500.76 -> 28501 (half up); the rest 46501 over issuer:auditor 5:57:
    # 3750.08 and 42750.92 -> floors 3750 + 42750, the last fen to auditor
    sponsor_own = 28501
    assert sponsor_own == int(eff["sponsor"] * SPONSOR_PAID + Fraction(1, 2))
    sponsor_expected = {"issuer": 3750, "auditor": 42751}
    assert sponsor_own + sum(sponsor_expected.values()) == SPONSOR_PAID
    # the claim filed against the insolvent issuer is its fault share of each payment, rounded up
    law_claim_issuer, sponsor_claim_issuer = 12501, 37501         # 25001/2 = 12500.5, 75002/2 = 37501
    claim_issuer = law_claim_issuer + sponsor_claim_issuer          # 50002
    with w.tx() as s:
        rp = recovery.plan(s, cid)
        assert rp.payer("law").own_share_fen == 0 and rp.payer("law").unrecoverable_fen == 0
        assert rp.payer("law").recoverable_fen == LAW_PAID
        assert rp.payer("sponsor").own_share_fen == sponsor_own and rp.payer("sponsor").unrecoverable_fen == 0
        assert rp.payer("sponsor").recoverable_fen == SPONSOR_PAID - sponsor_own
        assert _claims(rp, "issuer") == {"law": (law_claim_issuer, 1250), "sponsor": (sponsor_claim_issuer, 3750)}
        assert _claims(rp, "auditor") == {"law": (14251, 14251), "sponsor": (42751, 42751)}
        assert _claims(rp, "sponsor") == {"law": (9500, 9500)}      # the sponsor payer never claims from itself
        assert rp.payer("sponsor").claim_against("sponsor") is None
        # the auditor bears far more than its own 30% because of the reallocation
        assert 14251 > LAW_PAID * Fraction(3, 10) + 1

        rep = {r.party_id: r for r in recovery.report(s, cid)}
        assert [(r.claim_fen, r.expected_fen, r.recovered_fen, r.outstanding_fen, r.expected_outstanding_fen,
                 r.solvent) for r in (rep["issuer"], rep["auditor"], rep["sponsor"])] == [
            (claim_issuer, 5000, 0, claim_issuer, 5000, False),
            (57002, 57002, 0, 57002, 57002, True),
            (9500, 9500, 0, 9500, 9500, True)]
        recovery.record_action(s, "alice", cid, "issuer", "bankruptcy_claim", D(2023, 4, 1), claim_issuer, "BK-1")

    # the bankruptcy dividend, 5000 fen, split 12501:37501 (of 50002): 1250.04.. and 3749.95.. -> floors
    # 1250 + 3749, the last fen to the sponsor (remainder .95)
    with w.tx() as s:
        recovery.record_recovery(s, "alice", cid, "issuer", 5000, D(2023, 6, 1), "DIV-1")
    with w.tx() as s:
        assert recovery.received_by_payer(s, cid) == {"law": 1250, "sponsor": 3750}
        bal = _books_ok(s, cid, st0)
        assert (bal["recovered:issuer"], bal["recovery_paid:law"], bal["recovery_paid:sponsor"]) == (-5000, 1250, 3750)
        entry = next(e for e in fund.entries(s, cid) if e.key == "recovery:DIV-1")
        assert entry.kind == "recovery" and entry.booked_on == D(2023, 6, 1)
        assert sorted((p.account, p.amount_fen) for p in entry.postings) == [
            ("recovered:issuer", -5000), ("recovery_paid:law", 1250), ("recovery_paid:sponsor", 3750)]
        rep = {r.party_id: r for r in recovery.report(s, cid)}
        assert (rep["issuer"].recovered_fen, rep["issuer"].outstanding_fen,
                rep["issuer"].expected_outstanding_fen) == (5000, claim_issuer - 5000, 0)
        assert (rep["issuer"].latest_stage, rep["issuer"].latest_on) == ("bankruptcy_claim", D(2023, 4, 1))

    # more than the dividend may still come in, up to the claim filed (50002), never beyond it
    with w.tx() as s:
        before = _state(s, cid)
        with pytest.raises(AdminError, match=r"more than the 500\.02 yuan.*at most 450\.02 yuan more"):
            recovery.record_recovery(s, "alice", cid, "issuer", claim_issuer - 5000 + 1, D(2023, 7, 1), "DIV-2")
    with w.tx() as s:
        assert _state(s, cid) == before
        recovery.record_recovery(s, "alice", cid, "issuer", claim_issuer - 5000, D(2023, 7, 1), "DIV-2")
    with w.tx() as s:
        # everything claimed is recovered: each payer has exactly its claim; the second entry books the rest
        assert recovery.received_by_payer(s, cid) == {"law": law_claim_issuer, "sponsor": sponsor_claim_issuer}
        entry = next(e for e in fund.entries(s, cid) if e.key == "recovery:DIV-2")
        assert sorted((p.account, p.amount_fen) for p in entry.postings) == [
            ("recovered:issuer", -45002), ("recovery_paid:law", 12501 - 1250),
            ("recovery_paid:sponsor", 37501 - 3750)]
        _books_ok(s, cid, st0)
        before = _state(s, cid)
        with pytest.raises(AdminError, match="more than"):
            recovery.record_recovery(s, "alice", cid, "issuer", 1, D(2023, 8, 1), "DIV-3")
        assert _state(s, cid) == before
        rep = {r.party_id: r for r in recovery.report(s, cid)}
        assert (rep["issuer"].recovered_fen, rep["issuer"].outstanding_fen) == (claim_issuer, 0)
        assert (rep["auditor"].recovered_fen, rep["auditor"].outstanding_fen) == (0, 57002)


# -- b. the plan changes after a recovery was passed on ------------------------------------------------------

def test_recovery_that_would_take_money_back_is_refused_and_changes_nothing(db, tmp_path):
    w = _paid_case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        st0 = fund.statement(s, cid)
        recovery.add_party(s, "alice", cid, "issuer", "Issuer", "issuer", 8000)
        recovery.add_party(s, "alice", cid, "auditor", "Auditor", "auditor", 2000)
    # both payers bear no fault: issuer 80%, auditor 20% of each payment.
    # law 25001: 20000.8 / 5000.2 -> 20001 / 5000; sponsor 75002: 60001.6 / 15000.4 -> 60002 / 15000
    with w.tx() as s:
        assert _claims(recovery.plan(s, cid), "issuer") == {"law": (20001, 20001), "sponsor": (60002, 60002)}
        recovery.record_recovery(s, "alice", cid, "issuer", 40000, D(2023, 3, 20), "R-1")
    # 40000 over 60002:20001 (of 80003): 29999.12.. and 10000.12.. -> floors 29999 + 10000, the last fen to
    # the sponsor (remainder 70003 against 10000, out of 80003)
    with w.tx() as s:
        assert recovery.received_by_payer(s, cid) == {"law": 10000, "sponsor": 30000}

    # Then law tops up the fund (contributions become 3:3) and a late window pays INV03 (200_00): 120003
    # paid, split 1:1 -> 60001.5 each, the odd fen to "law" (equal remainders and weights: the smaller key).
    with w.tx() as s:
        fund.contribute(s, "alice", cid, "law", 200_000_00, D(2023, 4, 5), "BANK-law-2")
        claims.reopen_late_window(s, "alice", cid, D(2023, 4, 30), "notices were returned undelivered")
    w.decide(w.decision("INV03", on=D(2023, 4, 10)))
    _pay(w, D(2023, 4, 12), "r2.csv")
    with w.tx() as s:
        assert recovery.paid_by_payer(s, cid) == {"law": 60002, "sponsor": 60001}
        # law 60002: 48001.6 / 12000.4 -> 48002 / 12000; sponsor 60001: 48000.8 / 12000.2 -> 48001 / 12000
        assert _claims(recovery.plan(s, cid), "issuer") == {"law": (48002, 48002), "sponsor": (48001, 48001)}

    # one more fen from the issuer: 40001 over 48001:48002 gives the sponsor 20000 < the 30000 it already
    # received -> refused, and nothing changes (the refusal is caught inside the transaction, which commits)
    with w.tx() as s:
        before = _state(s, cid)
        with pytest.raises(AdminError, match="would take money back from sponsor"):
            recovery.record_recovery(s, "alice", cid, "issuer", 1, D(2023, 5, 2), "R-2")
    with w.tx() as s:
        assert _state(s, cid) == before
        assert not any(e.key == "recovery:R-2" for e in fund.entries(s, cid))
        # a retry of the first recovery is still just the stored entry, though the plan changed since
        first = recovery.record_recovery(s, "alice", cid, "issuer", 40000, D(2023, 3, 20), "R-1")
        assert first.key == "recovery:R-1" and _state(s, cid) == before

    # a recovery large enough for nobody to lose is booked: 70000 over 48001:48002 (of 96003): 34999.63..
    # and 35000.36.. -> floors 34999 + 35000, the last fen to the sponsor (.63); the entry books only the
    # difference: sponsor +5000, law +25000
    with w.tx() as s:
        recovery.record_recovery(s, "alice", cid, "issuer", 30000, D(2023, 5, 3), "R-3")
    with w.tx() as s:
        assert recovery.received_by_payer(s, cid) == {"law": 35000, "sponsor": 35000}
        entry = next(e for e in fund.entries(s, cid) if e.key == "recovery:R-3")
        assert sorted((p.account, p.amount_fen) for p in entry.postings) == [
            ("recovered:issuer", -30000), ("recovery_paid:law", 25000), ("recovery_paid:sponsor", 5000)]
        bal = fund.balances(s, cid)
        assert sum(bal.values()) == 0 and bal["recovered:issuer"] == -70000
        assert fund.trial(s, cid).balanced and not fund.check_ledger(s, cid) and audit.verify(s).ok
        # the fund statement moved only with the top-up and the late payment, never with recoveries
        st = fund.statement(s, cid)
        assert st.contributions_fen == {"sponsor": 300_000_00, "law": 300_000_00}
        assert st.compensation_awarded_fen - st.payable_fen == PAID + 200_00
        assert st0.contributions_fen == {"sponsor": 300_000_00, "law": 100_000_00}


# -- c. a payer that is itself liable -------------------------------------------------------------------------

def test_payer_that_is_liable_bears_its_own_share(db, tmp_path):
    w = _paid_case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        st0 = fund.statement(s, cid)
        recovery.add_party(s, "alice", cid, "issuer", "Issuer", "issuer", 6000)
        recovery.add_party(s, "alice", cid, "sponsor", "Sponsor", "sponsor", 2500, payer_id="sponsor")
    with w.tx() as s:   # refusals: a second party for the same payer, an unknown payer; nothing changes
        before = _state(s, cid)
        with pytest.raises(AdminError, match="payer 'sponsor' is already liable party 'sponsor'"):
            recovery.add_party(s, "alice", cid, "sponsor2", "Sponsor's parent", "controlling_shareholder", 1500,
                               payer_id="sponsor")
        with pytest.raises(NotFound, match="no payer 'ghost'"):
            recovery.add_party(s, "alice", cid, "ghost", "Ghost", "auditor", 1500, payer_id="ghost")
        assert _state(s, cid) == before
    with w.tx() as s:
        recovery.add_party(s, "alice", cid, "auditor", "Auditor", "auditor", 1500)

    # sponsor pays 75002 and bears 25% of it: 18750.5 -> 18751 (half up); it claims the rest, 56251, from
    # issuer:auditor 60:15 = 4:1 -> 45000.8 / 11250.2 -> 45001 / 11250
    # law (no fault) claims all of its 25001 from issuer:sponsor:auditor 60:25:15 -> 15000.6 / 6250.25 /
    # 3750.15 -> floors 25000, the last fen to the issuer (.6)
    with w.tx() as s:
        rp = recovery.plan(s, cid)
        sp, law = rp.payer("sponsor"), rp.payer("law")
        assert (sp.own_share_fen, sp.recoverable_fen, sp.unrecoverable_fen) == (18751, 56251, 0)
        assert (law.own_share_fen, law.recoverable_fen, law.unrecoverable_fen) == (0, LAW_PAID, 0)
        assert {c.against_party_id: c.amount_fen for c in sp.claims} == {"issuer": 45001, "auditor": 11250}
        assert {c.against_party_id: c.amount_fen for c in law.claims} == {"issuer": 15001, "sponsor": 6250,
                                                                          "auditor": 3750}
        rep = {r.party_id: (r.claim_fen, r.expected_fen) for r in recovery.report(s, cid)}
        assert rep == {"issuer": (60002, 60002), "sponsor": (6250, 6250), "auditor": (15000, 15000)}

    # the sponsor pays what law may claim from it: all to law, none to the sponsor payer itself
    with w.tx() as s:
        recovery.record_recovery(s, "alice", cid, "sponsor", 6250, D(2023, 6, 1), "SP-1")
        before = _state(s, cid)
        with pytest.raises(AdminError, match="more than"):
            recovery.record_recovery(s, "alice", cid, "sponsor", 1, D(2023, 6, 2), "SP-2")
        assert _state(s, cid) == before
    # everything the issuer owes: 60002 over 45001:15001 is exactly the claims
    with w.tx() as s:
        recovery.record_recovery(s, "alice", cid, "issuer", 60002, D(2023, 6, 3), "IS-1")
    with w.tx() as s:
        assert recovery.received_by_payer(s, cid) == {"law": 6250 + 15001, "sponsor": 45001}
        bal = _books_ok(s, cid, st0)
        assert "recovery_paid:sponsor" in bal and bal["recovered:sponsor"] == -6250
        # what each payer will have got back when the auditor pays too: law its whole payment, the sponsor
        # its payment less its own 25%
        assert 6250 + 15001 + 3750 == LAW_PAID
        assert 45001 + 11250 == SPONSOR_PAID - 18751


# -- d. retries by reference ---------------------------------------------------------------------------------

def test_recovery_retries_by_reference(db, tmp_path):
    w = _paid_case(db, tmp_path)
    cid = w.case_id
    with w.tx() as s:
        recovery.add_party(s, "alice", cid, "issuer", "Issuer", "issuer", 8000)
        recovery.add_party(s, "alice", cid, "auditor", "Auditor", "auditor", 2000)
    with w.tx() as s:
        first = recovery.record_recovery(s, "alice", cid, "issuer", 40000, D(2023, 3, 20), "R-1")
        first_id = first.id
    with w.tx() as s:
        before = _state(s, cid)
        again = recovery.record_recovery(s, "alice", cid, "issuer", 40000, D(2023, 3, 20), "R-1")
        assert again.id == first_id and _state(s, cid) == before
        # the same reference for anything else is refused: another date, another party, another amount
        for party, fen, on in (("issuer", 40000, D(2023, 3, 21)), ("auditor", 40000, D(2023, 3, 20)),
                               ("issuer", 39999, D(2023, 3, 20))):
            with pytest.raises(AdminError, match="already booked as a different recovery"):
                recovery.record_recovery(s, "alice", cid, party, fen, on, "R-1")
        assert _state(s, cid) == before
        assert recovery.received_by_payer(s, cid) == {"law": 10000, "sponsor": 30000}
    # the cap: 80003 may be claimed from the issuer, 40000 is in, so 40004 is one fen too many
    with w.tx() as s:
        with pytest.raises(AdminError, match=r"at most 400\.03 yuan more"):
            recovery.record_recovery(s, "alice", cid, "issuer", 40004, D(2023, 4, 1), "R-2")
        assert _state(s, cid) == before
        recovery.record_recovery(s, "alice", cid, "issuer", 40003, D(2023, 4, 1), "R-2")
    with w.tx() as s:
        assert recovery.received_by_payer(s, cid) == {"law": 20001, "sponsor": 60002}
