"""Hearings on the plan and recourse after compensation, over the web (both backends): the JSON API's happy
paths and refusals (CSRF, role, bad input) and the console pages."""

from __future__ import annotations

import hashlib

from websupport import TODAY, Web

HTML = {"accept": "text/html,application/xhtml+xml"}
SEED = "a" * 16 + "0123456789abcdef0123456789abcdef"
COMMITMENT = hashlib.sha256(SEED.encode()).hexdigest()
PANEL = {"payer_side": ["Payer P1", "Payer P2"], "representative_applicants": ["R1", "R2", "R3"],
         "lawyer_applicants": ["L1", "L2"], "lawyer_seats": 1}


def problem(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    return body


def open_body(**changes) -> dict:
    return {"organiser": "Judge Organiser", "started_on": TODAY.isoformat(), "seed_commitment": COMMITMENT,
            "limit_months": 3, **changes}


# -- hearings ------------------------------------------------------------------------------------------------

def test_hearing_open_panel_by_lot_and_decision(web: Web):
    op = web.signed_in("op")
    case = web.other_case                                        # a draft case: a hearing comes before approval
    assert op.get(f"/api/cases/{case}/hearings").json() == []
    r = op.post(f"/api/cases/{case}/hearings", json=open_body())
    assert r.status_code == 201, r.text
    h = r.json()
    assert h["status"] == "open" and h["seed_commitment"] == COMMITMENT and h["seed"] is None and not h["members"]
    problem(op.post(f"/api/cases/{case}/hearings", json=open_body()), 409)      # one open hearing at a time

    problem(op.post(f"/api/hearings/{h['id']}/decision",
                    json={"minutes": "m", "decision": "d", "on": TODAY.isoformat()}), 409)  # no panel yet
    problem(op.post(f"/api/hearings/{h['id']}/panel", json=dict(PANEL, seed="b" * 48)), 422)  # wrong seed
    r = op.post(f"/api/hearings/{h['id']}/panel", json=dict(PANEL, seed=SEED))
    assert r.status_code == 200, r.text
    seated = r.json()
    assert seated["seed"] == SEED
    sides = sorted(m["side"] for m in seated["members"])
    assert sides == ["investor_lawyer", "investor_representative", "payer", "payer"]
    assert seated["draws"] and all(d["verified"] for d in seated["draws"])
    problem(op.post(f"/api/hearings/{h['id']}/panel", json=dict(PANEL, seed=SEED)), 409)     # already seated

    r = op.post(f"/api/hearings/{h['id']}/decision",
                json={"minutes": "Heard both sides.", "decision": "The plan stands.", "on": TODAY.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "decided" and r.json()["decided_on"] == TODAY.isoformat()
    listed = web.signed_in("aud").get(f"/api/cases/{case}/hearings").json()
    assert [x["status"] for x in listed] == ["decided"] and listed[0]["warnings"] == []
    public = web.client().get(f"/api/public/cases/{case}").json()
    assert public["hearings"][0]["decision"] == "The plan stands."


def test_hearing_panel_by_agreement(web: Web):
    op = web.signed_in("op")
    h = op.post(f"/api/cases/{web.other_case}/hearings", json=open_body()).json()
    r = op.post(f"/api/hearings/{h['id']}/panel", json=dict(PANEL, agreed=["R2", "L1"]))
    assert r.status_code == 200, r.text
    assert {m["person"] for m in r.json()["members"]} == {"Payer P1", "Payer P2", "R2", "L1"}
    assert {m["selected_by"] for m in r.json()["members"] if m["side"] != "payer"} == {"agreement"}


def test_hearing_refusals(web: Web):
    op = web.signed_in("op")
    case = web.other_case
    # a bad seed commitment, a bad limit: 422, nothing opened
    problem(op.post(f"/api/cases/{case}/hearings", json=open_body(seed_commitment="not-hex")), 422)
    problem(op.post(f"/api/cases/{case}/hearings", json=open_body(limit_months=0)), 422)
    # a case past its plan's approval is not heard any more
    problem(op.post(f"/api/cases/{web.case_id}/hearings", json=open_body()), 409)
    # without the CSRF token: 403
    bare = web.client(cookies=dict(op.cookies))
    problem(bare.post(f"/api/cases/{case}/hearings", json=open_body()), 403)
    # an investor, or an approver, with the CSRF token: 403
    for name in ("inv1", "chk"):
        problem(web.signed_in(name).post(f"/api/cases/{case}/hearings", json=open_body()), 403)
    problem(web.signed_in("inv1").get(f"/api/cases/{case}/hearings"), 403)
    problem(web.signed_in("inv1").post("/api/hearings/1/panel", json=dict(PANEL, seed=SEED)), 403)
    problem(op.post("/api/hearings/999999/panel", json=dict(PANEL, seed=SEED)), 404)
    assert op.get(f"/api/cases/{case}/hearings").json() == []


# -- recovery ------------------------------------------------------------------------------------------------

def test_recovery_parties_actions_and_refusals(web: Web):
    op = web.signed_in("op")
    url = f"/api/cases/{web.case_id}/recovery"
    r = op.get(url)
    assert r.status_code == 200, r.text
    assert r.json()["parties"] == [] and r.json()["report"] == [] and r.json()["report_problem"]

    party = {"party_id": "issuer", "name": "Issuer Co", "kind": "issuer", "fault_share_bp": 7000}
    r = op.post(f"{url}/parties", json=party)
    assert r.status_code == 201, r.text
    assert r.json()["solvent"] is True and r.json()["recovery_rate_bp"] == 10000
    problem(op.post(f"{url}/parties", json=party), 409)                                  # named already
    problem(op.post(f"{url}/parties", json=dict(party, party_id="more", fault_share_bp=5000)), 409)  # > 100%
    problem(op.post(f"{url}/parties", json=dict(party, party_id="x", fault_share_bp=10001)), 422)

    action = {"party_id": "issuer", "stage": "demand", "on": TODAY.isoformat(), "amount_fen": 100_000,
              "reference": "LETTER-1"}
    r = op.post(f"{url}/actions", json=action)
    assert r.status_code == 200, r.text
    assert op.post(f"{url}/actions", json=action).json()["id"] == r.json()["id"]        # the same step again
    problem(op.post(f"{url}/actions", json=dict(action, amount_fen=5)), 409)            # reference reused
    problem(op.post(f"{url}/actions", json=dict(action, stage="prayer", reference="L-2")), 422)
    problem(op.post(f"{url}/actions", json=dict(action, party_id="ghost", reference="L-3")), 404)

    # recoveries only once claims are closed
    problem(op.post(f"{url}/receipts", json={"party_id": "issuer", "amount_fen": 100, "on": TODAY.isoformat(),
                                             "reference": "BANK-R1"}), 409)
    body = op.get(url).json()
    assert [p["party_id"] for p in body["parties"]] == ["issuer"]
    assert [a["reference"] for a in body["actions"]] == ["LETTER-1"]
    assert body["report"] == [] and body["report_problem"]

    # refusals: no CSRF token, an investor, an auditor changing things; an investor or payer reading
    bare = web.client(cookies=dict(op.cookies))
    problem(bare.post(f"{url}/parties", json=dict(party, party_id="p2", fault_share_bp=100)), 403)
    problem(web.signed_in("inv1").post(f"{url}/parties", json=dict(party, party_id="p2", fault_share_bp=100)), 403)
    problem(web.signed_in("aud").post(f"{url}/actions", json=dict(action, reference="L-9")), 403)
    problem(web.signed_in("inv1").get(url), 403)
    problem(web.signed_in("payer1").get(url), 403)
    assert web.signed_in("aud").get(url).status_code == 200
    assert len(op.get(url).json()["parties"]) == 1


# -- console pages -------------------------------------------------------------------------------------------

def test_console_hearing_page_and_forms(web: Web):
    op = web.signed_in("op")
    page = f"/console/cases/{web.other_case}/hearings"
    r = op.get(page, headers=HTML)
    assert r.status_code == 200 and 'id="open-hearing"' in r.text and 'id="no-hearings"' in r.text
    token = op.headers["X-CSRF-Token"]
    r = op.post(f"{page}/do/open", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "organiser": "Judge Organiser", "started_on": TODAY.isoformat(),
                      "seed_commitment": COMMITMENT, "limit_months": "3"})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    hid = op.get(f"/api/cases/{web.other_case}/hearings").json()[0]["id"]
    r = op.post(f"{page}/do/panel", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "hearing_id": str(hid), "payer_side": "Payer P1\nPayer P2",
                      "representative_applicants": "R1, R2, R3", "lawyer_applicants": "L1\nL2", "lawyer_seats": "1",
                      "seed": "wrong seed, long enough to pass"})
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=refused")
    r = op.post(f"{page}/do/panel", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "hearing_id": str(hid), "payer_side": "Payer P1\nPayer P2",
                      "representative_applicants": "R1, R2, R3", "lawyer_applicants": "L1\nL2", "lawyer_seats": "1",
                      "seed": SEED})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    r = op.get(page, headers=HTML)
    assert r.status_code == 200 and "verified / 已验证" in r.text and "Payer P1" in r.text and "decide-form" in r.text
    r = op.post(f"{page}/do/decide", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "hearing_id": str(hid), "minutes": "Heard.", "decision": "Plan stands.",
                      "on": TODAY.isoformat()})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    assert "Plan stands." in op.get(page, headers=HTML).text
    # an auditor sees the page without forms; an investor is refused the page and the forms
    r = web.signed_in("aud").get(page, headers=HTML)
    assert r.status_code == 200 and "Plan stands." in r.text and "csrf_token" not in r.text.split("<main")[-1]
    inv = web.signed_in("inv1")
    assert inv.get(page, headers=HTML).status_code == 403
    r = inv.post(f"{page}/do/open", headers=HTML, follow_redirects=False,
                 data={"csrf_token": inv.headers["X-CSRF-Token"], "organiser": "x", "started_on": TODAY.isoformat(),
                       "seed_commitment": COMMITMENT})
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=refused")
    assert len(op.get(f"/api/cases/{web.other_case}/hearings").json()) == 1


