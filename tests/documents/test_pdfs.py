"""The documents themselves: what a reader finds in them, in Chinese and in English, byte for byte the same
for the same input, and a page of each rendered to PNG under test-artifacts/documents for a look."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess

import pytest
from pdfsupport import ARTIFACTS, CASE_NAME, SHA, letter, receipt, text_of

from redress.documents import FontMissing, agreement_pdf, fonts, letters_pdf, receipt_pdf
from redress.documents.pdf import units

ARTICLE = "第一条 投资者接受先行赔付后，其对发行人等责任方的损失赔偿请求权，转让给出资的各方。"
AGREEMENT_ZH = (ARTICLE * 12 + "\n\n") * 5
AGREEMENT_EN = ("Article 1. By accepting, the investor assigns the claim against the liable parties to the "
                "payers of the fund. " * 10 + "\n\n") * 5


def flat(text: str) -> str:
    """Extracted text without line breaks and spaces (a line may break anywhere in Chinese)."""
    return "".join(text.split())


def spaced(text: str) -> str:
    """Extracted English text with each line break or run of spaces as one space."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def letters() -> bytes:
    return letters_pdf([letter("zh"), letter("en", investor_id="INV000124", user_name="INV000124",
                                             hotline=None, activation_code="ABCD-EFGH-JK")])


def test_letters_one_page_each_in_the_letters_language(letters):
    zh, en = text_of(letters)                     # exactly one page per letter
    en = spaced(en)
    assert "12,345.67" in zh and "K7QM 2XPA 9R4T" in zh and "400-820-1234" in zh
    assert "https://redress.example.cn/activate" in zh and "INV000123" in zh
    assert "激活码" in flat(zh) and "谨防诈骗" in flat(zh) and "2026年12月31日" in flat(zh)
    assert "银行卡密码" in flat(zh) and "Beware" not in zh
    assert "12,345.67 yuan" in en and "ABCD EFGH JK" in en and "31 December 2026" in en
    assert "activation code" in en and "Beware of fraud" in en and "bank card password" in en
    assert "INV000124" in en and "help pages" in en and "激活码" not in en


def test_letters_need_one_letter_at_least():
    with pytest.raises(ValueError, match="at least one"):
        letters_pdf([])


def test_agreement_prints_version_and_hash_on_every_page():
    for language, page_word in (("zh", "第1页，共"), ("en", "Page1of")):
        body = AGREEMENT_ZH if language == "zh" else AGREEMENT_EN
        pdf = agreement_pdf(CASE_NAME, "v2", body, SHA, language)
        pages = text_of(pdf)
        assert len(pages) >= 2
        for n, page in enumerate(pages, start=1):
            assert SHA in page and "v2" in page
            assert page_word.replace("1", str(n)) + str(len(pages)) in flat(page)
        assert "先行赔付" in flat(pages[0]) if language == "zh" else "assigns the claim" in spaced(pages[0])


def test_receipts_say_the_decision_in_plain_words():
    accept_zh = flat(text_of(receipt_pdf(receipt("zh")))[0])
    assert "您已接受12,345.67元的先行赔付" in accept_zh and SHA in accept_zh
    assert "2026年12月6日11:04" in accept_zh
    assert "投资者网站" in accept_zh and "v1" in accept_zh
    decline_en = spaced(text_of(receipt_pdf(receipt("en", "decline", channel="counter")))[0])
    assert "You declined the offer" in decline_en and "right to sue" in decline_en
    assert "at the service counter" in decline_en and "6 December 2026 11:04 (UTC+8)" in decline_en
    assert SHA not in decline_en
    decline_zh = flat(text_of(receipt_pdf(receipt("zh", "decline")))[0])
    assert "您已选择不接受" in decline_zh and "起诉" in decline_zh


def test_receipt_refuses_a_lapse():
    with pytest.raises(ValueError, match="'accept' or 'decline'"):
        receipt("zh", "lapse")


def test_the_same_input_gives_the_same_bytes():
    assert receipt_pdf(receipt("zh")) == receipt_pdf(receipt("zh"))
    assert receipt_pdf(receipt("zh")) != receipt_pdf(receipt("zh", decision_id=43))
    one = letters_pdf([letter("zh")])
    assert one == letters_pdf([letter("zh")])


def test_metadata_names_title_and_language():
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(receipt_pdf(receipt("en"))))
    assert reader.metadata.title == f"Receipt of your decision: {CASE_NAME}"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    zh = PdfReader(io.BytesIO(receipt_pdf(receipt("zh"))))
    assert zh.metadata.title.startswith("决定回执") and zh.trailer["/Root"]["/Lang"] == "zh-CN"


def test_no_glyph_is_missing(caplog):
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        receipt_pdf(receipt("zh"))
    assert not [r for r in caplog.records if "missing" in r.getMessage()]


def test_chinese_lines_break_between_ideographs_not_before_punctuation():
    assert units("投资者（先行赔付）。Advance compensation") == \
        ["投", "资", "者", "（先", "行", "赔", "付）。", "Advance", " ", "compensation"]


def test_a_missing_font_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv(fonts.ENV, str(tmp_path / "nothing.ttc"))
    with pytest.raises(FontMissing, match="REDRESS_CJK_FONT=.*no such font file"):
        fonts.cjk_font()
    monkeypatch.delenv(fonts.ENV)
    monkeypatch.setattr(fonts, "CANDIDATES", ())
    fonts._find.cache_clear()
    try:
        with pytest.raises(FontMissing, match="apt-get install fonts-noto-cjk"):
            fonts.cjk_font()
    finally:
        fonts._find.cache_clear()


def test_the_configured_font_is_used(monkeypatch):
    found = fonts.cjk_font()
    monkeypatch.setenv(fonts.ENV, str(found.regular.path))
    chosen = fonts.cjk_font()
    assert chosen.regular == found.regular and chosen.bold == found.regular


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_render_pages_to_png_for_a_look(letters):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    documents = {
        "letter-zh": (letters, 1), "letter-en": (letters, 2),
        "agreement-zh": (agreement_pdf(CASE_NAME, "v2", AGREEMENT_ZH, SHA, "zh"), 1),
        "receipt-accept-zh": (receipt_pdf(receipt("zh")), 1),
        "receipt-decline-en": (receipt_pdf(receipt("en", "decline")), 1),
    }
    for name, (pdf, page) in documents.items():
        source = ARTIFACTS / f"{name}.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", str(page), "-l", str(page), "-singlefile",
                        str(source), str(ARTIFACTS / name)], check=True)
        png = ARTIFACTS / f"{name}.png"
        assert png.stat().st_size > 10_000, png
