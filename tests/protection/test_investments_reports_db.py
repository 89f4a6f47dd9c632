"""The fund's investments (Art. 20) and its monthly and quarterly reports (Art. 24), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile

import pytest
from sqlalchemy import select
from support.admin import users
from typer.testing import CliRunner

from redress.admin.errors import AdminError
from redress.admin.ipf import book, investments, reports
from redress.admin.ipf.investments import InvestmentRefused
from redress.cli.main import app
from redress.protection.book import ProtectionAccount, pa, transfer
from redress.protection.investments import RefusalRule
from redress.store.db import unit_of_work
from redress.store.models import AuditEvent, Levy, LevyPayment, ProtectionInvestment, SecuritiesCompany

CAPITAL_FEN = 100_000_000_00            # 100 million yuan
OPENED = dt.date(2024, 1, 2)
BANK = book.BANK


@pytest.fixture
def fund(db):
    url, engine = db
    users(engine)
    with unit_of_work(engine) as s:
        book.open_capital(s, "alice", CAPITAL_FEN, OPENED, "CAP-1")
    return url, engine


def deal(holding_id: str, kind: str = "government_bond", issuer: str = "Ministry of Finance",
         amount_fen: int = 1_000_000_00, trade: dt.date = dt.date(2024, 3, 5),
         maturity: dt.date | None = dt.date(2027, 3, 5), approval: str | None = None) -> dict:
    return dict(holding_id=holding_id, kind=kind, issuer=issuer, counterparty="CICC", amount_fen=amount_fen,
                trade_date=trade, maturity_date=maturity, approval_reference=approval)


def refused_events(s) -> list[AuditEvent]:
    return list(s.execute(select(AuditEvent).where(AuditEvent.action == "ipf.investment_refused")
                          .order_by(AuditEvent.seq)).scalars())


# -- Art. 20: one refusal per rule, each changing nothing in the books but leaving an audit event ---------------

@pytest.mark.parametrize(("proposal", "rule"), [
    (deal("STK-1", kind="stock", issuer="Kweichow Moutai", maturity=None), RefusalRule.KIND_NOT_PERMITTED),
    (deal("CB-1", kind="central_financial_bond", issuer="Vanke Co"), RefusalRule.ISSUER_NOT_CENTRAL),
    (deal("BIG-1", amount_fen=CAPITAL_FEN + 1), RefusalRule.CASH_INSUFFICIENT),
    (deal("MAT-1", maturity=dt.date(2024, 3, 4)), RefusalRule.MATURITY_BEFORE_TRADE),
    (deal("OTH-1", kind="other", issuer="Some trust", maturity=None), RefusalRule.APPROVAL_MISSING),
])
def test_a_refused_proposal_changes_nothing_in_the_books_but_is_audited(fund, proposal, rule):
    _, engine = fund
    with unit_of_work(engine) as s:
        before = book.balances(s)
        with pytest.raises(InvestmentRefused) as info:
            investments.propose(s, "alice", **proposal)
        # the boundary keeps the audit event by committing: nothing else was written
    assert [r.rule for r in info.value.refusals] == [rule]
    assert "第二十条" in str(info.value) and "/" in str(info.value)
    with unit_of_work(engine) as s:
        assert book.balances(s) == before
        assert s.get(ProtectionInvestment, proposal["holding_id"]) is None
        events = refused_events(s)
        assert [e.subject for e in events] == [proposal["holding_id"]]
        detail = json.loads(events[0].detail)
        assert [r["rule"] for r in detail["reasons"]] == [rule.value]
        assert detail["cash_available_fen"] == CAPITAL_FEN
        assert detail["reasons"][0]["zh"] and "第二十条" in detail["reasons"][0]["article"]


def test_every_reason_is_listed(fund):
    _, engine = fund
    with unit_of_work(engine) as s, pytest.raises(InvestmentRefused) as info:
        investments.propose(s, "alice", **deal("X-1", kind="central_financial_bond", issuer="Vanke Co",
                                                amount_fen=CAPITAL_FEN * 2, maturity=dt.date(2020, 1, 1)))
    assert {r.rule for r in info.value.refusals} == {RefusalRule.ISSUER_NOT_CENTRAL, RefusalRule.CASH_INSUFFICIENT,
                                                     RefusalRule.MATURITY_BEFORE_TRADE}


def test_cash_is_the_bank_balance_on_the_trade_date(fund):
    _, engine = fund
    with unit_of_work(engine) as s, pytest.raises(InvestmentRefused) as info:   # before the capital came in
        investments.propose(s, "alice", **deal("EARLY", trade=dt.date(2024, 1, 1), amount_fen=100))
    assert [r.rule for r in info.value.refusals] == [RefusalRule.CASH_INSUFFICIENT]


# -- allowed investments, idempotency, income and maturity ------------------------------------------------------

def test_allowed_investments_are_booked(fund):
    _, engine = fund
    deals = [deal("TD-1", kind="bank_deposit", issuer="ICBC", amount_fen=5_000_000_00, maturity=None),
             deal("GB-1", amount_fen=2_000_000_00),
             deal("CBB-1", kind="central_bank_bond", issuer="People's Bank of China", amount_fen=300_000_00),
             deal("CDB-1", kind="central_financial_bond", issuer="CDB", amount_fen=400_000_01)]
    with unit_of_work(engine) as s:
        for d in deals:
            row = investments.propose(s, "alice", **d)
            assert row.status == "held"
    total = sum(d["amount_fen"] for d in deals)
    with unit_of_work(engine) as s:
        bal = book.balances(s)
        assert bal[BANK] == CAPITAL_FEN - total
        for d in deals:
            assert bal[f"investment:{d['holding_id']}"] == d["amount_fen"]
        held = investments.holdings(s)
        assert [(h.id, h.kind, h.book_value_fen) for h in held] == sorted(   # by trade date, then id
            (d["holding_id"], d["kind"], d["amount_fen"]) for d in deals)
        assert {h.kind_zh for h in held if h.id == "TD-1"} == {"银行存款"}
        assert book.fund_statement(s).investments_fen == total
        # the same deal again is the same holding; a different one under the id is refused naming the field
        assert investments.propose(s, "alice", **deals[1]).id == "GB-1"
        with pytest.raises(AdminError, match="amount_fen"):
            investments.propose(s, "alice", **{**deals[1], "amount_fen": 1})
    with unit_of_work(engine) as s:
        assert book.balances(s)[BANK] == CAPITAL_FEN - total


def test_income_and_maturity(fund):
    _, engine = fund
    with unit_of_work(engine) as s:
        investments.propose(s, "alice", **deal("GB-1", amount_fen=2_000_000_00))
        investments.record_income(s, "alice", "GB-1", 12_345_67, dt.date(2024, 9, 5), "COUPON-1")
        investments.record_income(s, "alice", "GB-1", 12_345_67, dt.date(2024, 9, 5), "COUPON-1")   # a retry
        investments.mature(s, "alice", "GB-1", dt.date(2027, 3, 5), "REPAY-1", income_fen=1_00)
    with unit_of_work(engine) as s:
        bal = book.balances(s)
        assert bal[BANK] == CAPITAL_FEN + 12_345_67 + 1_00
        assert "investment:GB-1" not in bal
        assert bal[pa(ProtectionAccount.INVESTMENT_INCOME)] == -(12_345_67 + 1_00)
        assert s.get(ProtectionInvestment, "GB-1").status == "matured"
        assert investments.holdings(s) == []
        on_the_way = investments.holdings(s, dt.date(2025, 1, 1))
        assert [(h.id, h.status, h.book_value_fen) for h in on_the_way] == [("GB-1", "held", 2_000_000_00)]
        assert [h.status for h in investments.holdings(s, include_matured=True)] == ["matured"]
        with pytest.raises(AdminError, match="already matured"):
            investments.mature(s, "alice", "GB-1", dt.date(2027, 3, 6), "REPAY-2")


def test_a_plan_resolution_when_named_must_exist(fund):
    _, engine = fund
    with unit_of_work(engine) as s, pytest.raises(AdminError, match="no board resolution"):
        investments.propose(s, "alice", **deal("GB-9"), plan_resolution="BR-2024-1")


def test_an_approver_cannot_invest(fund):
    _, engine = fund
    with unit_of_work(engine) as s, pytest.raises(AdminError, match="operator"):
        investments.propose(s, "bob", **deal("GB-1"))


# -- reports ---------------------------------------------------------------------------------------------------

LEVY_MARCH = 500_000_00
LEVY_APRIL = 70_000_00
FEES = 12_345_67
BOND = 1_000_000_00
COUPON = 1_234_56
PAYOUT = 200_000_00
RECOVERED = 50_000_00
WRITTEN_OFF = 30_000_00
EXPENSE = 10_000_00
LEVY_ASSESSED = 800_000_00
LEVY_PAID = 300_000_00


def books_for_march(engine) -> None:
    """A month of the fund's life, with amounts known here."""
    levy, sub, loss = pa(ProtectionAccount.LEVY_INCOME), "subrogated:hx-sec", "liquidation_loss:hx-sec"
    with unit_of_work(engine) as s:
        post = [
            transfer(dt.date(2024, 3, 31), "levy", "Q1 levy citic", "L-1", BANK, levy, LEVY_MARCH),   # last day: in
            transfer(dt.date(2024, 4, 1), "levy", "Q1 levy gtja", "L-2", BANK, levy, LEVY_APRIL),     # next day: out
            transfer(dt.date(2024, 3, 10), "exchange_fees", "SSE fees", "F-1", BANK, "exchange_fees:sse", FEES),
            transfer(dt.date(2024, 3, 15), "payout", "payout hx", "P-1", sub, BANK, PAYOUT),
            transfer(dt.date(2024, 3, 20), "recovery", "recovery hx", "R-1", BANK, sub, RECOVERED),
            transfer(dt.date(2024, 3, 25), "write_off", "write-off hx", "W-1", loss, sub, WRITTEN_OFF),
            transfer(dt.date(2024, 3, 28), "expense", "running costs", "E-1", pa(ProtectionAccount.OPERATING_EXPENSE),
                     BANK, EXPENSE),
        ]
        for e in post:
            book.post(s, e, "alice")
        investments.propose(s, "alice", **deal("GB-1", amount_fen=BOND))
        investments.record_income(s, "alice", "GB-1", COUPON, dt.date(2024, 3, 30), "C-1")
        s.add(SecuritiesCompany(id="citic", name="CITIC Securities", brokerage=True))
        s.flush()
        s.add(Levy(company_id="citic", year=2024, quarter=1, income_fen=1, rate_bp=50, rule="grade",
                   amount_fen=LEVY_ASSESSED, due_on=dt.date(2024, 3, 15), assessed_on=dt.date(2024, 3, 1)))
        s.flush()
        levy_id = s.execute(select(Levy.id)).scalar_one()
        s.add(LevyPayment(levy_id=levy_id, amount_fen=LEVY_PAID, paid_on=dt.date(2024, 3, 10), reference="BANK-1"))


