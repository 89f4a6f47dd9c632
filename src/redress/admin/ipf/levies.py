"""Levies on securities companies, administered (Measures Art. 12, 15): the companies and their classification
grades, the parameters of each levy year, the quarterly advance payments, payments received, the annual
settlement on audited income (with refunds), overdue levies, notices and statements; and the fund's other
income (the exchanges' fee share, interest on subscription money, donations).

The rules are the pure core (``redress.protection.levy``); this module keeps the facts in the database and
books every amount in the fund's books (``book.post``, idempotent by key).  Services only flush; the caller
commits.  Every change is audited.  Conventions (see ``protection/docs.md``, "Levies administered"):

* A levy row is append-only: quarters 1-4 are the advance payments, quarter 0 the annual settlement
  (``amount_fen`` negative when the fund refunds).  A refund paid is a ``LevyPayment`` with a negative amount.
* The settlement's balance is due on the 10th working day (exchange session) after the settlement date, the
  same period Art. 15 gives for the quarterly payments (model convention: the Measures set no date).
* Idempotency: an identical retry returns what was stored; a retry that differs is refused naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from redress import exports
from redress.admin.cases import require_user
from redress.admin.errors import AdminError, BadInput, NotFound, valid_id
from redress.admin.fund import file_date, read_csv
from redress.admin.ipf import book
from redress.money import MAX_AMOUNT_FEN, parse_yuan, yuan
from redress.ledger.core import LedgerError
from redress.ids import IdKind
from redress.protection import (Grade, LevyRate, ProtectionError, annual_settlement, exchange_fee_share_fen,
                                levy_fen, levy_rules, rate_for, working_day_after)
from redress.protection.book import ProtectionAccount, pa, transfer
from redress.protection.levy import quarter_end
from redress.store import audit
from redress.store.models import CompanyRating, Levy, LevyPayment, LevyYear, SecuritiesCompany

SETTLEMENT = 0          # the quarter number of the annual settlement
SETTLEMENT_WORKING_DAYS = 10   # model convention: the settlement balance is due like a quarterly payment
LEVY_INCOME = pa(ProtectionAccount.LEVY_INCOME)


# --- helpers ------------------------------------------------------------------------------------------

def _receivable(company_id: str) -> str:
    return pa(ProtectionAccount.LEVY_RECEIVABLE, company_id)


def _refund_payable(company_id: str) -> str:
    return pa(ProtectionAccount.LEVY_REFUND_PAYABLE, company_id)


def _check_year(year: object, field: str = "year") -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not 1990 <= year <= 2200:
        raise BadInput(f"{field} {year!r} is not a year (1990-2200) / 年度有误")
    return year


def _check_quarter(quarter: object) -> int:
    if quarter not in (1, 2, 3, 4) or isinstance(quarter, bool):
        raise BadInput(f"quarter {quarter!r} is not a quarter; use 1, 2, 3 or 4 / 季度应为1至4")
    return quarter  # type: ignore[return-value]


def _check_fen(value: object, field: str, *, positive: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadInput(f"{field} {value!r} is not an integer number of fen / 金额应为以分为单位的整数")
    if value < 0 or (positive and value == 0):
        raise BadInput(f"{field} {yuan(value)} yuan must be {'more than' if positive else 'at least'} zero "
                       f"/ 金额须{'大于' if positive else '不小于'}零")
    if value > MAX_AMOUNT_FEN:
        raise BadInput(f"{field} {yuan(value, grouping=True)} yuan is more than the largest amount allowed, "
                       f"{yuan(MAX_AMOUNT_FEN, grouping=True)} yuan / 金额超过上限")
    return value


def _check_reference(reference: object) -> str:
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 200:
        raise BadInput("a bank reference (1-200 characters) is required: it is the idempotency key "
                       "/ 须填写银行流水号（1至200个字符）")
    return reference


def _party(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 64 or ":" in value or value != value.strip() \
            or any(c.isspace() for c in value):
        raise BadInput(f"{what} {value!r} must be 1-64 characters without spaces or ':' "
                       f"/ {what} 须为1至64个字符，不含空格或冒号")
    return value


def _core(exc: ProtectionError, what: str) -> AdminError:
    return AdminError(f"{what}: {exc}")


def _post(session: Session, actor: str, on: dt.date, kind: str, memo: str, key: str, debit: str, credit: str,
          amount_fen: int) -> None:
    try:
        entry = transfer(on, kind, memo, key, debit, credit, amount_fen)
    except LedgerError as exc:
        raise BadInput(f"entry {key} refused: {exc}") from None
    book.post(session, entry, actor)


def company(session: Session, company_id: str) -> SecuritiesCompany:
    row = session.get(SecuritiesCompany, company_id)
    if row is None:
        raise NotFound(f"no securities company {company_id!r} / 未登记该证券公司",
                       hint="add it with `redress ipf company add`")
    return row


def companies(session: Session) -> list[tuple[SecuritiesCompany, dict[int, str]]]:
    """Every company with its grades by year."""
    grades: dict[str, dict[int, str]] = defaultdict(dict)
    for r in session.execute(select(CompanyRating)).scalars():
        grades[r.company_id][r.year] = r.grade
    rows = session.execute(select(SecuritiesCompany).order_by(SecuritiesCompany.id)).scalars()
    return [(c, dict(sorted(grades[c.id].items()))) for c in rows]


# --- companies, grades, levy years --------------------------------------------------------------------

def add_company(session: Session, actor: str, company_id: str, name: str, brokerage: bool) -> SecuritiesCompany:
    """Register a securities company that pays levies.  The same again returns it; other content is refused."""
    require_user(session, actor, "operator")
    _party(company_id, "company id")
    valid_id(IdKind.PARTY, company_id)
    if not isinstance(name, str) or not name.strip() or len(name) > 300:
        raise BadInput("a company needs a name (1-300 characters) / 须填写公司名称")
    if not isinstance(brokerage, bool):
        raise BadInput(f"brokerage {brokerage!r} must be true or false / 是否经纪业务应为是或否")
    book.lock(session)
    old = session.get(SecuritiesCompany, company_id)
    if old is not None:
        for field, mine in (("name", name), ("brokerage", brokerage)):
            if getattr(old, field) != mine:
                raise AdminError(f"company {company_id!r} is already registered with a different {field} "
                                 f"({getattr(old, field)!r}); registrations are not edited / 该公司已登记，信息不同")
        return old
    row = SecuritiesCompany(id=company_id, name=name, brokerage=brokerage)
    session.add(row)
    session.flush()
    audit.record(session, actor, "ipf.company_add", company_id, {"name": name, "brokerage": brokerage})
    return row


def rate_company(session: Session, actor: str, company_id: str, year: int, grade: str) -> CompanyRating:
    """Record a company's classification grade (证券公司分类评价) for a year.  Append-only: the same grade again
    is accepted, a different grade for a recorded year is refused."""
    require_user(session, actor, "operator")
    _check_year(year)
    try:
        g = Grade(grade)
    except ValueError:
        raise BadInput(f"grade {grade!r} is not a classification grade; use one of "
                       f"{', '.join(x.value for x in Grade)} / 评级应为 AAA 至 D 之一") from None
    book.lock(session)
    company(session, company_id)
    old = session.get(CompanyRating, (company_id, year))
    if old is not None:
        if old.grade != g.value:
            raise AdminError(f"company {company_id!r} is already graded {old.grade} for {year}, not {g.value}; "
                             "grades are not edited (levies were computed from them) / 该年度评级已登记，不可更改")
        return old
    row = CompanyRating(company_id=company_id, year=year, grade=g.value)
    session.add(row)
    session.flush()
    audit.record(session, actor, "ipf.company_rate", company_id, {"year": year, "grade": g.value})
    return row


def set_levy_year(session: Session, actor: str, year: int, loss_share_bp: int, fund_size_fen: int,
                  source: str) -> LevyYear:
    """Record what a levy year's rates depend on beyond the grade: the previous year's share of loss-making
    securities companies (basis points) and the fund's size.  Append-only and idempotent."""
    require_user(session, actor, "operator")
    _check_year(year)
    if not isinstance(loss_share_bp, int) or isinstance(loss_share_bp, bool) or not 0 <= loss_share_bp <= 10_000:
        raise BadInput(f"loss share {loss_share_bp!r} must be whole basis points in 0..10000 (10% = 1000) "
                       "/ 亏损面应为0至10000之间的整数基点")
    _check_fen(fund_size_fen, "fund size")
    if not isinstance(source, str) or not source.strip():
        raise BadInput("give the source of the loss share and fund size (document, date) / 须注明数据来源")
    book.lock(session)
    old = session.get(LevyYear, year)
    if old is not None:
        for field, mine in (("loss_share_bp", loss_share_bp), ("fund_size_fen", fund_size_fen), ("source", source)):
            if getattr(old, field) != mine:
                raise AdminError(f"levy year {year} is already recorded with a different {field} "
                                 f"({getattr(old, field)!r}); it is not edited / 该年度参数已登记，不可更改")
        return old
    row = LevyYear(year=year, loss_share_bp=loss_share_bp, fund_size_fen=fund_size_fen, source=source)
    session.add(row)
    session.flush()
    audit.record(session, actor, "ipf.levy_year", str(year),
                 {"loss_share_bp": loss_share_bp, "fund_size_fen": fund_size_fen, "source": source})
    return row


