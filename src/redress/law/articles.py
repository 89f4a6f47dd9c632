"""Which article stands behind each step, per rule set (law/data/articles.toml)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from redress.law.plan import Rules


@cache
def _table() -> dict[str, dict[str, str]]:
    text = (resources.files("redress.law") / "data" / "articles.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    keys = set(data["spc2022"])
    if set(data["spc2003"]) != keys:
        raise ValueError("law/data/articles.toml: spc2022 and spc2003 must name the same steps")
    return data


def article(rules: Rules, step: str) -> str:
    return _table()[rules.value][step]
