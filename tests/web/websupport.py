"""Web test support: a small synthetic case computed once per session, opened for claims in a fresh database (both
backends, through the ``db`` fixture), with users who have passwords, and a TestClient over ``create_app``.

The claims period runs around today, because the API records a decision on the day it is made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from fastapi.testclient import TestClient
from sqlalchemy import select

from redress.admin import approvals, cases, claims, fund, payments
from redress.store.db import unit_of_work
from redress.store.models import Case, User
from redress.web.app import create_app

PASSWORD = "correct horse battery staple"
TODAY = dt.date.today()
OPEN_ON = TODAY - dt.timedelta(days=7)
DEADLINE = TODAY + dt.timedelta(days=3)    # claims close the day after: events are dated at most a week ahead
AGREEMENT = "和解协议 settlement agreement v1: the investor accepts and assigns the claim to the payers."

# name -> (display name, roles); investors and the payer get their ids below
STAFF_USERS = {
    "op": ("Olga Operator", ["operator"]),
    "op2": ("Otto Operator", ["operator"]),
    "chk": ("Chen Checker", ["approver"]),
    "maker": ("Mia Maker-Checker", ["operator", "approver"]),
    "aud": ("Ann Auditor", ["auditor"]),
    "svc": ("Sam Service", ["investor_service"]),
}


@dataclass
class Web:
    """One case open for claims, its users and the app over the database."""

    app: object
    url: str
    engine: object
    case_id: str
    case_dir: Path
    agreement_sha: str
    investors: list[str]                     # investors with an offer, sorted
    offers: dict[str, int] = field(default_factory=dict)
    inv1: str = ""                           # the investor id of user "inv1"
    inv2: str = ""                           # the investor id of user "inv2"
    other_case: str = "draft-case"
    _clients: dict = field(default_factory=dict)

    def client(self, **kw) -> TestClient:
        return TestClient(self.app, base_url="https://testserver", **kw)

    def signed_in(self, name: str, **kw) -> TestClient:
        """A client signed in as ``name``, with its CSRF token sent on every request (one per user and options:
        verifying a password takes argon2's time)."""
        key = (name, tuple(sorted(kw.items())))
        if key not in self._clients:
            c = self.client(**kw)
            r = c.post("/api/session", json={"name": name, "password": PASSWORD})
            assert r.status_code == 200, r.text
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
            self._clients[key] = c
        return self._clients[key]

    def tx(self):
        return unit_of_work(self.engine)


@functools.cache
def password_hash() -> str:
    """One argon2 hash of PASSWORD for every test user (hashing costs ~0.15 s; sign-in still verifies it)."""
    from redress.web.security import hash_password

    return hash_password(PASSWORD)


def small_case(root: Path, *, seed: int, name: str, n_trades: int = 400, n_investors: int = 30) -> Path:
    """A generated case directory under ``root`` with its computed ``results.csv``."""
    from redress.engine.pipeline import compute, prepare
    from redress.synth import generate_case

    case_dir = root / "case"
    generate_case(case_dir, n_trades=n_trades, n_investors=n_investors, seed=seed, trades_format="csv", name=name)
    compute(prepare(case_dir)).write(case_dir / "results.csv")
    return case_dir


def build(db, tmp_path: Path, synth_case: Path, **app_options) -> Web:
    """The world; ``app_options`` go to ``create_app`` (limits, trusted proxies)."""
    url, engine = db
    case_dir = tmp_path / "case"
    shutil.copytree(synth_case, case_dir)
    from redress.law.plan import load_case

    case_id = load_case(case_dir).id
    results = case_dir / "results.csv"
    offers_df = (pl.read_csv(results).filter(pl.col("compensation") > 0).group_by("investor_id")
                 .agg((pl.col("compensation") * 100).round(0).cast(pl.Int64).sum().alias("fen")).sort("investor_id"))
    offers = dict(offers_df.iter_rows())
    investors = sorted(offers)
    total = sum(offers.values())
    with unit_of_work(engine) as s:
        cases.bootstrap(s, "root", "Administrator")
        for name, (display, roles) in STAFF_USERS.items():
            cases.add_user(s, "root", name, display, roles)
        cases.add_user(s, "root", "inv1", "Investor One", ["investor"], investor_id=investors[0])
        cases.add_user(s, "root", "inv2", "Investor Two", ["investor"], investor_id=investors[1])
        cases.add_user(s, "root", "nobody", "Investor Without Claim", ["investor"],
                       investor_id="INV-NO-CLAIM")
        c = cases.create_case(s, "op", case_id, "Synthetic case", custodian="Custodian Bank")
        c.case_dir = str(case_dir)
        for payer, role, fen in (("sponsor", "sponsor", total), ("auditor", "auditor", total)):
            cases.add_payer(s, "op", case_id, payer, payer.title(), role, fen)
            fund.contribute(s, "op", case_id, payer, fen, TODAY - dt.timedelta(days=20), f"BANK-{payer}")
        fund.establish(s, "op", case_id)
        ap_id = claims.propose_plan(s, "op", case_id, case_dir, results, OPEN_ON, DEADLINE, recompute=False).id
        cases.add_user(s, "root", "payer1", "Sponsor Payer", ["payer"], payer_case_id=case_id,
                       payer_id="sponsor")
        cases.create_case(s, "op", "draft-case", "A case still in draft")
        for user in s.execute(select(User).where(User.name != "root")).scalars():
            user.password_hash = password_hash()
    with unit_of_work(engine) as s:
        approvals.decide(s, "chk", ap_id, True)
    with unit_of_work(engine) as s:
        sha = claims.publish_agreement(s, "op", case_id, "v1", AGREEMENT).sha256
        claims.open_claims(s, "op", case_id, results)
    app = create_app(url, data_dir=tmp_path / "data", secure_cookies=True, run_migrations=True, **app_options)
    return Web(app, url, engine, case_id, case_dir, sha, investors, offers, investors[0], investors[1])


@contextlib.contextmanager
def served(root: Path, synth_case: Path, **app_options) -> Iterator[tuple[Web, LiveServer]]:
    """The world on a fresh SQLite database under ``root``, served over real HTTP while the block runs."""
    from support.db import fresh_database

    database = fresh_database("sqlite", root)
    w = build(next(database), root, synth_case, **app_options)
    try:
        with LiveServer(w.app) as server:
            yield w, server
    finally:
        for engine in (w.app.state.engine, w.app.state.read_engine):
            engine.dispose()
        database.close()


def accept_body(w: Web, key: str = "k-accept-1") -> dict:
    return {"decision": "accept", "agreement_version": "v1", "agreement_sha256": w.agreement_sha, "confirm": True,
            "key": key}


def paid_and_closed(w: Web) -> int:
    """Three acceptances paid in one batch, then claims closed after the deadline; the fen paid."""
    accepted = w.investors[2:5]
    with w.tx() as s:
        for inv in accepted:
            claims.decide(s, "op", w.case_id, claims.DecisionInput(inv, "accept", TODAY, "counter", f"k-{inv}",
                                                                   "v1", w.agreement_sha))
        ap_id = payments.propose_batch(s, "op", w.case_id, TODAY).id
    with w.tx() as s:
        number = approvals.decide(s, "chk", ap_id, True).number
    out = w.case_dir.parent / "out"
    with w.tx() as s:
        path, _ = payments.export_batch(s, "op", w.case_id, number, out)
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    assert len(rows) == 3
    results = out / "results.csv"
    results.write_text("instruction_id,status,amount,settled_on,reason\n"
                       + "".join(f"{r[0]},paid,{r[4]},{TODAY.isoformat()},\n" for r in rows), encoding="utf-8")
    with w.tx() as s:
        payments.import_results(s, "op", w.case_id, results)
    with w.tx() as s:      # the claims period has run out (dates of what happened cannot lie ahead of today)
        s.get(Case, w.case_id).deadline = TODAY - dt.timedelta(days=1)
    r = w.signed_in("op").post(f"/api/cases/{w.case_id}/close", json={"on": TODAY.isoformat()})
    assert r.status_code == 200, r.text
    return sum(w.offers[i] for i in accepted)


def settled(w: Web) -> int:
    """``paid_and_closed``, then the advance compensation marked complete (what a fair-fund round needs)."""
    paid = paid_and_closed(w)
    with w.tx() as s:
        payments.complete_payments(s, "op", w.case_id)
    return paid


# -- over real HTTP ------------------------------------------------------------------------------------------

class LiveServer:
    """``app`` served by uvicorn in a daemon thread on a socket bound here (127.0.0.1, a free port), configured
    as ``redress serve`` runs it (forwarding headers left to the application)."""

    def __init__(self, app, **config) -> None:
        import socket
        import threading

        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        scheme = "https" if config.get("ssl_certfile") else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                                    proxy_headers=False, **config))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name=f"uvicorn-{self.port}")

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def http_session(base_url: str, name: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign ``name`` in over HTTP; the headers that act as them (the session cookie is Secure, so it is sent
    by hand over plain HTTP, as a browser does for 127.0.0.1)."""
    import httpx

    from redress.web.security import COOKIE

    r = httpx.post(f"{base_url}/api/session", json={"name": name, "password": password}, verify=False)
    assert r.status_code == 200, r.text
    return {"Cookie": f"{COOKIE}={r.cookies[COOKIE]}", "X-CSRF-Token": r.json()["csrf_token"]}
