"""Reference implementation of ``loss-rules.md``: slow, exact, written to be read next to the spec.

Every function below implements one section of ``/work/shared/spec/loss-rules.md``; the comments quote
the sentence of the spec that each step implements.  All arithmetic is exact (``fractions.Fraction``;
decimals are parsed from their text), and rounding happens once, when a row is reported.

Where the spec leaves room, the project's conventions are followed; they are quoted as
``Convention:`` in the comments.

Public API:

- ``compute_reference(case_dir) -> list[dict]``: one row per (investor_id, security) found in
  ``trades.csv`` or ``positions.csv``, with exactly the output columns of ``formats.md``.  Money is a
  ``Decimal`` rounded half-up to 0.01, prices a ``Decimal`` rounded half-up to 4 decimals, quantities a
  ``Fraction``, ``status`` and ``flags`` strings.  A case with ``[[case.statements]]`` (section 9) gives
  the rows of its ``statements_rule`` with the columns ``STATEMENT_OUTPUT_COLUMNS``.
- ``base_dates(case_dir) -> dict``: per security ``base_date``, ``base_price`` (Decimal, 4
  decimals), ``trading_days`` (B's day number), ``cumulative_turnover`` (Fraction), ``flags`` (list);
  for a case with statements, keyed by (statement id, security), each object with ``statement``.

Only valid case directories with CSV files are supported (this is a test oracle, not a validator).
"""

from __future__ import annotations

import bisect
import csv
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

OUTPUT_COLUMNS: list[str] = [
    "investor_id",
    "security",
    "status",
    "flags",
    "eligible_bought",
    "q_sold",
    "q_held",
    "avg_buy",
    "avg_sell",
    "base_price",
    "difference_loss",
    "systemic_deduction",
    "net_loss",
    "commission",
    "stamp_duty",
    "interest",
    "compensation",
]
# "A case with several statements adds the column statement after security" (formats.md)
STATEMENT_OUTPUT_COLUMNS: list[str] = OUTPUT_COLUMNS[:2] + ["statement"] + OUTPUT_COLUMNS[2:]
QUANTITY_COLUMNS: list[str] = ["eligible_bought", "q_sold", "q_held"]
PRICE_COLUMNS: list[str] = ["avg_buy", "avg_sell", "base_price"]
MONEY_COLUMNS: list[str] = [
    "difference_loss",
    "systemic_deduction",
    "net_loss",
    "commission",
    "stamp_duty",
    "interest",
    "compensation",
]

ZERO = Fraction(0)

# --------------------------------------------------------------------------------------------------
# Input: the case directory (formats.md)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    cost_method: str
    commission_rate: Fraction
    stamp_duty_rate: Fraction
    interest: bool
    interest_rate: Fraction
    minimum_payment: Fraction
    systemic_method: str
    systemic_ratio: Fraction
    index_weights: dict[str, Fraction]
    # the plan options where published practice differs (docs/decisions.md), each defaulting to the spec
    turnover_denominator: str = "daily"  # | "disclosure_date"
    actual_cost_sells: str = "eligible_part"  # | "all_window_sells"
    day_one: str = "disclosure_date"  # | "day_after" (spc2003)
    estimation_days: int = 0  # market_model
    estimation_gap: int = 0
    deducted_share: Fraction = Fraction(1)  # relative_ratio, market_model


@dataclass(frozen=True)
class Statement:
    """One false statement of a case written with ``[[case.statements]]`` (section 9)."""

    id: str
    implementation_date: date  # I_k
    disclosure_date: date  # D_k
    fixed_base_date: date | None
    fixed_base_price: Fraction | None


@dataclass(frozen=True)
class Case:
    rules: str  # "spc2022" | "spc2003"
    direction: str  # "inflation" | "deflation"
    securities: list[str]
    implementation_date: date  # I (for a case with statements: the first statement's)
    disclosure_date: date  # D
    fixed_base_date: date | None
    fixed_base_price: Fraction | None
    plan: Plan
    statements: tuple[Statement, ...] = ()  # empty: a one-statement case written with top-level dates
    statements_rule: str = "each"  # "each" | "best_for_investor"


@dataclass(frozen=True)
class MarketRow:
    security: str
    date: date
    close: Fraction
    volume: Fraction
    tradable_shares: Fraction


@dataclass(frozen=True)
class Trade:
    investor_id: str
    account_id: str
    security: str
    date: date
    time: str  # "" when absent
    seq: int
    side: str  # "B" | "S"
    quantity: Fraction
    price: Fraction
    line: int  # position in trades.csv, the last tie-breaker


@dataclass(frozen=True)
class Position:
    investor_id: str
    account_id: str
    security: str
    quantity: Fraction


@dataclass(frozen=True)
class Action:
    security: str
    ex_date: date
    share_ratio: Fraction


@dataclass
class CaseData:
    case: Case
    market: list[MarketRow]
    trades: list[Trade]
    positions: list[Position]
    indices: dict[str, list[tuple[date, Fraction]]]  # index code -> [(date, close)] sorted by date
    actions: list[Action]
    exclusions: dict[str, str]  # investor_id -> reason


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def _dec(text: str) -> Fraction:
    """An exact number from its decimal text ("12.30" -> 123/10)."""
    return Fraction(text.strip())


def _toml_number(value: Any) -> Fraction:
    """A TOML number read with ``parse_float=Fraction`` (exact) or an integer."""
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got a boolean {value!r}")
    return Fraction(value)


