"""The special fund's books in the database: posting entries, contributions, interest, fees, corrections,
bank statements, the trial balance and the fund statement."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress.admin.cases import (ApprovalAction, check_date, get_case, iso_date, parse_date, payload,
                                 request_approval, require_state, require_user, transition)
from redress.admin.errors import AdminError, BadInput, NotFound
from redress.money import MAX_AMOUNT_FEN, over_limits, parse_yuan, yuan
from redress.claims.lifecycle import FUND_OPEN, CaseState
from redress.ledger.core import (AccountKind, Entry, FundStatement, Posting, TrialBalance, account, lowest_balance,
                                 fund_statement, reversal, transfer, trial_balance)
from redress.store import audit
from redress.store.models import Approval, BalanceCheck, ImportedFile, LedgerEntry, LedgerPosting, Payer

TRUST_CASH = account(AccountKind.TRUST_CASH)
IN_TRANSIT = account(AccountKind.IN_TRANSIT)
PAYABLE = account(AccountKind.PAYABLE)


def _stored(row: LedgerEntry, postings: list[LedgerPosting]) -> Entry:
    return Entry(row.booked_on, row.kind, row.memo, tuple(Posting(p.account, p.amount_fen) for p in postings),
                 row.key, row.reverses)


def post(session: Session, case_id: str, entry: Entry, actor: str) -> LedgerEntry:
    """Append ``entry`` to the case's books.  Idempotent by key: the same entry again returns the stored one;
    a different entry under a used key is refused, naming the field that differs."""
    existing = session.execute(select(LedgerEntry).where(LedgerEntry.case_id == case_id,
                                                         LedgerEntry.key == entry.key)).scalar_one_or_none()
    if existing is not None:
        old = _stored(existing, _postings(session, existing.id))
        for field in ("booked_on", "kind", "memo", "postings", "reverses"):
            if getattr(old, field) != getattr(entry, field):
                raise AdminError(f"entry {entry.key} was already booked with a different {field} (booked "
                                 f"{_show(field, old)}, now {_show(field, entry)}); a retry must repeat the "
                                 f"original exactly, a new transaction needs a new reference / 流水号已使用")
        return existing
    check_date(entry.booked_on, f"entry {entry.key}: booked on")
    after, moved = after_entry(session, case_id, entry)
    beyond = over_limits(after, (p.account for p in entry.postings), moved)
    if beyond:
        raise BadInput(f"entry {entry.key} refused: {beyond}")
    cash_change = sum(p.amount_fen for p in entry.postings if p.account == TRUST_CASH)
    if cash_change < 0:
        low_on, low = lowest_trust_cash(session, case_id, entry.booked_on, cash_change)
        if low < 0:
            raise AdminError(f"entry {entry.key} dated {entry.booked_on} would overdraw the trust account by "
                             f"{yuan(-low)} yuan on {low_on} / 托管账户余额不足")
    if after.get(IN_TRANSIT, 0) < 0 or after.get(PAYABLE, 0) > 0:
        raise AdminError(f"entry {entry.key} would leave payments in transit or compensation payable negative")
    row = LedgerEntry(case_id=case_id, key=entry.key, booked_on=entry.booked_on, kind=entry.kind, memo=entry.memo,
                      reverses=entry.reverses, actor=actor, at=audit.now_stamp())
    session.add(row)
    session.flush()
    session.add_all([LedgerPosting(entry_id=row.id, account=p.account, amount_fen=p.amount_fen)
                     for p in entry.postings])
    session.flush()
    audit.record(session, actor, f"ledger.{entry.kind}", entry.key,
                 {"booked_on": entry.booked_on.isoformat(), "memo": entry.memo, "reverses": entry.reverses,
                  "postings": [[p.account, p.amount_fen] for p in entry.postings]}, case_id)
    return row


def _show(field: str, entry: Entry) -> str:
    if field == "postings":
        return ", ".join(f"{p.account} {'+' if p.amount_fen > 0 else ''}{yuan(p.amount_fen)}" for p in entry.postings)
    return repr(getattr(entry, field))


def after_entry(session: Session, case_id: str, entry: Entry) -> tuple[dict[str, int], int]:
    """The balances (debit-positive, zeros left out as in ``balances``) and the turnover (the sum of absolute
    postings, bounded: see ``money``) the case's books would have with ``entry`` booked; one query."""
    rows = session.execute(select(LedgerPosting.account, func.sum(LedgerPosting.amount_fen),
                                  func.sum(func.abs(LedgerPosting.amount_fen))).join(LedgerEntry)
                           .where(LedgerEntry.case_id == case_id).group_by(LedgerPosting.account)).all()
    after = {a: int(b) for a, b, _moved in rows if int(b) != 0}
    for p in entry.postings:
        after[p.account] = after.get(p.account, 0) + p.amount_fen
    return after, sum(int(m) for *_ab, m in rows) + sum(abs(p.amount_fen) for p in entry.postings)


