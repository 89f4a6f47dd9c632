"""Board meetings and resolutions of the protection fund company, in exact integer arithmetic.

The board has nine directors (Measures, CSRC Order No. 27, 2005, Art. 9).  A meeting may be held only when
two thirds or more of the directors are present ("三分之二以上", which includes two thirds itself: Civil Code
Art. 1259), and a resolution is valid only if more than half of ALL directors (not of those present) approve
it (Art. 11).  The thresholds and the decisions reserved to the board (Art. 10, 18, 21) are data:
``law/data/protection_governance.toml``, where ``strictly_more = true`` under ``[quorum]`` gives the strict
reading "more than two thirds" (7 of 9).

Thresholds compare integers: a meeting of ``n`` present out of ``N`` has a quorum iff ``n * 3 >= 2 * N``
(6 of 9 yes, 5 of 9 no), and a resolution passes iff ``for * 2 > N`` (5 of 9 yes, 4 of 9 no, however many
are present).  Only directors present may vote, each at most once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import MappingProxyType

from redress.protection._common import (
    ProtectionDataError,
    ProtectionError,
    check_keys,
    data_bool,
    data_date,
    data_int,
    data_text,
    parse_toml,
    read_data,
)

GOVERNANCE_DATA = "protection_governance"


class MeetingKind(StrEnum):
    """Kinds of board meeting."""

    REGULAR = "regular"   # 定期会议
    INTERIM = "interim"   # 临时会议


@dataclass(frozen=True)
class Threshold:
    """More than (``strictly_more``) or at least ``numerator/denominator`` of all directors."""

    effective: dt.date
    numerator: int
    denominator: int
    strictly_more: bool
    source: str

    def met(self, count: int, total: int) -> bool:
        lhs, rhs = count * self.denominator, self.numerator * total
        return lhs > rhs if self.strictly_more else lhs >= rhs

    def describe(self) -> str:
        return f"{'more than' if self.strictly_more else 'at least'} {self.numerator}/{self.denominator}"

    def describe_short(self) -> str:
        """The words for a count that falls short: "not more than 2/3" or "fewer than 2/3"."""
        words = "not more than" if self.strictly_more else "fewer than"
        return f"{words} {self.numerator}/{self.denominator}"


@dataclass(frozen=True)
class BoardDecision:
    """A decision reserved to the board."""

    key: str
    name_en: str
    name_zh: str
    source: str


@dataclass(frozen=True)
class GovernanceRules:
    board_effective: dt.date
    board_size: int
    board_source: str
    quorum: Threshold
    passing: Threshold
    decisions: tuple[BoardDecision, ...]


def _threshold(raw: object, where: str) -> Threshold:
    check_keys(raw, where, ["effective", "numerator", "denominator", "strictly_more", "source"])
    assert isinstance(raw, dict)
    denominator = data_int(raw, "denominator", where, 1)
    return Threshold(data_date(raw, "effective", where), data_int(raw, "numerator", where, 0, denominator),
                     denominator, data_bool(raw, "strictly_more", where), data_text(raw, "source", where))


def parse_governance_rules(text: str, origin: str) -> GovernanceRules:
    """Parse the governance rules strictly (unknown keys are errors naming the file and the key)."""
    data = parse_toml(text, origin)
    check_keys(data, origin, ["file", "board", "quorum", "passing", "decision"])
    check_keys(data["file"], f"{origin}: file", ["description"])
    board = check_keys(data["board"], f"{origin}: board", ["effective", "directors", "source"])
    decisions = []
    for i, raw in enumerate(data["decision"], start=1):
        where = f"{origin}: decision {i}"
        check_keys(raw, where, ["key", "name_en", "name_zh", "source"])
        decisions.append(BoardDecision(data_text(raw, "key", where), data_text(raw, "name_en", where),
                                       data_text(raw, "name_zh", where), data_text(raw, "source", where)))
    keys = [d.key for d in decisions]
    if len(set(keys)) != len(keys):
        raise ProtectionDataError(f"{origin}: decision", f"decision keys must be unique, got {keys}")
    return GovernanceRules(data_date(board, "effective", f"{origin}: board"),
                           data_int(board, "directors", f"{origin}: board", 1),
                           data_text(board, "source", f"{origin}: board"),
                           _threshold(data["quorum"], f"{origin}: quorum"),
                           _threshold(data["passing"], f"{origin}: passing"), tuple(decisions))


@cache
def governance_rules() -> GovernanceRules:
    """The rules in ``law/data/protection_governance.toml`` (cached)."""
    return parse_governance_rules(*read_data(GOVERNANCE_DATA))


@cache
def decisions_needing_board() -> Mapping[str, BoardDecision]:
    """The decisions reserved to the board, by key, with their source articles (read-only)."""
    return MappingProxyType({d.key: d for d in governance_rules().decisions})


DECISIONS_NEEDING_BOARD: frozenset[str] = frozenset(decisions_needing_board())


def needs_board(subject: str) -> bool:
    return subject in DECISIONS_NEEDING_BOARD


def _names(value: Iterable[str], field_name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ProtectionError(field_name, "give a collection of director names, not a single text",
                              "应填写董事姓名的集合，而非单个文本")
    names = tuple(value)
    for n in names:
        if not isinstance(n, str) or not n.strip():
            raise ProtectionError(field_name, f"{n!r} is not a director's name", f"{n!r} 不是董事姓名")
    return names


@dataclass(frozen=True)
class Meeting:
    """A board meeting: the sitting ``directors`` and those ``present``."""

    held_on: dt.date
    directors: tuple[str, ...]
    present: frozenset[str]
    kind: MeetingKind = MeetingKind.REGULAR

    def __post_init__(self) -> None:
        object.__setattr__(self, "directors", _names(self.directors, "directors"))
        object.__setattr__(self, "present", frozenset(_names(self.present, "present")))
        try:
            object.__setattr__(self, "kind", MeetingKind(self.kind))
        except ValueError:
            raise ProtectionError("kind", f"{self.kind!r} is not regular or interim",
                                  f"{self.kind!r} 应为 regular（定期会议）或 interim（临时会议）") from None


@dataclass(frozen=True)
class Resolution:
    """A resolution put to the board and the names of the directors voting each way."""

    subject: str
    votes_for: tuple[str, ...]
    votes_against: tuple[str, ...] = ()
    abstain: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("votes_for", "votes_against", "abstain"):
            object.__setattr__(self, name, _names(getattr(self, name), name))


class FindingCode(StrEnum):
    """What a check found."""

    BOARD_SIZE = "board_size"                  # the board does not have the prescribed number of directors
    DUPLICATE_DIRECTOR = "duplicate_director"  # a director listed twice
    UNKNOWN_PRESENT = "unknown_present"        # someone present who is not a director
    QUORUM_MET = "quorum_met"
    NO_QUORUM = "no_quorum"
    MEETING_INVALID = "meeting_invalid"        # the resolution was taken at a meeting that could not be held
    UNKNOWN_VOTER = "unknown_voter"            # a vote by someone who is not a director
    ABSENT_VOTER = "absent_voter"              # a vote by a director not present
    VOTED_TWICE = "voted_twice"                # a director voting more than once
    PASSED = "passed"
    NOT_PASSED = "not_passed"


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    message_en: str
    message_zh: str
    source: str

    @property
    def message(self) -> str:
        return f"{self.message_en} / {self.message_zh}"


_OK_CODES = {FindingCode.QUORUM_MET, FindingCode.PASSED}


@dataclass(frozen=True)
class Outcome:
    """Whether a meeting could be held / a resolution is valid, and every finding explaining why."""

    valid: bool
    reasons: tuple[Finding, ...] = field(default=())

    @property
    def codes(self) -> tuple[FindingCode, ...]:
        return tuple(r.code for r in self.reasons)


def check_meeting(meeting: Meeting, rules: GovernanceRules | None = None) -> Outcome:
    """Whether ``meeting`` could be held: nine distinct directors (Art. 9) and a quorum (Art. 11)."""
    rules = rules or governance_rules()
    out: list[Finding] = []
    total = len(meeting.directors)
    if total != rules.board_size:
        out.append(Finding(FindingCode.BOARD_SIZE, f"the board has {total} directors, not {rules.board_size}",
                           f"董事会有{total}名董事，而非{rules.board_size}名", rules.board_source))
    twice = sorted(n for n, k in Counter(meeting.directors).items() if k > 1)
    if twice:
        out.append(Finding(FindingCode.DUPLICATE_DIRECTOR,
                           f"directors listed more than once: {', '.join(twice)}",
                           f"董事名单重复：{'、'.join(twice)}", rules.board_source))
    unknown = sorted(meeting.present - set(meeting.directors))
    if unknown:
        out.append(Finding(FindingCode.UNKNOWN_PRESENT, f"present but not directors: {', '.join(unknown)}",
                           f"出席者非董事：{'、'.join(unknown)}", rules.board_source))
    n = len(meeting.present & set(meeting.directors))
    q = rules.quorum
    share = f"{q.numerator}/{q.denominator}"
    if q.met(n, total):
        out.append(Finding(FindingCode.QUORUM_MET,
                           f"{n} of {total} directors present: {q.describe()}, the meeting may be held",
                           f"{total}名董事中{n}名出席，达到法定出席比例，会议可以举行", q.source))
    else:
        out.append(Finding(FindingCode.NO_QUORUM,
                           f"{n} of {total} directors present: {q.describe_short()} of the directors, "
                           "so the meeting may not be held",
                           f"{total}名董事中仅{n}名出席，未达到法定出席比例（{share}），会议不得举行",
                           q.source))
    return Outcome(all(f.code in _OK_CODES for f in out), tuple(out))


def check_resolution(meeting: Meeting, resolution: Resolution,
                     rules: GovernanceRules | None = None) -> Outcome:
    """Whether ``resolution`` is valid: taken at a meeting that could be held, votes only from directors
    present, each voting once, and approved by more than half of ALL directors (Art. 11)."""
    rules = rules or governance_rules()
    meeting_outcome = check_meeting(meeting, rules)
    out: list[Finding] = [f for f in meeting_outcome.reasons if f.code not in _OK_CODES]
    if not meeting_outcome.valid:
        out.append(Finding(FindingCode.MEETING_INVALID,
                           "the meeting could not be held, so it could not resolve",
                           "会议不得举行，所作决议无效", rules.quorum.source))
    directors = set(meeting.directors)
    votes = [*resolution.votes_for, *resolution.votes_against, *resolution.abstain]
    unknown = sorted({v for v in votes if v not in directors})
    if unknown:
        out.append(Finding(FindingCode.UNKNOWN_VOTER,
                           f"votes by people who are not directors: {', '.join(unknown)}",
                           f"非董事参与表决：{'、'.join(unknown)}", rules.board_source))
    absent = sorted({v for v in votes if v in directors and v not in meeting.present})
    if absent:
        out.append(Finding(FindingCode.ABSENT_VOTER, f"votes by directors not present: {', '.join(absent)}",
                           f"未出席的董事参与表决：{'、'.join(absent)}", rules.quorum.source))
    twice = sorted(v for v, k in Counter(votes).items() if k > 1)
    if twice:
        out.append(Finding(FindingCode.VOTED_TWICE, f"directors voting more than once: {', '.join(twice)}",
                           f"董事重复表决：{'、'.join(twice)}", rules.passing.source))
    if out:
        return Outcome(False, tuple(out))
    total = len(meeting.directors)
    in_favour = len(set(resolution.votes_for))
    p = rules.passing
    if p.met(in_favour, total):
        return Outcome(True, (Finding(
            FindingCode.PASSED,
            f"{in_favour} of all {total} directors in favour: {p.describe()}, "
            f"the resolution on {resolution.subject!r} passes",
            f"全体{total}名董事中{in_favour}名赞成，达到法定比例，决议通过", p.source),))
    against, abstaining = len(resolution.votes_against), len(resolution.abstain)
    return Outcome(False, (Finding(
        FindingCode.NOT_PASSED,
        f"{in_favour} of all {total} directors in favour: not {p.describe()} of all directors "
        f"({against} against, {abstaining} abstaining), so the resolution does not pass",
        f"全体{total}名董事中仅{in_favour}名赞成，未达到全体董事的法定比例（{p.numerator}/{p.denominator}），"
        "决议未通过", p.source),))
