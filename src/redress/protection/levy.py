"""Levies on securities companies for the investor protection fund (证券投资者保护基金), in integer fen.

Every securities company pays a rate of its operating income (Measures for the Administration of Securities
Investor Protection Funds, CSRC Order No. 27, 2005, Art. 12(2): 0.5% to 5%), in advance each quarter within
ten working days after the quarter ends, settled once a year on the audited income (Art. 15).  The rates by
classification grade are dated tables in ``law/data/levy_rates.toml``, keyed by levy year.

Model conventions (see ``docs.md``):

* **Lowest rate wins.**  When several rules of a table apply (the grade table, the consecutive class-A rules,
  the loss-share bands), the company pays the lowest of their rates; the result names the rule that gave it
  and lists every rule considered.  On a tie the rule listed first in the data file is named.
* **No invented rates.**  A levy year with no table, or a fund size below a table's threshold, is refused.
* **Working days** are sessions of the Shanghai Stock Exchange (``redress.market.calendar``): they follow the
  State Council holiday schedule, but weekend make-up working days (调休上班日) are not sessions and are not
  counted, so a due date can fall a day or two later than on the official working-day calendar.
* **Rounding.**  Each levy amount is ``income x rate`` rounded once, half up, to the fen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from functools import cache
from typing import Any

from redress.protection._common import (
    BP_PER_UNIT,
    ProtectionDataError,
    ProtectionError,
    check_fen,
    check_keys,
    data_date,
    data_int,
    data_text,
    parse_toml,
    pct_bp,
    read_data,
    round_half_up,
    yuan,
)

LEVY_DATA = "levy_rates"


class Grade(StrEnum):
    """Classification grade of a securities company (证券公司分类评价结果)."""

    AAA = "AAA"
    AA = "AA"
    A = "A"
    BBB = "BBB"
    BB = "BB"
    B = "B"
    CCC = "CCC"
    CC = "CC"
    C = "C"
    D = "D"

    @property
    def klass(self) -> GradeClass:
        return GradeClass(self.value[0])


class GradeClass(StrEnum):
    """The four classes of grades (A类 = AAA/AA/A, B类 = BBB/BB/B, C类 = CCC/CC/C, D类 = D)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


def _grade(value: object, field: str) -> Grade:
    try:
        return Grade(value)
    except ValueError:
        raise ProtectionError(field, f"{value!r} is not a classification grade; use one of "
                                     f"{', '.join(g.value for g in Grade)}",
                              f"{value!r} 不是证券公司分类评价级别，应为 "
                              f"{'、'.join(g.value for g in Grade)} 之一") from None


# --- data ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DatedShare:
    """A dated rate in basis points with its source (exchange fee share)."""

    effective: dt.date
    share_bp: int
    source: str


@dataclass(frozen=True)
class LevyRange:
    """The legal range of levy rates (Art. 12(2))."""

    effective: dt.date
    min_rate_bp: int
    max_rate_bp: int
    source: str


@dataclass(frozen=True)
class InstalmentRule:
    """How many working days after a quarter's end its advance payment is due (Art. 15)."""

    effective: dt.date
    working_days_after_quarter_end: int
    source: str


class RuleKind(StrEnum):
    """The kinds of special rule in a rate table."""

    CONSECUTIVE_CLASS_A = "consecutive_class_a"  # class A for N years incl. the levy year, a grade this year
    LOSS_SHARE = "loss_share"                    # previous year's share of loss-making companies in a band


@dataclass(frozen=True)
class SpecialRule:
    """A rule of a table that can lower the rate: see :class:`RuleKind`."""

    id: str
    kind: RuleKind
    source: str
    description_en: str
    description_zh: str
    rate_bp: int | None = None                            # consecutive_class_a: the rate
    years: int | None = None                              # consecutive_class_a: years in class A
    grades: frozenset[Grade] = frozenset()                # consecutive_class_a: the levy year's grade
    loss_share_min_bp: int | None = None                  # loss_share: lower bound, inclusive
    loss_share_above_bp: int | None = None                # loss_share: lower bound, exclusive
    loss_share_max_bp: int | None = None                  # loss_share: upper bound, inclusive
    class_bp: tuple[tuple[GradeClass, int], ...] = ()     # loss_share: the rate by class

    def in_band(self, loss_share_bp: int) -> bool:
        if self.loss_share_min_bp is not None and loss_share_bp < self.loss_share_min_bp:
            return False
        if self.loss_share_above_bp is not None and loss_share_bp <= self.loss_share_above_bp:
            return False
        return self.loss_share_max_bp is None or loss_share_bp <= self.loss_share_max_bp


