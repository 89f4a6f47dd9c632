"""Building a paid-out case on a keyed audit log, and what an attacker with the database owner's rights does to
it: switch the append-only triggers off, edit rows, then renumber and rehash the audit chain."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, text

from redress.admin import claims, fund, payments
from redress.store import audit
from redress.store.audit_keys import AuditKey
from redress.store.db import unit_of_work
from support.admin import World, open_case

D = dt.date
OFFERS = {"INV1": 1_000_00, "INV2": 2_500_37, "INV3": 800_00, "INV4": 50_00}
CONTRIBUTIONS = {"auditor": 200_000_00, "sponsor": 300_000_00}
TEN_THOUSAND_YUAN = 10_000_00
HUNDRED_THOUSAND_YUAN = 100_000_00


def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "audit.key"


def liquidated_case(db: tuple[str, Engine], root: Path) -> World:
    """A case on a log keyed from its first event, taken to liquidation: INV1 accepts and INV3 declines one
    by one, INV2 accepts in a channel's file, INV4 never answers; INV2's first payment comes back and is paid
    again; interest is passed on; the surplus goes back to two payers (3:2)."""
    _url, engine = db
    with unit_of_work(engine) as s:
        audit.ensure_key(s, "root")
    w = open_case(db, root, OFFERS, contributions=CONTRIBUTIONS)
    w.decide(w.decision("INV1"), w.decision("INV3", "decline"))
    decisions = root / "decisions-counter.csv"
    decisions.write_text("investor_id,decision,decided_on,channel,key,agreement_version,agreement_sha256\n"
                         f"INV2,accept,2023-02-11,counter,C-0001,v1,{w.agreement_sha}\n", encoding="utf-8")
    with w.tx() as s:
        claims.import_decisions(s, "alice", w.case_id, decisions)
        fund.interest(s, "alice", w.case_id, 1_01, D(2023, 2, 20), "INT-1")
    rows = w.export(w.pay_batch(D(2023, 2, 15)))
    first = w.results_file("r1.csv", [(r[0], "returned" if r[3] == "INV2" else "paid", r[4], "2023-02-17",
                                       "account closed" if r[3] == "INV2" else "") for r in rows])
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, first)
    with w.tx() as s:
        claims.close_claims(s, "alice", w.case_id, D(2023, 3, 2))
        claims.distribute_interest(s, "alice", w.case_id, D(2023, 3, 3))
    rows = w.export(w.pay_batch(D(2023, 3, 4)))
    second = w.results_file("r2.csv", [(r[0], "paid", r[4], "2023-03-06", "") for r in rows])
    with w.tx() as s:
        payments.import_results(s, "alice", w.case_id, second)
        payments.complete_payments(s, "alice", w.case_id)
        ap_id = payments.propose_surplus_return(s, "alice", w.case_id, D(2023, 3, 10)).id
    w.approve(ap_id)
    return w


def unprotect(engine: Engine, *tables: str) -> None:
    """Switch off the triggers that keep ``tables`` append-only, as the database's owner can."""
    with engine.begin() as conn:
        for table in tables:
            if engine.dialect.name == "postgresql":
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                for verb in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))


def posting_ids(engine: Engine, case_id: str, key: str) -> dict[str, int]:
    """The postings of one ledger entry: account -> posting id."""
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT p.account, p.id FROM ledger_posting p JOIN ledger_entry e ON e.id = p.entry_id "
            "WHERE e.case_id = :c AND e.key = :k"), {"c": case_id, "k": key}).all())


def shift(engine: Engine, posting_id: int, fen: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger_posting SET amount_fen = amount_fen + :f WHERE id = :i"),
                     {"f": fen, "i": posting_id})


def seq_of(engine: Engine, action: str, subject: str | None = None) -> int:
    sql = "SELECT min(seq) FROM audit_event WHERE action = :a" + (" AND subject = :s" if subject else "")
    with engine.connect() as conn:
        return conn.execute(text(sql), {"a": action, "s": subject}).scalar_one()


def rechain(engine: Engine, start: int, key: AuditKey | None = None, *, drop: int | None = None,
            edit: dict[int, str] | None = None) -> None:
    """Rewrite the chain from event ``start`` on, as an attacker would after changing history: without ``key``
    (nobody outside the key file has it) every rewritten event gets a plain SHA-256 hash and no key; with it,
    fresh HMACs and a fresh head MAC.  ``drop`` deletes that event (the rest are renumbered); ``edit`` gives
    some events a new detail."""
    edit = edit or {}
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT seq, at, actor, case_id, action, subject, detail FROM audit_event "
                                 "WHERE seq >= :s ORDER BY seq"), {"s": start}).all()
        prev = conn.execute(text("SELECT hash FROM audit_event WHERE seq = :p"), {"p": start - 1}).scalar() \
            or audit.GENESIS
        conn.execute(text("DELETE FROM audit_event WHERE seq >= :s"), {"s": start})
        seq = start
        for old_seq, at, actor, case_id, action, subject, detail in rows:
            if old_seq == drop:
                continue
            detail = edit.get(old_seq, detail)
            digest = (audit.event_mac(key, seq, at, actor, case_id, action, subject, detail, prev) if key else
                      audit.event_hash(seq, at, actor, case_id, action, subject, detail, prev))
            conn.execute(text("INSERT INTO audit_event (seq, at, actor, case_id, action, subject, detail, prev_hash, "
                              "hash, key_id) VALUES (:q, :at, :ac, :c, :a, :s, :d, :p, :h, :k)"),
                         {"q": seq, "at": at, "ac": actor, "c": case_id, "a": action, "s": subject, "d": detail,
                          "p": prev, "h": digest, "k": key.id if key else None})
            prev, seq = digest, seq + 1
        conn.execute(text("UPDATE audit_head SET seq = :q, hash = :h, key_id = :k, mac = :m WHERE id = 1"),
                     {"q": seq - 1, "h": prev, "k": key.id if key else None,
                      "m": audit.head_mac(key, seq - 1, prev) if key else None})


def check(engine: Engine, **kw) -> audit.Verification:
    with unit_of_work(engine) as s:
        return audit.verify(s, **kw)