def turnover(session: Session, case_id: str) -> int:
    """The sum of the absolute values of every posting in the case's books (bounded: see ``money``)."""
    return int(session.execute(select(func.coalesce(func.sum(func.abs(LedgerPosting.amount_fen)), 0))
                               .join(LedgerEntry).where(LedgerEntry.case_id == case_id)).scalar_one())


def lowest_trust_cash(session: Session, case_id: str, booked_on: dt.date, change_fen: int) -> tuple[dt.date, int]:
    """The lowest end-of-day trust cash from ``booked_on`` on, if ``change_fen`` were booked on that date.
    A back-dated payment must not overdraw the account on any day the books already cover."""
    daily = session.execute(select(LedgerEntry.booked_on, func.sum(LedgerPosting.amount_fen)).join(LedgerEntry)
                            .where(LedgerEntry.case_id == case_id, LedgerPosting.account == TRUST_CASH)
                            .group_by(LedgerEntry.booked_on).order_by(LedgerEntry.booked_on)).all()
    return lowest_balance(daily, booked_on, change_fen)


def _postings(session: Session, entry_id: int) -> list[LedgerPosting]:
    return list(session.execute(select(LedgerPosting).where(LedgerPosting.entry_id == entry_id)
                                .order_by(LedgerPosting.id)).scalars())


def entries(session: Session, case_id: str) -> list[Entry]:
    """Every entry of the case, in booking order, as pure values (for replay and explanation)."""
    rows = list(session.execute(select(LedgerEntry).where(LedgerEntry.case_id == case_id)
                                .order_by(LedgerEntry.id)).scalars())
    by_entry: dict[int, list[LedgerPosting]] = defaultdict(list)
    for p in session.execute(select(LedgerPosting).join(LedgerEntry).where(LedgerEntry.case_id == case_id)
                             .order_by(LedgerPosting.id)).scalars():
        by_entry[p.entry_id].append(p)
    return [_stored(r, by_entry[r.id]) for r in rows]


def balances(session: Session, case_id: str, through: dt.date | None = None) -> dict[str, int]:
    """Debit-positive balance per account, summed by the database from the postings."""
    stmt = (select(LedgerPosting.account, func.sum(LedgerPosting.amount_fen)).join(LedgerEntry)
            .where(LedgerEntry.case_id == case_id).group_by(LedgerPosting.account))
    if through is not None:
        stmt = stmt.where(LedgerEntry.booked_on <= through)
    return {a: int(b) for a, b in session.execute(stmt) if int(b) != 0}


def statement(session: Session, case_id: str) -> FundStatement:
    """The fund statement; every named payer appears, even one whose contribution was reversed to zero."""
    get_case(session, case_id)
    st = fund_statement(balances(session, case_id))
    named = {p.payer_id: 0 for p in session.execute(select(Payer).where(Payer.case_id == case_id)).scalars()}
    return dataclasses.replace(st, contributions_fen=dict(sorted({**named, **st.contributions_fen}.items())))


def trial(session: Session, case_id: str) -> TrialBalance:
    get_case(session, case_id)
    return trial_balance(balances(session, case_id))


def _payer(session: Session, case_id: str, payer_id: str) -> Payer:
    payer = session.get(Payer, (case_id, payer_id))
    if payer is None:
        raise NotFound(f"no payer {payer_id!r} in case {case_id}", hint="name payers with `redress payer add`")
    return payer