@dataclass(frozen=True)
class RateTable:
    """The levy rates for the levy years ``first_levy_year .. last_levy_year``: by grade or by class, with
    special rules; applicable only when the fund is at least ``minimum_fund_size_fen`` (if set)."""

    id: str
    effective: dt.date
    first_levy_year: int
    last_levy_year: int
    source: str
    grade_bp: tuple[tuple[Grade, int], ...]
    minimum_fund_size_fen: int | None
    rules: tuple[SpecialRule, ...]

    def base_rate_bp(self, grade: Grade) -> int:
        return dict(self.grade_bp)[grade]


@dataclass(frozen=True)
class LevyRules:
    """Everything in ``levy_rates.toml``."""

    exchange_fee_shares: tuple[DatedShare, ...]
    levy_ranges: tuple[LevyRange, ...]
    instalment_rules: tuple[InstalmentRule, ...]
    tables: tuple[RateTable, ...]

    def table_for(self, levy_year: int) -> RateTable | None:
        return next((t for t in self.tables if t.first_levy_year <= levy_year <= t.last_levy_year), None)

    def exchange_fee_share(self, on_date: dt.date | None = None) -> DatedShare:
        return _in_force(self.exchange_fee_shares, on_date, "exchange_fee_share")

    def levy_range(self, on_date: dt.date | None = None) -> LevyRange:
        return _in_force(self.levy_ranges, on_date, "levy_range")

    def instalment_rule(self, on_date: dt.date | None = None) -> InstalmentRule:
        return _in_force(self.instalment_rules, on_date, "instalment_rule")


def _in_force(entries: Sequence[Any], on_date: dt.date | None, name: str) -> Any:
    if on_date is None:
        return entries[-1]
    in_force = [e for e in entries if e.effective <= on_date]
    if not in_force:
        raise ProtectionError("on_date", f"no {name} is recorded before {entries[0].effective}; asked for "
                                         f"{on_date}", f"{on_date} 之前没有记录 {name}")
    return in_force[-1]


def _dated_list(data: Mapping[str, Any], key: str, origin: str, fields: Sequence[str]) -> list[dict]:
    raw = data.get(key)
    if not isinstance(raw, list) or not raw:
        raise ProtectionDataError(f"{origin}: {key}", f"needs at least one [[{key}]]")
    previous = None
    out = []
    for i, entry in enumerate(raw, start=1):
        where = f"{origin}: {key} {i}"
        check_keys(entry, where, ["effective", "source", *fields])
        effective = data_date(entry, "effective", where)
        if previous is not None and effective <= previous:
            raise ProtectionDataError(f"{where}: effective", "effective dates must increase")
        previous = effective
        out.append({"effective": effective, "source": data_text(entry, "source", where),
                    **{f: data_int(entry, f, where) for f in fields}})
    return out


def _rate(value: object, where: str, levy_range: LevyRange) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtectionDataError(where, f"{value!r} must be an integer number of basis points")
    if not levy_range.min_rate_bp <= value <= levy_range.max_rate_bp:
        raise ProtectionDataError(where, f"{value} bp is outside the legal range {levy_range.min_rate_bp}.."
                                         f"{levy_range.max_rate_bp} bp ({levy_range.source})")
    return value


