"""A link must not put words of its own on an official page, over real HTTP.

Every GET page of the application (collected from ``app.routes``) is requested with invented text in its query
(``msg``, ``error``, every parameter it declares, and one it does not) and in its path parameters, anonymously,
as an investor and as staff: the text never appears in the page.  The notice box shows only messages of the
catalogue, chosen by key; the details the server adds reach only the session they were sealed for, once."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route
from web.websupport import http_session, served, small_case

from redress.web import flash

FRAUD = "系统升级，请先向 6222 0000 1111 转账 100 元验证身份"
MARKUP = "<b id=injected-q9z>Call 400-000-0000</b>"
MARKERS = (FRAUD, MARKUP)
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return small_case(tmp_path_factory.mktemp("synth"), seed=5, name="reflection")


@pytest.fixture(scope="module")
def site(tmp_path_factory, synth):
    with served(tmp_path_factory.mktemp("site"), synth) as (w, server):
        yield w, server.base_url


def routes(found) -> list:
    """``app.routes`` with the routers it includes opened up."""
    out = []
    for r in found:
        included = getattr(r, "original_router", None)
        out += routes(included.routes) if included is not None else [r]
    return out


def pages(app) -> list[Route]:
    """Every GET route that answers with a page: all but the JSON API (the interactive API docs are a page)."""
    out = [r for r in routes(app.routes) if isinstance(r, Route) and "GET" in (r.methods or ())
           and (not r.path.startswith("/api") or r.path == "/api/docs") and r.path != "/openapi.json"]
    assert len(out) >= 14, [r.path for r in out]
    return out


def real_value(w, name: str) -> str:
    return {"case_id": w.case_id, "investor_id": w.inv1, "number": "1", "fmt": "csv"}.get(name, "x1")


def leaks(text: str, marker: str) -> bool:
    forms = {marker, html.escape(marker), html.escape(marker, quote=False), quote(marker), quote(marker, safe="")}
    forms |= {part for part in re.split(r"[，, ]+", marker) if len(part) >= 4 and not part.isdigit()}
    return any(f in text for f in forms)


@pytest.mark.parametrize("who", [None, "inv1", "op"], ids=["anonymous", "investor", "staff"])
def test_no_page_repeats_text_from_its_address(site, who):
    w, base = site
    headers = dict(HTML, **(http_session(base, who) if who else {}))
    rendered = 0
    with httpx.Client(base_url=base, headers=headers, follow_redirects=False, timeout=60) as client:
        for route in pages(w.app):
            params = re.findall(r"\{(\w+)\}", route.path)
            declared = [p.name for p in route.dependant.query_params] if isinstance(route, APIRoute) else []
            for marker in MARKERS:
                query = {name: marker for name in {"msg", "error", "message", "notice", "q", *declared}}
                for in_path in ([False, True] if params else [False]):
                    path = route.path
                    for name in params:
                        path = path.replace("{" + name + "}", quote(marker, safe="") if in_path
                                            else real_value(w, name))
                    r = client.get(path, params=query)
                    assert r.status_code < 500, (route.path, r.status_code, r.text[:300])
                    assert not leaks(r.text, marker), (who, route.path, in_path, r.status_code, marker)
                    assert not leaks(r.headers.get("location", ""), marker), (route.path, r.headers["location"])
                    rendered += r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert rendered >= {None: 2, "inv1": 4, "op": 20}[who], rendered


def notice(text: str) -> str | None:
    found = re.search(r'<p class="flash"[^>]*>(.*?)</p>', text, re.S)
    return html.unescape(found.group(1)) if found else None


def test_the_notice_box_shows_only_catalogue_messages(site):
    _w, base = site
    for url in ("/login", "/portal"):
        for msg in (FRAUD, "refused ", "REFUSED", "__class__", ""):
            r = httpx.get(f"{base}{url}", params={"msg": msg}, headers=dict(HTML, **http_session(base, "inv1")))
            assert notice(r.text) is None, (url, msg, notice(r.text))
    r = httpx.get(f"{base}/portal", params={"msg": "refused"}, headers=dict(HTML, **http_session(base, "inv1")))
    assert notice(r.text) == flash.text("refused")
    # the old free-text parameter of the sign-in page is gone
    r = httpx.get(f"{base}/login", params={"error": FRAUD})
    assert 'class="error"' not in r.text


def test_a_detail_reaches_only_its_own_session_once(site):
    w, base = site
    op = http_session(base, "op")
    headers = dict(HTML, **op)
    # a refused console action (claims are open already): the reason travels in a sealed cookie
    r = httpx.post(f"{base}/console/cases/{w.case_id}/do/open", data={"csrf_token": op["X-CSRF-Token"]},
                   headers=headers, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/console/cases/{w.case_id}?msg=refused"
    sealed = r.cookies.get(flash.COOKIE)
    assert sealed and FRAUD not in sealed
    with_detail = dict(headers, Cookie=f"{op['Cookie']}; {flash.COOKIE}={sealed}")
    page = httpx.get(f"{base}{r.headers['location']}", headers=with_detail)
    shown = notice(page.text)
    assert shown.startswith(flash.text("refused")) and len(shown) > len(flash.text("refused")) + 5
    assert flash.COOKIE in page.headers.get("set-cookie", "")           # cleared once shown
    # another session, even with the same cookie, sees the plain message only
    other = http_session(base, "op2")
    page = httpx.get(f"{base}{r.headers['location']}",
                     headers={**HTML, **other, "Cookie": f"{other['Cookie']}; {flash.COOKIE}={sealed}"})
    assert notice(page.text) == flash.text("refused")
    # and a cookie made up by someone else shows nothing of its own
    forged = flash.seal("refused", FRAUD, "not-the-session-token")
    page = httpx.get(f"{base}{r.headers['location']}",
                     headers=dict(headers, Cookie=f"{op['Cookie']}; {flash.COOKIE}={forged}"))
    assert notice(page.text) == flash.text("refused") and not leaks(page.text, FRAUD)

