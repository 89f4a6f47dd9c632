"""Bad input is reported with file, line and reason; by default nothing is written."""

from __future__ import annotations

import polars as pl
import pytest

from redress.engine.pipeline import compute_case_dir
from redress.errors import CaseError
from support.cases import day, write_case

GOOD = f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00"


def refused(tmp_path, **kw) -> str:
    write_case(tmp_path, **kw)
    with pytest.raises(CaseError) as info:
        compute_case_dir(tmp_path)
    return str(info.value)


@pytest.mark.parametrize("row, reason", [
    (f"B,b1,600001,{day(6)},10:00:00,1,B,-100,12.00", "quantity '-100' must be a positive integer"),
    (f"B,b1,600001,{day(6)},10:00:00,1,B,0,12.00", "must be a positive integer"),
    (f"B,b1,600001,{day(6)},10:00:00,1,B,1.5,12.00", "must be a positive integer"),
    (f"B,b1,600001,{day(6)},10:00:00,1,B,abc,12.00", "quantity 'abc'"),
    (f"B,b1,600001,{day(6)},10:00:00,1,B,100,-1", "price '-1' must be a positive number"),
    (f"B,b1,600001,{day(6)},10:00:00,1,X,100,12.00", "side 'X' must be B (buy) or S (sell)"),
    (f"B,b1,999999,{day(6)},10:00:00,1,B,100,12.00", "unknown security '999999'"),
    ("B,b1,600001,2021-03-06,10:00:00,1,B,100,12.00", "the exchange was closed on 2021-03-06"),
    ("B,b1,600001,2021-13-01,10:00:00,1,B,100,12.00", "'2021-13-01' is not a valid date"),
    (f"B,b1,600001,{day(6)},25:00:00,1,B,100,12.00", "time '25:00:00' is not HH:MM:SS"),
    (f"B,b1,600001,{day(6)},10:00:00,x,B,100,12.00", "seq 'x' must be an integer"),
    (f",b1,600001,{day(6)},10:00:00,1,B,100,12.00", "missing investor_id"),
    (f"B,b1,600001,{day(6)},10:00:00,1,B,100", "fields, the header has 9"),
])
def test_bad_trade_row_is_named_with_line(tmp_path, row, reason):
    msg = refused(tmp_path, trades=[GOOD, row])
    assert "trades.csv:3" in msg
    assert reason in msg


def test_missing_column(tmp_path):
    write_case(tmp_path)
    (tmp_path / "trades.csv").write_text("investor_id,security,date\nA,600001,2021-03-05\n")
    with pytest.raises(CaseError, match=r"trades.csv:1: missing column\(s\) time, seq, side, quantity, price"):
        compute_case_dir(tmp_path)


def test_security_without_market_data(tmp_path):
    write_case(tmp_path)
    text = (tmp_path / "case.toml").read_text().replace('["600001"]', '["600001", "000002"]')
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(CaseError, match="no market data for security 000002"):
        compute_case_dir(tmp_path)


def test_trades_of_a_security_without_market_data_are_bad_rows(tmp_path):
    write_case(tmp_path, trades=[GOOD, f"B,b1,000002,{day(6)},10:00:00,1,B,100,12.00"])
    text = (tmp_path / "case.toml").read_text().replace('["600001"]', '["600001", "000002"]')
    (tmp_path / "case.toml").write_text(text)
    with pytest.raises(CaseError, match=r"trades.csv:3: no market data for security 000002 in market.csv"):
        compute_case_dir(tmp_path)
    table = compute_case_dir(tmp_path, skip_bad_rows=True)
    assert table["security"].to_list() == ["600001"]


def test_bad_market_and_position_rows(tmp_path):
    msg = refused(tmp_path, positions=["A,a1,600001,-5"], files={})
    assert "positions.csv:2" in msg and "non-negative integer" in msg
    write_case(tmp_path)
    with (tmp_path / "market.csv").open("a") as fh:
        fh.write(f"600001,{day(1)},10.00,100,1000\n")
    with pytest.raises(CaseError, match="duplicate market row"):
        compute_case_dir(tmp_path)


def test_skip_bad_rows_computes_the_rest_and_keeps_the_rejected(tmp_path):
    write_case(tmp_path, trades=[GOOD, f"B,b1,600001,{day(6)},10:00:00,1,B,-100,12.00",
                                 f"C,c1,600001,{day(6)},10:00:00,1,B,100,11.00"])
    table = compute_case_dir(tmp_path, skip_bad_rows=True)
    assert sorted(table["investor_id"].to_list()) == ["A", "C"]


def test_no_trading_day_after_disclosure(tmp_path):
    msg = refused(tmp_path, market_days=15)
    assert "no trading day" in msg and "600001" in msg


