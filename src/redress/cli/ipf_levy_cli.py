"""Securities companies, their ratings and levies, and the fund's other income / 证券公司、分类评级与保护基金缴纳。"""

from __future__ import annotations

import typer

company_app = typer.Typer(name="company", help="Securities companies and their ratings / 证券公司与分类评级",
                          no_args_is_help=True)
levy_app = typer.Typer(name="levy", help="Levies: rates, instalments, payments, settlement, overdue / 保护基金缴纳",
                       no_args_is_help=True)
income_app = typer.Typer(name="income", help="Exchange fees, subscription interest, donations / 其他资金来源",
                         no_args_is_help=True)
