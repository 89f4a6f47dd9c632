"""``redress explain``: how one investor's compensation was computed, step by step.

The explanation runs the very kernel that ``compute`` runs, on the investor's rows only, in trace mode:
each trade with its restated quantity and price, the lot it opened or the lots it consumed (first in,
first out), the moving average after it; then each formula line with its numbers and the article behind
it.  The final figures are the ones ``compute`` writes, so the two can never disagree.

A case with several false statements (loss-rules.md section 9) is explained once per statement, each as
the one-statement case with that statement's dates, base date and plan.  Under ``best_for_investor`` a
``Choice`` per security says which statement's row is paid and why (highest compensation, else the better
status, else the statement listed first), in words.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import polars as pl

from redress.engine import records as R
from redress.engine import walk as W
from redress.engine.pipeline import Prepared, compute, cost_code, index_inputs
from redress.engine.statements import STATUS_RANK
from redress.errors import CaseError, Problem
from redress.law.articles import article
from redress.law.plan import (ActualCostSells, CostMethod, Direction, Plan, Statement, StatementsRule,
                              SystemicMethod)
from redress.market.base_date import compute_base_dates
from redress.market.calendar import day_number, from_day_number

CLASS_NAMES = {R.CLASS_PRE: "pre", R.CLASS_ELIGIBLE: "eligible", R.CLASS_POST: "post", -1: ""}


@dataclass(frozen=True)
class Consumption:
    lot: int  # 1-based number of the lot in the investor's FIFO queue
    lot_class: str
    lot_price: float
    quantity: float


@dataclass(frozen=True)
class TradeLine:
    number: int
    date: str
    time: str
    seq: int
    side: str  # B, S or "open" (opening position)
    account_id: str
    quantity_given: float
    price_given: float
    quantity: float  # after ex-rights restatement
    price: float
    lot: int | None  # lot number opened by a buy
    lot_class: str
    window: str
    consumed: tuple[Consumption, ...]
    holding_eligible: float  # H after the trade (moving average)
    cost_eligible: float  # C after the trade (moving average)


@dataclass(frozen=True)
class Step:
    label: str
    formula: str
    value: str
    article: str


@dataclass
class SecurityExplanation:
    security: str
    result: dict
    base: dict
    base_rule: str
    actions: list[dict]
    trades: list[TradeLine]
    steps: list[Step] = field(default_factory=list)
    statement: str | None = None  # the statement's id in a case with several statements




class ChoiceReason(StrEnum):
    """Why best_for_investor pays one statement's row rather than another's."""

    ONLY_STATEMENT = "only_statement"  # the case lists a single statement
    HIGHEST_COMPENSATION = "highest_compensation"  # its compensation is strictly the highest
    BETTER_STATUS = "better_status"  # tied on compensation; its status ranks best
    LISTED_FIRST = "listed_first"  # tied on compensation and status; listed first in case.toml


@dataclass(frozen=True)
class Candidate:
    statement: str
    status: str
    compensation: float


@dataclass(frozen=True)
class Choice:
    """The statement whose row is paid for one security under best_for_investor, and why."""

    security: str
    statement: str
    reason: ChoiceReason
    words: str
    candidates: tuple[Candidate, ...]


@dataclass
class StatementExplanation:
    """One false statement's dates and the investor's securities computed under it."""

    id: str
    implementation_date: str
    disclosure_date: str
    base_date: str | None  # fixed by case.toml, else None (each security's computed B is in its section)
    securities: list[SecurityExplanation]


@dataclass
class Explanation:
    investor_id: str
    case_id: str
    rules: str
    direction: str
    plan: dict
    exclusion: str | None
    # the rows the investor is owed, in the order compute writes them: per security, every statement's row
    # under "each", the chosen statement's row under "best_for_investor"
    securities: list[SecurityExplanation]
    statements_rule: str | None = None  # None: a case with one statement
    statements: list[StatementExplanation] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if self.statements_rule is None:  # one statement: the same document as before statements existed
            for key in ("statements_rule", "statements", "choices"):
                d.pop(key)
            for sec in d["securities"]:
                sec.pop("statement")
        return d


def _fmt(x: float, decimals: int = 4) -> str:
    text = f"{x:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text and decimals > 2 else text


def _q(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.6f}".rstrip("0")


def explain(prep: Prepared, investor_id: str, plan: Plan | None = None) -> Explanation:
    """How ``investor_id``'s rows were computed; under every statement when the case has several."""
    case = prep.case
    if not case.has_statements:
        return _explain_one(prep, investor_id, plan)
    parts = [(s, _explain_one(statement_prepared(prep, s), investor_id, plan)) for s in case.statements]
    sections = [StatementExplanation(s.id or "", s.implementation_date.isoformat(),
                                     s.disclosure_date.isoformat(),
                                     s.base_date.isoformat() if s.base_date else None, e.securities)
                for s, e in parts]
    for section in sections:
        for sec in section.securities:
            sec.statement = section.id
    by_security: dict[str, list[SecurityExplanation]] = {}
    for section in sections:
        for sec in section.securities:
            by_security.setdefault(sec.security, []).append(sec)
    order = sorted(by_security, key=case.securities.index)
    choices: list[Choice] = []
    if case.statements_rule == StatementsRule.BEST_FOR_INVESTOR:
        owed = []
        for code in order:
            choice = choose(code, by_security[code])
            choices.append(choice)
            owed.append(next(x for x in by_security[code] if x.statement == choice.statement))
    else:
        owed = [x for code in order for x in by_security[code]]
    first = parts[0][1]
    return Explanation(investor_id, case.id, case.rules.value, case.direction.value, first.plan,
                       first.exclusion, owed, case.statements_rule.value, sections, choices)


