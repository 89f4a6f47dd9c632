"""A year of the investor protection fund, as ``make demo`` runs it, through the same services as the command
line: the board approves the budget and the use of the fund for a failed firm; securities companies are rated
and pay their quarterly levies (one late), the year is settled on audited income; the exchanges' fee share and
subscription interest come in; money is invested (and a stock purchase refused); a failed firm's clients and
individual creditors are registered, verified against the custodian's records, paid in released batches (one
payment returned and sent again), and the fund claims in the liquidation; the quarterly report is written as
Excel and PDF."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from redress.admin.ipf import board, book, firms, investments, levies, reports
from redress.money import yuan
from redress.admin.simulate import _write_csv as _csv
from redress.store.db import unit_of_work

YEAR = 2020
DIRECTORS = [f"董事{i} Director {i}" for i in range(1, 10)]
# (id, name, brokerage, grades 2018..2020, operating income per quarter in yuan)
COMPANIES = (("hz-sec", "华中证券 Huazhong Securities", True, ("AA", "AA", "AA"), 1_850_000_000),
             ("dh-sec", "东海证券 Donghai Securities", True, ("A", "A", "A"), 620_000_000),
             ("xb-sec", "西北证券 Xibei Securities", True, ("BBB", "BB", "BBB"), 240_000_000),
             ("nf-sec", "南方证券 Nanfang Securities", False, ("B", "CCC", "CC"), 96_000_000),
             ("jh-sec", "江河证券 Jianghe Securities", True, ("C", "C", "D"), 41_000_000))
FIRM = ("hx-sec", "恒信证券 Hengxin Securities (in liquidation)")


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def run_protection_fund(engine: Engine, out_dir: Path, *, operator: str, approver: str, seed: int = 11,
                        say: Callable[[str], None] = print) -> dict:
    rng = random.Random(seed)
    files = out_dir / "protection-fund"
    files.mkdir(parents=True, exist_ok=True)

    def tx():
        return unit_of_work(engine)

    d = dt.date
    with tx() as s:
        book.open_capital(s, operator, 18_000_000_000_00, d(YEAR, 1, 2), "CAPITAL-OPENING")
        m = board.record_meeting(s, operator, d(YEAR, 1, 15), DIRECTORS, DIRECTORS[:8])
        board.record_resolution(s, operator, m.id, "annual_budget", f"BD-{YEAR}-01", f"The {YEAR} budget",
                                DIRECTORS[:7], DIRECTORS[7:8])
        board.record_resolution(s, operator, m.id, "investment_plan", f"BD-{YEAR}-02",
                                "Deposits, government bonds, central bank bills and policy-bank bonds only",
                                DIRECTORS[:8])
        thin = board.record_meeting(s, operator, d(YEAR, 5, 6), DIRECTORS, DIRECTORS[:5], "interim")
        m2 = board.record_meeting(s, operator, d(YEAR, 5, 12), DIRECTORS, DIRECTORS[:7], "interim")
        board.record_resolution(s, operator, m2.id, "use_for_failed_firm", f"BD-{YEAR}-07",
                                f"Pay the clients and individual creditors of {FIRM[1]}", DIRECTORS[:6],
                                DIRECTORS[6:7])
    say(f"Board 董事会: meetings of 8, 5 (no quorum: {not thin.valid}) and 7 directors; budget, investment "
        f"plan and the use of the fund for {FIRM[0]} resolved")

    # levies: ratings, the levy year's parameters, four quarterly instalments, payments, settlement
    with tx() as s:
        levies.set_levy_year(s, operator, YEAR, 1200, 17_000_000_000_00,
                             "CSRC statistics: 2019 share of loss-making securities companies (illustrative)")
        for cid, name, brokerage, grades, _q in COMPANIES:
            levies.add_company(s, operator, cid, name, brokerage)
            for year, grade in zip(range(YEAR - 2, YEAR + 1), grades, strict=True):
                levies.rate_company(s, operator, cid, year, grade)
    incomes: dict[str, list[int]] = {}
    for q in range(1, 5):
        rows = []
        for cid, _n, _b, _g, per_quarter in COMPANIES:
            fen = int(per_quarter * rng.uniform(0.8, 1.2)) * 100
            incomes.setdefault(cid, []).append(fen)
            rows.append([cid, _yuan(fen)])
        path = _csv(files / f"income-{YEAR}-Q{q}.csv", ["company_id", "income"], rows)
        due = levies.due_date(YEAR, q)
        with tx() as s:
            assessed = levies.assess_from_csv(s, operator, path, YEAR, q, due - dt.timedelta(days=12))
            levies.write_notices(levies.notices(s, YEAR, q), files / f"notices-{YEAR}-Q{q}.csv")
        pay_rows = []
        for lv in assessed:
            late = lv.company_id == "jh-sec" and q == 4
            paid_on = due + dt.timedelta(days=25 if late else -2)
            pay_rows.append([lv.company_id, YEAR, q, _yuan(lv.amount_fen), paid_on, f"BANK-{lv.company_id}-{q}"])
        with tx() as s:
            levies.payments_from_csv(s, operator, _csv(files / f"levy-payments-{YEAR}-Q{q}.csv",
                                                       ["company_id", "year", "quarter", "amount", "paid_on",
                                                        "reference"], pay_rows))
        if q == 4:   # one company pays its last instalment late: overdue until it arrives
            with tx() as s:
                overdue = levies.overdue_report(s, due + dt.timedelta(days=10))
            say(f"Levies 保护基金: Q4 overdue on {due + dt.timedelta(days=10)}: "
                f"{', '.join(f'{o.company_id} {o.days_late} days late' for o in overdue)}")
    with tx() as s:   # the audited year: most audits come in a little above the quarterly estimates
        for cid, *_rest in COMPANIES:
            audited = sum(incomes[cid]) + (3_000_000_00 if cid != "dh-sec" else -5_000_000_00)
            settled = levies.settle_year(s, operator, cid, YEAR, audited, d(YEAR + 1, 4, 30))
            if settled.amount_fen > 0:
                levies.record_payment(s, operator, cid, YEAR, 0, settled.amount_fen, settled.due_on,
                                      f"BANK-{cid}-{YEAR}-SETTLE")
            elif settled.amount_fen < 0:
                levies.pay_refund(s, operator, cid, YEAR, d(YEAR + 1, 5, 20), f"REFUND-{cid}-{YEAR}")
        statement = levies.company_statement(s, "hz-sec", YEAR)
        levies.exchange_fees(s, operator, "XSHG", f"{YEAR}", 2_400_000_000_00, True, d(YEAR + 1, 1, 14),
                             f"SSE-FEES-{YEAR}")
        levies.exchange_fees(s, operator, "XSHE", f"{YEAR}", 2_100_000_000_00, True, d(YEAR + 1, 1, 14),
                             f"SZSE-FEES-{YEAR}")
        levies.ipo_interest(s, operator, 96_500_000_00, d(YEAR, 12, 31), f"CSDC-IPO-INT-{YEAR}")
    say(f"Levies 保护基金: {len(COMPANIES)} companies × 4 quarters assessed and paid, {YEAR} settled on audited "
        f"income; hz-sec pays {statement.rate.rate_bp / 100:g}% ({statement.rate.rule})")

    # investments: three allowed, one refused
    with tx() as s:
        investments.propose(s, operator, "TD-2020-01", "bank_deposit", "中国工商银行 ICBC", "ICBC Beijing",
                            5_000_000_000_00, d(YEAR, 2, 3), d(YEAR + 1, 2, 3), plan_resolution=f"BD-{YEAR}-02")
        investments.propose(s, operator, "GB-200004", "government_bond", "财政部 Ministry of Finance", "CFETS",
                            3_000_000_000_00, d(YEAR, 3, 2), d(YEAR + 5, 3, 2), plan_resolution=f"BD-{YEAR}-02")
        investments.propose(s, operator, "CDB-2003", "central_financial_bond", "China Development Bank", "CFETS",
                            2_000_000_000_00, d(YEAR, 3, 9), d(YEAR + 3, 3, 9), plan_resolution=f"BD-{YEAR}-02")
    refused = ""
    with tx() as s:   # a refusal changes nothing in the books; committing keeps its audit event
        try:
            investments.propose(s, operator, "STOCK-1", "stock", "某上市公司 A listed company", "broker",
                                100_000_000_00, d(YEAR, 4, 1), None)
        except investments.InvestmentRefused as exc:
            refused = "; ".join(r.message_en for r in exc.refusals)
    with tx() as s:
        investments.record_income(s, operator, "GB-200004", 84_000_000_00, d(YEAR, 9, 2), "GB-200004-C1")
        for half, on in enumerate((d(YEAR, 6, 30), d(YEAR, 12, 31)), 1):
            book.operating_expense(s, operator, 17_500_000_00, on, f"OPEX-{YEAR}-H{half}",
                                   "运营费用 running costs of the fund company", f"BD-{YEAR}-01")
    say(f"Investments 资金运用: deposit, government bond and CDB bond held; a stock purchase refused ({refused})")

    # a failed firm: claims, custodian records (one differs), verification, two batches, liquidation
    firm_id, firm_name = FIRM
    claims_rows, records = [], []
    for i in range(240):
        cid = f"C{i:05d}"
        if i % 3 == 0:        # individual creditors around and above the 100,000 yuan threshold
            principal = rng.choice([5_000_000, 10_000_000, 10_000_001, 10_000_010, 25_000_000,
                                    rng.randint(100_000, 40_000_000)])
            cat = "individual_debt"
        else:
            principal, cat = rng.randint(10_000, 8_000_000), "settlement_funds"
        interest = rng.randint(0, principal // 20) if cat == "individual_debt" else 0
        claims_rows.append([cid, cat, _yuan(principal), _yuan(interest), f"REG-{i:05d}"])
        records.append([cid, cat, _yuan(principal + (1_000_00 if i == 7 else 0))])
    with tx() as s:
        firms.open_firm(s, operator, firm_id, firm_name, "revoked", d(YEAR, 5, 8), f"BD-{YEAR}-07")
        firms.register_claims(s, operator, firm_id, _csv(files / f"{firm_id}-claims.csv",
                                                         ["claimant_id", "category", "principal", "interest",
                                                          "reference"], claims_rows))
        firms.import_custodian_records(s, operator, firm_id, _csv(files / f"{firm_id}-records.csv",
                                                                  ["claimant_id", "category", "principal"], records))
        verified = firms.verify_firm(s, operator, firm_id, d(YEAR, 6, 20))
    with tx() as s:   # the held claim: the liquidation group's ledger confirms the claimant's figure
        held = next(c for c in claims_rows if c[0] == "C00007")
        firms.resolve_held(s, approver, firm_id, "C00007", held[1], int(held[2].replace(".", "")),
                           d(YEAR, 7, 10), "托管组账簿复核：登记金额无误 the custodian's ledger confirms the claim")
    for k, on in enumerate((d(YEAR, 6, 29), d(YEAR, 7, 15))):
        with tx() as s:
            b = firms.propose_batch(s, operator, firm_id, on)
        with tx() as s:
            firms.release_batch(s, approver, firm_id, b.number, on)
            path, _manifest = firms.export_batch(s, operator, firm_id, b.number, files)
        with path.open(encoding="utf-8") as f:
            lines = list(csv.DictReader(f))
        result = [[r["instruction_id"], "returned" if (k == 0 and n == 3) else "paid", r["amount"],
                   on + dt.timedelta(days=2), "account closed / 账户已注销" if (k == 0 and n == 3) else ""]
                  for n, r in enumerate(lines)]
        with tx() as s:
            firms.import_results(s, operator, firm_id, _csv(files / f"{path.stem}-results.csv",
                                                            ["instruction_id", "status", "amount", "settled_on",
                                                             "reason"], result))
    with tx() as s:
        paid = firms.report(s, firm_id)
        firms.record_recovery(s, operator, firm_id, paid.subrogated_fen * 35 // 100, d(YEAR, 12, 18),
                              f"{firm_id}-LIQ-DIV-1")
        firm = firms.report(s, firm_id)
    say(f"Failed firm 风险处置 {firm_id}: {verified.claimants} claims verified ({verified.held} held, then decided on review), "
        f"{yuan(firm.paid_fen, grouping=True)} yuan paid in 2 batches, first liquidation dividend "
        f"{yuan(firm.recovered_fen, grouping=True)} "
        f"yuan recovered")

    # the regulators' report for the fourth quarter, Excel and PDF
    with tx() as s:
        quarter = reports.quarter_report(s, YEAR, 4)
        year_statement = book.fund_statement(s)
        trial = book.trial(s)
    xlsx = reports.write_excel(quarter, files / f"ipf-report-{YEAR}-Q4.xlsx")
    pdf = reports.write_pdf(quarter, files / f"ipf-report-{YEAR}-Q4.pdf")
    return {"statement": year_statement, "trial": trial, "firm": firm, "report": quarter, "xlsx": xlsx, "pdf": pdf,
            "files": files}
