"""The tamper-evident audit log: a keyed hash chain over every state change, held against the books.

Each event's hash is an HMAC-SHA256, under a key kept in a key file outside the database
(:mod:`redress.store.audit_keys`), over its canonical content and the previous event's hash; the event names
its key (``key_id``).  Events written before the log was keyed have no key id and a plain SHA-256 hash.
The single-row ``audit_head`` holds the newest seq and hash, the key the next event is written with, and an
HMAC of itself.  Every writer locks the head (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions
are already serial), so events form one unbroken chain.

``verify`` replays the chain: an edited row breaks its own hash (and, without the key, no new hash can be
made for it), a deleted row breaks the sequence and the next row's link, a deleted newest row no longer
matches the head, and an unkeyed event after keyed ones is a forgery.  It then replays the ledger and the
claims from the events (:mod:`redress.store.audit_replay`) and names the first rows of the tables that
differ, and checks that the chain still extends any signed checkpoints it is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import URL, func, select
from sqlalchemy.orm import Session

from redress.errors import AdminError, BadInput
from redress.money import yuan
from redress.store.audit_keys import (KEY_FILE_ENV, AuditKey, AuditKeyMissing, Keyring, add_key, fingerprint,
                                      key_file, load, signature_holds)
from redress.store.audit_replay import ClaimsReplay, LedgerRecord, LedgerReplay, claim_figures
from redress.store.models import AuditEvent, AuditHead, Case, Claim, LedgerEntry, LedgerPosting

GENESIS = "0" * 64
CHECKPOINT_FORMAT = "redress-audit-checkpoint/1"
_KEYRING = "redress.audit.keyring"      # session.info: {explicit path: keyring}, read once per unit of work
REPLAYED = ("case.transition", "claims.opened", "claims.decided", "claims.allocated", "claims.interest",
            "payments.results_imported", "fund.short")


def now_stamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def canonical(detail: Any) -> str:
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(seq: int, at: str, actor: str, case_id: str | None, action: str, subject: str, detail: str,
               prev_hash: str) -> str:
    """The hash of an unkeyed event (written before the log was keyed): plain SHA-256."""
    body = canonical([seq, at, actor, case_id, action, subject, detail, prev_hash])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def event_mac(key: AuditKey, seq: int, at: str, actor: str, case_id: str | None, action: str, subject: str,
              detail: str, prev_hash: str) -> str:
    """The hash of a keyed event: HMAC-SHA256 under ``key`` over its content, its link and the key's id."""
    return key.mac(canonical([seq, at, actor, case_id, action, subject, detail, prev_hash, key.id]).encode("utf-8"))


def head_mac(key: AuditKey, seq: int, hash_: str) -> str:
    return key.mac(canonical(["head", seq, hash_, key.id]).encode("utf-8"))


# -- keys ----------------------------------------------------------------------------------------------------

def _url(session: Session) -> URL:
    return session.get_bind().engine.url      # an Engine's .engine is itself; a Connection's, its engine


def keyring_for(session: Session, explicit: str | Path | None = None) -> Keyring | None:
    """The key file of the session's database (see :func:`redress.store.audit_keys.key_file`), read once per
    unit of work; None when there is none."""
    cache = session.info.setdefault(_KEYRING, {})
    if explicit in cache:
        return cache[explicit]
    ring = cache[explicit] = load(key_file(_url(session), explicit))
    return ring


def _missing(session: Session, key_id: str, ring: Keyring | None, explicit: str | Path | None = None
             ) -> AuditKeyMissing:
    path = ring.path if ring else key_file(_url(session), explicit)
    where = f"the key file {path}" if path else "no key file (an in-memory database has no default place)"
    what = (f"{where} does not hold key {key_id}" if ring else
            f"there is {where}" if path is None else f"{where} is missing")
    return AuditKeyMissing(
        f"the audit log is keyed with {key_id} but {what}; it can be neither verified nor written / 审计密钥缺失",
        hint=f"restore the key file from its backup to {path or 'a file'}, or point {KEY_FILE_ENV} (or --key-file) "
             f"at it / 请从备份恢复审计密钥文件，或用 {KEY_FILE_ENV} 指明其位置")