def statement_prepared(prep: Prepared, statement: Statement) -> Prepared:
    """The prepared case as the one-statement case of ``statement``: its dates, plan and base dates (the
    tables and the grouped trades do not depend on the dates)."""
    case = prep.case.for_statement(statement)
    base = compute_base_dates(case, prep.tables.market, prep.ex_rights, prep.tables.files["market"],
                              skip=prep.tables.without_market)
    return dataclasses.replace(prep, case=case, base=base)


def choose(security: str, rows: list[SecurityExplanation]) -> Choice:
    """best_for_investor (loss-rules.md section 9): the highest compensation; ties go to the better status,
    then to the statement listed first (``rows`` are in the order of case.toml)."""
    candidates = tuple(Candidate(x.statement or "", x.result["status"], float(x.result["compensation"]))
                       for x in rows)
    best = min(range(len(candidates)), key=lambda k: (-round(candidates[k].compensation, 2),
                                                       STATUS_RANK.get(candidates[k].status, 99), k))
    won = candidates[best]
    tied = [c for c in candidates if round(c.compensation, 2) == round(won.compensation, 2)]
    same_status = [c for c in tied if STATUS_RANK.get(c.status) == STATUS_RANK.get(won.status)]
    others = "; ".join(f"{c.statement}: {c.compensation:,.2f} yuan ({c.status})" for c in candidates)
    if len(candidates) == 1:
        reason = ChoiceReason.ONLY_STATEMENT
        words = f"statement {won.statement} is the only statement of the case: {won.compensation:,.2f} yuan"
    elif len(tied) == 1:
        reason = ChoiceReason.HIGHEST_COMPENSATION
        words = (f"statement {won.statement} is chosen because its compensation, {won.compensation:,.2f} "
                 f"yuan, is the highest ({others})")
    elif len(same_status) == 1:
        reason = ChoiceReason.BETTER_STATUS
        words = (f"statements {', '.join(c.statement for c in tied)} tie at {won.compensation:,.2f} yuan; "
                 f"statement {won.statement} is chosen because its status {won.status} is the better one "
                 f"(eligible, below_minimum, no_loss, no_eligible_shares, excluded, best first) ({others})")
    else:
        reason = ChoiceReason.LISTED_FIRST
        words = (f"statements {', '.join(c.statement for c in same_status)} tie at "
                 f"{won.compensation:,.2f} yuan with the same status {won.status}; statement "
                 f"{won.statement} is chosen because it is listed first in case.toml ({others})")
    return Choice(security, won.statement, reason, words, candidates)


