"""Payments: batches of accepted claims (maker-checker release), instruction files for the clearing system,
results imported back (paid, returned), retries, reconciliation; then liquidation and closing.

No claim is paid twice: the amount instructed is what is still owed under a lock on the case; the database
refuses a second payment in flight for a claim (partial unique index) and a claim paid beyond its award
(check constraint); every result file is taken once by content hash and each instruction settles once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress import exports
from redress.admin.cases import (ApprovalAction, check_date, get_case, payers, payload, request_approval,
                                 require_state, require_user, transition)
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.admin.fund import (IN_TRANSIT, PAYABLE, TRUST_CASH, balances, file_date, imported, post, read_new_csv,
                                remember_import)
from redress.money import parse_yuan, yuan
from redress.claims.lifecycle import CaseState, ClaimStatus
from redress.ledger.allocation import allocate
from redress.ledger.core import AccountKind, Entry, Posting, account, fund_statement, transfer
from redress.store import audit
from redress.store.db import bulk_insert
from redress.store.models import Approval, Claim, Payment, PaymentBatch

PAYING = frozenset({CaseState.CLAIMS_OPEN, CaseState.CLAIMS_CLOSED, CaseState.LATE_WINDOW})
INSTRUCTION_COLUMNS = ["instruction_id", "case_id", "batch", "investor_id", "amount", "currency"]
RESULT_COLUMNS = ["instruction_id", "status", "amount", "settled_on"]


def propose_batch(session: Session, actor: str, case_id: str, on: dt.date, limit: int | None = None) -> Approval:
    """The maker gathers every accepted claim still owed money (new, or returned before) into a batch."""
    case = get_case(session, case_id, lock=True)
    require_user(session, actor, "operator")
    require_state(case, PAYING, "make a payment batch")
    check_date(on, "the batch's date")
    in_flight = select(Payment.claim_id).where(Payment.status.in_(("pending", "instructed")))
    owed = (select(Claim).where(Claim.case_id == case_id, Claim.status == ClaimStatus.ACCEPTED,
                                Claim.awarded_fen + Claim.interest_fen > Claim.paid_fen, Claim.id.not_in(in_flight))
            .order_by(Claim.investor_id))
    if limit:
        owed = owed.limit(limit)
    claims = list(session.execute(owed).scalars())
    if not claims:
        raise AdminError("nothing to pay: no accepted claim is owed money outside a batch already in flight")
    number = (session.execute(select(func.max(PaymentBatch.number)).where(PaymentBatch.case_id == case_id))
              .scalar_one() or 0) + 1
    total = sum(c.awarded_fen + c.interest_fen - c.paid_fen for c in claims)
    cash = balances(session, case_id).get(TRUST_CASH, 0)
    if total > cash:
        raise AdminError(f"batch of {yuan(total)} yuan exceeds the trust account's {yuan(cash)} yuan")
    ap = request_approval(session, actor, case, ApprovalAction.RELEASE_BATCH, f"batch {number}",
                          {"batch": number, "count": len(claims), "total_fen": total, "on": on.isoformat()})
    batch = PaymentBatch(case_id=case_id, number=number, status="proposed", count=len(claims), total_fen=total,
                         approval_id=ap.id)
    session.add(batch)
    session.flush()
    attempts = dict(session.execute(select(Payment.claim_id, func.count()).where(
        Payment.claim_id.in_([c.id for c in claims])).group_by(Payment.claim_id)).all()) if len(claims) < 30000 else \
        dict(session.execute(select(Payment.claim_id, func.count()).group_by(Payment.claim_id)).all())
    bulk_insert(session, Payment.__table__, [
        {"batch_id": batch.id, "claim_id": c.id, "amount_fen": c.awarded_fen + c.interest_fen - c.paid_fen,
         "instruction_id": f"{case_id}-{number:04d}-{c.id}-{attempts.get(c.id, 0) + 1}", "status": "pending"}
        for c in claims])
    session.flush()
    return ap


def mark_pending(session: Session, transfers: type, batch_id: int, status: str) -> None:
    """A batch's pending transfers (payments, fair-fund or failed-firm transfers) become ``instructed`` when it
    is released or ``cancelled`` when it is cancelled: one UPDATE."""
    session.execute(transfers.__table__.update().where(transfers.batch_id == batch_id, transfers.status == "pending")
                    .values(status=status))


def settle_batches(session: Session, batches: Iterable, transfers: type) -> None:
    """A released batch none of whose transfers is still waiting for its result is settled."""
    for b in batches:
        if b.status == "released" and not session.execute(select(func.count()).select_from(transfers).where(
                transfers.batch_id == b.id, transfers.status == "instructed")).scalar_one():
            b.status = "settled"


def grant_release(session: Session, ap: Approval, actor: str) -> PaymentBatch:
    body = payload(ap)
    case = get_case(session, ap.case_id, lock=True)
    require_state(case, PAYING, "release a payment batch")
    batch = session.execute(select(PaymentBatch).where(PaymentBatch.approval_id == ap.id)).scalar_one()
    on = dt.date.fromisoformat(body["on"])
    mark_pending(session, Payment, batch.id, "instructed")
    batch.status, batch.released_on = "released", on
    session.flush()
    post(session, case.id, transfer(on, "release", f"batch {batch.number}: {batch.count} payments to the clearing "
                                    f"system", f"release:{batch.number}", IN_TRANSIT, TRUST_CASH, batch.total_fen),
         actor)
    return batch


def unwind_release(session: Session, ap: Approval, actor: str) -> None:
    """A rejected batch is cancelled: its payments leave the queue and its claims can go in the next batch."""
    batch = session.execute(select(PaymentBatch).where(PaymentBatch.approval_id == ap.id)).scalar_one()
    mark_pending(session, Payment, batch.id, "cancelled")
    batch.status = "cancelled"
    session.flush()
    audit.record(session, actor, "payments.batch_cancelled", f"batch {batch.number}",
                 {"approval": ap.id, "count": batch.count, "total_fen": batch.total_fen}, ap.case_id)


def _batch(session: Session, case_id: str, number: int) -> PaymentBatch:
    b = session.execute(select(PaymentBatch).where(PaymentBatch.case_id == case_id, PaymentBatch.number == number)
                        ).scalar_one_or_none()
    if b is None:
        raise NotFound(f"no payment batch {number} in case {case_id}")
    return b


def export_batch(session: Session, actor: str, case_id: str, number: int, out_dir: Path) -> tuple[Path, Path]:
    """Write the batch's payment instruction file and its manifest (count, total, SHA-256).  The file is the same
    byte for byte every time it is written; the first export's hash is kept and later ones must match it."""
    require_user(session, actor, "operator")
    get_case(session, case_id, lock=True)
    batch = _batch(session, case_id, number)
    if batch.status == "proposed":
        raise AdminError(f"batch {number} is waiting for approval; it cannot be sent before a second person "
                         f"releases it / 批次尚未复核放行")
    if batch.status == "cancelled":
        raise AdminError(f"batch {number} was rejected and cancelled; make a new batch / 批次已退回作废")
    rows = session.execute(select(Payment.instruction_id, Claim.investor_id, Payment.amount_fen)
                           .join(Claim, Claim.id == Payment.claim_id).where(Payment.batch_id == batch.id)
                           .order_by(Payment.instruction_id)).all()
    path, manifest, digest = write_instructions(out_dir, f"{case_id}-batch-{number:04d}", case_id, number,
                                                [tuple(r) for r in rows], batch.file_sha256)
    if batch.file_sha256 is None:
        batch.file_sha256 = digest
        session.flush()
        audit.record(session, actor, "payments.exported", f"batch {number}", {"sha256": digest, "count": len(rows)},
                     case_id)
    return path, manifest