def rate(session: Session, company_id: str, levy_year: int) -> LevyRate:
    """The company's levy rate for ``levy_year`` (the pure ``rate_for`` on its grades and the levy year's
    parameters), with the rule that gave it and every rule that applied."""
    _check_year(levy_year, "levy year")
    company(session, company_id)
    grades = {r.year: r.grade for r in session.execute(
        select(CompanyRating).where(CompanyRating.company_id == company_id)).scalars()}
    if levy_year not in grades:
        raise AdminError(f"company {company_id!r} has no classification grade for {levy_year}; record it first "
                         f"/ 未登记该公司{levy_year}年度分类评级，请先登记",
                         hint=f"`redress ipf company rate {company_id} {levy_year} GRADE`")
    params = session.get(LevyYear, levy_year)
    if params is None:
        raise AdminError(f"levy year {levy_year} has no recorded loss share and fund size; record them first "
                         f"/ 未登记{levy_year}年度亏损面与基金规模，请先登记",
                         hint=f"`redress ipf levy year {levy_year} --loss-share-bp N --fund-size YUAN --source ...`")
    history = {y: g for y, g in grades.items() if y < levy_year}
    try:
        return rate_for(levy_year, grades[levy_year], grades_history=history, loss_share_bp=params.loss_share_bp,
                        fund_size_fen=params.fund_size_fen)
    except ProtectionError as exc:
        raise _core(exc, f"no levy rate for {company_id!r} in {levy_year}") from None


