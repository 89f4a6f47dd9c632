"""The books, the decision history and the audit log can only grow, on SQLite and PostgreSQL alike, and the
audit chain shows any tampering done behind the database's back."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from redress.admin import cases, fund
from redress.store import audit
from redress.store.db import unit_of_work
from redress.store.models import AuditEvent, AuditHead
from support.admin import fen_text, open_case, users

START = dt.date(2023, 1, 5)

# table -> an UPDATE that would rewrite history in it
REWRITES = {
    "ledger_entry": "UPDATE ledger_entry SET memo = 'nothing happened'",
    "ledger_posting": "UPDATE ledger_posting SET amount_fen = amount_fen * 2",
    "audit_event": "UPDATE audit_event SET detail = '{}'",
    "decision": "UPDATE decision SET channel = 'forged'",
    "case_transition": "UPDATE case_transition SET reason = 'forged'",
    "balance_check": "UPDATE balance_check SET expected_fen = 0",
}
TABLES = list(REWRITES)
LEDGER_AND_AUDIT = ["ledger_entry", "ledger_posting", "audit_event"]


@pytest.fixture
def world(db, tmp_path):
    """A case in claims_open, a decision taken, a bank statement checked: every append-only table has rows."""
    w = open_case(db, tmp_path, {"INV1": 100_00, "INV2": 250_37})
    w.decide(w.decision("INV1"))
    stmt = tmp_path / "stmt.csv"
    cash = (100_00 + 250_37) * 2          # open_case's sponsor pays in twice the offers
    stmt.write_text(f"date,balance\n{START.isoformat()},{fen_text(cash)}\n", encoding="utf-8")
    with w.tx() as s:
        assert fund.import_bank_statement(s, "alice", w.case_id, stmt)
    return w


def dump(engine: Engine, table: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


def refused_by_database(engine: Engine, sql: str, match: str = "append-only") -> None:
    with pytest.raises(DBAPIError, match=match):
        with engine.begin() as conn:
            conn.execute(text(sql))


def new_case(engine: Engine, case_id: str = "c-audit") -> str:
    with unit_of_work(engine) as s:
        cases.create_case(s, "alice", case_id, "Audit case")
        cases.add_payer(s, "alice", case_id, "sponsor", "Sponsor", "sponsor", 0)
    return case_id


def _raw_entry(engine: Engine, case_id: str, key: str, amounts: list[int]) -> None:
    accounts = ["trust_cash", "contribution:sponsor", "interest", "fees"]
    with engine.begin() as conn:
        entry_id = conn.execute(
            text("INSERT INTO ledger_entry (case_id, key, booked_on, kind, memo, reverses, actor, at) "
                 "VALUES (:c, :k, :d, 'contribution', 'raw insert', NULL, 'alice', :at) RETURNING id"),
            {"c": case_id, "k": key, "d": START, "at": "2023-01-05T00:00:00+00:00"}).scalar_one()
        for i, a in enumerate(amounts):
            conn.execute(text("INSERT INTO ledger_posting (entry_id, account, amount_fen) "
                              "VALUES (:e, :a, :f)"), {"e": entry_id, "a": accounts[i], "f": a})


@pytest.fixture
def filled(db):
    """A cheaper world: users, a case with a payer, contributions, the fund established (a transition)."""
    _url, engine = db
    users(engine)
    cid = new_case(engine)
    with unit_of_work(engine) as s:
        for i in range(4):
            fund.contribute(s, "alice", cid, "sponsor", 100_00 + i, START, f"BANK-{i}")
        fund.establish(s, "alice", cid)
    return engine, cid


def test_update_and_delete_are_refused_by_the_database(world):
    engine = world.engine
    for table in TABLES:
        before = dump(engine, table)
        assert before, f"{table} has no rows: the test would prove nothing"
        refused_by_database(engine, REWRITES[table])
        refused_by_database(engine, f"DELETE FROM {table}")
        # one row at a time too (the newest one: the easiest to "just drop")
        key = "seq" if table == "audit_event" else "id"
        refused_by_database(engine, f"DELETE FROM {table} WHERE {key} = (SELECT max({key}) FROM {table})")
        assert dump(engine, table) == before, table
        # the refusal says what was refused, and where
        with pytest.raises(DBAPIError) as info:
            with engine.begin() as conn:
                conn.execute(text(f"DELETE FROM {table}"))
        assert "DELETE" in str(info.value) and table in str(info.value)


def test_append_only_is_not_read_only(filled):
    """Inserting still works (a balanced raw entry commits) and the services keep booking."""
    engine, cid = filled
    n = len(dump(engine, "ledger_entry"))
    _raw_entry(engine, cid, "raw:balanced", [100, -100])
    with unit_of_work(engine) as s:
        fund.contribute(s, "alice", cid, "sponsor", 5_00, START, "AFTER")
    assert len(dump(engine, "ledger_entry")) == n + 2


# -- PostgreSQL only: TRUNCATE, and entries that do not balance ----------------------------------------------

def test_postgresql_refuses_truncate(pg):
    _url, engine = pg
    users(engine)
    cid = new_case(engine)
    with unit_of_work(engine) as s:
        fund.contribute(s, "alice", cid, "sponsor", 100_00, START, "BANK-1")
        fund.establish(s, "alice", cid)
    for table in LEDGER_AND_AUDIT + ["case_transition"]:
        before = dump(engine, table)
        assert before, table
        if table != "ledger_entry":    # ledger_entry is referenced by postings: plain TRUNCATE needs CASCADE
            refused_by_database(engine, f"TRUNCATE {table}")
        refused_by_database(engine, f"TRUNCATE {table} CASCADE")
        assert dump(engine, table) == before, table


def test_postgresql_refuses_an_unbalanced_entry_at_commit(pg):
    _url, engine = pg
    users(engine)
    cid = new_case(engine)
    with unit_of_work(engine) as s:
        fund.contribute(s, "alice", cid, "sponsor", 100_00, START, "BANK-1")
    entries_before, postings_before = dump(engine, "ledger_entry"), dump(engine, "ledger_posting")
    for amounts in ([100], [100, -99], [100, -50, -49], [-1, 2]):
        with pytest.raises(DBAPIError, match="does not balance"):
            _raw_entry(engine, cid, "raw:unbalanced", amounts)
        assert dump(engine, "ledger_entry") == entries_before, amounts
        assert dump(engine, "ledger_posting") == postings_before, amounts
    # the same entry balanced goes in
    _raw_entry(engine, cid, "raw:unbalanced", [100, -100])
    assert len(dump(engine, "ledger_entry")) == len(entries_before) + 1
    # and a posting added later to a balanced entry is refused too
    with engine.connect() as conn:
        entry_id = conn.execute(text("SELECT min(id) FROM ledger_entry")).scalar_one()
    before = dump(engine, "ledger_posting")
    with pytest.raises(DBAPIError, match="does not balance"):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO ledger_posting (entry_id, account, amount_fen) "
                              "VALUES (:e, 'trust_cash', 1)"), {"e": entry_id})
    assert dump(engine, "ledger_posting") == before
    with unit_of_work(engine) as s:
        assert fund.check_ledger(s, cid) == []


# -- the audit chain -----------------------------------------------------------------------------------------

def unprotect_audit_log(engine: Engine) -> None:
    """What an attacker with the database owner's rights would do first."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))


