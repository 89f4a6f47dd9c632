"""The story of a case with several false statements: each statement told separately with its own dates,
and under best_for_investor which statement is paid and why, in Chinese and in English."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from support.cases import day

from redress import i18n
from redress.engine.explain import ChoiceReason, explain
from redress.engine.pipeline import prepare
from redress.portal import story as S
from tests.engine.test_explain_statements import statements_case

TEMPLATES = Path(S.__file__).parents[1] / "web" / "templates"
ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined)
i18n.install(ENV)


def told(root: Path, rule: str, investor: str = "A") -> S.Story:
    return S.tell(explain(prepare(statements_case(root, rule)), investor))


def test_each_statement_is_told_with_its_own_dates(tmp_path):
    story = told(tmp_path / "c", "each")
    s1, s2 = story.securities
    assert (s1.statement, s1.window_start.isoformat(), s1.window_end.isoformat()) == ("s1", day(3), day(10))
    assert (s2.statement, s2.window_start.isoformat(), s2.window_end.isoformat()) == ("s2", day(10), day(20))
    assert (s1.compensation_fen, s2.compensation_fen, story.compensation_fen) == (500650, 350455, 851105)
    with i18n.use("en"):
        assert s1.statement_line() == (f"False statement s1: made on {i18n.date(s1.window_start)}, "
                                       f"disclosed on {i18n.date(s1.window_end)}.")
        assert "you bought 1,000 shares of 600001 at an average cost of 9.50 yuan" in s2.paragraph()
        assert story.summary() == "Your compensation under all the false statements: 8,511.05 yuan."
        html = ENV.get_template("_explanation.html").render(story=story)
    assert 'id="story-600001-s1"' in html and 'id="story-600001-s2"' in html
    assert "Security 600001, false statement s2" in html
    with i18n.use("zh"):
        assert s2.statement_line() == "虚假陈述s2：2021年3月12日实施，2021年3月26日揭露。"
        assert story.summary() == "您在各项虚假陈述下的赔付金额合计为8,511.05元。"
        html = ENV.get_template("_explanation.html").render(story=story)
    assert "股票600001，虚假陈述s1" in html and "story-others" not in html


def test_best_for_investor_says_which_statement_is_paid_and_why(tmp_path):
    story = told(tmp_path / "c", "best_for_investor")
    (owed,) = story.securities
    (other,) = story.others
    (choice,) = story.choices
    assert (owed.statement, other.statement) == ("s1", "s2")
    assert (choice.statement, choice.reason, choice.compensation_fen) == (
        "s1", ChoiceReason.HIGHEST_COMPENSATION, 500650)
    with i18n.use("en"):
        assert choice.words() == ("Of the 2 false statements, statement s1 gives you the most for 600001 "
                                  "(5,006.50 yuan), so that is the one paid.")
        html = ENV.get_template("_explanation.html").render(story=story)
    assert "What the other false statements would give" in html
    assert html.index("statement s1 gives you the most") < html.index("story-others")
    with i18n.use("zh"):
        assert choice.words() == ("在2项虚假陈述中，按虚假陈述s1计算，您的600001赔付金额最高（5,006.50元），"
                                  "因此按这一项赔付。")
        assert story.summary() == "您的赔付金额为5,006.50元。"


def test_ties_are_explained(tmp_path):
    root = tmp_path / "c"
    prep = prepare(statements_case(root, "best_for_investor"))
    (first,) = S.tell(explain(prep, "B")).choices
    (better,) = S.tell(explain(prep, "C")).choices
    with i18n.use("en"):
        assert "statement s1, listed first, is used" in first.words()
        assert "statement s2 is used because your result under it ranks better" in better.words()
    with i18n.use("zh"):
        assert "按排在最前的虚假陈述s1认定" in first.words()
        assert "按虚假陈述s2计算的结果更优" in better.words()
