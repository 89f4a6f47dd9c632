"""Security of the web application on both backends: who may read or decide which claim (every route of the
OpenAPI document that names an investor), staff-only routes, CSRF on the API and on page forms, the sign-in
form, brute force (account lock-out and per-client refusal), cookies, error pages without internals, and the
security headers."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile

import pytest
from sqlalchemy import func, select
from websupport import PASSWORD, TODAY, Web, accept_body

from redress import i18n
from redress.admin import payments
from redress.store.models import Approval, AuditEvent, Claim, Decision, LoginAttempt, User
from redress.web import access_pages
from redress.web.security import COOKIE, MAX_FAILURES

HTML = {"accept": "text/html,application/xhtml+xml"}



def zh(message: str) -> str:
    """A message as the pages show it by default (in Chinese)."""
    with i18n.use("zh"):
        return i18n.gettext(message)

def audit_count(w: Web) -> int:
    with w.tx() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def status_of(w: Web, investor: str) -> str:
    with w.tx() as s:
        return s.execute(select(Claim.status).where(Claim.case_id == w.case_id, Claim.investor_id == investor)
                         ).scalar_one()


def operations(w: Web) -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation in the OpenAPI document."""
    doc = w.client().get("/openapi.json").json()
    return [(m.upper(), p) for p, ops in doc["paths"].items() for m in ops]


def pending_approval(w: Web) -> int:
    """An accepted claim and a batch waiting for a checker; its approval id."""
    with w.tx() as s:
        from redress.admin import claims
        claims.decide(s, "op", w.case_id, claims.DecisionInput(w.investors[5], "accept", TODAY, "counter", "setup",
                                                               "v1", w.agreement_sha))
        return payments.propose_batch(s, "op", w.case_id, TODAY).id


def case_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("case.toml", '[case]\nid = "uploaded"\nname = "x"\n')
    return buf.getvalue()


def call(client, w: Web, method: str, template: str, *, investor: str | None = None, approval: int = 1,
         headers: dict | None = None):
    """Call one operation with well-formed parameters and body, so that only authorisation can refuse it."""
    path = (template.replace("{case_id}", w.case_id).replace("{investor_id}", investor or w.inv1)
            .replace("{approval_id}", str(approval)).replace("{run_id}", "no-such-run").replace("{number}", "1")
            .replace("{fmt}", "csv"))
    on = TODAY.isoformat()
    bodies = {
        "/api/session": {"name": "op", "password": "wrong"},
        "/api/cases/{case_id}/plan": {"open_on": on, "deadline": (TODAY + dt.timedelta(days=9)).isoformat()},
        "/api/cases/{case_id}/agreement": {"version": "v2", "body": "forged agreement"},
        "/api/cases/{case_id}/close": {"on": on},
        "/api/cases/{case_id}/claims/{investor_id}/decision": accept_body(w, "attack"),
        "/api/approvals/{approval_id}/approve": {"note": ""},
        "/api/approvals/{approval_id}/reject": {"note": ""},
        "/api/cases/{case_id}/batches": {"on": on},
    }
    kw: dict = {"headers": headers or {}}
    if method in ("POST", "PUT", "PATCH") and template in bodies:
        kw["json"] = bodies[template]
    elif template == "/api/cases" and method == "POST":
        kw["files"] = {"case_zip": ("case.zip", case_zip(), "application/zip")}
    elif template.endswith(("/payment-results", "/fair-fund/results")):
        kw["files"] = {"file": ("r.csv", b"instruction_id,status,amount,settled_on\n", "text/csv")}
    elif template.endswith("/compare"):
        kw["data"] = {"plans": "[plan]\ncost_method = \"fifo\"\n"}
    return client.request(method, path, **kw)


# -- whose claim ---------------------------------------------------------------------------------------------

