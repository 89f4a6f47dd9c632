"""Which passwords Redress accepts: long ones that are not on a list of common passwords.

A password is accepted if it has at least ``MIN_LENGTH`` characters, or is a passphrase of at least
``PASSPHRASE_WORDS`` words (separated by spaces, ``-``, ``_`` or ``.``, each of two characters or more); and
it is refused if it is on the list of common passwords (compared in lower case, and again with the word
separators removed, so ``Pass word 1234`` is found as ``password1234``), uses fewer than ``MIN_DISTINCT``
different characters, or contains the user's own name.

The list is ``common-passwords.txt.gz`` beside this module: the 20,000 most common passwords, lower case and
deduplicated, compiled by Royce Williams from leaked password sets
(https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce), as shipped unchanged by Django 5.1
(django/contrib/auth/common-passwords.txt.gz, BSD licence).

``problem(password, user_name)`` returns what is wrong (English / Chinese) or ``None``; it is pure and used by
every place that sets a password (the command line and the services behind it).
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

from redress.i18n import _

MIN_LENGTH = 12
PASSPHRASE_WORDS = 4
MIN_WORD_LENGTH = 2
MIN_DISTINCT = 5
MAX_LENGTH = 200               # what the sign-in form accepts
LIST = Path(__file__).with_name("common-passwords.txt.gz")
_SEPARATORS = re.compile(r"[\s\-_.]+")


@cache
def common() -> frozenset[str]:
    """The common passwords, lower case."""
    with gzip.open(LIST, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def is_passphrase(password: str) -> bool:
    words = [w for w in _SEPARATORS.split(password.strip()) if w]
    return len(words) >= PASSPHRASE_WORDS and all(len(w) >= MIN_WORD_LENGTH for w in words)


def problem(password: str, user_name: str | None = None) -> str | None:
    """What makes ``password`` unacceptable, or ``None`` if it is acceptable."""
    if len(password) > MAX_LENGTH:
        return _("The password is longer than %(n)s characters.", n=MAX_LENGTH)
    if len(password) < MIN_LENGTH and not is_passphrase(password):
        return _("The password needs at least %(n)s characters, or %(words)s or more words.", n=MIN_LENGTH,
                 words=PASSPHRASE_WORDS)
    if len(set(password)) < MIN_DISTINCT:
        return _("The password is too simple: use at least %(n)s different characters.", n=MIN_DISTINCT)
    lowered = password.lower()
    squeezed = _SEPARATORS.sub("", lowered)
    if lowered in common() or squeezed in common():
        return _("This password is on a list of common passwords; choose another.")
    name = _SEPARATORS.sub("", (user_name or "").lower())
    if len(name) >= 3 and name in squeezed:
        return _("The password must not contain the user name.")
    return None
