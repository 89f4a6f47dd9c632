"""Staff in the console: a payment batch needs a second person (four eyes); a case directory is uploaded as a
zip and computed in the background with a progress page."""

from __future__ import annotations

import datetime as dt
import re

from playwright.sync_api import expect
from sqlalchemy import select

from redress.store.models import Approval, Case, Claim, PaymentBatch
from redress.web import flash

from .flows import money, sign_in, sign_out

RUN_TIMEOUT_MS = 60_000


def test_payment_batch_needs_a_second_person(live, page, shot):
    case_url = f"/console/cases/{live.case_id}"
    with live.tx() as s:
        owed = list(s.execute(select(Claim.awarded_fen + Claim.interest_fen)
                              .where(Claim.case_id == live.case_id, Claim.status == "accepted")).scalars())
    assert len(owed) == len(live.seeded.accepted) > 0

    # the operator proposes a batch of everything owed
    sign_in(page, "alice", shot=shot)
    page.wait_for_url("**/console")
    page.locator("#cases").get_by_role("link", name=live.case_id).click()
    page.wait_for_url(f"**{case_url}")
    expect(page.locator("#case-state")).to_have_text("claims_open")
    expect(page.locator("#participation")).to_contain_text(f"accepted 接受 {len(owed)}")
    expect(page.locator("#approvals")).to_have_count(0)
    shot(page, "case-before")
    with page.expect_navigation():
        page.locator("#propose-batch").click()
    expect(page.locator("p.flash")).to_contain_text(flash.text("batch_proposed"))

    # ... and waits for someone else: no approve button on her own request, though she is an approver too
    approvals = page.locator("#approvals")
    expect(approvals.get_by_role("heading")).to_contain_text("Waiting for a second person")
    row = approvals.locator("tr", has_text="alice")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("another person must check it")
    expect(page.locator("[id^=approve-]")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Approve"))).to_have_count(0)
    with live.tx() as s:
        request = s.execute(select(Approval).where(Approval.case_id == live.case_id,
                                                   Approval.status == "pending")).scalar_one()
        approval_id, requested_by = request.id, request.requested_by
    assert requested_by == "alice"
    expect(row.locator("td").first).to_have_text(str(approval_id))
    expect(page.locator("#batches tr").nth(1).locator("td").nth(1)).to_have_text("proposed")
    shot(page, "batch-waiting")

    # were the button forged, the server would still refuse her own request
    csrf = page.locator("#actions input[name=csrf_token]").first.get_attribute("value")
    forge = """([url, csrf, id]) => {
        const f = document.createElement('form'); f.method = 'post'; f.action = url;
        for (const [k, v] of [['csrf_token', csrf], ['approval_id', id]]) {
            const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v;
            f.appendChild(i);
        }
        document.body.appendChild(f); f.submit(); }"""
    with page.expect_navigation():
        page.evaluate(forge, [f"{case_url}/do/approve", csrf, str(approval_id)])
    expect(page.locator("p.flash")).to_contain_text(flash.text("refused"))
    expect(page.locator("#approvals tr", has_text="alice")).to_have_count(1)
    with live.tx() as s:
        assert s.get(Approval, approval_id).status == "pending"
        proposed = s.execute(select(PaymentBatch.status).where(PaymentBatch.case_id == live.case_id))
        assert proposed.scalar_one() == "proposed"
    shot(page, "self-approval-refused")
    sign_out(page)
    shot(page, "signed-out")

    # the approver releases it
    sign_in(page, "bob")
    page.goto(case_url)
    approve = page.locator(f"#approve-{approval_id}")
    expect(approve).to_be_visible()
    shot(page, "approver-sees-request")
    with page.expect_navigation():
        approve.click()
    expect(page.locator("p.flash")).to_contain_text(flash.text("approved"))
    expect(page.locator("#approvals")).to_have_count(0)
    batch = page.locator("#batches tr").nth(1)
    cells = batch.locator("td")
    expect(cells.nth(0)).to_have_text("1")
    expect(cells.nth(1)).to_have_text("released")
    expect(cells.nth(2)).to_have_text(str(len(owed)))
    expect(cells.nth(3)).to_have_text(money(sum(owed)))
    shot(page, "batch-released")
    with live.tx() as s:
        b = s.execute(select(PaymentBatch).where(PaymentBatch.case_id == live.case_id)).scalar_one()
        assert (b.number, b.status, b.count, b.total_fen) == (1, "released", len(owed), sum(owed))
        assert b.released_on is not None and abs((b.released_on - dt.date.today()).days) <= 1
        released_on = str(b.released_on)
        assert s.get(Approval, approval_id).status == "approved"
    expect(cells.nth(4)).to_have_text(released_on)


def test_operator_uploads_a_case_and_watches_it_compute(live, page, shot, case_zip):
    sign_in(page, "alice")
    page.wait_for_url("**/console")
    upload = page.locator("#upload-form")
    upload.locator("input[name=case_zip]").set_input_files(case_zip)
    shot(page, "upload-chosen")
    with page.expect_navigation():
        upload.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/console/runs/[0-9a-f]+$"))
    progress = page.locator("#progress")
    expect(progress).to_be_attached()
    total = int(progress.get_attribute("max"))
    first_value = int(progress.get_attribute("value"))
    still_running = page.locator("#run-done").count() == 0
    if still_running:               # the page refreshes itself (no JavaScript) until the run ends
        assert first_value < total
        expect(page.locator("meta[http-equiv=refresh]")).to_have_count(1)
    shot(page, "run-progress")

    expect(page.locator("#run-done")).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#run-failed")).to_have_count(0)
    expect(page.locator("#run-done")).to_contain_text(
        re.compile(r"Done 完成: [\d,]+ investors with compensation"))
    assert int(page.locator("#progress").get_attribute("value")) == total
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    shot(page, "run-done")

    with live.tx() as s:
        uploaded = s.execute(select(Case).where(Case.id != live.case_id)).scalar_one()
        case_id, case_dir = uploaded.id, uploaded.case_dir
    assert case_dir and (live.seeded.data_dir / "cases" / case_id / "results.csv").exists()
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Open the case")).click()
    page.wait_for_url(f"**/console/cases/{case_id}")
    expect(page.locator("h1")).to_contain_text("Uploaded")
    expect(page.locator("#case-state")).to_have_text("draft")
    expect(page.locator("#compare")).to_be_visible()           # shown once the results are on the server
    shot(page, "uploaded-case")
    page.goto("/console")
    expect(page.locator("#cases").get_by_role("link", name=case_id)).to_be_visible()
