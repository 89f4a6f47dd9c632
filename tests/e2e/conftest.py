"""Browser (end-to-end) tests: the real web app served by uvicorn, driven by headless Chromium.

- ``live`` (one per test module): a temporary SQLite database and data directory, seeded with a small
  computed case in ``claims_open`` (a real case directory, so the explanation section shows), users with
  passwords, and the app served by uvicorn in a background thread on a free 127.0.0.1 port.  The app runs
  as in production, with Secure session cookies (Chromium accepts them on http://127.0.0.1).
- ``browser`` (one per session): Debian's Chromium (``/usr/bin/chromium``, installed by
  ``scripts/install-browser.sh``) through Playwright's sync API; ``playwright install`` is never used.
- ``page``: a fresh browser context and page for one test; ``shot(page, "step")`` saves a screenshot to
  ``test-artifacts/screenshots/`` (git-ignored), named after the test.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, select

from redress.admin import approvals, cases, claims, fund
from redress.store.db import make_engine, migrate, unit_of_work
from redress.store.models import Claim

from .flows import PASSWORD

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("REDRESS_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 15_000
AGREEMENT_BODY = ("先行赔付和解协议 / Advance compensation settlement agreement (v1)\n\n"
                  "1. The payers pay the investor the amount offered. 出资人向投资者支付要约金额。\n"
                  "2. The investor's claims against the other liable parties pass to the payers. 请求权转让。\n")

playwright_sync = pytest.importorskip("playwright.sync_api")


# -- the seeded case -----------------------------------------------------------------------------------------

@dataclass
class Investor:
    user: str
    investor_id: str
    offered_fen: int


@dataclass
class Seeded:
    db_url: str
    engine: Engine
    data_dir: Path
    case_id: str
    agreement_sha: str
    investors: dict[str, Investor] = field(default_factory=dict)   # by user name
    accepted: list[str] = field(default_factory=list)             # investor ids accepted at the counter


def make_case_dir(path: Path, *, seed: int, name: str) -> Path:
    """A small synthetic case directory with the engine's results beside it."""
    from redress.engine.pipeline import compute, prepare
    from redress.synth import generate_case

    generate_case(path, n_trades=2000, n_investors=100, seed=seed, trades_format="csv", name=name)
    compute(prepare(path)).write(path / "results.csv")
    return path


def seed_case(data_dir: Path, db_url: str) -> Seeded:
    """The case of ``redress.web.demo.seed``, small: computed, fund established, plan approved, agreement v1
    published, claims open; a few claims already accepted at the counter (so a payment batch has content)."""
    from redress.law.plan import load_case

    case_dir = make_case_dir(data_dir / "cases" / "e2e", seed=1, name="E2E 示例案件 Example case")
    case_id = load_case(case_dir).id
    results = case_dir / "results.csv"
    engine = make_engine(db_url)
    migrate(engine)
    today = dt.date.today()
    with unit_of_work(engine) as s:
        cases.bootstrap(s, "root", "Bootstrap")
        # alice may also approve, so that the console must hide the button on her own requests (four eyes)
        cases.add_user(s, "root", "alice", "Alice Operator", ["operator", "approver"], PASSWORD)
        cases.add_user(s, "root", "bob", "Bob Approver", ["approver"], PASSWORD)
        c = cases.create_case(s, "alice", case_id, "E2E 示例案件 Example case", custodian="Custodian Bank")
        c.case_dir = str(case_dir)
        fund_fen = int(float(pl.read_csv(results)["compensation"].sum()) * 110) + 100   # 110% of the offers
        cases.add_payer(s, "alice", case_id, "sponsor", "保荐机构 Sponsor", "sponsor", fund_fen)
        fund.contribute(s, "alice", case_id, "sponsor", fund_fen, today - dt.timedelta(days=20), "E2E-1")
        fund.establish(s, "alice", case_id)
        plan = claims.propose_plan(s, "alice", case_id, case_dir, results, today - dt.timedelta(days=7),
                                   today + dt.timedelta(days=38), recompute=False).id
    with unit_of_work(engine) as s:
        approvals.decide(s, "bob", plan, True, "checked")
        sha = claims.publish_agreement(s, "alice", case_id, "v1", AGREEMENT_BODY).sha256
        claims.open_claims(s, "alice", case_id, results)
        ranked = [(inv, fen) for inv, fen in s.execute(
            select(Claim.investor_id, Claim.offered_fen).where(Claim.case_id == case_id)
            .order_by(Claim.offered_fen.desc(), Claim.investor_id))]
    seeded = Seeded(db_url, engine, data_dir, case_id, sha)
    with unit_of_work(engine) as s:
        for k, (inv, fen) in enumerate(ranked[:3]):
            user = f"investor{k + 1}"
            cases.add_user(s, "alice", user, f"投资者 Investor {k + 1}", ["investor"], PASSWORD, investor_id=inv)
            seeded.investors[user] = Investor(user, inv, fen)
        for inv, _fen in ranked[3:8]:
            answer = claims.DecisionInput(inv, "accept", today, "counter", f"e2e-{inv}", "v1", sha)
            claims.decide(s, "alice", case_id, answer)
            seeded.accepted.append(inv)
    return seeded