def _explain_one(prep: Prepared, investor_id: str, plan: Plan | None) -> Explanation:
    case = prep.case
    plan = plan or case.plan
    trade_rows = np.nonzero((prep.tables.trades["investor_id"] == investor_id).to_numpy())[0]
    pos_rows = np.nonzero((prep.tables.positions["investor_id"] == investor_id).to_numpy())[0] + prep.n_trades
    rows = np.concatenate([trade_rows, pos_rows]).astype(np.int64)
    if rows.size == 0:
        raise CaseError(Problem(prep.tables.files["trades"], None,
                                f"investor {investor_id!r} has no trades or opening positions in this case"))
    sub = prep.subset(rows)
    result = compute(sub, plan).table
    excl = prep.tables.exclusions.filter(pl.col("investor_id") == investor_id)
    exclusion = (excl["reason"][0] or "excluded") if excl.height else None
    table, idx_day0, idx_base, weights, codes = index_inputs(prep, plan)
    out = []
    for g in range(sub.n_groups):
        positions = np.arange(sub.starts[g], sub.starts[g + 1], dtype=np.int64)
        sec = case.securities[int(sub.sec[positions[0]])]
        row = result.filter(pl.col("security") == sec).row(0, named=True)
        out.append(_explain_group(sub, plan, positions, sec, row, table, idx_day0, idx_base, weights, codes))
    plan_dict = {k: (v.value if hasattr(v, "value") else v) for k, v in dataclasses.asdict(plan).items()
                 if k not in ("systemic_risk", "sources")}
    sr = plan.systemic_risk
    plan_dict["systemic_risk"] = {"method": sr.method.value, "ratio": sr.ratio, "indices": dict(sr.indices)}
    if sr.uses_index:
        plan_dict["systemic_risk"]["deducted_share"] = sr.deducted_share
    if sr.method == SystemicMethod.MARKET_MODEL:
        plan_dict["systemic_risk"].update(estimation_days=sr.estimation_days, estimation_gap=sr.estimation_gap)
    plan_dict["defaults_from"] = dict(plan.sources)
    return Explanation(investor_id, case.id, case.rules.value, case.direction.value, plan_dict, exclusion, out)


def _explain_group(prep: Prepared, plan: Plan, rows: np.ndarray, sec: str, row: dict, table, idx_day0, idx_base,
                   weights, codes) -> SecurityExplanation:
    case = prep.case
    rules = case.rules
    base = prep.base[sec]
    s_code = case.securities.index(sec)
    m = rows.size
    lot_qty, lot_price, lot_class = np.empty(m), np.empty(m), np.empty(m, np.int8)
    outv = np.zeros(W.N_OUT)
    idx_out = np.zeros((len(codes), W.N_INDEX_OUT))
    tr_class, tr_h, tr_c = np.zeros(m, np.int8), np.zeros(m), np.zeros(m)
    ev_sell, ev_lot, ev_qty = np.zeros(2 * m + 2, np.int64), np.zeros(2 * m + 2, np.int64), np.zeros(2 * m + 2)
    deflation = case.direction == Direction.DEFLATION
    i_day, d_day, b_day = day_number(case.implementation_date), day_number(case.disclosure_date), base.base_day
    _, n_ev = W.walk_group(int(rows[0]), m, prep.rec, prep.rec.view(np.float64), i_day, d_day, b_day, base.base_price,
                           deflation, cost_code(plan), table, idx_day0,
                           idx_base[s_code] if len(codes) else np.zeros(0), weights, bool(codes),
                           lot_qty, lot_price, lot_class, outv, idx_out, True, tr_class, tr_h, tr_c,
                           ev_sell, ev_lot, ev_qty)
    lots_by_pos: dict[int, int] = {}
    pos_by_lot: dict[int, int] = {}
    for pos in range(m):
        if prep.kind[rows[pos]] != R.KIND_SELL:
            pos_by_lot[len(lots_by_pos)] = pos
            lots_by_pos[pos] = len(lots_by_pos)
    consumed: dict[int, list[Consumption]] = {}
    for e in range(n_ev):
        lot = int(ev_lot[e])
        lp = pos_by_lot[lot]
        consumed.setdefault(int(ev_sell[e]), []).append(
            Consumption(lot + 1, CLASS_NAMES[int(tr_class[lp])], float(prep.price[rows[lp]]), float(ev_qty[e])))
    trades = [_trade_line(prep, rows, pos, lots_by_pos, consumed, tr_class, tr_h, tr_c, i_day, d_day, b_day)
              for pos in range(m)]
    actions = [{"ex_date": from_day_number(int(d)).isoformat(), "share_ratio": float(r), "cash_dividend": float(c),
                "article": article(rules, "ex_rights")}
               for d, r, c in zip(prep.ex_rights[sec].ex_days, prep.ex_rights[sec].ratios, prep.ex_rights[sec].cash,
                                  strict=True)]
    se = SecurityExplanation(sec, row, base.as_json(), base.rule, actions, trades)
    se.steps = _steps(prep, plan, sec, row, outv, idx_out, codes, weights, trades, idx_base[s_code] if codes else [])
    return se


