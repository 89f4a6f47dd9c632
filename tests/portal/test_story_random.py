"""The story agrees with the engine on random valid cases: every figure is the explanation's, the compensation
is what ``compute`` pays to the fen, the sentences carry those figures as formatted in each language, and the
page partial renders."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from redress import i18n
from redress.engine.explain import explain
from redress.engine.pipeline import compute, prepare
from redress.portal import story as S
from tests.property.strategies import CaseSpec, case_specs, write_case

TEMPLATES = Path(S.__file__).parents[1] / "web" / "templates"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined)
    i18n.install(env)
    return env


ENV = environment()


def check_security(sec: S.SecurityStory, row: dict, paid_fen: int, deflation: bool) -> None:
    assert sec.status == row["status"]
    assert sec.compensation_fen == paid_fen, (sec.security, sec.compensation_fen, paid_fen)
    assert sec.window_shares == row["eligible_bought"]
    assert sec.closed_shares == row["q_sold"]
    assert sec.open_shares == row["q_held"]
    assert sec.window_price == (row["avg_sell"] if deflation else row["avg_buy"])
    assert sec.closed_price == (row["avg_buy"] if deflation else row["avg_sell"])
    assert sec.base_price == row["base_price"]
    for name, column in [("difference_loss_fen", "difference_loss"), ("systemic_fen", "systemic_deduction"),
                         ("net_loss_fen", "net_loss"), ("commission_fen", "commission"),
                         ("stamp_duty_fen", "stamp_duty"), ("interest_fen", "interest")]:
        assert getattr(sec, name) == round(row[column] * 100), name
    assert (sec.compensation_fen > 0) == (sec.outcome == S.Outcome.PAID)
    for lang in ("zh", "en"):
        with i18n.use(lang):
            text = sec.paragraph()
            assert text
            if sec.outcome not in (S.Outcome.EXCLUDED, S.Outcome.NOT_IN_WINDOW, S.Outcome.NO_NET_SALE):
                assert S.shares(sec.window_shares) in text
                assert S.price(sec.window_price) in text
                assert i18n.date(sec.window_start) in text and i18n.date(sec.window_end) in text
            if sec.outcome == S.Outcome.PAID:
                assert i18n.money(sec.compensation_fen) in text
                assert i18n.money(sec.difference_loss_fen) in text
                assert i18n.money(sec.commission_fen) in text and i18n.money(sec.stamp_duty_fen) in text
                if sec.closed_shares > 0:
                    assert S.shares(sec.closed_shares) in text and S.price(sec.closed_price) in text
                if sec.open_shares > 0:
                    assert S.shares(sec.open_shares) in text and S.price(sec.base_price) in text
                if sec.systemic_fen > 0:
                    assert i18n.money(sec.systemic_fen) in text
                if sec.interest_claimed:
                    assert i18n.money(sec.interest_fen) in text
            if lang == "en":
                assert not any("\u4e00" <= ch <= "\u9fff" for ch in text), text
            details = sec.details()
            assert [d.label for d in details]
            raw = {s.label for s in sec.steps}
            assert not raw & {d.label for d in details}, "a step the story has no words for"
            assert not S.unnamed_citations(s.article for s in sec.steps)
            lines = sec.trade_lines()
            assert len(lines) == len(sec.trades)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=case_specs())
def test_story_matches_the_engine(spec: CaseSpec) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        case_dir = write_case(Path(tmp), spec)
        prep = prepare(case_dir)
        result = compute(prep)
        paid = {(r["investor_id"], r["security"]): int(fen)
                for r, fen in zip(result.table.iter_rows(named=True), result.compensation_fen, strict=True)}
        rows = {(r["investor_id"], r["security"]): r for r in result.table.iter_rows(named=True)}
        deflation = spec.case["direction"] == "deflation"
        for investor in sorted({k[0] for k in paid}):
            told = S.tell(explain(prep, investor))
            assert told.compensation_fen == sum(v for k, v in paid.items() if k[0] == investor)
            for sec in told.securities:
                event(f"{spec.case['direction']}: {sec.outcome}")
                check_security(sec, rows[(investor, sec.security)], paid[(investor, sec.security)], deflation)
            for lang in ("zh", "en"):
                with i18n.use(lang):
                    html = ENV.get_template("_explanation.html").render(story=told)
                    assert 'class="story"' in html and "<details>" in html


def test_story_matches_the_engine_on_a_synthetic_case(tmp_path) -> None:
    """A generated case (bonus shares inside the window, opening positions, exclusions): every investor."""
    from redress.synth import generate_case

    case_dir = tmp_path / "case"
    generate_case(case_dir, n_trades=1500, n_investors=80, seed=7, trades_format="csv", name="story")
    prep = prepare(case_dir)
    result = compute(prep)
    rows = list(result.table.iter_rows(named=True))
    outcomes = set()
    for row, paid in zip(rows, result.compensation_fen, strict=True):
        told = S.tell(explain(prep, row["investor_id"]))
        sec = next(s for s in told.securities if s.security == row["security"])
        outcomes.add(sec.outcome)
        check_security(sec, row, int(paid), prep.case.direction.value == "deflation")
        with i18n.use("zh"):
            ENV.get_template("_explanation.html").render(story=told)
    assert S.Outcome.PAID in outcomes and len(outcomes) >= 3, outcomes