def _toml_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def read_plan(raw: dict[str, Any], rules: str) -> Plan:
    """The ``[plan]`` table with the project's defaults for absent keys."""
    systemic = raw.get("systemic_risk", {})
    # "interest ... on by default for spc2003, off for spc2022, where Art. 25 dropped it"
    default_interest = rules == "spc2003"
    return Plan(
        cost_method=raw.get("cost_method", "moving_average"),  # "moving_average ... the default"
        commission_rate=_toml_number(raw.get("commission_rate", Fraction(3, 10000))),
        # Convention: stamp_duty_rate and interest_rate are always given in generated cases.
        stamp_duty_rate=_toml_number(raw.get("stamp_duty_rate", Fraction(1, 1000))),
        interest=bool(raw.get("interest", default_interest)),
        interest_rate=_toml_number(raw.get("interest_rate", ZERO)),
        minimum_payment=_toml_number(raw.get("minimum_payment", ZERO)),
        systemic_method=systemic.get("method", "none"),
        systemic_ratio=_toml_number(systemic.get("ratio", ZERO)),
        index_weights={code: _toml_number(w) for code, w in systemic.get("indices", {}).items()},
        turnover_denominator=raw.get("turnover_denominator", "daily"),
        actual_cost_sells=raw.get("actual_cost_sells", "eligible_part"),
        day_one=raw.get("day_one", "disclosure_date"),
        estimation_days=int(systemic.get("estimation_days", 0)),
        estimation_gap=int(systemic.get("estimation_gap", 0)),
        deducted_share=_toml_number(systemic.get("deducted_share", Fraction(1))),
    )


def read_statement(raw: dict[str, Any]) -> Statement:
    """One ``[[case.statements]]`` table: "base_date / base_price optional, as above, for this statement
    only"."""
    return Statement(
        id=str(raw["id"]),
        implementation_date=_toml_date(raw["implementation_date"]),
        disclosure_date=_toml_date(raw["disclosure_date"]),
        fixed_base_date=_toml_date(raw["base_date"]) if "base_date" in raw else None,
        fixed_base_price=_toml_number(raw["base_price"]) if "base_price" in raw else None,
    )


def windows_overlap(first: Statement, second: Statement) -> bool:
    """Whether the buy windows [I_j, D_j) and [I_k, D_k) share a day (an empty window shares none)."""
    return max(first.implementation_date, second.implementation_date) < min(
        first.disclosure_date, second.disclosure_date
    )


def check_statements(statements: tuple[Statement, ...], rule: str) -> None:
    """The refusals of formats.md, as errors of the oracle: "an empty list, a duplicate id, I_k > D_k, and
    (rule each) two overlapping buy windows"."""
    if not statements:
        raise ValueError("case.statements is empty")
    ids = [s.id for s in statements]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate statement id in {ids}")
    if rule not in ("each", "best_for_investor"):
        raise ValueError(f"unknown statements_rule {rule!r}")
    for statement in statements:
        if statement.implementation_date > statement.disclosure_date:
            raise ValueError(f"statement {statement.id}: implementation_date after disclosure_date")
    if rule == "each":
        for j, first in enumerate(statements):
            for second in statements[j + 1 :]:
                if windows_overlap(first, second):
                    raise ValueError(f"statements {first.id} and {second.id}: buy windows overlap")


def read_case(case_dir: Path) -> CaseData:
    """Read a valid case directory (CSV files only)."""
    case_dir = Path(case_dir)
    with (case_dir / "case.toml").open("rb") as handle:
        toml = tomllib.load(handle, parse_float=Fraction)
    raw_case = toml["case"]
    rules = raw_case["rules"]
    plan = read_plan(toml.get("plan", {}), rules)
    common = {
        "rules": rules,
        "direction": raw_case["direction"],
        "securities": [str(s) for s in raw_case["securities"]],
        "plan": plan,
    }
    if "statements" in raw_case:
        statements = tuple(read_statement(raw) for raw in raw_case["statements"])
        rule = raw_case.get("statements_rule", "each")  # '"each" (default)'
        check_statements(statements, rule)
        first = statements[0]
        case = Case(
            implementation_date=first.implementation_date,
            disclosure_date=first.disclosure_date,
            fixed_base_date=first.fixed_base_date,
            fixed_base_price=first.fixed_base_price,
            statements=statements,
            statements_rule=rule,
            **common,
        )
    else:
        case = Case(
            implementation_date=_toml_date(raw_case["implementation_date"]),
            disclosure_date=_toml_date(raw_case["disclosure_date"]),
            fixed_base_date=_toml_date(raw_case["base_date"]) if "base_date" in raw_case else None,
            fixed_base_price=_toml_number(raw_case["base_price"]) if "base_price" in raw_case else None,
            **common,
        )
    market = [
        MarketRow(
            security=r["security"],
            date=date.fromisoformat(r["date"]),
            close=_dec(r["close"]),
            volume=_dec(r["volume"]),
            tradable_shares=_dec(r["tradable_shares"]),
        )
        for r in _read_csv(case_dir / "market.csv")
    ]
    trades = [
        Trade(
            investor_id=r["investor_id"],
            account_id=r["account_id"],
            security=r["security"],
            date=date.fromisoformat(r["date"]),
            time=r.get("time", ""),
            seq=int(r["seq"]) if r.get("seq", "") != "" else 0,
            side=r["side"].upper(),
            quantity=_dec(r["quantity"]),
            price=_dec(r["price"]),
            line=line,
        )
        for line, r in enumerate(_read_csv(case_dir / "trades.csv"), start=2)
    ]
    positions = [
        Position(r["investor_id"], r["account_id"], r["security"], _dec(r["quantity"]))
        for r in _read_csv(case_dir / "positions.csv")
    ]
    indices: dict[str, list[tuple[date, Fraction]]] = {}
    for r in _read_csv(case_dir / "indices.csv"):
        indices.setdefault(r["index"], []).append((date.fromisoformat(r["date"]), _dec(r["close"])))
    for series in indices.values():
        series.sort()
    actions = [
        Action(r["security"], date.fromisoformat(r["ex_date"]), _dec(r["share_ratio"]))
        for r in _read_csv(case_dir / "actions.csv")
    ]
    exclusions = {r["investor_id"]: r.get("reason", "") for r in _read_csv(case_dir / "exclusions.csv")}
    return CaseData(case, market, trades, positions, indices, actions, exclusions)


# --------------------------------------------------------------------------------------------------
# Small exact helpers
# --------------------------------------------------------------------------------------------------


