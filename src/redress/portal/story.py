"""The explanation in plain words: how an investor's compensation came about, told with their own numbers.

``tell(explanation)`` reads what the engine's explanation holds (engine/explain.py: the output row of each
security, its base date and price, the trades with the lots they opened or used, the steps with their
articles) into frozen values.  Nothing is computed again: every figure is the explanation's own, money as
integer fen.  The words come later, in the language in use (``redress.i18n``):

- ``sentences(security)``: the short account, a few sentences a retired investor can read on a phone;
- ``details(security)``: each step of the computation with a plain label, the formula in words, its value
  and the article behind it named in full (law/data/article_names.toml);
- ``trade_lines(security)``: each trade: when, bought or sold, how many, at what price, in which period,
  and which lots (first in, first out) it opened or used.

A security's direction decides what the figures mean.  When the false statement inflated the price
(induced buying), ``window_shares`` are the shares bought between the implementation date I and the
disclosure date D, ``window_price`` their average cost, ``closed_shares`` those sold from D to the base
date B at ``closed_price`` on average, and ``open_shares`` those still held at B.  When it deflated the
price (induced selling), ``window_shares`` are the shares sold in excess of those bought in [I, D) at
``window_price`` on average, ``closed_shares`` those bought back from D to B at ``closed_price``, and
``open_shares`` those not bought back by B.

A case with several false statements (loss-rules.md section 9) tells each statement's row separately, with
that statement's own dates: under ``each`` every row the investor is owed; under ``best_for_investor`` the
row chosen for each security, why it was chosen (``choices``), and the other statements' rows (``others``).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache
from importlib import resources

from babel.numbers import format_decimal

from redress import i18n
from redress.engine.explain import ChoiceReason, Explanation, SecurityExplanation
from redress.i18n import _

INFLATION, DEFLATION = "inflation", "deflation"
WINDOW_TRADES = "[I, D) buy window"  # the engine's name of the period [I, D) on a trade line
AFTER_DISCLOSURE = "[D, B]"


class Outcome(StrEnum):
    """Why a security's compensation is what it is."""

    PAID = "paid"                                  # compensation above zero
    EXCLUDED = "excluded"                          # listed in the case's exclusions
    NOT_IN_WINDOW = "not_in_window"                # inflation: no share bought in [I, D)
    SOLD_BEFORE_DISCLOSURE = "sold_before"         # inflation: every share bought in [I, D) sold before D
    NO_NET_SALE = "no_net_sale"                    # deflation: no more shares sold than bought in [I, D)
    NO_DIFFERENCE_LOSS = "no_difference_loss"      # the investment difference is not a loss
    MARKET_ONLY = "market_only"                    # the market-risk deduction takes the whole loss
    BELOW_MINIMUM = "below_minimum"                # positive, but below the plan's minimum payment


@dataclass(frozen=True)
class Consumption:
    """Shares a sell took from one earlier lot (first in, first out)."""

    lot: int
    lot_class: str       # pre (bought before I or held at the start), eligible (bought in [I, D)), post
    lot_price: float
    shares: float


@dataclass(frozen=True)
class Trade:
    number: int
    day: dt.date | None  # None for a position held before the first trade
    side: str            # B, S or open
    shares: float        # after ex-rights restatement
    price: float
    shares_given: float  # as the trade file gave them
    price_given: float
    period: str          # the engine's window: before I, [I, D) buy window, [D, B], after B, before the first
    #                      trade (an opening position)
    lot: int | None
    lot_class: str
    consumed: tuple[Consumption, ...]


@dataclass(frozen=True)
class Step:
    """One step of the engine's computation, as the engine wrote it."""

    label: str
    formula: str
    value: str
    article: str


@dataclass(frozen=True)
class SecurityStory:
    security: str
    direction: str
    rules: str
    status: str                   # the engine's status
    outcome: Outcome
    flags: tuple[str, ...]
    window_start: dt.date         # I, the implementation date
    window_end: dt.date           # D, the disclosure date (not itself in the window)
    base_date: dt.date
    base_price: float
    base_price_fixed: bool
    base_trading_days: int
    window_shares: float
    window_price: float
    sold_before_disclosure: float  # inflation: shares bought in [I, D) and sold before D (not counted)
    closed_shares: float
    closed_price: float
    open_shares: float
    difference_loss_fen: int
    systemic_fen: int
    net_loss_fen: int
    commission_fen: int
    stamp_duty_fen: int
    interest_fen: int
    compensation_fen: int
    systemic_method: str
    systemic_ratio: float | None   # the uniform ratio, when the plan uses one
    cost_method: str
    commission_rate: float
    stamp_duty_rate: float
    interest_claimed: bool
    interest_rate: float
    minimum_payment_fen: int
    exclusion: str | None
    base_rule: str
    steps: tuple[Step, ...]
    trades: tuple[Trade, ...]
    statement: str | None = None  # the false statement's id, in a case with several

    def sentences(self) -> list[str]:
        return sentences(self)

    def statement_line(self) -> str:
        return statement_line(self)

    def paragraph(self) -> str:
        return paragraph(self)

    def details(self) -> list[DetailLine]:
        return details(self)

    def trade_lines(self) -> list[TradeWords]:
        return trade_lines(self)