def test_console_recovery_page_and_forms(web: Web):
    op = web.signed_in("op")
    page = f"/console/cases/{web.case_id}/recovery"
    assert f'href="{page}"' in op.get(f"/console/cases/{web.case_id}", headers=HTML).text
    r = op.get(page, headers=HTML)
    assert r.status_code == 200 and 'id="party-form"' in r.text and 'id="report-problem"' in r.text
    token = op.headers["X-CSRF-Token"]
    r = op.post(f"{page}/do/party", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "party_id": "issuer", "name": "Issuer Co", "kind": "issuer",
                      "fault_share_bp": "6000", "solvent": "yes", "recovery_rate_bp": "10000", "payer_id": ""})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    r = op.post(f"{page}/do/action", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "party_id": "issuer", "stage": "lawsuit", "on": TODAY.isoformat(),
                      "amount_fen": "500", "reference": "COURT-1", "note": "filed"})
    assert r.status_code == 303 and not r.headers["location"].endswith("?msg=refused"), r.headers["location"]
    r = op.post(f"{page}/do/receipt", headers=HTML, follow_redirects=False,
                data={"csrf_token": token, "party_id": "issuer", "amount_fen": "100", "on": TODAY.isoformat(),
                      "reference": "BANK-1"})
    assert r.status_code == 303 and r.headers["location"].endswith("?msg=refused")             # claims are still open
    r = op.get(page, headers=HTML)
    assert r.status_code == 200 and "Issuer Co" in r.text and "COURT-1" in r.text and 'id="receipt-form"' in r.text
    assert web.signed_in("aud").get(page, headers=HTML).status_code == 200
    assert web.signed_in("inv1").get(page, headers=HTML).status_code == 403
    assert web.signed_in("payer1").get(page, headers=HTML).status_code == 403
    assert op.get("/console/cases/no-such-case/recovery", headers=HTML).status_code == 404