def weighted_mean(pairs: Iterable[tuple[Fraction, Fraction]]) -> Fraction:
    """Quantity-weighted mean of (value, weight) pairs.

    Convention: "An undefined average (zero quantity) is reported as 0."
    """
    pairs = list(pairs)
    total_weight = sum((w for _, w in pairs), ZERO)
    if total_weight == 0:
        return ZERO
    return sum((v * w for v, w in pairs), ZERO) / total_weight


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round half away from zero (like ``Decimal.ROUND_HALF_UP``), exactly, to ``places`` decimals."""
    scaled = abs(value) * 10**places
    whole = math.floor(scaled + Fraction(1, 2))
    if value < 0:
        whole = -whole
    return Decimal(whole).scaleb(-places)


def money(value: Fraction) -> Decimal:
    # "report money rounded half-up to 0.01 yuan"
    return round_half_up(value, 2)


def price(value: Fraction) -> Decimal:
    # "... and prices to 4 decimals"
    return round_half_up(value, 4)


# --------------------------------------------------------------------------------------------------
# Section 3.3 (used by section 2 as well): ex-rights restatement
# --------------------------------------------------------------------------------------------------


def ratio_for_date(actions: list[Action], security: str, when: date | None) -> Fraction:
    """Product of the share ratios r of every action of ``security`` whose ex-date E is after ``when``.

    "every opening position and every trade dated before E has its quantity multiplied by r and its
    price divided by r; every market close dated before E is divided by r."
    ``when=None`` stands for an opening position, which is before every ex-date.
    Convention: "every opening position is multiplied by r for every action of its security".
    """
    factor = Fraction(1)
    for action in actions:
        if action.security != security:
            continue
        if when is None or when < action.ex_date:  # "dated before E" (strictly)
            factor *= action.share_ratio
    return factor


def adjusted_close(row: MarketRow, actions: list[Action]) -> Fraction:
    # "every market close dated before E is divided by r"
    return row.close / ratio_for_date(actions, row.security, row.date)


# --------------------------------------------------------------------------------------------------
# Section 2: base date and base price (per security)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradingDay:
    number: int  # 1, 2, 3, ...
    date: date
    adjusted_close: Fraction
    cumulative_turnover: Fraction


@dataclass(frozen=True)
class BaseDate:
    security: str
    base_date: date  # B
    base_price: Fraction  # P_B
    day_number: int  # "trading_days" in the base-date report
    cumulative_turnover: Fraction
    days_1_to_b: list[TradingDay]  # the trading days 1..B (used by idx_base)
    truncated: bool


def trading_days(data: CaseData, security: str) -> list[TradingDay]:
    """"Trading days of the security = rows of the market file with volume > 0, date >= D, in date
    order, numbered 1, 2, 3, ...". "Daily turnover = volume / tradable_shares; cumulative turnover
    cum_k = sum over days 1..k."
    """
    disclosure = data.case.disclosure_date
    rows = sorted(
        (r for r in data.market if r.security == security and r.volume > 0 and r.date >= disclosure),
        key=lambda r: r.date,
    )
    float_on_d = None
    if data.case.plan.turnover_denominator == "disclosure_date":
        # the option: every day's volume over the tradable shares of the market row dated D (whatever its
        # volume), else of the last row before D, else of the first row after D
        every = sorted((r for r in data.market if r.security == security), key=lambda r: r.date)
        on_or_before = [r for r in every if r.date <= disclosure]
        float_on_d = (on_or_before[-1] if on_or_before else every[0]).tradable_shares
    days: list[TradingDay] = []
    cumulative = ZERO
    for number, row in enumerate(rows, start=1):
        cumulative += row.volume / (float_on_d if float_on_d is not None else row.tradable_shares)
        days.append(TradingDay(number, row.date, adjusted_close(row, data.actions), cumulative))
    return days


def rule_day(rules: str, days: list[TradingDay], day_one: str = "disclosure_date",
             disclosure: date | None = None) -> int:
    """The day number B that the rule chooses, before truncation to the end of the market file."""
    # "k* = first k with cum_k >= 1"
    k_star = next((d.number for d in days if d.cumulative_turnover >= 1), None)
    if rules == "spc2022":
        # "k* <= 10 -> B = day 10; 10 < k* <= 30 -> B = day k*; otherwise B = day 30."
        if k_star is not None and k_star <= 10:
            return 10
        if k_star is not None and k_star <= 30:
            return k_star
        return 30
    if rules == "spc2003":
        # "B = day k* wherever it falls (day 3, day 45 or day 216: there is no cap); only when 100% is
        # never reached in the market file ... is B = day 30."
        if k_star is not None:
            return k_star
        if day_one == "day_after":
            # the option "揭露日后第30个交易日": the 30th trading day after D, so one more when D itself traded
            return 30 + (1 if days and days[0].date == disclosure else 0)
        return 30
    raise ValueError(f"unknown rules {rules!r}")


def compute_base_date(data: CaseData, security: str) -> BaseDate:
    case = data.case
    days = trading_days(data, security)
    truncated = False
    if case.fixed_base_date is not None:
        # "A case may fix base_date ... then the fixed values are used as given."
        # Convention: base price = mean of adjusted closes of trading days (volume > 0) in [D, B];
        # trading_days = count of those days; cumulative turnover through B.
        base = case.fixed_base_date
        up_to_b = [d for d in days if d.date <= base]
    else:
        if not days:
            raise ValueError(f"security {security}: no trading day on or after D")
        wanted = rule_day(case.rules, days, case.plan.day_one, case.disclosure_date)
        if wanted > len(days):
            # "If the market file ends before the rule's day ..., B = the last trading day in the
            # file, and the result carries the flag base_date_truncated."
            wanted = len(days)
            truncated = True
        up_to_b = days[:wanted]
        base = up_to_b[-1].date
    if case.fixed_base_price is not None:
        base_price = case.fixed_base_price
    else:
        # "Base price P_B = arithmetic mean of the (ex-rights adjusted) closing prices of days 1..B."
        if not up_to_b:
            raise ValueError(f"security {security}: no trading day in [D, B] for the base price")
        base_price = sum((d.adjusted_close for d in up_to_b), ZERO) / len(up_to_b)
    return BaseDate(
        security=security,
        base_date=base,
        base_price=base_price,
        day_number=len(up_to_b),
        cumulative_turnover=up_to_b[-1].cumulative_turnover if up_to_b else ZERO,
        days_1_to_b=up_to_b,
        truncated=truncated,
    )


# --------------------------------------------------------------------------------------------------
# Section 3: preparing an investor's trades
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One trade of one investor in one security, after ex-rights restatement."""

    date: date
    side: str  # "B" | "S"
    quantity: Fraction
    price: Fraction


