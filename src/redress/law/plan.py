"""The case file ``case.toml``: the case, its key dates and its compensation plan.

Loading is strict: an unknown key, an impossible value or inconsistent dates is an error naming the key.
Keys the plan leaves out take their defaults from the dated law data (``law/data``), and the plan records
where each value came from so that ``redress explain`` can cite it.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from redress.errors import CaseError, Problem
from redress.law import parameters


class Rules(StrEnum):
    """Which judicial interpretation governs the computation."""

    SPC2022 = "spc2022"  # 法释〔2022〕2号, in force 2022-01-22
    SPC2003 = "spc2003"  # 法释〔2003〕2号, in force 2003-02-01, repealed 2022


class Direction(StrEnum):
    INFLATION = "inflation"  # induced buying 诱多 (SPC-2022 Art. 27)
    DEFLATION = "deflation"  # induced selling 诱空 (SPC-2022 Art. 28)


class CostMethod(StrEnum):
    MOVING_AVERAGE = "moving_average"  # 移动加权平均 from the first eligible buy
    WEIGHTED_AVERAGE = "weighted_average"  # 综合加权平均 over all eligible buys
    ACTUAL_COST = "actual_cost"  # 实际成本法: net cost of the eligible shares held at D
    FIFO = "fifo"  # 先进先出: each eligible share keeps its lot price


class SystemicMethod(StrEnum):
    NONE = "none"
    UNIFORM_RATIO = "uniform_ratio"  # one ratio for every investor
    RELATIVE_RATIO = "relative_ratio"  # 个体相对比例法: per investor, stock against index moves
    MARKET_MODEL = "market_model"  # 事件研究法: the index move times the stock's beta fitted before I


# methods that read index closes over each investor's holding
INDEX_METHODS = frozenset({SystemicMethod.RELATIVE_RATIO, SystemicMethod.MARKET_MODEL})


class TurnoverDenominator(StrEnum):
    """What a day's turnover is divided by when finding the 100% day (loss-rules.md section 2)."""

    DAILY = "daily"  # each day's tradable_shares
    DISCLOSURE_DATE = "disclosure_date"  # the tradable shares on the disclosure date, for every day


class ActualCostSells(StrEnum):
    """Which sells before D lower the average cost under ``actual_cost``."""

    ELIGIBLE_PART = "eligible_part"  # the part of each sell that used up eligible lots (FIFO)
    ALL_WINDOW_SELLS = "all_window_sells"  # every sell dated in [I, D), whole


class DayOne(StrEnum):
    """SPC-2003 Art. 33: from which day the 30 trading days of the fallback base date are counted."""

    DISCLOSURE_DATE = "disclosure_date"  # D itself is day 1 (when the security traded on D)
    DAY_AFTER = "day_after"  # "揭露日后第30个交易日": the first trading day after D is day 1


@dataclass(frozen=True)
class SystemicRisk:
    method: SystemicMethod = SystemicMethod.NONE
    ratio: float = 0.0
    indices: tuple[tuple[str, float], ...] = ()
    estimation_days: int | None = None  # market_model: trading days in the estimation window
    estimation_gap: int | None = None  # market_model: trading days left out between the window and I
    deducted_share: float = 1.0  # index methods: the share of the market's part that is deducted

    @property
    def uses_index(self) -> bool:
        return self.method in INDEX_METHODS


@dataclass(frozen=True)
class Plan:
    cost_method: CostMethod
    commission_rate: float
    stamp_duty_rate: float
    interest: bool
    interest_rate: float
    minimum_payment: float
    systemic_risk: SystemicRisk
    turnover_denominator: TurnoverDenominator = TurnoverDenominator.DAILY
    actual_cost_sells: ActualCostSells = ActualCostSells.ELIGIBLE_PART
    day_one: DayOne = DayOne.DISCLOSURE_DATE
    # key -> where the value came from ("case.toml" or a law-data citation)
    sources: tuple[tuple[str, str], ...] = ()

    def source(self, key: str) -> str:
        return dict(self.sources).get(key, "case.toml")


class StatementsRule(StrEnum):
    """How a case with several false statements pays (loss-rules.md section 9)."""

    EACH = "each"  # every statement's row is owed; buy windows must not overlap
    BEST_FOR_INVESTOR = "best_for_investor"  # per (investor, security), the statement that pays the most


