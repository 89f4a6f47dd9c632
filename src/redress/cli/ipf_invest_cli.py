"""The fund's investments and its reports to the regulators / 基金资金运用与监管报告。"""

from __future__ import annotations

import typer

invest_app = typer.Typer(name="invest", help="Investments, checked against Art. 20 / 资金运用", no_args_is_help=True)
report_app = typer.Typer(name="report", help="Monthly and quarterly reports, Excel and PDF / 月报、季报",
                         no_args_is_help=True)
