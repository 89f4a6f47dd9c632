"""Tables for case administration: fund statement, trial balance, participation, reconciliation."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from redress.admin.claims import Participation
from redress.money import yuan
from redress.claims.lifecycle import ClaimStatus
from redress.ledger.core import FundStatement, TrialBalance


def render_statement(console: Console, st: FundStatement, title: str) -> None:
    t = Table(title=f"Fund statement / 专项基金收支表 · {title}", title_justify="left")
    t.add_column("item 项目")
    t.add_column("yuan 元", justify="right")
    for payer, fen in st.contributions_fen.items():
        t.add_row(f"contribution from {payer} / 出资", yuan(fen, grouping=True))
    t.add_row("interest earned / 利息收入", yuan(st.interest_earned_fen, grouping=True))
    t.add_row("[bold]sources 资金来源合计[/]", f"[bold]{yuan(st.contributed_fen + st.interest_earned_fen, grouping=True)}[/]")
    t.add_row("compensation awarded / 赔付", yuan(st.compensation_awarded_fen, grouping=True))
    t.add_row("interest passed to investors / 利息分配", yuan(st.interest_awarded_fen, grouping=True))
    t.add_row("  of which still payable / 其中应付未付", yuan(st.payable_fen, grouping=True))
    t.add_row("fees / 费用", yuan(st.fees_fen, grouping=True))
    for payer, fen in st.surplus_returned_fen.items():
        t.add_row(f"surplus returned to {payer} / 返还出资人", yuan(fen, grouping=True))
    t.add_row("trust account / 托管账户余额", yuan(st.trust_cash_fen, grouping=True))
    t.add_row("in transit / 在途", yuan(st.in_transit_fen, grouping=True))
    t.add_row("[bold]surplus for payers / 可返还余额[/]", f"[bold]{yuan(st.surplus_fen, grouping=True)}[/]")
    console.print(t)


def render_trial(console: Console, tb: TrialBalance) -> None:
    t = Table(title="Trial balance / 试算平衡表", title_justify="left")
    t.add_column("account 科目")
    t.add_column("debit 借方", justify="right")
    t.add_column("credit 贷方", justify="right")
    for line in tb.lines:
        t.add_row(line.account, yuan(line.debit_fen, grouping=True) if line.debit_fen else "",
                  yuan(line.credit_fen, grouping=True) if line.credit_fen else "")
    t.add_row("[bold]total 合计[/]", yuan(tb.debit_fen, grouping=True), yuan(tb.credit_fen, grouping=True))
    console.print(t)
    console.print("balanced / 借贷平衡" if tb.balanced else "[red]NOT balanced / 借贷不平衡[/]")


def render_participation(console: Console, p: Participation) -> None:
    t = Table(title="Participation / 参与情况", title_justify="left")
    t.add_column("status 状态")
    t.add_column("investors 人数", justify="right")
    t.add_column("share 占比", justify="right")
    for status in ClaimStatus:
        n = p.by_status.get(status.value, 0)
        t.add_row(f"{status.value} {status.label_zh}", f"{n:,}", f"{n / p.claims:.1%}" if p.claims else "-")
    t.add_row("[bold]claims 合计[/]", f"{p.claims:,}", "")
    console.print(t)
    console.print(f"Offered 要约金额 {yuan(p.offered_fen, grouping=True)} yuan · accepted 接受 "
                  f"{yuan(p.accepted_fen, grouping=True)} · owed incl. interest 应付(含利息) "
                  f"{yuan(p.awarded_fen, grouping=True)} · paid 已付 {yuan(p.paid_fen, grouping=True)} "
                  f"({p.paid_share:.1%})", highlight=False)