def _trade_line(prep, rows, pos, lots_by_pos, consumed, tr_class, tr_h, tr_c, i_day, d_day, b_day) -> TradeLine:
    p = int(rows[pos])
    r = int(prep.rowid[p])
    kind = int(prep.kind[p])
    d = int(prep.day[p])
    if r < prep.n_trades:
        src = prep.tables.trades.row(r, named=True)
        given_q, given_p = float(src["quantity"]), float(src["price"])
        account = src.get("account_id") or ""
        tsec = int(src["time"])
        time = "" if tsec < 0 else f"{tsec // 3600:02d}:{tsec // 60 % 60:02d}:{tsec % 60:02d}"
        seq = int(src["seq"])
    else:
        src = prep.tables.positions.row(r - prep.n_trades, named=True)
        given_q, given_p, account, time, seq = float(src["quantity"]), 0.0, src.get("account_id") or "", "", 0
    if kind == R.KIND_OPENING:
        date, window = "(opening)", "before the first trade"
    else:
        date = from_day_number(d).isoformat()
        window = ("before I" if d < i_day else "[I, D) buy window" if d < d_day
                  else "[D, B]" if d <= b_day else "after B")
    return TradeLine(pos + 1, date, time, seq, {0: "S", 1: "B", 2: "open"}[kind], account,
                     given_q, given_p, float(prep.qty[p]), float(prep.price[p]),
                     lots_by_pos[pos] + 1 if pos in lots_by_pos else None, CLASS_NAMES[int(tr_class[pos])],
                     window, tuple(consumed.get(pos, [])), float(tr_h[pos]), float(tr_c[pos]))


def _citations(*texts: str) -> str:
    """Several steps' citations as one, each article once (the 2003 provisions define both I and D in Art. 20)."""
    return "; ".join(dict.fromkeys(texts))


def _steps(prep, plan, sec, row, outv, idx_out, codes, weights, trades, idx_base) -> list[Step]:
    case = prep.case
    rules = case.rules
    art = lambda step: article(rules, step)  # noqa: E731
    base = prep.base[sec]
    window = "sell window [I, D)" if case.direction == Direction.DEFLATION else "buy window [I, D)"
    steps = [
        Step(window, f"I = {case.implementation_date}, D = {case.disclosure_date}",
             f"[{case.implementation_date}, {case.disclosure_date})",
             _citations(art("implementation_date"), art("disclosure_date"), art("window_boundaries"))),
        Step("base date B", base.rule, base.base_date.isoformat(), art("base_date")),
        Step("base price P_B",
             "fixed by case.base_price" if base.price_fixed else
             f"mean of the ex-rights adjusted closes of {base.trading_days} trading days from D to B",
             _fmt(base.base_price), art("base_price")),
    ]
    if row["status"] == "excluded":
        excl = prep.tables.exclusions.filter(pl.col("investor_id") == row["investor_id"])
        steps.append(Step("status", f"listed in exclusions: {excl['reason'][0] or ''}", "excluded (0)",
                          art("exclusion")))
        return steps
    if case.direction == Direction.DEFLATION:
        steps += _deflation_steps(plan, row, outv, art, base.base_price)
    else:
        steps += _inflation_steps(prep, plan, row, outv, trades, art)
    fit = None
    if plan.systemic_risk.method == SystemicMethod.MARKET_MODEL:
        from redress.engine.pipeline import market_fits

        fit = market_fits(prep, plan)[sec]
    steps += _closing_steps(plan, row, outv, idx_out, codes, weights, idx_base, art,
                            case.direction == Direction.DEFLATION, fit)
    return steps


