"""Several false statements in one case (loss-rules.md section 9, formats.md ``[[case.statements]]``)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from redress import synth
from redress.engine.batch import compute_case
from redress.engine.pipeline import OUTPUT_COLUMNS, compute_case_dir, prepare, write_results
from redress.engine.statements import compute_case_results
from redress.errors import CaseError
from redress.law.plan import StatementsRule, load_case
from redress.market.calendar import sessions
from support.cases import day, write_case

HEAD = """[case]
id = "multi"
name = "Chained statements"
rules = "spc2022"
direction = "inflation"
securities = ["600001"]
{extra}
[plan]
cost_method = "moving_average"
commission_rate = 0.0003
stamp_duty_rate = 0.001
"""

STATEMENT = """
[[case.statements]]
id = "{sid}"
implementation_date = "{i}"
disclosure_date = "{d}"
{more}"""

TRADES = [
    f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",    # in s1's window
    f"A,a1,600001,{day(12)},10:00:00,1,B,500,11.00",    # in s2's window
    f"A,a1,600001,{day(22)},10:00:00,1,S,400,8.00",
    f"B,b1,600001,{day(14)},10:00:00,1,B,300,10.50",    # s2 only
    f"C,c1,600001,{day(1)},10:00:00,1,B,200,9.00",      # before every window
    f"D,d1,600001,{day(6)},10:00:00,1,B,100,7.00",      # s1 only, bought below the base price: no loss
]


def statements_toml(statements: list[tuple[str, int, int, str]], rule: str | None = None) -> str:
    extra = f'statements_rule = "{rule}"' if rule else ""
    return HEAD.format(extra=extra) + "".join(
        STATEMENT.format(sid=sid, i=day(i), d=day(d), more=more) for sid, i, d, more in statements)


def one_statement_toml(i: int, d: int, more: str = "") -> str:
    case = f'implementation_date = "{day(i)}"\ndisclosure_date = "{day(d)}"\n{more}'
    return HEAD.format(extra=case)


CHAINED = [("s1", 3, 10, ""), ("s2", 10, 20, "")]


def multi_case(root: Path, statements=CHAINED, rule: str | None = None, trades=TRADES) -> Path:
    return write_case(root, trades=trades, d=10, toml=statements_toml(statements, rule))


def single_case(root: Path, i: int, d: int, more: str = "", trades=TRADES) -> Path:
    return write_case(root, trades=trades, d=10, toml=one_statement_toml(i, d, more))


# ------------------------------------------------------------------------------------------------ loading


def test_the_api_a_one_statement_case_has_one_statement_without_id(tmp_path):
    case = load_case(single_case(tmp_path / "one", 3, 20))
    assert not case.has_statements
    assert len(case.statements) == 1 and case.statements[0].id is None
    assert case.statements_rule == StatementsRule.EACH
    assert case.for_statement(case.statements[0]) == case


def test_the_api_statements_and_their_one_statement_cases(tmp_path):
    case = load_case(multi_case(tmp_path / "m", rule="best_for_investor"))
    assert case.has_statements and case.statements_rule == StatementsRule.BEST_FOR_INVESTOR
    assert [s.id for s in case.statements] == ["s1", "s2"]
    s2 = case.for_statement("s2")
    assert (s2.implementation_date.isoformat(), s2.disclosure_date.isoformat()) == (day(10), day(20))
    assert s2.statements == (case.statements[1],)
    with pytest.raises(KeyError):
        case.for_statement("nope")


def refusal(tmp_path: Path, toml: str) -> str:
    write_case(tmp_path / "bad", toml=toml)
    with pytest.raises(CaseError) as exc:
        load_case(tmp_path / "bad")
    return str(exc.value)


def test_refused_both_forms_at_once(tmp_path):
    toml = statements_toml(CHAINED).replace('name = "Chained statements"',
                                            f'name = "x"\nimplementation_date = "{day(3)}"')
    message = refusal(tmp_path, toml)
    assert "case.implementation_date" in message and "[[case.statements]]" in message


def test_refused_an_empty_list(tmp_path):
    message = refusal(tmp_path, HEAD.format(extra="statements = []"))
    assert "case.statements: is an empty list" in message


def test_refused_a_duplicate_id(tmp_path):
    message = refusal(tmp_path, statements_toml([("s1", 3, 10, ""), ("s1", 10, 20, "")]))
    assert "case.statements[2].id: duplicate id 's1'" in message


def test_refused_implementation_after_disclosure(tmp_path):
    message = refusal(tmp_path, statements_toml([("s1", 3, 10, ""), ("s2", 25, 20, "")]))
    assert "case.statements[2].disclosure_date" in message and "not after the implementation date" in message


def test_refused_overlapping_windows_under_each_naming_both(tmp_path):
    message = refusal(tmp_path, statements_toml([("s1", 3, 12, ""), ("s2", 10, 20, "")]))
    assert "case.statements" in message and "'s1'" in message and "'s2'" in message and "overlap" in message


def test_overlapping_windows_allowed_for_best_for_investor(tmp_path):
    case = load_case(multi_case(tmp_path / "m", [("s1", 3, 12, ""), ("s2", 10, 20, "")], "best_for_investor"))
    assert len(case.statements) == 2


def test_refused_unknown_keys_naming_the_statement(tmp_path):
    message = refusal(tmp_path, statements_toml([("s1", 3, 10, "colour = 1\n"), ("s2", 10, 20, "")]))
    assert "case.statements[1].colour: unknown key" in message


def test_refused_missing_dates_and_id(tmp_path):
    toml = HEAD.format(extra="") + "\n[[case.statements]]\nimplementation_date = \"2021-03-03\"\n"
    message = refusal(tmp_path, toml)
    assert "case.statements[1].id: missing required key" in message
    assert "case.statements[1].disclosure_date: missing required key" in message


def test_refused_unknown_statements_rule(tmp_path):
    message = refusal(tmp_path, statements_toml(CHAINED, "most"))
    assert "case.statements_rule: unknown value 'most'" in message


# ------------------------------------------------------------------------------------------------ results


def strip(table: pl.DataFrame) -> pl.DataFrame:
    return table.drop("statement")


def test_each_statement_computes_exactly_as_a_one_statement_case(tmp_path):
    multi = compute_case_dir(multi_case(tmp_path / "m"))
    assert multi.columns == OUTPUT_COLUMNS[:2] + ["statement"] + OUTPUT_COLUMNS[2:]
    for k, (sid, i, d, _) in enumerate(CHAINED):
        alone = compute_case_dir(single_case(tmp_path / sid, i, d))
        assert multi.filter(pl.col("statement") == sid).pipe(strip).equals(alone), sid
    # order: investor, security, then the statement's place in case.toml
    assert multi.select("investor_id", "statement").rows() == [
        (inv, sid) for inv in "ABCD" for sid in ("s1", "s2")]
    a = {r["statement"]: r for r in multi.filter(pl.col("investor_id") == "A").iter_rows(named=True)}
    assert a["s1"]["eligible_bought"] == 1000 and a["s2"]["eligible_bought"] == 500


def test_statement_order_follows_case_toml_not_the_ids(tmp_path):
    statements = [("z", 10, 20, ""), ("a", 3, 10, "")]
    multi = compute_case_dir(multi_case(tmp_path / "m", statements))
    assert multi.filter(pl.col("investor_id") == "A")["statement"].to_list() == ["z", "a"]


def test_a_statement_with_its_own_fixed_base(tmp_path):
    more = f'base_date = "{day(30)}"\nbase_price = 6.0\n'
    multi = compute_case_dir(multi_case(tmp_path / "m", [("s1", 3, 10, more), ("s2", 10, 20, "")]))
    alone = compute_case_dir(single_case(tmp_path / "one", 3, 10, more))
    assert multi.filter(pl.col("statement") == "s1").pipe(strip).equals(alone)
    assert set(multi.filter(pl.col("statement") == "s1")["base_price"].to_list()) == {6.0}
    assert 6.0 not in multi.filter(pl.col("statement") == "s2")["base_price"].to_list()


def test_best_for_investor_takes_the_highest_compensation(tmp_path):
    each = compute_case_dir(multi_case(tmp_path / "e"))
    best = compute_case_dir(multi_case(tmp_path / "b", rule="best_for_investor"))
    assert best.columns == each.columns
    assert best["investor_id"].to_list() == ["A", "B", "C", "D"]
    for row in best.iter_rows(named=True):
        rows = each.filter(pl.col("investor_id") == row["investor_id"])
        assert row["compensation"] == rows["compensation"].max()
        chosen = rows.filter(pl.col("statement") == row["statement"]).row(0, named=True)
        assert chosen == row
    assert best.filter(pl.col("investor_id") == "A")["statement"].item() == "s1"  # 1000 shares beat 500
    assert best.filter(pl.col("investor_id") == "B")["statement"].item() == "s2"


def test_best_for_investor_ties_go_to_the_better_status_then_the_first_listed(tmp_path):
    best = compute_case_dir(multi_case(tmp_path / "b", rule="best_for_investor"))
    by_id = {r["investor_id"]: r for r in best.iter_rows(named=True)}
    # D: no_loss under s1 (bought at 7.00, below the base price), no_eligible_shares under s2: both pay 0
    assert (by_id["D"]["statement"], by_id["D"]["status"]) == ("s1", "no_loss")
    # C: no_eligible_shares under both: the statement listed first
    assert (by_id["C"]["statement"], by_id["C"]["status"]) == ("s1", "no_eligible_shares")
    reversed_ = compute_case_dir(multi_case(tmp_path / "r", [("s2", 10, 20, ""), ("s1", 3, 10, "")],
                                            "best_for_investor"))
    by_id = {r["investor_id"]: r for r in reversed_.iter_rows(named=True)}
    assert (by_id["D"]["statement"], by_id["D"]["status"]) == ("s1", "no_loss")
    assert by_id["C"]["statement"] == "s2"


def test_best_for_investor_equal_statements_take_the_first_listed(tmp_path):
    twins = [("later", 3, 10, ""), ("earlier", 3, 10, "")]
    best = compute_case_dir(multi_case(tmp_path / "b", twins, "best_for_investor"))
    assert set(best["statement"].to_list()) == {"later"}


def test_excluded_investor_ties_below_a_paying_statement(tmp_path):
    files = {"exclusions.csv": "investor_id,reason\nA,director\n"}
    root = write_case(tmp_path / "x", trades=TRADES, d=10, toml=statements_toml(CHAINED, "best_for_investor"),
                      files=files)
    best = compute_case_dir(root)
    assert best.filter(pl.col("investor_id") == "A")["status"].item() == "excluded"
    assert best.filter(pl.col("investor_id") == "A")["statement"].item() == "s1"


# ------------------------------------------------------------------------------------------------ paths


SYNTH_SHA256 = "7b172f85517d9ef2414a380c79b5dc4c033b987e1f8eefb3dc0c664733b3f27f"  # before statements existed


def test_one_statement_output_is_byte_identical_to_before(tmp_path):
    synth.generate_case(tmp_path / "c", n_trades=3000, seed=7, trades_format="csv")
    table = compute_case_dir(tmp_path / "c")
    assert "statement" not in table.columns
    write_results(table, tmp_path / "out.csv")
    assert hashlib.sha256((tmp_path / "out.csv").read_bytes()).hexdigest() == SYNTH_SHA256


def synth_multi(root: Path, rule: str = "each") -> Path:
    info = synth.generate_case(root, n_trades=3000, seed=7, trades_format="csv")
    text = (root / "case.toml").read_text(encoding="utf-8")
    i, d = info.implementation_date, info.disclosure_date
    between = sessions("XSHG").sessions_between(i, d)
    mid = between[len(between) // 2]
    text = text.replace(f'implementation_date = "{i}"\ndisclosure_date = "{d}"\n',
                        f'statements_rule = "{rule}"\n')
    text = text.replace("[plan]", f'[[case.statements]]\nid = "early"\nimplementation_date = "{i}"\n'
                                  f'disclosure_date = "{mid}"\n\n[[case.statements]]\nid = "late"\n'
                                  f'implementation_date = "{mid}"\ndisclosure_date = "{d}"\n\n[plan]', 1)
    (root / "case.toml").write_text(text, encoding="utf-8")
    assert load_case(root).has_statements
    return root


@pytest.mark.parametrize("rule", ["each", "best_for_investor"])
def test_in_memory_and_out_of_core_agree(tmp_path, rule):
    root = synth_multi(tmp_path / "c", rule)
    memory = compute_case(root, tmp_path / "memory.csv")
    part = compute_case(root, tmp_path / "part.csv", n_partitions=3)
    assert memory.n_partitions == 1 and part.n_partitions == 3
    assert (tmp_path / "part.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()
    assert part.summary == memory.summary
    assert part.statement_bases.keys() == memory.statement_bases.keys() == {"early", "late"}
    compute_case(root, tmp_path / "memory.parquet")
    compute_case(root, tmp_path / "part.parquet", n_partitions=3)
    assert pl.read_parquet(tmp_path / "part.parquet").equals(pl.read_parquet(tmp_path / "memory.parquet"))
    table = pl.read_csv(tmp_path / "memory.csv", infer_schema=False)
    per = 2 if rule == "each" else 1
    assert table.height == per * table["investor_id"].n_unique()


def test_rejected_rows_once_not_once_per_statement(tmp_path):
    root = multi_case(tmp_path / "m", trades=TRADES + [f"E,e1,600001,{day(7)},10:00:00,1,B,-5,10.00"])
    with pytest.raises(CaseError):
        compute_case(root, tmp_path / "refused.csv")
    memory = compute_case(root, tmp_path / "out.csv", skip_bad_rows=True)
    part = compute_case(root, tmp_path / "part.csv", skip_bad_rows=True, n_partitions=2)
    assert memory.rejected.height == 1 and part.rejected.height == 1
    assert (tmp_path / "part.csv").read_bytes() == (tmp_path / "out.csv").read_bytes()


def test_reading_is_shared_by_the_statements(tmp_path):
    prep = prepare(multi_case(tmp_path / "m"), keep_trade_columns=False)
    assert prep.statement_bases is not None and list(prep.statement_bases) == ["s1", "s2"]
    preps = prep.statement_preps()
    assert [p.case.disclosure_date.isoformat() for p in preps] == [day(10), day(20)]
    assert all(p.rec is prep.rec for p in preps)
    result = compute_case_results(prep)
    assert len(result.compensation_fen) == result.table.height == 8


def test_several_securities_listed_by_code_on_every_path(tmp_path):
    toml = statements_toml(CHAINED).replace('securities = ["600001"]', 'securities = ["600001", "000002"]')
    root = write_case(tmp_path / "m", trades=TRADES + [f"A,a1,000002,{day(6)},10:00:00,1,B,100,12.00"], d=10,
                      toml=toml)
    market = (root / "market.csv").read_text(encoding="utf-8")
    extra = [line.replace("600001", "000002", 1) for line in market.splitlines()[1:]]
    (root / "market.csv").write_text(market + "\n".join(extra) + "\n", encoding="utf-8")
    memory = compute_case(root, tmp_path / "memory.csv")
    compute_case(root, tmp_path / "part.csv", n_partitions=2)
    assert memory.statement_bases is not None
    table = pl.read_csv(tmp_path / "memory.csv", infer_schema=False)
    assert table.filter(pl.col("investor_id") == "A").select("security", "statement").rows() == [
        ("000002", "s1"), ("000002", "s2"), ("600001", "s1"), ("600001", "s2")]
    assert (tmp_path / "part.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()
