"""Hypothesis strategies that build random, VALID case directories (formats.md).

``case_specs()`` draws a ``CaseSpec`` (the content of every file of a case directory) and
``write_case(directory, spec)`` writes it to disk.  Generation is constructive: the timeline, the
market, the investors and their trades are built so that most examples reach the eligible path
(buys inside the buy window for inflation, net sells inside it for deflation), while still covering
the edge cases: opening positions, several accounts, ties on date/time resolved by seq (and by file
line), sells larger than the holding, bonus-share actions, exclusions, the 100% turnover rule reached
early, late or never, and a market file that ends early (truncated base date).

``long_turnover_case_specs()`` draws long market files with small volumes, where the 100% turnover
day falls after day 30 or never comes (loss-rules.md section 2, spc2003 without a cap), and
``statement_case_specs()`` cases with 2-3 false statements (section 9, ``[[case.statements]]``).

All dates are real Shanghai Stock Exchange sessions (exchange_calendars, XSHG, 2019-2021).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

SECURITY_CODES = ["600123", "000456"]
INDEX_CODES = ["000001", "399001"]

MARKET_COLUMNS = ["security", "date", "close", "volume", "tradable_shares"]
TRADE_COLUMNS = ["investor_id", "account_id", "security", "date", "time", "seq", "side", "quantity", "price"]
POSITION_COLUMNS = ["investor_id", "account_id", "security", "quantity"]
INDEX_COLUMNS = ["index", "date", "close"]
ACTION_COLUMNS = ["security", "ex_date", "share_ratio", "cash_dividend"]
EXCLUSION_COLUMNS = ["investor_id", "reason"]

TIMES = ["", "", "", "09:30:00", "10:15:30", "10:15:30", "11:29:59", "13:05:00", "14:59:59"]


@lru_cache(maxsize=1)
def sessions() -> tuple[date, ...]:
    """XSHG sessions 2019-01-01 .. 2021-12-31."""
    import exchange_calendars

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation noise inside exchange_calendars
        calendar = exchange_calendars.get_calendar("XSHG")
        found = calendar.sessions_in_range("2019-01-01", "2021-12-31")
    return tuple(ts.date() for ts in found)


# --------------------------------------------------------------------------------------------------
# The content of a case directory, and writing it
# --------------------------------------------------------------------------------------------------


@dataclass
class CaseSpec:
    """Everything needed to write one case directory.

    ``case`` / ``plan`` / ``systemic_risk`` are TOML tables: values are str, bool, list[str],
    Decimal (written as a TOML float) or dict[str, Decimal] (an inline table).
    """

    case: dict[str, Any]
    plan: dict[str, Any]
    systemic_risk: dict[str, Any] | None
    market: list[dict[str, str]]
    trades: list[dict[str, str]]
    positions: list[dict[str, str]] = field(default_factory=list)
    indices: list[dict[str, str]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    exclusions: list[dict[str, str]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)  # how it was generated (for failure reports)
    statements: list[dict[str, Any]] = field(default_factory=list)  # the [[case.statements]] tables


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." in text else text + ".0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} to TOML")


def case_toml(spec: CaseSpec) -> str:
    lines = ["[case]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in spec.case.items()]
    for statement in spec.statements:
        lines += ["", "[[case.statements]]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in statement.items()]
    lines += ["", "[plan]"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in spec.plan.items()]
    if spec.systemic_risk is not None:
        lines += ["", "[plan.systemic_risk]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in spec.systemic_risk.items()]
    return "\n".join(lines) + "\n"


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    text = ",".join(columns) + "\n"
    text += "".join(",".join(str(row.get(c, "")) for c in columns) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8")


def write_case(directory: Path, spec: CaseSpec) -> Path:
    """Write the case files into ``directory`` (created if needed) and return it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "case.toml").write_text(case_toml(spec), encoding="utf-8")
    _write_csv(directory / "market.csv", MARKET_COLUMNS, spec.market)
    _write_csv(directory / "trades.csv", TRADE_COLUMNS, spec.trades)
    optional = [
        ("positions.csv", POSITION_COLUMNS, spec.positions),
        ("indices.csv", INDEX_COLUMNS, spec.indices),
        ("actions.csv", ACTION_COLUMNS, spec.actions),
        ("exclusions.csv", EXCLUSION_COLUMNS, spec.exclusions),
    ]
    for name, columns, rows in optional:
        if rows:
            _write_csv(directory / name, columns, rows)
    return directory


