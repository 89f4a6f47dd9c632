"""Small case directories written in the interchange format (formats.md), for tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from redress.market.calendar import sessions

SESSIONS = sessions("XSHG").sessions_between(dt.date(2021, 3, 1), dt.date(2021, 12, 31))


def day(k: int) -> str:
    """The k-th Shanghai trading session from 2021-03-01 (1-based), as ISO text."""
    return SESSIONS[k - 1].isoformat()


CASE_TOML = """[case]
id = "t1"
name = "Test case"
rules = "{rules}"
direction = "{direction}"
securities = ["600001"]
implementation_date = "{i}"
disclosure_date = "{d}"
{extra_case}
[plan]
cost_method = "moving_average"
commission_rate = 0.0003
stamp_duty_rate = 0.001
{extra_plan}"""

TRADES_HEADER = "investor_id,account_id,security,date,time,seq,side,quantity,price\n"


def write_case(root: Path, *, trades: list[str] | None = None, rules: str = "spc2022",
               direction: str = "inflation", i: int = 3, d: int = 20, extra_case: str = "",
               extra_plan: str = "", market_days: int = 60, positions: list[str] | None = None,
               files: dict[str, str] | None = None, toml: str | None = None) -> Path:
    """Write a one-security case: closes 10.00 before D and 7.50 from D, 1% turnover a day."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "case.toml").write_text(toml if toml is not None else CASE_TOML.format(
        rules=rules, direction=direction, i=day(i), d=day(d), extra_case=extra_case, extra_plan=extra_plan),
        encoding="utf-8")
    lines = ["security,date,close,volume,tradable_shares"]
    lines += [f"600001,{day(k)},{'10.00' if k < d else '7.50'},10000,1000000" for k in range(1, market_days + 1)]
    (root / "market.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if trades is None:
        trades = [f"A,a1,600001,{day(5)},10:00:00,1,B,1000,12.00",
                  f"A,a1,600001,{day(22)},10:00:00,1,S,400,8.00"]
    (root / "trades.csv").write_text(TRADES_HEADER + "".join(t + "\n" for t in trades), encoding="utf-8")
    if positions:
        (root / "positions.csv").write_text("investor_id,account_id,security,quantity\n"
                                            + "".join(p + "\n" for p in positions), encoding="utf-8")
    for name, text in (files or {}).items():
        (root / name).write_text(text, encoding="utf-8")
    return root