@dataclass(frozen=True)
class ChoiceStory:
    """Which false statement is paid for a security under best_for_investor, and why."""

    security: str
    statement: str
    reason: ChoiceReason
    compensation_fen: int
    statements: int  # how many statements were weighed

    def words(self) -> str:
        return choice_words(self)


@dataclass(frozen=True)
class Story:
    investor_id: str
    case_id: str
    rules: str
    direction: str
    exclusion: str | None
    securities: tuple[SecurityStory, ...]  # the rows the investor is owed
    statements_rule: str | None = None     # None: one false statement
    choices: tuple[ChoiceStory, ...] = ()  # best_for_investor: the statement chosen per security
    others: tuple[SecurityStory, ...] = ()  # best_for_investor: the rows of the statements not chosen

    @property
    def compensation_fen(self) -> int:
        return sum(s.compensation_fen for s in self.securities)

    def summary(self) -> str:
        return summary(self)


@dataclass(frozen=True)
class DetailLine:
    """One step in words, in the language in use."""

    label: str
    words: str
    value: str
    article: str


@dataclass(frozen=True)
class TradeWords:
    number: int
    when: str
    action: str
    shares: str
    price: str
    period: str
    lots: tuple[str, ...]


# -- reading the explanation ---------------------------------------------------------------------------------

def fen(yuan: float | None) -> int:
    """Integer fen from the engine's yuan figure (already rounded to the fen)."""
    return int(Decimal(repr(float(yuan or 0.0))).scaleb(2).quantize(Decimal(1), ROUND_HALF_UP))


_WINDOW = re.compile(r"\[(\d{4}-\d{2}-\d{2}), (\d{4}-\d{2}-\d{2})\)")


def tell(explanation: Explanation) -> Story:
    plan = explanation.plan
    stories = tuple(_security(explanation, sec, plan) for sec in explanation.securities)
    owed = {id(sec) for sec in explanation.securities}
    others = tuple(_security(explanation, sec, plan) for section in explanation.statements
                   for sec in section.securities if id(sec) not in owed)
    choices = tuple(ChoiceStory(c.security, c.statement, ChoiceReason(c.reason),
                                fen(next(x.compensation for x in c.candidates if x.statement == c.statement)),
                                len(c.candidates))
                    for c in explanation.choices)
    return Story(explanation.investor_id, explanation.case_id, explanation.rules, explanation.direction,
                 explanation.exclusion, stories, explanation.statements_rule, choices, others)


def _security(expl: Explanation, sec: SecurityExplanation, plan: dict) -> SecurityStory:
    row = sec.result
    steps = tuple(Step(s.label, s.formula, s.value, s.article) for s in sec.steps)
    window = next((s for s in steps if s.label.endswith("window [I, D)")), None)
    found = _WINDOW.fullmatch(window.value) if window else None
    if found is None:
        raise ValueError(f"the explanation of {sec.security} has no window step '[I, D)': explain() must run "
                         f"on a case with an implementation and a disclosure date")
    start, end = (dt.date.fromisoformat(x) for x in found.groups())
    trades = tuple(_trade(t) for t in sec.trades)
    deflation = expl.direction == DEFLATION
    sold_before = 0.0 if deflation else sum(
        c.shares for t in trades if t.side == "S" and t.period == WINDOW_TRADES for c in t.consumed
        if c.lot_class == "eligible")
    price_step = next((s for s in steps if s.label == "base price P_B"), None)
    systemic = plan.get("systemic_risk") or {}
    method = str(systemic.get("method") or "none")
    story = dict(
        security=sec.security, direction=expl.direction, rules=expl.rules, status=row["status"],
        flags=tuple(f for f in (row.get("flags") or "").split(";") if f),
        window_start=start, window_end=end,
        base_date=dt.date.fromisoformat(sec.base["base_date"]), base_price=float(row["base_price"]),
        base_price_fixed=bool(price_step and price_step.formula.startswith("fixed")),
        base_trading_days=int(sec.base.get("trading_days") or 0),
        window_shares=float(row["eligible_bought"]),
        window_price=float(row["avg_sell"] if deflation else row["avg_buy"]),
        sold_before_disclosure=round(float(sold_before), 6),
        closed_shares=float(row["q_sold"]),
        closed_price=float(row["avg_buy"] if deflation else row["avg_sell"]),
        open_shares=float(row["q_held"]),
        difference_loss_fen=fen(row["difference_loss"]), systemic_fen=fen(row["systemic_deduction"]),
        net_loss_fen=fen(row["net_loss"]), commission_fen=fen(row["commission"]),
        stamp_duty_fen=fen(row["stamp_duty"]), interest_fen=fen(row["interest"]),
        compensation_fen=fen(row["compensation"]),
        systemic_method=method,
        systemic_ratio=(float(systemic["ratio"]) if method == "uniform_ratio" and systemic.get("ratio")
                        else None),
        cost_method=str(plan.get("cost_method") or ""),
        commission_rate=float(plan.get("commission_rate") or 0.0),
        stamp_duty_rate=float(plan.get("stamp_duty_rate") or 0.0),
        interest_claimed=bool(plan.get("interest")), interest_rate=float(plan.get("interest_rate") or 0.0),
        minimum_payment_fen=fen(plan.get("minimum_payment")),
        exclusion=expl.exclusion if row["status"] == "excluded" else None,
        base_rule=sec.base_rule, steps=steps, trades=trades, statement=sec.statement)
    return SecurityStory(outcome=_outcome(story), **story)


