import datetime as dt
import tomllib

import exchange_calendars as xcals
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from redress import synth

N_TRADES = 6_000
STRING_COLUMNS = {"investor_id": pl.Utf8, "account_id": pl.Utf8, "security": pl.Utf8, "time": pl.Utf8}


def read_trades(path):
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, schema_overrides=STRING_COLUMNS).with_columns(pl.col("date").str.to_date())


def read_csv(path, **overrides):
    return pl.read_csv(path, schema_overrides=overrides, try_parse_dates=True)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    out = tmp_path_factory.mktemp("case")
    return synth.generate_case(out, n_trades=N_TRADES, seed=11, trades_format="csv")


@pytest.fixture(scope="module")
def parquet_case(tmp_path_factory):
    out = tmp_path_factory.mktemp("case_pq")
    return synth.generate_case(out, n_trades=N_TRADES, seed=11, trades_format="parquet")


@pytest.fixture(scope="module")
def sessions():
    calendar = xcals.get_calendar("XSHG")
    days = calendar.sessions_in_range(synth.PERIOD_START, synth.PERIOD_END)
    return {d.date() for d in days}


def test_files_have_the_spec_columns(case):
    d = case.case_dir
    expected = {
        "market.csv": "security,date,close,volume,tradable_shares",
        "trades.csv": "investor_id,account_id,security,date,time,seq,side,quantity,price",
        "positions.csv": "investor_id,account_id,security,quantity",
        "indices.csv": "index,date,close",
        "actions.csv": "security,ex_date,share_ratio,cash_dividend",
        "exclusions.csv": "investor_id,reason",
    }
    for name, header in expected.items():
        with open(d / name, encoding="utf-8") as f:
            assert f.readline().rstrip("\n") == header, name
    assert case.trades_path == d / "trades.csv"


def test_case_toml(case):
    toml = tomllib.loads(case.case_toml.read_text(encoding="utf-8"))
    assert toml["case"]["rules"] == "spc2022"
    assert toml["case"]["direction"] == "inflation"
    assert toml["case"]["securities"] == [case.security]
    assert dt.date.fromisoformat(toml["case"]["implementation_date"]) == case.implementation_date
    assert dt.date.fromisoformat(toml["case"]["disclosure_date"]) == case.disclosure_date
    plan = toml["plan"]
    assert plan["cost_method"] == "moving_average"
    assert plan["commission_rate"] == 0.0003
    assert plan["stamp_duty_rate"] == 0.001
    assert plan["minimum_payment"] == 0.0
    assert plan["systemic_risk"]["method"] == "relative_ratio"
    assert plan["systemic_risk"]["indices"] == {"000001": 0.5, "801150": 0.5}
    assert set(toml) == {"case", "plan"}


def test_dates_are_xshg_sessions(case, sessions):
    market = read_csv(case.market_path, security=pl.Utf8)
    indices = read_csv(case.indices_path, index=pl.Utf8)
    trades = read_trades(case.trades_path)
    assert set(market["date"]) == sessions
    for code in ("000001", "801150"):
        assert set(indices.filter(pl.col("index") == code)["date"]) == sessions
    assert set(trades["date"]) <= sessions
    for day in (case.implementation_date, case.disclosure_date, case.ex_date):
        assert day in sessions
    assert case.implementation_date < case.ex_date < case.disclosure_date
    window = sum(case.implementation_date <= s < case.disclosure_date for s in sessions)
    assert 200 <= window <= 270
    assert sum(s >= case.disclosure_date for s in sessions) >= 60


def test_turnover_reaches_full_float_after_twelve_to_twenty_days(case):
    market = read_csv(case.market_path, security=pl.Utf8)
    after = market.filter((pl.col("date") >= case.disclosure_date) & (pl.col("volume") > 0))
    cumulative = (after["volume"] / after["tradable_shares"]).cum_sum().to_numpy()
    k_star = int(np.argmax(cumulative >= 1.0)) + 1
    assert cumulative[-1] >= 1.0
    assert 12 <= k_star <= 20
    assert k_star == case.turnover_day
    assert 1 <= (market["volume"] == 0).sum() <= 2