# --- assessments --------------------------------------------------------------------------------------

def _levy(session: Session, company_id: str, year: int, quarter: int) -> Levy | None:
    return session.execute(select(Levy).where(Levy.company_id == company_id, Levy.year == year,
                                              Levy.quarter == quarter)).scalar_one_or_none()


def _paid(session: Session, levy_id: int, through: dt.date | None = None) -> int:
    stmt = select(func.coalesce(func.sum(LevyPayment.amount_fen), 0)).where(LevyPayment.levy_id == levy_id)
    if through is not None:
        stmt = stmt.where(LevyPayment.paid_on <= through)
    return int(session.execute(stmt).scalar_one())


def _levy_key(company_id: str, year: int, quarter: int) -> str:
    return f"levy:{company_id}:{year}:{'settlement' if quarter == SETTLEMENT else f'Q{quarter}'}"


def due_date(year: int, quarter: int) -> dt.date:
    """The quarter's advance payment is due within ten working days after the quarter ends (Art. 15)."""
    end = quarter_end(year, quarter)
    return working_day_after(end, levy_rules().instalment_rule(end).working_days_after_quarter_end)


def assess_quarter(session: Session, actor: str, company_id: str, year: int, quarter: int, income_fen: int,
                   on: dt.date) -> Levy:
    """Assess a quarter's advance payment (Art. 15): the quarter's operating income times the company's rate,
    rounded once, half up; due on the 10th working day after the quarter ends.  Stores the levy and books
    ``Dr levy_receivable:<company> Cr levy_income``.  Idempotent by (company, year, quarter)."""
    require_user(session, actor, "operator")
    _check_year(year)
    _check_quarter(quarter)
    _check_fen(income_fen, "income")
    book.lock(session)
    company(session, company_id)
    old = _levy(session, company_id, year, quarter)
    if old is not None:
        for field, mine in (("income_fen", income_fen), ("assessed_on", on)):
            if getattr(old, field) != mine:
                raise AdminError(f"{company_id} {year} Q{quarter} was already assessed with a different {field} "
                                 f"({getattr(old, field)}); an assessment is not edited: settle the year on the "
                                 "audited income instead / 该季度已核定，不可更改，差额在年度清算时处理")
        return old
    r = rate(session, company_id, year)
    amount = levy_fen(income_fen, r.rate_bp)
    try:
        due = due_date(year, quarter)
    except ProtectionError as exc:
        raise _core(exc, "due date") from None
    row = Levy(company_id=company_id, year=year, quarter=quarter, income_fen=income_fen, rate_bp=r.rate_bp,
               rule=r.rule, amount_fen=amount, due_on=due, assessed_on=on)
    session.add(row)
    session.flush()
    if amount:
        _post(session, actor, on, "levy", f"{company_id} {year} Q{quarter}: {yuan(income_fen)} x {r.rate_bp} bp "
              f"({r.rule})", _levy_key(company_id, year, quarter), _receivable(company_id), LEVY_INCOME, amount)
    audit.record(session, actor, "ipf.levy_assess", f"{company_id}:{year}:Q{quarter}",
                 {"income_fen": income_fen, "rate_bp": r.rate_bp, "rule": r.rule, "amount_fen": amount,
                  "due_on": due.isoformat(), "assessed_on": on.isoformat()})
    return row