def _outcome(s: dict) -> Outcome:
    status = s["status"]
    if status == "excluded":
        return Outcome.EXCLUDED
    if status == "no_eligible_shares":
        if s["direction"] == DEFLATION:
            return Outcome.NO_NET_SALE
        return Outcome.NOT_IN_WINDOW if s["window_shares"] <= 0 else Outcome.SOLD_BEFORE_DISCLOSURE
    if status == "no_loss":
        return Outcome.NO_DIFFERENCE_LOSS if s["difference_loss_fen"] <= 0 else Outcome.MARKET_ONLY
    if status == "below_minimum":
        return Outcome.BELOW_MINIMUM
    return Outcome.PAID


def _trade(t) -> Trade:
    day = None if t.side == "open" else dt.date.fromisoformat(t.date)
    return Trade(t.number, day, t.side, float(t.quantity), float(t.price), float(t.quantity_given),
                 float(t.price_given), t.window, t.lot, t.lot_class,
                 tuple(Consumption(c.lot, c.lot_class, float(c.lot_price), float(c.quantity))
                       for c in t.consumed))


# -- numbers in the reader's language ------------------------------------------------------------------------

def shares(n: float) -> str:
    """A number of shares: whole shares as a count; a fraction left by ex-rights restatement to 6 places."""
    n = float(n)
    if abs(n - round(n)) < 1e-9:
        return i18n.count(round(n))
    return format_decimal(Decimal(repr(round(n, 6))), format="#,##0.######",
                          locale=i18n.LOCALES[i18n.current()])


def price(p: float) -> str:
    """A price in yuan as the engine gives it: 2 to 4 decimals (48.9 -> 48.90, 48.9125 -> 48.9125)."""
    return format_decimal(Decimal(repr(round(float(p), 4))), format="#,##0.00##",
                          locale=i18n.LOCALES[i18n.current()])


def rate(r: float) -> str:
    """A rate as a percentage: 0.0003 -> 0.03%."""
    return format_decimal(Decimal(repr(float(r))).scaleb(2), format="#,##0.####",
                          locale=i18n.LOCALES[i18n.current()]) + "%"


def number(x: float, places: int = 4) -> str:
    pattern = "#,##0." + "#" * places
    return format_decimal(Decimal(repr(round(float(x), places))), format=pattern,
                          locale=i18n.LOCALES[i18n.current()])


def _join(parts: list[str]) -> str:
    return ("" if i18n.current() == "zh" else " ").join(p for p in parts if p)


# -- the short account ---------------------------------------------------------------------------------------