def test_price_falls_sharply_on_disclosure(case):
    market = read_csv(case.market_path, security=pl.Utf8)
    before = market.filter(pl.col("date") < case.disclosure_date)["close"][-1]
    after = market.filter(pl.col("date") >= case.disclosure_date)["close"]
    assert 30.0 <= before <= 60.5
    assert after[0] <= before * 0.81
    assert 0.45 <= after[:10].min() / before <= 0.75


def test_closes_before_the_ex_date_are_unadjusted(case):
    market = read_csv(case.market_path, security=pl.Utf8)
    actions = read_csv(case.actions_path, security=pl.Utf8)
    assert actions.rows() == [(case.security, case.ex_date, 1.3, 0.1)]
    last_before = market.filter(pl.col("date") < case.ex_date)["close"][-1]
    on_ex_date = market.filter(pl.col("date") == case.ex_date)["close"][0]
    assert 1.3 * 0.8 < last_before / on_ex_date < 1.3 * 1.2


def test_trades_look_like_a_clearing_house_extract(case):
    trades = read_trades(case.trades_path)
    market = read_csv(case.market_path, security=pl.Utf8)
    assert trades.height == N_TRADES
    assert trades["investor_id"].n_unique() == case.n_investors == N_TRADES // 20
    assert trades["investor_id"].str.contains(r"^INV\d{8}$").all()
    assert trades["account_id"].str.contains(r"^A\d{9}$").all()
    accounts = trades.group_by("investor_id").agg(pl.col("account_id").n_unique())["account_id"]
    assert accounts.min() >= 1 and accounts.max() <= 3
    assert trades["account_id"].n_unique() <= case.n_accounts
    assert set(trades["side"]) == {"B", "S"}
    assert (trades["quantity"] > 0).all()
    assert (trades["quantity"] % 100 == 0).mean() > 0.97
    times = trades["time"].drop_nulls()
    assert times.str.contains(r"^(09:[3-5]\d|10:\d\d|11:[0-2]\d|13:\d\d|14:\d\d):[0-5]\d$").all()
    assert 0 < trades["time"].null_count() < 0.03 * N_TRADES
    assert trades.group_by("investor_id").agg(pl.col("seq").is_unique().all())["seq"].all()
    joined = trades.join(market.select("date", "close"), on="date")
    ratio = joined["price"] / joined["close"]
    assert ratio.min() >= 0.979 and ratio.max() <= 1.021
    assert (joined["price"] * 100 - (joined["price"] * 100).round()).abs().max() < 1e-6
    # Shuffled: not sorted by investor.
    assert not trades["investor_id"].is_sorted()


def test_investor_mix(case):
    trades = read_trades(case.trades_path)
    i, d = case.implementation_date, case.disclosure_date
    per_investor = trades.group_by("investor_id").agg(
        window_buy=((pl.col("side") == "B") & (pl.col("date") >= i) & (pl.col("date") < d)).any(),
        before_only=(pl.col("date") < i).all(),
        after_only=(pl.col("date") >= d).all(),
        sells_before_d=((pl.col("side") == "S") & (pl.col("date") >= i) & (pl.col("date") < d)).any(),
        sells_after_d=((pl.col("side") == "S") & (pl.col("date") >= d)).any(),
    )
    share = per_investor.select(pl.exclude("investor_id").mean()).row(0, named=True)
    assert share["window_buy"] > 0.6
    assert 0.03 < share["before_only"] < 0.2
    assert 0.03 < share["after_only"] < 0.2
    assert share["sells_before_d"] > 0.3
    assert share["sells_after_d"] > 0.2


def test_only_a_few_investors_oversell(case):
    trades = read_trades(case.trades_path)
    positions = pl.read_csv(case.positions_path, schema_overrides=STRING_COLUMNS)
    ex_date = case.ex_date
    opening = positions.group_by("investor_id").agg(pl.col("quantity").sum().alias("opening"))
    restated = (
        trades.with_columns(
            (
                pl.when(pl.col("side") == "B").then(1).otherwise(-1)
                * pl.col("quantity")
                * pl.when(pl.col("date") < ex_date).then(1.3).otherwise(1.0)
            ).alias("signed")
        )
        .sort("investor_id", "date", pl.col("time").fill_null(""), "seq")
        .join(opening, on="investor_id", how="left")
        .with_columns(
            (pl.col("signed").cum_sum().over("investor_id") + pl.col("opening").fill_null(0)).alias("held")
        )
    )
    oversold = restated.filter(pl.col("held") < -1e-6)["investor_id"].unique()
    assert 1 <= len(oversold) <= 0.02 * case.n_investors
    assert not set(oversold) & set(positions["investor_id"])


