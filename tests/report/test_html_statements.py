"""The HTML report of a case with several false statements: a section per statement with its dates and
totals, the statement in the base dates and the largest claims; the case total is the sum of the rows."""

import polars as pl
from test_html import BASE_DATES, results_frame

from redress.report.html import write_report

STATEMENTS = [
    {"id": "s1", "implementation_date": "2011-11-11", "disclosure_date": "2013-03-22"},
    {"id": "s2", "implementation_date": "2013-03-22", "disclosure_date": "2013-04-27"},
]


def two_statements() -> pl.DataFrame:
    first = results_frame().with_columns(pl.lit("s1").alias("statement"))
    second = results_frame().with_columns(pl.lit("s2").alias("statement"),
                                          (pl.col("compensation") * 0.5).round(2))
    keys = ("investor_id", "security", "statement")
    columns = list(keys) + [c for c in first.columns if c not in keys]
    return pl.concat([first, second]).select(columns)


def write(tmp_path, rule="each"):
    results = two_statements()
    base = [dict(b, statement=s["id"]) for s in STATEMENTS for b in BASE_DATES]
    path = write_report(tmp_path / "r.html", case_name="Hailianxun", results=results, base_dates=base,
                        statements=STATEMENTS, statements_rule=rule)
    return results, path.read_text(encoding="utf-8")


def _section(text: str, anchor: str) -> str:
    start = text.index(f'<section id="{anchor}">')
    return text[start:text.index("</section>", start)]


def test_each_statement_has_its_dates_and_totals(tmp_path):
    results, text = write(tmp_path)
    section = _section(text, "statements")
    assert "按虚假陈述统计" in section and "By false statement" in section
    for s in STATEMENTS:
        assert f'id="statement-{s["id"]}"' in section
        assert f'{s["implementation_date"]} – {s["disclosure_date"]}' in section
    # totals per statement, exact to the fen: s1 pays 7,760.08 + 10,013.00 + 1,802.34; s2 half of each
    assert "19,575.42" in section and "9,787.71" in section
    assert "29,363.13" in section  # the case total is the sum of both statements' rows
    summary = _section(text, "summary")
    assert "29,363.13" in summary
    assert "Rule each" in section


def test_best_for_investor_explains_the_rule(tmp_path):
    _, text = write(tmp_path, "best_for_investor")
    assert "Rule best_for_investor" in _section(text, "statements")


def test_base_dates_and_largest_claims_name_the_statement(tmp_path):
    _, text = write(tmp_path)
    base = _section(text, "base-dates")
    assert "Statement" in base and base.count('<td class="id">s1</td>') == 1
    largest = _section(text, "largest")
    assert '<td class="id">s2</td>' in largest and '<td class="id">s1</td>' in largest


def test_one_statement_report_has_no_statement_section(tmp_path):
    path = write_report(tmp_path / "one.html", case_name="c", results=results_frame(), base_dates=BASE_DATES)
    text = path.read_text(encoding="utf-8")
    assert 'id="statements"' not in text and "Statement" not in text
