"""Every investor and public page against WCAG 2.1 AA in real Chromium: axe-core finds no serious or critical
violation, in Chinese and English, on a 360 px phone and a 1366 px desktop; nothing scrolls sideways at 360 px,
even with the text at 200%; every button and choice is at least 44 x 44 px.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlalchemy import select

from redress import i18n
from redress.admin import claims
from redress.store.models import Claim

from .flows import sign_in

SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1366, "height": 768}}
SERIOUS = {"serious", "critical"}
TARGETS = "button, input[type=submit], input[type=checkbox], label.check, a.button, select"


@pytest.fixture(scope="module")
def decided(live) -> str:
    """investor2 has accepted, so their claim page shows what happens next."""
    inv = live.seeded.investors["investor2"]
    with live.tx() as s:
        decided = s.execute(select(Claim.status).where(Claim.case_id == live.case_id,
                                                       Claim.investor_id == inv.investor_id)).scalar_one()
        if decided == "offered":
            claims.decide(s, "alice", live.case_id, claims.DecisionInput(
                inv.investor_id, "accept", dt.date.today(), "counter", "a11y-accept", "v1", live.seeded.agreement_sha))
    return inv.investor_id


def public_pages(live) -> list[str]:
    return ["/login", "/activate", "/login/code", "/forgot", "/help", f"/cases/{live.case_id}",
            f"/cases/{live.case_id}/help"]


def investor_pages(live) -> list[str]:
    return ["/portal", f"/portal/cases/{live.case_id}"]


def check_page(page, url: str, shot, name: str) -> None:
    page.goto(url)
    results = Axe().run(page)
    serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
               for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert not serious, (url, serious)
    small = page.evaluate(f"""() => [...document.querySelectorAll({TARGETS!r})]
        .filter(el => el.offsetParent !== null)
        .map(el => {{ const target = el.type === 'checkbox' && el.closest('label') ? el.closest('label') : el;
                     const r = target.getBoundingClientRect();
                     return [target.outerHTML.slice(0, 80), Math.round(r.width), Math.round(r.height)]; }})
        .filter(([_, w, h]) => w < 44 || h < 44)""")
    assert not small, (url, small)
    wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    if page.viewport_size["width"] <= 400:
        assert wide <= 0, (url, wide)
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert wide <= 0, (url, "at 200% text", wide)
        shot(page, f"{name}-200pct", full_page=False)
        page.evaluate("() => { document.documentElement.style.fontSize = ''; }")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_public_and_investor_pages_meet_wcag_aa(live, new_page, shot, decided, language, size):
    page = new_page(viewport=SIZES[size])
    page.context.add_cookies([{"name": i18n.COOKIE, "value": language, "url": live.base_url}])
    for url in public_pages(live):
        check_page(page, url, shot, f"{language}-{size}-" + re.sub(r"\W+", "_", url).strip("_"))
    for user in ("investor1", "investor2"):             # before and after a decision
        sign_in(page, user)
        for url in investor_pages(live):
            check_page(page, url, shot, f"{language}-{size}-{user}-" + re.sub(r"\W+", "_", url).strip("_"))
        page.context.clear_cookies()
        page.context.add_cookies([{"name": i18n.COOKIE, "value": language, "url": live.base_url}])