def test_positions_and_exclusions_name_known_investors(case):
    trades = read_trades(case.trades_path)
    positions = pl.read_csv(case.positions_path, schema_overrides=STRING_COLUMNS)
    exclusions = pl.read_csv(case.exclusions_path)
    known = set(trades["investor_id"])
    assert positions.height == case.n_positions > 0
    assert set(positions["investor_id"]) <= known
    assert (positions["quantity"] % 100 == 0).all()
    assert 1 <= exclusions.height == case.n_exclusions <= 10
    assert set(exclusions["investor_id"]) <= known
    assert exclusions["reason"].str.contains("控股股东 controlling shareholder").any()


def test_deterministic_for_a_seed(case, tmp_path):
    again = synth.generate_case(tmp_path / "again", n_trades=N_TRADES, seed=11)
    for name in ("case.toml", "market.csv", "indices.csv", "trades.csv", "positions.csv", "exclusions.csv"):
        assert (again.case_dir / name).read_bytes() == (case.case_dir / name).read_bytes(), name
    other = synth.generate_case(tmp_path / "other", n_trades=N_TRADES, seed=12)
    assert (other.case_dir / "trades.csv").read_bytes() != (case.case_dir / "trades.csv").read_bytes()


def test_parquet_and_csv_hold_the_same_rows(case, parquet_case):
    schema = pq.read_schema(parquet_case.trades_path)
    assert schema.remove_metadata().equals(synth.TRADES_SCHEMA)
    assert schema.field("date").type == pa.date32()
    assert schema.field("quantity").type == pa.int64()
    assert schema.field("price").type == pa.float64()
    from_csv = read_trades(case.trades_path)
    from_parquet = read_trades(parquet_case.trades_path)
    assert from_csv.equals(from_parquet)


def test_chunks_keep_every_trade_and_mix_investors(tmp_path):
    info = synth.generate_case(
        tmp_path / "chunked", n_trades=20_000, seed=3, trades_format="parquet", chunk_rows=3_000
    )
    trades = pl.read_parquet(info.trades_path)
    assert trades.height == 20_000
    assert pq.ParquetFile(info.trades_path).num_row_groups >= 6
    assert trades["investor_id"].n_unique() == 1_000
    assert not trades["investor_id"].is_sorted()
    assert trades.group_by("investor_id").agg(pl.col("seq").is_unique().all())["seq"].all()


def test_unshuffled_trades_are_sorted_by_investor_then_time(tmp_path):
    info = synth.generate_case(tmp_path / "sorted", n_trades=2_000, seed=5, shuffle=False)
    trades = read_trades(info.trades_path)
    assert trades["investor_id"].is_sorted()
    ordered = trades.sort("investor_id", "date", pl.col("time").fill_null(""), "seq", maintain_order=True)
    assert ordered.equals(trades)
    assert (
        trades.group_by("investor_id")
        .agg((pl.col("seq") == pl.int_range(1, pl.len() + 1)).all())["seq"]
        .all()
    )


def test_plain_case_has_no_extras(tmp_path):
    info = synth.generate_case(tmp_path / "plain", n_trades=1_000, n_investors=40, realistic=False)
    names = {p.name for p in info.case_dir.iterdir()}
    assert names == {"case.toml", "market.csv", "indices.csv", "trades.csv"}
    assert info.ex_date is None
    market = read_csv(info.market_path, security=pl.Utf8)
    assert (market["volume"] > 0).all()
    assert read_trades(info.trades_path)["investor_id"].n_unique() == 40


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="trades_format"):
        synth.generate_case(tmp_path, n_trades=100, trades_format="xlsx")
    with pytest.raises(ValueError, match="n_investors"):
        synth.generate_case(tmp_path, n_trades=100, n_investors=200)
    with pytest.raises(ValueError, match="security"):
        synth.generate_case(tmp_path, n_trades=100, security="ABC")


def test_command_line(tmp_path, capsys):
    assert synth.main([str(tmp_path / "cli"), "--trades", "500", "--format", "parquet", "--seed", "2"]) == 0
    assert (tmp_path / "cli" / "trades.parquet").exists()
    assert "500 trades" in capsys.readouterr().out