def test_no_investor_reaches_another_investors_claim(web: Web):
    ops = [(m, p) for m, p in operations(web) if "{investor_id}" in p]
    assert {p.rsplit("/", 1)[-1] for _m, p in ops} >= {"{investor_id}", "explanation", "decision"}, ops
    before = audit_count(web)
    for who in ("inv1", "nobody", "payer1"):
        client = web.signed_in(who)
        for method, template in ops:
            for target in (web.inv2, "INV-DOES-NOT-EXIST"):
                r = call(client, web, method, template, investor=target)
                assert r.status_code == 403, (who, method, template, target, r.status_code, r.text)
                assert "offered_fen" not in r.text
    anon = web.client()
    for method, template in ops:
        r = call(anon, web, method, template, investor=web.inv2)
        assert r.status_code == 401, (method, template, r.status_code, r.text)
    assert status_of(web, web.inv2) == "offered"
    assert audit_count(web) == before
    with web.tx() as s:
        assert s.execute(select(func.count()).select_from(Decision)).scalar_one() == 0

    # the owner does reach them (so the refusals above are about the owner, not a broken route)
    own = web.signed_in("inv2")
    for method, template in ops:
        r = call(own, web, method, template, investor=web.inv2)
        assert r.status_code == 200, (method, template, r.status_code, r.text)
    assert status_of(web, web.inv2) == "accepted"


def test_claim_listings_show_only_ones_own(web: Web):
    inv = web.signed_in("inv1")
    assert [c["investor_id"] for c in inv.get("/api/me/claims").json()] == [web.inv1]
    # the portal page ignores an ``investor`` parameter from an investor: it shows their own claim only
    r = inv.get(f"/portal/cases/{web.case_id}", params={"investor": web.inv2}, headers=HTML)
    assert r.status_code == 200, r.text
    assert web.inv2 not in r.text
    offered_2 = f"{web.offers[web.inv2] // 100:,}.{web.offers[web.inv2] % 100:02d}"
    offered_1 = f"{web.offers[web.inv1] // 100:,}.{web.offers[web.inv1] % 100:02d}"
    assert offered_1 in r.text and (offered_2 not in r.text or offered_1 == offered_2)
    # the portal decision form decides the signed-in investor's claim, whatever else is posted
    r = inv.post(f"/portal/cases/{web.case_id}/decision", follow_redirects=False,
                 data={"decision": "decline", "confirm": "yes", "key": "p-1", "investor_id": web.inv2,
                       "csrf_token": inv.headers["X-CSRF-Token"]})
    assert r.status_code == 303
    assert status_of(web, web.inv1) == "declined" and status_of(web, web.inv2) == "offered"


# -- staff only ----------------------------------------------------------------------------------------------

# what an investor may call (their own claims are covered above); anything else in the API is for staff
INVESTOR_MAY = {("POST", "/api/session"), ("DELETE", "/api/session"), ("GET", "/api/me"), ("GET", "/api/cases"),
                ("GET", "/api/cases/{case_id}"), ("GET", "/api/cases/{case_id}/agreement"),
                ("GET", "/api/me/claims"), ("GET", "/api/public/cases/{case_id}")}
# a payer also sees the books of its own case
PAYER_MAY = INVESTOR_MAY | {("GET", "/api/cases/{case_id}/statement"), ("GET", "/api/cases/{case_id}/ledger"),
                            ("GET", "/api/cases/{case_id}/participation"),
                            ("GET", "/api/cases/{case_id}/participation/timeline"),
                            ("GET", "/api/cases/{case_id}/batches"),
                            ("GET", "/api/cases/{case_id}/reports/statement.{fmt}")}