def _inflation_steps(prep, plan, row, outv, trades, art) -> list[Step]:
    q_sold, q_held = outv[W.O_Q_SOLD], outv[W.O_Q_HELD]
    avg_buy, avg_sell = outv[W.O_AVG_BUY], outv[W.O_AVG_SELL]
    base_price = prep.base[row["security"]].base_price
    steps = [
        Step("eligible shares bought", "shares bought in [I, D), after ex-rights restatement",
             _q(outv[W.O_ELIGIBLE_BOUGHT]), art("causation")),
        Step("q_sold", "eligible shares consumed (FIFO) by sells dated in [D, B]", _q(q_sold), art("fifo_scope")),
        Step("avg_sell", "quantity-weighted price of those sells", _fmt(avg_sell), art("inflation")),
        Step("q_held", "eligible shares not consumed by any sell dated on or before B", _q(q_held),
             art("fifo_scope")),
    ]
    method = plan.cost_method
    how = {
        CostMethod.MOVING_AVERAGE: "moving weighted average C at D: each eligible buy sets C = (C*H + p*q) / (H + q)",
        CostMethod.WEIGHTED_AVERAGE: "sum(p*q) / sum(q) over all eligible buys",
        CostMethod.ACTUAL_COST: "(eligible buy amounts - proceeds of sells before D that consumed eligible lots) "
                                "/ eligible shares left at D",
        CostMethod.FIFO: "quantity-weighted lot price of the eligible shares in q_sold + q_held",
    }[method]
    label = method.value
    if method == CostMethod.ACTUAL_COST and plan.actual_cost_sells == ActualCostSells.ALL_WINDOW_SELLS:
        label += ", all_window_sells"
        how = ("(eligible buy amounts - proceeds of every sell dated in [I, D)) / (eligible shares bought - shares "
               "those sells sold) (plan.actual_cost_sells = all_window_sells)")
        if row["status"] == "no_eligible_shares" and outv[W.O_ELIGIBLE_BOUGHT] > 0:
            steps.append(Step(f"avg_buy ({label})", how, "-", art("inflation")))
            steps.append(Step("status", "the sells in [I, D) sold at least as many shares as were bought in it: on "
                              "this net basis nothing bought in the window is left at D", "no_eligible_shares (0)",
                              art("causation")))
            return steps
    steps.append(Step(f"avg_buy ({label})", how, _fmt(avg_buy), art("inflation")))
    if row["status"] == "no_eligible_shares":
        steps.append(Step("status", "no eligible share survives to D", "no_eligible_shares (0)", art("causation")))
        return steps
    if method == CostMethod.FIFO:
        loss_sold = sum((c.lot_price - t.price) * c.quantity for t in trades if t.window == "[D, B]"
                        for c in t.consumed if c.lot_class == "eligible")
        sold_formula = "sum((lot price - sell price) * q) over [D, B] consumptions of eligible lots"
        held_formula = "sum((lot price - P_B) * q) over the eligible shares held after B"
    else:
        loss_sold = (avg_buy - avg_sell) * q_sold
        sold_formula = f"(avg_buy - avg_sell) * q_sold = ({_fmt(avg_buy)} - {_fmt(avg_sell)}) * {_q(q_sold)}"
        held_formula = f"(avg_buy - P_B) * q_held = ({_fmt(avg_buy)} - {_fmt(base_price)}) * {_q(q_held)}"
    diff = outv[W.O_DIFF_LOSS]
    steps += [
        Step("loss on shares sold in [D, B]", sold_formula, _fmt(loss_sold, 2), art("inflation")),
        Step("loss on shares held after B", held_formula, _fmt(diff - loss_sold, 2), art("inflation")),
        Step("difference loss", "loss_sold + loss_held (gains and losses net)", f"{row['difference_loss']:,.2f}",
             art("inflation")),
    ]
    return steps


def _deflation_steps(plan, row, outv, art, base_price: float) -> list[Step]:
    q_short, q_bb, q_nbb = outv[W.O_ELIGIBLE_BOUGHT], outv[W.O_Q_SOLD], outv[W.O_Q_HELD]
    avg_sell, avg_bb = outv[W.O_AVG_SELL], outv[W.O_AVG_BUY]
    steps = [
        Step("q_short", "max(0, shares sold in [I, D) - shares bought in [I, D))", _q(q_short), art("deflation")),
        Step("avg_sell", "quantity-weighted price of all sells in [I, D)", _fmt(avg_sell), art("deflation")),
        Step("q_bought_back", "buys dated in [D, B], in time order, up to q_short", _q(q_bb), art("deflation")),
        Step("avg_buy_back", "quantity-weighted price of the units bought back", _fmt(avg_bb), art("deflation")),
        Step("q_not_bought_back", "q_short - q_bought_back", _q(q_nbb), art("deflation")),
    ]
    if row["status"] == "no_eligible_shares":
        steps.append(Step("status", "no net short position from the window", "no_eligible_shares (0)",
                          art("deflation")))
        return steps
    steps.append(Step("difference loss",
                      f"(avg_buy_back - avg_sell) * q_bought_back + (P_B - avg_sell) * q_not_bought_back = "
                      f"({_fmt(avg_bb)} - {_fmt(avg_sell)}) * {_q(q_bb)} + "
                      f"({_fmt(base_price)} - {_fmt(avg_sell)}) * {_q(q_nbb)}",
                      f"{row['difference_loss']:,.2f}", art("deflation")))
    return steps


