"""Board meetings (Art. 9, 11): a quorum of two thirds or more ("以上" includes the number, Civil Code
Art. 1259); resolutions by more than half of ALL directors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redress.protection import (
    DECISIONS_NEEDING_BOARD,
    FindingCode,
    Meeting,
    ProtectionDataError,
    ProtectionError,
    Resolution,
    check_meeting,
    check_resolution,
    decisions_needing_board,
    governance_rules,
    needs_board,
    parse_governance_rules,
)
from redress.protection._common import read_data

BOARD = ("Zhao", "Qian", "Sun", "Li", "Zhou", "Wu", "Zheng", "Wang", "Feng")
DAY = dt.date(2024, 6, 28)


def meeting(present: int | tuple[str, ...], directors: tuple[str, ...] = BOARD) -> Meeting:
    names = directors[:present] if isinstance(present, int) else present
    return Meeting(DAY, directors, frozenset(names), "regular")


def test_six_of_nine_is_a_quorum():
    outcome = check_meeting(meeting(6))
    assert outcome.valid
    assert outcome.codes == (FindingCode.QUORUM_MET,)
    assert "第十一条" in outcome.reasons[0].source and "第一千二百五十九条" in outcome.reasons[0].source


def test_five_of_nine_is_not_a_quorum():
    outcome = check_meeting(meeting(5))
    assert not outcome.valid
    assert outcome.codes == (FindingCode.NO_QUORUM,)
    assert "5 of 9" in outcome.reasons[0].message_en and "fewer than 2/3" in outcome.reasons[0].message_en


def test_seven_of_nine_is_a_quorum():
    outcome = check_meeting(meeting(7))
    assert outcome.valid
    assert outcome.codes == (FindingCode.QUORUM_MET,)


@given(st.integers(0, 9))
def test_quorum_is_exact_integer_arithmetic(n):
    assert check_meeting(meeting(n)).valid == (n * 3 >= 2 * 9)


def test_five_of_nine_in_favour_passes():
    res = Resolution("annual_budget", BOARD[:5], BOARD[5:7])
    outcome = check_resolution(meeting(7), res)
    assert outcome.valid
    assert outcome.codes == (FindingCode.PASSED,)


def test_four_in_favour_does_not_pass_even_four_to_three_among_seven_present():
    res = Resolution("annual_budget", BOARD[:4], BOARD[4:7])
    outcome = check_resolution(meeting(7), res)
    assert not outcome.valid
    assert outcome.codes == (FindingCode.NOT_PASSED,)
    assert "of all 9 directors" in outcome.reasons[0].message_en


def test_four_for_and_rest_abstaining_does_not_pass():
    outcome = check_resolution(meeting(9), Resolution("x", BOARD[:4], (), BOARD[4:]))
    assert not outcome.valid


@given(st.integers(6, 9).flatmap(lambda p: st.tuples(st.just(p), st.integers(0, p))))
def test_passing_is_exact_integer_arithmetic(present_and_for):
    present, in_favour = present_and_for
    res = Resolution("x", BOARD[:in_favour], BOARD[in_favour:present])
    assert check_resolution(meeting(present), res).valid == (in_favour * 2 > 9)


def test_resolution_at_a_meeting_without_quorum_is_invalid():
    outcome = check_resolution(meeting(5), Resolution("x", BOARD[:5]))
    assert not outcome.valid
    assert outcome.codes == (FindingCode.NO_QUORUM, FindingCode.MEETING_INVALID)


def test_absent_director_may_not_vote():
    outcome = check_resolution(meeting(7), Resolution("x", BOARD[:4] + (BOARD[8],)))
    assert not outcome.valid
    assert FindingCode.ABSENT_VOTER in outcome.codes
    assert "Feng" in outcome.reasons[0].message_en


def test_director_votes_at_most_once():
    twice_for = Resolution("x", BOARD[:5] + (BOARD[0],))
    both_ways = Resolution("x", BOARD[:5], (BOARD[0],))
    for res in (twice_for, both_ways):
        outcome = check_resolution(meeting(7), res)
        assert not outcome.valid
        assert FindingCode.VOTED_TWICE in outcome.codes


def test_unknown_voter_is_refused():
    outcome = check_resolution(meeting(7), Resolution("x", BOARD[:5] + ("Stranger",)))
    assert not outcome.valid
    assert FindingCode.UNKNOWN_VOTER in outcome.codes
    assert "Stranger" in outcome.reasons[0].message_en and "非董事" in outcome.reasons[0].message_zh


def test_unknown_person_present_is_refused():
    outcome = check_meeting(meeting(BOARD[:7] + ("Stranger",)))
    assert not outcome.valid
    assert FindingCode.UNKNOWN_PRESENT in outcome.codes


def test_board_must_have_nine_directors():
    outcome = check_meeting(meeting(8, BOARD[:8]))
    assert not outcome.valid
    assert FindingCode.BOARD_SIZE in outcome.codes
    assert "第九条" in outcome.reasons[0].source


def test_duplicate_director_is_refused():
    outcome = check_meeting(meeting(7, BOARD[:8] + ("Zhao",)))
    assert FindingCode.DUPLICATE_DIRECTOR in outcome.codes


def test_bad_inputs_are_errors():
    with pytest.raises(ProtectionError):
        Meeting(DAY, BOARD, frozenset(BOARD), "secret")  # type: ignore[arg-type]
    with pytest.raises(ProtectionError):
        Resolution("x", "Zhao")  # type: ignore[arg-type]


def test_decisions_needing_board_have_sources():
    assert {"use_for_failed_firm", "annual_budget"} <= DECISIONS_NEEDING_BOARD
    assert needs_board("use_for_failed_firm") and not needs_board("office_supplies")
    for d in decisions_needing_board().values():
        assert "证监会令第27号" in d.source
    assert "第十八条" in decisions_needing_board()["use_for_failed_firm"].source
    assert "第二十一条" in decisions_needing_board()["investment_plan"].source


def test_thresholds_are_data():
    rules = governance_rules()
    assert (rules.board_size, rules.quorum.numerator, rules.quorum.denominator) == (9, 2, 3)
    assert not rules.quorum.strictly_more and rules.passing.strictly_more
    assert (rules.passing.numerator, rules.passing.denominator) == (1, 2)


def test_strict_reading_of_quorum_is_configurable():
    text, origin = read_data("protection_governance")
    more_than = text.replace("denominator = 3\nstrictly_more = false",
                             "denominator = 3\nstrictly_more = true", 1)
    assert more_than != text
    rules = parse_governance_rules(more_than, origin)
    refused = check_meeting(meeting(6), rules)
    assert not refused.valid and "not more than 2/3" in refused.reasons[0].message_en
    assert check_meeting(meeting(7), rules).valid
    assert check_meeting(meeting(6)).valid


def test_unknown_key_names_file_and_key():
    text, origin = read_data("protection_governance")
    text = text.replace("directors = 9", "directors = 9\nchair = \"Zhao\"", 1)
    with pytest.raises(ProtectionDataError, match="protection_governance.toml: board: chair"):
        parse_governance_rules(text, origin)
