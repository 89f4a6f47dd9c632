"""Yuan as people write it <-> integer fen as the books keep it.  Exact: never through a float."""

from __future__ import annotations

import re

_AMOUNT = re.compile(r"^(-?)(\d+)(?:\.(\d{1,2}))?$")


def parse_yuan(text: str) -> int:
    """``"1,234.5"`` -> 123450 fen.  More than two decimals, exponents or anything not a number are refused."""
    cleaned = str(text).strip().replace(",", "")
    m = _AMOUNT.match(cleaned)
    if m is None:
        if re.match(r"^-?\d+\.\d{3,}$", cleaned):
            raise ValueError(f"more than two decimals in {text!r}: amounts are written to the fen (0.01 yuan)")
        raise ValueError(f"not an amount in yuan: {text!r} (write e.g. 1234.56)")
    sign, whole, cents = m.groups()
    fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    return -fen if sign else fen


def yuan(fen: int, *, grouping: bool = False) -> str:
    """123450 -> ``"1234.50"`` (or ``"1,234.50"``)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouping else f"{sign}{whole}.{cents:02d}"