def write_instructions(out_dir: Path, stem: str, case_id: str, number: int, rows: list[tuple[str, str, int]],
                       first_sha256: str | None) -> tuple[Path, Path, str]:
    """Write an instruction file (``INSTRUCTION_COLUMNS``; rows of instruction id, investor, fen) and its
    manifest.  The bytes depend only on the rows; a file that would differ from the first one sent is refused.
    Cells are written by ``redress.exports`` (safe to open in a spreadsheet); instruction ids, valid investor
    ids and amounts are never altered by it, so the clearing system's results refer to exactly what was sent."""
    data = exports.csv_bytes(INSTRUCTION_COLUMNS, [[iid, case_id, number, inv, yuan(fen), "CNY"]
                                                   for iid, inv, fen in rows])
    digest = hashlib.sha256(data).hexdigest()
    if first_sha256 not in (None, digest):
        raise AdminError(f"batch {number} would export differently from the file first sent "
                         f"({first_sha256[:12]} vs {digest[:12]}); the data changed, investigate first")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}.csv"
    manifest = out_dir / f"{stem}.manifest.json"
    path.write_bytes(data)
    manifest.write_text(json.dumps({"case_id": case_id, "batch": number, "count": len(rows),
                                    "total": yuan(sum(r[2] for r in rows)), "sha256": digest,
                                    "file": path.name}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path, manifest, digest


@dataclass
class ImportReport:
    file: str
    already_imported: bool = False
    paid: int = 0
    returned: int = 0
    unchanged: int = 0
    paid_fen: int = 0
    returned_fen: int = 0
    returns: list[tuple[str, str]] = field(default_factory=list)

    def count(self, instruction_id: str, status: str, fen: int, reason: str) -> None:
        """Count one applied line of a results file."""
        if status == "paid":
            self.paid += 1
            self.paid_fen += fen
        else:
            self.returned += 1
            self.returned_fen += fen
            self.returns.append((instruction_id, reason))


def import_results(session: Session, actor: str, case_id: str, path: Path,
                   on_row: Callable[[int], None] | None = None) -> ImportReport:
    """Apply a results file from the clearing system (CSV ``instruction_id,status,amount,settled_on[,reason]``,
    status ``paid`` or ``returned``).  All or nothing: any bad line refuses the file with file, line and
    reason.  The same file again, or a line already applied, changes nothing."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    taken = read_new_csv(path, RESULT_COLUMNS, lambda d: imported(session, case_id, "payment_results", d))
    if taken is None:
        return ImportReport(path.name, already_imported=True)
    digest, rows = taken
    report = ImportReport(path.name)
    ids = [r["instruction_id"].strip() for _l, r in rows]
    payments: dict[str, Payment] = {}
    for start in range(0, len(ids), 5000):
        payments.update({p.instruction_id: p for p in session.execute(
            select(Payment).join(PaymentBatch).where(PaymentBatch.case_id == case_id,
                                                     Payment.instruction_id.in_(ids[start:start + 5000]))
            .with_for_update()).scalars()})
    parsed, report.unchanged, problems = check_results(path, rows, payments, case_id)
    if problems:
        raise BadInput(f"payment results {path.name} refused; nothing changed / 划付结果文件有误，未作任何处理",
                       problems)
    f = remember_import(session, case_id, "payment_results", digest, path.name, len(rows), actor)
    settle, paid_by_claim = [], []
    last_on = None
    for i, (_line, p, status, fen, on, reason) in enumerate(parsed):
        settle.append({"b_id": p.id, "b_status": status, "b_on": on, "b_file": f.id, "b_reason": reason or None})
        if status == "paid":
            paid_by_claim.append({"b_claim": p.claim_id, "b_fen": fen})
        report.count(p.instruction_id, status, fen, reason)
        last_on = max(last_on or on, on)
        if on_row is not None:
            on_row(i)
    # one UPDATE per (status, date, reason) over lists of ids, not one statement per payment
    pc, cc = Payment.__table__.c, Claim.__table__.c
    groups: dict[tuple[str, dt.date, str | None], list[int]] = {}
    for u in settle:
        groups.setdefault((u["b_status"], u["b_on"], u["b_reason"]), []).append(u["b_id"])
    for (status, on, reason), ids in groups.items():
        for start in range(0, len(ids), 5000):
            session.execute(Payment.__table__.update().where(pc.id.in_(ids[start:start + 5000])).values(
                status=status, settled_on=on, result_file_id=f.id, reason=reason))
    claim_ids = [u["b_claim"] for u in paid_by_claim]
    paid_here = (select(pc.amount_fen).where(pc.claim_id == cc.id, pc.result_file_id == f.id, pc.status == "paid")
                 .scalar_subquery())
    for start in range(0, len(claim_ids), 5000):
        session.execute(Claim.__table__.update().where(cc.id.in_(claim_ids[start:start + 5000])).values(
            paid_fen=cc.paid_fen + paid_here))
    session.expire_all()
    session.flush()
    postings = []
    if report.paid_fen:
        postings.append(Posting(PAYABLE, report.paid_fen))
    if report.returned_fen:
        postings.append(Posting(TRUST_CASH, report.returned_fen))
    if postings:
        postings.append(Posting(IN_TRANSIT, -(report.paid_fen + report.returned_fen)))
        post(session, case_id, Entry(last_on, "settlement", f"results {path.name}: {report.paid} paid, "
                                     f"{report.returned} returned", tuple(postings), f"settlement:{digest[:32]}"), actor)
    settle_batches(session, session.execute(select(PaymentBatch).where(
        PaymentBatch.case_id == case_id, PaymentBatch.status == "released")).scalars(), Payment)
    session.flush()
    investors: dict[int, str] = {}
    for start in range(0, len(claim_ids), 5000):
        investors.update(session.execute(select(cc.id, cc.investor_id)
                                         .where(cc.id.in_(claim_ids[start:start + 5000]))).all())
    payments_fen: dict[str, int] = {}       # what each investor was paid, so that `audit verify` can replay it
    for u in paid_by_claim:
        inv = investors[u["b_claim"]]
        payments_fen[inv] = payments_fen.get(inv, 0) + u["b_fen"]
    audit.record(session, actor, "payments.results_imported", path.name,
                 {"sha256": digest, "paid": report.paid, "returned": report.returned, "unchanged": report.unchanged,
                  "paid_fen": report.paid_fen, "returned_fen": report.returned_fen, "payments_fen": payments_fen},
                 case.id)
    return report


def check_results(path: Path, rows: list[tuple[int, dict[str, str]]], sent: dict, case_id: str
                  ) -> tuple[list[tuple[int, object, str, int, dt.date, str]], int, list[str]]:
    """Check each line of a results file against the instructions ``sent`` (by instruction id; objects with
    ``amount_fen``, ``status``, ``settled_on``).  Returns the lines to apply (line, instruction, status, fen,
    date, reason), how many repeat a settlement already applied, and the problems, each naming file and line."""
    problems: list[str] = []
    parsed: list[tuple[int, object, str, int, dt.date, str]] = []
    unchanged = 0
    seen: dict[str, int] = {}
    for line, rec in rows:
        where = f"{path.name}:{line}"
        iid = rec["instruction_id"].strip()
        if iid in seen:
            problems.append(f"{where}: instruction {iid} also on line {seen[iid]}")
            continue
        seen[iid] = line
        p = sent.get(iid)
        if p is None:
            problems.append(f"{where}: unknown instruction {iid!r} (not sent in case {case_id})")
            continue
        status = rec["status"].strip().lower()
        if status not in ("paid", "returned"):
            problems.append(f"{where}: status must be paid or returned, not {rec['status']!r}")
            continue
        try:
            fen = parse_yuan(rec["amount"])
            on = file_date(rec["settled_on"], "settled_on")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if fen != p.amount_fen:
            problems.append(f"{where}: amount {yuan(fen)} differs from the instruction's {yuan(p.amount_fen)}")
            continue
        reason = (rec.get("reason") or "").strip()
        if status == "returned" and not reason:
            problems.append(f"{where}: a returned payment needs a reason")
            continue
        if p.status == "pending":
            problems.append(f"{where}: instruction {iid} was never released")
            continue
        if p.status in ("paid", "returned"):
            if p.status != status or p.settled_on != on:
                problems.append(f"{where}: instruction {iid} already settled as {p.status} on {p.settled_on}; "
                                f"this file says {status} on {on}")
            else:
                unchanged += 1
            continue
        parsed.append((line, p, status, fen, on, reason))
    return parsed, unchanged, problems


@dataclass(frozen=True)
class Reconciliation:
    figures: dict[str, int]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile(session: Session, case_id: str) -> Reconciliation:
    """Control accounts against their detail: payable = owed on claims; in transit = instructed payments;
    paid on claims = payments marked paid; the books balance and the fund statement holds."""
    get_case(session, case_id)
    bal = balances(session, case_id)
    owed = session.execute(select(func.coalesce(func.sum(Claim.awarded_fen + Claim.interest_fen - Claim.paid_fen), 0))
                           .where(Claim.case_id == case_id)).scalar_one()
    by_status = dict(session.execute(select(Payment.status, func.coalesce(func.sum(Payment.amount_fen), 0))
                                     .join(PaymentBatch).where(PaymentBatch.case_id == case_id)
                                     .group_by(Payment.status)).all())
    paid_claims = session.execute(select(func.coalesce(func.sum(Claim.paid_fen), 0))
                                  .where(Claim.case_id == case_id)).scalar_one()
    fig = {"payable_books_fen": -bal.get(PAYABLE, 0), "owed_on_claims_fen": int(owed),
           "in_transit_books_fen": bal.get(IN_TRANSIT, 0), "instructed_fen": int(by_status.get("instructed", 0)),
           "paid_on_claims_fen": int(paid_claims), "payments_paid_fen": int(by_status.get("paid", 0)),
           "payments_returned_fen": int(by_status.get("returned", 0)), "trust_cash_fen": bal.get(TRUST_CASH, 0)}
    problems = []
    if fig["payable_books_fen"] != fig["owed_on_claims_fen"]:
        problems.append(f"payable in the books {yuan(fig['payable_books_fen'])} != owed on claims "
                        f"{yuan(fig['owed_on_claims_fen'])}")
    if fig["in_transit_books_fen"] != fig["instructed_fen"]:
        problems.append(f"in transit in the books {yuan(fig['in_transit_books_fen'])} != instructed payments "
                        f"{yuan(fig['instructed_fen'])}")
    if fig["paid_on_claims_fen"] != fig["payments_paid_fen"]:
        problems.append(f"paid on claims {yuan(fig['paid_on_claims_fen'])} != payments paid "
                        f"{yuan(fig['payments_paid_fen'])}")
    if sum(bal.values()) != 0:
        problems.append(f"the books do not balance by {sum(bal.values())} fen")
    try:
        fund_statement(bal)
    except ValueError as exc:
        problems.append(str(exc))
    return Reconciliation(fig, tuple(problems))


def complete_payments(session: Session, actor: str, case_id: str) -> None:
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.CLAIMS_CLOSED}, "complete payments")
    rec = reconcile(session, case_id)
    if not rec.ok:
        raise AdminError("reconciliation fails: " + "; ".join(rec.problems))
    st = fund_statement(balances(session, case_id))
    if st.payable_fen or st.in_transit_fen:
        raise AdminError(f"payments are not complete: {yuan(st.payable_fen)} yuan still owed to investors, "
                         f"{yuan(st.in_transit_fen)} yuan in transit / 尚有未完成的划付")
    if st.interest_undistributed_fen:
        raise AdminError(f"{yuan(st.interest_undistributed_fen)} yuan of interest has not been passed to investors "
                         f"(`redress claims interest`)")
    transition(session, case, CaseState.PAYMENTS_COMPLETE, actor,
               f"every award paid: {yuan(st.paid_out_fen)} yuan to investors")


def propose_surplus_return(session: Session, actor: str, case_id: str, on: dt.date) -> Approval:
    """The maker proposes returning what is left to the payers, in proportion to their contributions."""
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.PAYMENTS_COMPLETE}, "return the surplus")
    check_date(on, "the surplus return's date")
    bal = balances(session, case_id)
    st = fund_statement(bal)
    if st.payable_fen or st.in_transit_fen or st.interest_undistributed_fen:
        raise AdminError("money is still owed to investors; it cannot be returned to payers")
    weights = {p.payer_id: -bal.get(account(AccountKind.CONTRIBUTION, p.payer_id), 0) for p in payers(session, case_id)}
    run = allocate(st.surplus_fen, weights)
    return request_approval(session, actor, case, ApprovalAction.RETURN_SURPLUS, f"surplus {yuan(st.surplus_fen)}",
                            {"on": on.isoformat(), "surplus_fen": st.surplus_fen, "shares_fen": dict(run.shares_fen),
                             "remainder_fen": run.remainder_fen})


def grant_surplus_return(session: Session, ap: Approval, actor: str) -> None:
    body = payload(ap)
    case = get_case(session, ap.case_id, lock=True)
    on = dt.date.fromisoformat(body["on"])
    st = fund_statement(balances(session, case.id))
    if st.surplus_fen != body["surplus_fen"]:
        raise AdminError(f"the surplus changed since the request ({yuan(body['surplus_fen'])} -> "
                         f"{yuan(st.surplus_fen)}); make a new request")
    for payer_id, fen in sorted(body["shares_fen"].items()):
        if fen:
            post(session, case.id, transfer(on, "surplus_return", f"surplus returned to {payer_id}",
                                            f"surplus_return:{payer_id}", account(AccountKind.SURPLUS_RETURNED, payer_id),
                                            TRUST_CASH, fen), actor)
    transition(session, case, CaseState.LIQUIDATED, actor,
               f"surplus of {yuan(body['surplus_fen'])} yuan returned to payers (request {ap.id})")


def close_case(session: Session, actor: str, case_id: str, reason: str) -> None:
    from redress.store.audit import verify

    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, {CaseState.LIQUIDATED}, "close the case")
    bal = balances(session, case_id)
    if bal.get(TRUST_CASH, 0):
        raise AdminError(f"the trust account still holds {yuan(bal[TRUST_CASH])} yuan")
    v = verify(session)
    if not v.ok:
        raise AdminError("the audit log does not verify: " + "; ".join(v.problems))
    transition(session, case, CaseState.CLOSED, actor, reason)


def batches(session: Session, case_id: str) -> list[PaymentBatch]:
    return list(session.execute(select(PaymentBatch).where(PaymentBatch.case_id == case_id)
                                .order_by(PaymentBatch.number)).scalars())
