"""The page every document is written on: A4, the Chinese font embedded, large type, fixed metadata.

The same input gives the same bytes (the creation date is fixed, nothing depends on the clock), so the SHA-256
of a document can be recorded and checked later.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from redress import i18n
from redress.documents.fonts import cjk_font

FAMILY = "cjk"
BODY_PT = 13          # body text: large, for readers with weak eyes
SMALL_PT = 10         # footers and hashes only
HEADING_PT = 20
LINE_MM = 7.0         # line height of body text
CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)   # fixed creation date: output is a function of its input
MARGIN_MM = 20

# colours (R, G, B)
INK = (20, 20, 20)
MUTED = (90, 90, 90)
ACCENT = (0, 70, 140)
WARNING = (160, 30, 20)
BOX = (242, 245, 250)


# Chinese line breaking: a line may break between any two ideographs, never before closing punctuation
# and never after opening punctuation; Latin words break at spaces only.
_CLOSING = "，。、；：？！）》」』”’〕】…—·%,.;:?!)]}"
_OPENING = "（《「『“‘〔【([{"


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def units(text: str) -> list[str]:
    """``text`` cut where a line may break: runs of spaces, single wide (CJK) characters, Latin words; each
    with its opening punctuation before it and its closing punctuation after it."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = i
        while j < n and text[j] in _OPENING:
            j += 1
        if j < n and text[j].isspace():
            while j < n and text[j].isspace():
                j += 1
        elif j < n and _wide(text[j]):
            j += 1
        else:
            while j < n and not text[j].isspace() and not _wide(text[j]) and not (
                    j > i and text[j] in _OPENING):
                j += 1
        while j < n and text[j] in _CLOSING:
            j += 1
        j = max(j, i + 1)
        out.append(text[i:j])
        i = j
    return out


class Page(FPDF):
    """An A4 document with the CJK font as ``cjk`` (regular and bold) and an optional footer."""

    def __init__(self, title: str, language: str, footer: Callable[[Page], None] | None = None) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        font = cjk_font()
        self.add_font(FAMILY, "", str(font.regular.path), collection_font_number=font.regular.index)
        self.add_font(FAMILY, "B", str(font.bold.path), collection_font_number=font.bold.index)
        self.language = i18n.chosen(language)
        self._footer = footer
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=MARGIN_MM + 8)
        self.set_creation_date(CREATED)
        self.set_title(title)
        self.set_lang(i18n.HTML_LANG[self.language])
        self.set_author("Redress")
        self.set_creator("Redress")
        self.set_producer("Redress")
        self.alias_nb_pages()
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", BODY_PT)

    def lines(self, text: str, width_mm: float) -> list[str]:
        """``text`` broken into lines no wider than ``width_mm`` in the current font."""
        result: list[str] = []
        for paragraph in text.split("\n"):
            line, width = "", 0.0
            for unit in units(paragraph):
                w = self.get_string_width(unit)
                if width + w <= width_mm or not line.strip():
                    if not line and unit.isspace() and result:
                        continue                       # no space at the start of a continued line
                    if w > width_mm:                   # a word longer than the line: cut it where it must
                        for ch in unit:
                            cw = self.get_string_width(ch)
                            if width + cw > width_mm and line:
                                result.append(line.rstrip())
                                line, width = "", 0.0
                            line += ch
                            width += cw
                        continue
                    line += unit
                    width += w
                    continue
                result.append(line.rstrip())
                line, width = ("", 0.0) if unit.isspace() else (unit, w)
            result.append(line.rstrip())
        return result

    def text_block(self, text: str, size: float, bold: bool = False, width_mm: float | None = None,
                   align: str = "L", x: float | None = None) -> None:
        """``text`` broken by ``lines``, from ``x`` (the left margin) over ``width_mm`` (the rest)."""
        self.set_font(FAMILY, "B" if bold else "", size)
        left = self.l_margin if x is None else x
        width = self.epw - (left - self.l_margin) if width_mm is None else width_mm
        for line in self.lines(text, width):
            self.set_x(left)
            self.cell(width, size * 0.54, line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        if self._footer is not None:
            self._footer(self)

    def heading(self, text: str, size: float = HEADING_PT, colour=ACCENT) -> None:
        self.set_text_color(*colour)
        self.text_block(text, size, bold=True)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", BODY_PT)

    def para(self, text: str, size: float = BODY_PT, bold: bool = False, colour=INK, after_mm: float = 3,
             align: str = "L") -> None:
        self.set_text_color(*colour)
        self.text_block(text, size, bold=bold, align=align)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", BODY_PT)
        self.ln(after_mm)

    def rows(self, pairs: list[tuple[str, str]], label_mm: float = 58) -> None:
        """A two-column table of label and value, each wrapping in its own column."""
        for label, value in pairs:
            if self.auto_page_break and self.get_y() + 2 * LINE_MM > self.page_break_trigger:
                self.add_page()
            y = self.get_y()
            self.set_text_color(*MUTED)
            self.text_block(label, BODY_PT, width_mm=label_mm - 3)
            label_bottom = self.get_y()
            self.set_y(y)
            self.set_text_color(*INK)
            self.text_block(value, BODY_PT, x=self.l_margin + label_mm)
            self.set_y(max(label_bottom, self.get_y()) + 1.5)

    def boxed(self, lines: list[tuple[str, float, bool]], fill=BOX, border_colour=ACCENT,
              text_colour=INK, align: str = "L") -> None:
        """Lines (text, size, bold) in a tinted box with a border."""
        x, y, width = self.l_margin, self.get_y(), self.epw
        pad = 4
        # measure first, draw the box, then the text over it
        heights = []
        for text, size, bold in lines:
            self.set_font(FAMILY, "B" if bold else "", size)
            heights.append(len(self.lines(text, width - 2 * pad)) * size * 0.54)
        total = sum(heights) + 2 * pad + 2 * (len(lines) - 1)
        if self.auto_page_break and y + total > self.page_break_trigger:
            self.add_page()
            y = self.get_y()
        self.set_fill_color(*fill)
        self.set_draw_color(*border_colour)
        self.set_line_width(0.6)
        self.rect(x, y, width, total, style="DF")
        self.set_xy(x + pad, y + pad)
        self.set_text_color(*text_colour)
        for text, size, bold in lines:
            self.text_block(text, size, bold=bold, width_mm=width - 2 * pad, align=align, x=x + pad)
            self.ln(2)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", BODY_PT)
        self.set_y(y + total + 5)

    def done(self) -> bytes:
        return bytes(self.output())


def page_number(pdf: Page) -> str:
    return i18n._("Page %(page)s of %(pages)s", page=pdf.page_no(), pages="{nb}")