@dataclass
class Lot:
    lot_class: str  # "pre" | "eligible" | "post"
    date: date | None  # None for an opening position
    price: Fraction | None  # None for an opening position (its cost is never used)
    quantity: Fraction
    remaining: Fraction


@dataclass(frozen=True)
class Consumption:
    """The part of one sell that was taken from one lot."""

    sell_index: int  # index of the sell in the event list
    sell_date: date
    sell_price: Fraction
    lot: Lot
    quantity: Fraction


@dataclass
class Walk:
    lots: list[Lot] = field(default_factory=list)
    consumptions: list[Consumption] = field(default_factory=list)
    oversold: bool = False


def trade_sort_key(trade: Trade) -> tuple:
    # "Trades are ordered by (date, time, seq); an empty time sorts before any given time."
    # Convention: remaining ties keep the order of the lines of trades.csv.
    return (trade.date, 0 if trade.time == "" else 1, trade.time, trade.seq, trade.line)


def prepare_events(data: CaseData, trades: list[Trade], security: str) -> list[Event]:
    """Section 3.1-3.3: accounts merged, trades in time order, ex-rights restatement."""
    # 3.1 "All accounts of one investor are merged; each security is computed separately."
    # (The caller passes the trades of every account of one investor in one security.)
    events = []
    # 3.2 "Trades are ordered by (date, time, seq)"
    for trade in sorted(trades, key=trade_sort_key):
        # 3.3 "every trade dated before E has its quantity multiplied by r and its price divided by r"
        r = ratio_for_date(data.actions, security, trade.date)
        events.append(Event(trade.date, trade.side, trade.quantity * r, trade.price / r))
    return events


def opening_quantities(data: CaseData, positions: list[Position], security: str) -> list[Fraction]:
    # 3.3 "every opening position ... has its quantity multiplied by r"
    # Convention: for every action of its security (positions are held before the first trade).
    r = ratio_for_date(data.actions, security, None)
    return [p.quantity * r for p in positions]


def lot_class(when: date, case: Case) -> str:
    # 3.4 "Each buy makes a lot, classed pre (date < I), eligible (I <= date < D) or post (date >= D)."
    if when < case.implementation_date:
        return "pre"
    if when < case.disclosure_date:
        return "eligible"
    return "post"


def fifo_walk(case: Case, opening: list[Fraction], events: list[Event]) -> Walk:
    """Section 3.2, 3.4 and 3.5: the lots and their first-in-first-out consumption."""
    walk = Walk()
    # 3.2 "Opening positions (quantity held before the first trade in the file) come first, as lots
    # of class pre."
    for quantity in opening:
        walk.lots.append(Lot("pre", None, None, quantity, quantity))
    for index, event in enumerate(events):
        if event.side == "B":
            lot = Lot(lot_class(event.date, case), event.date, event.price, event.quantity, event.quantity)
            walk.lots.append(lot)
            continue
        # 3.5 "Each sell consumes lots first in, first out"
        to_sell = event.quantity
        for lot in walk.lots:
            if to_sell == 0:
                break
            if lot.remaining == 0:
                continue
            taken = min(lot.remaining, to_sell)
            lot.remaining -= taken
            to_sell -= taken
            walk.consumptions.append(Consumption(index, event.date, event.price, lot, taken))
        if to_sell > 0:
            # 3.5 "A sell larger than the holding consumes everything and the investor is flagged
            # oversold ...; the excess is ignored."
            # Convention: any sell anywhere in the file, also after B.
            walk.oversold = True
    return walk


def eligible_consumptions(walk: Walk) -> list[Consumption]:
    return [c for c in walk.consumptions if c.lot.lot_class == "eligible"]


def eligible_consumed_by_sell(walk: Walk, sell_index: int) -> Fraction:
    return sum((c.quantity for c in eligible_consumptions(walk) if c.sell_index == sell_index), ZERO)


