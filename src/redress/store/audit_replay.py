"""Replaying the books and the claims from the audit log, to hold the tables to what the log says.

Pure: the replays are fed events (in seq order) and then rows of the tables, and say where they differ.
The books: every ``ledger.*`` event carries its entry's date, memo, reversal link and postings, so the
ledger can be rebuilt entry by entry.  The claims: ``claims.opened`` carries every offer; ``claim.accept``
and ``claim.decline`` (one decision) and ``claims.decided`` (a file of them) the decisions; the move from
``claims_open`` to ``claims_closed`` lapses what was still offered; ``fund.short`` stops awards as
investors accept; ``claims.allocated`` carries the awards made at close, ``claims.interest`` the interest
passed on, ``payments.results_imported`` what each investor was paid.  Claims opened before the log carried
the offers cannot be replayed and are reported as such.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redress.money import yuan

CLAIM_FIELDS = ("status", "offered_fen", "awarded_fen", "interest_fen", "paid_fen")
OPEN = ("offered", "lapsed")           # a decision changes a claim only while it is open


def _show(field: str, value: object) -> str:
    return yuan(value, grouping=True) if field.endswith("_fen") and isinstance(value, int) else str(value)


# -- the books -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerRecord:
    """One ledger entry as the books hold it, or as an audit event says it was booked."""

    case_id: str
    key: str
    kind: str
    booked_on: str
    memo: str
    reverses: str | None
    actor: str
    postings: tuple[tuple[str, int], ...]     # sorted (account, fen)

    def where(self) -> str:
        return f"case {self.case_id}, {self.key}"


class LedgerReplay:
    """The ledger as the ``ledger.*`` events say it was booked."""

    def __init__(self) -> None:
        self.expected: dict[tuple[str, str], tuple[int, LedgerRecord]] = {}
        self.balances: dict[str, Counter] = {}
        self.counts: dict[str, list[int]] = {}      # case -> [entries, postings]
        self.problems: list[str] = []

    def event(self, seq: int, action: str, case_id: str | None, subject: str, actor: str, detail: Mapping) -> None:
        try:
            postings = tuple(sorted((str(a), int(f)) for a, f in detail["postings"]))
            rec = LedgerRecord(case_id or "", subject, action.removeprefix("ledger."), str(detail["booked_on"]),
                               str(detail["memo"]), detail.get("reverses"), actor, postings)
        except (KeyError, TypeError, ValueError):
            self.problems.append(f"audit event {seq} ({action} {subject}) does not say what was booked")
            return
        if (rec.case_id, rec.key) in self.expected:
            first = self.expected[rec.case_id, rec.key][0]
            self.problems.append(f"audit events {first} and {seq} both book ledger entry {rec.key} of case "
                                 f"{rec.case_id}")
            return
        self.expected[rec.case_id, rec.key] = (seq, rec)
        bal = self.balances.setdefault(rec.case_id, Counter())
        for a, f in postings:
            bal[a] += f
        n = self.counts.setdefault(rec.case_id, [0, 0])
        n[0] += 1
        n[1] += len(postings)

    def compare(self, rows: Iterable[tuple[int, LedgerRecord]]) -> list[str]:
        """Hold the books' entries (id, record), in id order, to the events; problems in the books' order,
        then the events that have no entry."""
        problems = list(self.problems)
        left = dict(self.expected)
        for entry_id, row in rows:
            found = left.pop((row.case_id, row.key), None)
            if found is None:
                problems.append(f"ledger entry {entry_id} ({row.where()}) has no audit event: written behind "
                                f"the audit log's back")
                continue
            seq, ev = found
            differences = _entry_differences(row, ev)
            if differences:
                problems.append(f"ledger entry {entry_id} ({row.where()}) differs from audit event {seq}: "
                                + "; ".join(differences))
        for seq, ev in sorted(left.values(), key=lambda x: x[0]):
            problems.append(f"audit event {seq} books ledger entry {ev.key} of case {ev.case_id}, which is not in "
                            f"the books (deleted?)")
        return problems

    def figures(self, case_id: str) -> dict:
        n = self.counts.get(case_id, [0, 0])
        return {"entries": n[0], "postings": n[1],
                "balances_fen": {a: b for a, b in sorted(self.balances.get(case_id, Counter()).items()) if b}}


def _entry_differences(row: LedgerRecord, ev: LedgerRecord) -> list[str]:
    out = []
    for name in ("kind", "booked_on", "memo", "reverses", "actor"):
        if getattr(row, name) != getattr(ev, name):
            out.append(f"{name} is {getattr(row, name)!r} in the books but {getattr(ev, name)!r} in the log")
    if row.postings != ev.postings:
        have, said = Counter(), Counter()
        for a, f in row.postings:
            have[a] += f
        for a, f in ev.postings:
            said[a] += f
        for a in sorted(set(have) | set(said)):
            if a not in have:
                out.append(f"posting to {a} of {yuan(said[a], grouping=True)} is missing from the books")
            elif a not in said:
                out.append(f"posting to {a} of {yuan(have[a], grouping=True)} is in the books but not in the log")
            elif have[a] != said[a]:
                out.append(f"posting to {a} is {yuan(have[a], grouping=True)} in the books but "
                           f"{yuan(said[a], grouping=True)} in the log")
        if not any(o.startswith("posting") for o in out):
            out.append("its postings are split differently from the log's")
    return out


# -- the claims ----------------------------------------------------------------------------------------------

class ClaimsReplay:
    """Each case's claims as the events say they are: investor -> (status, offered, awarded, interest, paid)."""

    def __init__(self) -> None:
        self.claims: dict[str, dict[str, list]] = {}
        self.fully_funded: dict[str, bool] = {}
        self.opened_at: dict[str, tuple[int, bool]] = {}     # case -> (seq of the move to claims_open, keyed)
        self.stuck: dict[str, str] = {}                      # case -> why it cannot be replayed
        self.problems: list[str] = []

    def event(self, seq: int, action: str, case_id: str | None, subject: str, detail: Mapping, keyed: bool) -> None:
        if case_id is None:
            return
        if action == "case.transition":
            if detail.get("to") == "claims_open":
                self.opened_at[case_id] = (seq, keyed)
            if detail.get("from") == "claims_open" and detail.get("to") == "claims_closed" and case_id in self.claims:
                for c in self.claims[case_id].values():
                    if c[0] == "offered":
                        c[0] = "lapsed"
            return
        if action == "claims.opened":
            offers = detail.get("offers_fen")
            if not isinstance(offers, dict):
                self.problems.append(f"audit event {seq} opens the claims of case {case_id} without their offers")
                return
            self.claims[case_id] = {inv: ["offered", int(fen), 0, 0, 0] for inv, fen in offers.items()}
            self.fully_funded[case_id] = bool(detail.get("fully_funded"))
            return
        book = self.claims.get(case_id)
        if book is None or case_id in self.stuck:
            return
        if action == "fund.short":
            self.fully_funded[case_id] = False
        elif action in ("claim.accept", "claim.decline"):
            self._decide(seq, case_id, book, subject, action.removeprefix("claim."))
        elif action == "claims.decided":
            for inv, decision in (detail.get("decisions") or {}).items():
                self._decide(seq, case_id, book, inv, decision)
        elif action == "claims.allocated":
            self._set(seq, case_id, book, detail, "awards_fen", 2, add=False)
        elif action == "claims.interest":
            self._set(seq, case_id, book, detail, "shares_fen", 3, add=True)
        elif action == "payments.results_imported":
            if "payments_fen" in detail:
                self._set(seq, case_id, book, detail, "payments_fen", 4, add=True)
            elif detail.get("paid_fen"):
                self.stuck[case_id] = f"audit event {seq} does not say whom it paid"

    def _decide(self, seq: int, case_id: str, book: dict, investor: str, decision: str) -> None:
        c = book.get(investor)
        if c is None:
            self.problems.append(f"audit event {seq} records a decision of investor {investor}, who has no claim "
                                 f"in case {case_id}")
            return
        if c[0] not in OPEN:        # an identical retry changes nothing
            return
        accept = decision == "accept"
        c[0] = "accepted" if accept else "declined"
        c[2] = c[1] if accept and self.fully_funded.get(case_id) else 0

    def _set(self, seq: int, case_id: str, book: dict, detail: Mapping, name: str, column: int, add: bool) -> None:
        values = detail.get(name)
        if not isinstance(values, dict):
            self.stuck[case_id] = f"audit event {seq} does not say which claims it changed"
            return
        for inv, fen in values.items():
            c = book.get(investor := str(inv))
            if c is None:
                self.problems.append(f"audit event {seq} changes the claim of investor {investor}, who has no "
                                     f"claim in case {case_id}")
                continue
            c[column] = (c[column] if add else 0) + int(fen)

    def compare(self, rows_by_case: Mapping[str, list[tuple]]) -> tuple[list[str], list[str]]:
        """Hold the tables' claims, per case rows of (id, investor, status, offered, awarded, interest, paid) in
        id order, to the events.  Returns (problems, notes)."""
        problems, notes = list(self.problems), []
        for case_id in sorted(set(rows_by_case) | set(self.claims)):
            rows = rows_by_case.get(case_id, [])
            if case_id in self.stuck:
                notes.append(f"claims of case {case_id} not replayed: {self.stuck[case_id]} (written before the "
                             f"audit log carried it)")
                continue
            book = self.claims.get(case_id)
            if book is None:
                seq, keyed = self.opened_at.get(case_id, (None, False))
                if keyed:
                    problems.append(f"claims of case {case_id} were opened at audit event {seq}, but the log holds "
                                    f"no record of the offers (removed?)")
                else:
                    notes.append(f"claims of case {case_id} not replayed: opened before the audit log carried "
                                 f"the offers")
                continue
            left = dict(book)
            for claim_id, investor, *values in rows:
                said = left.pop(investor, None)
                where = f"claim {claim_id} (case {case_id}, investor {investor})"
                if said is None:
                    problems.append(f"{where} is not in the audit log: written behind its back")
                    continue
                for name, have, want in zip(CLAIM_FIELDS, values, said, strict=True):
                    if have != want:
                        problems.append(f"{where}: {name} is {_show(name, have)} in the table but "
                                        f"{_show(name, want)} by the audit log")
            problems.extend(f"investor {inv} of case {case_id} has a claim in the audit log but none in the table "
                            f"(deleted?)" for inv in sorted(left))
        return problems, notes

    def figures(self, case_id: str) -> dict | None:
        book = self.claims.get(case_id)
        if book is None or case_id in self.stuck:
            return None
        return claim_figures(tuple(c) for c in book.values())


def claim_figures(claims: Iterable[tuple]) -> dict:
    """Counts and sums of claims given as (status, offered, awarded, interest, paid)."""
    n, by, sums = 0, Counter(), [0, 0, 0, 0]
    for status, *fen in claims:
        n += 1
        by[status] += 1
        for i, f in enumerate(fen):
            sums[i] += int(f)
    return {"claims": n, "claims_by_status": dict(sorted(by.items())),
            **{name: s for name, s in zip(CLAIM_FIELDS[1:], sums, strict=True)}}
