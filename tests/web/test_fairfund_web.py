"""The fair fund over the web (both backends): the JSON API's happy path and refusals (CSRF, role, bad input)
and the console page with its forms."""

from __future__ import annotations

from websupport import TODAY, Web, settled

HTML = {"accept": "text/html,application/xhtml+xml"}
PLAN = {"minimum_payment_fen": 100, "residual_to": "investor protection fund"}


def problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    return body


def source(reference: str, amount_fen: int, kind: str = "fine") -> dict:
    return {"kind": kind, "amount_fen": amount_fen, "reference": reference, "received_on": TODAY.isoformat()}


def test_fair_fund_establish_sources_round_reconcile(web: Web):
    op = web.signed_in("op")
    url = f"/api/cases/{web.case_id}/fair-fund"
    r = op.get(url)
    assert r.status_code == 200, r.text
    assert r.json()["plan"] is None and r.json()["statement"] is None and r.json()["statement_problem"]

    r = op.post(url, json=PLAN)
    assert r.status_code == 201, r.text
    assert r.json()["plan"]["residual_to"] == "investor protection fund"
    assert r.json()["statement"]["sources_fen"] == 0 and r.json()["statement"]["held_fen"] == 0
    assert op.post(url, json=PLAN).status_code == 201                       # the same plan again
    problem(op.post(url, json=dict(PLAN, minimum_payment_fen=5)), 409)       # a different plan

    total = sum(web.offers.values())
    a, b = total // 4, total // 8 + 7
    r = op.post(f"{url}/sources", json=source("CSRC-FINE-1", a))
    assert r.status_code == 201, r.text
    first = r.json()
    assert op.post(f"{url}/sources", json=source("CSRC-FINE-1", a)).json()["id"] == first["id"]  # idempotent
    problem(op.post(f"{url}/sources", json=source("CSRC-FINE-1", a + 1)), 409)                 # reference reused
    assert op.post(f"{url}/sources", json=source("CSRC-CONF-2", b, "confiscation")).status_code == 201

    problem(op.post(f"{url}/rounds", json={"on": TODAY.isoformat()}), 409)   # advance compensation not settled
    settled(web)
    r = op.post(f"{url}/rounds", json={"on": TODAY.isoformat()})
    assert r.status_code == 201, r.text
    rnd = r.json()
    assert rnd["number"] == 1 and rnd["available_fen"] == a + b
    assert rnd["paid_fen"] + rnd["residual_fen"] == rnd["available_fen"]
    assert rnd["payments_fen"] == rnd["paid_fen"] and rnd["payees"] > 0

    body = web.signed_in("aud").get(url).json()
    st = body["statement"]
    assert [x["reference"] for x in body["sources"]] == ["CSRC-FINE-1", "CSRC-CONF-2"]
    assert st["sources_fen"] == a + b == sum(x["amount_fen"] for x in body["sources"])
    assert st["paid_fen"] == rnd["paid_fen"] == sum(st["paid_by_investor"].values())
    assert (st["awaiting_fen"], st["transferred_fen"], st["in_flight_fen"]) == (st["paid_fen"], 0, 0)
    assert st["sources_fen"] == st["paid_fen"] + st["residual_sent_fen"] + st["held_fen"]
    assert all(fen <= web.offers[inv] for inv, fen in st["paid_by_investor"].items())  # never beyond the loss
    assert [x["number"] for x in body["rounds"]] == [1] and body["statement_problem"] is None
    if st["held_fen"] == 0:
        problem(op.post(f"{url}/rounds", json={"on": TODAY.isoformat()}), 409)          # nothing left to pay

    # paying the allocations: a batch proposed by the maker, released by a checker, exported, results imported
    r = op.post(f"{url}/batches", json={"on": TODAY.isoformat()})
    assert r.status_code == 201, r.text
    ap = r.json()
    assert ap["action"] == "release_fairfund" and ap["payload"]["total_fen"] == st["paid_fen"]
    problem(op.post(f"{url}/batches", json={"on": TODAY.isoformat()}), 409)       # nothing else owed
    problem(op.get(f"{url}/batches/1/instructions.csv"), 409)                      # not released yet
    problem(op.post(f"/api/approvals/{ap['id']}/approve", json={"note": ""}), 403)  # not by the maker
    r = web.signed_in("chk").post(f"/api/approvals/{ap['id']}/approve", json={"note": "checked"})
    assert r.status_code == 200, r.text
    r = op.get(f"{url}/batches/1/instructions.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = [x.split(",") for x in r.text.splitlines()[1:]]
    assert sum(int(x[4].replace(".", "")) for x in lines) == st["paid_fen"]
    results = "instruction_id,status,amount,settled_on,reason\n" + "".join(
        f"{x[0]},paid,{x[4]},{TODAY.isoformat()},\n" for x in lines)
    r = op.post(f"{url}/results", files={"file": ("ff-results.csv", results.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    assert (r.json()["paid"], r.json()["paid_fen"]) == (len(lines), st["paid_fen"])
    after = op.get(url).json()
    assert after["statement"]["transferred_fen"] == st["paid_fen"] and after["statement"]["awaiting_fen"] == 0
    assert [b["status"] for b in after["batches"]] == ["settled"]


def test_fair_fund_refusals(web: Web):
    op = web.signed_in("op")
    url = f"/api/cases/{web.case_id}/fair-fund"
    # sources and rounds before the fund exists: 404
    problem(op.post(f"{url}/sources", json=source("S-1", 100)), 404)
    problem(op.post(f"{url}/rounds", json={"on": TODAY.isoformat()}), 404)
    problem(op.post("/api/cases/no-such-case/fair-fund", json=PLAN), 404)
    # bad input: 422, nothing stored
    problem(op.post(url, json=dict(PLAN, minimum_payment_fen=-1)), 422)
    problem(op.post(url, json=dict(PLAN, residual_to="")), 422)
    problem(op.post(url, json=dict(PLAN, residual_to="carried_forward")), 422)   # a reserved word
    assert op.get(url).json()["plan"] is None
    assert op.post(url, json=PLAN).status_code == 201
    problem(op.post(f"{url}/sources", json=source("S-1", 0)), 422)
    problem(op.post(f"{url}/sources", json=source("S-1", 100, "donation")), 422)
    problem(op.post(f"{url}/sources", json=dict(source("S-1", 100), received_on="yesterday")), 422)
    problem(op.post(f"{url}/rounds", json={"on": "not a date"}), 422)
    problem(op.post(f"{url}/rounds", json={"on": TODAY.isoformat()}), 409)        # holds no money yet
    # without the CSRF token: 403
    bare = web.client(cookies=dict(op.cookies))
    problem(bare.post(f"{url}/sources", json=source("S-2", 100)), 403)
    problem(bare.post(f"{url}/rounds", json={"on": TODAY.isoformat()}), 403)
    # an investor, an auditor or an approver changing things: 403; an investor or payer reading: 403
    for name in ("inv1", "aud", "chk"):
        problem(web.signed_in(name).post(f"{url}/sources", json=source("S-3", 100)), 403)
        problem(web.signed_in(name).post(url, json=PLAN), 403)
    problem(web.signed_in("inv1").post(f"{url}/rounds", json={"on": TODAY.isoformat()}), 403)
    problem(web.signed_in("inv1").get(url), 403)
    problem(web.signed_in("payer1").get(url), 403)
    body = op.get(url).json()
    assert body["sources"] == [] and body["rounds"] == [] and body["statement"]["sources_fen"] == 0


def test_console_fair_fund_page_and_forms(web: Web):
    op = web.signed_in("op")
    page = f"/console/cases/{web.case_id}/fair-fund"
    assert f'href="{page}"' in op.get(f"/console/cases/{web.case_id}", headers=HTML).text
    r = op.get(page, headers=HTML)
    assert r.status_code == 200 and 'id="establish-form"' in r.text and 'id="statement-problem"' in r.text
    token = op.headers["X-CSRF-Token"]
    r = op.post(f"{page}/do/establish", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "minimum_payment_fen": "-5", "residual_to": "treasury"})
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=refused")
    r = op.post(f"{page}/do/establish", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "minimum_payment_fen": "0", "residual_to": "treasury",
                      "redistribute_below_minimum": "yes", "on": TODAY.isoformat()})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    r = op.post(f"{page}/do/source", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "kind": "settlement", "amount_fen": "250000", "reference": "SETTLE-1",
                      "received_on": TODAY.isoformat()})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    r = op.get(page, headers=HTML)
    assert r.status_code == 200 and "SETTLE-1" in r.text and 'id="round-form"' in r.text
    settled(web)
    r = op.post(f"{page}/do/round", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "on": TODAY.isoformat()})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    r = op.get(page, headers=HTML)
    assert r.status_code == 200 and 'id="fairfund-rounds"' in r.text and 'id="fairfund-statement"' in r.text
    assert 'id="ff-batch-form"' in r.text
    r = op.post(f"{page}/do/batch", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "on": TODAY.isoformat()})
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=fair_fund_batch_proposed"), r.headers["location"]
    r = op.get(page, headers=HTML)
    assert "waiting for release" in r.text and 'id="fairfund-batches"' in r.text
    st = op.get(f"/api/cases/{web.case_id}/fair-fund").json()["statement"]
    assert st["sources_fen"] == 250_000 == st["paid_fen"] + st["residual_sent_fen"] + st["held_fen"]
    # an auditor sees the page without forms; an investor or payer is refused the page; an investor's form fails
    r = web.signed_in("aud").get(page, headers=HTML)
    assert r.status_code == 200 and "SETTLE-1" in r.text and "csrf_token" not in r.text.split("<main")[-1]
    inv = web.signed_in("inv1")
    assert inv.get(page, headers=HTML).status_code == 403
    assert web.signed_in("payer1").get(page, headers=HTML).status_code == 403
    r = inv.post(f"{page}/do/source", headers=HTML, follow_redirects=False,
                 data={"csrf_token": inv.headers["X-CSRF-Token"], "kind": "fine", "amount_fen": "1",
                       "reference": "X-1", "received_on": TODAY.isoformat()})
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=refused")
    assert op.get("/console/cases/no-such-case/fair-fund", headers=HTML).status_code == 404
    assert len(op.get(f"/api/cases/{web.case_id}/fair-fund").json()["sources"]) == 1