@pytest.mark.parametrize("who, allowed", [("inv1", INVESTOR_MAY), ("nobody", INVESTOR_MAY), ("payer1", PAYER_MAY)])
def test_staff_routes_refuse_investors_and_payers(web: Web, who, allowed):
    approval = pending_approval(web)
    before = audit_count(web)
    client = web.signed_in(who)
    checked = []
    for method, template in operations(web):
        if (method, template) in allowed or "{investor_id}" in template:
            continue
        r = call(client, web, method, template, approval=approval)
        assert r.status_code == 403, (who, method, template, r.status_code, r.text)
        assert r.json()["detail"]
        checked.append(template)
    assert len(checked) >= (20 if who != "payer1" else 15), checked
    assert audit_count(web) == before
    with web.tx() as s:
        assert s.get(Approval, approval).status == "pending"
    assert not (web.app.state.data_dir / "cases" / "uploaded").exists()
    # the pages of the console too
    for url in ("/console", f"/console/cases/{web.case_id}", "/console/audit", "/console/runs/x"):
        r = client.get(url, headers=HTML)
        assert r.status_code == 403, (url, r.status_code)
        assert web.inv2 not in r.text
    # and its forms, even with the right CSRF token: refused, nothing done
    token = client.headers["X-CSRF-Token"]
    forms = {"agreement": {"version": "v9", "body": "forged"}, "batch": {"on": TODAY.isoformat()},
             "close": {"on": TODAY.isoformat()}, "open": {}, "approve": {"approval_id": str(approval)},
             "reject": {"approval_id": str(approval)},
             "propose_plan": {"open_on": TODAY.isoformat(), "deadline": TODAY.isoformat()}}
    for action, data in forms.items():
        r = client.post(f"/console/cases/{web.case_id}/do/{action}", data=dict(data, csrf_token=token),
                        headers=HTML, follow_redirects=False)
        assert r.status_code in (303, 403), (action, r.status_code)
        assert r.status_code == 403 or r.headers["location"].endswith("?msg=refused")
    r = client.post(f"/console/cases/{web.case_id}/compare", data={"plan": "", "csrf_token": token}, headers=HTML,
                    follow_redirects=False)
    assert r.status_code in (303, 403)
    assert audit_count(web) == before
    with web.tx() as s:
        assert s.get(Approval, approval).status == "pending"


def test_payer_sees_only_its_own_case(web: Web):
    payer = web.signed_in("payer1")
    assert payer.get(f"/api/cases/{web.case_id}/statement").status_code == 200
    for url in ("/api/cases/draft-case/statement", "/api/cases/draft-case/ledger",
                "/api/cases/draft-case/participation", "/api/cases/draft-case/batches"):
        assert payer.get(url).status_code == 403, url


def test_anonymous_is_refused_everywhere_but_the_public_routes(web: Web):
    anon = web.client()
    public = {("POST", "/api/session"), ("GET", "/api/public/cases/{case_id}")}
    for method, template in operations(web):
        if (method, template) in public:
            continue
        r = call(anon, web, method, template)
        assert r.status_code == 401, (method, template, r.status_code, r.text)
    # a page that needs a session sends the browser to sign in, and back to it afterwards
    assert anon.get("/portal", headers=HTML, follow_redirects=False).headers["location"] == "/login?next=/portal"
    assert anon.get("/console", headers=HTML, follow_redirects=False).status_code == 303


# -- CSRF ----------------------------------------------------------------------------------------------------