@pytest.fixture
def logged(filled):
    """A database with a short history; returns (engine, number of events)."""
    engine, _cid = filled
    with unit_of_work(engine) as s:
        n = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        v = audit.verify(s)
    assert v.ok and v.events == v.head_seq == n >= 10
    return engine, n


def _verify(engine: Engine) -> audit.Verification:
    with unit_of_work(engine) as s:
        return audit.verify(s)


def test_the_audit_chain_of_a_whole_lifecycle_verifies(world):
    v = _verify(world.engine)
    assert v.ok, v.problems
    with unit_of_work(world.engine) as s:
        head = s.get(AuditHead, 1)
        newest = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        seqs = s.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars().all()
    assert (head.seq, head.hash) == (newest.seq, newest.hash) == (v.head_seq, newest.hash)
    assert seqs == list(range(1, len(seqs) + 1)) and v.events == len(seqs)


def test_an_edited_event_is_named_by_its_seq(logged):
    engine, n = logged
    k = n // 2
    unprotect_audit_log(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE seq = :k"), {"k": k})
    v = _verify(engine)
    assert not v.ok
    assert len(v.problems) == 1, v.problems
    assert v.problems[0].startswith(f"event {k} (") and "edited" in v.problems[0]


def test_an_edited_detail_with_its_hash_recomputed_breaks_the_next_link(logged):
    engine, n = logged
    unprotect_audit_log(engine)
    with unit_of_work(engine) as s:
        ev = s.execute(select(AuditEvent).where(AuditEvent.action == "ledger.contribution")
                       .order_by(AuditEvent.seq)).scalars().first()
        k = ev.seq
        detail = json.loads(ev.detail)
        detail["postings"] = [[a, f // 100] for a, f in detail["postings"]]     # 100.00 yuan becomes 1.00
        forged = audit.canonical(detail)
        digest = audit.event_hash(ev.seq, ev.at, ev.actor, ev.case_id, ev.action, ev.subject, forged,
                                  ev.prev_hash)
    assert k < n
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET detail = :d, hash = :h WHERE seq = :k"),
                     {"d": forged, "h": digest, "k": k})
    v = _verify(engine)
    assert not v.ok
    assert v.problems[0] == f"event {k + 1}: link to the previous event is broken", v.problems
    # and the books no longer agree with the forged event
    assert len(v.problems) == 2 and v.problems[1].startswith("ledger entry 1 (") and \
        f"differs from audit event {k}: " in v.problems[1] and \
        "posting to trust_cash is 100.00 in the books but 1.00 in the log" in v.problems[1], v.problems


@pytest.mark.parametrize("where", ["middle", "first"])
def test_a_deleted_event_is_missed(logged, where):
    engine, n = logged
    k = n // 2 if where == "middle" else 1
    unprotect_audit_log(engine)
    with engine.begin() as conn:
        assert conn.execute(text("DELETE FROM audit_event WHERE seq = :k"), {"k": k}).rowcount == 1
    v = _verify(engine)
    assert not v.ok
    assert any(p.startswith(f"event {k} missing") for p in v.problems), v.problems
    assert f"event {k + 1}: link to the previous event is broken" in v.problems
    assert v.events == n - 1


def test_deleted_events_in_a_row_are_named_as_a_range(logged):
    engine, n = logged
    unprotect_audit_log(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq IN (3, 4, 5)"))
    v = _verify(engine)
    assert any(p.startswith("event 3..5 missing") for p in v.problems), v.problems


def test_a_deleted_newest_event_no_longer_matches_the_head(logged):
    engine, n = logged
    unprotect_audit_log(engine)
    with engine.begin() as conn:
        assert conn.execute(text("DELETE FROM audit_event WHERE seq = :n"), {"n": n}).rowcount == 1
    v = _verify(engine)
    assert not v.ok
    assert len(v.problems) == 1, v.problems
    assert f"the newest event is {n - 1} but the head records {n}" in v.problems[0]
    assert (v.events, v.head_seq) == (n - 1, n)


def test_writing_after_tampering_does_not_launder_the_chain(logged):
    """New events chain onto the head, so an edit made earlier is still found after more work is done."""
    engine, n = logged
    unprotect_audit_log(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET subject = 'forged' WHERE seq = 2"))
    cid = new_case(engine, "c-later")
    with unit_of_work(engine) as s:
        fund.contribute(s, "alice", cid, "sponsor", 1_00, START, "LATER")
    v = _verify(engine)
    assert [p.split(" (")[0] for p in v.problems] == ["event 2"]
    assert v.head_seq > n
