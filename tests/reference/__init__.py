"""Slow, exact reference implementation of the loss rules, used as a test oracle.

It is written independently of ``src/redress`` from the text of ``loss-rules.md`` and ``formats.md``
and uses only the standard library (``fractions.Fraction`` for every computation).
"""

from tests.reference.loss_reference import (
    MONEY_COLUMNS,
    OUTPUT_COLUMNS,
    PRICE_COLUMNS,
    QUANTITY_COLUMNS,
    STATEMENT_OUTPUT_COLUMNS,
    base_dates,
    compute_reference,
)

__all__ = [
    "MONEY_COLUMNS",
    "OUTPUT_COLUMNS",
    "PRICE_COLUMNS",
    "QUANTITY_COLUMNS",
    "STATEMENT_OUTPUT_COLUMNS",
    "base_dates",
    "compute_reference",
]
