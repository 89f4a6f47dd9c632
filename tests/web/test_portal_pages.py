"""The investor's claim page, the public case page and the help pages: order, plain words, sessions,
language."""

from __future__ import annotations

import datetime as dt
import html
import re

from sqlalchemy import func, select
from websupport import DEADLINE, TODAY, Web

from redress.admin import case_help
from redress.store.models import Claim, Decision
from redress.web import security

HTML = {"Accept": "text/html"}
RAW_CODES = (
    "offered",
    "accepted",
    "declined",
    "lapsed",
    "claims_open",
    "late_window",
    "instructed",
    "relative_ratio",
    "moving_average",
    "commission_rate",
    "systemic_risk",
)


def visible(page: str) -> str:
    """The words a reader sees: tags (and their attributes) removed."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def decisions(w: Web, investor: str) -> int:
    with w.tx() as s:
        return s.execute(
            select(func.count())
            .select_from(Decision)
            .join(Claim, Claim.id == Decision.claim_id)
            .where(Claim.case_id == w.case_id, Claim.investor_id == investor)
        ).scalar_one()


def set_help(w: Web, **kw) -> None:
    with w.tx() as s:
        case_help.set_help(s, "op", w.case_id, **kw)


def claim_page(w: Web, name: str = "inv1", query: str = "", **kw):
    r = w.signed_in(name, **kw).get(f"/portal/cases/{w.case_id}{query}", headers=HTML)
    assert r.status_code == 200, r.text[:500]
    return r.text


def accept_form(w: Web, client) -> dict:
    return {
        "decision": "accept",
        "key": "form-accept-1",
        "confirm": "yes",
        "agreement_version": "v1",
        "agreement_sha256": w.agreement_sha,
        "csrf_token": client.headers["X-CSRF-Token"],
    }


def test_claim_page_reads_in_order_in_plain_words(web: Web):
    page = claim_page(web)
    order = [
        page.index(f'id="{part}"') for part in ("amount", "deadline", "explanation", "agreement", "decide")
    ]
    assert order == sorted(order), order
    words = visible(page)
    for code in RAW_CODES:
        assert not re.search(rf"\b{code}\b", words), code
    assert "待您确认" in words
    days = (DEADLINE - TODAY).days
    assert f"还剩 {days} 天" in words
    assert f"/portal/cases/{web.case_id}/agreement.pdf" in page and web.agreement_sha in page
    assert "保留诉权" in words  # declining keeps the right to sue, said plainly
    assert '<html lang="zh-CN">' in page


def test_after_acceptance_the_page_says_what_happens_next(web: Web):
    pay_on = DEADLINE + dt.timedelta(days=10)
    set_help(
        web,
        hotline="400-123-4567",
        email="help@fund.example",
        office_hours="周一至周五 9:00-17:00",
        payment_dates=f"{(TODAY - dt.timedelta(days=5)).isoformat()},{pay_on.isoformat()}",
    )
    c = web.signed_in("inv1")
    r = c.post(
        f"/portal/cases/{web.case_id}/decision",
        data=accept_form(web, c),
        headers=HTML,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:300]
    page = c.get(r.headers["location"], headers=HTML).text
    words = visible(page)
    assert "您的确认已保存" in words and "已接受" in words
    assert f"预计划付日期：{pay_on.year}年{pay_on.month}月{pay_on.day}日" in words
    assert f"/portal/cases/{web.case_id}/agreement.pdf?version=v1" in page and web.agreement_sha in page
    assert f"/portal/cases/{web.case_id}/receipt.pdf" in page
    assert 'id="accept-form"' not in page
    assert "400-123-4567" in words


def test_no_payment_calendar_says_the_fund_will_announce(web: Web):
    c = web.signed_in("inv1")
    c.post(f"/portal/cases/{web.case_id}/decision", data=accept_form(web, c), headers=HTML)
    assert "具体划付日期将由基金另行公告" in visible(claim_page(web))


def test_a_decision_without_a_session_is_not_saved(web: Web):
    anonymous = web.client()
    r = anonymous.post(
        f"/portal/cases/{web.case_id}/decision",
        headers=HTML,
        follow_redirects=False,
        data={
            "decision": "accept",
            "key": "x",
            "confirm": "yes",
            "agreement_version": "v1",
            "agreement_sha256": web.agreement_sha,
            "csrf_token": "stale",
        },
    )
    assert r.status_code == 401
    words = visible(r.text)
    assert "没有保存" in words and "重新登录" in words
    assert f'href="/login?next=/portal/cases/{web.case_id}%3Fdraft%3Daccept"' in r.text
    assert decisions(web, web.inv1) == 0


def test_a_decision_with_a_revoked_session_is_not_saved(web: Web):
    c = web.client()
    r = c.post("/api/session", json={"name": "inv1", "password": "correct horse battery staple"})
    token, csrf = r.cookies[security.COOKIE], r.json()["csrf_token"]
    with web.tx() as s:
        security.sign_out(s, token)
    r = c.post(
        f"/portal/cases/{web.case_id}/decision",
        headers=HTML,
        follow_redirects=False,
        data={"decision": "decline", "key": "k", "confirm": "yes", "csrf_token": csrf},
    )
    assert r.status_code == 401 and "没有保存" in visible(r.text)
    assert "draft%3Ddecline" in r.text
    assert decisions(web, web.inv1) == 0


def test_a_stale_form_is_not_saved(web: Web):
    c = web.signed_in("inv1")
    form = dict(accept_form(web, c), csrf_token="not-the-token")
    r = c.post(
        f"/portal/cases/{web.case_id}/decision",
        data=form,
        headers={**HTML, "X-CSRF-Token": ""},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "没有保存" in visible(r.text)
    assert f'href="/portal/cases/{web.case_id}?draft=accept"' in r.text
    assert decisions(web, web.inv1) == 0


def test_draft_restores_the_choice_without_sending_it(web: Web):
    page = claim_page(web, query="?draft=decline")
    assert re.search(r'id="confirm-decline"[^>]*checked', page)
    assert not re.search(r'id="confirm"[^>]*checked', page)
    assert "尚未保存" in visible(page)
    assert decisions(web, web.inv1) == 0
    page = claim_page(web, query="?draft=<b>x</b>")
    assert "checked" not in page and "<b>x</b>" not in page and "&lt;b&gt;" not in page


def test_flash_shows_catalogue_keys_only(web: Web):
    assert 'class="flash"' not in claim_page(web, query="?msg=you-won-a-prize")
    page = claim_page(web, query="?msg=decision_declined")
    assert re.search(r'<p class="flash"[^>]*>您的确认已保存：您不接受本次赔付，保留诉权。</p>', page)


def test_the_language_switch_renders_the_page_in_english(web: Web):
    page = claim_page(web)
    assert 'href="/language/en"' in page
    assert re.search(r'href="/language/zh"[^>]*aria-current="true"', page)
    here = f"https://testserver/portal/cases/{web.case_id}?draft=accept&msg=decision_accepted"
    r = web.signed_in("inv1").get("/language/en", headers={"Referer": here}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/cases/{web.case_id}?draft=accept"
    elsewhere = web.signed_in("inv1").get("/language/en", headers={"Referer": "https://evil.example/x"},
                                          follow_redirects=False)
    assert elsewhere.headers["location"] == "/"
    english = claim_page(web)  # the same client, now with the language cookie
    words = visible(english)
    assert '<html lang="en">' in english and "Waiting for your decision" in words
    assert f"{(DEADLINE - TODAY).days} days left" in words and "待您确认" not in words


def test_help_pages_show_the_administrators_contact(web: Web):
    set_help(web, hotline="400-123-4567", email="help@fund.example", office_hours="周一至周五 9:00-17:00")
    anonymous = web.client()
    for url in (f"/cases/{web.case_id}/help", "/help"):
        r = anonymous.get(url, headers=HTML)
        assert r.status_code == 200, url
        words = visible(r.text)
        assert "400-123-4567" in words and "help@fund.example" in words and "周一至周五 9:00-17:00" in words
        assert "绝不会向您要钱" in words
        assert r.text.count("<details>") >= 8
    case_words = visible(anonymous.get(f"/cases/{web.case_id}/help", headers=HTML).text)
    assert f"{DEADLINE.year}年{DEADLINE.month}月{DEADLINE.day}日" in case_words
    assert anonymous.get("/cases/draft-case/help", headers=HTML).status_code == 404


def test_case_help_refuses_bad_values(web: Web):
    import pytest

    from redress.admin.errors import BadInput

    with pytest.raises(BadInput, match="--email"):
        set_help(web, email="not an address")
    with pytest.raises(BadInput, match="--payment-dates"):
        set_help(web, payment_dates="2026-13-40")
    with pytest.raises(BadInput, match="nothing to set"):
        set_help(web)


def test_public_page_counts_money_and_plan_in_words(web: Web):
    r = web.client().get(f"/cases/{web.case_id}", headers=HTML)
    assert r.status_code == 200
    words = visible(r.text)
    n = len(web.investors)
    assert f"{n} 位投资者" in words and f"{n}.00" not in words
    total = sum(web.offers.values())
    assert f"{total // 100:,}.{total % 100:02d}" in words  # yuan with separators
    assert "如何申领" in words and "{" not in words and "relative_ratio" not in words
    assert "系统性风险" in words or "整体下跌" in words
    assert 'font-size="15"' in r.text and 'id="by-status"' in r.text
    for code in RAW_CODES:
        assert not re.search(rf"\b{code}\b", words), code


def test_the_language_switch_carries_nothing_of_the_address(web: Web):
    page = claim_page(web, query=f"?draft=accept&investor={web.inv2}&msg=x")
    assert 'href="/language/en"' in page and "next=" not in page.split("<main")[0]
    assert web.inv2 not in page