def _move(start: float, end: float, deflation: bool) -> float:
    """The fall (inflation) or rise (deflation) from ``start`` to ``end``, as a fraction of ``start``."""
    if start == 0:
        return 0.0
    return (end - start) / start if deflation else (start - end) / start


def _index_ratio_text(x: float, s: float) -> tuple[str, float]:
    """Why one index's ratio is what it is (loss-rules.md section 6), and the ratio."""
    if s <= W.RATIO_EPS:  # the kernel's test: a move this small is no move
        return "s <= 0, so ratio 0", 0.0
    if x <= W.RATIO_EPS:
        return "x <= 0, so ratio 0", 0.0
    if x >= s:
        return f"x >= s, so ratio min(1, {_fmt(x, 6)} / {_fmt(s, 6)}) = 1", 1.0
    return f"ratio x / s = {_fmt(x, 6)} / {_fmt(s, 6)} = {_fmt(x / s, 6)}", x / s


def _deduction_step(sr, row, art) -> Step:
    if sr.deducted_share != 1.0:
        return Step("systemic-risk deduction", f"max(0, difference loss) * ratio * {sr.deducted_share:g} (the plan "
                    f"deducts that share of the market's part: plan.systemic_risk.deducted_share)",
                    f"{row['systemic_deduction']:,.2f}", art("systemic_risk"))
    return Step("systemic-risk deduction", "max(0, difference loss) * ratio", f"{row['systemic_deduction']:,.2f}",
                art("systemic_risk"))


def _market_model_steps(plan, row, outv, idx_out, codes, weights, idx_base, art, deflation, fit) -> list[Step]:
    """The market model (loss-rules.md section 6): beta fitted before I, the index blend's move over the
    holding, the part of the stock's move it explains."""
    from redress.market.market_model import market_model_ratios

    start, end = outv[W.O_STOCK_START], outv[W.O_STOCK_END]
    word = "rise" if deflation else "fall"
    levels = idx_out[None, :, :].copy()
    ratio, s, x = market_model_ratios(np.array([start]), np.array([end]), levels, np.array([fit.beta]),
                                      np.asarray(weights, dtype=np.float64), deflation)
    s, x, ratio = float(s[0]), float(x[0]), float(ratio[0])
    parts = [f"{code} (weight {weights[k]:g}): {_fmt(idx_out[k, 0])} -> {_fmt(idx_out[k, 1])} "
             f"(base level {_fmt(idx_base[k])}), {word} {_fmt(_move(idx_out[k, 0], idx_out[k, 1], deflation), 6)}"
             for k, code in enumerate(codes)]
    explained = fit.beta * x
    if s <= W.RATIO_EPS:
        why = "s <= 0, so ratio 0"
    elif explained <= W.RATIO_EPS:
        why = "beta * x <= 0, so ratio 0"
    elif explained >= s:
        why = f"beta * x >= s, so ratio min(1, {_fmt(explained, 6)} / {_fmt(s, 6)}) = 1"
    else:
        why = f"ratio beta * x / s = {_fmt(explained, 6)} / {_fmt(s, 6)}"
    sr = plan.systemic_risk
    return [
        Step("market model beta", fit.describe() + f"; window: {sr.estimation_days} trading days ending "
             f"{sr.estimation_gap} trading days before I", _fmt(fit.beta, 6), art("systemic_risk")),
        Step("stock move", f"stock_start -> stock_end over the investor's own holding; {word} s = {_fmt(s, 6)}",
             f"{_fmt(start)} -> {_fmt(end)}", art("systemic_risk")),
        Step("index move", "; ".join(parts) + f"; blend x = sum(w_k * x_k) = {_fmt(x, 6)}", "", art("systemic_risk")),
        Step("market-model ratio", f"the part of the stock's {word} the market explains: min(1, beta * x / s) = "
             f"min(1, {_fmt(fit.beta, 6)} * {_fmt(x, 6)} / {_fmt(s, 6)}); {why}", _fmt(ratio, 6),
             art("systemic_risk")),
        _deduction_step(sr, row, art),
    ]


