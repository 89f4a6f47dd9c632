"""The audit log's key file, key rotation and signed checkpoints, on SQLite and PostgreSQL: what each protects
against, and what it does not (whoever holds the key file can rewrite the log; only a checkpoint kept
elsewhere shows it)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from adversarial.audit_support import check, key_file, liquidated_case, rechain, seq_of, unprotect
from redress.cli.main import app
from redress.store import audit
from redress.store.audit_keys import AuditKeyMissing, BadKeyFile, default_path, load
from redress.store.db import downgrade, make_engine, migrate, unit_of_work
from support.admin import open_case

OFFERS = {"INV1": 100_00, "INV2": 250_37}


@pytest.fixture
def keys(tmp_path, monkeypatch):
    path = key_file(tmp_path)
    monkeypatch.setenv("REDRESS_AUDIT_KEY_FILE", str(path))
    return path


def keyed_case(db, tmp_path):
    with unit_of_work(db[1]) as s:
        audit.ensure_key(s, "root")
    return open_case(db, tmp_path, OFFERS)


def test_the_key_file_is_owner_only_and_verify_without_it_says_what_to_do(db, tmp_path, keys):
    w = keyed_case(db, tmp_path)
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert check(w.engine).ok
    keys.rename(keys.with_name("elsewhere.key"))
    with pytest.raises(AuditKeyMissing) as e:
        check(w.engine)
    assert str(keys) in str(e.value) and "REDRESS_AUDIT_KEY_FILE" in e.value.hint and "backup" in e.value.hint
    with pytest.raises(AuditKeyMissing):         # nothing can be written without it either
        w.decide(w.decision("INV1"))


def test_a_key_file_that_does_not_hold_its_keys_is_refused(db, tmp_path, keys):
    keyed_case(db, tmp_path)
    doc = json.loads(keys.read_text())
    doc["keys"][0]["secret"] = "00" * 32
    keys.write_text(json.dumps(doc))
    with pytest.raises(BadKeyFile, match="does not hold the secret"):
        load(keys)


def test_rotation_keeps_old_events_verifiable_and_retires_the_old_key(db, tmp_path, keys):
    w = keyed_case(db, tmp_path)
    with w.tx() as s:
        change = audit.rotate_key(s, "alice")
    old = load(keys).keys[0]
    assert change.previous == old.id and change.key.id != old.id and len(load(keys).keys) == 2
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    w.decide(w.decision("INV1"))
    v = check(w.engine)
    assert v.ok, v.problems
    assert v.keys == (old.id, change.key.id)
    rotated = seq_of(w.engine, "audit.key_rotated")
    # someone who kept the old key appends an event with it, after the rotation: refused
    unprotect(w.engine, "audit_event")
    with w.engine.begin() as conn:
        n, prev = conn.execute(text("SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1")).one()
        at, detail = "2023-03-01T00:00:00.000000+00:00", "{}"
        h = audit.event_mac(old, n + 1, at, "mallory", None, "user.add", "mallory", detail, prev)
        conn.execute(text("INSERT INTO audit_event (seq, at, actor, case_id, action, subject, detail, prev_hash, hash, "
                          "key_id) VALUES (:q, :at, 'mallory', NULL, 'user.add', 'mallory', :d, :p, :h, :k)"),
                     {"q": n + 1, "at": at, "d": detail, "p": prev, "h": h, "k": old.id})
        conn.execute(text("UPDATE audit_head SET seq = :q, hash = :h, key_id = :k, mac = :m"),
                     {"q": n + 1, "h": h, "k": old.id, "m": audit.head_mac(old, n + 1, h)})
    v = check(w.engine)
    assert v.problems == (f"event {n + 1} (user.add mallory) is keyed with {old.id}, but the log was being written "
                          f"with {change.key.id} (keys change only by `redress audit rotate-key`)",), v.problems
    assert rotated < n + 1


def test_the_head_cannot_be_wound_back_without_the_key(db, tmp_path, keys):
    """The newest events deleted and the head set back to the event before them."""
    w = keyed_case(db, tmp_path)
    unprotect(w.engine, "audit_event")
    with w.engine.begin() as conn:
        n = conn.execute(text("SELECT max(seq) FROM audit_event")).scalar_one()
        prev = conn.execute(text("SELECT hash FROM audit_event WHERE seq = :q"), {"q": n - 2}).scalar_one()
        conn.execute(text("DELETE FROM audit_event WHERE seq > :q"), {"q": n - 2})
        conn.execute(text("UPDATE audit_head SET seq = :q, hash = :h"), {"q": n - 2, "h": prev})
    v = check(w.engine)
    assert "the head does not match its MAC (wound back to an earlier event, or altered)" in v.problems, v.problems


def _checkpoint(w, tmp_path, name: str = "cp.json"):
    with w.tx() as s:
        doc = audit.make_checkpoint(s, "alice")
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    return doc, path


def test_a_checkpoint_is_signed_and_the_log_must_keep_extending_it(db, tmp_path, keys):
    w = liquidated_case(db, tmp_path)
    doc, path = _checkpoint(w, tmp_path)
    body = doc["checkpoint"]
    figures = body["cases"]["legal-a"]
    assert "trust_cash" not in figures["balances_fen"]                 # liquidated: nothing left
    assert figures["balances_fen"]["surplus_returned:sponsor"] > figures["balances_fen"]["surplus_returned:auditor"]
    assert figures["claims_by_status"] == {"accepted": 2, "declined": 1, "lapsed": 1}
    assert doc["signature"]["algorithm"] == "ed25519"
    with w.tx() as s:
        audit.record(s, "alice", "note", "later work")        # the log goes on after the checkpoint
    v = check(w.engine, checkpoints=(audit.read_checkpoint(path),))
    assert v.ok, v.problems
    assert v.checkpoints and v.checkpoints[0].startswith(f"cp.json: event {body['head']['seq']} of ")


def test_an_altered_checkpoint_file_is_caught(db, tmp_path, keys):
    w = keyed_case(db, tmp_path)
    doc, path = _checkpoint(w, tmp_path)
    doc["checkpoint"]["cases"]["legal-a"]["balances_fen"]["trust_cash"] += 1
    path.write_text(json.dumps(doc), encoding="utf-8")
    v = check(w.engine, checkpoints=(audit.read_checkpoint(path),))
    assert v.problems[0] == "checkpoint cp.json: its signature does not hold (the file was altered)", v.problems


def test_a_rewrite_by_whoever_holds_the_key_passes_the_chain_but_not_the_checkpoint(db, tmp_path, keys):
    """The key holder deletes an early event and rehashes everything after it, with the key: the chain, the
    head and the books all agree again.  Only the checkpoint kept elsewhere shows it."""
    w = liquidated_case(db, tmp_path)
    _doc, path = _checkpoint(w, tmp_path)
    k = seq_of(w.engine, "user.add", "carol")
    unprotect(w.engine, "audit_event")
    rechain(w.engine, k, load(keys).newest, drop=k)
    assert check(w.engine).ok
    v = check(w.engine, checkpoints=(audit.read_checkpoint(path),))
    seq = json.loads(path.read_text())["checkpoint"]["head"]["seq"]
    assert v.problems == (f"checkpoint cp.json: event {seq} no longer has the hash the checkpoint recorded: the "
                          f"history up to it was rewritten",), v.problems


def test_a_log_cut_short_of_a_checkpoint_is_caught(db, tmp_path, keys):
    w = keyed_case(db, tmp_path)
    _doc, path = _checkpoint(w, tmp_path)
    seq = audit.read_checkpoint(path).seq
    unprotect(w.engine, "audit_event")
    rechain(w.engine, seq - 1, load(keys).newest, drop=seq - 1)     # even by the key holder
    v = check(w.engine, checkpoints=(audit.read_checkpoint(path),))
    assert f"checkpoint cp.json: event {seq} no longer has the hash the checkpoint recorded: the history up to it " \
           f"was rewritten" in v.problems, v.problems
    with w.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event WHERE seq >= :q"), {"q": seq - 1})
    v = check(w.engine, checkpoints=(audit.read_checkpoint(path),))
    assert f"checkpoint cp.json: event {seq} is gone from the audit log (truncated?)" in v.problems, v.problems


def test_a_log_written_before_keys_is_keyed_by_rotation_and_keeps_verifying(db, tmp_path, keys):
    w = open_case(db, tmp_path, OFFERS)                      # no key file: the log is not keyed
    v = check(w.engine)
    assert v.ok and v.keyed_from is None and any("not keyed" in n for n in v.notes)
    assert not keys.exists()
    before = v.events
    with w.tx() as s:
        change = audit.rotate_key(s, "alice")
    assert change.adopted and keys.exists()
    w.decide(w.decision("INV1"))
    v = check(w.engine)
    assert v.ok, v.problems
    assert v.keyed_from == before + 1 and v.events == before + 3     # adoption, the acceptance, its award
    assert f"events 1..{v.keyed_from - 1} were written before the log was keyed (plain SHA-256)" in v.notes


def test_events_from_before_the_migration_still_verify(db, tmp_path, keys):
    engine = make_engine(db[0])
    downgrade(engine, "0007")
    prev = audit.GENESIS
    with engine.begin() as conn:
        for seq in (1, 2):
            at, detail = f"2026-01-0{seq}T00:00:00.000000+00:00", json.dumps({"n": seq})
            h = audit.event_hash(seq, at, "root", None, "user.add", f"u{seq}", detail, prev)
            conn.execute(text("INSERT INTO audit_event (seq, at, actor, case_id, action, subject, detail, prev_hash, "
                              "hash) VALUES (:q, :at, 'root', NULL, 'user.add', :s, :d, :p, :h)"),
                         {"q": seq, "at": at, "s": f"u{seq}", "d": detail, "p": prev, "h": h})
            prev = h
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, :h)"), {"h": prev})
    migrate(engine)
    v = check(engine)
    assert v.ok and v.events == 2 and v.keyed_from is None
    with unit_of_work(engine) as s:
        audit.ensure_key(s, "root")
        audit.record(s, "root", "user.add", "u3")
    v = check(engine)
    assert v.ok and v.keyed_from == 3 and v.events == 4
    engine.dispose()


def test_default_key_files():
    assert str(default_path("sqlite:///data/redress.sqlite3")) == "data/redress.sqlite3.audit-key"
    assert default_path("sqlite://") is None and default_path("sqlite:///:memory:") is None
    assert str(default_path("postgresql+psycopg://u@db.example:5432/redress")) == \
        "redress-data/audit-keys/db.example-5432-redress.key"
    assert str(default_path("postgresql+psycopg://u@h/redress?options=-csearch_path%3Dcase_7")) == \
        "redress-data/audit-keys/h-redress-case_7.key"


# -- the command line ----------------------------------------------------------------------------------------

runner = CliRunner()


def _cli(env: dict, *args: str, code: int = 0) -> str:
    res = runner.invoke(app, list(args), env=env)
    assert res.exit_code == code, f"redress {' '.join(args)} -> {res.exit_code}\n{res.output}"
    return res.output


def test_the_audit_commands(db, tmp_path, keys):
    url, _engine = db
    env = {"REDRESS_DATABASE_URL": url, "REDRESS_USER": "root", "COLUMNS": "200"}
    assert "Audit key k" in _cli(env, "db", "init", "--admin", "root")
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    _cli(env, "case", "create", "c1", "--name", "One")
    assert "Audit log intact" in _cli(env, "audit", "verify") and "keyed with k" in _cli(env, "audit", "verify")
    cp = tmp_path / "regulator" / "cp-1.json"
    said = _cli(env, "audit", "checkpoint", "--out", str(cp))
    assert "Checkpoint at event 3" in " ".join(said.split()) and cp.exists()
    assert "Audit key rotated" in _cli(env, "audit", "rotate-key")
    out = " ".join(_cli(env, "audit", "verify", "--checkpoint", str(cp)).split())
    assert "Checkpoint cp-1.json: event 3 of " in out and "/ 与检查点一致" in out
    moved = keys.rename(tmp_path / "backup.key")
    out = " ".join(_cli(env, "audit", "verify", code=2).split())
    assert "key file" in out and "is missing" in out and "REDRESS_AUDIT_KEY_FILE" in out
    out = " ".join(_cli(env, "audit", "verify", "--key-file", str(moved)).split())
    assert "Audit log intact" in out