def _positive(amount_fen: int, what: str) -> None:
    """A refused amount is the caller's bad input (reported), not a crash of the ledger core."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise BadInput(f"{what}: the amount must be a positive number of fen, got {amount_fen!r} / 金额须为正数")
    if amount_fen > MAX_AMOUNT_FEN:
        raise BadInput(f"{what}: {yuan(amount_fen, grouping=True)} yuan is more than the largest amount "
                       f"allowed, {yuan(MAX_AMOUNT_FEN, grouping=True)} yuan / 金额超过上限")


def contribute(session: Session, actor: str, case_id: str, payer_id: str, amount_fen: int, on: dt.date,
               reference: str) -> LedgerEntry:
    """Money from a payer arrived in the trust account (Dr trust cash, Cr the payer's contribution)."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, FUND_OPEN, "record a contribution")
    _positive(amount_fen, f"contribution {reference}")
    payer = _payer(session, case_id, payer_id)
    entry = transfer(on, "contribution", f"contribution from {payer.name} ({reference})", f"contribution:{reference}",
                     TRUST_CASH, account(AccountKind.CONTRIBUTION, payer_id), amount_fen)
    return post(session, case_id, entry, actor)


def establish(session: Session, actor: str, case_id: str, reason: str = "special fund established") -> None:
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    if balances(session, case_id).get(TRUST_CASH, 0) <= 0:
        raise AdminError(f"case {case_id}: no money in the trust account yet; record contributions first "
                         f"(`redress fund contribute`) / 尚未收到出资")
    transition(session, case, CaseState.FUND_ESTABLISHED, actor, reason)


def interest(session: Session, actor: str, case_id: str, amount_fen: int, on: dt.date, reference: str) -> LedgerEntry:
    """Interest credited by the bank; it belongs to the investors, never to the payers."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, FUND_OPEN, "record interest")
    _positive(amount_fen, f"interest {reference}")
    entry = transfer(on, "interest", f"interest credited ({reference})", f"interest:{reference}", TRUST_CASH,
                     account(AccountKind.INTEREST), amount_fen)
    return post(session, case_id, entry, actor)


def fee(session: Session, actor: str, case_id: str, amount_fen: int, on: dt.date, reference: str,
        memo: str) -> LedgerEntry:
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, FUND_OPEN, "record a fee")
    _positive(amount_fen, f"fee {reference}")
    entry = transfer(on, "fee", f"{memo} ({reference})", f"fee:{reference}", account(AccountKind.FEES), TRUST_CASH,
                     amount_fen)
    return post(session, case_id, entry, actor)


CORRECTABLE = frozenset({"contribution", "interest", "fee"})


def propose_reversal(session: Session, actor: str, case_id: str, key: str, on: dt.date, reason: str) -> Approval:
    """Propose correcting a mistaken contribution, interest or fee entry by booking its exact opposite.  A
    correction moves money in the books, so a second person approves it (``redress approval approve``); the
    request states the entry and the amount that leaves or returns to the trust account."""
    require_user(session, actor, "operator")
    case = get_case(session, case_id, lock=True)
    require_state(case, FUND_OPEN, "correct an entry")
    original = _correctable(session, case_id, key)
    if not reason.strip():
        raise BadInput("a correction needs a reason")
    if _booked(session, case_id, f"reversal:{key}"):
        raise AdminError(f"entry {key} has already been reversed / 该笔已冲正")
    cash_fen = -sum(p.amount_fen for p in original.postings if p.account == TRUST_CASH)
    return request_approval(session, actor, case, ApprovalAction.REVERSE_ENTRY, f"entry {key}",
                            {"key": key, "kind": original.kind, "on": on.isoformat(), "reason": reason,
                             "trust_cash_change_fen": cash_fen})


def grant_reversal(session: Session, ap: Approval, actor: str) -> LedgerEntry:
    """The approved correction is booked, unless it would leave the fund unable to pay the awards it already
    owes investors: money owed to investors is never handed back."""
    body = payload(ap)
    case = get_case(session, ap.case_id, lock=True)
    require_state(case, FUND_OPEN, "correct an entry")
    key = body["key"]
    original = _correctable(session, case.id, key)
    entry = reversal(original, dt.date.fromisoformat(body["on"]), f"reversal of {key}: {body['reason']}",
                     f"reversal:{key}")
    after, _moved = after_entry(session, case.id, entry)
    left = after.get(TRUST_CASH, 0) + after.get(IN_TRANSIT, 0) + after.get(PAYABLE, 0)   # payable is credit
    if after.get(TRUST_CASH, 0) >= 0 and left < 0:      # (an overdraft is refused by ``post`` in its own words)
        raise AdminError(f"reversing {key} would leave the fund {yuan(-left)} yuan short of what it already owes "
                         f"investors; it cannot be reversed now / 冲正后基金不足以支付已确认的赔付")
    return post(session, case.id, entry, actor)


def _correctable(session: Session, case_id: str, key: str) -> Entry:
    row = session.execute(select(LedgerEntry).where(LedgerEntry.case_id == case_id, LedgerEntry.key == key)
                          ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no entry {key!r} in case {case_id}")
    if row.kind not in CORRECTABLE:
        raise AdminError(f"entry {key} is a {row.kind} entry, made by the system; it is corrected through its own "
                         f"operation, not by hand")
    return _stored(row, _postings(session, row.id))


def _booked(session: Session, case_id: str, key: str) -> bool:
    return session.execute(select(LedgerEntry.id).where(LedgerEntry.case_id == case_id, LedgerEntry.key == key)
                           ).first() is not None


def free_fen(session: Session, case_id: str) -> int:
    """The fund's money not yet owed to anyone: what new awards can draw on (the statement's surplus)."""
    return fund_statement(balances(session, case_id)).surplus_fen


def import_bank_statement(session: Session, actor: str, case_id: str, path: Path) -> list[BalanceCheck]:
    """Check each closing balance of a bank statement (CSV ``date,balance[,reference]``) against the trust
    account in the books.  Any bad line or disagreement refuses the whole file; the same file twice is a no-op."""
    require_user(session, actor, "operator")
    get_case(session, case_id, lock=True)
    taken = read_new_csv(path, ["date", "balance"], lambda d: imported(session, case_id, "bank_statement", d))
    if taken is None:
        return []
    digest, rows = taken
    problems: list[str] = []
    checks: list[tuple[int, dt.date, int, str]] = []
    for line, rec in rows:
        try:
            on = file_date(rec["date"], "date")
            fen = parse_yuan(rec["balance"])
        except ValueError as exc:
            problems.append(f"{path.name}:{line}: {exc}")
            continue
        checks.append((line, on, fen, rec.get("reference") or ""))
    if problems:
        raise BadInput(f"bank statement {path.name} refused; nothing recorded", problems)
    for line, on, fen, _ref in checks:
        books = balances(session, case_id, through=on).get(TRUST_CASH, 0)
        if books != fen:
            problems.append(f"{path.name}:{line}: statement balance on {on} is {yuan(fen)} yuan but the books say "
                            f"{yuan(books)} yuan (difference {yuan(books - fen)})")
    if problems:
        raise BadInput(f"bank statement {path.name} does not agree with the books; nothing recorded / 对账不符",
                       problems, hint="find the missing or wrong entry, book it, then import the statement again")
    f = remember_import(session, case_id, "bank_statement", digest, path.name, len(checks), actor)
    out = [BalanceCheck(case_id=case_id, on=on, account=TRUST_CASH, expected_fen=fen,
                        source=f"{path.name}:{line}" + (f" {ref}" if ref else ""), file_id=f.id, at=f.at)
           for line, on, fen, ref in checks]
    session.add_all(out)
    session.flush()
    audit.record(session, actor, "fund.bank_statement", path.name, {"sha256": digest, "balances": len(checks)},
                 case_id)
    return out


def imported(session: Session, case_id: str, kind: str, digest: str) -> ImportedFile | None:
    """The file of this kind and content already taken in for the case, if any."""
    return session.execute(select(ImportedFile).where(ImportedFile.case_id == case_id, ImportedFile.kind == kind,
                                                      ImportedFile.sha256 == digest)).scalar_one_or_none()


def remember_import(session: Session, case_id: str, kind: str, digest: str, name: str, rows: int,
                    actor: str) -> ImportedFile:
    f = ImportedFile(case_id=case_id, kind=kind, sha256=digest, name=name, rows=rows, actor=actor,
                     at=audit.now_stamp())
    session.add(f)
    session.flush()
    return f


def read_new_csv(path: Path, required: list[str], seen: Callable[[str], object]
                 ) -> tuple[str, list[tuple[int, dict[str, str]]]] | None:
    """An input file's SHA-256 and its rows (``read_csv``), or None when ``seen(sha256)`` says the same content
    was taken in before: taking a file twice changes nothing."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if seen(digest):
        return None
    return digest, read_csv(path, raw, required)