def _parse_rule(raw: object, where: str, levy_range: LevyRange) -> SpecialRule:
    common = ["id", "kind", "source", "description_en", "description_zh"]
    if not isinstance(raw, dict) or raw.get("kind") not in {k.value for k in RuleKind}:
        got = raw.get("kind") if isinstance(raw, dict) else raw
        raise ProtectionDataError(f"{where}: kind", f"{got!r} must be one of {[k.value for k in RuleKind]}")
    texts = {k: data_text(raw, k, where) for k in common if k in raw}
    if raw["kind"] == RuleKind.CONSECUTIVE_CLASS_A:
        check_keys(raw, where, [*common, "years", "grades", "rate_bp"])
        grades = raw["grades"]
        if not isinstance(grades, list) or not grades:
            raise ProtectionDataError(f"{where}: grades", "must be a non-empty list of grades")
        parsed = frozenset(_data_grade(g, f"{where}: grades") for g in grades)
        if any(g.klass != GradeClass.A for g in parsed):
            raise ProtectionDataError(f"{where}: grades",
                                      "a consecutive class-A rule lists class-A grades only")
        return SpecialRule(texts["id"], RuleKind.CONSECUTIVE_CLASS_A, texts["source"],
                           texts["description_en"], texts["description_zh"],
                           rate_bp=_rate(raw["rate_bp"], f"{where}: rate_bp", levy_range),
                           years=data_int(raw, "years", where, 1, 50), grades=parsed)
    check_keys(raw, where, [*common, "class_bp"],
               ["loss_share_min_bp", "loss_share_above_bp", "loss_share_max_bp"])
    bounds = {k: data_int(raw, k, where, 0, BP_PER_UNIT) if k in raw else None
              for k in ("loss_share_min_bp", "loss_share_above_bp", "loss_share_max_bp")}
    if (bounds["loss_share_min_bp"] is None) == (bounds["loss_share_above_bp"] is None):
        raise ProtectionDataError(f"{where}: loss_share_min_bp",
                                  "give exactly one of loss_share_min_bp (inclusive) or loss_share_above_bp "
                                  "(exclusive)")
    return SpecialRule(texts["id"], RuleKind.LOSS_SHARE, texts["source"], texts["description_en"],
                       texts["description_zh"], class_bp=_class_rates(raw["class_bp"], f"{where}: class_bp",
                                                                       levy_range), **bounds)


def _data_grade(value: object, where: str) -> Grade:
    try:
        return Grade(value)
    except ValueError:
        grades = ", ".join(g.value for g in Grade)
        raise ProtectionDataError(where, f"{value!r} is not a grade ({grades})") from None


def _class_rates(raw: object, where: str, levy_range: LevyRange) -> tuple[tuple[GradeClass, int], ...]:
    check_keys(raw, where, [c.value for c in GradeClass])
    return tuple((c, _rate(raw[c.value], f"{where}.{c.value}", levy_range)) for c in GradeClass)


def _parse_table(raw: object, where: str, levy_range: LevyRange) -> RateTable:
    check_keys(raw, where, ["id", "effective", "first_levy_year", "last_levy_year", "source"],
               ["grade_bp", "class_bp", "minimum_fund_size_fen", "rule"])
    assert isinstance(raw, dict)
    if ("grade_bp" in raw) == ("class_bp" in raw):
        raise ProtectionDataError(f"{where}: grade_bp",
                                  "give exactly one of grade_bp (ten grades) or class_bp (four classes)")
    if "grade_bp" in raw:
        check_keys(raw["grade_bp"], f"{where}: grade_bp", [g.value for g in Grade])
        grade_bp = tuple((g, _rate(raw["grade_bp"][g.value], f"{where}: grade_bp.{g.value}", levy_range))
                         for g in Grade)
    else:
        by_class = dict(_class_rates(raw["class_bp"], f"{where}: class_bp", levy_range))
        grade_bp = tuple((g, by_class[g.klass]) for g in Grade)
    first = data_int(raw, "first_levy_year", where, 1990, 2200)
    last = data_int(raw, "last_levy_year", where, first, 2200)
    rules = raw.get("rule", [])
    if not isinstance(rules, list):
        raise ProtectionDataError(f"{where}: rule", "must be an array of tables [[table.rule]]")
    parsed_rules = tuple(_parse_rule(r, f"{where}: rule {i}", levy_range)
                         for i, r in enumerate(rules, start=1))
    ids = [r.id for r in parsed_rules]
    if len(set(ids)) != len(ids):
        raise ProtectionDataError(f"{where}: rule", f"rule ids must be unique, got {ids}")
    minimum = (data_int(raw, "minimum_fund_size_fen", where, 0) if "minimum_fund_size_fen" in raw else None)
    return RateTable(data_text(raw, "id", where), data_date(raw, "effective", where), first, last,
                     data_text(raw, "source", where), grade_bp, minimum, parsed_rules)