def lock_head(session: Session) -> AuditHead:
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def _append(session: Session, head: AuditHead, key: AuditKey | None, then: AuditKey | None, actor: str,
            action: str, subject: str, detail: Any, case_id: str | None) -> AuditEvent:
    """Write one event with ``key`` and leave the head to be continued with ``then``."""
    seq = head.seq + 1
    at = now_stamp()
    text = canonical(detail if detail is not None else {})
    digest = (event_mac(key, seq, at, actor, case_id, action, subject, text, head.hash) if key else
              event_hash(seq, at, actor, case_id, action, subject, text, head.hash))
    ev = AuditEvent(seq=seq, at=at, actor=actor, case_id=case_id, action=action, subject=subject, detail=text,
                    prev_hash=head.hash, hash=digest, key_id=key.id if key else None)
    session.add(ev)
    head.seq, head.hash = seq, digest
    head.key_id = then.id if then else None
    head.mac = head_mac(then, seq, digest) if then else None
    session.flush()
    return ev


def record(session: Session, actor: str, action: str, subject: str, detail: Any = None,
           case_id: str | None = None) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction: one locked read of the head, one HMAC, one
    insert.  Refused when the log is keyed and its key cannot be found."""
    head = lock_head(session)
    key = None
    if head.key_id is not None:
        ring = keyring_for(session)
        key = ring.get(head.key_id) if ring else None
        if key is None:
            raise _missing(session, head.key_id, ring)
    return _append(session, head, key, key, actor, action, subject, detail, case_id)


def _adopt(session: Session, head: AuditHead, key: AuditKey, actor: str) -> AuditEvent:
    return _append(session, head, key, key, actor, "audit.key_adopted", key.id,
                   {"key_id": key.id, "public_key": key.public_key, "unkeyed_events": head.seq}, None)


@dataclass(frozen=True)
class KeyChange:
    path: Path
    key: AuditKey            # the key the log is now written with
    created: bool            # the key was made just now
    previous: str | None     # the key it replaced (rotation)
    adopted: bool            # the log was not keyed before


def ensure_key(session: Session, actor: str, key_path: str | Path | None = None) -> KeyChange:
    """Make sure the log is keyed: create the key file (owner-only) if there is none, and if the log is not
    keyed yet, key it with the file's newest key (an ``audit.key_adopted`` event, the first keyed one)."""
    head = lock_head(session)
    path = key_file(_url(session), key_path)
    if path is None:
        raise AdminError(f"an in-memory database has no place for an audit key file; set {KEY_FILE_ENV}")
    ring, created = load(path), False
    if ring is None:
        ring, _ = add_key(path)
        created = True
    session.info[_KEYRING] = {key_path: ring}
    if head.key_id is None:
        _adopt(session, head, ring.newest, actor)
        return KeyChange(path, ring.newest, created, None, True)
    key = ring.get(head.key_id)
    if key is None:
        raise _missing(session, head.key_id, ring, key_path)
    return KeyChange(path, key, created, None, False)


def rotate_key(session: Session, actor: str, key_path: str | Path | None = None) -> KeyChange:
    """Add a new key to the key file (old ones stay) and write from now on with it.  The rotation is an
    ``audit.key_rotated`` event written with the old key, so the new key's events chain onto the old key's;
    a log that was not keyed is keyed instead."""
    head = lock_head(session)
    path = key_file(_url(session), key_path)
    if path is None:
        raise AdminError(f"an in-memory database has no place for an audit key file; set {KEY_FILE_ENV}")
    ring = load(path)
    old = None
    if head.key_id is not None:
        old = ring.get(head.key_id) if ring else None
        if old is None:
            raise _missing(session, head.key_id, ring, key_path)
    ring, new = add_key(path)
    session.info[_KEYRING] = {key_path: ring}
    if old is None:
        _adopt(session, head, new, actor)
        return KeyChange(path, new, True, None, True)
    _append(session, head, old, new, actor, "audit.key_rotated", new.id,
            {"from": old.id, "to": new.id, "public_key": new.public_key}, None)
    return KeyChange(path, new, True, old.id, False)


