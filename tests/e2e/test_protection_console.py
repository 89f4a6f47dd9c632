"""Staff at the protection fund's console page, in Chromium: the board's quorum checked as a meeting is
recorded (five of nine cannot meet, six can), a resolution passed by five of all nine, the statement with its
charts and the quarterly report to download."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import expect

from redress.admin.ipf import book

from .flows import sign_in

DIRECTORS = [f"Director {i}" for i in range(1, 10)]


def _meeting(page, present: int) -> None:
    form = page.locator("#ipf-meeting-form")
    form.locator("input[name=held_on]").fill("2020-03-02")
    form.locator("textarea[name=directors]").fill("\n".join(DIRECTORS))
    form.locator("textarea[name=present]").fill("\n".join(DIRECTORS[:present]))
    with page.expect_navigation():
        form.get_by_role("button").click()


def test_the_board_and_the_statement_at_the_console(live, page, shot):
    with live.tx() as s:
        book.open_capital(s, "alice", 2_000_000_00, dt.date(2020, 1, 2), "E2E-CAP")
    sign_in(page, "alice", shot=shot)
    page.goto("/console")
    with page.expect_navigation():
        page.get_by_role("link", name="The investor protection fund").click()
    expect(page.locator("#ipf-statement")).to_contain_text("2,000,000.00")
    expect(page.locator("#ipf-statement svg, .grid svg").first).to_be_visible()

    _meeting(page, 5)
    expect(page.locator("p.flash")).to_contain_text("could NOT be held")
    _meeting(page, 6)
    expect(page.locator("p.flash")).to_contain_text("it could be held")

    form = page.locator("#ipf-resolution-form")
    form.locator("select[name=meeting_id]").select_option(index=0)       # the latest meeting: six present
    form.locator("select[name=subject]").select_option("use_for_failed_firm")
    form.locator("input[name=reference]").fill("E2E-BR-1")
    form.locator("input[name=text]").fill("Pay the clients of X Securities")
    form.locator("textarea[name=votes_for]").fill("\n".join(DIRECTORS[:5]))
    form.locator("textarea[name=votes_against]").fill("\n".join(DIRECTORS[5:6]))
    with page.expect_navigation():
        form.get_by_role("button").click()
    expect(page.locator("p.flash")).to_contain_text("Resolution E2E-BR-1: passed")
    expect(page.locator("#ipf-board details").first).to_contain_text("E2E-BR-1")
    shot(page, "protection-fund-board")

    link = page.locator("#ipf-reports a", has_text="PDF").first
    with page.expect_download() as got:
        link.click()
    path = got.value.path()
    assert path is not None and open(path, "rb").read(5) == b"%PDF-"