def sentences(s: SecurityStory) -> list[str]:
    """The account of one security in a few sentences, in the language in use."""
    start, end, base_date = i18n.date(s.window_start), i18n.date(s.window_end), i18n.date(s.base_date)
    o = s.outcome
    if o == Outcome.EXCLUDED:
        return [_("Under the compensation plan, you are not among those compensated for %(security)s.",
                  security=s.security)]
    if o == Outcome.NOT_IN_WINDOW:
        return [_("You bought no shares of %(security)s from %(start)s until the disclosure on %(end)s.",
                  security=s.security, start=start, end=end),
                _("Only shares bought in that period are covered, so there is no compensation for this "
                  "security.")]
    if o == Outcome.NO_NET_SALE:
        return [_("From %(start)s until the disclosure on %(end)s, you did not sell more shares of "
                  "%(security)s than you bought.", security=s.security, start=start, end=end),
                _("Only shares sold in that period beyond those bought in it are covered, so there is no "
                  "compensation for this security.")]
    out = []
    if s.direction == DEFLATION:
        out.append(_("From %(start)s until the disclosure on %(end)s, you sold %(shares)s more shares of "
                     "%(security)s than you bought, at an average price of %(price)s yuan.",
                     start=start, end=end, shares=shares(s.window_shares), security=s.security,
                     price=price(s.window_price)))
        out += _closing_deflation(s, base_date)
    else:
        out.append(_("From %(start)s until the disclosure on %(end)s, you bought %(shares)s shares of "
                     "%(security)s at an average cost of %(price)s yuan a share.",
                     start=start, end=end, shares=shares(s.window_shares), security=s.security,
                     price=price(s.window_price)))
        if o == Outcome.SOLD_BEFORE_DISCLOSURE:
            out.append(_("You sold all of them before the disclosure, so no loss from the false statement "
                         "remains and there is no compensation for this security."))
            return out
        if s.sold_before_disclosure > 0:
            out.append(_("You sold %(shares)s of them before the disclosure; those are not counted.",
                         shares=shares(s.sold_before_disclosure)))
        out += _closing_inflation(s, base_date)
    if "oversold" in s.flags:
        out.append(_("Some of your sales were larger than the shares on record; only recorded shares were "
                     "counted."))
    out += _money(s)
    return out


def _closing_inflation(s: SecurityStory, base_date: str) -> list[str]:
    out = []
    if s.closed_shares > 0 and s.open_shares > 0:
        out.append(_("After the disclosure and up to the base date %(date)s, you sold %(sold)s of them at an "
                     "average price of %(price)s yuan and kept %(held)s.", date=base_date,
                     sold=shares(s.closed_shares), price=price(s.closed_price), held=shares(s.open_shares)))
    elif s.closed_shares > 0:
        out.append(_("After the disclosure and up to the base date %(date)s, you sold all %(sold)s of them "
                     "at an average price of %(price)s yuan.", date=base_date, sold=shares(s.closed_shares),
                     price=price(s.closed_price)))
    elif s.open_shares > 0:
        out.append(_("You still held all %(held)s of them on the base date %(date)s.",
                     held=shares(s.open_shares), date=base_date))
    if s.open_shares > 0:
        base = price(s.base_price)
        out.append(_("The shares you kept are valued at the base price of %(price)s yuan set for this case.",
                     price=base) if s.base_price_fixed else
                   _("The shares you kept are valued at the base price of %(price)s yuan, the average "
                     "closing price from the disclosure to the base date.", price=base))
    return out


def _closing_deflation(s: SecurityStory, base_date: str) -> list[str]:
    out = []
    if s.closed_shares > 0 and s.open_shares > 0:
        out.append(_("After the disclosure and up to the base date %(date)s, you bought back %(bought)s of "
                     "them at an average price of %(price)s yuan; %(left)s were not bought back.",
                     date=base_date, bought=shares(s.closed_shares), price=price(s.closed_price),
                     left=shares(s.open_shares)))
    elif s.closed_shares > 0:
        out.append(_("After the disclosure and up to the base date %(date)s, you bought all %(bought)s of "
                     "them back at an average price of %(price)s yuan.", date=base_date,
                     bought=shares(s.closed_shares), price=price(s.closed_price)))
    else:
        out.append(_("You had not bought any of them back by the base date %(date)s.", date=base_date))
    if s.open_shares > 0:
        base = price(s.base_price)
        out.append(_("The shares not bought back are valued at the base price of %(price)s yuan set for this "
                     "case.", price=base) if s.base_price_fixed else
                   _("The shares not bought back are valued at the base price of %(price)s yuan, the average "
                     "closing price from the disclosure to the base date.", price=base))
    return out


def _money(s: SecurityStory) -> list[str]:
    o = s.outcome
    yuan = i18n.money
    if o == Outcome.NO_DIFFERENCE_LOSS:
        return [_("Measured this way, these trades made no loss (%(amount)s yuan), so there is no "
                  "compensation for this security.", amount=yuan(s.difference_loss_fen))]
    out = [_("This gives a loss on the investment difference of %(amount)s yuan.",
             amount=yuan(s.difference_loss_fen))]
    if s.systemic_fen > 0:
        if s.direction == DEFLATION:
            out.append(_("%(amount)s yuan of it is deducted as caused by the rise of the market as a whole.",
                         amount=yuan(s.systemic_fen)))
        else:
            out.append(_("%(amount)s yuan of it is deducted as caused by the fall of the market as a whole.",
                         amount=yuan(s.systemic_fen)))
    elif s.systemic_method == "none":
        out.append(_("This plan makes no deduction for market risk."))
    else:
        out.append(_("No deduction for market risk applies to you."))
    if o == Outcome.MARKET_ONLY:
        out.append(_("After this deduction no loss is left, so there is no compensation for this security."))
        return out
    if s.interest_claimed:
        out.append(_("Commission of %(commission)s yuan, stamp duty of %(stamp)s yuan and interest of "
                     "%(interest)s yuan are added.", commission=yuan(s.commission_fen),
                     stamp=yuan(s.stamp_duty_fen), interest=yuan(s.interest_fen)))
    else:
        out.append(_("Commission of %(commission)s yuan and stamp duty of %(stamp)s yuan are added.",
                     commission=yuan(s.commission_fen), stamp=yuan(s.stamp_duty_fen)))
    if o == Outcome.BELOW_MINIMUM:
        out.append(_("The total is below this plan's minimum payment of %(minimum)s yuan, so no payment is "
                     "made.", minimum=yuan(s.minimum_payment_fen)))
    else:
        out.append(_("Your compensation for %(security)s: %(amount)s yuan.", security=s.security,
                     amount=yuan(s.compensation_fen)))
    return out