# -- checkpoints ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint as read from its file."""

    source: str
    body: dict
    signature: dict

    @property
    def seq(self) -> int:
        return int(self.body["head"]["seq"])

    @property
    def hash(self) -> str:
        return str(self.body["head"]["hash"])

    @property
    def key_id(self) -> str:
        return str(self.signature.get("key_id"))

    @property
    def public_key(self) -> str:
        return str(self.signature.get("public_key"))

    @property
    def signed(self) -> bool:
        """The signature holds for the body under the public key the file names."""
        return signature_holds(self.public_key, str(self.signature.get("value")),
                               canonical(self.body).encode("utf-8"))


def read_checkpoint(path: Path) -> Checkpoint:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        body, sig = doc["checkpoint"], doc["signature"]
        if body.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"format is {body.get('format')!r}")
        if not isinstance(body["cases"], dict) or not isinstance(sig, dict) or int(body["head"]["seq"]) < 1:
            raise ValueError("no head, cases or signature")
        cp = Checkpoint(path.name, body, sig)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"{path}: not a Redress audit checkpoint ({exc}) / 不是审计检查点文件") from None
    return cp


def table_figures(session: Session) -> dict[str, dict]:
    """Per case, what the tables hold now: entries, postings and balances; claims by status and their sums."""
    out = {c: {"entries": 0, "postings": 0, "balances_fen": {}, **claim_figures(())}
           for c in session.execute(select(Case.id).order_by(Case.id)).scalars()}
    for case_id, n in session.execute(select(LedgerEntry.case_id, func.count()).group_by(LedgerEntry.case_id)):
        out[case_id]["entries"] = int(n)
    for case_id, account, n, total in session.execute(
            select(LedgerEntry.case_id, LedgerPosting.account, func.count(), func.sum(LedgerPosting.amount_fen))
            .join(LedgerEntry).group_by(LedgerEntry.case_id, LedgerPosting.account)
            .order_by(LedgerEntry.case_id, LedgerPosting.account)):
        out[case_id]["postings"] += int(n)
        if int(total):
            out[case_id]["balances_fen"][account] = int(total)
    for case_id, status, n, *sums in session.execute(
            select(Claim.case_id, Claim.status, func.count(), func.sum(Claim.offered_fen), func.sum(Claim.awarded_fen),
                   func.sum(Claim.interest_fen), func.sum(Claim.paid_fen)).group_by(Claim.case_id, Claim.status)):
        figs = out[case_id]
        figs["claims"] += int(n)
        figs["claims_by_status"] = dict(sorted({**figs["claims_by_status"], status: int(n)}.items()))
        for name, s in zip(("offered_fen", "awarded_fen", "interest_fen", "paid_fen"), sums, strict=True):
            figs[name] += int(s or 0)
    return out