def describe(directory: Path) -> str:
    """The text of every file of a case directory, for failure messages."""
    parts = []
    for path in sorted(Path(directory).iterdir()):
        if path.is_file():
            parts.append(f"--- {path.name}\n{path.read_text(encoding='utf-8')}")
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def cents(value: int) -> str:
    """A price in cents as a 2-decimal string (1234 -> "12.34")."""
    return f"{value // 100}.{value % 100:02d}"


@dataclass
class Timeline:
    days: list[date]  # every session of the case, in order
    implementation: date  # I
    disclosure: date  # D

    @property
    def post(self) -> list[date]:
        return [d for d in self.days if d >= self.disclosure]


@dataclass
class SecurityMarket:
    code: str
    trading: list[date]  # dates with volume > 0
    closes: dict[date, int]  # raw close in cents on every date with a row


# --------------------------------------------------------------------------------------------------
# Timeline, plan
# --------------------------------------------------------------------------------------------------


def market_model_days(systemic: dict[str, Any] | None) -> int:
    """Trading days the market model needs before I (0 for the other methods)."""
    if (systemic or {}).get("method") != "market_model":
        return 0
    return int(systemic["estimation_days"]) + int(systemic["estimation_gap"]) + 1


@st.composite
def timelines(draw: st.DrawFn, min_pre: int = 2) -> Timeline:
    pre_len = draw(st.integers(max(2, min_pre), max(10, min_pre)))  # sessions before I
    window_len = draw(st.integers(2, 12))  # sessions in [I, D)
    # sessions from D to the end of the market file: short ones truncate the base date
    post_len = draw(st.one_of(st.integers(3, 12), st.integers(12, 45), st.integers(30, 45)))
    total = pre_len + window_len + post_len
    all_sessions = sessions()
    start = draw(st.integers(0, len(all_sessions) - total))
    days = list(all_sessions[start : start + total])
    return Timeline(days, days[pre_len], days[pre_len + window_len])