def _apply_file(path: Path, rows: list[tuple[int, dict[str, str]]], parse, apply, unique) -> list:
    """Parse every row (collecting problems), then apply each; any problem refuses the whole file (the caller's
    unit of work rolls back what was applied)."""
    problems: list[str] = []
    parsed = []
    seen: dict[object, int] = {}
    for line, rec in rows:
        try:
            args = parse(rec)
        except (ValueError, AdminError) as exc:
            problems.append(f"{path.name}:{line}: {exc}")
            continue
        k = unique(args)
        if k in seen:
            problems.append(f"{path.name}:{line}: {k} also on line {seen[k]}; give it once / 重复")
            continue
        seen[k] = line
        parsed.append((line, args))
    if not rows:
        problems.append(f"{path.name}:1: no rows / 文件没有数据行")
    if problems:
        raise BadInput(f"{path.name}: refused, nothing recorded; correct the lines below and send the whole file "
                       "again / 文件有误，未作任何登记", problems)
    out = []
    for line, args in parsed:
        try:
            out.append(apply(*args))
        except AdminError as exc:
            problems.append(f"{path.name}:{line}: {exc}")
    if problems:
        raise BadInput(f"{path.name}: refused, nothing recorded; correct the lines below and send the whole file "
                       "again / 文件有误，未作任何登记", problems)
    return out


def assess_from_csv(session: Session, actor: str, path: Path, year: int, quarter: int, on: dt.date) -> list[Levy]:
    """Assess a quarter for many companies at once from a CSV ``company_id,income`` (yuan).  All or nothing:
    any problem refuses the whole file, naming its file and line."""
    require_user(session, actor, "operator")
    _check_year(year)
    _check_quarter(quarter)
    rows = read_csv(path, path.read_bytes(), ["company_id", "income"])

    def parse(rec):
        return (rec["company_id"].strip(), parse_yuan(rec["income"]))

    return _apply_file(path, rows, parse,
                       lambda cid, income: assess_quarter(session, actor, cid, year, quarter, income, on),
                       lambda args: f"company {args[0]}")


# --- payments -----------------------------------------------------------------------------------------

def record_payment(session: Session, actor: str, company_id: str, year: int, quarter: int, amount_fen: int,
                   paid_on: dt.date, reference: str) -> LevyPayment:
    """Money received from a company against one levy (quarter 1-4, or 0 for a settlement balance): a
    ``LevyPayment`` and ``Dr bank Cr levy_receivable:<company>``, keyed by the bank reference.  Paying more
    than is outstanding on the levy is refused."""
    require_user(session, actor, "operator")
    _check_year(year)
    if quarter != SETTLEMENT:
        _check_quarter(quarter)
    _check_fen(amount_fen, "amount", positive=True)
    _check_reference(reference)
    book.lock(session)
    company(session, company_id)
    levy = _levy(session, company_id, year, quarter)
    old = session.execute(select(LevyPayment).where(LevyPayment.reference == reference)).scalar_one_or_none()
    if old is not None:
        for field, mine, theirs in (("levy", levy.id if levy else None, old.levy_id),
                                    ("amount_fen", amount_fen, old.amount_fen), ("paid_on", paid_on, old.paid_on)):
            if mine != theirs:
                raise AdminError(f"bank reference {reference!r} was already recorded with a different {field}; a "
                                 "retry must repeat the original exactly, another payment needs its own reference "
                                 "/ 该流水号已登记，内容不同")
        return old
    what = f"{company_id} {year} {'settlement' if quarter == SETTLEMENT else f'Q{quarter}'}"
    if levy is None:
        raise AdminError(f"no levy assessed for {what}; assess it before recording its payment / 尚未核定该期保护基金")
    outstanding = levy.amount_fen - _paid(session, levy.id)
    if amount_fen > outstanding:
        raise AdminError(f"{yuan(amount_fen)} yuan is more than the {yuan(max(outstanding, 0))} yuan outstanding on "
                         f"{what}; record only what is owed (an excess is settled at the annual settlement) "
                         "/ 缴款金额超过该期未缴金额")
    row = LevyPayment(levy_id=levy.id, amount_fen=amount_fen, paid_on=paid_on, reference=reference)
    session.add(row)
    session.flush()
    _post(session, actor, paid_on, "levy_payment", f"{what} paid ({reference})", f"levy_payment:{reference}",
          book.BANK, _receivable(company_id), amount_fen)
    audit.record(session, actor, "ipf.levy_payment", reference,
                 {"company": company_id, "year": year, "quarter": quarter, "amount_fen": amount_fen,
                  "paid_on": paid_on.isoformat()})
    return row