def make_checkpoint(session: Session, actor: str) -> dict:
    """A signed statement of where the log stands (head seq and hash) and what the books hold per case, for a
    regulator to keep.  Only a log that verifies is certified; the checkpoint itself is then recorded."""
    head = lock_head(session)          # writers wait: the figures and the head are of one moment
    if head.key_id is None:
        raise AdminError("the audit log is not keyed, so a checkpoint cannot be signed / 审计日志尚未启用密钥",
                         hint="key it first with `redress audit rotate-key`")
    v = verify(session)
    if not v.ok:
        raise AdminError("the audit log does not verify; no checkpoint is signed for it / 审计日志校验未通过: "
                         + "; ".join(v.problems[:5]))
    ring = keyring_for(session)
    key = ring.get(head.key_id) if ring else None
    if key is None:
        raise _missing(session, head.key_id, ring)
    body = {"format": CHECKPOINT_FORMAT, "made_at": now_stamp(), "made_by": actor,
            "head": {"seq": head.seq, "hash": head.hash, "key_id": head.key_id},
            "cases": table_figures(session)}
    message = canonical(body).encode("utf-8")
    doc = {"checkpoint": body,
           "signature": {"algorithm": "ed25519", "key_id": key.id, "public_key": key.public_key,
                         "fingerprint": fingerprint(key.public_key), "value": key.sign(message).hex()}}
    record(session, actor, "audit.checkpoint", f"event {head.seq}",
           {"seq": body["head"]["seq"], "hash": body["head"]["hash"],
            "sha256": hashlib.sha256(message).hexdigest(), "public_key": key.public_key})
    return doc


# -- verification --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    events: int
    head_seq: int
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()            # the keys events are written with, in the order they came in
    keyed_from: int | None = None         # the first keyed event
    entries: int = 0                      # ledger entries held against the log
    claims: int = 0                       # claims held against the log
    checkpoints: tuple[str, ...] = ()     # one line per checkpoint the chain still extends

    @property
    def ok(self) -> bool:
        return not self.problems


_COLUMNS = (AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.case_id, AuditEvent.action,
            AuditEvent.subject, AuditEvent.detail, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.key_id)


