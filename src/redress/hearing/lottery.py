"""A verifiable draw by lot: anyone holding the published record can recompute who won.

Each applicant's ticket is ``SHA-256(seed || 0x00 || applicant_id)`` (UTF-8, lowercase hex).  Applicants are
ranked by ticket, ascending; a tie (never seen in practice: it would be a SHA-256 collision) goes to the
smaller id.  The first ``seats`` applicants win.  Nothing else enters the result: not the order in which the
applicants were listed, not the clock, not a random-number generator.

Why commit-reveal.  A draw that is a pure function of (seed, applicants) is only fair if nobody could pick the
seed after seeing the applicants: with the list in hand, an organiser could try seeds until a favoured
applicant wins.  So the organiser publishes ``commitment(seed)`` (the seed's SHA-256) *before* the applicant
list closes, and reveals the seed at the draw; ``check_reveal`` shows the revealed seed is the committed one.
The seed must be unguessable (``secrets.token_hex(32)``), or its hash could be inverted by trying candidates
and applicants could be chosen to suit it.  The applicant list must be closed and published before the reveal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass

ALGORITHM = (
    "redress.hearing.lottery/v1: rank by sha256(utf8(seed) || 0x00 || utf8(applicant_id)) hex ascending, "
    "ties by id; first `seats` win"
)
"""Name and version of the draw rule, recorded in every draw: a later rule is never applied to an old draw."""

SEED_CHARS_MIN = 32
"""Shortest seed ``commitment`` accepts: 32 hex characters carry 128 bits, too many to guess."""


class LotteryError(ValueError):
    """The draw cannot be made as asked; the message says what to change."""


@dataclass(frozen=True)
class Ticket:
    """One applicant's ticket: its hash decides the rank (1 = first drawn)."""

    applicant_id: str
    ticket_sha256: str
    rank: int


@dataclass(frozen=True)
class Draw:
    """The published record of one draw: enough for anyone to recompute it with ``verify``."""

    seed: str
    algorithm: str
    seats: int
    tickets: tuple[Ticket, ...]    # every applicant, in rank order
    winners: tuple[str, ...]       # the first ``seats`` tickets' applicants, in rank order
    purpose: str = ""              # what the draw was for, e.g. "investor representatives"; not hashed

    @property
    def applicants(self) -> tuple[str, ...]:
        return tuple(sorted(t.applicant_id for t in self.tickets))

    def as_record(self) -> dict:
        return {
            "algorithm": self.algorithm,
            "purpose": self.purpose,
            "seats": self.seats,
            "seed": self.seed,
            "tickets": [
                {"applicant_id": t.applicant_id, "rank": t.rank, "ticket_sha256": t.ticket_sha256}
                for t in self.tickets
            ],
            "winners": list(self.winners),
        }

    def as_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces, UTF-8 text): the same draw always gives the same bytes."""
        return json.dumps(self.as_record(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Draw:
        """Read a published record back (e.g. to ``verify`` it).  Unknown or missing keys are errors."""
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LotteryError(
                f"draw record is not valid JSON ({exc}); publish the output of Draw.as_json()"
            ) from exc
        expected = {"algorithm", "purpose", "seats", "seed", "tickets", "winners"}
        if not isinstance(record, dict) or set(record) != expected:
            got = sorted(record) if isinstance(record, dict) else type(record).__name__
            raise LotteryError(f"draw record must have exactly the keys {sorted(expected)}, got {got}")
        try:
            tickets = tuple(
                Ticket(str(t["applicant_id"]), str(t["ticket_sha256"]), int(t["rank"]))
                for t in record["tickets"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LotteryError(
                f"each ticket needs applicant_id, ticket_sha256 and rank ({exc!r}); publish Draw.as_json()"
            ) from exc
        return cls(
            seed=str(record["seed"]),
            algorithm=str(record["algorithm"]),
            seats=int(record["seats"]),
            tickets=tickets,
            winners=tuple(str(w) for w in record["winners"]),
            purpose=str(record["purpose"]),
        )


def ticket_sha256(seed: str, applicant_id: str) -> str:
    """``SHA-256(seed || 0x00 || applicant_id)`` as lowercase hex (both strings encoded as UTF-8)."""
    return hashlib.sha256(seed.encode("utf-8") + b"\x00" + applicant_id.encode("utf-8")).hexdigest()


def _check_applicants(applicants: Sequence[str]) -> None:
    if isinstance(applicants, str):
        raise LotteryError("applicants must be a list of ids, not one string; wrap it: [applicant_id]")
    seen: set[str] = set()
    for position, applicant_id in enumerate(applicants, start=1):
        if not isinstance(applicant_id, str) or not applicant_id.strip():
            raise LotteryError(
                f"applicant #{position} has an empty or non-text id ({applicant_id!r}); "
                "give every applicant an id"
            )
        if applicant_id != applicant_id.strip() or "\x00" in applicant_id:
            raise LotteryError(
                f"applicant id {applicant_id!r} has surrounding spaces or a NUL character; "
                "publish ids exactly as hashed, without them"
            )
        if applicant_id in seen:
            raise LotteryError(f"applicant id {applicant_id!r} appears twice; list each applicant once")
        seen.add(applicant_id)


def draw(applicants: Sequence[str], seats: int, seed: str, *, purpose: str = "") -> Draw:
    """Draw ``seats`` winners from ``applicants`` (unique, non-empty ids) with the published ``seed``."""
    _check_applicants(applicants)
    if not isinstance(seed, str) or not seed:
        raise LotteryError(
            "seed is empty; reveal the seed whose commitment was published before applications closed"
        )
    if not isinstance(seats, int) or isinstance(seats, bool) or not 0 <= seats <= len(applicants):
        raise LotteryError(
            f"seats must be a whole number from 0 to the {len(applicants)} applicants, got {seats!r}; "
            "reduce the seats or reopen applications"
        )
    ranked = sorted((ticket_sha256(seed, a), a) for a in applicants)
    tickets = tuple(Ticket(a, h, rank) for rank, (h, a) in enumerate(ranked, start=1))
    winners = tuple(t.applicant_id for t in tickets[:seats])
    return Draw(
        seed=seed, algorithm=ALGORITHM, seats=seats, tickets=tickets, winners=winners, purpose=purpose
    )


def verify(record: Draw) -> bool:
    """True when ``record`` is exactly what ``draw`` gives for its own seed, applicants and seats.

    Detects an altered winner list, ticket hash, rank, seat count or algorithm name; a record that cannot even
    be redrawn (duplicate or empty ids, impossible seats) is false, not an exception.
    """
    if record.algorithm != ALGORITHM:
        return False
    try:
        applicants = [t.applicant_id for t in record.tickets]
        redrawn = draw(applicants, record.seats, record.seed, purpose=record.purpose)
    except LotteryError:
        return False
    return redrawn == record


def commitment(seed: str) -> str:
    """SHA-256 of ``seed`` (UTF-8, hex): publish it before applications close; reveal the seed later."""
    if not isinstance(seed, str) or len(seed) < SEED_CHARS_MIN:
        raise LotteryError(
            f"seed is shorter than {SEED_CHARS_MIN} characters and could be guessed from its commitment; "
            "make one with secrets.token_hex(32)"
        )
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()


def check_reveal(published_commitment: str, seed: str) -> bool:
    """True when the revealed ``seed`` hashes to the commitment published earlier (case-insensitive hex)."""
    if not isinstance(seed, str) or not isinstance(published_commitment, str):
        return False
    actual = hashlib.sha256(seed.encode("utf-8")).hexdigest()
    return hmac.compare_digest(actual, published_commitment.strip().lower())
