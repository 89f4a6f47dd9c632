"""What the protection modules share: the domain error, exact rounding, and strict reading of data files."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Iterable, Mapping
from fractions import Fraction
from importlib import resources
from typing import Any

BP_PER_UNIT = 10_000  # basis points in 100%


class ProtectionError(ValueError):
    """An input the protection fund core cannot use.  ``field`` names the offending input; the message says
    what is wrong and what to do, in English and Chinese."""

    def __init__(self, field: str, reason: str, reason_zh: str = ""):
        self.field = field
        self.reason = reason
        self.reason_zh = reason_zh
        super().__init__(f"{field}: {reason}" + (f" / {reason_zh}" if reason_zh else ""))


class ProtectionDataError(ProtectionError):
    """A data file under ``law/data`` is malformed; ``field`` is ``<file>: <key>``."""


def round_half_up(x: Fraction) -> int:
    """Round an exact amount of fen to the nearest fen, a half fen up (``floor(x + 1/2)``)."""
    return math.floor(x + Fraction(1, 2))


def check_fen(value: object, field: str, *, allow_zero: bool = True) -> int:
    """``value`` must be an integer number of fen, not negative (and not zero unless allowed)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtectionError(field, f"{value!r} is not an integer number of fen; pass money in fen "
                                     "(1 yuan = 100 fen)",
                              f"{value!r} 不是以分为单位的整数；金额请以分为单位填写（1元 = 100分）")
    if value < 0 or (value == 0 and not allow_zero):
        least = "zero or more" if allow_zero else "more than zero"
        least_zh = "不小于零" if allow_zero else "大于零"
        raise ProtectionError(field, f"{value} fen must be {least}", f"{value} 分须{least_zh}")
    return value


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d} yuan"


def pct_bp(rate_bp: int) -> str:
    pct = Fraction(rate_bp, 100)
    return f"{pct.numerator}%" if pct.denominator == 1 else f"{float(pct):g}%"


# --- strict reading of data files ---------------------------------------------------------------------

def read_data(name: str) -> tuple[str, str]:
    """The text of ``law/data/<name>.toml`` and the origin used in error messages."""
    path = resources.files("redress.law") / "data" / f"{name}.toml"
    return path.read_text(encoding="utf-8"), f"law/data/{name}.toml"


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProtectionDataError(origin, f"not valid TOML ({exc})") from None


def check_keys(table: object, where: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict:
    """``table`` must be a TOML table with all ``required`` keys and no key outside required + optional."""
    if not isinstance(table, dict):
        raise ProtectionDataError(where, f"expected a table, got {table!r}")
    required, optional = set(required), set(optional)
    unknown = sorted(set(table) - required - optional)
    if unknown:
        raise ProtectionDataError(f"{where}: {unknown[0]}", f"unknown key(s) {unknown}; allowed keys are "
                                  f"{sorted(required | optional)}")
    missing = sorted(required - set(table))
    if missing:
        raise ProtectionDataError(f"{where}: {missing[0]}", f"missing key(s) {missing}")
    return table


def data_date(table: Mapping[str, Any], key: str, where: str) -> dt.date:
    value = table[key]
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ProtectionDataError(f"{where}: {key}", f"{value!r} is not a date (YYYY-MM-DD)") from None


def data_int(table: Mapping[str, Any], key: str, where: str, lo: int | None = 0,
             hi: int | None = None) -> int:
    value = table[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtectionDataError(f"{where}: {key}", f"{value!r} must be an integer")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ProtectionDataError(f"{where}: {key}", f"{value} is outside {lo}..{hi}")
    return value


def data_text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise ProtectionDataError(f"{where}: {key}", "must be a non-empty string")
    return value.strip()


def data_bool(table: Mapping[str, Any], key: str, where: str) -> bool:
    value = table[key]
    if not isinstance(value, bool):
        raise ProtectionDataError(f"{where}: {key}", f"{value!r} must be true or false")
    return value