def payments_from_csv(session: Session, actor: str, path: Path) -> list[LevyPayment]:
    """Payments from a CSV ``company_id,year,quarter,amount,paid_on,reference`` (amount in yuan).  All or
    nothing: any problem refuses the whole file, naming its file and line."""
    require_user(session, actor, "operator")
    rows = read_csv(path, path.read_bytes(), ["company_id", "year", "quarter", "amount", "paid_on", "reference"])

    def parse(rec):
        try:
            year, quarter = int(rec["year"]), int(rec["quarter"])
        except ValueError:
            raise ValueError(f"year {rec['year']!r} and quarter {rec['quarter']!r} must be whole numbers") from None
        return (rec["company_id"].strip(), year, quarter, parse_yuan(rec["amount"]),
                file_date(rec["paid_on"], "paid_on"), rec["reference"].strip())

    return _apply_file(path, rows, parse, lambda *a: record_payment(session, actor, *a),
                       lambda args: f"reference {args[5]}")


# --- annual settlement --------------------------------------------------------------------------------

def settle_year(session: Session, actor: str, company_id: str, year: int, audited_income_fen: int,
                on: dt.date) -> Levy:
    """The annual settlement (Art. 15): the levy on the audited income minus the four quarterly assessments.
    A balance owed is assessed (``Dr levy_receivable Cr levy_income``, due on the 10th working day after
    ``on``); a refund is ``Dr levy_income Cr levy_refund_payable:<company>``, paid by ``pay_refund``.  Stored as
    quarter 0.  Refused before all four quarters are assessed; an identical retry returns the settlement, a
    different second settlement is refused."""
    require_user(session, actor, "operator")
    _check_year(year)
    _check_fen(audited_income_fen, "audited income")
    book.lock(session)
    company(session, company_id)
    old = _levy(session, company_id, year, SETTLEMENT)
    if old is not None:
        for field, mine in (("income_fen", audited_income_fen), ("assessed_on", on)):
            if getattr(old, field) != mine:
                raise AdminError(f"{company_id} {year} was already settled (with a different {field}: "
                                 f"{getattr(old, field)}); a year is settled once / 该年度已清算")
        return old
    quarters = {q: _levy(session, company_id, year, q) for q in (1, 2, 3, 4)}
    missing = [q for q, row in quarters.items() if row is None]
    if missing:
        raise AdminError(f"{company_id} {year}: quarter(s) {', '.join(map(str, missing))} not assessed; assess all "
                         "four quarters before settling the year / 四个季度均核定后方可年度清算")
    r = rate(session, company_id, year)
    prepaid = sum(row.amount_fen for row in quarters.values())  # type: ignore[union-attr]
    try:
        st = annual_settlement(audited_income_fen, r.rate_bp, prepaid)
        due = working_day_after(on, SETTLEMENT_WORKING_DAYS)
    except ProtectionError as exc:
        raise _core(exc, "settlement") from None
    row = Levy(company_id=company_id, year=year, quarter=SETTLEMENT, income_fen=audited_income_fen,
               rate_bp=r.rate_bp, rule=r.rule, amount_fen=st.balance_fen, due_on=due, assessed_on=on)
    session.add(row)
    session.flush()
    memo = (f"{company_id} {year} settlement: {yuan(audited_income_fen)} x {r.rate_bp} bp = {yuan(st.due_fen)}, "
            f"assessed in advance {yuan(prepaid)}")
    key = _levy_key(company_id, year, SETTLEMENT)
    if st.balance_fen > 0:
        _post(session, actor, on, "levy", memo, key, _receivable(company_id), LEVY_INCOME, st.balance_fen)
    elif st.balance_fen < 0:
        _post(session, actor, on, "levy_refund", memo, key, LEVY_INCOME, _refund_payable(company_id),
              -st.balance_fen)
    audit.record(session, actor, "ipf.levy_settle", f"{company_id}:{year}",
                 {"audited_income_fen": audited_income_fen, "rate_bp": r.rate_bp, "rule": r.rule,
                  "due_fen": st.due_fen, "prepaid_fen": prepaid, "balance_fen": st.balance_fen,
                  "due_on": due.isoformat(), "settled_on": on.isoformat()})
    return row