def test_month_report_figures_and_reconciliation(fund):
    _, engine = fund
    books_for_march(engine)
    with unit_of_work(engine) as s:
        r = reports.month_report(s, 2024, 3)
    income = LEVY_MARCH + FEES + COUPON
    assert (r.start, r.end, r.label) == (dt.date(2024, 3, 1), dt.date(2024, 3, 31), "2024-03")
    assert r.opening.net_assets_fen == CAPITAL_FEN
    assert r.income_fen == income
    assert r.closing.net_assets_fen == CAPITAL_FEN + income - WRITTEN_OFF - EXPENSE
    assert r.expected_closing_fen == r.closing.net_assets_fen
    sources = {(s.key, s.party): s.amount_fen for s in r.sources}
    assert sources[("levy_income", None)] == LEVY_MARCH
    assert sources[("exchange_fees", "sse")] == FEES
    assert sources[("investment_income", None)] == COUPON
    assert sources[("recoveries", None)] == RECOVERED
    assert sources[("capital", None)] == 0
    assert r.raised_fen == income + RECOVERED
    assert (r.levies_assessed_fen, r.levies_received_fen) == (LEVY_MARCH, LEVY_MARCH)
    assert [(p.party, p.amount_fen) for p in r.payouts] == [("hx-sec", PAYOUT)]
    assert [(w.party, w.amount_fen) for w in r.write_offs] == [("hx-sec", WRITTEN_OFF)]
    assert r.operating_expense_fen == EXPENSE
    assert r.investment_income_fen == COUPON
    [gb] = r.holdings
    assert (gb.kind, gb.count, gb.amount_fen) == ("government_bond", 1, BOND)
    assert gb.share * r.closing.net_assets_fen == BOND
    assert r.closing.bank_fen == CAPITAL_FEN + LEVY_MARCH + FEES - PAYOUT + RECOVERED - EXPENSE - BOND + COUPON
    [citic] = r.levies
    assert (citic.company_id, citic.assessed_fen, citic.received_fen) == ("citic", LEVY_ASSESSED, LEVY_PAID)
    assert (citic.outstanding_fen, citic.overdue_fen, citic.oldest_due) == (
        LEVY_ASSESSED - LEVY_PAID, LEVY_ASSESSED - LEVY_PAID, dt.date(2024, 3, 15))


