"""Recourse after advance compensation, administered: the liable parties of a case, the steps taken against
them, the recourse plan built from what each payer's money actually paid out, and recoveries booked to the
fund's books and passed on to the payers.

Conventions (see ``redress/recovery/docs.md``, "Administered recourse"):

* Liable parties, and steps against them, may be recorded once the plan is approved (``plan_approved`` and
  every later state, ``closed`` included): the parties are known from the judgment or the plan by then.
  Parties are only added, never edited; their shares over a case never exceed 10000 bp, and a plan needs
  them to sum to exactly 10000 bp.
* What each payer paid investors: the compensation actually paid (awarded minus still payable; interest is
  the investors' own money, not the payers') split over the payers in proportion to their contributions
  (the balance of their contribution accounts, corrections included; surplus returned is not deducted, since
  it is returned in the same proportion).
* Recoveries may be booked from ``claims_closed`` on, until the books are closed.  They are memorandum
  entries between ``recovered:<party>`` (credit) and ``recovery_paid:<payer>`` (debit): the money goes from
  the party to the payers and never through the trust account, so the fund statement is unchanged.
* Every recovery redistributes all recoveries from that party to date (``apply_recoveries``) and books the
  difference from what was already passed on; a recovery beyond what may be claimed from the party, or one
  that would take money back from a payer, is refused.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.cases import check_date, get_case, payers, require_state, require_user
from redress.admin.errors import AdminError, BadInput, NotFound, valid_id
from redress.admin.fund import balances, entries, post, statement
from redress.money import MAX_AMOUNT_FEN, yuan
from redress.claims.lifecycle import CaseState
from redress.ids import IdKind
from redress.ledger.allocation import allocate
from redress.ledger.core import AccountKind, Entry, Posting, account
from redress.recovery import (LiableParty, Payment, RecourseError, RecoursePlan, apply_recoveries,
                              recourse_claims)
from redress.recovery.recourse import BP_PER_UNIT
from redress.store import audit
from redress.store.models import LedgerEntry, LiablePartyRow, Payer, RecoveryAction

# parties and actions: once the plan is approved; recoveries: once claims are closed, until the books close
PARTIES_OPEN = frozenset(set(CaseState) - {CaseState.DRAFT, CaseState.FUND_ESTABLISHED})
RECOVERIES_OPEN = frozenset({CaseState.CLAIMS_CLOSED, CaseState.LATE_WINDOW, CaseState.PAYMENTS_COMPLETE,
                             CaseState.LIQUIDATED})
STAGES = ("demand", "lawsuit", "judgment", "enforcement", "bankruptcy_claim", "settlement")
RECOVERY_KIND = "recovery"


def _int(value: object, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise BadInput(f"{what}: must be an integer {bound}, got {value!r}")
    return value


def parties(session: Session, case_id: str) -> list[LiablePartyRow]:
    return list(session.execute(select(LiablePartyRow).where(LiablePartyRow.case_id == case_id)
                                .order_by(LiablePartyRow.party_id)).scalars())


def _party(session: Session, case_id: str, party_id: str) -> LiablePartyRow:
    row = session.get(LiablePartyRow, (case_id, party_id))
    if row is None:
        raise NotFound(f"no liable party {party_id!r} in case {case_id}",
                       hint="add it with `redress recovery party` / 请先添加责任方")
    return row


def add_party(session: Session, actor: str, case_id: str, party_id: str, name: str, kind: str,
              fault_share_bp: int, *, solvent: bool = True, recovery_rate_bp: int = BP_PER_UNIT,
              payer_id: str | None = None) -> LiablePartyRow:
    """Name a party liable to investors with its internal share of fault (basis points).  ``payer_id`` links
    it to the payer of the fund it also is (a payer bears its own share of what it paid)."""
    require_user(session, actor, "operator")
    valid_id(IdKind.PARTY, party_id)
    if payer_id is not None:
        valid_id(IdKind.PAYER, payer_id)
    case = get_case(session, case_id, lock=True)
    require_state(case, PARTIES_OPEN, "add a liable party")
    _int(fault_share_bp, f"party {party_id}: fault share (bp)", 0, BP_PER_UNIT)
    _int(recovery_rate_bp, f"party {party_id}: recovery rate (bp)", 0, BP_PER_UNIT)
    try:  # the core's own checks: kind, id, a solvent party pays in full
        LiableParty(party_id, name, kind, fault_share_bp, solvent, recovery_rate_bp)  # type: ignore[arg-type]
    except RecourseError as exc:
        raise BadInput(f"liable party refused: {exc}") from None
    if session.get(LiablePartyRow, (case_id, party_id)) is not None:
        raise AdminError(f"liable party {party_id!r} already named in case {case_id}")
    existing = parties(session, case_id)
    total = sum(p.fault_share_bp for p in existing) + fault_share_bp
    if total > BP_PER_UNIT:
        raise AdminError(f"shares of fault would sum to {total} bp, more than 10000 bp (100%) / 责任份额合计超过100%")
    if payer_id is not None:
        if session.get(Payer, (case_id, payer_id)) is None:
            raise NotFound(f"no payer {payer_id!r} in case {case_id}")
        taken = next((p.party_id for p in existing if p.payer_id == payer_id), None)
        if taken is not None:
            raise AdminError(f"payer {payer_id!r} is already liable party {taken!r}")
    row = LiablePartyRow(case_id=case_id, party_id=party_id, name=name, kind=kind, fault_share_bp=fault_share_bp,
                         solvent=solvent, recovery_rate_bp=recovery_rate_bp, payer_id=payer_id)
    session.add(row)
    session.flush()
    audit.record(session, actor, "recovery.party", party_id,
                 {"name": name, "kind": kind, "fault_share_bp": fault_share_bp, "solvent": solvent,
                  "recovery_rate_bp": recovery_rate_bp, "payer_id": payer_id}, case_id)
    return row


def record_action(session: Session, actor: str, case_id: str, party_id: str, stage: str, on: dt.date,
                  amount_fen: int, reference: str, note: str = "") -> RecoveryAction:
    """One step against a party (a demand, a lawsuit, a judgment ...), with the amount at stake.  The same
    reference again with the same content returns the stored step; with different content it is refused."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, PARTIES_OPEN, "record a recovery action")
    _party(session, case_id, party_id)
    if stage not in STAGES:
        raise BadInput(f"unknown stage {stage!r}; one of: {', '.join(STAGES)}")
    _int(amount_fen, f"action {reference}: amount (fen)", 0, MAX_AMOUNT_FEN)
    check_date(on, f"action {reference}: date")
    if not reference.strip():
        raise BadInput("a recovery action needs a reference (court or letter number) / 需要文书编号")
    old = session.execute(select(RecoveryAction).where(RecoveryAction.case_id == case_id,
                                                       RecoveryAction.reference == reference)).scalar_one_or_none()
    if old is not None:
        if (old.party_id, old.stage, old.on, old.amount_fen, old.note) == (party_id, stage, on, amount_fen, note):
            return old
        raise AdminError(f"reference {reference!r} was already used for a different action / 文书编号已使用")
    row = RecoveryAction(case_id=case_id, party_id=party_id, stage=stage, on=on, amount_fen=amount_fen,
                         reference=reference, note=note)
    session.add(row)
    session.flush()
    audit.record(session, actor, "recovery.action", reference,
                 {"party_id": party_id, "stage": stage, "on": on.isoformat(), "amount_fen": amount_fen,
                  "note": note}, case_id)
    return row