def verify(session: Session, keyring: Keyring | None = None, *, key_path: str | Path | None = None,
           checkpoints: tuple[Checkpoint, ...] = (), replay: bool = True) -> Verification:
    """Replay the whole chain and say where it breaks (if anywhere); then hold the books and the claims to
    the events, and the chain to ``checkpoints``.  Raises :class:`AuditKeyMissing` when keyed events are
    found and the key file is not."""
    ring = keyring if keyring is not None else keyring_for(session, key_path)
    problems: list[str] = []
    notes: list[str] = []
    prev = GENESIS
    expected_seq = 1
    n = 0
    key_now: str | None = None             # the key the next event must be written with
    keys: list[str] = []
    keyed_from = None
    ledger, claims = LedgerReplay(), ClaimsReplay()
    wanted = {cp.seq for cp in checkpoints}
    seen: dict[int, str] = {}
    snapshots: dict[int, dict] = {}
    stmt = select(*_COLUMNS).order_by(AuditEvent.seq).execution_options(yield_per=5000)
    for seq, at, actor, case_id, action, subject, detail, prev_hash, hash_, key_id in session.execute(stmt):
        n += 1
        what = f"event {seq} ({action} {subject})"
        if seq != expected_seq:
            problems.append(f"event {expected_seq}" + (f"..{seq - 1}" if seq - 1 > expected_seq else "")
                            + " missing (deleted?)")
        if prev_hash != prev:
            problems.append(f"event {seq}: link to the previous event is broken")
        if key_id is None:
            if key_now is not None:
                problems.append(f"{what} has no key, but the log was keyed with {key_now} before it: written "
                                f"without the key (forged?)")
            if event_hash(seq, at, actor, case_id, action, subject, detail, prev_hash) != hash_:
                problems.append(f"{what}: content does not match its hash (edited?)")
        else:
            if ring is None:
                raise _missing(session, key_id, None, key_path)
            if key_now is None and action != "audit.key_adopted":
                problems.append(f"{what} is keyed with {key_id}, but no audit.key_adopted event brought that "
                                f"key in (forged?)")
            elif key_now is not None and key_id != key_now:
                problems.append(f"{what} is keyed with {key_id}, but the log was being written with {key_now} "
                                f"(keys change only by `redress audit rotate-key`)")
            key = ring.get(key_id)
            if key is None:
                problems.append(f"{what} is keyed with {key_id}, which the key file {ring.path} does not hold "
                                f"(the wrong key file, or a forged event)")
            elif event_mac(key, seq, at, actor, case_id, action, subject, detail, prev_hash) != hash_:
                problems.append(f"{what}: content does not match its hash (edited?)")
            if key_id not in keys:
                keys.append(key_id)
            keyed_from = keyed_from or seq
            key_now = key_id
            if action == "audit.key_rotated":
                key_now = _parse(detail).get("to") or key_id
        prev = hash_
        expected_seq = seq + 1
        if replay or wanted:
            if action.startswith("ledger."):
                ledger.event(seq, action, case_id, subject, actor, _parse(detail))
            elif action in REPLAYED or action.startswith("claim."):
                claims.event(seq, action, case_id, subject, _parse(detail), key_id is not None)
        if seq in wanted:
            seen[seq] = hash_
            snapshots[seq] = _snapshot(ledger, claims)
    head = session.get(AuditHead, 1)
    head_seq = head.seq if head else 0
    if head is not None:
        if head.seq != expected_seq - 1 or head.hash != prev:
            problems.append(f"the newest event is {expected_seq - 1} but the head records {head.seq}: "
                            f"events after {expected_seq - 1} were deleted, or the head was altered")
        if head.key_id != key_now:
            problems.append(f"the head says the log is written with {head.key_id or 'no key'}, but its events "
                            f"say {key_now or 'no key'} (the head was altered)")
        elif head.key_id is not None:
            if ring is None:
                raise _missing(session, head.key_id, None, key_path)
            key = ring.get(head.key_id)
            if key is None or head.mac != head_mac(key, head.seq, head.hash):
                problems.append("the head does not match its MAC (wound back to an earlier event, or altered)")
    if keyed_from is None and n and ring is not None:
        problems.append(f"none of the {n} events is keyed, although the key file {ring.path} exists: the log was "
                        f"rewritten without the key, or the file belongs to another database")
    elif keyed_from is None and n:
        notes.append("the log is not keyed: anyone who can write to the database could rewrite it unseen; key it "
                     "with `redress audit rotate-key`")
    elif keyed_from and keyed_from > 1:
        notes.append(f"events 1..{keyed_from - 1} were written before the log was keyed (plain SHA-256)")
    if ring is not None and ring.loose:
        notes.append(f"the key file {ring.path} can be read by others than its owner: chmod 600 it")
    entries = n_claims = 0
    if replay:
        rows, entries = _ledger_rows(session)
        problems.extend(ledger.compare(rows))
        by_case, n_claims = _claim_rows(session)
        found, said = claims.compare(by_case)
        problems.extend(found)
        notes.extend(said)
    lines = []
    for cp in checkpoints:
        lines.extend(_check_checkpoint(cp, ring, seen, snapshots.get(cp.seq), problems, notes))
    return Verification(n, head_seq, tuple(problems), tuple(notes), tuple(keys), keyed_from, entries, n_claims,
                        tuple(lines))


def _parse(detail: str) -> dict:
    try:
        out = json.loads(detail)
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def _ledger_rows(session: Session) -> tuple[list[tuple[int, LedgerRecord]], int]:
    postings: dict[int, list[tuple[str, int]]] = {}
    for entry_id, account, fen in session.execute(
            select(LedgerPosting.entry_id, LedgerPosting.account, LedgerPosting.amount_fen)):
        postings.setdefault(entry_id, []).append((account, int(fen)))
    rows = [(e.id, LedgerRecord(e.case_id, e.key, e.kind, e.booked_on.isoformat(), e.memo, e.reverses, e.actor,
                                tuple(sorted(postings.pop(e.id, [])))))
            for e in session.execute(select(LedgerEntry.id, LedgerEntry.case_id, LedgerEntry.key, LedgerEntry.kind,
                                            LedgerEntry.booked_on, LedgerEntry.memo, LedgerEntry.reverses,
                                            LedgerEntry.actor).order_by(LedgerEntry.id))]
    return rows, len(rows)