def pay_refund(session: Session, actor: str, company_id: str, year: int, paid_on: dt.date, reference: str,
               amount_fen: int | None = None) -> LevyPayment:
    """Pay (part of) a settlement refund: a ``LevyPayment`` with a negative amount and
    ``Dr levy_refund_payable:<company> Cr bank``, keyed by the bank reference.  ``amount_fen`` defaults to
    the whole refund still to pay.  Refused while the company's quarterly levies of that year are unpaid (the
    fund refunds only what it received in excess) and above what is left to refund."""
    require_user(session, actor, "operator")
    _check_year(year)
    if amount_fen is not None:
        _check_fen(amount_fen, "amount", positive=True)
    _check_reference(reference)
    book.lock(session)
    company(session, company_id)
    levy = _levy(session, company_id, year, SETTLEMENT)
    old = session.execute(select(LevyPayment).where(LevyPayment.reference == reference)).scalar_one_or_none()
    if old is not None:
        for field, mine, theirs in (("levy", levy.id if levy else None, old.levy_id),
                                    ("amount_fen", old.amount_fen if amount_fen is None else -amount_fen,
                                     old.amount_fen), ("paid_on", paid_on, old.paid_on)):
            if mine != theirs:
                raise AdminError(f"bank reference {reference!r} was already recorded with a different {field}; a "
                                 "retry must repeat the original exactly / 该流水号已登记，内容不同")
        return old
    if levy is None or levy.amount_fen >= 0:
        state = "not settled" if levy is None else "settled without a refund"
        raise AdminError(f"{company_id} {year}: no refund is due (the year is {state}) / 无应退款项")
    left = -(levy.amount_fen - _paid(session, levy.id))
    unpaid = [q for q in (1, 2, 3, 4) if (lv := _levy(session, company_id, year, q)) is not None
              and lv.amount_fen - _paid(session, lv.id) > 0]
    if unpaid:
        raise AdminError(f"{company_id} {year}: quarter(s) {', '.join(map(str, unpaid))} are not fully paid; record "
                         "their payments before refunding / 季度预缴款未缴清，暂不退款")
    amount = left if amount_fen is None else amount_fen
    if amount <= 0 or amount > left:
        raise AdminError(f"{company_id} {year}: {yuan(amount)} yuan is more than the {yuan(left)} yuan left to "
                         "refund / 退款金额超过应退余额")
    row = LevyPayment(levy_id=levy.id, amount_fen=-amount, paid_on=paid_on, reference=reference)
    session.add(row)
    session.flush()
    _post(session, actor, paid_on, "levy_refund_paid", f"{company_id} {year} settlement refund ({reference})",
          f"levy_refund:{reference}", _refund_payable(company_id), book.BANK, amount)
    audit.record(session, actor, "ipf.levy_refund", reference,
                 {"company": company_id, "year": year, "amount_fen": amount, "paid_on": paid_on.isoformat()})
    return row


# --- reports ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OverdueLevy:
    """A levy not paid in full by its due date: outstanding fen and calendar days since the due date."""

    company_id: str
    company_name: str
    year: int
    quarter: int
    amount_fen: int
    paid_fen: int
    outstanding_fen: int
    due_on: dt.date
    days_late: int


def overdue_report(session: Session, on: dt.date) -> list[OverdueLevy]:
    """Levies (quarters and settlement balances owed) not paid in full on ``on`` although due: the same rule
    as the pure ``overdue``: late from the day after the due date, payments counted when made by ``on``, each
    levy on its own (an overpayment of one does not cover another)."""
    names = {c.id: c.name for c in session.execute(select(SecuritiesCompany)).scalars()}
    out = []
    for lv in session.execute(select(Levy).where(Levy.amount_fen > 0, Levy.due_on < on)
                              .order_by(Levy.company_id, Levy.year, Levy.quarter)).scalars():
        paid = _paid(session, lv.id, on)
        if paid < lv.amount_fen:
            out.append(OverdueLevy(lv.company_id, names[lv.company_id], lv.year, lv.quarter, lv.amount_fen, paid,
                                   lv.amount_fen - paid, lv.due_on, (on - lv.due_on).days))
    return out


