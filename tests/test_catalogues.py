"""The gettext catalogues: every message the code and the templates use has a Chinese translation, each message
means one thing across the catalogues, and placeholders survive translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from redress import i18n

SRC = Path(__file__).resolve().parents[1] / "src" / "redress"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def used() -> dict[str, str | tuple]:
    """Every message id in the sources (Python and the web templates), with where it is used first; a plural
    message by its pair of ids."""
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(SRC), method_map, keywords=KEYWORDS, options_map={"**/templates/**.html": {"trimmed": "false"}}):
        if message:
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def entries() -> list[tuple[str, str, str]]:
    out = []
    for po in sorted((i18n.CATALOGUES / "zh" / "LC_MESSAGES").glob("*.po")):
        for m in read_po(po.open("rb")):
            if m.id:
                mid = m.id if isinstance(m.id, str) else m.id[0]
                text = m.string if isinstance(m.string, str) else m.string[0]
                out.append((po.name, mid, text))
    return out


@pytest.fixture(scope="module")
def messages() -> dict[str, str]:
    found = used()
    assert len(found) > 300, len(found)
    return found


def test_every_message_in_use_has_a_chinese_translation(messages):
    zh = i18n.catalogue("zh")
    def untranslated(mid) -> bool:
        if isinstance(mid, tuple):
            return zh.ngettext(mid[0], mid[1], 2) == mid[1]
        return zh.gettext(mid) == mid and bool(re.search("[A-Za-z]", mid))

    missing = {mid: where for mid, where in messages.items() if untranslated(mid)}
    assert not missing, f"{len(missing)} messages without Chinese, e.g. {list(missing.items())[:10]}"


def test_a_message_means_one_thing_in_every_catalogue():
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po, mid, text in entries():
        if mid in seen and seen[mid][1] != text:
            clashes.append((mid, seen[mid], (po, text)))
        seen.setdefault(mid, (po, text))
    assert not clashes, clashes[:10]


def test_translations_keep_their_placeholders():
    wrong = [(po, mid, text) for po, mid, text in entries()
             if text and sorted(PLACEHOLDER.findall(mid)) != sorted(PLACEHOLDER.findall(text))]
    assert not wrong, wrong[:10]


def test_the_investors_pages_hold_no_side_by_side_english_and_chinese():
    """Investor-facing templates say each thing once, in the reader's language."""
    investor_pages = ["base.html", "login.html", "activate.html", "login_code.html", "forgot.html",
                      "portal_home.html", "portal_claim.html", "public_case.html", "help.html", "error.html",
                      "session_expired.html", "_explanation.html", "_contact.html"]
    templates = SRC / "web" / "templates"
    han = re.compile(r"[\u4e00-\u9fff]")
    for name in investor_pages:
        text = (templates / name).read_text(encoding="utf-8")
        outside = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", text, flags=re.S)
        assert not han.search(outside), (name, han.search(outside).group(0))


def test_the_language_follows_the_choice():
    with i18n.use("en"):
        assert i18n.gettext("Language") == "Language" and i18n.money(123456789) == "1,234,567.89"
    with i18n.use("zh"):
        assert i18n.gettext("Language") == "语言" and i18n.date("2026-12-06") == "2026年12月6日"
    with i18n.use("fr"):                               # an unknown choice falls back to Chinese
        assert i18n.current() == "zh"