def test_period_boundaries(fund):
    _, engine = fund
    books_for_march(engine)
    with unit_of_work(engine) as s:
        april = reports.month_report(s, 2024, 4)
        q1 = reports.quarter_report(s, 2024, 1)
        q2 = reports.quarter_report(s, 2024, 2)
        march = reports.month_report(s, 2024, 3)
    assert april.levies_assessed_fen == LEVY_APRIL and april.opening == march.closing
    assert q1.levies_assessed_fen == LEVY_MARCH and q2.levies_assessed_fen == LEVY_APRIL
    assert (q1.start, q1.end, q1.label) == (dt.date(2024, 1, 1), dt.date(2024, 3, 31), "2024Q1")
    assert q1.capital_paid_fen == CAPITAL_FEN and q1.opening.net_assets_fen == 0
    assert q1.closing.net_assets_fen == march.closing.net_assets_fen
    assert april.closing.net_assets_fen == march.closing.net_assets_fen + LEVY_APRIL
    assert april.levies[0].assessed_fen == 0 and april.levies[0].overdue_fen == LEVY_ASSESSED - LEVY_PAID


def test_a_report_that_does_not_reconcile_is_refused(fund):
    _, engine = fund
    with unit_of_work(engine) as s:
        r = reports.month_report(s, 2024, 1)
    with pytest.raises(AdminError, match="does not reconcile"):
        reports.Report(**{**r.__dict__, "operating_expense_fen": 1})