# -- the live server -----------------------------------------------------------------------------------------

class LiveServer:
    """uvicorn serving ``app`` in a daemon thread on a socket bound here (so no port race)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name=f"uvicorn-{self.port}")

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the test server stopped while starting")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test server did not start within {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@dataclass
class Live:
    base_url: str
    seeded: Seeded

    @property
    def case_id(self) -> str:
        return self.seeded.case_id

    def tx(self):
        return unit_of_work(self.seeded.engine)


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    """The seeded app, served on http://127.0.0.1:<free port> for the tests of one module."""
    from redress.web.app import create_app

    root = tmp_path_factory.mktemp("e2e")
    data_dir = root / "data"
    db_url = f"sqlite:///{root / 'redress.sqlite3'}"
    seeded = seed_case(data_dir, db_url)
    app = create_app(db_url, data_dir=data_dir, secure_cookies=True, run_migrations=False)
    server = LiveServer(app)
    server.start()
    try:
        yield Live(server.base_url, seeded)
    finally:
        server.stop()
        for name in ("engine", "read_engine"):
            engine = getattr(app.state, name, None)
            if engine is not None:
                engine.dispose()
        seeded.engine.dispose()


@pytest.fixture(scope="module")
def case_zip(tmp_path_factory) -> Path:
    """A second, different case directory, zipped inside a folder as an operator would upload it."""
    root = tmp_path_factory.mktemp("upload")
    case_dir = make_case_dir(root / "upload-case", seed=2, name="Uploaded 上传案件")
    out = root / "upload-case.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(case_dir.iterdir()):
            if p.name != "results.csv":                 # the server computes them
                z.write(p, f"upload-case/{p.name}")
    shutil.rmtree(case_dir)
    return out


# -- the browser ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; "
                    "run scripts/install-browser.sh (make test does)")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser, live) -> Iterator[Callable[..., object]]:
    """Open a page in a fresh context (own cookies); keyword arguments go to ``browser.new_context``."""
    contexts = []

    def make(**options):
        ctx = browser.new_context(base_url=live.base_url, locale="zh-CN", **options)
        ctx.set_default_timeout(TIMEOUT_MS)
        ctx.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def page(new_page):
    return new_page(viewport={"width": 1280, "height": 900})


@pytest.fixture
def shot(request) -> Callable[..., Path]:
    """``shot(page, "step")``: a screenshot (full page unless ``full_page=False``), saved as
    test-artifacts/screenshots/<test>-<nn>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    count = iter(range(1, 100))

    def take(pg, step: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{test}-{next(count):02d}-{step}.png"
        pg.screenshot(path=str(path), full_page=full_page)
        return path

    return take
