"""The investor protection fund over the web (both backends): the books, the board, levies, a failed firm,
investments and the regulators' reports through the API, staff-only access, and the console page."""

from __future__ import annotations

import datetime as dt
import html
import zipfile
from fractions import Fraction
from io import BytesIO

from websupport import Web

from redress.protection.levy import working_day_after

HTML = {"accept": "text/html,application/xhtml+xml"}
D = dt.date
DIRECTORS = [f"Director {i}" for i in range(1, 10)]


def ok(r, status: int = 200) -> dict | list:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def refused(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["detail"]
    return r.json()


def half_up(x: Fraction) -> int:
    return int(x + Fraction(1, 2)) if x >= 0 else -int(-x + Fraction(1, 2))


def test_protection_fund_through_the_api(web: Web):
    op, chk, aud = web.signed_in("op"), web.signed_in("chk"), web.signed_in("aud")
    ok(op.post("/api/ipf/capital", json={"amount_fen": 500_000_000_00, "on": "2020-01-02", "reference": "CAP"}), 201)
    # the board: 5 of 9 cannot meet; 7 can, and 5 of all 9 pass a resolution
    thin = ok(op.post("/api/ipf/board/meetings", json={"held_on": "2020-03-01", "directors": DIRECTORS,
                                                        "present": DIRECTORS[:5]}), 201)
    assert not thin["valid"] and thin["findings"][0]["code"] == "no_quorum"
    m = ok(op.post("/api/ipf/board/meetings", json={"held_on": "2020-03-02", "directors": DIRECTORS,
                                                     "present": DIRECTORS[:7]}), 201)
    r = ok(op.post(f"/api/ipf/board/meetings/{m['id']}/resolutions", json={
        "subject": "use_for_failed_firm", "reference": "BR-1", "text": "pay the clients of X",
        "votes_for": DIRECTORS[:5], "votes_against": DIRECTORS[5:7]}), 201)
    assert r["passed"]
    assert [x["valid"] for x in ok(aud.get("/api/ipf/board"))] == [False, True]
    refused(op.post("/api/ipf/expenses", json={"amount_fen": 100_00, "on": "2020-03-03", "reference": "E1",
                                               "memo": "rent", "budget_reference": "BR-1"}), 409)  # not a budget

    # a levy: a company rated A in 2019 pays 0.5% (the 2019 table, class A) on its first-quarter income
    ok(op.post("/api/ipf/companies", json={"id": "abc", "name": "ABC Securities", "brokerage": True}), 201)
    c = ok(op.post("/api/ipf/companies/abc/ratings", json={"year": 2019, "grade": "A"}), 201)
    assert c["grades"] == {"2019": "A"}
    ok(op.post("/api/ipf/levy-years", json={"year": 2019, "loss_share_bp": 500, "fund_size_fen": 10**12,
                                           "source": "statistics"}), 201)
    income = 123_456_789_01
    lv = ok(op.post("/api/ipf/levies", json={"company_id": "abc", "year": 2019, "quarter": 1, "income_fen": income,
                                             "on": "2019-04-01"}), 201)
    assert lv["amount_fen"] == half_up(Fraction(income * 50, 10_000)) and lv["rate_bp"] == 50
    assert lv["due_on"] == working_day_after(D(2019, 3, 31), 10).isoformat()
    late = D.fromisoformat(lv["due_on"]) + dt.timedelta(days=3)
    overdue = ok(aud.get("/api/ipf/levies/overdue", params={"on": late.isoformat()}))
    assert [(o["company_id"], o["days_late"], o["outstanding_fen"]) for o in overdue] == [("abc", 3, lv["amount_fen"])]
    refused(op.post("/api/ipf/levies/payments", json={"company_id": "abc", "year": 2019, "quarter": 1,
                                                      "amount_fen": lv["amount_fen"] + 1, "paid_on": "2019-04-10",
                                                      "reference": "B1"}), 409)
    ok(op.post("/api/ipf/levies/payments", json={"company_id": "abc", "year": 2019, "quarter": 1,
                                                 "amount_fen": lv["amount_fen"], "paid_on": "2019-04-10",
                                                 "reference": "B1"}), 201)
    assert ok(aud.get("/api/ipf/levies/overdue", params={"on": late.isoformat()})) == []
    st = ok(aud.get("/api/ipf/companies/abc/statement/2019"))
    assert st["lines"][0]["paid_fen"] == lv["amount_fen"] and st["rate_bp"] == 50

    # a failed firm: claims, records, verification, a batch released by a second person, results
    ok(op.post("/api/ipf/firms", json={"id": "xsec", "name": "X Securities", "event": "revoked",
                                       "event_on": "2020-03-05", "resolution_reference": "BR-1"}), 201)
    claims = ("claimant_id,category,principal,interest,reference\nP1,individual_debt,100000.10,500.00,R1\n"
              "P2,settlement_funds,2500.00,0,R2\nP3,settlement_funds,900.00,0,R3\n")
    ok(op.post("/api/ipf/firms/xsec/claims", files={"file": ("claims.csv", claims.encode(), "text/csv")}))
    records = ("claimant_id,category,principal\nP1,individual_debt,100000.10\nP2,settlement_funds,2500.00\n"
               "P3,settlement_funds,800.00\n")
    ok(op.post("/api/ipf/firms/xsec/records", files={"file": ("records.csv", records.encode(), "text/csv")}))
    f = ok(op.post("/api/ipf/firms/xsec/verify", json={"on": "2020-03-20"}))
    # 100,000 in full, then 90% of the 0.10 excess (9 fen), no interest; settlement funds in full
    assert f["to_pay_fen"] == 100_000_00 + 9 + 2500_00 and f["held"] == 1       # P3 differs from the records
    review = {"claimant_id": "P3", "category": "settlement_funds", "principal_fen": 850_00, "on": "2020-03-22",
              "reason": "custodian's corrected ledger"}
    refused(op.post("/api/ipf/firms/xsec/reviews", json=review), 403)            # an approver decides
    f = ok(chk.post("/api/ipf/firms/xsec/reviews", json=review), 201)
    assert f["to_pay_fen"] == 100_000_00 + 9 + 2500_00 + 850_00 and f["held"] == 0
    ok(op.post("/api/ipf/firms/xsec/batches", json={"on": "2020-03-25"}), 201)
    refused(op.post("/api/ipf/firms/xsec/batches/1/release", json={"on": "2020-03-25"}), 403)   # not an approver
    ok(chk.post("/api/ipf/firms/xsec/batches/1/release", json={"on": "2020-03-25"}))
    inst = op.get("/api/ipf/firms/xsec/batches/1/instructions.csv")
    assert inst.status_code == 200
    rows = [line.split(",") for line in inst.text.splitlines()[1:]]
    results = "instruction_id,status,amount,settled_on,reason\n" + "".join(
        f"{r[0]},paid,{r[4]},2020-03-27,\n" for r in rows)
    ok(op.post("/api/ipf/firms/xsec/results", files={"file": ("r.csv", results.encode(), "text/csv")}))
    f = ok(aud.get("/api/ipf/firms/xsec"))
    assert f["paid_fen"] == f["to_pay_fen"] == f["subrogated_fen"]

    # investments: a stock is refused (409, nothing booked, the refusal on record); a deposit is booked
    body = {"id": "S1", "kind": "stock", "issuer": "Listed Co", "counterparty": "broker", "amount_fen": 100,
            "trade_date": "2020-04-01"}
    before = ok(aud.get("/api/ipf/statement"))
    problems = refused(op.post("/api/ipf/investments", json=body), 409)["problems"]
    assert any("not a permitted use" in p for p in problems)
    assert ok(aud.get("/api/ipf/statement")) == before
    events = ok(aud.get("/api/audit", params={"per_page": 50}))["items"]
    assert [e["subject"] for e in events if e["action"] == "ipf.investment_refused"] == ["S1"]
    ok(op.post("/api/ipf/investments", json={**body, "id": "TD1", "kind": "bank_deposit", "issuer": "ICBC",
                                             "amount_fen": 100_000_000_00, "maturity_date": "2021-04-01"}), 201)
    assert [h["id"] for h in ok(aud.get("/api/ipf/investments"))] == ["TD1"]

    st = ok(aud.get("/api/ipf/statement"))
    assert st["balanced"] and st["investments_fen"] == 100_000_000_00
    assert st["subrogated_fen"] == f["subrogated_fen"] and st["income_fen"]["levy_income"] == lv["amount_fen"]
    q = ok(aud.get("/api/ipf/reports/quarter/2020/1.json"))
    assert q["net_assets"]["closing_fen"] == ok(aud.get("/api/ipf/statement", params={"on": "2020-03-31"}))["net_assets_fen"]
    x = aud.get("/api/ipf/reports/quarter/2020/1.xlsx")
    assert x.status_code == 200
    book = zipfile.ZipFile(BytesIO(x.content))
    assert book.testzip() is None and "xl/worksheets/sheet1.xml" in book.namelist()
    p = aud.get("/api/ipf/reports/month/2020/3.pdf")
    assert p.status_code == 200 and p.content[:5] == b"%PDF-"
    assert aud.get("/api/ipf/reports/month/2020/13.pdf").status_code == 422


def test_the_protection_fund_is_staff_only(web: Web):
    for who in ("inv1", "payer1"):
        c = web.signed_in(who)
        for url in ("/api/ipf/statement", "/api/ipf/board", "/api/ipf/companies", "/api/ipf/firms",
                    "/api/ipf/investments", "/api/ipf/reports/quarter/2020/1.json", "/console/ipf"):
            assert c.get(url, headers=HTML if url.startswith("/console") else {}).status_code == 403, (who, url)
        refused(c.post("/api/ipf/capital", json={"amount_fen": 1, "on": "2020-01-02", "reference": "X"}), 403)
    aud = web.signed_in("aud")
    refused(aud.post("/api/ipf/capital", json={"amount_fen": 1, "on": "2020-01-02", "reference": "X"}), 403)
    bare = web.client(cookies=dict(web.signed_in("op").cookies))          # no CSRF token
    refused(bare.post("/api/ipf/capital", json={"amount_fen": 1, "on": "2020-01-02", "reference": "X"}), 403)


def test_console_page_of_the_protection_fund(web: Web):
    op = web.signed_in("op")
    ok(op.post("/api/ipf/capital", json={"amount_fen": 1_000_000_00, "on": "2020-01-02", "reference": "CAP"}), 201)
    page = op.get("/console/ipf", headers=HTML)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "证券投资者保护基金" in text and "1,000,000.00" in text and "<svg" in text
    assert 'href="/api/ipf/reports/quarter/' in text
    token = op.headers["X-CSRF-Token"]
    r = op.post("/console/ipf/do/meeting", headers=HTML, follow_redirects=False, data={
        "csrf_token": token, "held_on": "2020-02-01", "directors": "\n".join(DIRECTORS),
        "present": "\n".join(DIRECTORS[:7]), "kind": "regular"})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    assert "Director 7" in html.unescape(op.get("/console/ipf", headers=HTML).text)
    assert f'href="/console/ipf"' in op.get("/console", headers=HTML).text