def _sheet_xml(path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def test_excel_and_pdf(fund, tmp_path):
    _, engine = fund
    books_for_march(engine)
    with unit_of_work(engine) as s:
        r = reports.month_report(s, 2024, 3)
    xlsx = reports.write_excel(r, tmp_path / "out" / "march.xlsx")
    with zipfile.ZipFile(xlsx) as z:
        names = set(z.namelist())
    assert {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet5.xml", "xl/charts/chart1.xml"} <= names
    summary = _sheet_xml(xlsx, "xl/worksheets/sheet1.xml")
    for fen in (r.opening.net_assets_fen, r.closing.net_assets_fen, PAYOUT, LEVY_MARCH):
        assert f"<v>{fen / 100:.16G}</v>" in summary
    strings = _sheet_xml(xlsx, "xl/sharedStrings.xml")
    assert "期末净资产" in strings and "closing net assets" in strings
    assert f"<v>{FEES / 100:.16G}</v>" in _sheet_xml(xlsx, "xl/worksheets/sheet2.xml")
    pdf = reports.write_pdf(r, tmp_path / "march.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data)) == reports.PDF_PAGES


def test_pdf_without_a_cjk_font(fund, tmp_path, monkeypatch):
    _, engine = fund
    with unit_of_work(engine) as s:
        r = reports.month_report(s, 2024, 1)
    monkeypatch.setattr(reports, "cjk_font", lambda: None)
    data = reports.write_pdf(r, tmp_path / "jan.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data)) == reports.PDF_PAGES


# -- the command line ------------------------------------------------------------------------------------------

def test_cli_end_to_end(fund, tmp_path):
    url, engine = fund
    runner = CliRunner()
    base = ["--db", url, "--as", "alice"]

    def invoke(*args):
        return runner.invoke(app, ["ipf", *args])

    ok = invoke("invest", "propose", *base, "--id", "CDB-1", "--kind", "central_financial_bond", "--issuer",
                "China Development Bank", "--counterparty", "CICC", "--amount", "1000000.00", "--trade-date",
                "2024-03-05", "--maturity", "2029-03-05")
    assert ok.exit_code == 0, ok.output
    no = invoke("invest", "propose", *base, "--id", "STK-1", "--kind", "stock", "--issuer", "Moutai",
                "--counterparty", "CICC", "--amount", "10", "--trade-date", "2024-03-05")
    assert no.exit_code == 2
    assert "kind_not_permitted" not in no.output and "不属于" in no.output
    assert invoke("invest", "income", "CDB-1", *base, "--amount", "123.45", "--ref", "C-1", "--on",
                  "2024-03-31").exit_code == 0
    listed = invoke("invest", "list", "--db", url, "--on", "2024-03-31")
    assert listed.exit_code == 0 and "CDB-1" in listed.output and "1,000,000.00" in listed.output
    xlsx, pdf = tmp_path / "m.xlsx", tmp_path / "m.pdf"
    month = invoke("report", "month", "2024", "3", "--db", url, "--xlsx", str(xlsx), "--pdf", str(pdf))
    assert month.exit_code == 0, month.output
    assert "123.45" in month.output and xlsx.exists() and pdf.read_bytes().startswith(b"%PDF")
    quarter = invoke("report", "quarter", "2024", "1", "--db", url)
    assert quarter.exit_code == 0 and "100,000,123.45" in quarter.output
    assert invoke("invest", "mature", "CDB-1", *base, "--ref", "R-1", "--on", "2029-03-05").exit_code == 0
    assert invoke("invest", "mature", "CDB-1", *base, "--ref", "R-2", "--on", "2029-03-06").exit_code == 2
    assert invoke("report", "quarter", "2024", "5", "--db", url).exit_code == 2
    with unit_of_work(engine) as s:
        assert [e.subject for e in refused_events(s)] == ["STK-1"]     # the CLI kept the refusal
        assert book.balances(s)[BANK] == CAPITAL_FEN + 123_45