def paid_by_payer(session: Session, case_id: str) -> dict[str, int]:
    """Compensation each payer's money paid to investors: awarded minus still payable, split in proportion
    to the payers' contributions (largest remainder, to the fen)."""
    st = statement(session, case_id)
    paid = max(st.compensation_awarded_fen - st.payable_fen, 0)
    weights = {p: fen for p, fen in st.contributions_fen.items() if fen > 0}
    if not weights:
        return {}
    return {p: fen for p, fen in allocate(paid, weights).shares_fen.items() if fen > 0}


def plan(session: Session, case_id: str) -> RecoursePlan:
    """The recourse plan: every payer's claims against the liable parties for what its money paid out."""
    get_case(session, case_id)
    rows = parties(session, case_id)
    if not rows:
        raise AdminError(f"case {case_id} has no liable parties yet", hint="`redress recovery party` adds them")
    total = sum(r.fault_share_bp for r in rows)
    if total != BP_PER_UNIT:
        raise AdminError(f"shares of fault sum to {total} bp, not 10000 bp: name the remaining liable parties "
                         f"first / 责任份额合计须为100%")
    paid = paid_by_payer(session, case_id)
    if not paid:
        raise AdminError(f"case {case_id}: no compensation has been paid yet, so there is nothing to recover")
    own = {r.payer_id: r.party_id for r in rows if r.payer_id is not None}
    try:
        return recourse_claims([Payment(p, fen) for p, fen in paid.items()],
                               [LiableParty(r.party_id, r.name, r.kind, r.fault_share_bp,  # type: ignore[arg-type]
                                            r.solvent, r.recovery_rate_bp) for r in rows],
                               {p: own.get(p) for p in paid})
    except RecourseError as exc:
        raise AdminError(f"recourse plan refused: {exc}") from None


