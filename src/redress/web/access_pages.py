"""The investor's way in: sign-in and sign-out, activation with the code on a claim notice, sign-in with a
one-time code sent by e-mail or SMS, and a forgotten password.

The forms before sign-in carry their own CSRF token (a double-submit cookie), since there is no session yet.
Activation runs in two steps; the second is carried by a ticket the server signs (the code's row, its digest
and a time limit), so that nothing in a URL or a form can skip the account-number check.  Every answer about a
one-time code reads the same whether or not the name, e-mail or mobile belongs to anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redress import i18n, passwords
from redress.admin import access, cases
from redress.admin.access import Outcome
from redress.admin.errors import AdminError
from redress.i18n import N_, _
from redress.notify import Message
from redress.store.models import ActivationCode, User
from redress.web import api, security
from redress.web.deps import Principal, checked, tx
from redress.web.pages import local_path, render

log = logging.getLogger("redress.web.access")
router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "redress_login_csrf"
TICKET_MINUTES = 15

Field = Annotated[str, Form(max_length=254)]
Secret = Annotated[str, Form(max_length=200)]

# what each outcome tells the visitor (message ids; translated when shown)
SAY: dict[Outcome, str] = {
    Outcome.WRONG_CODE: N_("That code is not right. Check the code on your letter (letters and digits, no "
                           "0, O, 1, I or L) and try again."),
    Outcome.CODE_USED: N_("This code has already been used. Sign in with your password, or, if you have "
                          "forgotten it, use \"Forgot your password\" or call the hotline for a new code."),
    Outcome.CODE_REVOKED: N_("This code no longer works because a newer one was issued. Use the code on "
                             "your latest letter, or call the hotline for a new code."),
    Outcome.CODE_EXPIRED: N_("This code has expired. Please call the hotline (the number is on your "
                             "letter) for a new code."),
    Outcome.WRONG_ACCOUNT: N_("The securities account number does not match our records for this code. "
                              "Type the account number you traded with, as shown by your broker, and try "
                              "again."),
    Outcome.CODE_NOW_REVOKED: N_("The account number was wrong too many times, so this code no longer "
                                 "works. Please call the hotline (the number is on your letter) for a new "
                                 "code."),
    Outcome.NO_ACCOUNTS: N_("We hold no securities account number for you, so this cannot be checked "
                            "online. Please call the hotline (the number is on your letter); the staff "
                            "will help you."),
    Outcome.LOCKED: N_("Too many wrong codes. Please wait 15 minutes and try again, or call the hotline."),
    Outcome.CLIENT_REFUSED: N_("Too many wrong attempts from this connection. Please try again in 10 "
                               "minutes, or call the hotline."),
}
SENT = N_("If what you typed belongs to an account with an e-mail address or mobile number, we have sent a "
          "6-digit code to it. It works for 10 minutes. If nothing arrives within a few minutes, ask "
          "again, or call the hotline (the number is on your letter). At most 3 codes are sent in an hour.")
NO_SENDER = N_("Codes cannot be sent by e-mail or text message from this site at the moment. Please call "
               "the hotline (the number is on your letter); the staff can give you a new activation code.")
WRONG_ONE_TIME = N_("That code is not right, or it has expired. Check the latest message we sent, or ask "
                    "for a new code.")
LOCKED_OUT = N_("Too many wrong passwords. Please wait 15 minutes and try again, or sign in with a one-time "
                "code, or call the hotline.")
WRONG_PASSWORD = N_("Wrong user name or password. Your user name is the investor number on your notice "
                    "letter.")
EXPIRED_FORM = N_("The form expired. Please try again.")
MISMATCH = N_("The two passwords are not the same. Please type the same password twice.")
CODE_SUBJECT = N_("Your Redress code")
CODE_BODY = N_("Your Redress code is %(code)s. It works for %(minutes)s minutes. If you did not ask for "
               "it, ignore this message; nobody can sign in without it.")
RESET_BODY = N_("Your code to set a new Redress password is %(code)s. It works for %(minutes)s minutes. If "
                "you did not ask for it, ignore this message; your password has not changed.")


def _form(request: Request, template: str, status_code: int = 200, **ctx) -> Response:
    """A page with a form before sign-in: a fresh CSRF token in the page and in a cookie."""
    token = secrets.token_urlsafe(24)
    resp = render(request, template, status_code=status_code, login_csrf=token, **ctx)
    resp.set_cookie(LOGIN_CSRF, token, httponly=True, secure=request.app.state.secure_cookies,
                    samesite="strict", max_age=3600)
    return resp


def _csrf_ok(request: Request, given: str) -> bool:
    return security.csrf_ok(request.cookies.get(LOGIN_CSRF, ""), given)


def _signed_in(request: Request, token: str, to: str) -> Response:
    resp = RedirectResponse(to, status_code=303)
    api.set_session_cookie(request, resp, token)
    resp.delete_cookie(LOGIN_CSRF)
    return resp


def landing(user: User, case_ids: list[str], next_path: str | None = None) -> str:
    """Where a user goes after signing in: back where they were (a local path), else staff to the console,
    an investor with one claim to that claim, anyone else to the portal."""
    target = local_path(next_path, "")
    if target:
        return target
    if set(user.roles.split(",")) & cases.STAFF:
        return "/console"
    if len(case_ids) == 1:
        return f"/portal/cases/{quote(case_ids[0], safe='')}"
    return "/portal"


# -- sign-in -------------------------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    return login_page(request, next=next)


def login_page(request: Request, error: str | None = None, next: str | None = None,
               status_code: int = 200) -> Response:
    """The sign-in form; ``error`` is the server's own words about the last attempt, never the URL's."""
    return _form(request, "login.html", status_code, error=error, next=local_path(next, ""))


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, name: Annotated[str, Form(max_length=64)], password: Secret,
          csrf_token: Annotated[str, Form(max_length=100)] = "",
          next: Annotated[str, Form(max_length=300)] = "") -> Response:
    if not _csrf_ok(request, csrf_token):
        return login_page(request, error=_(EXPIRED_FORM), next=next, status_code=403)
    verified = security.check_password(request.app.state.read_engine, name, password)
    with tx(request) as s:
        try:
            signed = security.sign_in(s, name, password, api._client(request), verified)
        except (security.AuthError, security.LockedOut) as exc:
            refused = exc  # answered after the commit: a rolled-back failure would never count
        else:
            refused = None
            to = landing(signed.user, access.claims_of(s, signed.user.investor_id), next)
    if isinstance(refused, security.LockedOut):
        return login_page(request, error=_(LOCKED_OUT), next=next, status_code=429)
    if refused is not None:
        return login_page(request, error=_(WRONG_PASSWORD), next=next, status_code=401)
    return _signed_in(request, signed.token, to)


@router.post("/logout")
def logout(request: Request, who: Principal = Depends(checked)) -> Response:
    with tx(request) as s:
        security.sign_out(s, request.cookies.get(security.COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(security.COOKIE, path="/")
    return resp


# -- activation ----------------------------------------------------------------------------------------------

def _ticket_key(request: Request) -> bytes:
    """The key activation tickets are signed with: ``app.state.ticket_key`` if configured, else one made for
    this process (a ticket from before a restart then asks for the code again)."""
    key = getattr(request.app.state, "ticket_key", None)
    if not key:
        key = secrets.token_bytes(32)
        request.app.state.ticket_key = key
    return key


def _ticket_mac(key: bytes, code_id: int, until: int, code_sha256: str) -> str:
    return hmac.new(key, f"activate\n{code_id}\n{until}\n{code_sha256}".encode(), hashlib.sha256).hexdigest()


def make_ticket(key: bytes, code_id: int, code_sha256: str, now: float | None = None) -> str:
    until = int((now or time.time()) + TICKET_MINUTES * 60)
    return f"{code_id}.{until}.{_ticket_mac(key, code_id, until, code_sha256)}"


def ticket_code(session, key: bytes, ticket: str) -> ActivationCode | None:
    """The activation code a ticket was signed for, while the ticket is in time and the code still usable."""
    try:
        code_id, until, mac = ticket.split(".")
        code_id_n, until_n = int(code_id), int(until)
    except ValueError:
        return None
    if until_n < time.time() or code_id_n < 1 or code_id_n > 2**31 - 1:
        return None
    row = session.get(ActivationCode, code_id_n)
    if row is None or not hmac.compare_digest(mac, _ticket_mac(key, code_id_n, until_n, row.code_sha256)):
        return None
    return row


@router.get("/activate", response_class=HTMLResponse)
def activate_form(request: Request) -> Response:
    return _form(request, "activate.html", step="check")


@router.post("/activate", response_class=HTMLResponse)
def activate(request: Request, csrf_token: Annotated[str, Form(max_length=100)] = "",
             step: Annotated[str, Form(max_length=10)] = "check", code: Field = "", account: Field = "",
             ticket: Annotated[str, Form(max_length=200)] = "", password: Secret = "", password2: Secret = "",
             email: Field = "", phone: Annotated[str, Form(max_length=32)] = "",
             language: Annotated[str, Form(max_length=8)] = "") -> Response:
    if not _csrf_ok(request, csrf_token):
        return _form(request, "activate.html", 403, step="check", error=_(EXPIRED_FORM))
    if step == "set":
        return _activate_set(request, ticket, password, password2, email, phone, language)
    with tx(request) as s:
        found = access.check_activation(s, code, account, api._client(request))
    if found.outcome != Outcome.OK:
        status = 429 if found.outcome == Outcome.CLIENT_REFUSED else 400
        return _form(request, "activate.html", status, step="check", error=_(SAY[found.outcome]),
                     code=access.grouped(access.entered(code))[:20] if found.outcome == Outcome.WRONG_ACCOUNT
                     else "")
    return _form(request, "activate.html", step="set", investor_id=found.investor_id,
                 ticket=make_ticket(_ticket_key(request), found.code_id, found.code_sha256))


def _activate_set(request: Request, ticket: str, password: str, password2: str, email: str, phone: str,
                  language: str) -> Response:
    def again(message: str, status: int = 400, investor_id: str | None = None) -> Response:
        return _form(request, "activate.html", status, step="set", ticket=ticket, error=message,
                     investor_id=investor_id, email=email, phone=phone, chosen_language=language)

    if password != password2:
        return again(_(MISMATCH))
    try:
        contact = access.clean_contact(email, phone, language or i18n.current())
    except AdminError:
        return again(_("The e-mail address or mobile number does not look right. Check it, or leave it "
                       "empty."))
    key = _ticket_key(request)
    with tx(request) as s:
        row = ticket_code(s, key, ticket)
        if row is None:
            expired = True
        else:
            expired = False
            investor_id = row.investor_id
            try:
                user, case_id = access.activate(s, row.id, row.code_sha256, password, contact)
            except AdminError as exc:
                refused = exc
            else:
                refused = None
                token, _csrf = access.open_session(s, user)
    if expired:
        return _form(request, "activate.html", 400, step="check",
                     error=_("This step took too long. Please type the code and account number again."))
    if refused is not None:
        why = passwords.problem(password, investor_id)
        return again(_("This password cannot be used: %(why)s", why=why) if why else str(refused),
                     investor_id=investor_id)
    resp = _signed_in(request, token, f"/portal/cases/{quote(case_id, safe='')}")
    resp.set_cookie(i18n.COOKIE, contact.language, max_age=365 * 24 * 3600, httponly=True,
                    secure=request.app.state.secure_cookies, samesite="lax", path="/")
    return resp


# -- one-time codes ------------------------------------------------------------------------------------------

def _send(notifier, sending: access.Sending, purpose: str) -> None:
    with i18n.use(sending.language):
        template = CODE_BODY if purpose == "sign_in" else RESET_BODY
        body = _(template, code=sending.code, minutes=access.ONE_TIME_MINUTES)
        message = Message(sending.channel, sending.to, _(CODE_SUBJECT), body, sending.language)
    try:
        delivery = notifier.send(message)
    except Exception:  # noqa: BLE001 - the visitor was already told the same either way; the log keeps why
        log.exception("a one-time code for %s could not be sent", sending.user_name)
        return
    if not delivery.ok:
        log.warning("a one-time code for %s was not delivered: %s", sending.user_name, delivery.detail)


def _ask_for_code(request: Request, tasks: BackgroundTasks, template: str, purpose: str, who: str,
                  next_path: str = "") -> Response:
    notifier = getattr(request.app.state, "notifier", None)
    if notifier is None:
        return _form(request, template, 503, step="ask", error=_(NO_SENDER), next=next_path)
    with tx(request) as s:
        sending = access.prepare_code(s, who, purpose, api._client(request))
    if sending.outcome == Outcome.CLIENT_REFUSED:
        return _form(request, template, 429, step="ask", error=_(SAY[Outcome.CLIENT_REFUSED]), next=next_path)
    if sending.outcome == Outcome.SENT:
        tasks.add_task(_send, notifier, sending, purpose)      # after the answer: its timing tells nothing
    return _form(request, template, step="enter", who_typed=who, notice=_(SENT), next=next_path)


@router.get("/login/code", response_class=HTMLResponse)
def code_form(request: Request, next: str | None = None) -> Response:
    return _form(request, "login_code.html", step="ask", next=local_path(next, ""),
                 no_sender=getattr(request.app.state, "notifier", None) is None)


@router.post("/login/code", response_class=HTMLResponse)
def code_sign_in(request: Request, tasks: BackgroundTasks,
                 csrf_token: Annotated[str, Form(max_length=100)] = "",
                 step: Annotated[str, Form(max_length=10)] = "ask", who: Field = "",
                 code: Annotated[str, Form(max_length=20)] = "",
                 next: Annotated[str, Form(max_length=300)] = "") -> Response:
    next = local_path(next, "")
    if not _csrf_ok(request, csrf_token):
        return _form(request, "login_code.html", 403, step="ask", error=_(EXPIRED_FORM), next=next)
    if step != "enter":
        return _ask_for_code(request, tasks, "login_code.html", "sign_in", who, next)
    with tx(request) as s:
        outcome, user = access.check_one_time(s, who, code, "sign_in", api._client(request))
        if outcome == Outcome.OK:
            token, _csrf = access.open_session(s, user)
            to = landing(user, access.claims_of(s, user.investor_id), next)
    if outcome != Outcome.OK:
        status = 429 if outcome in (Outcome.LOCKED, Outcome.CLIENT_REFUSED) else 400
        return _form(request, "login_code.html", status, step="enter", who_typed=who, next=next,
                     error=_(WRONG_ONE_TIME) if outcome == Outcome.WRONG_CODE else _(SAY[outcome]))
    return _signed_in(request, token, to)


@router.get("/forgot", response_class=HTMLResponse)
def forgot_form(request: Request) -> Response:
    return _form(request, "forgot.html", step="ask",
                 no_sender=getattr(request.app.state, "notifier", None) is None)


@router.post("/forgot", response_class=HTMLResponse)
def forgot(request: Request, tasks: BackgroundTasks, csrf_token: Annotated[str, Form(max_length=100)] = "",
           step: Annotated[str, Form(max_length=10)] = "ask", who: Field = "",
           code: Annotated[str, Form(max_length=20)] = "", account: Field = "", password: Secret = "",
           password2: Secret = "") -> Response:
    if not _csrf_ok(request, csrf_token):
        return _form(request, "forgot.html", 403, step="ask", error=_(EXPIRED_FORM))
    if step != "enter":
        return _ask_for_code(request, tasks, "forgot.html", "reset", who)

    def again(message: str, status: int = 400) -> Response:
        return _form(request, "forgot.html", status, step="enter", who_typed=who, error=message)

    if password != password2:
        return again(_(MISMATCH))
    why = passwords.problem(password)
    if why:
        return again(_("This password cannot be used: %(why)s", why=why))
    with tx(request) as s:
        outcome, user = access.check_one_time(s, who, code, "reset", api._client(request), account_id=account,
                                              new_password=password)
        if outcome == Outcome.OK:
            access.reset_password(s, user, password)
            token, _csrf = access.open_session(s, user)
            to = landing(user, access.claims_of(s, user.investor_id))
        name = user.name if user is not None else ""
    if outcome == Outcome.BAD_PASSWORD:
        return again(_("This password cannot be used: %(why)s", why=passwords.problem(password, name) or ""))
    if outcome != Outcome.OK:
        status = 429 if outcome in (Outcome.LOCKED, Outcome.CLIENT_REFUSED) else 400
        return again(_(WRONG_ONE_TIME) if outcome == Outcome.WRONG_CODE else _(SAY[outcome]), status)
    return _signed_in(request, token, to)