@dataclass(frozen=True)
class Notice:
    """A payment notice for one company's levy (缴纳通知)."""

    company_id: str
    company_name: str
    year: int
    quarter: int
    income_fen: int
    rate_bp: int
    amount_fen: int
    due_on: dt.date
    text_en: str
    text_zh: str


def notices(session: Session, year: int, quarter: int) -> list[Notice]:
    """The notices of a levy period (quarter 1-4, or 0 for the settlement), one per company assessed."""
    _check_year(year)
    if quarter != SETTLEMENT:
        _check_quarter(quarter)
    names = {c.id: c.name for c in session.execute(select(SecuritiesCompany)).scalars()}
    period_en = "annual settlement" if quarter == SETTLEMENT else f"Q{quarter}"
    period_zh = "年度清算" if quarter == SETTLEMENT else f"第{quarter}季度"
    out = []
    for lv in session.execute(select(Levy).where(Levy.year == year, Levy.quarter == quarter)
                              .order_by(Levy.company_id)).scalars():
        name, amt, pct = names[lv.company_id], yuan(abs(lv.amount_fen), grouping=True), f"{lv.rate_bp / 100:g}%"
        if lv.amount_fen >= 0:
            en = (f"{name}: the investor protection fund levy for {year} {period_en} is {amt} yuan "
                  f"({pct} of {yuan(lv.income_fen, grouping=True)} yuan operating income), due by {lv.due_on}.")
            zh = (f"{name}：{year}年度{period_zh}应缴证券投资者保护基金{amt}元（营业收入"
                  f"{yuan(lv.income_fen, grouping=True)}元的{pct}），请于{lv.due_on}前缴纳。")
        else:
            en = f"{name}: the {year} {period_en} refunds you {amt} yuan of investor protection fund levies."
            zh = f"{name}：{year}年度{period_zh}应退还贵公司证券投资者保护基金{amt}元。"
        out.append(Notice(lv.company_id, name, lv.year, lv.quarter, lv.income_fen, lv.rate_bp, lv.amount_fen,
                          lv.due_on, en, zh))
    return out


NOTICE_COLUMNS = ["company_id", "company_name", "year", "quarter", "income", "rate_bp", "amount", "due_on",
                  "text_en", "text_zh"]


def write_notices(rows: list[Notice], path: Path) -> Path:
    """Write notices as CSV (UTF-8, amounts in yuan, lines ending CRLF), safe to open in a spreadsheet."""
    return exports.write_csv(path, NOTICE_COLUMNS, [
        [n.company_id, n.company_name, n.year, n.quarter, yuan(n.income_fen), n.rate_bp, yuan(n.amount_fen),
         n.due_on.isoformat(), n.text_en, n.text_zh] for n in rows], lineterminator="\r\n")


@dataclass(frozen=True)
class StatementLine:
    """One levy of a company's year with its payments (negative payments are refunds paid)."""

    quarter: int
    income_fen: int
    rate_bp: int
    rule: str
    amount_fen: int
    assessed_on: dt.date
    due_on: dt.date
    payments: tuple[tuple[dt.date, str, int], ...]
    paid_fen: int
    outstanding_fen: int


@dataclass(frozen=True)
class CompanyStatement:
    """A company's levies for a year: every assessment with its payments, what is outstanding, the refund,
    and the rate with the rule and source that gave it (``rate`` is None while no grade or levy-year
    parameters are recorded; ``rate_problem`` then says why)."""

    company_id: str
    company_name: str
    year: int
    grade: str | None
    rate: LevyRate | None
    rate_problem: str | None
    lines: tuple[StatementLine, ...]

    @property
    def assessed_fen(self) -> int:
        return sum(ln.amount_fen for ln in self.lines if ln.amount_fen > 0)

    @property
    def paid_fen(self) -> int:
        return sum(ln.paid_fen for ln in self.lines if ln.amount_fen > 0)

    @property
    def outstanding_fen(self) -> int:
        return sum(ln.outstanding_fen for ln in self.lines if ln.amount_fen > 0)

    @property
    def refund_fen(self) -> int:
        return sum(-ln.amount_fen for ln in self.lines if ln.amount_fen < 0)

    @property
    def refund_paid_fen(self) -> int:
        return sum(-ln.paid_fen for ln in self.lines if ln.amount_fen < 0)


