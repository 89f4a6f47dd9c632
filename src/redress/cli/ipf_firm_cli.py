"""Failed securities companies: claims registered, verified, paid in batches, recovered in the liquidation
/ 证券公司风险处置：债权登记、核对、偿付与清算追偿。"""

from __future__ import annotations

import typer

firm_app = typer.Typer(name="firm", help="Paying the clients and creditors of failed firms / 风险处置偿付",
                       no_args_is_help=True)
