"""Languages: Chinese first, English beside it, from gettext catalogues (Babel).

Every string a user reads is written once in English in the code and the templates (the message id) and
translated in ``redress/locale/<language>/LC_MESSAGES/*.po``.  Each area keeps its own file (``portal.po``,
``access.po``, ``notify.po``, ...); the files of a language are merged into one catalogue the first time it is
used.  English needs no translation (its catalogue may still hold plural forms).

The language of the work in hand is a context variable: the web sets it per request from the visitor's choice
(the ``redress_lang`` cookie; Chinese when there is none), a notice or a PDF sets it for the investor it is
written for (``use``).  Placeholders are Python's ``%(name)s``, as gettext tools expect:
``_("Decide by %(date)s", date=...)``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
from collections.abc import Iterator
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES = ("zh", "en")
DEFAULT = "zh"
NAMES = {"zh": "中文", "en": "English"}          # each in its own language, for the switch
LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}    # Babel locales for numbers and dates
HTML_LANG = {"zh": "zh-CN", "en": "en"}
COOKIE = "redress_lang"
CATALOGUES = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("redress_language", default=DEFAULT)


def chosen(value: str | None) -> str:
    """A language from what a visitor sent (cookie, form): one of ``LANGUAGES``, else the default."""
    return value if value in LANGUAGES else DEFAULT


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def use(language: str | None) -> Iterator[str]:
    """Work in ``language`` (any unknown value: the default) for the duration of the block."""
    token = _current.set(chosen(language))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def set_current(language: str | None) -> None:
    """Set the language for the rest of this context (a web request runs in a context of its own)."""
    _current.set(chosen(language))


@functools.cache
def catalogue(language: str) -> NullTranslations:
    """Every ``*.po`` file of ``language`` merged; fuzzy and empty entries are left out (they fall back to the
    English message id)."""
    merged: NullTranslations | None = None
    for po in sorted((CATALOGUES / language / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            cat = read_po(fh, locale=language)
        buf = io.BytesIO()
        write_mo(buf, cat, use_fuzzy=False)
        buf.seek(0)
        t = Translations(fp=buf)
        if merged is None:
            merged = t
        else:
            merged.merge(t)
    return merged or NullTranslations()


def gettext(message: str, **values: object) -> str:
    text = catalogue(current()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = catalogue(current()).ngettext(singular, plural, n)
    values.setdefault("num", n)
    return text % values


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark for translation, translate later"
    """Marks a message id for the catalogue where it is defined (module-level tables); translated when shown."""
    return message


# -- numbers and dates in the reader's language ----------------------------------------------------------------

def money(fen: int | None) -> str:
    """Yuan from integer fen, two decimals, thousands separated: 1234567 -> ``12,345.67`` (exact: no floats)."""
    value = Decimal(int(fen or 0)).scaleb(-2)
    return format_decimal(value, format="#,##0.00", locale=LOCALES[current()])


def count(n: int | float | None) -> str:
    """A count of people, shares or claims: an integer with thousands separators."""
    return format_decimal(int(n or 0), format="#,##0", locale=LOCALES[current()])


def date(d: dt.date | str | None) -> str:
    """A date in words: ``2026年12月6日`` / ``6 December 2026``."""
    if d is None or d == "":
        return ""
    if isinstance(d, str):
        d = dt.date.fromisoformat(d[:10])
    return format_date(d, format="long", locale=LOCALES[current()])


def datetime(t: dt.datetime | str | None) -> str:
    """A moment (stored UTC), shown in Beijing time with its zone named."""
    if t is None or t == "":
        return ""
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    beijing = t.astimezone(dt.timezone(dt.timedelta(hours=8)))
    pattern = "yyyy年M月d日 HH:mm" if current() == "zh" else "d MMMM yyyy HH:mm"
    return format_datetime(beijing, pattern, locale=LOCALES[current()]) + " (UTC+8)"


def install(env) -> None:
    """Give a Jinja2 environment ``_``/``gettext``/``ngettext`` (new-style: ``_("Paid %(x)s", x=...)``) and the
    formatting helpers, all following the current language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(lambda s: catalogue(current()).gettext(s),
                                  lambda s, p, n: catalogue(current()).ngettext(s, p, n), newstyle=True)
    env.globals.update(language=current, languages=LANGUAGES, language_names=NAMES,
                       html_lang=lambda: HTML_LANG[current()])
    env.filters.update(money=money, count=count, date=date, datetime=datetime)