def paragraph(s: SecurityStory) -> str:
    return _join(sentences(s))


def statement_line(s: SecurityStory) -> str:
    """In a case with several false statements, which one this account is about, with its dates."""
    if s.statement is None:
        return ""
    return _("False statement %(statement)s: made on %(start)s, disclosed on %(end)s.",
             statement=s.statement, start=i18n.date(s.window_start), end=i18n.date(s.window_end))


def choice_words(c: ChoiceStory) -> str:
    """Why best_for_investor pays this statement's row for the security."""
    values = dict(security=c.security, statement=c.statement, amount=i18n.money(c.compensation_fen),
                  count=i18n.count(c.statements))
    if c.reason == ChoiceReason.HIGHEST_COMPENSATION:
        return _("Of the %(count)s false statements, statement %(statement)s gives you the most for "
                 "%(security)s (%(amount)s yuan), so that is the one paid.", **values)
    if c.reason == ChoiceReason.BETTER_STATUS:
        return _("The false statements give you the same amount for %(security)s (%(amount)s yuan); "
                 "statement %(statement)s is used because your result under it ranks better.", **values)
    if c.reason == ChoiceReason.LISTED_FIRST:
        return _("The false statements give you the same amount for %(security)s (%(amount)s yuan) and the "
                 "same result; statement %(statement)s, listed first, is used.", **values)
    return _("Statement %(statement)s is the only false statement of this case.", **values)


def summary(story: Story) -> str:
    """One line over all the securities of the claim (and, under "each", all the false statements)."""
    if story.statements_rule == "each" and len(story.securities) > 1:
        return _("Your compensation under all the false statements: %(amount)s yuan.",
                 amount=i18n.money(story.compensation_fen))
    if len(story.securities) > 1:
        return _("Your compensation for all %(count)s securities: %(amount)s yuan.",
                 count=i18n.count(len(story.securities)), amount=i18n.money(story.compensation_fen))
    return _("Your compensation: %(amount)s yuan.", amount=i18n.money(story.compensation_fen))


# -- the articles in words -----------------------------------------------------------------------------------