# --------------------------------------------------------------------------------------------------
# Figures shared by sections 4-7
# --------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    """The unrounded figures of one investor in one security, in output-column terms.

    For deflation (formats.md): q_sold holds q_bought_back, q_held holds q_not_bought_back, avg_buy
    holds avg_buy_back and eligible_bought holds q_short.
    """

    eligible_bought: Fraction = ZERO
    q_sold: Fraction = ZERO
    q_held: Fraction = ZERO
    avg_buy: Fraction = ZERO
    avg_sell: Fraction = ZERO
    difference_loss: Fraction = ZERO
    has_eligible_shares: bool = False
    # Dated weights used by interest (section 7) and by the index of relative_ratio (section 6):
    opening_dates: list[tuple[date, Fraction]] = field(default_factory=list)
    closing_dates: list[tuple[date, Fraction]] = field(default_factory=list)
    base_weight: Fraction = ZERO  # weight of B / idx_base: q_held or q_not_bought_back


# --------------------------------------------------------------------------------------------------
# Section 4: induced buying 诱多 (direction = "inflation")
# --------------------------------------------------------------------------------------------------


def moving_average_cost(case: Case, events: list[Event], walk: Walk) -> Fraction:
    """4. moving_average: "walk the trades before D in order, keeping the eligible holding H and its
    cost C."
    """
    holding = ZERO  # H
    cost = ZERO  # C (Convention: 0 when no eligible buy was ever made)
    for index, event in enumerate(events):
        if event.date >= case.disclosure_date:
            break
        if event.side == "B" and lot_class(event.date, case) == "eligible":
            # "An eligible buy (q, p) sets C = (C*H + p*q) / (H + q), H += q."
            # "When H reaches 0, the next eligible buy starts afresh (C = p)": with H = 0 the
            # formula gives exactly C = p.
            cost = (cost * holding + event.price * event.quantity) / (holding + event.quantity)
            holding += event.quantity
        elif event.side == "S":
            # "A sell reduces H by the eligible shares it consumed and leaves C unchanged."
            holding -= eligible_consumed_by_sell(walk, index)
    # "avg_buy = C at D."
    return cost


def weighted_average_cost(eligible_lots: list[Lot]) -> Fraction:
    # "weighted_average: sum(p*q) / sum(q) over all eligible buys."
    return weighted_mean((lot.price, lot.quantity) for lot in eligible_lots)


def actual_cost(case: Case, eligible_lots: list[Lot], walk: Walk) -> Fraction:
    """"actual_cost: (eligible buy amounts - proceeds of sells before D that consumed eligible lots,
    at their sell price) / (eligible shares bought - eligible shares so consumed)."

    Convention (reading): the proceeds are those of the eligible shares consumed (eligible quantity
    consumed x sell price), matching the denominator; 0 when the denominator is 0.
    """
    amounts = sum((lot.price * lot.quantity for lot in eligible_lots), ZERO)
    bought = sum((lot.quantity for lot in eligible_lots), ZERO)
    before_d = [c for c in eligible_consumptions(walk) if c.sell_date < case.disclosure_date]
    proceeds = sum((c.sell_price * c.quantity for c in before_d), ZERO)
    consumed = sum((c.quantity for c in before_d), ZERO)
    if bought - consumed == 0:
        return ZERO
    return (amounts - proceeds) / (bought - consumed)


def window_sells(case: Case, events: list[Event], walk: Walk) -> tuple[Fraction, Fraction]:
    """The option actual_cost_sells = "all_window_sells": every sell dated in [I, D), whole (as far as it
    consumed shares: an oversold excess is ignored, section 3.5): (shares, proceeds)."""
    shares = proceeds = ZERO
    for c in walk.consumptions:
        if case.implementation_date <= c.sell_date < case.disclosure_date:
            shares += c.quantity
            proceeds += c.quantity * c.sell_price
    return shares, proceeds


def held_at_base(lot: Lot, walk: Walk, base_date: date) -> Fraction:
    """Shares of ``lot`` not consumed by any sell dated on or before B."""
    consumed = sum(
        (c.quantity for c in walk.consumptions if c.lot is lot and c.sell_date <= base_date), ZERO
    )
    return lot.quantity - consumed


def inflation_figures(case: Case, events: list[Event], walk: Walk, base: BaseDate) -> Figures:
    disclosure, base_date, base_price = case.disclosure_date, base.base_date, base.base_price
    eligible_lots = [lot for lot in walk.lots if lot.lot_class == "eligible"]
    consumed = eligible_consumptions(walk)
    # "eligible_bought: shares bought in the buy window [I, D) (after ex-rights restatement)."
    eligible_bought = sum((lot.quantity for lot in eligible_lots), ZERO)

    # "q_sold = eligible shares consumed by sells dated in [D, B]; avg_sell = their
    # quantity-weighted sell price."
    sold_in_window = [c for c in consumed if disclosure <= c.sell_date <= base_date]
    q_sold = sum((c.quantity for c in sold_in_window), ZERO)
    avg_sell = weighted_mean((c.sell_price, c.quantity) for c in sold_in_window)

    # "q_held = eligible shares not consumed by any sell dated on or before B (sold after B, or still
    # held)."
    held_parts = [(lot, held_at_base(lot, walk, base_date)) for lot in eligible_lots]
    q_held = sum((q for _, q in held_parts), ZERO)

    # Convention: no_eligible_shares when the eligible shares surviving to D (eligible bought minus
    # eligible consumed by sells dated before D) is 0.
    consumed_before_d = sum((c.quantity for c in consumed if c.sell_date < disclosure), ZERO)
    surviving_to_d = eligible_bought - consumed_before_d

    method = case.plan.cost_method
    if method == "fifo":
        # "fifo: ... each eligible share keeps its lot price. The reported avg_buy is the
        # quantity-weighted price of the eligible shares counted in q_sold + q_held."
        avg_buy = weighted_mean(
            [(c.lot.price, c.quantity) for c in sold_in_window] + [(lot.price, q) for lot, q in held_parts]
        )
        # "loss_sold = sum((lot_price - sell_price) * q) over the [D, B] consumptions of eligible lots"
        loss_sold = sum(((c.lot.price - c.sell_price) * c.quantity for c in sold_in_window), ZERO)
        # "loss_held = sum((lot_price - P_B) * q) over the eligible shares counted in q_held"
        loss_held = sum(((lot.price - base_price) * q for lot, q in held_parts), ZERO)
    else:
        if method == "moving_average":
            avg_buy = moving_average_cost(case, events, walk)
        elif method == "weighted_average":
            avg_buy = weighted_average_cost(eligible_lots)
        elif method == "actual_cost" and case.plan.actual_cost_sells == "all_window_sells":
            # (eligible buy amounts - proceeds of every sell in [I, D)) / (eligible shares bought - shares
            # those sells sold); nothing left on this net basis is no_eligible_shares
            shares, proceeds = window_sells(case, events, walk)
            net = eligible_bought - shares
            if net <= 0:
                return Figures(eligible_bought=eligible_bought, has_eligible_shares=False)
            amounts = sum((lot.price * lot.quantity for lot in eligible_lots), ZERO)
            avg_buy = (amounts - proceeds) / net
        elif method == "actual_cost":
            avg_buy = actual_cost(case, eligible_lots, walk)
        else:
            raise ValueError(f"unknown cost_method {method!r}")
        # "averaged methods: loss_sold = (avg_buy - avg_sell) * q_sold,
        # loss_held = (avg_buy - P_B) * q_held."
        loss_sold = (avg_buy - avg_sell) * q_sold
        loss_held = (avg_buy - base_price) * q_held

    return Figures(
        eligible_bought=eligible_bought,
        q_sold=q_sold,
        q_held=q_held,
        avg_buy=avg_buy,
        avg_sell=avg_sell,
        # "difference_loss = loss_sold + loss_held (gains and losses net)."
        difference_loss=loss_sold + loss_held,
        has_eligible_shares=surviving_to_d > 0,
        # Interest / index: opening = all eligible buys weighted by buy quantity; closing = each [D, B]
        # sell date weighted by the eligible shares it consumed, plus B weighted by q_held.
        opening_dates=[(lot.date, lot.quantity) for lot in eligible_lots],
        closing_dates=[(c.sell_date, c.quantity) for c in sold_in_window],
        base_weight=q_held,
    )


# --------------------------------------------------------------------------------------------------
# Section 5: induced selling 诱空 (direction = "deflation")
# --------------------------------------------------------------------------------------------------


def deflation_figures(case: Case, events: list[Event], base: BaseDate) -> Figures:
    implementation, disclosure = case.implementation_date, case.disclosure_date
    base_date, base_price = base.base_date, base.base_price
    in_window = [e for e in events if implementation <= e.date < disclosure]
    window_sells = [e for e in in_window if e.side == "S"]
    window_buys = [e for e in in_window if e.side == "B"]

    # "q_short = max(0, shares sold in [I, D) - shares bought in [I, D))"
    sold = sum((e.quantity for e in window_sells), ZERO)
    bought = sum((e.quantity for e in window_buys), ZERO)
    q_short = max(ZERO, sold - bought)
    # "avg_sell = quantity-weighted price of all sells in [I, D)."
    avg_sell = weighted_mean((e.price, e.quantity) for e in window_sells)

    # "Buy-backs: buys dated in [D, B], in time order, taken up to q_short units: q_bought_back,
    # avg_buy_back (quantity-weighted over the units taken)."
    taken: list[tuple[Event, Fraction]] = []
    still_short = q_short
    for event in events:
        if event.side == "B" and disclosure <= event.date <= base_date and still_short > 0:
            units = min(event.quantity, still_short)
            taken.append((event, units))
            still_short -= units
    q_bought_back = sum((units for _, units in taken), ZERO)
    avg_buy_back = weighted_mean((e.price, units) for e, units in taken)
    # "q_not_bought_back = q_short - q_bought_back."
    q_not_bought_back = q_short - q_bought_back

    # "difference_loss = (avg_buy_back - avg_sell) * q_bought_back + (P_B - avg_sell) * q_not_bought_back."
    difference_loss = (avg_buy_back - avg_sell) * q_bought_back + (base_price - avg_sell) * q_not_bought_back

    return Figures(
        eligible_bought=q_short,
        q_sold=q_bought_back,
        q_held=q_not_bought_back,
        avg_buy=avg_buy_back,
        avg_sell=avg_sell,
        difference_loss=difference_loss,
        # Convention: no_eligible_shares in deflation when q_short is 0.
        has_eligible_shares=q_short > 0,
        # Interest / index: opening = all sells in [I, D) weighted by quantity; closing = buy-back
        # dates weighted by units taken plus B weighted by q_not_bought_back.
        opening_dates=[(e.date, e.quantity) for e in window_sells],
        closing_dates=[(e.date, units) for e, units in taken],
        base_weight=q_not_bought_back,
    )


# --------------------------------------------------------------------------------------------------
# Section 6: systemic-risk deduction
# --------------------------------------------------------------------------------------------------


def index_close(series: list[tuple[date, Fraction]], when: date) -> Fraction:
    # "An index with no close on a date uses its last close on or before that date."
    position = bisect.bisect_right([d for d, _ in series], when)
    if position == 0:
        raise ValueError(f"index has no close on or before {when.isoformat()}")
    return series[position - 1][1]


def index_figures(
    series: list[tuple[date, Fraction]], figures: Figures, base: BaseDate
) -> tuple[Fraction, Fraction]:
    """(idx_start, idx_end) of one index for one investor."""
    # "idx_base = mean index close over the security's trading days 1..B"
    base_closes = [index_close(series, day.date) for day in base.days_1_to_b]
    idx_base = sum(base_closes, ZERO) / len(base_closes) if base_closes else ZERO
    # inflation: "idx_start = quantity-weighted mean of the index close on the dates of all eligible
    # buys"; deflation: "idx_start on the sell dates in [I, D) (weighted by quantity)"
    idx_start = weighted_mean((index_close(series, d), w) for d, w in figures.opening_dates)
    # inflation: "idx_end = quantity-weighted mean of the index close on each [D, B] sell date
    # (weight: eligible shares that sell consumed) and idx_base (weight q_held)";
    # deflation: "idx_end on the buy-back dates and idx_base"
    idx_end = weighted_mean(
        [(index_close(series, d), w) for d, w in figures.closing_dates] + [(idx_base, figures.base_weight)]
    )
    return idx_start, idx_end


def stock_figures(direction: str, figures: Figures, base_price: Fraction) -> tuple[Fraction, Fraction]:
    """(stock_start, stock_end)."""
    if direction == "inflation":
        # "stock_start = avg_buy; stock_end = quantity-weighted mean of avg_sell (weight q_sold) and
        # P_B (weight q_held)."
        return figures.avg_buy, weighted_mean(
            [(figures.avg_sell, figures.q_sold), (base_price, figures.q_held)]
        )
    # deflation: "stock_start = avg_sell, stock_end = weighted mean of avg_buy_back and P_B"
    return figures.avg_sell, weighted_mean([(figures.avg_buy, figures.q_sold), (base_price, figures.q_held)])


def relative_ratio(data: CaseData, figures: Figures, base: BaseDate) -> Fraction:
    direction = data.case.direction
    stock_start, stock_end = stock_figures(direction, figures, base.base_price)
    if stock_start <= 0:
        # Convention: if stock_start <= 0 the ratio for every index is 0.
        return ZERO
    if direction == "inflation":
        s = (stock_start - stock_end) / stock_start  # "Stock decline"
    else:
        s = (stock_end - stock_start) / stock_start  # "the same with rises"
    if data.case.plan.systemic_method == "market_model":
        return market_model_ratio(data, figures, base, s)
    ratio = ZERO
    for code, weight in data.case.plan.index_weights.items():
        idx_start, idx_end = index_figures(data.indices[code], figures, base)
        if idx_start <= 0:  # cannot happen with positive closes; kept to avoid dividing by zero
            ratio_k = ZERO
        else:
            if direction == "inflation":
                x = (idx_start - idx_end) / idx_start  # "index decline"
            else:
                x = (idx_end - idx_start) / idx_start  # "index rise"
            # "ratio_k = 0 if s <= 0 or x <= 0, else min(1, x / s)"
            ratio_k = ZERO if s <= 0 or x <= 0 else min(Fraction(1), x / s)
        # "ratio = sum(w_k * ratio_k)"
        ratio += weight * ratio_k
    return ratio


def market_beta(data: CaseData, security: str) -> Fraction:
    """market_model: the OLS slope of the stock's daily returns on the index blend's, over the estimation
    window (the estimation_days trading days before the last estimation_gap trading days before I), exactly."""
    plan, case = data.case.plan, data.case
    rows = sorted((r for r in data.market if r.security == security and r.volume > 0
                   and r.date < case.implementation_date), key=lambda r: r.date)
    length, gap = plan.estimation_days, plan.estimation_gap
    if len(rows) < length + gap + 1:
        raise ValueError(f"security {security}: too few trading days before I for the market model")
    window = rows[len(rows) - gap - length - 1:len(rows) - gap]
    closes = [adjusted_close(r, data.actions) for r in window]
    stock = [closes[t] / closes[t - 1] - 1 for t in range(1, len(window))]
    market = []
    for t in range(1, len(window)):
        market.append(sum((w * (index_close(data.indices[code], window[t].date)
                                / index_close(data.indices[code], window[t - 1].date) - 1)
                           for code, w in plan.index_weights.items()), ZERO))
    n = len(stock)
    mean_s, mean_m = sum(stock, ZERO) / n, sum(market, ZERO) / n
    sxx = sum(((m - mean_m) ** 2 for m in market), ZERO)
    sxy = sum(((m - mean_m) * (r - mean_s) for m, r in zip(market, stock, strict=True)), ZERO)
    return sxy / sxx


def market_model_ratio(data: CaseData, figures: Figures, base: BaseDate, s: Fraction) -> Fraction:
    """"ratio = 0 if s <= 0 or beta * x <= 0, else min(1, beta * x / s)", x = sum(w_k * x_k) over the same
    index moves as relative_ratio."""
    direction = data.case.direction
    x = ZERO
    for code, weight in data.case.plan.index_weights.items():
        idx_start, idx_end = index_figures(data.indices[code], figures, base)
        move = (idx_start - idx_end) / idx_start if direction == "inflation" else (idx_end - idx_start) / idx_start
        x += weight * move
    explained = market_beta(data, base.security) * x
    if s <= 0 or explained <= 0:
        return ZERO
    return min(Fraction(1), explained / s)


def systemic_deduction(data: CaseData, figures: Figures, base: BaseDate) -> Fraction:
    plan = data.case.plan
    # "Let L = max(0, difference_loss)."
    loss = max(ZERO, figures.difference_loss)
    if plan.systemic_method == "none":
        return ZERO  # "none: deduction = 0."
    if plan.systemic_method == "uniform_ratio":
        return loss * plan.systemic_ratio  # "uniform_ratio: deduction = L * ratio"
    if plan.systemic_method in ("relative_ratio", "market_model"):
        # "deduction = L * ratio", times the plan's deducted_share of the market's part
        return loss * relative_ratio(data, figures, base) * plan.deducted_share
    raise ValueError(f"unknown systemic_risk method {plan.systemic_method!r}")


# --------------------------------------------------------------------------------------------------
# Section 7: commission, stamp duty, interest, total
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """Unrounded money figures."""

    difference_loss: Fraction
    systemic_deduction: Fraction
    net_loss: Fraction
    commission: Fraction
    stamp_duty: Fraction
    interest: Fraction
    compensation: Fraction


def interest_days(figures: Figures, base_date: date) -> Fraction:
    """"days = calendar days from the quantity-weighted mean date of the opening trades (eligible
    buys; for deflation, the window sells) to the quantity-weighted mean closing date (each [D, B]
    sell or buy-back date, and B for q_held / q_not_bought_back), dates taken as day ordinals."
    """
    opening = weighted_mean((Fraction(d.toordinal()), w) for d, w in figures.opening_dates)
    closing = weighted_mean(
        [(Fraction(d.toordinal()), w) for d, w in figures.closing_dates]
        + [(Fraction(base_date.toordinal()), figures.base_weight)]
    )
    return closing - opening


def money_figures(data: CaseData, figures: Figures, base: BaseDate) -> Money:
    plan = data.case.plan
    deduction = systemic_deduction(data, figures, base)
    # "net_loss = difference_loss - deduction."
    net_loss = figures.difference_loss - deduction
    if net_loss <= 0:
        # "If net_loss <= 0, every item below is 0 and the status is no_loss."
        return Money(figures.difference_loss, deduction, net_loss, ZERO, ZERO, ZERO, ZERO)
    # "commission = net_loss * plan.commission_rate; stamp_duty = net_loss * plan.stamp_duty_rate"
    commission = net_loss * plan.commission_rate
    stamp_duty = net_loss * plan.stamp_duty_rate
    # "interest ...: net_loss * plan.interest_rate * days / 365"
    interest = ZERO
    if plan.interest:
        interest = net_loss * plan.interest_rate * interest_days(figures, base.base_date) / 365
    # "compensation = net_loss + commission + stamp_duty + interest."
    compensation = net_loss + commission + stamp_duty + interest
    return Money(figures.difference_loss, deduction, net_loss, commission, stamp_duty, interest, compensation)


def decide_status(excluded: bool, figures: Figures, amounts: Money | None, plan: Plan) -> str:
    """"Statuses, in order of precedence: excluded, no_eligible_shares, no_loss, below_minimum,
    eligible."
    """
    if excluded:
        return "excluded"
    if not figures.has_eligible_shares:
        return "no_eligible_shares"
    assert amounts is not None
    if amounts.net_loss <= 0:
        return "no_loss"
    # "De minimis: compensation < plan.minimum_payment -> paid 0, status below_minimum."
    # Convention: the rounded compensation is compared.
    if Fraction(money(amounts.compensation)) < plan.minimum_payment:
        return "below_minimum"
    return "eligible"


def reported_money(status: str, amounts: Money | None) -> dict[str, Decimal]:
    """Money columns as reported for a status (project conventions)."""
    zero = {column: money(ZERO) for column in MONEY_COLUMNS}
    if status in ("excluded", "no_eligible_shares") or amounts is None:
        # Convention: all money fields are 0 for excluded and no_eligible_shares.
        return zero
    values = {column: money(getattr(amounts, column)) for column in MONEY_COLUMNS}
    if status == "no_loss":
        # "no_loss ... still report the loss figures they computed": difference_loss,
        # systemic_deduction and net_loss; the items of section 7 are 0.
        for column in ("commission", "stamp_duty", "interest", "compensation"):
            values[column] = money(ZERO)
    elif status == "below_minimum":
        # "For a non-paying status, compensation is 0"
        values["compensation"] = money(ZERO)
    return values


# --------------------------------------------------------------------------------------------------
# One output row per (investor, security)
# --------------------------------------------------------------------------------------------------


def flags_text(oversold: bool, truncated: bool) -> str:
    # "Flags: oversold, base_date_truncated." (";"-separated, in this order, empty if none)
    return ";".join(name for name, on in (("oversold", oversold), ("base_date_truncated", truncated)) if on)


def compute_row(data: CaseData, base: BaseDate, investor_id: str, security: str) -> dict[str, Any]:
    case = data.case
    trades = [t for t in data.trades if t.investor_id == investor_id and t.security == security]
    positions = [p for p in data.positions if p.investor_id == investor_id and p.security == security]
    events = prepare_events(data, trades, security)
    walk = fifo_walk(case, opening_quantities(data, positions, security), events)
    if case.direction == "inflation":
        figures = inflation_figures(case, events, walk, base)
    elif case.direction == "deflation":
        # Convention: in deflation the FIFO walk is still done, for the oversold flag only.
        figures = deflation_figures(case, events, base)
    else:
        raise ValueError(f"unknown direction {case.direction!r}")

    excluded = investor_id in data.exclusions
    amounts = None
    if not excluded and figures.has_eligible_shares:
        amounts = money_figures(data, figures, base)
    status = decide_status(excluded, figures, amounts, case.plan)

    row: dict[str, Any] = {
        "investor_id": investor_id,
        "security": security,
        "status": status,
        "flags": flags_text(walk.oversold, base.truncated),
        "eligible_bought": figures.eligible_bought,
        "q_sold": figures.q_sold,
        "q_held": figures.q_held,
        "avg_buy": price(figures.avg_buy),
        "avg_sell": price(figures.avg_sell),
        "base_price": price(base.base_price),
    }
    row.update(reported_money(status, amounts))
    return {column: row[column] for column in OUTPUT_COLUMNS}


def investor_security_pairs(data: CaseData) -> list[tuple[str, str]]:
    pairs = {(t.investor_id, t.security) for t in data.trades}
    pairs |= {(p.investor_id, p.security) for p in data.positions}
    return sorted(pairs)


def one_statement_rows(data: CaseData) -> list[dict[str, Any]]:
    """One row per (investor_id, security) present in trades.csv or positions.csv, sorted."""
    bases = {security: compute_base_date(data, security) for security in data.case.securities}
    pairs = investor_security_pairs(data)
    return [compute_row(data, bases[security], investor, security) for investor, security in pairs]


# --------------------------------------------------------------------------------------------------
# Section 9: several false statements in one case
# --------------------------------------------------------------------------------------------------


def statement_data(data: CaseData, statement: Statement) -> CaseData:
    """"For each statement, every (investor, security) is computed exactly as a one-statement case with
    I = I_k, D = D_k, B = B_k" (B_k "computed from D_k by section 2 (or fixed by its own base_date /
    base_price)")."""
    case = replace(
        data.case,
        implementation_date=statement.implementation_date,
        disclosure_date=statement.disclosure_date,
        fixed_base_date=statement.fixed_base_date,
        fixed_base_price=statement.fixed_base_price,
        statements=(),
    )
    return replace(data, case=case)


