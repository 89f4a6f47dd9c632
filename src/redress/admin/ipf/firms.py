"""Failed securities companies, administered (Measures, CSRC Order No. 27, Art. 17-19): a board resolution to
use the fund, claims registered and checked against the custodian's records, compensation fixed once by the
pure core (``redress.protection.payout``), paid in batches that a second person releases, and the fund's claim
in the liquidation recovered or written off.

Conventions (see ``redress/protection/docs.md``, "Failed firms administered"):

* States: ``registering`` (claims and custodian records come in) -> ``verified`` (compensation fixed, payments)
  -> ``closed`` (the liquidation is over; what was not recovered is written off).
* Files are taken once by content (SHA-256, ``ipf_import`` kinds ``firm_claims:<firm>``,
  ``firm_records:<firm>``, ``firm_results:<firm>``); a claim is also idempotent by its reference: an identical
  repeat is skipped, a different claim under a used reference refuses the file.  Every file is all or nothing;
  a bad line is named ``file:line``.
* The books: release ``Dr in_transit Cr bank``; paid ``Dr subrogated:<firm> Cr in_transit`` (the fund takes
  over the claim it paid, Art. 19); returned ``Dr bank Cr in_transit`` and owed again; a liquidation dividend
  ``Dr bank Cr subrogated:<firm>``; the write-off at closing ``Dr liquidation_loss:<firm> Cr subrogated:<firm>``.
* Services only flush; every change takes the fund's lock first and is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress.admin.cases import require_user
from redress.admin.errors import AdminError, BadInput, Forbidden, NotFound, valid_id
from redress.admin.fund import read_new_csv
from redress.admin.ipf import board, book
from redress.money import parse_yuan, yuan
from redress.admin.payments import (RESULT_COLUMNS, ImportReport, check_results, mark_pending, settle_batches,
                                    write_instructions)
from redress.ledger.core import Posting
from redress.protection.book import FundEntry, ProtectionAccount, pa, transfer
from redress.ids import IdKind
from redress.protection import ProtectionError
from redress.protection.payout import Category, CustodianRecord, RegisteredClaim, compensate, payout_rules, verify
from redress.store import audit
from redress.store.models import (BoardResolution, FirmReview, CustodianRecordRow, FailedFirm, FirmBatch, FirmClaim,
                                  FirmCompensation, FirmTransfer, ProtectionEntry, ProtectionImport,
                                  ProtectionPosting)

SUBJECT = "use_for_failed_firm"
EVENTS = ("closed", "revoked", "bankrupt", "taken_over")
CLAIM_COLUMNS = ["claimant_id", "category", "principal", "interest", "reference"]
RECORD_COLUMNS = ["claimant_id", "category", "principal"]
IN_FLIGHT = ("pending", "instructed")
# ipf_import.kind is 32 characters: "firm_records:" (13) leaves 19 for the firm's id
_FIRM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,18}$")


def subrogated(firm_id: str) -> str:
    return pa(ProtectionAccount.SUBROGATED, firm_id)


def loss(firm_id: str) -> str:
    return pa(ProtectionAccount.LIQUIDATION_LOSS, firm_id)


# -- firms -------------------------------------------------------------------------------------------------------

def get_firm(session: Session, firm_id: str) -> FailedFirm:
    firm = session.get(FailedFirm, firm_id)
    if firm is None:
        raise NotFound(f"no failed firm {firm_id!r}; open it first with `redress ipf firm open` / 未登记该被处置证券公司")
    return firm


def _require_state(firm: FailedFirm, states: tuple[str, ...], doing: str, what_to_do: str) -> None:
    if firm.state not in states:
        raise AdminError(f"firm {firm.id} is {firm.state}; cannot {doing} ({what_to_do}) / "
                         f"被处置证券公司当前状态为 {firm.state}，不能执行此操作")


def open_firm(session: Session, actor: str, firm_id: str, name: str, event: str, event_on: dt.date,
              resolution_reference: str) -> FailedFirm:
    """Open the handling of a failed firm.  Using the fund needs a PASSED board resolution on
    ``use_for_failed_firm`` (Art. 18).  The same call again returns the stored firm; a different one is refused
    naming the field."""
    book.lock(session)
    require_user(session, actor, "operator")
    if not isinstance(firm_id, str) or not _FIRM_ID.match(firm_id):
        raise BadInput(f"firm id {firm_id!r}: use 1-19 letters, digits, '.', '_' or '-' (it names accounts and "
                       "files) / 公司代码须为1-19位字母、数字或 . _ -")
    if not name.strip():
        raise BadInput("a failed firm needs a name / 须填写公司名称")
    if event not in EVENTS:
        raise BadInput(f"event {event!r}: use one of {', '.join(EVENTS)} / 处置事件应为 关闭、撤销、破产 或 行政接管")
    resolution = board.require_resolution(session, SUBJECT, resolution_reference)
    old = session.get(FailedFirm, firm_id)
    if old is not None:
        for fld, new in (("name", name), ("event", event), ("event_on", event_on),
                         ("resolution_id", resolution.id)):
            if getattr(old, fld) != new:
                raise AdminError(f"firm {firm_id} was already opened with a different {fld} ({getattr(old, fld)!r}); "
                                 "a retry must repeat the original exactly / 该公司已登记，内容不一致")
        return old
    firm = FailedFirm(id=firm_id, name=name, event=event, event_on=event_on, resolution_id=resolution.id,
                      state="registering")
    session.add(firm)
    session.flush()
    audit.record(session, actor, "ipf.firm_opened", f"firm {firm_id}",
                 {"name": name, "event": event, "event_on": event_on.isoformat(),
                  "resolution": resolution_reference})
    return firm


# -- files in ----------------------------------------------------------------------------------------------------

@dataclass
class FileReport:
    """What a file changed: rows added, identical repeats skipped, or nothing because it was taken before."""

    file: str
    already_imported: bool = False
    added: int = 0
    repeated: int = 0
    principal_fen: int = 0
    interest_fen: int = 0


def _seen(session: Session, kind: str, digest: str) -> bool:
    return session.execute(select(ProtectionImport.id).where(ProtectionImport.kind == kind,
                                                             ProtectionImport.sha256 == digest)).first() is not None


def _remember(session: Session, kind: str, digest: str, name: str, rows: int, actor: str) -> None:
    session.add(ProtectionImport(kind=kind, sha256=digest, name=name[:500], rows=rows, actor=actor,
                                 at=audit.now_stamp()))
    session.flush()


def _text(rec: dict[str, str], column: str, limit: int) -> str:
    value = (rec.get(column) or "").strip()
    if not value:
        raise ValueError(f"{column} is empty")
    if len(value) > limit:
        raise ValueError(f"{column} is longer than {limit} characters")
    return value


def _category(rec: dict[str, str]) -> str:
    value = (rec.get("category") or "").strip()
    try:
        return Category(value).value
    except ValueError:
        raise ValueError(f"category {value!r}: use settlement_funds (客户证券交易结算资金) or individual_debt "
                         "(个人债权)") from None


def _amount(rec: dict[str, str], column: str) -> int:
    fen = parse_yuan(rec[column])
    if fen < 0:
        raise ValueError(f"{column} {rec[column].strip()!r} is negative")
    return fen


def register_claims(session: Session, actor: str, firm_id: str, path: Path) -> FileReport:
    """Register the claims in a CSV file (``claimant_id,category,principal,interest,reference``, yuan).  All or
    nothing; the same file again changes nothing; a reference already registered with the same content is
    skipped, with different content refuses the file."""
    book.lock(session)
    require_user(session, actor, "operator")
    firm = get_firm(session, firm_id)
    _require_state(firm, ("registering",), "register claims",
                   "claims are registered before verification; compensation is fixed once")
    kind = f"firm_claims:{firm_id}"
    taken = read_new_csv(path, CLAIM_COLUMNS, lambda d: _seen(session, kind, d))
    if taken is None:
        return FileReport(path.name, already_imported=True)
    digest, rows = taken
    report = FileReport(path.name)
    known = {c.reference: c for c in session.execute(select(FirmClaim).where(FirmClaim.firm_id == firm_id)).scalars()}
    in_file: dict[str, tuple[int, tuple]] = {}
    problems: list[str] = []
    new: list[FirmClaim] = []
    for line, rec in rows:
        where = f"{path.name}:{line}"
        try:
            claimant, category = valid_id(IdKind.INVESTOR, _text(rec, "claimant_id", 64)), _category(rec)
            principal, interest = _amount(rec, "principal"), _amount(rec, "interest")
            reference = _text(rec, "reference", 200)
            RegisteredClaim(claimant, category, principal, interest, reference)   # type: ignore[arg-type]
        except (ValueError, ProtectionError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        content = (claimant, category, principal, interest)
        if reference in in_file:
            first_line, first = in_file[reference]
            if first != content:
                problems.append(f"{where}: reference {reference} also on line {first_line} with different content; "
                                "the claimant must confirm which is right / 同一申报编号内容不一致")
            else:
                report.repeated += 1
            continue
        in_file[reference] = (line, content)
        old = known.get(reference)
        if old is not None:
            if (old.claimant_id, old.category, old.principal_fen, old.interest_fen) != content:
                problems.append(f"{where}: reference {reference} is already registered for {old.claimant_id} "
                                f"({old.category}, principal {yuan(old.principal_fen)}, interest "
                                f"{yuan(old.interest_fen)}); a correction needs a new reference / 申报编号已使用")
            else:
                report.repeated += 1
            continue
        new.append(FirmClaim(firm_id=firm_id, claimant_id=claimant, category=category, principal_fen=principal,
                             interest_fen=interest, reference=reference))
    if problems:
        raise BadInput(f"claims file {path.name} refused; nothing changed / 债权申报文件有误，未作任何处理", problems)
    if not rows:
        raise BadInput(f"{path.name}: no claims in the file / 文件中没有申报债权")
    session.add_all(new)
    _remember(session, kind, digest, path.name, len(rows), actor)
    report.added = len(new)
    report.principal_fen = sum(c.principal_fen for c in new)
    report.interest_fen = sum(c.interest_fen for c in new)
    audit.record(session, actor, "ipf.firm_claims", f"firm {firm_id}",
                 {"file": path.name, "sha256": digest, "added": report.added, "repeated": report.repeated,
                  "principal_fen": report.principal_fen, "interest_fen": report.interest_fen})
    return report


def import_custodian_records(session: Session, actor: str, firm_id: str, path: Path) -> FileReport:
    """Take in the custodian's (or liquidation group's) records, CSV ``claimant_id,category,principal`` (yuan).
    All or nothing; the same file again changes nothing.  Records carry no reference: a second, different file
    adds to the first."""
    book.lock(session)
    require_user(session, actor, "operator")
    firm = get_firm(session, firm_id)
    _require_state(firm, ("registering",), "take in custodian records",
                   "records are compared with the claims at verification, which is done once")
    kind = f"firm_records:{firm_id}"
    taken = read_new_csv(path, RECORD_COLUMNS, lambda d: _seen(session, kind, d))
    if taken is None:
        return FileReport(path.name, already_imported=True)
    digest, rows = taken
    report = FileReport(path.name)
    problems: list[str] = []
    new: list[CustodianRecordRow] = []
    for line, rec in rows:
        try:
            claimant = valid_id(IdKind.INVESTOR, _text(rec, "claimant_id", 64))
            category, principal = _category(rec), _amount(rec, "principal")
        except ValueError as exc:
            problems.append(f"{path.name}:{line}: {exc}")
            continue
        new.append(CustodianRecordRow(firm_id=firm_id, claimant_id=claimant, category=category,
                                      principal_fen=principal))
    if problems:
        raise BadInput(f"custodian records {path.name} refused; nothing changed / 托管记录文件有误，未作任何处理",
                       problems)
    if not rows:
        raise BadInput(f"{path.name}: no records in the file / 文件中没有托管记录")
    session.add_all(new)
    _remember(session, kind, digest, path.name, len(rows), actor)
    report.added = len(new)
    report.principal_fen = sum(r.principal_fen for r in new)
    audit.record(session, actor, "ipf.firm_records", f"firm {firm_id}",
                 {"file": path.name, "sha256": digest, "added": report.added, "principal_fen": report.principal_fen})
    return report


# -- verification ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class VerifySummary:
    """What verification fixed: ``paid_fen`` is what the fund will pay (and then claim in the liquidation)."""

    firm_id: str
    rules_effective: dt.date
    claimants: int
    compensations: int
    claimed_fen: int
    paid_fen: int
    not_paid_fen: int
    held: int
    held_fen: int
    unclaimed_records: int
    subrogated_fen: int


def verify_firm(session: Session, actor: str, firm_id: str, on: dt.date) -> VerifySummary:
    """Compare the claims with the custodian's records and fix what each claimant is paid per category (the
    payout rules in force on ``on``).  Discrepancies are held with nothing to pay and both amounts in the note.
    Done once: a second verification is refused."""
    book.lock(session)
    require_user(session, actor, "operator")
    firm = get_firm(session, firm_id)
    _require_state(firm, ("registering",), "verify again",
                   "compensation is fixed once; held claims are settled outside this run")
    if on < firm.event_on:
        raise BadInput(f"verification date {on} is before the firm's {firm.event} on {firm.event_on} / "
                       "核对日期早于处置日期")
    claims = list(session.execute(select(FirmClaim).where(FirmClaim.firm_id == firm_id)
                                  .order_by(FirmClaim.id)).scalars())
    if not claims:
        raise AdminError(f"firm {firm_id} has no registered claims; register them first (`redress ipf firm claims`) "
                         "/ 尚无申报债权")
    records = list(session.execute(select(CustodianRecordRow).where(CustodianRecordRow.firm_id == firm_id)
                                   .order_by(CustodianRecordRow.id)).scalars())
    try:
        rules = payout_rules(on)
        registered = [RegisteredClaim(c.claimant_id, c.category, c.principal_fen, c.interest_fen, c.reference)
                      for c in claims]   # type: ignore[arg-type]
        v = verify(registered, [CustodianRecord(r.claimant_id, r.category, r.principal_fen)  # type: ignore[arg-type]
                                for r in records])
        payout = compensate(v, rules)
    except ProtectionError as exc:
        raise BadInput(f"verification of firm {firm_id} refused: {exc}") from None
    claimed: dict[tuple[str, str], int] = defaultdict(int)
    for c in claims:
        claimed[(c.claimant_id, c.category)] += c.principal_fen + c.interest_fen
    notes: dict[tuple[str, str], list[str]] = defaultdict(list)
    for d in v.discrepancies:
        notes[(d.claimant_id, d.category.value)].append(d.message)
    rows: list[FirmCompensation] = []
    for comp in payout.compensations:
        key = (comp.claimant_id, comp.category.value)
        if key in notes:      # part of the claims accepted, part held: the whole is held for review
            continue
        rows.append(FirmCompensation(firm_id=firm_id, claimant_id=comp.claimant_id, category=comp.category.value,
                                     claimed_fen=comp.claimed_fen, eligible_fen=comp.eligible_fen,
                                     pay_fen=comp.paid_fen, held=False, note="\n".join(comp.lines)))
    for (claimant, category), messages in sorted(notes.items()):
        rows.append(FirmCompensation(firm_id=firm_id, claimant_id=claimant, category=category,
                                     claimed_fen=claimed[(claimant, category)], eligible_fen=0, pay_fen=0,
                                     held=True, note="\n".join(messages)))
    session.add_all(rows)
    firm.state = "verified"
    session.flush()
    paying = [r for r in rows if not r.held]
    summary = VerifySummary(
        firm_id, rules.effective, len({r.claimant_id for r in rows}), len(rows),
        sum(r.claimed_fen for r in paying), sum(r.pay_fen for r in paying),
        sum(r.claimed_fen - r.pay_fen for r in paying), len(rows) - len(paying),
        sum(r.claimed_fen for r in rows if r.held), len(v.unclaimed), sum(r.pay_fen for r in paying))
    audit.record(session, actor, "ipf.firm_verified", f"firm {firm_id}",
                 {"on": on.isoformat(), "rules_effective": rules.effective.isoformat(),
                  "compensations": summary.compensations, "paid_fen": summary.paid_fen,
                  "not_paid_fen": summary.not_paid_fen, "held": summary.held, "held_fen": summary.held_fen,
                  "unclaimed_records": summary.unclaimed_records})
    return summary


# -- batches -----------------------------------------------------------------------------------------------------

def _paid_by_compensation(session: Session, firm_id: str) -> dict[int, int]:
    return {cid: int(fen) for cid, fen in session.execute(
        select(FirmTransfer.compensation_id, func.sum(FirmTransfer.amount_fen))
        .join(FirmCompensation, FirmCompensation.id == FirmTransfer.compensation_id)
        .where(FirmCompensation.firm_id == firm_id, FirmTransfer.status == "paid")
        .group_by(FirmTransfer.compensation_id))}


def _reviews(session: Session, firm_id: str) -> dict[int, FirmReview]:
    return {r.compensation_id: r for r in session.execute(
        select(FirmReview).join(FirmCompensation, FirmCompensation.id == FirmReview.compensation_id)
        .where(FirmCompensation.firm_id == firm_id)).scalars()}


def to_pay(comp: FirmCompensation, reviews: dict[int, FirmReview]) -> int:
    """What a compensation pays: fixed at verification, or, for a claim held then, decided on review."""
    if not comp.held:
        return comp.pay_fen
    review = reviews.get(comp.id)
    return review.pay_fen if review is not None else 0


def owed(session: Session, firm_id: str) -> list[tuple[FirmCompensation, int]]:
    """Every compensation with money still to pay and no transfer in flight, with the amount, by claimant
    (a held claim once its review has decided it)."""
    paid = _paid_by_compensation(session, firm_id)
    reviews = _reviews(session, firm_id)
    in_flight = select(FirmTransfer.compensation_id).where(FirmTransfer.status.in_(IN_FLIGHT))
    comps = session.execute(select(FirmCompensation).where(
        FirmCompensation.firm_id == firm_id, FirmCompensation.id.not_in(in_flight))
        .order_by(FirmCompensation.claimant_id, FirmCompensation.category)).scalars()
    return [(c, to_pay(c, reviews) - paid.get(c.id, 0)) for c in comps if to_pay(c, reviews) > paid.get(c.id, 0)]


def resolve_held(session: Session, actor: str, firm_id: str, claimant_id: str, category: str, principal_fen: int,
                 on: dt.date, reason: str) -> FirmReview:
    """Decide a claim held at verification, after review, as an approver: the principal accepted (0 when
    nothing is owed) is paid under the payout rules in force on ``on`` (interest is never paid), in the next
    batch.  Decided once: the same decision again returns it; another one is refused."""
    book.lock(session)
    require_user(session, actor, "approver")
    firm = get_firm(session, firm_id)
    _require_state(firm, ("verified",), "decide a held claim", "verify the claims first; a closed firm pays no more")
    comp = session.execute(select(FirmCompensation).where(
        FirmCompensation.firm_id == firm_id, FirmCompensation.claimant_id == claimant_id,
        FirmCompensation.category == category)).scalar_one_or_none()
    if comp is None:
        raise NotFound(f"no verified {category} claim of {claimant_id!r} in firm {firm_id} / 无此核对结果")
    if not comp.held:
        raise AdminError(f"the {category} claim of {claimant_id} was not held: it is paid as verified / 该债权未被暂缓")
    if isinstance(principal_fen, bool) or not isinstance(principal_fen, int) or principal_fen < 0:
        raise BadInput(f"principal: a non-negative integer of fen, got {principal_fen!r}")
    if not reason.strip():
        raise BadInput("say why (the evidence reviewed) / 请说明复核依据")
    old = session.execute(select(FirmReview).where(FirmReview.compensation_id == comp.id)).scalar_one_or_none()
    if old is not None:
        if (old.principal_fen, old.reason, old.decided_on) == (principal_fen, reason, on):
            return old
        raise AdminError(f"the held {category} claim of {claimant_id} was already decided on {old.decided_on} "
                         f"({yuan(old.principal_fen)} yuan accepted) / 已复核")
    eligible = pay = 0
    if principal_fen:
        try:
            payout = compensate([RegisteredClaim(claimant_id, category, principal_fen, 0,  # type: ignore[arg-type]
                                                 f"review:{comp.id}")], payout_rules(on))
        except ProtectionError as exc:
            raise BadInput(f"review refused: {exc}") from None
        (c,) = payout.compensations
        eligible, pay = c.eligible_fen, c.paid_fen
    row = FirmReview(compensation_id=comp.id, principal_fen=principal_fen, eligible_fen=eligible, pay_fen=pay,
                     reason=reason, decided_by=actor, decided_on=on)
    session.add(row)
    session.flush()
    audit.record(session, actor, "ipf.firm_claim_reviewed", f"firm {firm_id} {claimant_id} {category}",
                 {"principal_fen": principal_fen, "eligible_fen": eligible, "pay_fen": pay, "on": on.isoformat(),
                  "reason": reason})
    return row


def _bank_through(session: Session, on: dt.date) -> int:
    return book.balances(session, on).get(book.BANK, 0)


def get_batch(session: Session, firm_id: str, number: int) -> FirmBatch:
    b = session.execute(select(FirmBatch).where(FirmBatch.firm_id == firm_id, FirmBatch.number == number)
                        ).scalar_one_or_none()
    if b is None:
        raise NotFound(f"no batch {number} for firm {firm_id} / 无此批次")
    return b


def batches(session: Session, firm_id: str) -> list[FirmBatch]:
    return list(session.execute(select(FirmBatch).where(FirmBatch.firm_id == firm_id)
                                .order_by(FirmBatch.number)).scalars())


def propose_batch(session: Session, actor: str, firm_id: str, on: dt.date) -> FirmBatch:
    """The maker gathers every compensation still owed (never paid, or returned) outside a batch in flight."""
    book.lock(session)
    require_user(session, actor, "operator")
    firm = get_firm(session, firm_id)
    _require_state(firm, ("verified",), "propose a payment batch", "verify the claims first; a closed firm pays no more")
    todo = owed(session, firm_id)
    if not todo:
        raise AdminError(f"nothing to pay for firm {firm_id}: every compensation is paid, held or in a batch in "
                         "flight / 无待付款项")
    total = sum(fen for _c, fen in todo)
    bank = _bank_through(session, on)
    if total > bank:
        raise AdminError(f"a batch of {yuan(total)} yuan exceeds the fund's bank balance of {yuan(bank)} yuan on "
                         f"{on}; bring money in first (e.g. a maturing investment) / 保护基金银行存款不足")
    number = (session.execute(select(func.max(FirmBatch.number)).where(FirmBatch.firm_id == firm_id))
              .scalar_one() or 0) + 1
    batch = FirmBatch(firm_id=firm_id, number=number, status="proposed", count=len(todo), total_fen=total,
                      proposed_by=actor)
    session.add(batch)
    session.flush()
    session.add_all([FirmTransfer(batch_id=batch.id, compensation_id=c.id, amount_fen=fen, status="pending",
                                  instruction_id=f"{firm_id}-P{number:04d}-{k:06d}")
                     for k, (c, fen) in enumerate(todo, 1)])
    session.flush()
    audit.record(session, actor, "ipf.firm_batch_proposed", f"firm {firm_id} batch {number}",
                 {"on": on.isoformat(), "count": len(todo), "total_fen": total})
    return batch


def release_batch(session: Session, approver: str, firm_id: str, number: int, on: dt.date) -> FirmBatch:
    """A second person, an approver, releases a proposed batch: ``Dr in_transit Cr bank`` for its total.  The
    same release again returns the batch."""
    book.lock(session)
    require_user(session, approver, "approver")
    firm = get_firm(session, firm_id)
    batch = get_batch(session, firm_id, number)
    if batch.status != "proposed":
        if batch.status in ("released", "settled") and batch.released_by == approver and batch.released_on == on:
            return batch
        raise AdminError(f"batch {number} of firm {firm_id} is {batch.status} (released by {batch.released_by} on "
                         f"{batch.released_on}); only a proposed batch can be released / 批次不是待放行状态")
    _require_state(firm, ("verified",), "release a payment batch", "a closed firm pays no more")
    if batch.proposed_by == approver:
        raise Forbidden(f"{approver} proposed batch {number}; a different person must release it (four eyes) / "
                        "制单人不能复核放行本人提出的批次")
    bank = _bank_through(session, on)
    if batch.total_fen > bank:
        raise AdminError(f"batch {number} of {yuan(batch.total_fen)} yuan exceeds the fund's bank balance of "
                         f"{yuan(bank)} yuan on {on}; bring money in first or cancel the batch / 保护基金银行存款不足")
    mark_pending(session, FirmTransfer, batch.id, "instructed")
    batch.status, batch.released_by, batch.released_on = "released", approver, on
    session.flush()
    book.post(session, transfer(on, "firm_release", f"firm {firm_id} batch {number}: {batch.count} payments to the "
                                f"clearing system", f"firm_release:{firm_id}:{number}", book.IN_TRANSIT, book.BANK,
                                batch.total_fen), approver)
    audit.record(session, approver, "ipf.firm_batch_released", f"firm {firm_id} batch {number}",
                 {"on": on.isoformat(), "count": batch.count, "total_fen": batch.total_fen})
    return batch


def cancel_batch(session: Session, actor: str, firm_id: str, number: int) -> FirmBatch:
    """Cancel a proposed batch (an operator or an approver): its compensations go in the next batch."""
    book.lock(session)
    user = require_user(session, actor)
    if not {"operator", "approver"} & set(user.roles.split(",")):
        raise Forbidden(f"user {actor!r} needs the operator or approver role to cancel a batch")
    get_firm(session, firm_id)
    batch = get_batch(session, firm_id, number)
    if batch.status == "cancelled":
        return batch
    if batch.status != "proposed":
        raise AdminError(f"batch {number} of firm {firm_id} is {batch.status}: money was sent; import the clearing "
                         "system's results instead / 批次已放行，不能作废")
    mark_pending(session, FirmTransfer, batch.id, "cancelled")
    batch.status = "cancelled"
    session.flush()
    audit.record(session, actor, "ipf.firm_batch_cancelled", f"firm {firm_id} batch {number}",
                 {"count": batch.count, "total_fen": batch.total_fen})
    return batch


def export_batch(session: Session, actor: str, firm_id: str, number: int, out_dir: Path) -> tuple[Path, Path]:
    """The batch's instruction file and manifest, in the special fund's format, byte-stable; the first export's
    hash is kept and a later export must match it."""
    book.lock(session)
    require_user(session, actor, "operator")
    get_firm(session, firm_id)
    batch = get_batch(session, firm_id, number)
    if batch.status in ("proposed", "cancelled"):
        raise AdminError(f"batch {number} of firm {firm_id} is {batch.status}; only a released batch is sent / "
                         "批次未放行，不能导出")
    rows = [(iid, claimant, int(fen)) for iid, claimant, fen in session.execute(
        select(FirmTransfer.instruction_id, FirmCompensation.claimant_id, FirmTransfer.amount_fen)
        .join(FirmCompensation, FirmCompensation.id == FirmTransfer.compensation_id)
        .where(FirmTransfer.batch_id == batch.id).order_by(FirmTransfer.instruction_id))]
    path, manifest, digest = write_instructions(out_dir, f"{firm_id}-batch-{number:04d}", firm_id, number, rows,
                                                batch.file_sha256)
    if batch.file_sha256 is None:
        batch.file_sha256 = digest
        session.flush()
        audit.record(session, actor, "ipf.firm_batch_exported", f"firm {firm_id} batch {number}",
                     {"sha256": digest, "count": len(rows)})
    return path, manifest


def import_results(session: Session, actor: str, firm_id: str, path: Path) -> ImportReport:
    """Apply the clearing system's results (the special fund's format: ``instruction_id,status,amount,
    settled_on[,reason]``).  Paid: ``Dr subrogated:<firm> Cr in_transit``; returned: ``Dr bank Cr in_transit``
    and owed again.  All or nothing; the same file again, or a line already applied, changes nothing."""
    book.lock(session)
    require_user(session, actor, "operator")
    get_firm(session, firm_id)
    kind = f"firm_results:{firm_id}"
    taken = read_new_csv(path, RESULT_COLUMNS, lambda d: _seen(session, kind, d))
    if taken is None:
        return ImportReport(path.name, already_imported=True)
    digest, rows = taken
    report = ImportReport(path.name)
    ids = [r["instruction_id"].strip() for _l, r in rows]
    sent: dict[str, FirmTransfer] = {}
    released_on: dict[int, dt.date | None] = {}
    for start in range(0, len(ids), 5000):
        for t, b_on in session.execute(select(FirmTransfer, FirmBatch.released_on).join(FirmBatch).where(
                FirmBatch.firm_id == firm_id, FirmTransfer.instruction_id.in_(ids[start:start + 5000]))):
            sent[t.instruction_id] = t
            released_on[t.id] = b_on
    parsed, report.unchanged, problems = check_results(path, rows, sent, firm_id)
    for line, t, _status, _fen, on, _reason in parsed:
        b_on = released_on[t.id]   # type: ignore[attr-defined]
        if b_on is not None and on < b_on:
            problems.append(f"{path.name}:{line}: settled on {on}, before its batch was released on {b_on}")
    if problems:
        raise BadInput(f"payment results {path.name} refused; nothing changed / 划付结果文件有误，未作任何处理",
                       problems)
    by_day: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for _line, t, status, fen, on, reason in parsed:
        t.status, t.settled_on, t.reason, t.result_sha256 = status, on, reason or None, digest  # type: ignore[attr-defined]
        report.count(t.instruction_id, status, fen, reason)   # type: ignore[attr-defined]
        by_day[on][0 if status == "paid" else 1] += fen
    session.flush()
    for on, (paid_fen, returned_fen) in sorted(by_day.items()):
        postings = []
        if paid_fen:
            postings.append(Posting(subrogated(firm_id), paid_fen))
        if returned_fen:
            postings.append(Posting(book.BANK, returned_fen))
        postings.append(Posting(book.IN_TRANSIT, -(paid_fen + returned_fen)))
        book.post(session, FundEntry(on, "firm_settlement", f"firm {firm_id}, results {path.name}: paid "
                                     f"{yuan(paid_fen)}, returned {yuan(returned_fen)}", tuple(postings),
                                     f"firm_settlement:{firm_id}:{digest[:32]}:{on.isoformat()}"), actor)
    settle_batches(session, batches(session, firm_id), FirmTransfer)
    _remember(session, kind, digest, path.name, len(rows), actor)
    audit.record(session, actor, "ipf.firm_results", f"firm {firm_id}",
                 {"file": path.name, "sha256": digest, "paid": report.paid, "returned": report.returned,
                  "unchanged": report.unchanged, "paid_fen": report.paid_fen, "returned_fen": report.returned_fen})
    return report


# -- the liquidation (Art. 19) -----------------------------------------------------------------------------------

def _account_movements(session: Session, account: str) -> dict[str, int]:
    """Debit-positive movements of one account, by the kind of entry."""
    return {kind: int(fen) for kind, fen in session.execute(
        select(ProtectionEntry.kind, func.sum(ProtectionPosting.amount_fen)).join(ProtectionEntry)
        .where(ProtectionPosting.account == account).group_by(ProtectionEntry.kind))}


def record_recovery(session: Session, actor: str, firm_id: str, amount_fen: int, on: dt.date,
                    reference: str) -> ProtectionEntry:
    """A liquidation dividend on the claims the fund took over: ``Dr bank Cr subrogated:<firm>``, never beyond
    what is still claimed.  Idempotent by ``reference``."""
    book.lock(session)
    require_user(session, actor, "operator")
    firm = get_firm(session, firm_id)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise BadInput(f"a recovery must be a positive amount, got {amount_fen!r} / 追偿金额须为正数")
    if not reference.strip() or ":" in reference:
        raise BadInput("a recovery needs a reference without ':' (the bank's or the liquidator's) / 须填写流水号")
    entry = transfer(on, "firm_recovery", f"firm {firm_id}: liquidation dividend ({reference})",
                     f"firm_recovery:{firm_id}:{reference}", book.BANK, subrogated(firm_id), amount_fen)
    if session.execute(select(ProtectionEntry.id).where(ProtectionEntry.key == entry.key)).first() is not None:
        return book.post(session, entry, actor)       # a retry: the same entry, or a refusal naming the field
    _require_state(firm, ("verified",), "record a recovery",
                   "a closed firm's claim was written off" if firm.state == "closed" else "nothing was paid yet")
    account = subrogated(firm_id)
    claim_now = book.balances(session).get(account, 0)
    claim_then = book.balances(session, on).get(account, 0)
    room = min(claim_now, claim_then)
    if amount_fen > room:
        raise AdminError(f"recovery of {yuan(amount_fen)} yuan exceeds the fund's claim of {yuan(room)} yuan in the "
                         f"liquidation of {firm_id} on {on}; the fund recovers at most what it paid (Art. 19) / "
                         "追偿金额超过保护基金的清算债权")
    row = book.post(session, entry, actor)
    audit.record(session, actor, "ipf.firm_recovery", f"firm {firm_id}",
                 {"amount_fen": amount_fen, "on": on.isoformat(), "reference": reference})
    return row


def close_firm(session: Session, actor: str, firm_id: str, on: dt.date, reason: str) -> FailedFirm:
    """The liquidation is over: what the fund did not recover is written off (``Dr liquidation_loss:<firm>
    Cr subrogated:<firm>``).  Refused while a payment is in flight or a compensation is still owed."""
    book.lock(session)
    require_user(session, actor, "operator")
    firm = get_firm(session, firm_id)
    if not reason.strip():
        raise BadInput("closing needs a reason (e.g. the court's ruling ending the liquidation) / 须说明结案依据")
    _require_state(firm, ("verified",), "close", "verify and pay first; a closed firm stays closed")
    flying = session.execute(select(func.count()).select_from(FirmTransfer).join(FirmBatch).where(
        FirmBatch.firm_id == firm_id, FirmTransfer.status.in_(IN_FLIGHT))).scalar_one()
    if flying:
        raise AdminError(f"firm {firm_id} has {flying} payment(s) proposed or in flight; import the results or "
                         "cancel the batch first / 尚有在途付款")
    still = owed(session, firm_id)
    if still:
        raise AdminError(f"firm {firm_id} still owes {yuan(sum(f for _c, f in still))} yuan to {len(still)} "
                         "claimant(s); pay them first / 尚有应付未付款项")
    account = subrogated(firm_id)
    last = session.execute(select(func.max(ProtectionEntry.booked_on)).join(ProtectionPosting)
                           .where(ProtectionPosting.account == account)).scalar_one()
    if last is not None and on < last:
        raise BadInput(f"closing date {on} is before the last movement of the fund's claim on {last} / "
                       "结案日期早于最后一笔清算债权变动")
    left = book.balances(session).get(account, 0)
    if left:
        book.post(session, transfer(on, "firm_writeoff", f"firm {firm_id}: not recovered in the liquidation, "
                                    f"written off ({reason})", f"firm_writeoff:{firm_id}", loss(firm_id), account,
                                    left), actor)
    firm.state = "closed"
    session.flush()
    audit.record(session, actor, "ipf.firm_closed", f"firm {firm_id}",
                 {"on": on.isoformat(), "reason": reason, "written_off_fen": left})
    return firm


# -- reports -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CategoryTotals:
    category: str
    claims: int
    registered_fen: int
    to_pay_fen: int
    held_fen: int
    paid_fen: int


@dataclass(frozen=True)
class FirmReport:
    """Where a failed firm's handling stands.  ``registered`` is principal + interest claimed; ``to_pay`` what
    verification fixed; ``paid + in_flight + owed = to_pay``; ``subrogated = paid`` is the fund's claim in the
    liquidation, ``claim_outstanding = subrogated - recovered - written_off`` (the book's balance)."""

    firm_id: str
    name: str
    event: str
    event_on: dt.date
    state: str
    resolution: str
    claims: int
    registered_fen: int
    registered_interest_fen: int
    custodian_fen: int
    verified_claimants: int
    to_pay_fen: int
    not_paid_fen: int
    held: int
    held_fen: int
    paid_fen: int
    in_flight_fen: int
    owed_fen: int
    subrogated_fen: int
    recovered_fen: int
    written_off_fen: int
    claim_outstanding_fen: int
    categories: tuple[CategoryTotals, ...]
    batches: tuple[tuple[int, str, int, int, str, str | None], ...]   # number, status, count, total, by, released by


def report(session: Session, firm_id: str) -> FirmReport:
    firm = get_firm(session, firm_id)
    resolution = session.get(BoardResolution, firm.resolution_id)
    claims = list(session.execute(select(FirmClaim).where(FirmClaim.firm_id == firm_id)).scalars())
    custodian = session.execute(select(func.coalesce(func.sum(CustodianRecordRow.principal_fen), 0))
                                .where(CustodianRecordRow.firm_id == firm_id)).scalar_one()
    comps = list(session.execute(select(FirmCompensation).where(FirmCompensation.firm_id == firm_id)).scalars())
    by_status: dict[tuple[int, str], int] = {}
    for cid, status, fen in session.execute(
            select(FirmTransfer.compensation_id, FirmTransfer.status, func.sum(FirmTransfer.amount_fen))
            .join(FirmCompensation, FirmCompensation.id == FirmTransfer.compensation_id)
            .where(FirmCompensation.firm_id == firm_id).group_by(FirmTransfer.compensation_id, FirmTransfer.status)):
        by_status[(cid, status)] = int(fen)
    paid = {c.id: by_status.get((c.id, "paid"), 0) for c in comps}
    flying = {c.id: sum(by_status.get((c.id, s), 0) for s in IN_FLIGHT) for c in comps}
    moves = _account_movements(session, subrogated(firm_id))
    reviews = _reviews(session, firm_id)
    cats = []
    for cat in Category:
        cc = [c for c in claims if c.category == cat.value]
        kk = [c for c in comps if c.category == cat.value]
        cats.append(CategoryTotals(cat.value, len(cc), sum(c.principal_fen + c.interest_fen for c in cc),
                                   sum(to_pay(c, reviews) for c in kk),
                                   sum(c.claimed_fen for c in kk if c.held and c.id not in reviews),
                                   sum(paid[c.id] for c in kk)))
    paying = [c for c in comps if not c.held or c.id in reviews]
    pays = {c.id: to_pay(c, reviews) for c in comps}
    return FirmReport(
        firm.id, firm.name, firm.event, firm.event_on, firm.state, resolution.reference if resolution else "?",
        len(claims), sum(c.principal_fen + c.interest_fen for c in claims), sum(c.interest_fen for c in claims),
        int(custodian), len({c.claimant_id for c in paying}), sum(pays[c.id] for c in paying),
        sum(c.claimed_fen - pays[c.id] for c in paying), len(comps) - len(paying),
        sum(c.claimed_fen for c in comps if c.held and c.id not in reviews), sum(paid.values()),
        sum(flying.values()), sum(pays[c.id] - paid[c.id] - flying[c.id] for c in paying), moves.get("firm_settlement", 0),
        -moves.get("firm_recovery", 0), -moves.get("firm_writeoff", 0), sum(moves.values()), tuple(cats),
        tuple((b.number, b.status, b.count, b.total_fen, b.proposed_by, b.released_by)
              for b in batches(session, firm_id)))


@dataclass(frozen=True)
class ClaimantLine:
    category: str
    claims: tuple[tuple[str, int, int], ...]            # reference, principal, interest
    claimed_fen: int
    eligible_fen: int
    to_pay_fen: int
    held: bool
    paid_fen: int
    in_flight_fen: int
    owed_fen: int
    lines: tuple[str, ...]                              # the rule lines, or why the claim is held
    transfers: tuple[tuple[str, int, str, dt.date | None, str | None], ...]   # instruction, fen, status, on, reason


def claimant_statement(session: Session, firm_id: str, claimant_id: str) -> list[ClaimantLine]:
    """What one claimant registered, what was fixed (with the rule lines), and every transfer, per category."""
    get_firm(session, firm_id)
    claims = list(session.execute(select(FirmClaim).where(FirmClaim.firm_id == firm_id,
                                                          FirmClaim.claimant_id == claimant_id)
                                  .order_by(FirmClaim.reference)).scalars())
    comps = {c.category: c for c in session.execute(select(FirmCompensation).where(
        FirmCompensation.firm_id == firm_id, FirmCompensation.claimant_id == claimant_id)).scalars()}
    if not claims and not comps:
        raise NotFound(f"no claims of {claimant_id!r} in firm {firm_id} / 该申报人无申报债权")
    reviews = _reviews(session, firm_id)
    out = []
    for cat in Category:
        cc = [c for c in claims if c.category == cat.value]
        comp = comps.get(cat.value)
        if not cc and comp is None:
            continue
        transfers = [] if comp is None else list(session.execute(
            select(FirmTransfer).where(FirmTransfer.compensation_id == comp.id).order_by(FirmTransfer.id)).scalars())
        paid = sum(t.amount_fen for t in transfers if t.status == "paid")
        flying = sum(t.amount_fen for t in transfers if t.status in IN_FLIGHT)
        review = reviews.get(comp.id) if comp else None
        pay = to_pay(comp, reviews) if comp else 0
        lines = tuple(comp.note.splitlines()) if comp else ("not verified yet / 尚未核对",)
        if review is not None:
            lines += (f"reviewed on {review.decided_on} by {review.decided_by}: {yuan(review.principal_fen)} yuan "
                      f"accepted, {yuan(review.pay_fen)} yuan to pay ({review.reason}) / 复核确认",)
        out.append(ClaimantLine(
            cat.value, tuple((c.reference, c.principal_fen, c.interest_fen) for c in cc),
            comp.claimed_fen if comp else sum(c.principal_fen + c.interest_fen for c in cc),
            review.eligible_fen if review else (comp.eligible_fen if comp else 0), pay,
            bool(comp and comp.held and review is None), paid, flying, pay - paid - flying, lines,
            tuple((t.instruction_id, t.amount_fen, t.status, t.settled_on, t.reason) for t in transfers)))
    return out


__all__ = ["CLAIM_COLUMNS", "ClaimantLine", "EVENTS", "FileReport", "FirmReport", "RECORD_COLUMNS",
           "VerifySummary", "batches", "cancel_batch", "claimant_statement", "close_firm", "export_batch", "get_batch",
           "get_firm", "import_custodian_records", "import_results", "loss", "open_firm", "owed", "propose_batch",
           "record_recovery", "register_claims", "release_batch", "report", "resolve_held", "subrogated", "to_pay",
           "verify_firm"]