@dataclass(frozen=True)
class Statement:
    """One false statement: its key dates, and a base date or price when the case fixes them.

    ``id`` is None for a case written with the top-level dates (one statement, no ``statement`` column).
    ``plan`` is the case's plan with the defaults of the law data in force on this statement's disclosure
    date (None: the case's plan as it stands)."""

    id: str | None
    implementation_date: dt.date
    disclosure_date: dt.date
    base_date: dt.date | None = None
    base_price: float | None = None
    plan: Plan | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class CaseConfig:
    """A case.  The top-level dates are those of the first statement; ``for_statement`` gives the case as a
    one-statement case for each of ``statements``."""

    id: str
    name: str
    rules: Rules
    direction: Direction
    securities: tuple[str, ...]
    implementation_date: dt.date
    disclosure_date: dt.date
    base_date: dt.date | None
    base_price: float | None
    plan: Plan
    statements: tuple[Statement, ...] = ()
    statements_rule: StatementsRule = StatementsRule.EACH

    def __post_init__(self) -> None:
        if not self.statements:
            object.__setattr__(self, "statements", (Statement(
                None, self.implementation_date, self.disclosure_date, self.base_date, self.base_price),))

    @property
    def has_statements(self) -> bool:
        """Written with ``[[case.statements]]``: the output carries a ``statement`` column."""
        return self.statements[0].id is not None

    def with_plan(self, plan: Plan) -> CaseConfig:
        """The case under another plan (every statement takes it as it is)."""
        return replace(self, plan=plan, statements=tuple(replace(s, plan=None) for s in self.statements))

    def for_statement(self, statement: Statement | str | None) -> CaseConfig:
        """The case as a one-statement case with this statement's dates, base and plan (by value or id)."""
        if not isinstance(statement, Statement):
            found = [s for s in self.statements if s.id == statement]
            if not found:
                raise KeyError(f"no statement {statement!r} in case {self.id}")
            statement = found[0]
        return replace(self, implementation_date=statement.implementation_date,
                       disclosure_date=statement.disclosure_date, base_date=statement.base_date,
                       base_price=statement.base_price, plan=statement.plan or self.plan,
                       statements=(statement,))


_CASE_KEYS = {
    "id", "name", "rules", "direction", "securities", "implementation_date", "disclosure_date",
    "base_date", "base_price", "statements", "statements_rule",
}
_STATEMENT_KEYS = {"id", "implementation_date", "disclosure_date", "base_date", "base_price"}
_PLAN_KEYS = {
    "cost_method", "commission_rate", "stamp_duty_rate", "interest", "interest_rate", "minimum_payment",
    "systemic_risk", "turnover_denominator", "actual_cost_sells", "day_one",
}
# plan keys that decide base dates: computed once per case, so a plan compared with the case's must keep them
BASE_DATE_KEYS = ("turnover_denominator", "day_one")
_SYSTEMIC_KEYS = {"method", "ratio", "indices", "estimation_days", "estimation_gap", "deducted_share"}


