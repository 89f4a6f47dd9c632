"""The investor's whole path in real Chromium, as a retired investor on her phone (and her son on a desktop) takes it.

notice letter -> activation with the code -> password -> claim page -> the explanation in plain words ->
agreement PDF -> accept -> receipt PDF -> the e-mail that the decision is recorded -> a payment batch settles ->
the page says paid; and the other endings: decline, lapse, a returned payment, a session that expired in the
middle of a decision.  Every step is a screenshot under test-artifacts/screenshots/ (the letter's page under
test-artifacts/documents/), in Chinese (the default) and English, at phone and desktop sizes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from redress import i18n
from redress.admin import approvals, claims, payments
from redress.notify.channels import SmtpNotifier
from redress.store.models import Case, Claim, Decision, WebSession

from .conftest import REPO, TIMEOUT_MS, LiveServer, Seeded, seed_case

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 768}
NEW_PASSWORD = "my grandson plays the violin"
DOCUMENTS = REPO / "test-artifacts" / "documents"


def pdf_text(data: bytes) -> str:
    """The text of a PDF (this font's text comes out with NULs between characters)."""
    assert data[:5] == b"%PDF-", data[:40]
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace("\x00", "")


@dataclass
class Journey:
    base_url: str
    seeded: Seeded
    mailbox: object
    notices: dict[str, dict]           # investor id -> the notice's row (with its activation code)
    letters: Path
    accounts: dict[str, str]           # investor id -> a securities account of theirs
    notifier: SmtpNotifier

    @property
    def case_id(self) -> str:
        return self.seeded.case_id

    def tx(self):
        from redress.store.db import unit_of_work

        return unit_of_work(self.seeded.engine)

    def newcomers(self) -> list[str]:
        """Investors with an offer, no user and no decision yet, largest offer first."""
        return [inv for inv in self.notices if self.notices[inv]["activation_code"]]


@pytest.fixture
def journey(tmp_path) -> Iterator[Journey]:
    """A case in its claims period served over HTTP, with a real SMTP server on loopback for the e-mails, and
    claim notices (with their letters) written for every investor who has not answered."""
    from notify.smtpserver import Server

    from redress.web.app import create_app

    data_dir = tmp_path / "data"
    seeded = seed_case(data_dir, f"sqlite:///{tmp_path / 'redress.sqlite3'}")
    with Server() as smtp:
        notifier = SmtpNotifier.from_url(smtp.url)
        app = create_app(seeded.db_url, data_dir=data_dir, secure_cookies=True, run_migrations=False,
                         notifier=notifier)
        server = LiveServer(app)
        server.start()
        try:
            out, letters = tmp_path / "notices.csv", tmp_path / "letters.pdf"
            with unit_of_work(seeded) as s:
                claims.write_notices(s, "alice", seeded.case_id, "offer", out, dt.date.today(), letters=letters,
                                     portal_url=server.base_url)
            rows = {r["investor_id"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
            case_dir = Path(seeded.data_dir) / "cases" / "e2e"
            trades = pl.read_csv(case_dir / "trades.csv", infer_schema=False)
            accounts = {inv: trades.filter(pl.col("investor_id") == inv)["account_id"][0] for inv in rows}
            yield Journey(server.base_url, seeded, smtp.mailbox, rows, letters, accounts, notifier)
        finally:
            server.stop()
            app.state.engine.dispose()
            app.state.read_engine.dispose()
            seeded.engine.dispose()


def unit_of_work(seeded: Seeded):
    from redress.store.db import unit_of_work as uow

    return uow(seeded.engine)


@pytest.fixture
def browse(browser, journey) -> Iterator:
    """``browse(language, viewport)``: a fresh browser (own cookies) on the journey's site, in that language."""
    contexts = []

    def make(language: str = "zh", viewport: dict = PHONE):
        ctx = browser.new_context(base_url=journey.base_url, viewport=viewport,
                                  locale="zh-CN" if language == "zh" else "en-GB")
        ctx.set_default_timeout(TIMEOUT_MS)
        ctx.add_cookies([{"name": i18n.COOKIE, "value": language, "url": journey.base_url}])
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def words(language: str, message: str, **values) -> str:
    with i18n.use(language):
        return i18n.gettext(message, **values)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url}: {width[0]} px wide in a {width[1]} px window"


def activate(page, j: Journey, investor: str, shot, language: str) -> None:
    """From the letter to the claim page: the code and an account, then a password and an e-mail address."""
    page.goto("/activate")
    shot(page, "activate")
    page.locator("input[name=code]").fill(j.notices[investor]["activation_code"].lower().replace("-", " "))
    page.locator("input[name=account]").fill(j.accounts[investor])
    with page.expect_navigation():
        page.locator("form[action='/activate'] button[type=submit]").click()
    expect(page.locator("input[name=password]")).to_be_visible()
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    page.locator("input[name=password2]").fill(NEW_PASSWORD)
    page.locator("input[name=email]").fill(f"{investor.lower()}@example.test")
    page.locator("select[name=language]").select_option(language)
    shot(page, "set-password")
    with page.expect_navigation():
        page.locator("form[action='/activate'] button[type=submit]").click()
    page.wait_for_url(f"**/portal/cases/{j.case_id}")


def case_name(j: Journey) -> str:
    with j.tx() as s:
        return s.get(Case, j.case_id).name


def letter_page(j: Journey, investor: str) -> Path:
    """The investor's page of the letters PDF, as a picture (what the post brings)."""
    reader = PdfReader(str(j.letters))
    number = next(i for i, p in enumerate(reader.pages) if investor in p.extract_text().replace("\x00", ""))
    DOCUMENTS.mkdir(parents=True, exist_ok=True)
    stem = DOCUMENTS / f"journey-letter-{investor}"
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(number + 1), "-l", str(number + 1),
                        "-singlefile", str(j.letters), str(stem)], check=True)
    return stem.with_suffix(".png")