def _booked(session: Session, case_id: str) -> dict[str, dict[str, int]]:
    """What recovery entries already passed on, per party and payer (replayed from the ledger)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    prefix = f"{AccountKind.RECOVERED}:"
    for e in entries(session, case_id):
        if e.kind != RECOVERY_KIND:
            continue
        party = next(p.account[len(prefix):] for p in e.postings if p.account.startswith(prefix))
        for p in e.postings:
            if p.account.startswith(f"{AccountKind.RECOVERY_PAID}:"):
                out[party][p.account.split(":", 1)[1]] += p.amount_fen
    return out


def recovered_fen(session: Session, case_id: str) -> dict[str, int]:
    """Money recovered from each party to date (credit balance of ``recovered:<party>``)."""
    prefix = f"{AccountKind.RECOVERED}:"
    return {a[len(prefix):]: -b for a, b in balances(session, case_id).items() if a.startswith(prefix)}


def record_recovery(session: Session, actor: str, case_id: str, party_id: str, amount_fen: int, on: dt.date,
                    reference: str) -> LedgerEntry:
    """Money recovered from a party, passed on to the payers in proportion to their claims against it.
    Idempotent by reference: the same recovery again returns the stored entry."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, RECOVERIES_OPEN, "record a recovery")
    party = _party(session, case_id, party_id)
    _int(amount_fen, f"recovery {reference}: amount (fen)", 1, MAX_AMOUNT_FEN)
    check_date(on, f"recovery {reference}: date")
    if not reference.strip():
        raise BadInput("a recovery needs a reference (bank reference) / 需要银行流水号")
    key = f"recovery:{reference}"
    recovered_account = account(AccountKind.RECOVERED, party_id)
    old = session.execute(select(LedgerEntry).where(LedgerEntry.case_id == case_id, LedgerEntry.key == key)
                          ).scalar_one_or_none()
    if old is not None:
        prior = next(e for e in entries(session, case_id) if e.key == key)
        got = -sum(p.amount_fen for p in prior.postings if p.account == recovered_account)
        if got == amount_fen and prior.booked_on == on:
            return old
        raise AdminError(f"reference {reference!r} was already booked as a different recovery; a retry must repeat "
                         f"the original exactly, a new recovery needs a new reference / 流水号已使用")
    rp = plan(session, case_id)
    claimable = sum(c.amount_fen for c in rp.claims_against(party_id))
    before = recovered_fen(session, case_id).get(party_id, 0)
    if before + amount_fen > claimable:
        raise AdminError(f"recovery {reference} of {yuan(amount_fen)} yuan from {party_id} would bring what was "
                         f"recovered from it to {yuan(before + amount_fen)} yuan, more than the "
                         f"{yuan(claimable)} yuan the payers may claim from it (at most "
                         f"{yuan(max(claimable - before, 0))} yuan more) / 超过可追偿金额")
    dist = apply_recoveries(rp, [(party_id, before + amount_fen)])
    booked = _booked(session, case_id).get(party_id, {})
    delta = {r.payer_id: r.amount_fen - booked.get(r.payer_id, 0) for r in dist.receipts}
    delta.update({p: -fen for p, fen in booked.items() if p not in delta})
    taken = sorted(p for p, fen in delta.items() if fen < 0)
    if taken:
        raise AdminError(f"recovery {reference}: redistributing what was recovered from {party_id} would take money "
                         f"back from {', '.join(taken)} (the plan changed since earlier recoveries); refused")
    postings = [Posting(recovered_account, -amount_fen)]
    postings += [Posting(account(AccountKind.RECOVERY_PAID, p), fen) for p, fen in sorted(delta.items()) if fen]
    entry = Entry(on, RECOVERY_KIND, f"recovery from {party.name} ({reference})", tuple(postings), key)
    row = post(session, case_id, entry, actor)
    audit.record(session, actor, "recovery.receipt", reference,
                 {"party_id": party_id, "amount_fen": amount_fen, "on": on.isoformat(),
                  "recovered_to_date_fen": before + amount_fen, "claimable_fen": claimable,
                  "to_payers_fen": {p: fen for p, fen in sorted(delta.items()) if fen}}, case_id)
    return row