def test_both_csv_and_parquet_is_ambiguous(tmp_path):
    write_case(tmp_path)
    pl.read_csv(tmp_path / "trades.csv", infer_schema=False).write_parquet(tmp_path / "trades.parquet")
    with pytest.raises(CaseError, match="both trades.csv and trades.parquet"):
        compute_case_dir(tmp_path)


def test_parquet_trades_give_the_same_result(tmp_path):
    csv_dir = write_case(tmp_path / "csv")
    pq_dir = write_case(tmp_path / "pq")
    typed = pl.read_csv(pq_dir / "trades.csv", schema_overrides={"date": pl.Date, "investor_id": pl.String,
                                                                "account_id": pl.String, "security": pl.String,
                                                                "time": pl.String})
    (pq_dir / "trades.csv").unlink()
    typed.write_parquet(pq_dir / "trades.parquet")
    assert compute_case_dir(csv_dir).equals(compute_case_dir(pq_dir))


def test_parquet_bad_row_is_numbered(tmp_path):
    write_case(tmp_path)
    pl.DataFrame({"investor_id": ["A", "B"], "security": ["600001", "600001"], "date": [day(5), day(6)],
                  "time": ["", ""], "seq": [1, 2], "side": ["B", "B"], "quantity": [100, -3],
                  "price": [1.0, 2.0]}).with_columns(pl.col("date").str.to_date()).write_parquet(
        tmp_path / "trades.parquet")
    (tmp_path / "trades.csv").unlink()
    with pytest.raises(CaseError, match=r"trades.parquet:2: quantity '-3'"):
        compute_case_dir(tmp_path)


def test_security_codes_found_by_the_checks_stay_aligned_with_the_good_rows(tmp_path):
    """With two securities, the codes the checks computed are handed to the engine for the rows kept, so bad rows
    set aside in between must not shift them."""
    from redress.law.plan import load_case
    from redress.trades.tables import read_case_tables, security_codes

    market = "".join(f"000002,{day(k)},{'20.00' if k < 20 else '15.00'},10000,1000000\n" for k in range(1, 61))
    write_case(tmp_path, trades=[GOOD, f"B,b1,000002,{day(6)},10:00:00,1,B,-100,12.00",
                                 f"C,c1,000002,{day(6)},10:00:00,1,B,100,21.00",
                                 f"D,d1,600001,{day(7)},10:00:00,1,B,bad,11.00",
                                 f"E,e1,000002,{day(8)},10:00:00,1,B,300,21.00"],
               positions=["F,f1,000002,500", "F,f1,600001,-1", "G,g1,600001,200"])
    with (tmp_path / "market.csv").open("a") as fh:
        fh.write(market)
    text = (tmp_path / "case.toml").read_text().replace('["600001"]', '["600001", "000002"]')
    (tmp_path / "case.toml").write_text(text)
    case = load_case(tmp_path)
    tables = read_case_tables(tmp_path, case, skip_bad_rows=True)
    for name in ("trades", "positions"):
        frame = getattr(tables, name)
        assert tables.security_codes[name].tolist() == security_codes(frame["security"], case.securities).tolist()
    assert tables.security_codes["trades"].tolist() == [0, 1, 1]
    assert tables.security_codes["positions"].tolist() == [1, 0]
    table = compute_case_dir(tmp_path, skip_bad_rows=True)
    assert sorted(zip(table["investor_id"], table["security"])) == [
        ("A", "600001"), ("C", "000002"), ("E", "000002"), ("F", "000002"), ("G", "600001")]


def test_an_index_without_a_close_where_the_relative_ratio_needs_one_is_refused(tmp_path):
    """The index's closes start after a buy that still counts: the ratio cannot be computed for that investor,
    and the case is refused naming the index, its first close and what to do (nothing is written)."""
    closes = "".join(f"IDX,{day(k)},{1000 if k < 20 else 900}\n" for k in range(8, 61))
    write_case(tmp_path, trades=[GOOD, f"B,b1,600001,{day(9)},10:00:00,1,B,100,11.00",
                                 f"C,c1,600001,{day(10)},10:00:00,1,B,100,11.00"],
               extra_plan='[plan.systemic_risk]\nmethod = "relative_ratio"\nindices = { "IDX" = 1.0 }\n',
               files={"indices.csv": "index,date,close\n" + closes})
    with pytest.raises(CaseError, match=rf"indices.csv: index IDX has no close on or before a date the relative_ratio "
                                        rf"method needs \(its first close is {day(8)};"):
        compute_case_dir(tmp_path)
    (tmp_path / "indices.csv").write_text("index,date,close\n" + closes.replace(f"IDX,{day(8)},", f"IDX,{day(5)},"))
    table = compute_case_dir(tmp_path)  # with a close on A's buy date, every investor has a ratio
    assert table["investor_id"].to_list() == ["A", "B", "C"]