def _claim_rows(session: Session) -> tuple[dict[str, list[tuple]], int]:
    by_case: dict[str, list[tuple]] = {}
    n = 0
    for case_id, *row in session.execute(
            select(Claim.case_id, Claim.id, Claim.investor_id, Claim.status, Claim.offered_fen, Claim.awarded_fen,
                   Claim.interest_fen, Claim.paid_fen).order_by(Claim.id).execution_options(yield_per=20000)):
        by_case.setdefault(case_id, []).append(tuple(row))
        n += 1
    return by_case, n


def _snapshot(ledger: LedgerReplay, claims: ClaimsReplay) -> dict:
    cases = set(ledger.counts) | set(claims.claims)
    return {c: (ledger.figures(c), claims.figures(c)) for c in cases}


def _check_checkpoint(cp: Checkpoint, ring: Keyring | None, seen: dict[int, str], snapshot: dict | None,
                      problems: list[str], notes: list[str]) -> list[str]:
    name = f"checkpoint {cp.source}"
    before = len(problems)
    if not cp.signed:
        problems.append(f"{name}: its signature does not hold (the file was altered)")
    key = ring.get(cp.key_id) if ring else None
    if key is not None and key.public_key != cp.public_key:
        problems.append(f"{name}: signed with a public key that is not that of {cp.key_id} in the key file "
                        f"(forged?)")
    elif key is None:
        notes.append(f"{name}: signed by {cp.key_id}, public key fingerprint {fingerprint(cp.public_key)}; this "
                     f"key file does not hold it: compare the fingerprint with the one you were given")
    if cp.seq not in seen:
        problems.append(f"{name}: event {cp.seq} is gone from the audit log (truncated?)")
    elif seen[cp.seq] != cp.hash:
        problems.append(f"{name}: event {cp.seq} no longer has the hash the checkpoint recorded: the history up "
                        f"to it was rewritten")
    elif snapshot is not None:
        for case_id, said in sorted(cp.body["cases"].items()):
            ledger_now, claims_now = snapshot.get(case_id, ({"entries": 0, "postings": 0, "balances_fen": {}},
                                                            None))
            if claims_now is None:
                if said.get("claims"):
                    notes.append(f"{name}: claims of case {case_id} not compared (the log cannot replay them)")
                claims_now = {k: said.get(k) for k in ("claims", "claims_by_status", "offered_fen", "awarded_fen",
                                                       "interest_fen", "paid_fen")}
            now = {**ledger_now, **claims_now}
            for field in sorted((set(now) | set(said)) - {"balances_fen"}):
                if now.get(field) != said.get(field):
                    problems.append(f"{name}: case {case_id}: {field} was {said.get(field)} at event {cp.seq}, the "
                                    f"audit log gives {now.get(field)}")
            b_now, b_said = now["balances_fen"], said.get("balances_fen", {})
            for account in sorted(set(b_now) | set(b_said)):
                if b_now.get(account, 0) != b_said.get(account, 0):
                    problems.append(f"{name}: case {case_id}: {account} was "
                                    f"{yuan(b_said.get(account, 0), grouping=True)} at event {cp.seq}, the audit "
                                    f"log gives {yuan(b_now.get(account, 0), grouping=True)}")
    if len(problems) > before:
        return []
    return [f"{cp.source}: event {cp.seq} of {cp.body.get('made_at', '?')[:19]} still has the hash recorded then; "
            f"signed by {cp.key_id} ({fingerprint(cp.public_key)})"]


__all__ = ["AuditKeyMissing", "Checkpoint", "KeyChange", "Verification", "canonical", "ensure_key",
           "event_hash", "event_mac", "lock_head", "make_checkpoint", "now_stamp", "read_checkpoint", "record",
           "rotate_key", "verify"]
