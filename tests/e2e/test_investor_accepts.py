"""An investor signs in, reads how their compensation was computed and the agreement, and accepts online."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from redress.store.models import Claim, Decision

from .flows import money, sign_in


def decisions_of(live, investor_id: str) -> list[Decision]:
    with live.tx() as s:
        rows = list(s.execute(select(Decision).join(Claim, Claim.id == Decision.claim_id)
                              .where(Claim.case_id == live.case_id, Claim.investor_id == investor_id)
                              .order_by(Decision.id)).scalars())
        s.expunge_all()
        return rows


def test_investor_reads_explanation_and_accepts(live, page, shot):
    me = live.seeded.investors["investor1"]
    amount = money(me.offered_fen)

    # sign in through the form: an investor with one claim lands on it; the portal lists it with its amount
    page.context.add_cookies([{"name": "redress_lang", "value": "en", "url": live.base_url}])
    sign_in(page, "investor1", shot=shot)
    page.wait_for_url(f"**/portal/cases/{live.case_id}")
    page.goto("/portal")
    card = page.locator(f"a.card.claim[href='/portal/cases/{live.case_id}']")
    expect(card).to_be_visible()
    expect(card.locator(".amount")).to_contain_text(amount)
    expect(card.locator(".status")).to_have_attribute("data-status", "offered")
    shot(page, "portal")

    # the claim page: amount, status in words, the explanation
    card.click()
    page.wait_for_url(f"**/portal/cases/{live.case_id}")
    expect(page.locator("#offered")).to_contain_text(amount)
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "offered")
    expect(page.locator("#claim-status")).not_to_have_text("offered")           # a plain label, not the code
    explanation = page.locator("#explanation")
    expect(explanation).to_be_visible()
    expect(explanation.locator(".story")).to_contain_text(amount)
    details = explanation.locator("details").first
    expect(details.locator(".step").first).to_be_hidden()
    details.locator("summary").click()
    steps = details.locator(".step")
    expect(steps.first).to_be_visible()
    assert steps.count() > 5
    articles = details.locator(".article").all_inner_texts()
    assert any(re.search(r"Article \d+", a) for a in articles), articles
    trades = details.locator(".trade")
    assert trades.count() > 0
    shot(page, "explanation")

    # the agreement, with the hash the acceptance will name
    decide = page.locator("#decide")
    expect(page.locator("#agreement .agreement")).to_contain_text("settlement agreement (v1)")
    expect(page.locator("#agreement-sha")).to_have_text(live.seeded.agreement_sha)
    decide.scroll_into_view_if_needed()
    shot(page, "agreement", full_page=False)

    # accept without ticking the confirmation: the browser's `required` stops the form
    confirm = page.locator("#confirm")
    expect(confirm).not_to_be_checked()
    url = page.url
    page.locator("#accept").click()
    assert confirm.evaluate("el => el.validity.valueMissing") is True
    assert page.url == url
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "offered")
    shot(page, "accept-blocked-in-browser", full_page=False)

    # ... and if the browser's check is bypassed, the server refuses too; the claim stays offered
    page.locator("#accept-form").evaluate("form => { form.noValidate = true; }")
    with page.expect_navigation():
        page.locator("#accept").click()
    expect(page.locator("p.flash")).to_contain_text("Tick the box to confirm your choice first")
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "offered")
    assert decisions_of(live, me.investor_id) == []
    shot(page, "accept-refused-by-server")

    # tick and accept
    page.locator("#confirm").check()
    with page.expect_navigation():
        page.locator("#accept").click()
    expect(page.locator("p.flash")).to_contain_text("Your decision is saved")
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "accepted")
    expect(page.locator("#accept-form")).to_have_count(0)
    expect(page.locator("#accepted-agreement")).to_contain_text("v1")
    expect(page.locator("#receipt")).to_be_visible()
    shot(page, "accepted")

    # the database holds exactly one decision: an acceptance naming the agreement's hash
    rows = decisions_of(live, me.investor_id)
    assert [(d.decision, d.channel, d.agreement_version, d.agreement_sha256, d.actor) for d in rows] == [
        ("accept", "online", "v1", live.seeded.agreement_sha, "investor1")]

    # the portal shows it too
    page.goto("/portal")
    expect(page.locator(f"a.card.claim[href='/portal/cases/{live.case_id}'] .status")) \
        .to_have_attribute("data-status", "accepted")
    shot(page, "portal-after")


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


def phone_claim_page(live, new_page, user: str):
    page = new_page(**PHONE)
    sign_in(page, user)
    page.goto(f"/portal/cases/{live.case_id}")
    return page


def test_claim_page_on_a_phone(live, new_page, shot):
    me = live.seeded.investors["investor2"]
    page = phone_claim_page(live, new_page, "investor2")
    expect(page.locator("#offered")).to_contain_text(money(me.offered_fen))
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "offered")
    expect(page.locator("#explanation .steps")).to_be_attached()
    shot(page, "claim-phone")
    shot(page, "claim-phone-screen", full_page=False)
    # the decision can be made with a tap, and nothing is recorded until the confirmation is ticked
    page.locator("#accept").scroll_into_view_if_needed()
    expect(page.locator("#accept")).to_be_in_viewport()
    page.locator("#accept").tap()
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "offered")
    assert page.locator("#confirm").evaluate("el => el.validity.valueMissing") is True
    shot(page, "accept-button-phone", full_page=False)
    assert decisions_of(live, me.investor_id) == []


def test_claim_page_fits_a_phone_screen(live, new_page, shot):
    page = phone_claim_page(live, new_page, "investor3")
    expect(page.locator("#offered")).to_be_visible()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, "
                           "document.documentElement.clientWidth, window.innerWidth]")
    if widths[0] > 390:
        shot(page, "overflowing-phone", full_page=False)
    assert widths == [390, 390, 390], f"page width, screen width, layout viewport: {widths}"
