"""Dated legal parameters, loaded from the TOML files in ``law/data``.

A parameter is a list of periods, each starting on an effective date and lasting until the next one
starts.  A lookup returns the value in force on one date together with the source that establishes it,
so that every default used in a computation can be traced back to its legal reference.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

_HEADER_KEYS = {"name", "unit", "description"}


class ParameterError(ValueError):
    """A parameter file is malformed: names the file and the problem."""


@dataclass(frozen=True)
class Period:
    effective: dt.date
    values: tuple[tuple[str, float], ...]
    source: str

    def value(self, key: str) -> float:
        return dict(self.values)[key]


@dataclass(frozen=True)
class Value:
    """One parameter value as in force on a date, with its provenance."""

    name: str
    key: str
    value: float
    effective: dt.date
    source: str


@dataclass(frozen=True)
class DatedParameter:
    name: str
    unit: str
    description: str
    value_keys: tuple[str, ...]
    periods: tuple[Period, ...]

    def at(self, date: dt.date, key: str | None = None) -> Value:
        """The value in force on ``date`` (the last period whose effective date is on or before it)."""
        key = key or self.value_keys[0]
        if key not in self.value_keys:
            raise KeyError(f"parameter {self.name} has no value {key!r} (has {', '.join(self.value_keys)})")
        in_force = [p for p in self.periods if p.effective <= date]
        if not in_force:
            first = self.periods[0].effective.isoformat()
            raise LookupError(f"parameter {self.name} has no value before {first}; asked for {date.isoformat()}")
        period = in_force[-1]
        return Value(self.name, key, period.value(key), period.effective, period.source)


def parse_parameter(text: str, origin: str) -> DatedParameter:
    """Parse one parameter file strictly: unknown keys, unsorted periods or bad values are errors."""
    data = tomllib.loads(text)
    unknown = set(data) - {"parameter", "period"}
    if unknown:
        raise ParameterError(f"{origin}: unknown top-level key(s) {sorted(unknown)}")
    header = data.get("parameter", {})
    if set(header) != _HEADER_KEYS:
        raise ParameterError(f"{origin}: [parameter] must have exactly the keys {sorted(_HEADER_KEYS)}")
    raw_periods = data.get("period", [])
    if not raw_periods:
        raise ParameterError(f"{origin}: no [[period]]")
    value_keys = tuple(k for k in raw_periods[0] if k not in ("effective", "source"))
    periods: list[Period] = []
    for i, raw in enumerate(raw_periods, start=1):
        where = f"{origin}: period {i}"
        keys = set(raw) - {"effective", "source"}
        if keys != set(value_keys):
            raise ParameterError(f"{where}: value keys {sorted(keys)} differ from {sorted(value_keys)}")
        try:
            effective = dt.date.fromisoformat(str(raw["effective"]))
        except (KeyError, ValueError) as exc:
            raise ParameterError(f"{where}: bad or missing 'effective' date ({exc})") from None
        source = raw.get("source")
        if not isinstance(source, str) or not source.strip():
            raise ParameterError(f"{where}: every period needs a 'source'")
        values = []
        for key in value_keys:
            v = raw[key]
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                raise ParameterError(f"{where}: {key} must be a non-negative number, got {v!r}")
            values.append((key, float(v)))
        if periods and effective <= periods[-1].effective:
            raise ParameterError(f"{where}: effective dates must increase")
        periods.append(Period(effective, tuple(values), source))
    return DatedParameter(header["name"], header["unit"], header["description"], value_keys, tuple(periods))


@cache
def load(name: str) -> DatedParameter:
    """Load ``law/data/<name>.toml`` (cached: the files are read-only package data)."""
    path = resources.files("redress.law") / "data" / f"{name}.toml"
    return parse_parameter(path.read_text(encoding="utf-8"), f"law/data/{name}.toml")


def stamp_duty_seller_rate(date: dt.date) -> Value:
    return load("stamp_duty").at(date, "seller")


def demand_deposit_rate(date: dt.date) -> Value:
    return load("deposit_rate").at(date)


def customary_commission_rate(date: dt.date) -> Value:
    return load("conventions").at(date)