def parse_levy_rules(text: str, origin: str) -> LevyRules:
    """Parse a levy data file strictly: an unknown key, a missing source or a rate outside the legal range
    is a :class:`ProtectionDataError` naming the file and the key."""
    data = parse_toml(text, origin)
    check_keys(data, origin, ["file", "exchange_fee_share", "levy_range", "instalment_rule", "table"])
    check_keys(data["file"], f"{origin}: file", ["description"])
    shares = tuple(DatedShare(e["effective"], e["share_bp"], e["source"])
                   for e in _dated_list(data, "exchange_fee_share", origin, ["share_bp"]))
    for s in shares:
        if s.share_bp > BP_PER_UNIT:
            raise ProtectionDataError(f"{origin}: exchange_fee_share: share_bp",
                                      f"{s.share_bp} bp is above 100%")
    ranges = tuple(LevyRange(e["effective"], e["min_rate_bp"], e["max_rate_bp"], e["source"])
                   for e in _dated_list(data, "levy_range", origin, ["min_rate_bp", "max_rate_bp"]))
    days_key = "working_days_after_quarter_end"
    instalments = tuple(InstalmentRule(e["effective"], e[days_key], e["source"])
                        for e in _dated_list(data, "instalment_rule", origin, [days_key]))
    raw_tables = data["table"]
    if not isinstance(raw_tables, list) or not raw_tables:
        raise ProtectionDataError(f"{origin}: table", "needs at least one [[table]]")
    tables: list[RateTable] = []
    for i, raw in enumerate(raw_tables, start=1):
        where = f"{origin}: table {i}"
        has_date = isinstance(raw, dict) and "effective" in raw
        effective = data_date(raw, "effective", where) if has_date else None
        levy_range = ranges[-1] if effective is None else _in_force(ranges, effective, "levy_range")
        table = _parse_table(raw, where, levy_range)
        for other in tables:
            if (table.first_levy_year <= other.last_levy_year
                    and other.first_levy_year <= table.last_levy_year):
                raise ProtectionDataError(f"{where}: first_levy_year", f"levy years overlap table {other.id}")
        tables.append(table)
    return LevyRules(shares, ranges, instalments, tuple(sorted(tables, key=lambda t: t.first_levy_year)))


@cache
def levy_rules() -> LevyRules:
    """The rules in ``law/data/levy_rates.toml`` (cached: package data is read-only)."""
    return parse_levy_rules(*read_data(LEVY_DATA))


# --- the rate -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RateCandidate:
    """One rule that applies to a company, with the rate it gives."""

    rule: str
    rate_bp: int
    description: str
    source: str


@dataclass(frozen=True)
class LevyRate:
    """The rate a company pays for a levy year: ``rate_bp`` of its operating income, given by ``rule``
    (the lowest of ``candidates``, every rule that applied), established by ``source``."""

    levy_year: int
    grade: Grade
    rate_bp: int
    rule: str
    source: str
    table: str
    candidates: tuple[RateCandidate, ...]

    @property
    def rate(self) -> Fraction:
        return Fraction(self.rate_bp, BP_PER_UNIT)

    def explain(self) -> str:
        lines = [f"levy year {self.levy_year}, grade {self.grade}: table {self.table}"]
        for c in self.candidates:
            mark = "->" if c.rule == self.rule else "  "
            lines.append(f"{mark} {c.rule}: {pct_bp(c.rate_bp)} ({c.description}; {c.source})")
        lines.append(f"rate {pct_bp(self.rate_bp)}: the lowest rate of the rules that apply "
                     "(model convention)")
        return "\n".join(lines)