def company_statement(session: Session, company_id: str, year: int) -> CompanyStatement:
    c = company(session, company_id)
    _check_year(year)
    grade = session.get(CompanyRating, (company_id, year))
    try:
        r, problem = rate(session, company_id, year), None
    except AdminError as exc:
        r, problem = None, str(exc)
    lines = []
    for lv in session.execute(select(Levy).where(Levy.company_id == company_id, Levy.year == year)
                              .order_by(Levy.quarter)).scalars():
        pays = tuple((p.paid_on, p.reference, p.amount_fen) for p in session.execute(
            select(LevyPayment).where(LevyPayment.levy_id == lv.id).order_by(LevyPayment.paid_on, LevyPayment.id))
            .scalars())
        paid = sum(p[2] for p in pays)
        lines.append(StatementLine(lv.quarter, lv.income_fen, lv.rate_bp, lv.rule, lv.amount_fen, lv.assessed_on,
                                   lv.due_on, pays, paid, lv.amount_fen - paid))
    lines.sort(key=lambda ln: (ln.quarter == SETTLEMENT, ln.quarter))
    return CompanyStatement(company_id, c.name, year, grade.grade if grade else None, r, problem, tuple(lines))


# --- other income (Art. 12) ---------------------------------------------------------------------------

def exchange_fees(session: Session, actor: str, exchange: str, period_label: str, transaction_fees_fen: int,
                  risk_fund_at_cap: bool, on: dt.date, reference: str):
    """An exchange's share of its transaction fees (Art. 12(1): 20% once its risk fund has reached its cap):
    ``Dr bank Cr exchange_fees:<exchange>``, idempotent by reference.  Refused, nothing booked, while the risk
    fund is below its cap."""
    require_user(session, actor, "operator")
    _party(exchange, "exchange")
    _check_fen(transaction_fees_fen, "transaction fees", positive=True)
    _check_reference(reference)
    if not isinstance(period_label, str) or not period_label.strip():
        raise BadInput("name the period the fees are for (e.g. 2020-Q1) / 须注明所属期间")
    if not risk_fund_at_cap:
        raise AdminError(f"{exchange} {period_label}: nothing is due: the exchange pays 20% of its transaction fees "
                         "into the fund only once its risk fund has reached its cap (Measures Art. 12(1)); "
                         "nothing was booked / 交易所风险基金未达上限，交易经手费暂不划入保护基金，未作登记")
    share = exchange_fee_share_fen(transaction_fees_fen, True, on_date=on)
    bp = levy_rules().exchange_fee_share(on).share_bp
    if share <= 0:
        raise BadInput(f"the {bp} bp share of {yuan(transaction_fees_fen)} yuan rounds to nothing / 划入金额为零")
    return _post_income(session, actor, on, "exchange_fees",
                        f"{exchange} {period_label}: {bp} bp of {yuan(transaction_fees_fen)} transaction fees "
                        f"({reference})", f"exchange_fees:{reference}",
                        pa(ProtectionAccount.EXCHANGE_FEES, exchange), share)


def _post_income(session: Session, actor: str, on: dt.date, kind: str, memo: str, key: str, credit: str,
                 amount_fen: int):
    book.lock(session)
    try:
        entry = transfer(on, kind, memo, key, book.BANK, credit, amount_fen)
    except LedgerError as exc:
        raise BadInput(f"entry {key} refused: {exc}") from None
    return book.post(session, entry, actor)   # audited by book.post ("ipf.<kind>")


def ipo_interest(session: Session, actor: str, amount_fen: int, on: dt.date, reference: str, memo: str = ""):
    """Interest on frozen subscription money paid into the fund (Art. 12(3)): ``Dr bank Cr ipo_interest``."""
    require_user(session, actor, "operator")
    _check_fen(amount_fen, "amount", positive=True)
    _check_reference(reference)
    return _post_income(session, actor, on, "ipo_interest", f"{memo or 'subscription interest'} ({reference})",
                        f"ipo_interest:{reference}", pa(ProtectionAccount.IPO_INTEREST), amount_fen)


def donation(session: Session, actor: str, donor: str, amount_fen: int, on: dt.date, reference: str):
    """A donation to the fund (Art. 12(5)): ``Dr bank Cr donation``."""
    require_user(session, actor, "operator")
    if not isinstance(donor, str) or not donor.strip():
        raise BadInput("name the donor / 须填写捐赠人")
    _check_fen(amount_fen, "amount", positive=True)
    _check_reference(reference)
    return _post_income(session, actor, on, "donation", f"donation from {donor} ({reference})",
                        f"donation:{reference}", pa(ProtectionAccount.DONATION), amount_fen)
