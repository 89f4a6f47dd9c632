"""``python -m redress.bench.web``: the opening day of a case, on the web.

A fresh database gets one case in ``claims_open`` and N investor users with passwords.  The application is
served by uvicorn on 127.0.0.1 (a subprocess; --workers processes), and locust (headless, library API, in a
child process) plays the opening day: every simulated browser takes the next investor from one shared queue
(so no investor is used twice), signs in, lists its claims, views the claim, reads the agreement and accepts
it, then takes the next investor, with no think time, until --seconds have passed (flows already under way
are finished, never cut) or every investor has answered.

Reported: sustained requests per second, p50/p99 latency per call (claim view and acceptance separately),
failures; then the database is checked: every acceptance answered 200 is recorded and nothing else is, no
claim has two acceptances, the audit chain verifies and the books agree with the awards.  Prints Markdown;
exits 1 if any request failed or any acceptance was lost (or recorded without a 200).

Benchmark shortcut: the N investor users share one argon2 hash (one password, hashed once) and are inserted
in bulk, with one audit event for all of them; ``redress user add`` hashes each password separately (0.1 to
0.2 s each on a 2-core machine).  Signing in still verifies the password with argon2 on every request, as in
production.

Only the standard library is imported at module level: the load runs in a child process
(``python -m redress.bench.web _load SPEC.json``) where locust's gevent monkey-patching must come first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

CASE_ID = "bench"
PASSWORD = "opening-day-2023"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ENV_URL = "REDRESS_BENCH_WEB_DATABASE_URL"
ENV_DATA = "REDRESS_BENCH_WEB_DATA_DIR"
SIGN_IN, MY_CLAIMS, CLAIM, AGREEMENT, ACCEPT = ("POST /api/session", "GET /api/me/claims",
                                               "GET /api/cases/{case}/claims/{investor}",
                                               "GET /api/cases/{case}/agreement",
                                               "POST /api/cases/{case}/claims/{investor}/decision")
CALLS = (SIGN_IN, MY_CLAIMS, CLAIM, AGREEMENT, ACCEPT)


def user_name(i: int) -> str:
    return f"inv{i:06d}"


def investor_id(i: int) -> str:
    return f"I{i:09d}"      # as redress.bench.admin writes the results file


# -- seeding -------------------------------------------------------------------------------------------------

def seed(url: str, n: int, work: Path) -> dict:
    """One case taken to claims_open with N claims, and N investor users (one shared password hash)."""
    import random

    from redress.admin import approvals, cases, claims, fund
    from redress.admin.simulate import AGREEMENT as AGREEMENT_TEXT
    from redress.bench.admin import CASE_TOML, _results
    from redress.store import audit
    from redress.store.db import bulk_insert, make_engine, migrate, unit_of_work
    from redress.store.models import User
    from redress.web.security import hash_password

    (work / "case").mkdir(parents=True)
    (work / "case" / "case.toml").write_text(CASE_TOML, encoding="utf-8")
    offered = _results(work / "results.csv", n, random.Random(1))
    today = dt.date.today()
    engine = make_engine(url)
    migrate(engine)
    with unit_of_work(engine) as s:
        cases.bootstrap(s, "root", "root")
        cases.add_user(s, "root", "op", "op", ["operator"])
        cases.add_user(s, "root", "ap", "ap", ["approver"])
        cases.create_case(s, "op", CASE_ID, "Web benchmark")
        cases.add_payer(s, "op", CASE_ID, "sponsor", "Sponsor", "sponsor", offered * 2)
        fund.contribute(s, "op", CASE_ID, "sponsor", offered * 2, today - dt.timedelta(days=20), "B1")
        fund.establish(s, "op", CASE_ID)
        ap = claims.propose_plan(s, "op", CASE_ID, work / "case", work / "results.csv",
                                 today - dt.timedelta(days=1), today + dt.timedelta(days=45),
                                 recompute=False).id
    with unit_of_work(engine) as s:
        approvals.decide(s, "ap", ap, True)
        sha = claims.publish_agreement(s, "op", CASE_ID, "v1", AGREEMENT_TEXT).sha256
        claims.open_claims(s, "op", CASE_ID, work / "results.csv")
    # Benchmark shortcut (see the module docstring): one argon2 hash for every investor, rows in bulk.
    started = time.perf_counter()
    shared_hash = hash_password(PASSWORD)
    at = audit.now_stamp()
    with unit_of_work(engine) as s:
        bulk_insert(s, User.__table__, [
            {"name": user_name(i), "display_name": f"Investor {i}", "roles": "investor",
             "password_hash": shared_hash, "created_at": at, "investor_id": investor_id(i),
             "failed_logins": 0}
            for i in range(n)])
        audit.record(s, "root", "user.add", f"{user_name(0)}..{user_name(n - 1)}",
                     {"roles": "investor", "count": n,
                      "note": "web benchmark: bulk insert, one shared password hash"})
    engine.dispose()
    return {"agreement_sha256": sha, "offered_fen": offered, "users_seconds": time.perf_counter() - started}


# -- the server ----------------------------------------------------------------------------------------------

def app_from_env():
    """uvicorn factory (``--factory redress.bench.web:app_from_env``): the app over the seeded database."""
    from redress.web.app import create_app

    return create_app(os.environ[ENV_URL], data_dir=Path(os.environ[ENV_DATA]), secure_cookies=False,
                      run_migrations=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_main(port: int, workers: int) -> None:
    """uvicorn over ``app_from_env``, as ``uvicorn --factory --workers N`` runs it, but with a listening
    socket made for TCP: uvicorn's own leaves ``proto`` 0, so asyncio never sets TCP_NODELAY on the
    connections it accepts and, with several workers, every keep-alive request after the first waits about
    40 ms for a delayed ACK (uvicorn issue #3149).  ``redress serve`` (one process, host and port) is not
    affected."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("redress.bench.web:app_from_env", factory=True, host="127.0.0.1", port=port,
                            workers=workers, log_level="warning", access_log=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


def start_server(url: str, work: Path, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, **{ENV_URL: url, ENV_DATA: str(work / "data")})
    log = (work / "uvicorn.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "redress.bench.web", "_serve", str(port), str(workers)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"uvicorn exited ({proc.returncode}):\n{server_log(work)}")
        try:
            probe = f"http://127.0.0.1:{port}/api/public/cases/{CASE_ID}"
            with urllib.request.urlopen(probe, timeout=5) as r:
                if r.status == 200:
                    # with several workers, give each a moment to finish starting before the load
                    time.sleep(1.0 if workers > 1 else 0)
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise SystemExit(f"uvicorn did not answer within 120 s:\n{server_log(work)}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_log(work: Path, tail: int = 4000) -> str:
    path = work / "uvicorn.log"
    return path.read_text(encoding="utf-8", errors="replace")[-tail:] if path.exists() else ""


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (zeros where there is none)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / tick, sum(fields) / tick


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children (the uvicorn workers)."""
    import psutil

    try:
        root = psutil.Process(pid)
        total = 0.0
        for p in [root, *root.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total
    except psutil.Error:
        return 0.0


# -- the load (child process) --------------------------------------------------------------------------------

def load(spec: dict) -> dict:
    """Run the opening day against ``spec['host']`` with locust; returns the measurements."""
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment
    from locust.exception import StopUser

    case = spec["case_id"]
    queue = list(range(spec["investors"] - 1, -1, -1))     # pop() from the end: investor 0 first
    state = {"stop": False, "active": 0}
    times: dict[str, list[float]] = {c: [] for c in CALLS}
    fails: dict[str, int] = {c: 0 for c in CALLS}
    reasons: dict[str, int] = {}
    accepted_200: list[str] = []
    accept_calls = [0]
    flows = {"started": 0, "completed": 0}
    window = [math.inf, 0.0]          # first request start, last request end (perf_counter)

    def on_request(request_type, name, response_time, response_length, exception=None, **_kw):
        now = time.perf_counter()
        window[0] = min(window[0], now - response_time / 1000)
        window[1] = max(window[1], now)
        times.setdefault(name, []).append(response_time)
        if exception is not None:
            fails[name] = fails.get(name, 0) + 1
            key = f"{name}: {str(exception)[:160]}"
            reasons[key] = reasons.get(key, 0) + 1

    class Investor(FastHttpUser):
        host = spec["host"]
        wait_time = constant(0)
        network_timeout = 120.0
        connection_timeout = 120.0

        def _json(self, r, want: int = 200):
            if r.status_code != want:
                r.failure(f"HTTP {r.status_code} {(r.text or '')[:120]}" if r.status_code else
                          f"no response: {r.error!r}"[:200])
                return None
            try:
                return r.json()
            except Exception as exc:  # noqa: BLE001 - any unreadable body is a failure of this call
                r.failure(f"not JSON: {exc}")
                return None

        @task
        def opening_day(self):
            if state["stop"] or not queue:
                raise StopUser()
            i = queue.pop()
            name, inv = user_name(i), investor_id(i)
            flows["started"] += 1
            state["active"] += 1
            try:
                self.client.cookiejar.clear()          # a new browser for each investor
                with self.client.post("/api/session", json={"name": name, "password": PASSWORD}, name=SIGN_IN,
                                      catch_response=True) as r:
                    me = self._json(r)
                if me is None:
                    return
                csrf = me["csrf_token"]
                with self.client.get("/api/me/claims", name=MY_CLAIMS, catch_response=True) as r:
                    mine = self._json(r)
                    if mine is not None and not any(c["case_id"] == case and c["investor_id"] == inv
                                                    for c in mine):
                        r.failure(f"{inv}'s claim is not in the list")
                        return
                if mine is None:
                    return
                with self.client.get(f"/api/cases/{case}/claims/{inv}", name=CLAIM, catch_response=True) as r:
                    claim = self._json(r)
                    if claim is not None and claim["status"] != "offered":
                        r.failure(f"{inv} is {claim['status']}, not offered")
                        return
                if claim is None:
                    return
                with self.client.get(f"/api/cases/{case}/agreement", name=AGREEMENT,
                                     catch_response=True) as r:
                    ag = self._json(r)
                if ag is None:
                    return
                body = {"decision": "accept", "agreement_version": ag["version"],
                        "agreement_sha256": ag["sha256"], "confirm": True, "key": f"web-bench-{inv}"}
                accept_calls[0] += 1
                with self.client.post(f"/api/cases/{case}/claims/{inv}/decision", json=body, name=ACCEPT,
                                      headers={"X-CSRF-Token": csrf}, catch_response=True) as r:
                    if r.status_code == 200:
                        accepted_200.append(inv)
                    done = self._json(r)
                    if done is not None and done["status"] != "accepted":
                        r.failure(f"{inv} answered 200 but is {done['status']}")
                if done is not None:
                    flows["completed"] += 1
            finally:
                state["active"] -= 1

    env = Environment(user_classes=[Investor], host=spec["host"])
    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    cpu0 = os.times()
    started = time.perf_counter()
    runner.start(spec["users"], spawn_rate=spec["spawn_rate"])
    until = started + spec["seconds"]
    while time.perf_counter() < until and queue:
        gevent.sleep(0.1)
    state["stop"] = True                      # no new investor is taken; flows under way finish
    grace = time.perf_counter() + 180
    while state["active"] and time.perf_counter() < grace:
        gevent.sleep(0.05)
    cut = state["active"]
    runner.quit()
    cpu1 = os.times()
    elapsed = time.perf_counter() - started
    return {"times": times, "fails": fails, "reasons": reasons, "accepted_200": accepted_200,
            "accept_calls": accept_calls[0], "flows": flows, "cut": cut,
            "window_s": (window[1] - window[0]) if window[1] else 0.0, "elapsed_s": elapsed,
            "locust_cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
            "locust_cpu_warning": bool(getattr(runner, "cpu_warning_emitted", False))}


def _load_main(spec_path: str, out_path: str) -> None:
    import locust  # noqa: F401 - gevent monkey-patches the standard library on import: first

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    Path(out_path).write_text(json.dumps(load(spec)), encoding="utf-8")


# -- checking the database -----------------------------------------------------------------------------------

def check(url: str, accepted_200: list[str]) -> dict:
    from sqlalchemy import func, select

    from redress.admin import fund
    from redress.admin.fund import PAYABLE
    from redress.store import audit
    from redress.store.db import make_engine, unit_of_work
    from redress.store.models import AuditEvent, Claim, Decision

    engine = make_engine(url)
    with unit_of_work(engine) as s:
        accepted = set(s.execute(select(Claim.investor_id).where(Claim.case_id == CASE_ID,
                                                                 Claim.status == "accepted")).scalars())
        decisions = s.execute(select(func.count()).select_from(Decision)
                              .join(Claim, Claim.id == Decision.claim_id)
                              .where(Claim.case_id == CASE_ID, Decision.decision == "accept")).scalar_one()
        doubled = s.execute(select(Decision.claim_id).join(Claim, Claim.id == Decision.claim_id)
                            .where(Claim.case_id == CASE_ID, Decision.decision == "accept")
                            .group_by(Decision.claim_id).having(func.count() > 1)).scalars().all()
        awarded = s.execute(select(func.coalesce(func.sum(Claim.awarded_fen), 0))
                            .where(Claim.case_id == CASE_ID)).scalar_one()
        audited = s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.case_id == CASE_ID, AuditEvent.action == "claim.accept")).scalar_one()
        payable = -fund.balances(s, CASE_ID).get(PAYABLE, 0)
        ledger_problems = fund.check_ledger(s, CASE_ID)
        v = audit.verify(s)
    engine.dispose()
    ok200 = set(accepted_200)
    return {"accepted_db": len(accepted), "accept_decisions": decisions, "accepted_200": len(accepted_200),
            "duplicate_200": len(accepted_200) - len(ok200),
            "lost": sorted(ok200 - accepted), "unreported": sorted(accepted - ok200), "doubled": len(doubled),
            "audit_ok": v.ok, "audit_events": v.events, "audit_problems": list(v.problems[:5]),
            "audit_accepts": audited, "awarded_fen": int(awarded), "payable_fen": int(payable),
            "ledger_problems": ledger_problems[:5]}


# -- one run -------------------------------------------------------------------------------------------------

def pct(xs: list[float], p: float) -> float:
    if not xs:
        return math.nan
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(p * len(s)) - 1))]


def resolve(db: str, work: Path) -> tuple[str, str, str | None, str | None]:
    """(label, url, schema to create, admin url) for --db sqlite | postgresql | a URL."""
    if db == "sqlite":
        return "SQLite", f"sqlite:///{work}/bench.sqlite3", None, None
    if db == "postgresql":
        db = DEFAULT_PG
    if db.startswith("sqlite"):
        return "SQLite", db, None, None
    if db.startswith("postgresql://"):
        db = "postgresql+psycopg://" + db[len("postgresql://"):]
    schema = "bench_web_" + uuid.uuid4().hex[:12]
    return "PostgreSQL", f"{db}?options=-csearch_path%3D{schema}", schema, db


def run(db: str, args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="redress-bench-web-"))
    label, url, schema, admin_url = resolve(db, work)
    admin = None
    if schema:
        from sqlalchemy import create_engine, text

        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        t0 = time.perf_counter()
        seeded = seed(url, args.investors, work)
        seed_s = time.perf_counter() - t0
        print(f"{label}: seeded {args.investors:,} investors in {seed_s:.1f} s "
              f"(users {seeded['users_seconds']:.1f} s)", file=sys.stderr)
        port = free_port()
        server = start_server(url, work, port, args.workers)
        try:
            spec = {"host": f"http://127.0.0.1:{port}", "case_id": CASE_ID, "investors": args.investors,
                    "users": args.users, "spawn_rate": args.spawn_rate or args.users, "seconds": args.seconds}
            (work / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
            server_cpu0, machine0 = cpu_seconds(server.pid), machine_cpu()
            child = subprocess.run([sys.executable, "-m", "redress.bench.web", "_load",
                                    str(work / "spec.json"), str(work / "load.json")], stdout=sys.stderr)
            server_cpu, machine1 = cpu_seconds(server.pid) - server_cpu0, machine_cpu()
            if child.returncode != 0 or not (work / "load.json").exists():
                raise SystemExit(f"the load process failed ({child.returncode})")
            measured = json.loads((work / "load.json").read_text(encoding="utf-8"))
        finally:
            stop_server(server)
        logged = server_log(work)
        checked = check(url, measured["accepted_200"])
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return {"label": label, "seed_s": seed_s, "server_cpu_s": server_cpu, "server_log": logged,
            "machine_busy_s": machine1[0] - machine0[0], "machine_total_s": machine1[1] - machine0[1],
            **measured, **checked}


def report(r: dict, args: argparse.Namespace) -> bool:
    """Print one run as Markdown; True if nothing failed and nothing was lost."""
    requests = sum(len(v) for v in r["times"].values())
    failures = sum(r["fails"].values())
    window = r["window_s"] or math.nan
    print(f"\n### {r['label']}: {args.investors:,} investors, {args.users} concurrent users, "
          f"{args.seconds} s, {args.workers} uvicorn worker(s)\n")
    print("| database | requests | req/s | investors accepted | accepts/s | claim view p50 / p99 (ms) | "
          "accept p50 / p99 (ms) | sign-in p50 / p99 (ms) | failures |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    claim, accept, sign = r["times"][CLAIM], r["times"][ACCEPT], r["times"][SIGN_IN]
    print(f"| {r['label']} | {requests:,} | {requests / window:,.0f} | {r['accepted_200']:,} | "
          f"{r['accepted_200'] / window:,.1f} | {pct(claim, .5):,.0f} / {pct(claim, .99):,.0f} | "
          f"{pct(accept, .5):,.0f} / {pct(accept, .99):,.0f} | "
          f"{pct(sign, .5):,.0f} / {pct(sign, .99):,.0f} | {failures:,} |")
    print("\n| call | requests | failures | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |\n"
          "|---|---:|---:|---:|---:|---:|---:|")
    for call in CALLS:
        xs = r["times"].get(call, [])
        print(f"| `{call}` | {len(xs):,} | {r['fails'].get(call, 0):,} | {pct(xs, .5):,.0f} | "
              f"{pct(xs, .9):,.0f} | {pct(xs, .99):,.0f} | {max(xs) if xs else math.nan:,.0f} |")
    lost, unreported = len(r["lost"]), len(r["unreported"])
    ledger_ok = not r["ledger_problems"] and r["payable_fen"] == r["awarded_fen"]
    print("\n| check | result |\n|---|---|")
    print(f"| accept calls made / answered 200 | {r['accept_calls']:,} / {r['accepted_200']:,} |")
    print(f"| claims accepted in the database | {r['accepted_db']:,} ({r['accept_decisions']:,} accept "
          f"decisions, {r['audit_accepts']:,} `claim.accept` audit events) |")
    print(f"| answered 200 but not accepted (lost) | {lost} |")
    print(f"| accepted without a 200 | {unreported} |")
    print(f"| claims with two acceptances | {r['doubled']} |")
    print(f"| audit chain | {'verifies' if r['audit_ok'] else 'BROKEN: ' + '; '.join(r['audit_problems'])} "
          f"({r['audit_events']:,} events) |")
    print(f"| books: compensation payable = awards | {'yes' if ledger_ok else 'NO'} "
          f"({r['payable_fen'] / 100:,.2f} / {r['awarded_fen'] / 100:,.2f} yuan) |")
    print(f"| flows started / completed / cut at the end | {r['flows']['started']:,} / "
          f"{r['flows']['completed']:,} / {r['cut']} |")
    print(f"| load window / CPU: server, locust (s) | {window:.1f} / {r['server_cpu_s']:.1f}, "
          f"{r['locust_cpu_s']:.1f}{' (locust warned of high CPU)' if r['locust_cpu_warning'] else ''} |")
    others = r["machine_busy_s"] - r["server_cpu_s"] - r["locust_cpu_s"]
    print(f"| CPU taken by other processes during the load (s) | {max(others, 0):.1f} of "
          f"{r['machine_total_s']:.1f} available ({os.cpu_count()} CPUs) |")
    for reason, n in sorted(r["reasons"].items(), key=lambda kv: -kv[1])[:10]:
        print(f"\nfailure x{n}: {reason}")
    if r["server_log"].strip():
        print(f"\nserver log (tail):\n```\n{r['server_log'][-3000:]}\n```")
    ok = (failures == 0 and lost == 0 and unreported == 0 and r["doubled"] == 0 and r["audit_ok"]
          and ledger_ok
          and r["accepted_db"] == r["accepted_200"] == r["accept_decisions"] == r["audit_accepts"]
          and r["duplicate_200"] == 0 and r["cut"] == 0)
    print(f"\n{'OK: no failed or lost acceptance' if ok else 'FAILED: see above'}")
    return ok


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_load"]:
        _load_main(argv[1], argv[2])
        return
    if argv[:1] == ["_serve"]:
        _serve_main(int(argv[1]), int(argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=2000,
                        help="investor users and claims (default 2000)")
    parser.add_argument("--seconds", type=float, default=30, help="length of the load (default 30)")
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated browsers (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=None,
                        help="browsers started per second (default: all in one second)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--db", action="append", default=None,
                        help="sqlite (a file in a temporary directory; the default), postgresql "
                             f"({DEFAULT_PG}) or a database URL; a fresh schema is made in a PostgreSQL "
                             "database and dropped afterwards.  May be given more than once.")
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements here")
    args = parser.parse_args(argv)
    ok = True
    results = []
    for db in args.db or ["sqlite"]:
        r = run(db, args)
        ok = report(r, args) and ok
        results.append({k: v for k, v in r.items() if k not in ("times", "server_log")}
                       | {"latency_ms": {c: {"n": len(r["times"][c]), "p50": pct(r["times"][c], .5),
                                              "p99": pct(r["times"][c], .99)} for c in CALLS}})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