def read_csv(path: Path, raw: bytes, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise BadInput(f"{path.name}:{line}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise BadInput(f"{path.name}:1: missing column(s) {', '.join(missing)}; expected {','.join(required)}")
    out = []
    for rec in reader:
        if None in rec or any(v is None for v in rec.values()):
            raise BadInput(f"{path.name}:{reader.line_num}: wrong number of fields")
        out.append((reader.line_num, rec))
    return out


def file_date(text: str, column: str) -> dt.date:
    """A date cell of an input file, something that happened (``DateKind.EVENT``: not before the first day of
    exchange trading, not more than a few days ahead); the error (a ``ValueError``) names column and value."""
    try:
        on = iso_date(text)
    except ValueError:
        raise ValueError(f"{column} {text.strip()[:40]!r} is not a date (YYYY-MM-DD)") from None
    return check_date(on, column)


def check_ledger(session: Session, case_id: str) -> list[str]:
    """Invariants replayed from scratch: every entry balances, trust cash is never negative at the end of a day."""
    problems: list[str] = []
    by_day: dict[dt.date, int] = defaultdict(int)
    for e in entries(session, case_id):
        total = sum(p.amount_fen for p in e.postings)
        if total:
            problems.append(f"entry {e.key} is off by {total} fen")
        by_day[e.booked_on] += sum(p.amount_fen for p in e.postings if p.account == TRUST_CASH)
    running = 0
    for on in sorted(by_day):
        running += by_day[on]
        if running < 0:
            problems.append(f"trust cash negative at the end of {on}: {yuan(running)} yuan")
    return problems


def since(on: str | None) -> dt.date:
    return parse_date(on, "date") if on else dt.date.today()