class _Reader:
    """Collects problems while reading one TOML document, so all of them are reported at once."""

    def __init__(self, origin: str):
        self.origin = origin
        self.problems: list[Problem] = []

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.origin, None, reason, key))

    def unknown(self, table: dict[str, Any], allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                self.problem(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def string(self, table: dict, key: str, prefix: str, *, required: bool, choices=None) -> str | None:
        if key not in table:
            if required:
                self.problem(prefix + key, "missing required key")
            return None
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(prefix + key, f"must be a non-empty string, got {value!r}")
            return None
        if choices is not None and value not in choices:
            self.problem(prefix + key, f"unknown value {value!r} (allowed: {', '.join(choices)})")
            return None
        return value

    def date(self, table: dict, key: str, prefix: str, *, required: bool) -> dt.date | None:
        if key not in table:
            if required:
                self.problem(prefix + key, "missing required key")
            return None
        value = table[key]
        if isinstance(value, dt.datetime):
            self.problem(prefix + key, f"must be a date (YYYY-MM-DD), got a date-time {value}")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date()
            except ValueError:
                pass
        self.problem(prefix + key, f"not a valid date (YYYY-MM-DD): {value!r}")
        return None

    def number(self, table: dict, key: str, prefix: str, *, low: float = 0.0, high: float | None = None,
               low_open: bool = False) -> float | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.problem(prefix + key, f"must be a number, got {value!r}")
            return None
        value = float(value)
        if value < low or (low_open and value == low):
            self.problem(prefix + key, f"must be {'>' if low_open else '>='} {low:g}, got {value:g}")
            return None
        if high is not None and value > high:
            self.problem(prefix + key, f"must be <= {high:g}, got {value:g}")
            return None
        return value

    def whole(self, table: dict, key: str, prefix: str, *, low: int) -> int | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(prefix + key, f"must be a whole number of trading days, got {value!r}")
            return None
        if value < low or value > 100_000:
            self.problem(prefix + key, f"must be between {low} and 100000, got {value}")
            return None
        return value


def _bad_date() -> dt.date:
    raise ValueError("not YYYY-MM-DD")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaseError(Problem(path.name, None, "file not found"),
                        "A case directory needs case.toml, market.csv and trades.csv (see formats.md).") from None
    except UnicodeDecodeError as exc:
        raise CaseError(Problem(path.name, None, f"not UTF-8 text ({exc.reason})")) from None
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        raise CaseError(Problem(path.name, line, f"invalid TOML: {exc}")) from None


_DEFAULT_RATES = (
    ("commission_rate", parameters.customary_commission_rate, "law/data/conventions.toml, customary rate"),
    ("stamp_duty_rate", parameters.stamp_duty_seller_rate, "law/data/stamp_duty.toml, seller rate"),
    ("interest_rate", parameters.demand_deposit_rate, "law/data/deposit_rate.toml, demand deposit rate"),
)


def _read_plan(r: _Reader, raw: dict[str, Any], rules: Rules | None, disclosure: dt.date | None,
               base: Plan | None) -> Plan | None:
    """Read a ``[plan]`` table.  Absent keys come from ``base`` when given, else from the law data."""
    if not isinstance(raw, dict):
        r.problem("plan", "must be a table")
        return None
    r.unknown(raw, _PLAN_KEYS, "plan.")
    p = "plan."
    cost = r.string(raw, "cost_method", p, required=False, choices=[m.value for m in CostMethod])
    commission = r.number(raw, "commission_rate", p, high=1.0)
    stamp = r.number(raw, "stamp_duty_rate", p, high=1.0)
    interest_rate = r.number(raw, "interest_rate", p, high=1.0)
    minimum = r.number(raw, "minimum_payment", p)
    interest = raw.get("interest")
    if interest is not None and not isinstance(interest, bool):
        r.problem("plan.interest", f"must be true or false, got {interest!r}")
        interest = None
    systemic = _read_systemic(r, raw.get("systemic_risk", {}), base)
    turnover = r.string(raw, "turnover_denominator", p, required=False, choices=[x.value for x in TurnoverDenominator])
    cost_sells = r.string(raw, "actual_cost_sells", p, required=False, choices=[x.value for x in ActualCostSells])
    day_one = r.string(raw, "day_one", p, required=False, choices=[x.value for x in DayOne])
    if day_one == DayOne.DAY_AFTER and rules == Rules.SPC2022:
        r.problem("plan.day_one", "\"day_after\" applies to the SPC-2003 rules only (SPC-2022 Art. 26 counts from "
                                  "the disclosure date itself)")

    day = disclosure or dt.date.today()
    d = base
    sources = dict(base.sources) if base is not None else {}
    rates = {"commission_rate": commission, "stamp_duty_rate": stamp, "interest_rate": interest_rate}
    for key, lookup, what in _DEFAULT_RATES:
        if rates[key] is not None:
            sources.pop(key, None)  # given in this file
        elif base is not None:
            rates[key] = getattr(base, key)
        else:
            v = lookup(day)
            rates[key] = v.value
            sources[key] = (f"{what} in force on the disclosure date {day.isoformat()} "
                            f"(since {v.effective}): {v.source}")
    commission, stamp, interest_rate = rates["commission_rate"], rates["stamp_duty_rate"], rates["interest_rate"]
    if interest is None:
        interest = d.interest if d is not None else rules == Rules.SPC2003
    if systemic is None:
        return None
    return Plan(
        cost_method=CostMethod(cost) if cost else (d.cost_method if d else CostMethod.MOVING_AVERAGE),
        commission_rate=commission,
        stamp_duty_rate=stamp,
        interest=bool(interest),
        interest_rate=interest_rate,
        minimum_payment=minimum if minimum is not None else (d.minimum_payment if d else 0.0),
        systemic_risk=systemic,
        turnover_denominator=TurnoverDenominator(turnover) if turnover else (
            d.turnover_denominator if d else TurnoverDenominator.DAILY),
        actual_cost_sells=ActualCostSells(cost_sells) if cost_sells else (
            d.actual_cost_sells if d else ActualCostSells.ELIGIBLE_PART),
        day_one=DayOne(day_one) if day_one else (d.day_one if d else DayOne.DISCLOSURE_DATE),
        sources=tuple(sorted(sources.items())),
    )


def _read_systemic(r: _Reader, raw: Any, base: Plan | None) -> SystemicRisk | None:
    """Read ``[plan.systemic_risk]``; keys it omits come from ``base`` (a plan override) or the defaults."""
    p = "plan.systemic_risk."
    if not isinstance(raw, dict):
        r.problem("plan.systemic_risk", "must be a table")
        return None
    r.unknown(raw, _SYSTEMIC_KEYS, p)
    default = base.systemic_risk if base is not None else SystemicRisk()
    method = r.string(raw, "method", p, required=False, choices=[m.value for m in SystemicMethod])
    ratio = r.number(raw, "ratio", p, high=1.0)
    raw_indices = raw.get("indices")
    indices: list[tuple[str, float]] = list(default.indices)
    if raw_indices is not None:
        if not isinstance(raw_indices, dict):
            r.problem(p + "indices", "must be a table of index code = weight")
            return None
        indices = []
        for code in raw_indices:
            w = r.number(raw_indices, code, f"{p}indices.")
            if w is not None:
                indices.append((str(code), w))
        if len(indices) != len(raw_indices):
            return None
    method_e = SystemicMethod(method) if method else default.method
    if method_e in INDEX_METHODS:
        if not indices:
            r.problem(p + "indices", f"{method_e.value} needs at least one index with a weight")
        elif abs(sum(w for _, w in indices) - 1.0) > 1e-9:
            total = sum(w for _, w in indices)
            r.problem(p + "indices", f"weights must sum to 1, they sum to {total:g}")
    share = r.number(raw, "deducted_share", p, high=1.0)
    if share is not None and method_e not in INDEX_METHODS:
        r.problem(p + "deducted_share", "applies to relative_ratio and market_model only")
    days = r.whole(raw, "estimation_days", p, low=2)
    gap = r.whole(raw, "estimation_gap", p, low=0)
    for key in ("estimation_days", "estimation_gap"):
        if key in raw and method_e != SystemicMethod.MARKET_MODEL:
            r.problem(p + key, "applies to market_model only")
    days = days if days is not None else default.estimation_days
    gap = gap if gap is not None else default.estimation_gap
    if method_e == SystemicMethod.MARKET_MODEL:
        for key, value in (("estimation_days", days), ("estimation_gap", gap)):
            if value is None and key not in raw:
                r.problem(p + key, "market_model needs it: the estimation window's length in trading days "
                                   "(estimation_days) and the trading days left out before I (estimation_gap)")
    return SystemicRisk(method_e, ratio if ratio is not None else default.ratio, tuple(indices), days, gap,
                        share if share is not None else default.deducted_share)


def load_case(case_dir: Path) -> CaseConfig:
    """Read and validate ``case.toml``.  Raises CaseError listing every problem, each naming its key."""
    path = Path(case_dir) / "case.toml"
    data = _read_toml(path)
    r = _Reader("case.toml")
    r.unknown(data, {"case", "plan"}, "")
    case = data.get("case")
    if not isinstance(case, dict):
        r.problem("case", "missing [case] table")
        raise CaseError(r.problems)
    r.unknown(case, _CASE_KEYS, "case.")
    p = "case."
    case_id = r.string(case, "id", p, required=True)
    name = r.string(case, "name", p, required=False) or case_id
    rules = r.string(case, "rules", p, required=True, choices=[x.value for x in Rules])
    direction = r.string(case, "direction", p, required=True, choices=[x.value for x in Direction])
    securities = case.get("securities")
    if not isinstance(securities, list) or not securities or not all(
            isinstance(s, str) and s.strip() for s in securities):
        r.problem("case.securities", "must be a non-empty list of security codes")
        securities = []
    elif len(set(securities)) != len(securities):
        r.problem("case.securities", "lists a security twice")
    rules_e = Rules(rules) if rules else None
    raw_plan = data.get("plan", {})
    if "statements" in case:
        statements = _read_statements(r, case, securities, rules_e, raw_plan)
        rule = r.string(case, "statements_rule", p, required=False, choices=[x.value for x in StatementsRule])
        plan = statements[0].plan if statements else None
    else:
        statements = []
        impl, disc, base_date, base_price = _read_dates(r, case, p, securities)
        rule = r.string(case, "statements_rule", p, required=False, choices=[x.value for x in StatementsRule])
        plan = _read_plan(r, raw_plan, rules_e, disc, None)
        if impl and disc:
            statements = [Statement(None, impl, disc, base_date, base_price, plan)]
    rule_e = StatementsRule(rule) if rule else StatementsRule.EACH
    if rule_e == StatementsRule.EACH:
        _check_overlaps(r, statements)
    if r.problems:
        raise CaseError(r.problems, "Fix case.toml and run the command again; nothing was written.")
    assert case_id and rules_e and direction and statements and plan
    first = statements[0]
    return CaseConfig(case_id, name, rules_e, Direction(direction), tuple(securities),
                      first.implementation_date, first.disclosure_date, first.base_date, first.base_price,
                      plan, tuple(statements), rule_e)


def _read_dates(r: _Reader, table: dict, p: str, securities: list
                ) -> tuple[dt.date | None, dt.date | None, dt.date | None, float | None]:
    """The key dates of one statement (the top-level ones of ``[case]`` or one of ``[[case.statements]]``)."""
    impl = r.date(table, "implementation_date", p, required=True)
    disc = r.date(table, "disclosure_date", p, required=True)
    base_date = r.date(table, "base_date", p, required=False)
    base_price = r.number(table, "base_price", p, low_open=True)
    if impl and disc and disc <= impl:
        r.problem(p + "disclosure_date", f"{disc} is not after the implementation date {impl} "
                                         "(the buy window [I, D) would be empty)")
    if base_date and disc and base_date < disc:
        r.problem(p + "base_date", f"{base_date} is before the disclosure date {disc}")
    if base_price is not None and len(securities) != 1:
        r.problem(p + "base_price", "a fixed base price needs exactly one security in case.securities")
    return impl, disc, base_date, base_price


def _read_statements(r: _Reader, case: dict, securities: list, rules: Rules | None, raw_plan: Any
                     ) -> list[Statement]:
    """``[[case.statements]]`` (loss-rules.md section 9).  Each statement's plan takes the law data's defaults
    in force on its own disclosure date, as a one-statement case with that date would."""
    for key in ("implementation_date", "disclosure_date", "base_date", "base_price"):
        if key in case:
            r.problem(f"case.{key}", "cannot be given together with [[case.statements]]: give the dates "
                                     "either at the top level (one statement) or in each statement")
    raw = case["statements"]
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        r.problem("case.statements", "must be a list of tables ([[case.statements]])")
        return []
    if not raw:
        r.problem("case.statements", "is an empty list: give at least one statement")
        return []
    statements: list[Statement] = []
    seen: dict[str, int] = {}
    for n, table in enumerate(raw, start=1):
        p = f"case.statements[{n}]."
        r.unknown(table, _STATEMENT_KEYS, p)
        sid = r.string(table, "id", p, required=True)
        if sid is not None:
            sid = sid.strip()
            if sid in seen:
                r.problem(p + "id", f"duplicate id {sid!r} (statement {seen[sid]} has it too)")
            seen.setdefault(sid, n)
        impl, disc, base_date, base_price = _read_dates(r, table, p, securities)
        # the [plan] table is read once for its problems; later statements only take their defaults from it
        reader = r if n == 1 else _Reader(r.origin)
        plan = _read_plan(reader, raw_plan, rules, disc, None)
        if sid is not None and impl and disc and plan is not None:
            statements.append(Statement(sid, impl, disc, base_date, base_price, plan))
    return statements if len(statements) == len(raw) else []


def _check_overlaps(r: _Reader, statements: list[Statement]) -> None:
    """Under ``statements_rule = "each"`` the buy windows [I_k, D_k) must not overlap (loss-rules.md 9)."""
    for j, a in enumerate(statements):
        for b in statements[j + 1:]:
            if a.implementation_date < b.disclosure_date and b.implementation_date < a.disclosure_date:
                r.problem("case.statements",
                          f"the buy windows of statements {a.id!r} [{a.implementation_date}, "
                          f"{a.disclosure_date}) and {b.id!r} [{b.implementation_date}, {b.disclosure_date}) "
                          f"overlap; with statements_rule = \"each\" they must not "
                          f"(\"best_for_investor\" pays the better one)")


def load_plan_override(path: Path, case: CaseConfig) -> Plan:
    """Read a plan file for ``redress compare``: a ``[plan]`` table; keys it omits keep the case's values."""
    data = _read_toml(Path(path))
    r = _Reader(Path(path).name)
    r.unknown(data, {"plan"}, "")
    plan = _read_plan(r, data.get("plan", {}), case.rules, case.disclosure_date, case.plan)
    if plan is not None:
        for key in BASE_DATE_KEYS:
            if getattr(plan, key) != getattr(case.plan, key):
                r.problem(f"plan.{key}", f"decides the base dates, which every plan of a case shares: set it in "
                                         f"the case's case.toml ({getattr(case.plan, key).value}), not in a plan "
                                         f"compared with it")
    if r.problems or plan is None:
        raise CaseError(r.problems)
    return plan
