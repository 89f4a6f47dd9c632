"""Yuan as people write it <-> integer fen as the books keep it.  Exact: never through a float.

Limits on money
---------------

Amounts are kept in 64-bit integer columns (``BIGINT``) and summed by the database, so every figure the
books can form must stay inside ``2**63 - 1 = 9,223,372,036,854,775,807`` fen (about 9.2 x 10**18).  Three
limits keep it there with a wide margin, each far above any real case (the largest Chinese securities fines
and funds are in the tens of billions of yuan, about 10**12 fen):

``MAX_AMOUNT_FEN = 10**14`` (1 trillion yuan)
    the most a single amount a person types or a file carries may be (``parse_yuan`` refuses more).
``MAX_BALANCE_FEN = 10**15`` (10 trillion yuan)
    the most any account's balance may reach, either way; checked on the balances after every entry before it
    is booked.
``MAX_TURNOVER_FEN = 10**17`` (1,000 trillion yuan)
    the most one set of books (a case's, or the protection fund's) may move in all: the sum of the absolute
    values of all its postings, also checked before every entry.

Why the third: the database sums postings in whatever order it reads them, and SQLite stops with "integer
overflow" if any partial sum leaves 64 bits.  A partial sum over any subset of a book's postings, in any
order, is at most the sum of their absolute values, so at most ``MAX_TURNOVER_FEN``: 92 times below the
64-bit limit.  This covers every balance, every balance through a date, the trust account's daily sums and
any sum across accounts.  Sums over claims are bounded the same way: a results file's offers are each at most
``MAX_AMOUNT_FEN`` and together at most ``MAX_BALANCE_FEN``; awards, interest and payments never exceed what
the fund holds.  Figures computed in Python (trial balance totals, the fund statement) cannot overflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MAX_AMOUNT_FEN = 10**14
MAX_BALANCE_FEN = 10**15
MAX_TURNOVER_FEN = 10**17

_AMOUNT = re.compile(r"(-?)([0-9]+)(?:\.([0-9]{1,2}))?")
_MAX_TEXT = 64   # characters: longer text is not an amount (and is never converted to an integer)


def parse_yuan(text: str) -> int:
    """``"1,234.5"`` -> 123450 fen.  More than two decimals, exponents, anything not a number and amounts
    above ``MAX_AMOUNT_FEN`` (either sign) are refused with ``ValueError``."""
    if not isinstance(text, str | int):
        raise ValueError(f"not an amount in yuan: {text!r} (write e.g. 1234.56)")
    raw = str(text)
    cleaned = raw.strip().replace(",", "")
    shown = raw if len(raw) <= _MAX_TEXT else raw[:_MAX_TEXT] + "..."
    too_big = ValueError(f"{shown.strip()!r} yuan is more than the largest amount allowed, "
                         f"{yuan(MAX_AMOUNT_FEN, grouping=True)} yuan / 金额超过上限")
    m = _AMOUNT.fullmatch(cleaned) if len(cleaned) <= _MAX_TEXT else None
    if m is None:
        if len(cleaned) > _MAX_TEXT and re.fullmatch(r"-?[0-9]+(\.[0-9]{1,2})?", cleaned):
            raise too_big
        if re.fullmatch(r"-?[0-9]+\.[0-9]{3,}", cleaned):
            raise ValueError(f"more than two decimals in {shown!r}: amounts are written to the fen "
                             f"(0.01 yuan) / 金额最多两位小数")
        raise ValueError(f"not an amount in yuan: {shown!r} (write e.g. 1234.56) / 金额格式有误")
    sign, whole, cents = m.groups()
    fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    if fen > MAX_AMOUNT_FEN:
        raise too_big
    return -fen if sign else fen


def check_fen(value: object, what: str, *, low: int = 0, high: int = MAX_AMOUNT_FEN) -> int:
    """``value`` if it is an integer number of fen in ``low..high``; otherwise ``ValueError`` naming ``what``.
    For amounts that reach a service as integers (the HTTP API, other services) rather than as text."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: {value!r} is not a whole number of fen / 金额须为整数（分）")
    if not low <= value <= high:
        raise ValueError(f"{what}: {yuan(value)} yuan is outside {yuan(low)} to "
                         f"{yuan(high, grouping=True)} yuan / 金额超出允许范围")
    return value


def over_limits(after: Mapping[str, int], touched: Iterable[str], turnover_fen: int) -> str | None:
    """Why the books would break the limits above once an entry is booked, or None: ``after`` holds the
    balances after the entry, ``touched`` the accounts it posts to, ``turnover_fen`` the book's sum of
    absolute postings with the entry."""
    for acct in sorted(set(touched)):
        bal = after.get(acct, 0)
        if abs(bal) > MAX_BALANCE_FEN:
            return (f"account {acct} would hold {yuan(bal, grouping=True)} yuan, beyond the "
                    f"{yuan(MAX_BALANCE_FEN, grouping=True)} yuan any account may hold / 超过账户余额上限")
    if turnover_fen > MAX_TURNOVER_FEN:
        return (f"the books would have moved {yuan(turnover_fen, grouping=True)} yuan in all, beyond the "
                f"{yuan(MAX_TURNOVER_FEN, grouping=True)} yuan one set of books may move / 超过账簿累计发生额上限")
    return None


def yuan(fen: int, *, grouping: bool = False) -> str:
    """123450 -> ``"1234.50"`` (or ``"1,234.50"``)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}" if grouping else f"{sign}{whole}.{cents:02d}"
