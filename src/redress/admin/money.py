"""Yuan as people write it <-> integer fen as the books keep it.  Exact: never through a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def parse_yuan(text: str) -> int:
    """``"1,234.5"`` -> 123450 fen.  More than two decimals, or anything not a number, is refused."""
    cleaned = str(text).strip().replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount in yuan: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount in yuan: {text!r}")
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"more than two decimals (fen) in {text!r}")
    return int(fen)


def yuan(fen: int, *, grouping: bool = False) -> str:
    """123450 -> ``"1234.50"`` (or ``"1,234.50"``)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouping else f"{sign}{whole}.{cents:02d}"