def test_every_api_change_needs_the_csrf_token(web: Web):
    approval = pending_approval(web)
    before = audit_count(web)
    staff = web.client()
    me = staff.post("/api/session", json={"name": "maker", "password": PASSWORD}).json()
    other = web.signed_in("chk").headers["X-CSRF-Token"]          # a real token, of another session
    changing = [(m, p) for m, p in operations(web) if m in ("POST", "PUT", "PATCH", "DELETE")
                and p != "/api/session" or (m, p) == ("DELETE", "/api/session")]
    assert len(changing) >= 13, changing
    for bad in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": other},
                {"X-CSRF-Token": me["csrf_token"][:-1]}):
        for method, template in changing:
            r = call(staff, web, method, template, approval=approval, headers=bad)
            assert r.status_code == 403, (bad, method, template, r.status_code, r.text)
            assert "CSRF" in r.json()["detail"]
    assert audit_count(web) == before
    assert staff.get("/api/me").status_code == 200                  # still signed in: sign-out was refused
    with web.tx() as s:
        assert s.get(Approval, approval).status == "pending"
    # and with the token, the same session may act
    r = staff.post(f"/api/cases/{web.case_id}/claims/{web.inv1}/decision", json=accept_body(web),
                   headers={"X-CSRF-Token": me["csrf_token"]})
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_portal_and_logout_forms_need_the_csrf_token(web: Web):
    inv = web.client()
    token = inv.post("/api/session", json={"name": "inv1", "password": PASSWORD}).json()["csrf_token"]
    url = f"/portal/cases/{web.case_id}/decision"
    form = {"decision": "accept", "confirm": "yes", "key": "form-1", "agreement_version": "v1",
            "agreement_sha256": web.agreement_sha}
    for csrf in (None, "", "forged", token + "x"):
        data = dict(form) if csrf is None else dict(form, csrf_token=csrf)
        r = inv.post(url, data=data, headers=HTML, follow_redirects=False)
        assert r.status_code == 403, (csrf, r.status_code, r.text)
        assert r.headers["content-type"].startswith("text/html") and "Traceback" not in r.text
        r = inv.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert status_of(web, web.inv1) == "offered"
    for csrf in (None, "forged"):
        data = {} if csrf is None else {"csrf_token": csrf}
        assert inv.post("/logout", data=data, headers=HTML, follow_redirects=False).status_code == 403
        assert inv.post(f"/console/cases/{web.case_id}/do/agreement", data=dict(data, version="v9", body="x"),
                        follow_redirects=False).status_code == 403
    assert inv.get("/api/me").status_code == 200                    # still signed in

    # with the token both forms work
    r = inv.post(url, data=dict(form, csrf_token=token), headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and status_of(web, web.inv1) == "accepted"
    r = inv.post("/logout", data={"csrf_token": token}, headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert inv.get("/api/me").status_code == 401


def login_form(client) -> str:
    r = client.get("/login", headers=HTML)
    assert r.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)


def test_login_form_refuses_a_missing_or_wrong_login_token(web: Web):
    c = web.client(follow_redirects=False)
    token = login_form(c)
    good = {"name": "op", "password": PASSWORD}
    for data in (good, dict(good, csrf_token=""), dict(good, csrf_token="forged")):
        r = c.post("/login", data=data, headers=HTML)
        assert r.status_code in (200, 400, 403) and "location" not in r.headers, r.status_code
        assert COOKIE not in r.headers.get("set-cookie", "") and COOKIE not in c.cookies
        assert zh("The form expired. Please try again.") in r.text
    # the token without its cookie (a forged cross-site post) is refused too
    bare = web.client(follow_redirects=False)
    r = bare.post("/login", data=dict(good, csrf_token=token), headers=HTML)
    assert "location" not in r.headers and COOKIE not in bare.cookies
    with web.tx() as s:                                               # none of these even tried the password
        assert s.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == 0

    token = login_form(c)
    r = c.post("/login", data=dict(good, csrf_token=token), headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert c.cookies.get(COOKIE)
    assert c.get("/api/me").json()["name"] == "op"


# -- brute force ---------------------------------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account(web: Web):
    """An investor's account is locked wherever the guesses come from."""
    c = web.client()
    wrong = []
    for i in range(MAX_FAILURES):
        r = c.post("/api/session", json={"name": "inv1", "password": f"guess-{i}"})
        assert r.status_code == 401, r.text
        wrong.append(r.json()["detail"])
    assert len(set(wrong)) == 1
    r = c.post("/api/session", json={"name": "inv1", "password": PASSWORD})      # the right password, too late
    assert r.status_code == 429, r.text
    assert COOKIE not in c.cookies
    with web.tx() as s:
        assert s.get(User, "inv1").locked_until is not None
    # the form says the same, from another address too
    f = web.client(follow_redirects=False, client=("198.51.100.9", 40000))
    r = f.post("/login", data={"name": "inv1", "password": PASSWORD, "csrf_token": login_form(f)}, headers=HTML)
    assert r.status_code == 429 and COOKIE not in f.cookies
    # another account is not affected
    assert web.client().post("/api/session", json={"name": "inv2", "password": PASSWORD}).status_code == 200


def test_five_wrong_passwords_lock_staff_out_from_that_address_only(web: Web):
    c = web.client()
    for i in range(MAX_FAILURES):
        assert c.post("/api/session", json={"name": "op", "password": f"guess-{i}"}).status_code == 401
    r = c.post("/api/session", json={"name": "op", "password": PASSWORD})        # the right password, too late
    assert r.status_code == 429, r.text
    assert COOKIE not in c.cookies
    with web.tx() as s:
        assert s.get(User, "op").locked_until is None
    # the same person from their own desk signs in, with the form
    f = web.client(follow_redirects=False, client=("198.51.100.9", 40000))
    r = f.post("/login", data={"name": "op", "password": PASSWORD, "csrf_token": login_form(f)}, headers=HTML)
    assert r.status_code == 303 and f.cookies.get(COOKIE)


def test_four_wrong_passwords_then_the_right_one_signs_in(web: Web):
    c = web.client()
    for i in range(MAX_FAILURES - 1):
        assert c.post("/api/session", json={"name": "op", "password": f"guess-{i}"}).status_code == 401
    assert c.post("/api/session", json={"name": "op", "password": PASSWORD}).status_code == 200
    with web.tx() as s:
        assert s.get(User, "op").failed_logins == 0


def test_thirty_failures_refuse_the_client(web: Web):
    c = web.client(client=("203.0.113.7", 40000))
    for i in range(30):      # different unknown names: no account is locked, the client is
        r = c.post("/api/session", json={"name": f"ghost{i}", "password": "x"})
        assert r.status_code == 401, (i, r.text)
    r = c.post("/api/session", json={"name": "aud", "password": PASSWORD})
    assert r.status_code == 429, r.text
    assert COOKIE not in c.cookies
    # the account itself is fine from elsewhere
    other = web.client(client=("198.51.100.9", 40000))
    assert other.post("/api/session", json={"name": "aud", "password": PASSWORD}).status_code == 200
    with web.tx() as s:
        n = s.execute(select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.client == "203.0.113.7", LoginAttempt.success.is_(False))).scalar_one()
    assert n >= 30


def test_unknown_user_and_wrong_password_look_the_same(web: Web):
    c = web.client()
    unknown = c.post("/api/session", json={"name": "no-such-user", "password": "x"})
    wrong = c.post("/api/session", json={"name": "op", "password": "x"})
    no_password = c.post("/api/session", json={"name": "root", "password": "x"})   # a user without a password
    assert unknown.status_code == wrong.status_code == no_password.status_code == 401
    assert unknown.json() == wrong.json() == no_password.json()
    f = web.client(follow_redirects=False)
    pages_ = [f.post("/login", data={"name": n, "password": "x", "csrf_token": login_form(f)}, headers=HTML)
              for n in ("no-such-user", "op")]
    errors = [re.search(r'class="error"[^>]*>([^<]*)<', p.text).group(1) for p in pages_]
    assert pages_[0].status_code == pages_[1].status_code == 401
    assert errors[0] == errors[1]
    # and once locked, a real account answers like a made-up one tried as often
    for _ in range(MAX_FAILURES):
        c.post("/api/session", json={"name": "aud", "password": "x"})
        c.post("/api/session", json={"name": "ghost", "password": "x"})
    real = c.post("/api/session", json={"name": "aud", "password": "x"})
    made_up = c.post("/api/session", json={"name": "ghost", "password": "x"})
    assert real.status_code == made_up.status_code and real.json() == made_up.json()


# -- cookies -------------------------------------------------------------------------------------------------

def cookie_attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]} | {
        part.strip().lower() for part in header.split(";")[1:] if part.strip().lower().startswith("samesite")}