def _bp_input(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= BP_PER_UNIT:
        raise ProtectionError(field, f"{value!r} must be an integer number of basis points in 0..10000 "
                                     "(10% = 1000)", f"{value!r} 应为0至10000之间的整数基点（10% = 1000）")
    return value


def rate_for(levy_year: int, grade: str, *, grades_history: Mapping[int, str], loss_share_bp: int,
             fund_size_fen: int, rules: LevyRules | None = None) -> LevyRate:
    """The levy rate of a company graded ``grade`` in ``levy_year``.

    ``grades_history`` maps earlier years to the company's grades (years it was not graded are simply
    absent); ``loss_share_bp`` is the previous year's share of loss-making securities companies (亏损面) in
    basis points; ``fund_size_fen`` is the size of the fund, which decides whether a table applies.  Raises
    :class:`ProtectionError` for a levy year with no recorded table or a fund size below its threshold.
    """
    rules = rules or levy_rules()
    if not isinstance(levy_year, int) or isinstance(levy_year, bool):
        raise ProtectionError("levy_year", f"{levy_year!r} is not a year", f"{levy_year!r} 不是年度")
    this_grade = _grade(grade, "grade")
    history = {}
    for year, g in grades_history.items():
        if not isinstance(year, int) or year >= levy_year:
            raise ProtectionError(f"grades_history[{year!r}]",
                                  f"give grades of years before {levy_year} only; "
                                  "the levy year's own grade is the 'grade' argument",
                                  f"仅填写{levy_year}年以前的评级；缴纳当年的评级填在 grade")
        history[year] = _grade(g, f"grades_history[{year}]")
    loss_share_bp = _bp_input(loss_share_bp, "loss_share_bp")
    check_fen(fund_size_fen, "fund_size_fen")

    table = rules.table_for(levy_year)
    if table is None:
        years = ", ".join(f"{t.first_levy_year}-{t.last_levy_year}" for t in rules.tables)
        raise ProtectionError("levy_year", f"no levy rate table is recorded for levy year {levy_year} "
                              f"(recorded: {years}); add the table in force for that year, with its source, "
                              "to law/data/levy_rates.toml",
                              f"未记录{levy_year}年度的保护基金缴纳比例表（已记录：{years}）；请在 "
                              "law/data/levy_rates.toml 中补充该年度适用的比例及其依据")
    if table.minimum_fund_size_fen is not None and fund_size_fen < table.minimum_fund_size_fen:
        raise ProtectionError("fund_size_fen", f"the fund size {yuan(fund_size_fen)} is below "
                              f"{yuan(table.minimum_fund_size_fen)}, the size from which table {table.id} "
                              "applies; no rate table is recorded for that situation: add the rates in "
                              "force, with their source, to law/data/levy_rates.toml",
                              f"保护基金规模 {yuan(fund_size_fen)} 低于比例表 {table.id} 适用的规模 "
                              f"{yuan(table.minimum_fund_size_fen)}，未记录该情形下的缴纳比例；请在 "
                              "law/data/levy_rates.toml 中补充适用的比例及其依据")

    candidates = [RateCandidate("grade_table", table.base_rate_bp(this_grade),
                                f"grade {this_grade} / 评级{this_grade}", table.source)]
    for rule in table.rules:
        rate = _special_rate(rule, levy_year, this_grade, history, loss_share_bp)
        if rate is not None:
            candidates.append(RateCandidate(rule.id, rate, f"{rule.description_en} / {rule.description_zh}",
                                            rule.source))
    best = min(candidates, key=lambda c: c.rate_bp)  # min keeps the first of equal rates
    return LevyRate(levy_year, this_grade, best.rate_bp, best.rule, best.source, table.id, tuple(candidates))


def _special_rate(rule: SpecialRule, levy_year: int, grade: Grade, history: Mapping[int, Grade],
                  loss_share_bp: int) -> int | None:
    if rule.kind == RuleKind.CONSECUTIVE_CLASS_A:
        assert rule.years is not None
        if grade not in rule.grades:
            return None
        earlier = [history.get(levy_year - k) for k in range(1, rule.years)]
        if all(g is not None and g.klass == GradeClass.A for g in earlier):
            return rule.rate_bp
        return None
    if rule.in_band(loss_share_bp):
        return dict(rule.class_bp)[grade.klass]
    return None


# --- amounts ------------------------------------------------------------------------------------------

def _rate_bp(rate: LevyRate | int, field: str = "rate") -> int:
    if isinstance(rate, LevyRate):
        return rate.rate_bp
    return _bp_input(rate, field)


def levy_fen(income_fen: int, rate_bp: int) -> int:
    """``income_fen x rate_bp / 10000``, rounded once, half up, to the fen."""
    check_fen(income_fen, "income_fen")
    return round_half_up(Fraction(income_fen * _bp_input(rate_bp, "rate_bp"), BP_PER_UNIT))


@dataclass(frozen=True)
class Instalment:
    """The advance payment for one quarter (季度预缴), due ``due_date``."""

    levy_year: int
    quarter: int
    income_fen: int
    rate_bp: int
    amount_fen: int
    quarter_end: dt.date
    due_date: dt.date
    source: str


_QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


def quarter_end(levy_year: int, quarter: int) -> dt.date:
    if quarter not in _QUARTER_END:
        raise ProtectionError("quarter", f"{quarter!r} is not a quarter; use 1, 2, 3 or 4",
                              f"{quarter!r} 不是季度（1至4）")
    return dt.date(levy_year, *_QUARTER_END[quarter])


def working_day_after(day: dt.date, n: int) -> dt.date:
    """The ``n``-th session of the Shanghai Stock Exchange strictly after ``day`` (sessions stand in for
    working days; weekend make-up working days are not counted)."""
    from redress.market.calendar import day_number, from_day_number, sessions

    table = sessions("XSHG")
    start = day + dt.timedelta(days=1)
    if day_number(start) < table.first_day:
        raise ProtectionError("date", f"{day} is before the trading calendar starts "
                              f"({from_day_number(table.first_day)}); working days cannot be counted",
                              f"{day} 早于交易日历起始日，无法计算工作日")
    found = table.sessions_between(start, start + dt.timedelta(days=30 + 2 * n))
    if len(found) < n:
        last = from_day_number(table.last_day)
        raise ProtectionError("date", f"the trading calendar ends on {last}, before the {n}th working day "
                              f"after {day}; update exchange-calendars",
                              f"交易日历止于 {last}，无法计算 {day} 后第{n}个工作日")
    return found[n - 1]


def quarterly_schedule(levy_year: int, estimated_income_by_quarter_fen: Sequence[int] | Mapping[int, int],
                       rate: LevyRate | int, *, rules: LevyRules | None = None) -> list[Instalment]:
    """The four advance payments of ``levy_year``: each quarter's income times the rate (rounded half up),
    due on the ``working_days_after_quarter_end``-th working day after the quarter ends (Art. 15).

    ``estimated_income_by_quarter_fen`` is four amounts (quarters 1..4) or a mapping from quarter to amount;
    ``rate`` a :class:`LevyRate` or an integer number of basis points.
    """
    rules = rules or levy_rules()
    if isinstance(estimated_income_by_quarter_fen, Mapping):
        incomes = dict(estimated_income_by_quarter_fen)
    else:
        incomes = dict(enumerate(estimated_income_by_quarter_fen, start=1))
    if set(incomes) != {1, 2, 3, 4}:
        raise ProtectionError("estimated_income_by_quarter_fen",
                              f"need the income of quarters 1, 2, 3 and 4, got {sorted(incomes)}; "
                              "give 0 for a quarter without income",
                              "须填写第1至4季度的营业收入；无收入的季度填0")
    if isinstance(rate, LevyRate) and rate.levy_year != levy_year:
        raise ProtectionError("rate", f"the rate is for levy year {rate.levy_year}, the schedule for "
                              f"{levy_year}; look up the rate of the same levy year",
                              f"缴纳比例属于{rate.levy_year}年度，预缴计划属于{levy_year}年度；请使用同一年度的比例")
    rate_bp = _rate_bp(rate)
    out = []
    for q in (1, 2, 3, 4):
        income = check_fen(incomes[q], f"estimated_income_by_quarter_fen[{q}]")
        end = quarter_end(levy_year, q)
        rule = rules.instalment_rule(end)
        due = working_day_after(end, rule.working_days_after_quarter_end)
        amount = levy_fen(income, rate_bp)
        out.append(Instalment(levy_year, q, income, rate_bp, amount, end, due, rule.source))
    return out


@dataclass(frozen=True)
class Settlement:
    """The annual settlement (年度清算): ``balance_fen = due_fen - prepaid_fen``; positive means the company
    owes the balance, negative means the fund refunds it."""

    audited_income_fen: int
    rate_bp: int
    due_fen: int
    prepaid_fen: int
    balance_fen: int

    @property
    def owed_fen(self) -> int:
        return max(self.balance_fen, 0)

    @property
    def refund_fen(self) -> int:
        return max(-self.balance_fen, 0)


def annual_settlement(audited_income_fen: int, rate: LevyRate | int, prepaid_fen: int) -> Settlement:
    """Settle a levy year on the audited operating income against what was paid in advance."""
    rate_bp = _rate_bp(rate)
    due = levy_fen(audited_income_fen, rate_bp)
    check_fen(prepaid_fen, "prepaid_fen")
    return Settlement(audited_income_fen, rate_bp, due, prepaid_fen, due - prepaid_fen)


@dataclass(frozen=True)
class Overdue:
    """An instalment not paid in full by its due date: what is outstanding and how many calendar days
    have passed since the due date."""

    instalment: Instalment
    paid_fen: int
    outstanding_fen: int
    days_late: int

    @property
    def quarter(self) -> int:
        return self.instalment.quarter


def overdue(instalments: Iterable[Instalment], payments_by_quarter: Mapping[int, int],
            on_date: dt.date) -> list[Overdue]:
    """The instalments still not paid in full on ``on_date`` although their due date has passed.

    ``payments_by_quarter`` maps a quarter to what the company has paid towards it so far; an overpayment
    of one quarter does not cover another.  An instalment is late from the day after its due date.
    """
    by_quarter = {i.quarter: i for i in instalments}
    out = []
    for q, paid in payments_by_quarter.items():
        if q not in by_quarter:
            raise ProtectionError(f"payments_by_quarter[{q!r}]", f"no instalment for quarter {q!r}; payments "
                                  f"are for quarters {sorted(by_quarter)}", f"没有第{q!r}季度的预缴款项")
        check_fen(paid, f"payments_by_quarter[{q}]")
    for q in sorted(by_quarter):
        inst = by_quarter[q]
        paid = payments_by_quarter.get(q, 0)
        if on_date > inst.due_date and paid < inst.amount_fen:
            out.append(Overdue(inst, paid, inst.amount_fen - paid, (on_date - inst.due_date).days))
    return out


# --- exchange fees ------------------------------------------------------------------------------------

def exchange_fee_share_fen(transaction_fees_fen: int, risk_fund_at_cap: bool, *,
                           on_date: dt.date | None = None, rules: LevyRules | None = None) -> int:
    """What an exchange pays into the fund out of its transaction fees (交易经手费): the recorded share
    (20%, Art. 12(1)), rounded half up, once its risk fund has reached its cap; nothing before."""
    check_fen(transaction_fees_fen, "transaction_fees_fen")
    if not isinstance(risk_fund_at_cap, bool):
        raise ProtectionError("risk_fund_at_cap", f"{risk_fund_at_cap!r} must be True or False",
                              "应为 True 或 False")
    if not risk_fund_at_cap:
        return 0
    share = (rules or levy_rules()).exchange_fee_share(on_date)
    return round_half_up(Fraction(transaction_fees_fen * share.share_bp, BP_PER_UNIT))