@cache
def _names() -> dict:
    text = (resources.files("redress.law") / "data" / "article_names.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    if set(data) != {"sources", "citations"}:
        raise ValueError(f"law/data/article_names.toml: expected the tables [sources] and [citations], found "
                         f"{sorted(data)}")
    for key, entry in data["sources"].items():
        if set(entry) != {"zh", "en", "source"}:
            raise ValueError(f"law/data/article_names.toml: sources.{key} must have exactly zh, en and "
                             f"source")
    for key, entry in data["citations"].items():
        if set(entry) != {"zh", "en", "source"}:
            raise ValueError(f"law/data/article_names.toml: citation {key!r} must have exactly zh, en and "
                             f"source")
        if entry["source"] not in data["sources"]:
            raise ValueError(f"law/data/article_names.toml: citation {key!r} names the unknown source "
                             f"{entry['source']!r}; add it under [sources]")
    return data


def article_name(citation: str) -> str:
    """The article(s) of an engine citation ("SPC-2022 Art. 27"; several joined by "; ") named in full."""
    if not citation:
        return ""
    names = _names()["citations"]
    lang = "zh" if i18n.current() == "zh" else "en"
    parts = [names[c][lang] if c in names else c for c in citation.split("; ")]
    return ("；" if lang == "zh" else "; ").join(parts)


def unnamed_citations(citations) -> list[str]:
    """The citations among ``citations`` that the data file does not name."""
    names = _names()["citations"]
    return [c for text in citations for c in text.split("; ") if c and c not in names]


# -- the steps in words --------------------------------------------------------------------------------------

_NUM = r"-?[\d,]+(?:\.\d+)?"


def _parse(text: str) -> float:
    return float(text.replace(",", ""))


def _step_money(step: Step) -> str:
    """A money value the engine wrote as yuan text ("1,234.56") in the reader's format."""
    try:
        return i18n.money(fen(_parse(step.value)))
    except ValueError:
        return step.value


def details(s: SecurityStory) -> list[DetailLine]:
    """Each step of the computation in words, in the order the engine took them."""
    return [DetailLine(*_step_words(s, step), article_name(step.article)) for step in s.steps]


def _step_words(s: SecurityStory, step: Step) -> tuple[str, str, str]:
    label = step.label
    yuan = i18n.money
    deflation = s.direction == DEFLATION
    if label.endswith("window [I, D)"):
        what = _("Selling period") if deflation else _("Buying period")
        return (what, _("From the day the false statement was made, %(start)s, up to the day it was "
                        "disclosed, %(end)s (that day not included)", start=i18n.date(s.window_start),
                        end=i18n.date(s.window_end)),
                _("%(start)s to %(end)s", start=i18n.date(s.window_start), end=i18n.date(s.window_end)))
    if label == "base date B":
        return _("Base date"), _base_date_words(s), i18n.date(s.base_date)
    if label == "base price P_B":
        words = (_("The base price set for this case") if s.base_price_fixed else
                 _("The average of the daily closing prices (adjusted for bonus shares) over the %(days)s "
                   "trading days from the disclosure to the base date", days=i18n.count(s.base_trading_days)))
        return _("Base price"), words, _("%(price)s yuan", price=price(s.base_price))
    if label == "status":
        return _status_words(s)
    if label == "eligible shares bought":
        return (_("Shares bought in the period"),
                _("Shares bought from the implementation date up to the disclosure date, adjusted for bonus "
                  "shares"), shares(s.window_shares))
    if label == "q_sold":
        return (_("Of those, sold after the disclosure"),
                _("Shares bought in the period and sold from the disclosure date to the base date, the "
                  "earliest bought counted first"), shares(s.closed_shares))
    if label == "avg_sell" and deflation:
        return (_("Average selling price"), _("The average price of all your sales in the period"),
                _("%(price)s yuan", price=price(s.window_price)))
    if label == "avg_sell":
        return (_("Average selling price"), _("The average price of those sales after the disclosure"),
                _("%(price)s yuan", price=price(s.closed_price)))
    if label == "q_held":
        return (_("Of those, still held"), _("Shares bought in the period and not sold by the base date"),
                shares(s.open_shares))
    if label.startswith("avg_buy ("):
        return _("Average cost"), _cost_words(s.cost_method), _("%(price)s yuan", price=price(s.window_price))
    if label == "loss on shares sold in [D, B]":
        words = (_("For each share sold: its own purchase price minus the price it was sold for, added up")
                 if s.cost_method == "fifo" else
                 _("(average cost − average selling price) × shares sold = (%(cost)s − %(sell)s) × "
                   "%(shares)s",
                   cost=price(s.window_price), sell=price(s.closed_price), shares=shares(s.closed_shares)))
        return _("Loss on the shares sold"), words, _("%(amount)s yuan", amount=_step_money(step))
    if label == "loss on shares held after B":
        words = (_("For each share still held: its own purchase price minus the base price, added up")
                 if s.cost_method == "fifo" else
                 _("(average cost − base price) × shares still held = (%(cost)s − %(base)s) × %(shares)s",
                   cost=price(s.window_price), base=price(s.base_price), shares=shares(s.open_shares)))
        return _("Loss on the shares still held"), words, _("%(amount)s yuan", amount=_step_money(step))
    if label == "difference loss":
        if deflation:
            words = _("(average buy-back price − average selling price) × shares bought back + (base price "
                      "− average selling price) × shares not bought back = (%(back)s − %(sell)s) × "
                      "%(bought)s + (%(base)s − %(sell)s) × %(left)s", back=price(s.closed_price),
                      sell=price(s.window_price),
                      bought=shares(s.closed_shares), base=price(s.base_price), left=shares(s.open_shares))
        else:
            words = _("Loss on the shares sold plus loss on the shares still held (gains offset losses)")
        return (_("Loss on the investment difference"), words,
                _("%(amount)s yuan", amount=yuan(s.difference_loss_fen)))
    if label == "q_short":
        return (_("Net shares sold in the period"),
                _("Shares sold from the implementation date up to the disclosure date, less shares bought in "
                  "that time"), shares(s.window_shares))
    if label == "q_bought_back":
        return (_("Shares bought back"),
                _("Shares bought from the disclosure date to the base date, up to the shares sold in the "
                  "period"), shares(s.closed_shares))
    if label == "avg_buy_back":
        return (_("Average buy-back price"), _("The average price of the shares bought back"),
                _("%(price)s yuan", price=price(s.closed_price)))
    if label == "q_not_bought_back":
        return (_("Shares not bought back"), _("Shares sold in the period less shares bought back"),
                shares(s.open_shares))
    return _closing_words(s, step)


def _closing_words(s: SecurityStory, step: Step) -> tuple[str, str, str]:
    label = step.label
    yuan = i18n.money
    deflation = s.direction == DEFLATION
    if label == "systemic-risk deduction":
        if s.systemic_method == "none":
            words = _("This plan makes no deduction for market risk")
        elif s.systemic_method == "uniform_ratio":
            words = _("The loss on the investment difference × %(ratio)s, the same share for everyone",
                      ratio=rate(s.systemic_ratio or 0.0))
        else:
            words = _("The loss on the investment difference × the share of your stock's move explained by "
                      "the market indices (below)")
        return _("Deduction for market risk"), words, _("%(amount)s yuan", amount=yuan(s.systemic_fen))
    if label == "stock move":
        found = re.fullmatch(rf"({_NUM}) -> ({_NUM})", step.value)
        value = (_("%(start)s → %(end)s yuan", start=price(_parse(found[1])), end=price(_parse(found[2])))
                 if found else step.value)
        words = (_("How far the price of your shares rose over the time the position was open") if deflation
                 else _("How far the price of your shares fell over the time you held them"))
        return _("Your stock's move"), words, value
    if label == "index moves":
        moves = [_("Index %(code)s (weight %(weight)s): from %(start)s to %(end)s", code=m[1],
                   weight=number(_parse(m[2])), start=number(_parse(m[3]), 2), end=number(_parse(m[4]), 2))
                 for m in re.finditer(rf"(\S+) \(weight ({_NUM})\): index ({_NUM}) -> ({_NUM})",
                                      step.formula)]
        return _("The market indices' moves"), ("；" if i18n.current() == "zh" else "; ").join(moves), ""
    if label == "market model beta":
        return (_("How closely your stock followed the market"),
                _("Measured on the trading days before the false statement: for each 1% the market moved, the "
                  "stock moved this many percent (beta)"), step.value)
    if label == "index move":
        found = re.search(rf"blend x = sum\(w_k \* x_k\) = ({_NUM})", step.formula)
        value = rate(_parse(found[1])) if found else ""
        words = (_("How far the market indices rose over the same days") if deflation
                 else _("How far the market indices fell over the same days"))
        return _("The market's move"), words, value
    if label in ("market-model ratio", "relative ratio"):
        try:
            value = rate(_parse(step.value))
        except ValueError:
            value = step.value
        words = (_("The market's move × beta, as a share of your stock's move (at most all of it, nothing if the "
                   "market moved the other way)") if label == "market-model ratio" else
                 _("Each index's move as a share of your stock's move (at most all of it, nothing if it moved "
                   "the other way), weighted"))
        return _("Share caused by the market"), words, value
    if label == "net loss":
        return (_("Net loss"), _("Loss on the investment difference less the deduction for market risk"),
                _("%(amount)s yuan", amount=yuan(s.net_loss_fen)))
    if label == "commission":
        return (_("Commission"), _("Net loss × %(rate)s", rate=rate(s.commission_rate)),
                _("%(amount)s yuan", amount=yuan(s.commission_fen)))
    if label == "stamp duty":
        return (_("Stamp duty"), _("Net loss × %(rate)s", rate=rate(s.stamp_duty_rate)),
                _("%(amount)s yuan", amount=yuan(s.stamp_duty_fen)))
    if label == "interest days":
        try:
            value = _("%(days)s days", days=number(_parse(step.value)))
        except ValueError:
            value = step.value
        words = (_("Days from the average date of your sales in the period to the average date the shares "
                   "were bought back (the base date for those not bought back)") if deflation else
                 _("Days from the average date of your purchases in the period to the average date of your "
                   "sales (the base date for shares still held)"))
        return _("Days of interest"), words, value
    if label == "interest":
        words = (_("Net loss × %(rate)s a year × days ÷ 365", rate=rate(s.interest_rate))
                 if s.interest_claimed else _("Interest is not claimed under this plan"))
        return _("Interest"), words, _("%(amount)s yuan", amount=yuan(s.interest_fen))
    if label == "compensation":
        if s.outcome == Outcome.BELOW_MINIMUM:
            return (_("Compensation"), _("Below this plan's minimum payment of %(minimum)s yuan, so nothing "
                                         "is paid", minimum=yuan(s.minimum_payment_fen)),
                    _("%(amount)s yuan", amount=yuan(0)))
        return (_("Compensation"),
                _("Net loss + commission + stamp duty + interest, rounded once to the fen"),
                _("%(amount)s yuan", amount=yuan(s.compensation_fen)))
    return label, step.formula, step.value


def _status_words(s: SecurityStory) -> tuple[str, str, str]:
    o = s.outcome
    if o == Outcome.EXCLUDED:
        words = (_("Excluded by the plan; reason given: %(reason)s", reason=s.exclusion) if s.exclusion
                 else _("Excluded by the plan"))
    elif o == Outcome.NOT_IN_WINDOW:
        words = _("No share was bought in the period")
    elif o == Outcome.SOLD_BEFORE_DISCLOSURE:
        words = _("Every share bought in the period was sold before the disclosure")
    elif o == Outcome.NO_NET_SALE:
        words = _("No more shares were sold than bought in the period")
    else:
        words = _("After the deduction for market risk no loss is left")
    return _("Result"), words, _("No compensation")


def _base_date_words(s: SecurityStory) -> str:
    if s.base_rule.startswith("case.base_date"):
        return _("The base date was fixed for this case (by a court or an expert)")
    if "base_date_truncated" in s.flags:
        return _("The market data ends after %(days)s trading days, so the last trading day available is "
                 "used",
                 days=i18n.count(s.base_trading_days))
    found = re.search(r"trading day (\d+)", s.base_rule)
    if found is None:
        return _("Not all of the tradable shares changed hands within 30 trading days of the disclosure, so "
                 "the base date is the 30th trading day")
    day = int(found[1])
    if s.rules == "spc2022" and day <= 10:
        return _("All of the tradable shares had changed hands by trading day %(day)s after the disclosure, "
                 "within 10 trading days, so the base date is the 10th trading day", day=i18n.count(day))
    return _("All of the tradable shares had changed hands by trading day %(day)s after the disclosure, so "
             "that day is the base date", day=i18n.count(day))


def _cost_words(method: str) -> str:
    return {
        "moving_average": _("Moving weighted average: each purchase in the period updates the average cost "
                            "of the shares held"),
        "weighted_average": _("Total paid for the shares bought in the period divided by their number"),
        "actual_cost": _("Total paid for the shares bought in the period, less what was received for those "
                         "of them sold before the disclosure, divided by the shares left at the disclosure"),
        "fifo": _("The purchase prices of the very shares counted, the earliest bought first"),
    }.get(method, _("The average purchase price of the shares counted"))


# -- the trades in words -------------------------------------------------------------------------------------

def trade_lines(s: SecurityStory) -> list[TradeWords]:
    opening = frozenset(t.lot for t in s.trades if t.side == "open")
    return [_trade_words(t, opening) for t in s.trades]


def _trade_words(t: Trade, opening: frozenset) -> TradeWords:
    restated = abs(t.shares - t.shares_given) > 1e-9
    if t.side == "open":
        when, action = _("Before the first trade"), _("Held at the start")
    else:
        when = i18n.date(t.day)
        action = _("Bought") if t.side == "B" else _("Sold")
    qty = (_("%(shares)s (%(given)s before the bonus-share adjustment)", shares=shares(t.shares),
             given=shares(t.shares_given)) if restated else shares(t.shares))
    if t.side == "open":
        cost = ""
    elif restated:
        cost = _("%(price)s yuan (%(given)s yuan before the bonus-share adjustment)", price=price(t.price),
                 given=price(t.price_given))
    else:
        cost = _("%(price)s yuan", price=price(t.price))
    lots: list[str] = []
    if t.lot is not None:
        lots.append(_("Opens lot %(lot)s: %(what)s", lot=i18n.count(t.lot),
                      what=_lot_class(t.lot_class, t.side)))
    for c in t.consumed:
        if c.lot in opening:
            lots.append(_("Takes %(shares)s shares from lot %(lot)s (held before the first trade)",
                          shares=shares(c.shares), lot=i18n.count(c.lot)))
            continue
        lots.append(_("Takes %(shares)s shares from lot %(lot)s, bought at %(price)s yuan (%(what)s)",
                      shares=shares(c.shares), lot=i18n.count(c.lot), price=price(c.lot_price),
                      what=_lot_class(c.lot_class, "")))
    return TradeWords(t.number, when, action, qty, cost, _period(t.period), tuple(lots))


def _lot_class(lot_class: str, side: str) -> str:
    if side == "open":
        return _("held before the first trade")
    return {"pre": _("bought before the period"), "eligible": _("bought in the period"),
            "post": _("bought after the disclosure")}.get(lot_class, _("held before the first trade"))


def _period(window: str) -> str:
    return {
        "before the first trade": _("Held before the first trade"),
        "before I": _("Before the false statement"),
        WINDOW_TRADES: _("Between the false statement and its disclosure"),
        AFTER_DISCLOSURE: _("From the disclosure to the base date"),
        "after B": _("After the base date"),
    }.get(window, window)