@st.composite
def plans(draw: st.DrawFn, rules: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    plan: dict[str, Any] = {}
    method = draw(st.sampled_from([None, "moving_average", "weighted_average", "actual_cost", "fifo"]))
    if method is not None:
        plan["cost_method"] = method
    commission = draw(st.sampled_from([None, "0.0003", "0.00025"]))
    if commission is not None:
        plan["commission_rate"] = Decimal(commission)
    plan["stamp_duty_rate"] = Decimal(draw(st.sampled_from(["0.001", "0.0005"])))
    if draw(st.integers(0, 3)) == 0:
        plan["turnover_denominator"] = draw(st.sampled_from(["daily", "disclosure_date"]))
    if method == "actual_cost" and draw(st.booleans()):
        plan["actual_cost_sells"] = draw(st.sampled_from(["eligible_part", "all_window_sells"]))
    if rules == "spc2003" and draw(st.integers(0, 3)) == 0:
        plan["day_one"] = draw(st.sampled_from(["disclosure_date", "day_after"]))
    interest = draw(st.sampled_from([None, True, False]))
    if interest is not None:
        plan["interest"] = interest
    plan["interest_rate"] = Decimal(draw(st.sampled_from(["0.0035", "0.015"])))
    minimum = draw(st.sampled_from([None, "0.0", "50.0", "1000.0"]))
    if minimum is not None:
        plan["minimum_payment"] = Decimal(minimum)

    systemic_method = draw(st.sampled_from([None, "none", "uniform_ratio", "relative_ratio", "relative_ratio",
                                            "market_model"]))
    if systemic_method is None:
        return plan, None
    systemic: dict[str, Any] = {"method": systemic_method}
    if systemic_method == "uniform_ratio":
        systemic["ratio"] = Decimal(draw(st.sampled_from(["0.3", "0.15", "0.5"])))
    if systemic_method == "market_model":
        systemic["estimation_days"] = draw(st.integers(2, 5))
        systemic["estimation_gap"] = draw(st.integers(0, 2))
    if systemic_method in ("relative_ratio", "market_model"):
        if draw(st.integers(0, 3)) == 0:
            systemic["deducted_share"] = Decimal(draw(st.sampled_from(["0.5", "0.25", "1.0"])))
        weights = draw(
            st.sampled_from(
                [
                    {"000001": Decimal("1.0")},
                    {"399001": Decimal("1.0")},
                    {"000001": Decimal("0.5"), "399001": Decimal("0.5")},
                    {"000001": Decimal("0.25"), "399001": Decimal("0.75")},
                ]
            )
        )
        systemic["indices"] = weights
    return plan, systemic


# --------------------------------------------------------------------------------------------------
# Market, indices, actions
# --------------------------------------------------------------------------------------------------


@st.composite
def price_paths(draw: st.DrawFn, length: int, start_low: int, start_high: int) -> list[int]:
    """A random walk of prices in cents (moves of at most ~4% a day, never below 1.00)."""
    price = draw(st.integers(start_low, start_high))
    moves = draw(st.lists(st.integers(-40, 40), min_size=length, max_size=length))
    path = []
    for move in moves:
        price = max(100, price + price * move // 1000)
        path.append(price)
    return path


@st.composite
def post_volumes(
    draw: st.DrawFn, count: int, tradable: int, modes: tuple[str, ...] = ("early", "late", "never")
) -> tuple[list[int], str]:
    """Volumes of the trading days from D on, making the 100% turnover rule trigger early, late or
    never (or exactly on the boundary cum_k = 1); ``beyond``: after day 30 (when the file has that many
    trading days); ``never_long``: never, however long the file."""
    mode = draw(st.sampled_from(modes))
    if mode == "beyond" and count <= 30:
        mode = "never_long"
    if mode == "never":
        return [draw(st.integers(1, tradable // 40)) for _ in range(count)], mode
    if mode == "never_long":
        return [draw(st.integers(1, max(1, tradable // (2 * max(count, 1))))) for _ in range(count)], mode
    if mode == "beyond":
        k_star = draw(st.integers(31, count))
    else:
        k_star = draw(st.integers(1, 10) if mode == "early" else st.integers(11, 30))
    volumes: list[int] = []
    cumulative = 0
    for day in range(1, count + 1):
        if day < k_star:
            volume = draw(st.integers(1, max(1, (tradable * 9 // 10) // (k_star - 1))))
        elif day == k_star:
            extra = draw(st.sampled_from([0, 1, tradable // 10]))  # 0: cumulative turnover exactly 1
            volume = tradable - cumulative + extra
        else:
            volume = draw(st.integers(1, tradable // 5))
        cumulative += volume
        volumes.append(volume)
    return volumes, f"{mode}(k*={k_star})"


@st.composite
def actions_for(draw: st.DrawFn, code: str, timeline: Timeline) -> list[dict[str, str]]:
    """Sometimes one bonus-share action, its ex-date before I, inside the buy window or after D."""
    if not draw(st.booleans()) or not draw(st.booleans()):
        return []
    where = draw(st.sampled_from(["window", "window", "before", "after"]))
    days = timeline.days
    choices = {
        "window": [d for d in days if timeline.implementation < d < timeline.disclosure],
        "before": [d for d in days if d <= timeline.implementation],
        "after": [d for d in days if d > timeline.disclosure][:15],
    }[where] or [timeline.disclosure]
    ex_date = draw(st.sampled_from(choices))
    ratio = draw(st.sampled_from(["1.3", "2.0"]))
    dividend = draw(st.sampled_from(["0.00", "0.10"]))
    return [{"security": code, "ex_date": ex_date.isoformat(), "share_ratio": ratio, "cash_dividend": dividend}]


@st.composite
def security_markets(
    draw: st.DrawFn,
    code: str,
    timeline: Timeline,
    actions: list[dict[str, str]],
    d_must_trade: bool,
    turnover_modes: tuple[str, ...] = ("early", "late", "never"),
    must_trade: tuple[date, ...] = (),
) -> tuple[SecurityMarket, list[dict[str, str]], str]:
    days = timeline.days
    tradable = draw(st.sampled_from([800_000, 1_000_000, 2_500_000]))
    # sometimes the float changes (a placing, a lock-up expiring): the turnover denominators then differ
    float_change = draw(st.one_of(st.none(), st.sampled_from(days)))
    # Each session: a normal row, a row with volume 0 (suspended) or no row at all.
    kinds = draw(
        st.lists(st.sampled_from(["row"] * 12 + ["zero", "missing"]), min_size=len(days), max_size=len(days))
    )
    if d_must_trade:
        kinds[days.index(timeline.disclosure)] = "row"
    if not any(k == "row" for d, k in zip(days, kinds) if d >= timeline.disclosure):
        kinds[days.index(timeline.disclosure)] = "row"
    for day in must_trade:
        kinds[days.index(day)] = "row"
    path = draw(price_paths(len(days), 500, 3000))
    ratio = {}
    for action in actions:
        ratio[date.fromisoformat(action["ex_date"])] = Decimal(action["share_ratio"])
    trading_post = [d for d, k in zip(days, kinds) if k == "row" and d >= timeline.disclosure]
    volumes_post, turnover_mode = draw(post_volumes(len(trading_post), tradable, turnover_modes))
    post_volume = dict(zip(trading_post, volumes_post))

    rows: list[dict[str, str]] = []
    closes: dict[date, int] = {}
    trading: list[date] = []
    for day, kind, adjusted in zip(days, kinds, path):
        if kind == "missing":
            continue
        # Raw closes after an ex-date are lower by the share ratio (adjusted prices stay continuous).
        factor = Decimal(1)
        for ex_date, r in ratio.items():
            if day >= ex_date:
                factor *= r
        close = max(1, int((Decimal(adjusted) / factor).to_integral_value()))
        if kind == "zero":
            volume = 0
        elif day >= timeline.disclosure:
            volume = post_volume[day]
        else:
            volume = draw(st.integers(1, tradable // 20))
        rows.append(
            {
                "security": code,
                "date": day.isoformat(),
                "close": cents(close),
                "volume": str(volume),
                "tradable_shares": str(tradable if float_change is None or day < float_change
                                       else tradable * 5 // 4),
            }
        )
        closes[day] = close
        if volume > 0:
            trading.append(day)
    return SecurityMarket(code, trading, closes), rows, turnover_mode


@st.composite
def index_rows(draw: st.DrawFn, timeline: Timeline, every_day_moves: bool = False) -> list[dict[str, str]]:
    """Index closes.  ``every_day_moves`` (the market model): a close every day, zigzagging, so that the
    index's returns vary over any estimation window (a flat index has no beta)."""
    rows = []
    for code in INDEX_CODES:
        path = draw(price_paths(len(timeline.days), 200_000, 400_000))
        # Some dates without a close (the last close before is used); never the first one.
        present = draw(st.lists(st.sampled_from([True] * 9 + [False]), min_size=len(path), max_size=len(path)))
        present[0] = True
        for n, (day, close, keep) in enumerate(zip(timeline.days, path, present)):
            if every_day_moves:
                rows.append({"index": code, "date": day.isoformat(), "close": cents(close + (n % 2) * 500)})
            elif keep:
                rows.append({"index": code, "date": day.isoformat(), "close": cents(close)})
    return rows


# --------------------------------------------------------------------------------------------------
# Investors and trades
# --------------------------------------------------------------------------------------------------


@st.composite
def quantities(draw: st.DrawFn) -> int:
    """Mostly round lots (multiples of 100), sometimes an odd lot."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.integers(1, 1_250))
    return 100 * draw(st.integers(1, 30))


@st.composite
def trade_price(draw: st.DrawFn, close_cents: int) -> str:
    move = draw(st.integers(-30, 30))  # within about 3% of the close
    return cents(max(1, close_cents + close_cents * move // 1000))


def _phase(day: date, timeline: Timeline) -> str:
    if day < timeline.implementation:
        return "pre"
    if day < timeline.disclosure:
        return "window"
    return "post"


@st.composite
def security_trades(
    draw: st.DrawFn,
    investor_id: str,
    accounts: list[str],
    market: SecurityMarket,
    timeline: Timeline,
    direction: str,
    max_trades: int,
    seq_mode: str,
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Trades and opening positions of one investor in one security."""
    by_phase = {"pre": [], "window": [], "post": []}
    for day in market.trading:
        by_phase[_phase(day, timeline)].append(day)

    # Opening position: often for deflation (the investor needs shares to sell in the window).
    positions: list[dict[str, str]] = []
    holding = 0
    if draw(st.integers(0, 9)) < (7 if direction == "deflation" else 4):
        for account in draw(st.lists(st.sampled_from(accounts), min_size=1, max_size=len(accounts), unique=True)):
            quantity = draw(quantities())
            holding += quantity
            positions.append(
                {"investor_id": investor_id, "account_id": account, "security": market.code, "quantity": str(quantity)}
            )

    # Trade keys (date, time, seq); phases weighted so that the buy window is used often.
    count = draw(st.integers(1, max_trades))
    phases = [p for p in ("pre", "window", "window", "post", "post") if by_phase[p]]
    if not phases:
        return [], positions
    keys = []
    wants_window = bool(by_phase["window"]) and draw(st.integers(0, 9)) < 9
    for index in range(count):
        phase = "window" if (index == 0 and wants_window) else draw(st.sampled_from(phases))
        day = draw(st.sampled_from(by_phase[phase]))
        time = draw(st.sampled_from(TIMES))
        seq = draw(st.integers(0, 3)) if seq_mode == "ties" else draw(st.integers(1, 10**6))
        keys.append((day, time, seq, index))
    # The order the spec defines: date, then empty time first, then time, then seq (then file line,
    # which is the order of ``keys`` until the final shuffle: ``index`` keeps it).
    keys.sort(key=lambda k: (k[0], k[1] != "", k[1], k[2], k[3]))

    rows = []
    first_window_done = False
    for day, time, seq, _ in keys:
        phase = _phase(day, timeline)
        buy_probability = {
            ("inflation", "pre"): 7,
            ("inflation", "window"): 7,
            ("inflation", "post"): 3,
            ("deflation", "pre"): 8,
            ("deflation", "window"): 3,
            ("deflation", "post"): 7,
        }[(direction, phase)]
        is_buy = draw(st.integers(0, 9)) < buy_probability
        if phase == "window" and not first_window_done:
            # Constructive: the first window trade opens the position the direction is about.
            is_buy = direction == "inflation" or holding == 0 and draw(st.booleans())
            first_window_done = True
        if not is_buy and holding == 0 and draw(st.integers(0, 9)) < 9:
            is_buy = True  # selling from nothing is rare (it is flagged oversold)
        if is_buy:
            quantity = draw(quantities())
            holding += quantity
        elif draw(st.integers(0, 24)) == 0 or holding == 0:
            quantity = holding + draw(quantities())  # oversold: more than the holding
            holding = 0
        else:
            part = draw(st.sampled_from(["all", "round", "round", "round", "odd"]))
            if part == "all" or holding < 100:
                quantity = holding
            elif part == "round":
                quantity = 100 * draw(st.integers(1, holding // 100))
            else:
                quantity = draw(st.integers(1, holding))
            holding -= quantity
        rows.append(
            {
                "investor_id": investor_id,
                "account_id": draw(st.sampled_from(accounts)),
                "security": market.code,
                "date": day.isoformat(),
                "time": time,
                "seq": str(seq),
                "side": "B" if is_buy else "S",
                "quantity": str(quantity),
                "price": draw(trade_price(market.closes[day])),
            }
        )
    return rows, positions


# --------------------------------------------------------------------------------------------------
# The whole case
# --------------------------------------------------------------------------------------------------


@dataclass
class CaseContent:
    """The files of a case other than case.toml."""

    market: list[dict[str, str]]
    trades: list[dict[str, str]]
    positions: list[dict[str, str]]
    indices: list[dict[str, str]]
    actions: list[dict[str, str]]
    exclusions: list[dict[str, str]]
    turnover_modes: list[str]
    seq_mode: str


@st.composite
def case_contents(
    draw: st.DrawFn,
    codes: list[str],
    timeline: Timeline,
    direction: str,
    systemic: dict[str, Any] | None,
    d_must_trade: bool,
    turnover_modes: tuple[str, ...] = ("early", "late", "never"),
    must_trade: tuple[date, ...] = (),
    trade_timeline: Timeline | None = None,
) -> CaseContent:
    """Market, trades, positions, actions, exclusions and indices for ``timeline``: the volumes are
    shaped from ``timeline.disclosure``; the trades favour the buy window of ``trade_timeline`` (by
    default ``timeline``)."""
    trade_timeline = trade_timeline or timeline
    if market_model_days(systemic):  # the estimation window: every session before I trades
        must_trade = tuple(sorted(set(must_trade) | {d for d in timeline.days if d < timeline.implementation}))
    actions: list[dict[str, str]] = []
    markets: list[SecurityMarket] = []
    market_rows: list[dict[str, str]] = []
    modes = []
    for code in codes:
        security_actions = draw(actions_for(code, timeline))
        actions += security_actions
        market, rows, mode = draw(
            security_markets(code, timeline, security_actions, d_must_trade, turnover_modes, must_trade)
        )
        markets.append(market)
        market_rows += rows
        modes.append(mode)

    investor_count = draw(st.integers(1, 6))
    seq_mode = draw(st.sampled_from(["unique", "unique", "ties"]))
    trades: list[dict[str, str]] = []
    positions: list[dict[str, str]] = []
    investors = [f"INV{n:02d}" for n in range(1, investor_count + 1)]
    for investor in investors:
        accounts = [f"{investor}-A{n}" for n in range(1, draw(st.integers(1, 2)) + 1)]
        held = draw(st.lists(st.sampled_from(markets), min_size=1, max_size=len(markets), unique_by=lambda m: m.code))
        for market in held:
            rows, opening = draw(
                security_trades(
                    investor, accounts, market, trade_timeline, direction, max_trades=15 // len(held),
                    seq_mode=seq_mode,
                )
            )
            trades += rows
            positions += opening
    # The file order is not the time order: the engine must sort.
    trades = draw(st.permutations(trades))

    exclusions = []
    if draw(st.integers(0, 3)) == 0:
        excluded = draw(st.sampled_from(investors))
        reason = draw(st.sampled_from(["controlling shareholder", "director", "party found liable"]))
        exclusions.append({"investor_id": excluded, "reason": reason})

    uses_index = (systemic or {}).get("method") in ("relative_ratio", "market_model")
    indices = draw(index_rows(timeline, market_model_days(systemic) > 0)) if uses_index else []
    return CaseContent(market_rows, list(trades), positions, indices, actions, exclusions, modes, seq_mode)


def _spec(case: dict[str, Any], plan: dict[str, Any], systemic: dict[str, Any] | None, content: CaseContent,
          **notes: Any) -> CaseSpec:
    return CaseSpec(
        case=case,
        plan=plan,
        systemic_risk=systemic,
        market=content.market,
        trades=content.trades,
        positions=content.positions,
        indices=content.indices,
        actions=content.actions,
        exclusions=content.exclusions,
        notes={"turnover": content.turnover_modes, "seq_mode": content.seq_mode, **notes},
    )


@st.composite
def case_specs(draw: st.DrawFn) -> CaseSpec:
    rules = draw(st.sampled_from(["spc2022", "spc2003"]))
    direction = draw(st.sampled_from(["inflation", "deflation"]))
    codes = SECURITY_CODES[: draw(st.integers(1, 2))]
    plan, systemic = draw(plans(rules))
    timeline = draw(timelines(market_model_days(systemic)))

    case: dict[str, Any] = {
        "id": "prop-case",
        "name": "Generated property-test case",
        "rules": rules,
        "direction": direction,
        "securities": list(codes),
        "implementation_date": timeline.implementation.isoformat(),
        "disclosure_date": timeline.disclosure.isoformat(),
    }
    fix_base = draw(st.integers(0, 9)) < 2
    fix_price = len(codes) == 1 and draw(st.integers(0, 9)) < 2
    if fix_base:
        case["base_date"] = draw(st.sampled_from(timeline.post)).isoformat()
    if fix_price:
        case["base_price"] = Decimal(cents(draw(st.integers(300, 3000))))
    content = draw(case_contents(codes, timeline, direction, systemic, d_must_trade=fix_base))
    return _spec(case, plan, systemic, content)


# --------------------------------------------------------------------------------------------------
# Long market files: the 100% turnover day after day 30, or never (section 2)
# --------------------------------------------------------------------------------------------------


@st.composite
def long_timelines(draw: st.DrawFn, min_pre: int = 2) -> Timeline:
    pre_len = draw(st.integers(max(2, min_pre), max(6, min_pre)))
    window_len = draw(st.integers(2, 8))
    post_len = draw(st.one_of(st.integers(35, 80), st.integers(80, 260)))
    total = pre_len + window_len + post_len
    all_sessions = sessions()
    start = draw(st.integers(0, len(all_sessions) - total))
    days = list(all_sessions[start : start + total])
    return Timeline(days, days[pre_len], days[pre_len + window_len])


@st.composite
def long_turnover_case_specs(draw: st.DrawFn) -> CaseSpec:
    """Mostly spc2003 (B = day k* however late), some spc2022 (B = day 30) on the same kind of market."""
    rules = draw(st.sampled_from(["spc2003", "spc2003", "spc2022"]))
    direction = draw(st.sampled_from(["inflation", "deflation"]))
    codes = SECURITY_CODES[: draw(st.integers(1, 2))]
    plan, systemic = draw(plans(rules))
    timeline = draw(long_timelines(market_model_days(systemic)))
    case: dict[str, Any] = {
        "id": "prop-long",
        "name": "Generated case with a long market file",
        "rules": rules,
        "direction": direction,
        "securities": list(codes),
        "implementation_date": timeline.implementation.isoformat(),
        "disclosure_date": timeline.disclosure.isoformat(),
    }
    modes = ("beyond", "beyond", "beyond", "never_long", "late")
    content = draw(case_contents(codes, timeline, direction, systemic, d_must_trade=False, turnover_modes=modes))
    return _spec(case, plan, systemic, content)


# --------------------------------------------------------------------------------------------------
# Several false statements (section 9)
# --------------------------------------------------------------------------------------------------


@st.composite
def statement_windows(draw: st.DrawFn, rule: str, pre_len: int) -> list[tuple[int, int]]:
    """(I_k, D_k) as session positions.  ``each``: windows that do not overlap (chained, D_k = I_(k+1),
    or apart), listed in time order or not; ``best_for_investor``: anywhere, overlapping or even equal."""
    count = draw(st.integers(2, 3))
    windows: list[tuple[int, int]] = []
    if rule == "each":
        position = pre_len
        for _ in range(count):
            length = draw(st.integers(1, 8))
            windows.append((position, position + length))
            position += length + draw(st.sampled_from([0, 0, 1, 3, 12]))
        if draw(st.integers(0, 3)) == 0:
            windows = draw(st.permutations(windows))
        return list(windows)
    span = draw(st.integers(3, 16))
    for _ in range(count):
        if windows and draw(st.integers(0, 5)) == 0:
            windows.append(draw(st.sampled_from(windows)))  # the same dates under another id: a tie
            continue
        start = pre_len + draw(st.integers(0, span))
        windows.append((start, start + draw(st.integers(1, 10))))
    return windows


@st.composite
def statement_case_specs(
    draw: st.DrawFn, statements_rules: tuple[str, ...] = ("each", "best_for_investor")
) -> CaseSpec:
    statements_rule = draw(st.sampled_from(statements_rules))
    rules = draw(st.sampled_from(["spc2022", "spc2003"]))
    direction = draw(st.sampled_from(["inflation", "deflation"]))
    codes = SECURITY_CODES[: draw(st.integers(1, 2))]
    plan, systemic = draw(plans(rules))
    need = market_model_days(systemic)
    pre_len = draw(st.integers(max(2, need), max(6, need)))
    windows = draw(statement_windows(statements_rule, pre_len))
    last_d = max(d for _, d in windows)
    post_len = draw(st.one_of(st.integers(3, 12), st.integers(12, 45), st.integers(30, 60)))
    total = last_d + post_len
    all_sessions = sessions()
    start = draw(st.integers(0, len(all_sessions) - total))
    days = list(all_sessions[start : start + total])

    statements: list[dict[str, Any]] = []
    must_trade = {days[-1]}  # every D_k has a trading day on or after it
    for number, (i, d) in enumerate(windows, start=1):
        statement: dict[str, Any] = {
            "id": draw(st.sampled_from([f"s{number}", f"statement-{number}", f"S{number}X"])),
            "implementation_date": days[i].isoformat(),
            "disclosure_date": days[d].isoformat(),
        }
        if draw(st.integers(0, 9)) == 0:
            statement["base_date"] = draw(st.sampled_from(days[d:])).isoformat()
            must_trade.add(days[d])
        if len(codes) == 1 and draw(st.integers(0, 9)) == 0:
            statement["base_price"] = Decimal(cents(draw(st.integers(300, 3000))))
        statements.append(statement)
    ids = [s["id"] for s in statements]
    if len(set(ids)) != len(ids):
        for number, statement in enumerate(statements, start=1):
            statement["id"] = f"s{number}"

    # Base dates are counted from each D_k by the reference and the engine; the generated volumes are
    # shaped from the first D, the trades favour the union of the buy windows.
    first_i = days[min(i for i, _ in windows)]
    first_d = days[min(d for _, d in windows)]
    market_timeline = Timeline(days, first_i, first_d)
    trade_timeline = Timeline(days, first_i, days[last_d])
    content = draw(
        case_contents(codes, market_timeline, direction, systemic, d_must_trade=False,
                      must_trade=tuple(sorted(must_trade)), trade_timeline=trade_timeline)
    )
    case: dict[str, Any] = {
        "id": "prop-statements",
        "name": "Generated case with several false statements",
        "rules": rules,
        "direction": direction,
        "securities": list(codes),
        "statements_rule": statements_rule,
    }
    spec = _spec(case, plan, systemic, content, windows=windows)
    spec.statements = statements
    return spec
