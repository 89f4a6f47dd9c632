"""The fund's investments, administered (Measures Art. 20-21): a proposal is checked against Art. 20 with the
bank balance on its trade date; an allowed one is stored as a holding and booked ``Dr investment:<id> Cr bank``;
income and maturity are booked back into the bank.

A refused proposal changes nothing in the books, but the refusal is an event: it is appended to the audit log
(``ipf.investment_refused``, with every reason) in the caller's transaction and :class:`InvestmentRefused` is
raised.  The unit of work rolls back on an error, so a boundary that wants the refusal kept catches
``InvestmentRefused`` inside its unit of work and lets it commit (nothing else was written): the CLI does so.

Holdings are idempotent by their id (the caller's reference for the deal): the same proposal again returns
the stored holding; a different one under a used id is refused naming the field that differs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from redress.admin.cases import require_user
from redress.admin.errors import AdminError, BadInput, NotFound, valid_id
from redress.admin.ipf import board, book
from redress.money import yuan
from redress.ids import IdKind
from redress.ledger.core import LedgerError, Posting
from redress.protection.book import FundEntry, ProtectionAccount, pa, transfer
from redress.protection.investments import Proposal, Refusal, check, investment_rules
from redress.store import audit
from redress.store.models import ProtectionInvestment

INVESTMENT_INCOME = pa(ProtectionAccount.INVESTMENT_INCOME)
HELD, MATURED = "held", "matured"
PLAN_SUBJECT = "investment_plan"     # board decision on how the fund's money is invested (Art. 10, 21)


class InvestmentRefused(AdminError):
    """Art. 20 does not allow the proposal.  ``refusals`` are the reasons; the refusal is in the audit log of
    the transaction that raised it (commit it to keep it)."""

    def __init__(self, holding_id: str, refusals: list[Refusal]):
        self.holding_id = holding_id
        self.refusals = tuple(refusals)
        self.problems = [f"{r.message_en} / {r.message_zh} ({r.article})" for r in refusals]
        lines = "\n".join(f"  - {r.message_en} / {r.message_zh} ({r.article})" for r in refusals)
        super().__init__(f"investment {holding_id} refused / 资金运用不符合规定:\n{lines}",
                         hint="the refusal is recorded in the audit log / 已记入审计日志")


def investment_account(holding_id: str) -> str:
    return pa(ProtectionAccount.INVESTMENT, holding_id)


def _holding(session: Session, holding_id: str) -> ProtectionInvestment:
    row = session.get(ProtectionInvestment, holding_id)
    if row is None:
        raise NotFound(f"no investment {holding_id!r} / 无此投资")
    return row


def propose(session: Session, actor: str, holding_id: str, kind: str, issuer: str, counterparty: str,
            amount_fen: int, trade_date: dt.date, maturity_date: dt.date | None,
            approval_reference: str | None = None, plan_resolution: str | None = None) -> ProtectionInvestment:
    """Invest ``amount_fen`` of the fund's bank deposits in a holding ``holding_id``, if Art. 20 allows it.

    The cash available is the bank balance through ``trade_date`` (later entries are not counted; the books
    also refuse an entry that would overdraw the bank on any later day).  With ``plan_resolution`` the
    passed board resolution on the ``investment_plan`` is required (Art. 10, 21); without it none is asked
    for (the plan is the board's business, not every deal's)."""
    require_user(session, actor, "operator")
    if not holding_id.strip() or ":" in holding_id or len(holding_id) > 64:
        raise BadInput(f"bad holding id {holding_id!r}: a reference of at most 64 characters, without ':' "
                       "/ 投资编号不合规")
    valid_id(IdKind.ACCOUNT, holding_id)
    book.lock(session)
    try:
        proposal = Proposal(kind, issuer, amount_fen, trade_date, maturity_date, counterparty, approval_reference)
    except ValueError as exc:
        raise BadInput(f"investment {holding_id} refused: {exc}") from None
    old = session.get(ProtectionInvestment, holding_id)
    if old is not None:
        stored = {"kind": old.kind, "issuer": old.issuer, "counterparty": old.counterparty,
                  "amount_fen": old.amount_fen, "trade_date": old.trade_date, "maturity_date": old.maturity_date,
                  "approval_reference": old.approval_reference}
        for field, value in stored.items():
            if getattr(proposal, field) != value:
                raise AdminError(f"investment {holding_id} was already recorded with a different {field} "
                                 f"({value!r}); a new deal needs a new id / 投资编号已使用")
        return old
    if plan_resolution is not None:
        board.require_resolution(session, PLAN_SUBJECT, plan_resolution)
    cash_fen = book.balances(session, through=trade_date).get(book.BANK, 0)
    refusals = check(proposal, cash_available_fen=cash_fen)
    if refusals:
        audit.record(session, actor, "ipf.investment_refused", holding_id,
                     {"kind": kind, "issuer": issuer, "counterparty": counterparty, "amount_fen": amount_fen,
                      "trade_date": trade_date.isoformat(),
                      "maturity_date": maturity_date.isoformat() if maturity_date else None,
                      "approval_reference": approval_reference, "cash_available_fen": cash_fen,
                      "reasons": [{"rule": r.rule.value, "en": r.message_en, "zh": r.message_zh,
                                   "article": r.article} for r in refusals]})
        raise InvestmentRefused(holding_id, refusals)
    row = ProtectionInvestment(id=holding_id, kind=kind, issuer=issuer, counterparty=counterparty,
                               amount_fen=amount_fen, trade_date=trade_date, maturity_date=maturity_date,
                               approval_reference=approval_reference, status=HELD)
    session.add(row)
    session.flush()
    name = investment_rules().kind(kind)
    book.post(session, transfer(trade_date, "investment", f"{name.name_en if name else kind} {holding_id}: "
                                f"{issuer} via {counterparty}", f"investment:{holding_id}",
                                investment_account(holding_id), book.BANK, amount_fen), actor)
    audit.record(session, actor, "ipf.investment", holding_id,
                 {"kind": kind, "issuer": issuer, "counterparty": counterparty, "amount_fen": amount_fen,
                  "trade_date": trade_date.isoformat(),
                  "maturity_date": maturity_date.isoformat() if maturity_date else None,
                  "approval_reference": approval_reference, "plan_resolution": plan_resolution})
    return row


def record_income(session: Session, actor: str, holding_id: str, amount_fen: int, on: dt.date,
                  reference: str):
    """Interest or a coupon received on a holding: ``Dr bank Cr investment_income``.  Idempotent by the bank
    ``reference`` (the entry key)."""
    require_user(session, actor, "operator")
    row = _holding(session, holding_id)
    if on < row.trade_date:
        raise AdminError(f"income on {on} is before investment {holding_id} was made ({row.trade_date}) "
                         "/ 收益日期早于交易日")
    try:
        entry = transfer(on, "investment_income", f"income on {holding_id} ({reference})",
                         f"investment_income:{reference}", book.BANK, INVESTMENT_INCOME, amount_fen)
    except LedgerError as exc:
        raise BadInput(f"income refused: {exc}") from None
    return book.post(session, entry, actor)


def mature(session: Session, actor: str, holding_id: str, on: dt.date, reference: str, income_fen: int = 0):
    """A holding repaid: ``Dr bank`` for principal plus income, ``Cr investment:<id>`` for the principal (its
    book value), ``Cr investment_income`` for the income.  A holding matures once; again is refused."""
    require_user(session, actor, "operator")
    book.lock(session)
    row = _holding(session, holding_id)
    if row.status == MATURED:
        raise AdminError(f"investment {holding_id} has already matured / 该投资已到期收回")
    if on < row.trade_date:
        raise AdminError(f"maturity on {on} is before investment {holding_id} was made ({row.trade_date}) "
                         "/ 到期日早于交易日")
    if isinstance(income_fen, bool) or not isinstance(income_fen, int) or income_fen < 0:
        raise BadInput(f"income must be a non-negative integer of fen, got {income_fen!r}")
    account = investment_account(holding_id)
    principal = book.balances(session).get(account, 0)
    if principal <= 0:
        raise AdminError(f"investment {holding_id} has no book value to repay / 账面价值为零")
    postings = [Posting(book.BANK, principal + income_fen), Posting(account, -principal)]
    if income_fen:
        postings.append(Posting(INVESTMENT_INCOME, -income_fen))
    entry = FundEntry(on, "investment_maturity", f"{holding_id} matured ({reference})", tuple(postings),
                      f"maturity:{holding_id}")
    posted = book.post(session, entry, actor)
    row.status = MATURED
    session.flush()
    audit.record(session, actor, "ipf.investment_matured", holding_id,
                 {"on": on.isoformat(), "reference": reference, "principal_fen": principal, "income_fen": income_fen})
    return posted


@dataclass(frozen=True)
class Holding:
    """A holding with its book value on a date (the balance of ``investment:<id>``)."""

    id: str
    kind: str
    kind_en: str
    kind_zh: str
    issuer: str
    counterparty: str
    amount_fen: int
    trade_date: dt.date
    maturity_date: dt.date | None
    status: str                 # held or matured, on the date asked for
    book_value_fen: int

    def describe(self) -> str:
        return f"{self.id} {self.kind_en} {self.issuer} {yuan(self.book_value_fen, grouping=True)}"


def holdings(session: Session, on: dt.date | None = None, *, include_matured: bool = False) -> list[Holding]:
    """The fund's holdings on ``on`` (default: now), with their kind and book value; those with no book
    value left (matured by then) only with ``include_matured``."""
    bal = book.balances(session, through=on)
    rules = investment_rules()
    stmt = select(ProtectionInvestment).order_by(ProtectionInvestment.trade_date, ProtectionInvestment.id)
    if on is not None:
        stmt = stmt.where(ProtectionInvestment.trade_date <= on)
    out = []
    for r in session.execute(stmt).scalars():
        value = bal.get(investment_account(r.id), 0)
        if value == 0 and not include_matured:
            continue
        k = rules.kind(r.kind)
        out.append(Holding(r.id, r.kind, k.name_en if k else r.kind, k.name_zh if k else r.kind, r.issuer,
                           r.counterparty, r.amount_fen, r.trade_date, r.maturity_date,
                           HELD if value else MATURED, value))
    return out