def settle(j: Journey, investor: str, status: str = "paid") -> None:
    """A payment batch for the accepted claims, released by a second person, and the bank's results."""
    today = dt.date.today()
    with j.tx() as s:
        ap = payments.propose_batch(s, "alice", j.case_id, today).id
    with j.tx() as s:
        number = approvals.decide(s, "bob", ap, True, "checked").number
    out = Path(j.seeded.data_dir) / "pay"
    with j.tx() as s:
        path, _ = payments.export_batch(s, "alice", j.case_id, number, out)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert any(r["investor_id"] == investor for r in rows), rows[:3]
    results = out / f"results-{number}.csv"
    results.write_text("instruction_id,status,amount,settled_on,reason\n" + "".join(
        f"{r['instruction_id']},{status if r['investor_id'] == investor else 'paid'},{r['amount']},"
        f"{today.isoformat()},{'account closed' if status == 'returned' and r['investor_id'] == investor else ''}\n"
        for r in rows), encoding="utf-8")
    with j.tx() as s:
        payments.import_results(s, "alice", j.case_id, results)


def decisions(j: Journey, investor: str) -> list[tuple[str, str]]:
    with j.tx() as s:
        return [(d.decision, d.channel) for d in s.execute(
            select(Decision).join(Claim, Claim.id == Decision.claim_id)
            .where(Claim.case_id == j.case_id, Claim.investor_id == investor)).scalars()]


def mails_to(j: Journey, investor: str, wait: float = 10.0) -> list:
    """The e-mails the investor received (the decision's is sent just after the answer: wait a little)."""
    address = f"{investor.lower()}@example.test"
    until = time.monotonic() + wait
    while time.monotonic() < until and not j.mailbox.to(address):
        time.sleep(0.1)
    time.sleep(0.3)                                       # anything sent twice would have arrived by now
    return j.mailbox.to(address)


@pytest.mark.parametrize("language,viewport", [("zh", PHONE), ("en", DESKTOP)], ids=["zh-phone", "en-desktop"])
def test_from_the_letter_to_the_money(journey, browse, shot, language, viewport):
    j = journey
    investor = j.newcomers()[0]
    offered = int(j.notices[investor]["amount"].replace(".", "").replace(",", ""))

    # the letter: the code and the amount are on it
    letter = pdf_text(j.letters.read_bytes())
    assert j.notices[investor]["activation_code"].replace("-", " ") in letter and investor in letter
    assert letter_page(j, investor).exists() or not shutil.which("pdftoppm")

    page = browse(language, viewport)
    activate(page, j, investor, shot, language)

    # the claim page: the amount first, then the deadline, then how it was computed in the investor's numbers
    expect(page.locator("html")).to_have_attribute("lang", i18n.HTML_LANG[language])
    with i18n.use(language):
        amount = i18n.money(offered)
    expect(page.locator("#offered")).to_contain_text(amount)
    expect(page.locator("#days-left")).to_be_visible()
    story = page.locator("#explanation .story")
    expect(story).to_contain_text(amount)
    order = page.evaluate("""() => ['amount', 'deadline', 'explanation', 'agreement', 'decide']
        .map(id => document.getElementById(id).getBoundingClientRect().top + window.scrollY)""")
    assert order == sorted(order), order
    no_sideways_scroll(page)
    shot(page, "claim")
    details = page.locator("#explanation details").first
    details.locator("summary").click()
    expect(details.locator(".step").first).to_be_visible()
    no_sideways_scroll(page)
    shot(page, "explanation-detail")

    # the agreement as a PDF, its fingerprint printed on it
    sha = page.locator("#agreement-sha").inner_text().strip()
    assert sha == j.seeded.agreement_sha
    agreement = page.request.get(page.locator("#agreement-pdf").get_attribute("href"))
    assert agreement.status == 200 and agreement.headers["content-type"] == "application/pdf"
    assert sha in pdf_text(agreement.body())

    # accept, with the keyboard only: tab to the box, space, tab to the button, enter
    page.locator("#confirm").focus()
    page.keyboard.press("Space")
    expect(page.locator("#confirm")).to_be_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "accept"
    shot(page, "accept", full_page=False)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "accepted")
    expect(page.locator(".flash")).to_have_text(words(language, "Your decision is saved: you accepted the offer."))
    expect(page.locator("#next")).to_be_visible()
    shot(page, "accepted")
    assert decisions(j, investor) == [("accept", "online")]

    # the receipt names the agreement that was accepted
    receipt = page.request.get("/portal/cases/" + j.case_id + "/receipt.pdf")
    assert receipt.status == 200
    text = pdf_text(receipt.body())
    assert sha in re.sub(r"\s", "", text) and amount in text

    # one e-mail says the decision is recorded, in the investor's language
    subject = words(language, "We have recorded your acceptance (case %(case)s)", case=case_name(j))
    recorded = [m for m in mails_to(j, investor) if m.subject == subject]
    assert len(recorded) == 1 and recorded[0].language.startswith(language), j.mailbox.received[-3:]

    # the money goes out and arrives
    settle(j, investor)
    page.reload()
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "paid")
    expect(page.locator("#claim-status")).to_have_text(words(language, "Paid into your account"))
    expect(page.locator("#paid-in-full")).to_contain_text(amount)
    no_sideways_scroll(page)
    shot(page, "paid")