@dataclass(frozen=True)
class PartyReport:
    party_id: str
    name: str
    kind: str
    fault_share_bp: int
    solvent: bool
    claim_fen: int            # what the payers may claim from the party
    expected_fen: int         # what they expect to recover (the dividend, for an insolvent party)
    recovered_fen: int        # recovered to date
    latest_stage: str | None  # the latest step taken against it
    latest_on: dt.date | None

    @property
    def outstanding_fen(self) -> int:
        """What may still be claimed from the party."""
        return self.claim_fen - self.recovered_fen

    @property
    def expected_outstanding_fen(self) -> int:
        return max(self.expected_fen - self.recovered_fen, 0)


def report(session: Session, case_id: str) -> list[PartyReport]:
    """Per liable party: its share, what may be claimed and expected from it, recovered, outstanding, and
    the latest step taken against it."""
    rp = plan(session, case_id)
    got = recovered_fen(session, case_id)
    latest: dict[str, RecoveryAction] = {}
    for a in session.execute(select(RecoveryAction).where(RecoveryAction.case_id == case_id)
                             .order_by(RecoveryAction.on, RecoveryAction.id)).scalars():
        latest[a.party_id] = a
    out = []
    for r in parties(session, case_id):
        claims = rp.claims_against(r.party_id)
        act = latest.get(r.party_id)
        out.append(PartyReport(r.party_id, r.name, r.kind, r.fault_share_bp, r.solvent,
                               sum(c.amount_fen for c in claims), sum(c.expected_fen for c in claims),
                               got.get(r.party_id, 0), act.stage if act else None, act.on if act else None))
    return out


def received_by_payer(session: Session, case_id: str) -> dict[str, int]:
    """Recovered money passed on to each payer to date."""
    prefix = f"{AccountKind.RECOVERY_PAID}:"
    known = {p.payer_id: 0 for p in payers(session, case_id)}
    return {**known, **{a[len(prefix):]: b for a, b in balances(session, case_id).items() if a.startswith(prefix)}}