def test_session_cookie_is_httponly_secure_and_samesite_lax(web: Web):
    r = web.client().post("/api/session", json={"name": "op", "password": PASSWORD})
    header = r.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=")
    attrs = cookie_attributes(header)
    assert {"httponly", "secure", "samesite=lax", "path"} <= attrs, header

    f = web.client(follow_redirects=False)
    login = f.get("/login", headers=HTML)
    attrs = cookie_attributes(login.headers["set-cookie"])
    assert login.headers["set-cookie"].startswith(f"{access_pages.LOGIN_CSRF}=")
    assert {"httponly", "secure", "samesite=strict"} <= attrs, login.headers["set-cookie"]
    r = f.post("/login", data={"name": "op", "password": PASSWORD, "csrf_token": login_form(f)}, headers=HTML)
    session = [h for h in r.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}=")]
    assert len(session) == 1 and {"httponly", "secure", "samesite=lax"} <= cookie_attributes(session[0])


# -- errors --------------------------------------------------------------------------------------------------

def boom(*_a, **_k):
    raise RuntimeError("secret-xyz: password=hunter2 at postgresql://internal-db")


def test_a_crash_shows_a_reference_and_nothing_inside(web: Web, monkeypatch, caplog):
    from redress.admin import claims

    monkeypatch.setattr(claims, "participation", boom)
    staff = web.signed_in("aud", raise_server_exceptions=False)
    anon = web.client(raise_server_exceptions=False)
    caplog.set_level(logging.ERROR, logger="redress.web")
    seen = []
    for client, url, headers in ((staff, f"/api/cases/{web.case_id}/participation", {}),
                                 (anon, f"/api/public/cases/{web.case_id}", {}),
                                 (staff, f"/console/cases/{web.case_id}", HTML),
                                 (anon, f"/cases/{web.case_id}", HTML)):
        r = client.get(url, headers=headers)
        assert r.status_code == 500, (url, r.status_code)
        for secret in ("secret-xyz", "hunter2", "internal-db", "Traceback", "RuntimeError", 'File "', ".py"):
            assert secret not in r.text, (url, secret, r.text)
        if headers:
            assert r.headers["content-type"].startswith("text/html")
            ref = re.search(zh("Reference") + r"[^:]*: ([0-9a-f]{12})", r.text).group(1)
        else:
            body = r.json()
            assert set(body) == {"detail", "reference"} and re.fullmatch(r"[0-9a-f]{12}", body["reference"])
            ref = body["reference"]
        for name, value in SECURITY_HEADERS.items():
            assert value in r.headers.get(name, ""), (url, name, dict(r.headers))
        seen.append(ref)
    assert len(set(seen)) == len(seen)
    logged = caplog.text
    assert all(ref in logged for ref in seen) and "secret-xyz" in logged       # the details go to the log only


