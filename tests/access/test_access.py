"""The investor's way in: activation codes with an account number, one-time codes, a forgotten password, the
limits on guessing and where a sign-in lands."""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
import types

import polars as pl
from sqlalchemy import func, select
from typer.testing import CliRunner

from redress.admin import access
from redress.cli.main import app as cli
from redress.store.models import (ActivationCode, AuditEvent, CodeAttempt, InvestorAccount, InvestorContact,
                                  User)
from web.websupport import PASSWORD

NEW_PASSWORD = "quiet harbour lantern morning"


def account_of(w, investor: str) -> str:
    trades = pl.read_csv(w.case_dir / "trades.csv", infer_schema=False)
    return trades.filter(pl.col("investor_id") == investor)["account_id"][0]


def fresh_investor(w, k: int = 5) -> str:
    """An investor with an offer and no user yet."""
    return w.investors[k]


def issue(w, investor: str, actor: str = "svc") -> str:
    with w.tx() as s:
        return access.issue_for_caller(s, actor, w.case_id, investor)


def csrf(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def check(client, code: str, account: str):
    return client.post("/activate", data={"csrf_token": csrf(client, "/activate"), "step": "check",
                                          "code": code, "account": account})


def ticket_of(page) -> str:
    return re.search(r'name="ticket" value="([^"]+)"', page.text).group(1)


def activate(w, client, code: str, account: str, **extra):
    step1 = check(client, code, account)
    assert step1.status_code == 200, step1.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', step1.text).group(1)
    return client.post("/activate", data={"csrf_token": token, "step": "set", "ticket": ticket_of(step1),
                                          "password": NEW_PASSWORD, "password2": NEW_PASSWORD, **extra},
                       follow_redirects=False)


# -- the second factor ---------------------------------------------------------------------------------------

def test_open_claims_keeps_account_digests_only(w):
    inv = fresh_investor(w)
    account = account_of(w, inv)
    with w.tx() as s:
        n = s.execute(select(func.count()).select_from(InvestorAccount)
                      .where(InvestorAccount.case_id == w.case_id)).scalar_one()
        kept = set(s.execute(select(InvestorAccount.account_sha256).where(InvestorAccount.investor_id == inv))
                   .scalars())
        claimants = set(s.execute(select(InvestorAccount.investor_id)).scalars())
    assert n >= len(w.investors)
    assert claimants <= set(w.investors)
    import hashlib
    assert hashlib.sha256(f"{w.case_id}\n{inv}\n{account}".encode()).hexdigest() in kept
    assert account not in {k for k in kept}


def test_codes_are_grouped_and_typed_loosely():
    code = access.new_code()
    assert len(code) == 12 and not set(code) & set("0O1IL")
    shown = access.grouped(code)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", shown)
    assert access.entered(" " + shown.lower().replace("-", " - ") + " ") == code


# -- activation ----------------------------------------------------------------------------------------------

def test_activation_sets_a_password_and_lands_on_the_claim(w):
    inv = fresh_investor(w)
    code = issue(w, inv)
    c = w.client()
    done = activate(w, c, access.grouped(code).lower(), account_of(w, inv).lower(),
                    email="Old.Li@Example.com", phone="138 1234 5678", language="en")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/portal/cases/{w.case_id}"
    page = c.get(done.headers["location"])
    assert page.status_code == 200 and inv in page.text
    with w.tx() as s:
        user = s.get(User, inv)
        assert user is not None and user.roles == "investor" and user.investor_id == inv
        contact = s.get(InvestorContact, inv)
        assert (contact.email, contact.phone, contact.language) == ("old.li@example.com", "13812345678", "en")
        assert s.execute(select(ActivationCode.used_at)).scalar_one() is not None
        actions = set(s.execute(select(AuditEvent.action)).scalars())
    assert {"access.code_issued", "access.activated", "user.add"} <= actions
    # the password works from now on
    r = w.client().post("/api/session", json={"name": inv, "password": NEW_PASSWORD})
    assert r.status_code == 200, r.text


def test_activation_of_an_existing_user_sets_a_new_password(w):
    code = issue(w, w.inv1)
    done = activate(w, w.client(), code, account_of(w, w.inv1))
    assert done.status_code == 303, done.text
    assert w.client().post("/api/session", json={"name": "inv1", "password": NEW_PASSWORD}).status_code == 200
    assert w.client().post("/api/session", json={"name": "inv1", "password": PASSWORD}).status_code == 401


def test_wrong_account_is_refused_and_five_revoke_the_code(w):
    inv = fresh_investor(w)
    code = issue(w, inv)
    c = w.client()
    for n in range(1, 5):
        r = check(c, code, "Z999999999")
        assert r.status_code == 400 and "does not match" in _en(r.text) or "不符" in r.text
        assert 'name="ticket"' not in r.text
    r = check(c, code, "Z999999999")
    assert r.status_code == 400
    r = check(c, code, account_of(w, inv))
    assert r.status_code == 400 and 'name="ticket"' not in r.text
    with w.tx() as s:
        row = s.execute(select(ActivationCode)).scalar_one()
        assert row.revoked_at is not None and row.failures == 5 and row.used_at is None


def _en(text: str) -> str:
    return text


def test_a_code_works_once(w):
    inv = fresh_investor(w)
    code = issue(w, inv)
    assert activate(w, w.client(), code, account_of(w, inv)).status_code == 303
    again = check(w.client(), code, account_of(w, inv))
    assert again.status_code == 400 and 'name="ticket"' not in again.text


def test_an_expired_code_is_refused(w):
    inv = fresh_investor(w)
    code = issue(w, inv)
    with w.tx() as s:
        s.execute(select(ActivationCode)).scalar_one().expires_at = "2000-01-01T00:00:00.000000+00:00"
    r = check(w.client(), code, account_of(w, inv))
    assert r.status_code == 400 and 'name="ticket"' not in r.text


def test_a_newer_code_revokes_the_older(w):
    inv = fresh_investor(w)
    old = issue(w, inv)
    new = issue(w, inv)
    assert check(w.client(), old, account_of(w, inv)).status_code == 400
    assert check(w.client(), new, account_of(w, inv)).status_code == 200


def test_a_forged_ticket_is_refused(w):
    inv = fresh_investor(w)
    issue(w, inv)
    c = w.client()
    with w.tx() as s:
        code_id = s.execute(select(ActivationCode.id)).scalar_one()
    forged = f"{code_id}.{int(dt.datetime.now().timestamp()) + 600}.{'0' * 64}"
    r = c.post("/activate", data={"csrf_token": csrf(c, "/activate"), "step": "set", "ticket": forged,
                                  "password": NEW_PASSWORD, "password2": NEW_PASSWORD},
               follow_redirects=False)
    assert r.status_code == 400
    with w.tx() as s:
        assert s.get(User, inv) is None


def test_thirty_wrong_codes_from_one_client_are_refused(w):
    inv = fresh_investor(w)
    code = issue(w, inv)
    c = w.client()
    for _ in range(30):
        assert check(c, "AAAA-BBBB-CCCC", "A1").status_code == 400
    assert check(c, code, account_of(w, inv)).status_code == 429


# -- one-time codes ------------------------------------------------------------------------------------------

def add_contact(w, investor: str, email: str | None = "inv1@example.com", phone: str | None = None) -> None:
    with w.tx() as s:
        access.save_contact(s, investor, access.Contact(email, phone, "zh"), "import")


def ask(c, path: str, who: str):
    return c.post(path, data={"csrf_token": csrf(c, path), "step": "ask", "who": who})


def test_asking_for_a_code_reads_the_same_for_anyone(w):
    add_contact(w, w.inv1)
    c = w.client()
    known = ask(c, "/login/code", "inv1@example.com")
    unknown = ask(c, "/login/code", "nobody@example.com")
    name_only = ask(c, "/login/code", "no-such-user")
    strip = lambda t: re.sub(r'value="[^"]*"', "", t)  # noqa: E731 - tokens and the typed text differ
    assert known.status_code == unknown.status_code == name_only.status_code == 200
    assert strip(known.text) == strip(unknown.text).replace("nobody@example.com", "inv1@example.com")
    assert len(w.app.state.notifier.sent) == 1
    message = w.app.state.notifier.sent[0]
    assert message.channel == "email" and message.to == "inv1@example.com" and message.language == "zh"


def test_a_one_time_code_signs_in_once(w):
    add_contact(w, w.inv1, email=None, phone="13900001111")
    c = w.client()
    ask(c, "/login/code", "139 0000 1111")
    message = w.app.state.notifier.sent[-1]
    assert message.channel == "sms"
    code = re.search(r"\d{6}", message.body).group(0)
    r = c.post("/login/code", data={"csrf_token": csrf(c, "/login/code"), "step": "enter",
                                    "who": "13900001111", "code": code}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/cases/{w.case_id}"
    again = w.client()
    r = again.post("/login/code", data={"csrf_token": csrf(again, "/login/code"), "step": "enter",
                                        "who": "13900001111", "code": code}, follow_redirects=False)
    assert r.status_code == 400


def test_wrong_one_time_codes_lock_for_a_while(w):
    add_contact(w, w.inv1)
    c = w.client()
    ask(c, "/login/code", "inv1")
    code = re.search(r"\d{6}", w.app.state.notifier.sent[-1].body).group(0)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = c.post("/login/code", data={"csrf_token": csrf(c, "/login/code"), "step": "enter", "who": "inv1",
                                        "code": wrong})
        assert r.status_code == 400
    r = c.post("/login/code", data={"csrf_token": csrf(c, "/login/code"), "step": "enter", "who": "inv1",
                                    "code": code}, follow_redirects=False)
    assert r.status_code == 429


def test_at_most_three_codes_an_hour(w):
    add_contact(w, w.inv1)
    c = w.client()
    for _ in range(5):
        assert ask(c, "/login/code", "inv1").status_code == 200
    assert len(w.app.state.notifier.sent) == 3
    with w.tx() as s:
        refused = s.execute(select(func.count()).select_from(CodeAttempt).where(
            CodeAttempt.kind == "send", CodeAttempt.success.is_(False))).scalar_one()
    assert refused == 2


def test_without_a_notifier_the_page_says_to_call(w):
    w.app.state.notifier = None
    c = w.client()
    r = ask(c, "/login/code", "inv1")
    assert r.status_code == 503 and "热线" in r.text


def test_a_forgotten_password_is_reset_with_a_code_and_an_account(w):
    add_contact(w, w.inv1)
    c = w.client()
    ask(c, "/forgot", "inv1@example.com")
    message = w.app.state.notifier.sent[-1]
    code = re.search(r"\d{6}", message.body).group(0)
    form = {"csrf_token": csrf(c, "/forgot"), "step": "enter", "who": "inv1@example.com", "code": code,
            "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    r = c.post("/forgot", data={**form, "account": "Z999999999"}, follow_redirects=False)
    assert r.status_code == 400
    form["csrf_token"] = csrf(c, "/forgot")
    r = c.post("/forgot", data={**form, "account": account_of(w, w.inv1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert w.client().post("/api/session", json={"name": "inv1", "password": NEW_PASSWORD}).status_code == 200
    with w.tx() as s:
        assert "user.password" in set(s.execute(select(AuditEvent.action)).scalars())


# -- sign-in -------------------------------------------------------------------------------------------------

def sign_in(c, next_path: str | None):
    data = {"csrf_token": csrf(c, "/login"), "name": "inv1", "password": PASSWORD}
    if next_path is not None:
        data["next"] = next_path
    return c.post("/login", data=data, follow_redirects=False)


def test_login_returns_to_a_local_next_only(w):
    assert sign_in(w.client(), f"/portal/cases/{w.case_id}?draft=accept").headers["location"] == \
        f"/portal/cases/{w.case_id}?draft=accept"
    for off_site in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        r = sign_in(w.client(), off_site)
        assert r.status_code == 303 and r.headers["location"] == f"/portal/cases/{w.case_id}"
    page = w.client().get("/login", params={"next": "https://evil.example/"})
    assert 'name="next"' not in page.text


def test_staff_land_on_the_console(w):
    c = w.client()
    r = c.post("/login", data={"csrf_token": csrf(c, "/login"), "name": "op", "password": PASSWORD},
               follow_redirects=False)
    assert r.headers["location"] == "/console"


# -- the command line ----------------------------------------------------------------------------------------

def test_notices_carry_codes_that_activate(w, tmp_path):
    out = tmp_path / "notices.csv"
    r = CliRunner().invoke(cli, ["claims", "notices", w.case_id, "--out", str(out), "--db", w.url,
                                 "--as", "op"])
    assert r.exit_code == 0, r.output
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-1] == "activation_code" and list(rows[0])[:6] == [
        "investor_id", "kind", "amount", "deadline", "text_en", "text_zh"]
    codes = {r["investor_id"]: r["activation_code"] for r in rows}
    assert codes[w.inv1] == "" and codes[w.inv2] == ""
    inv = fresh_investor(w)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", codes[inv])
    assert activate(w, w.client(), codes[inv], account_of(w, inv)).status_code == 303
    with w.tx() as s:
        row = s.execute(select(ActivationCode).where(ActivationCode.investor_id == inv)).scalar_one()
        assert row.issued_by == "op" and row.expires_at > "2000"
    # a second run replaces the unused codes
    r = CliRunner().invoke(cli, ["claims", "notices", w.case_id, "--out", str(out), "--db", w.url,
                                 "--as", "op"])
    assert r.exit_code == 0, r.output
    other = w.investors[6]
    assert check(w.client(), codes[other], account_of(w, other)).status_code == 400


def test_notices_write_letters_through_the_documents_module(w, tmp_path, monkeypatch):
    seen = []

    class Letter:
        def __init__(self, **fields):
            self.__dict__.update(fields)

    def letters_pdf(letters):
        seen.extend(letters)
        return b"%PDF-1.7 letters"

    monkeypatch.setitem(sys.modules, "redress.documents", types.SimpleNamespace(Letter=Letter,
                                                                                 letters_pdf=letters_pdf))
    pdf = tmp_path / "letters.pdf"
    r = CliRunner().invoke(cli, ["claims", "notices", w.case_id, "--out", str(tmp_path / "n.csv"),
                                 "--letters", str(pdf), "--db", w.url, "--as", "op"])
    assert r.exit_code == 0, r.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert {x.investor_id for x in seen} == set(w.investors)
    assert all((x.activation_code == "") == (x.investor_id in (w.inv1, w.inv2)) for x in seen)


def test_hotline_staff_issue_a_code_once(w):
    inv = fresh_investor(w)
    r = CliRunner().invoke(cli, ["claims", "code", w.case_id, inv, "--db", w.url, "--as", "svc"])
    assert r.exit_code == 0, r.output
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", r.output).group(0)
    with w.tx() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "access.code_issued")).scalar_one()
        assert code not in event.detail and access.entered(code) not in event.detail
    assert check(w.client(), code, account_of(w, inv)).status_code == 200
    refused = CliRunner().invoke(cli, ["claims", "code", w.case_id, inv, "--db", w.url, "--as", "aud"])
    assert refused.exit_code == 2