# "ties go to the better status (eligible, below_minimum, no_loss, no_eligible_shares, excluded)"
STATUS_RANK = {"eligible": 0, "below_minimum": 1, "no_loss": 2, "no_eligible_shares": 3, "excluded": 4}


def best_row(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """"the statement whose row has the highest compensation; ties go to the better status ..., then to
    the statement listed first."  ``candidates`` are in the order of case.toml.

    Convention (reading): "the row's compensation" is the reported (rounded) value of the row.
    """
    return min(
        enumerate(candidates),
        key=lambda item: (-item[1]["compensation"], STATUS_RANK[item[1]["status"]], item[0]),
    )[1]


def statement_rows(data: CaseData) -> list[dict[str, Any]]:
    statements = data.case.statements
    per_statement = []
    for statement in statements:
        rows = one_statement_rows(statement_data(data, statement))
        # "the output has a column statement (the statement's id) right after security"
        per_statement.append(
            {(r["investor_id"], r["security"]): {**r, "statement": statement.id} for r in rows}
        )
    result = []
    for pair in investor_security_pairs(data):
        candidates = [rows[pair] for rows in per_statement]
        if data.case.statements_rule == "each":
            # "one row per (investor, security, statement), in the order (investor_id, security,
            # statement's position in case.toml)"
            chosen = candidates
        else:
            # "best_for_investor: output one row per (investor, security)"
            chosen = [best_row(candidates)]
        result += [{column: row[column] for column in STATEMENT_OUTPUT_COLUMNS} for row in chosen]
    return result


def compute_reference(case_dir: Path | str) -> list[dict[str, Any]]:
    """The rows of ``redress compute``, in the output's order."""
    data = read_case(Path(case_dir))
    if data.case.statements:
        return statement_rows(data)
    return one_statement_rows(data)


def base_date_object(base: BaseDate) -> dict[str, Any]:
    return {
        "security": base.security,
        "base_date": base.base_date,
        "base_price": price(base.base_price),
        "trading_days": base.day_number,
        "cumulative_turnover": base.cumulative_turnover,
        "flags": ["base_date_truncated"] if base.truncated else [],
    }


def base_dates(case_dir: Path | str) -> dict[Any, dict[str, Any]]:
    """Per security: base_date, base_price, trading_days, cumulative_turnover, flags.  For a case with
    statements, per (statement id, security), each object also with "statement"."""
    data = read_case(Path(case_dir))
    if not data.case.statements:
        return {s: base_date_object(compute_base_date(data, s)) for s in data.case.securities}
    result: dict[Any, dict[str, Any]] = {}
    for statement in data.case.statements:
        one = statement_data(data, statement)
        for security in data.case.securities:
            obj = base_date_object(compute_base_date(one, security))
            result[(statement.id, security)] = {"statement": statement.id, **obj}
    return result
