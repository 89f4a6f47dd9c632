"""``explain`` for a case with several false statements (loss-rules.md section 9): one section per statement,
each computed as the one-statement case with that statement's dates, and under ``best_for_investor`` the
statement paid for each security with the reason in words."""

from __future__ import annotations

import json
from pathlib import Path

from support.cases import day, write_case
from typer.testing import CliRunner

from redress.cli.main import app
from redress.engine.explain import ChoiceReason, explain
from redress.engine.pipeline import prepare

runner = CliRunner()


def statements_case(root: Path, rule: str = "each") -> Path:
    """Two chained statements: s1 buys in [day 3, day 10), s2 in [day 10, day 20).

    Closes are 12.00 before day 10, 9.00 from day 10 and 6.00 from day 20; turnover is 1% a day, so B is
    the 30th trading day from each D (SPC-2022 Art. 26): s1 has P_B = (10 * 9 + 20 * 6) / 30 = 7.00 and
    s2 has P_B = 6.00.

    - A buys 1,000 at 12.00 on day 5 (s1) and 1,000 at 9.50 on day 15 (s2), and sells nothing.
      s1: (12.00 - 7.00) * 1,000 = 5,000.00 + commission 1.50 + stamp duty 5.00 = 5,006.50.
      s2: (9.50 - 6.00) * 1,000 = 3,500.00 + 1.05 + 3.50 = 3,504.55.
    - B buys only on day 25, after both disclosures: no_eligible_shares under both (a tie: listed first).
    - C buys 1,000 at 5.00 on day 15: no_eligible_shares under s1, a gain (no_loss) under s2 (a tie at 0.00
      that the better status breaks).
    """
    toml = f"""[case]
id = "chained"
name = "Two chained statements"
rules = "spc2022"
direction = "inflation"
securities = ["600001"]
statements_rule = "{rule}"

[[case.statements]]
id = "s1"
implementation_date = "{day(3)}"
disclosure_date = "{day(10)}"

[[case.statements]]
id = "s2"
implementation_date = "{day(10)}"
disclosure_date = "{day(20)}"

[plan]
cost_method = "moving_average"
commission_rate = 0.0003
stamp_duty_rate = 0.001
"""
    market = "security,date,close,volume,tradable_shares\n" + "".join(
        f"600001,{day(k)},{'12.00' if k < 10 else '9.00' if k < 20 else '6.00'},10000,1000000\n"
        for k in range(1, 61))
    trades = [f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
              f"A,a1,600001,{day(15)},10:00:00,1,B,1000,9.50",
              f"B,b1,600001,{day(25)},10:00:00,1,B,1000,6.00",
              f"C,c1,600001,{day(15)},10:00:00,1,B,1000,5.00"]
    return write_case(root, toml=toml, trades=trades, files={"market.csv": market})


def _rows(expl) -> dict[str, dict]:
    return {section.id: section.securities[0].result for section in expl.statements}


def test_each_statement_is_explained_with_its_own_dates_and_base(tmp_path):
    expl = explain(prepare(statements_case(tmp_path / "case")), "A")
    assert expl.statements_rule == "each"
    assert [(s.id, s.implementation_date, s.disclosure_date) for s in expl.statements] == [
        ("s1", day(3), day(10)), ("s2", day(10), day(20))]
    rows = _rows(expl)
    assert (rows["s1"]["base_price"], rows["s1"]["compensation"]) == (7.0, 5006.50)
    assert (rows["s2"]["base_price"], rows["s2"]["compensation"]) == (6.0, 3504.55)
    s1, s2 = (section.securities[0] for section in expl.statements)
    assert s1.base["base_date"] == day(39) and s2.base["base_date"] == day(49)
    window = {sec.statement: next(st for st in sec.steps if st.label == "buy window [I, D)")
              for sec in (s1, s2)}
    assert window["s1"].value == f"[{day(3)}, {day(10)})" and window["s2"].value == f"[{day(10)}, {day(20)})"
    # the day-5 lot is eligible under s1 and bought before the window of s2
    assert [t.lot_class for t in s1.trades] == ["eligible", "post"]
    assert [t.lot_class for t in s2.trades] == ["pre", "eligible"]
    # under "each" the investor is owed every statement's row, in the order of case.toml
    assert [(x.security, x.statement) for x in expl.securities] == [("600001", "s1"), ("600001", "s2")]
    assert expl.choices == []


def test_best_for_investor_names_the_statement_and_why(tmp_path):
    prep = prepare(statements_case(tmp_path / "case", "best_for_investor"))
    a = explain(prep, "A")
    (choice,) = a.choices
    assert (choice.statement, choice.reason) == ("s1", ChoiceReason.HIGHEST_COMPENSATION)
    assert "5,006.50" in choice.words and "highest" in choice.words and "s2: 3,504.55" in choice.words
    assert [(x.statement, x.result["compensation"]) for x in a.securities] == [("s1", 5006.50)]
    assert len(a.statements) == 2  # both computations are still shown

    (tie,) = explain(prep, "B").choices
    assert (tie.statement, tie.reason) == ("s1", ChoiceReason.LISTED_FIRST)
    assert "listed first" in tie.words

    (status,) = explain(prep, "C").choices
    assert [(c.statement, c.status) for c in status.candidates] == [("s1", "no_eligible_shares"),
                                                                     ("s2", "no_loss")]
    assert (status.statement, status.reason) == ("s2", ChoiceReason.BETTER_STATUS)
    assert "no_loss" in status.words


def test_the_command_prints_one_section_per_statement_and_the_choice(tmp_path):
    case = statements_case(tmp_path / "case", "best_for_investor")
    res = runner.invoke(app, ["explain", str(case), "A"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert f"Statement 虚假陈述 s1: I = {day(3)}, D = {day(10)}" in text
    assert f"Statement 虚假陈述 s2: I = {day(10)}, D = {day(20)}" in text
    assert "statement s1 is chosen because its compensation, 5,006.50 yuan, is the highest" in text
    assert "Owed 应赔合计: 5,006.50 yuan" in text
    data = json.loads(runner.invoke(app, ["explain", str(case), "A", "--json"]).stdout)
    assert data["statements_rule"] == "best_for_investor"
    assert [s["id"] for s in data["statements"]] == ["s1", "s2"]
    assert data["choices"][0]["reason"] == "highest_compensation"
    assert data["securities"][0]["statement"] == "s1"


def test_each_prints_the_sum_owed(tmp_path):
    res = runner.invoke(app, ["explain", str(statements_case(tmp_path / "case")), "A"])
    assert res.exit_code == 0, res.output
    assert "Owed 应赔合计: 8,511.05 yuan" in " ".join(res.output.split())
    assert "Chosen statement" not in res.output


def test_one_statement_json_has_no_statement_keys(tmp_path):
    case = write_case(tmp_path / "case")
    data = json.loads(runner.invoke(app, ["explain", str(case), "A", "--json"]).stdout)
    assert "statements" not in data and "choices" not in data and "statements_rule" not in data
    assert "statement" not in data["securities"][0]
    assert list(data) == ["investor_id", "case_id", "rules", "direction", "plan", "exclusion", "securities"]
