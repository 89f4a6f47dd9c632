"""The investor's way in: sign-in and sign-out (and, beside them, activation with the code on a claim notice,
sign-in with a one-time code, and a forgotten password).

The sign-in form carries its own CSRF token (a double-submit cookie), since there is no session yet.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redress.admin import cases
from redress.admin.errors import AdminError
from redress.web import api, security
from redress.web.deps import Principal, checked, tx
from redress.web.pages import render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "redress_login_csrf"


# -- sign-in -------------------------------------------------------------------------------------------------

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return login_page(request)


def login_page(request: Request, error: str | None = None) -> Response:
    """The sign-in form; ``error`` is the server's own words about the last attempt, never the URL's."""
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", login_csrf=token, error=error)
    resp.set_cookie(LOGIN_CSRF, token, httponly=True, secure=request.app.state.secure_cookies, samesite="strict",
                    max_age=3600)
    return resp


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, name: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=200)],
          csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    if not security.csrf_ok(request.cookies.get(LOGIN_CSRF, ""), csrf_token):
        return login_page(request, error="The form expired; please try again / 表单已过期，请重试")
    try:
        verified = security.check_password(request.app.state.read_engine, name, password)
        with tx(request) as s:
            try:
                signed = security.sign_in(s, name, password, api._client(request), verified)
            except (security.AuthError, security.LockedOut) as exc:
                refused = exc  # raised after the commit: a rolled-back failure would never count towards a lock-out
            else:
                refused = None
                staff = bool(set(signed.user.roles.split(",")) & cases.STAFF)
        if refused is not None:
            raise refused
    except AdminError as exc:
        resp = login_page(request, error=str(exc))
        resp.status_code = exc.status_code
        return resp
    resp = RedirectResponse("/console" if staff else "/portal", status_code=303)
    api.set_session_cookie(request, resp, signed.token)
    resp.delete_cookie(LOGIN_CSRF)
    return resp


@router.post("/logout")
def logout(request: Request, who: Principal = Depends(checked)) -> Response:
    with tx(request) as s:
        security.sign_out(s, request.cookies.get(security.COOKIE))
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(security.COOKIE, path="/")
    return resp