def test_not_found_pages_are_plain(web: Web):
    c = web.client()
    r = c.get("/no/such/page", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert zh("Not found") in r.text and "Traceback" not in r.text and "starlette" not in r.text.lower()
    r = c.get("/no/such/page")
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    r = c.get("/api/nothing-here", headers=HTML)
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}
    staff = web.signed_in("op")
    r = staff.get("/console/cases/no-such-case", headers=HTML)
    assert r.status_code == 404 and zh("Not found") in r.text and "Traceback" not in r.text
    assert "no-such-case" not in r.text                   # a page never repeats what the address says
    assert staff.get("/api/cases/no-such-case").json()["detail"] == "no case 'no-such-case'"


SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "DENY",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


@pytest.mark.parametrize("url, status", [("/login", 200), ("/", 303), ("/api/me", 401), ("/no/such/page", 404),
                                         ("/static/redress.css", 200), ("/openapi.json", 200),
                                         ("/api/public/cases/draft-case", 404)])
def test_security_headers_everywhere(web: Web, url, status):
    r = web.client(follow_redirects=False).get(url, headers=HTML)
    assert r.status_code == status, r.status_code
    for name, value in SECURITY_HEADERS.items():
        assert value in r.headers.get(name, ""), (name, dict(r.headers))
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    if url.startswith("/api"):
        assert r.headers["cache-control"] == "no-store"