def _closing_steps(plan, row, outv, idx_out, codes, weights, idx_base, art, deflation: bool,
                   fit=None) -> list[Step]:
    steps = []
    sr = plan.systemic_risk
    diff = outv[W.O_DIFF_LOSS]
    if sr.method == SystemicMethod.NONE:
        steps.append(Step("systemic-risk deduction", "method none", "0.00", art("systemic_risk")))
    elif sr.method == SystemicMethod.UNIFORM_RATIO:
        steps.append(Step("systemic-risk deduction", f"max(0, difference loss) * ratio = max(0, {diff:.2f}) * "
                          f"{sr.ratio:g}", f"{row['systemic_deduction']:,.2f}", art("systemic_risk")))
    elif sr.method == SystemicMethod.MARKET_MODEL:
        steps += _market_model_steps(plan, row, outv, idx_out, codes, weights, idx_base, art, deflation, fit)
    else:
        start, end = outv[W.O_STOCK_START], outv[W.O_STOCK_END]
        s = _move(start, end, deflation)
        word = "rise" if deflation else "fall"
        parts, terms = [], []
        for k, code in enumerate(codes):
            x = _move(idx_out[k, 0], idx_out[k, 1], deflation)
            why, ratio_k = _index_ratio_text(x, s)
            terms.append(f"{weights[k]:g} * {_fmt(ratio_k, 6)}")
            parts.append(f"{code} (weight {weights[k]:g}): index {_fmt(idx_out[k, 0])} -> {_fmt(idx_out[k, 1])} "
                         f"(base level {_fmt(idx_base[k])}), {word} x = {_fmt(x, 6)}; {why}")
        steps.append(Step("stock move", f"stock_start -> stock_end over the investor's own holding; {word} "
                          f"s = {_fmt(s, 6)}", f"{_fmt(start)} -> {_fmt(end)}", art("systemic_risk")))
        steps.append(Step("index moves", "; ".join(parts), "", art("systemic_risk")))
        steps.append(Step("relative ratio", "sum(w_k * min(1, x_k / s)), 0 where s <= 0 or x_k <= 0 = "
                          + " + ".join(terms), _fmt(outv[W.O_RATIO], 6), art("systemic_risk")))
        steps.append(_deduction_step(sr, row, art))
    steps.append(Step("net loss", "difference loss - deduction", f"{row['net_loss']:,.2f}", art("systemic_risk")))
    status = row["status"]
    if status == "no_loss":
        steps.append(Step("status", "net loss <= 0: nothing to compensate", "no_loss (0)", art("loss_scope")))
        return steps
    steps += [
        Step("commission", f"net loss * {plan.commission_rate:g}", f"{row['commission']:,.2f}", art("loss_scope")),
        Step("stamp duty", f"net loss * {plan.stamp_duty_rate:g}", f"{row['stamp_duty']:,.2f}", art("loss_scope")),
    ]
    if plan.interest:
        held = "q_not_bought_back" if deflation else "q_held"
        steps.append(Step("interest days", "calendar days from the quantity-weighted mean date of the opening trades ("
                          + ("the sells in [I, D)" if deflation else "the eligible buys")
                          + ") to the quantity-weighted mean closing date ("
                          + ("each buy-back date" if deflation else "each [D, B] sell date")
                          + f", and B for {held})", f"{outv[W.O_DAYS]:.4f}", art("interest")))
        steps.append(Step("interest", f"net loss * {plan.interest_rate:g} * {outv[W.O_DAYS]:.4f} days / 365",
                          f"{row['interest']:,.2f}", art("interest")))
    else:
        steps.append(Step("interest", "not claimed under this plan", "0.00", art("interest")))
    total = "net loss + commission + stamp duty + interest, rounded once (half up) to 0.01 yuan"
    if status == "below_minimum":
        steps.append(Step("compensation", f"{total}; below the plan's minimum payment "
                          f"{plan.minimum_payment:.2f}", "below_minimum (0)", "plan.minimum_payment"))
    else:
        steps.append(Step("compensation", total, f"{row['compensation']:,.2f}", art("loss_scope")))
    return steps