def test_declining_says_what_the_investor_keeps(journey, browse, shot):
    j = journey
    investor = j.newcomers()[1]
    page = browse("zh", PHONE)
    activate(page, j, investor, shot, "zh")
    page.locator("#confirm-decline").check()
    shot(page, "decline", full_page=False)
    with page.expect_navigation():
        page.locator("#decline").click()
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "declined")
    expect(page.locator("#next")).to_contain_text("诉")                       # the right to sue (起诉/诉权)
    shot(page, "declined")
    assert decisions(j, investor) == [("decline", "online")]
    receipt = page.request.get(f"/portal/cases/{j.case_id}/receipt.pdf")
    assert receipt.status == 200 and "诉" in pdf_text(receipt.body())


def test_a_returned_payment_says_what_to_do(journey, browse, shot):
    j = journey
    investor = j.newcomers()[2]
    page = browse("zh", PHONE)
    activate(page, j, investor, shot, "zh")
    page.locator("#confirm").check()
    with page.expect_navigation():
        page.locator("#accept").click()
    settle(j, investor, status="returned")
    page.reload()
    expect(page.locator("#returned")).to_be_visible()
    expect(page.locator("#paid-in-full")).to_have_count(0)
    no_sideways_scroll(page)
    shot(page, "returned")
    # the fund's daily notification run tells her, once, what to do
    from redress.notify.events import send_due

    send_due(j.seeded.engine, "alice", j.case_id, j.notifier, dt.date.today())
    send_due(j.seeded.engine, "alice", j.case_id, j.notifier, dt.date.today())
    subject = words("zh", "Your payment came back: please check your bank details (case %(case)s)",
                    case=case_name(j))
    returned = [m for m in j.mailbox.to(f"{investor.lower()}@example.test") if m.subject == subject]
    assert len(returned) == 1 and returned[0].language.startswith("zh"), j.mailbox.received[-3:]


def test_an_expired_session_keeps_nothing_and_brings_the_choice_back(journey, browse, shot):
    j = journey
    investor = j.newcomers()[3]
    page = browse("zh", PHONE)
    activate(page, j, investor, shot, "zh")
    page.locator("#confirm").check()
    with j.tx() as s:                                     # the session runs out while she reads
        for row in s.execute(select(WebSession).where(WebSession.user_name == investor)).scalars():
            row.revoked = True
    with page.expect_navigation():
        page.locator("#accept").click()
    expect(page.locator("#not-saved h1")).to_have_text(words("zh", "Your decision was NOT saved"))
    assert decisions(j, investor) == []
    shot(page, "session-expired")

    # signing in again brings her back to the claim with the choice ticked, not sent
    with page.expect_navigation():
        page.locator("#sign-in-again").click()
    page.locator("input[name=name]").fill(investor)
    page.locator("input[name=password]").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/portal/cases/{j.case_id}\?draft=accept$"))
    expect(page.locator("#draft-note")).to_be_visible()
    expect(page.locator("#confirm")).to_be_checked()
    assert decisions(j, investor) == []
    shot(page, "choice-restored")


def test_a_lapsed_offer_says_so(journey, browse, shot):
    j = journey
    investor = j.newcomers()[4]
    page = browse("en", PHONE)
    activate(page, j, investor, shot, "en")
    today = dt.date.today()
    with j.tx() as s:                                     # the claims period has run out
        s.get(Case, j.case_id).deadline = today - dt.timedelta(days=1)
    with j.tx() as s:
        claims.close_claims(s, "alice", j.case_id, today)
    page.reload()
    expect(page.locator("#claim-status")).to_have_attribute("data-status", "lapsed")
    expect(page.locator("#lapsed")).to_be_visible()
    expect(page.locator("#decide")).to_have_count(0)
    no_sideways_scroll(page)
    shot(page, "lapsed")
