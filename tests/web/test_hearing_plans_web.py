"""The plans under discussion at a hearing over the web (both backends): put through the API and the console,
compared by the engine, and published on the case's public page with a chart."""

from __future__ import annotations

import hashlib
import html

from sqlalchemy import update

from redress.store.models import Case
from redress.web import flash
from websupport import TODAY, Web

HTML = {"accept": "text/html,application/xhtml+xml"}
SEED = "plans-web-seed-0123456789abcdef"


def _hearing(web: Web) -> int:
    with web.tx() as s:       # what an upload records: where the case directory lives
        s.execute(update(Case).where(Case.id == web.other_case).values(case_dir=str(web.case_dir)))
    r = web.signed_in("op").post(f"/api/cases/{web.other_case}/hearings", json={
        "organiser": "Judge Organiser", "started_on": TODAY.isoformat(),
        "seed_commitment": hashlib.sha256(SEED.encode()).hexdigest(), "limit_months": 3})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_plans_and_comparison_through_the_api_and_the_public_page(web: Web):
    h_id = _hearing(web)
    op = web.signed_in("op")
    body = {"label": "A", "proposed_by": "payers 出资人", "plan_toml": '[plan]\ncost_method = "fifo"\n',
            "on": TODAY.isoformat()}
    r = op.post(f"/api/hearings/{h_id}/plans", json=body)
    assert r.status_code == 201, r.text
    assert [p["label"] for p in r.json()["plans"]] == ["A"] and r.json()["comparison"] is None
    bad = op.post(f"/api/hearings/{h_id}/plans", json=dict(body, label="B", plan_toml="[plan]\nnope = 1\n"))
    assert bad.status_code == 422 and "refused" in bad.json()["detail"]
    assert any("nope" in p for p in bad.json()["problems"])
    assert web.signed_in("aud").post(f"/api/hearings/{h_id}/plans", json=body).status_code == 403
    assert web.client().post(f"/api/hearings/{h_id}/plans", json=body).status_code in (401, 403)
    r = op.post(f"/api/hearings/{h_id}/comparison", json={"on": TODAY.isoformat()})
    assert r.status_code == 200, r.text
    table = r.json()["comparison"]["table"]
    assert [row["plan"] for row in table] == ["case.toml", "A"]
    assert all(row["total_compensation"] > 0 for row in table)
    public = web.client().get(f"/api/public/cases/{web.other_case}").json()["hearings"][0]
    assert public["comparison"]["table"] == table and public["plans"][0]["label"] == "A"
    page = html.unescape(web.client().get(f"/cases/{web.other_case}", headers=HTML).text)
    assert "Plans under discussion" in page and "Comparison 方案对比" in page and "<svg" in page
    assert f"{table[1]['total_compensation']:,.2f}" in page


def test_console_forms_put_a_plan_and_publish_the_comparison(web: Web):
    h_id = _hearing(web)
    op = web.signed_in("op")
    url = f"/console/cases/{web.other_case}/hearings"
    page = op.get(url, headers=HTML).text
    assert "Put to the hearing" in page and "Compare and publish" not in page
    token = op.headers["X-CSRF-Token"]
    form = {"csrf_token": token, "hearing_id": str(h_id), "label": "investors", "proposed_by": "investor side",
            "plan_toml": "[plan]\ninterest = true\n", "on": TODAY.isoformat()}
    r = op.post(f"{url}/do/plan", data=form, headers=HTML, follow_redirects=True)
    assert r.status_code == 200 and flash.text("hearing_plan_added") in html.unescape(r.text)
    r = op.post(f"{url}/do/plan", data=dict(form, label="bad", plan_toml="[plan]\ninterest = 7\n"), headers=HTML,
                follow_redirects=True)
    assert flash.text("refused") + " plan 'bad' refused" in html.unescape(r.text) and "interest" in r.text
    r = op.post(f"{url}/do/compare", data={"csrf_token": token, "hearing_id": str(h_id), "on": TODAY.isoformat()},
                headers=HTML, follow_redirects=True)
    text = html.unescape(r.text)
    assert flash.text("comparison_published") in text and "Comparison 方案对比" in text and "investors" in text
    no_csrf = op.post(f"{url}/do/compare", data={"hearing_id": str(h_id), "on": TODAY.isoformat()}, headers={
        **HTML, "X-CSRF-Token": ""})
    assert no_csrf.status_code in (400, 403)
