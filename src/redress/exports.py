"""Files people open in spreadsheets, CSV and Excel, written so that no cell is ever evaluated as a formula.

A spreadsheet takes a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (and, in some programs, a tab,
a carriage return or a line feed) for a formula: an investor id such as ``=HYPERLINK("http://...", "refund")``
or ``=cmd|' /C calc'!A0`` would run when a clerk opens the notices or the claims report ("CSV injection",
OWASP).  Every CSV and Excel file Redress writes for people goes through this module, which follows OWASP:

* a *text* cell that starts with one of those characters, or with their full-width forms (``＝ ＋ － ＠``, which
  spreadsheets in Chinese locales may also accept), is written with a single quote in front: it then shows as
  text and is never evaluated;
* a *number* is written as it is: integers, decimals, and text that is exactly a plain decimal number
  (``-12.50``, ``1,234.50``; what ``money.yuan`` writes).  A spreadsheet reads those as numbers, which is
  harmless, and negative amounts stay numbers;
* in an Excel workbook text is always a string cell (type ``s``), never a formula, a link or a number, and
  numbers are number cells.

Files Redress reads back.  Some files Redress writes come back to it: a payment instruction file's
``instruction_id`` and ``amount`` are what the clearing system's results refer to, and the demo writes the
decisions, bank statements and results files its channels would send.  Only text starting with a formula
character is changed, and nothing Redress reads back can start with one: identifiers follow ``redress.ids``
(they start with a letter or a digit), amounts and dates are plain numbers, statuses and channels are words.
So those files are byte for byte what they would be without this module and round-trip exactly; a value
this module would change is refused where it enters (``redress.ids``): the writer is the second line of
defence.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import polars as pl

# what makes a spreadsheet evaluate a cell: OWASP's list, line feed, and the full-width forms
FORMULA_LEADS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_NUMBER = r"-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?"
_NUMBER_RE = re.compile(_NUMBER)
_LEAD_PATTERN = "^[=+@\\t\\r\\n\\-\uff1d\uff0b\uff0d\uff20]"   # the same set, as a Polars (Rust) regex


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet may show it: with a leading single quote if it would start a formula."""
    if text and text[0] in FORMULA_LEADS and not _NUMBER_RE.fullmatch(text):
        return "'" + text
    return text


def safe_cell(value: Any) -> Any:
    """One CSV cell: text made safe (``safe_text``), ``None`` empty, dates ISO, numbers unchanged."""
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool | int | Decimal | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_text(str(value))


# -- CSV -----------------------------------------------------------------------------------------------------

def _field(value: Any) -> str:
    """One cell as CSV text: quoted (quotes doubled) when it holds a comma, a quote, a carriage return or a
    line feed, as ``csv.writer`` does, except that a carriage return is quoted whatever the line ending."""
    text = str(safe_cell(value))
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _line(row: Sequence[Any]) -> str:
    fields = [_field(v) for v in row]
    return '""' if fields == [""] else ",".join(fields)   # a lone empty cell is not an empty line


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\n") -> str:
    """A CSV document (header, then rows), every cell through ``safe_cell``; the quoting of ``csv.writer``
    (minimal), so ordinary rows come out as it writes them.  The same rows give the same text."""
    return "".join(_line(row) + lineterminator for row in [header, *rows])


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, lineterminator: str = "\n") -> bytes:
    """``csv_text`` as UTF-8 bytes (what is hashed and written)."""
    return csv_text(header, rows, lineterminator=lineterminator).encode("utf-8")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
              lineterminator: str = "\n") -> Path:
    """Write a CSV file (UTF-8) made safe for spreadsheets; its folder is created if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(header, rows, lineterminator=lineterminator))
    return path


# -- Polars frames -------------------------------------------------------------------------------------------

def safe_text_expr(expr: pl.Expr) -> pl.Expr:
    """``safe_text`` over a column of text, vectorised (nulls stay null)."""
    lead = expr.str.contains(_LEAD_PATTERN) & ~expr.str.contains(f"^{_NUMBER}$")
    return pl.when(lead).then(pl.concat_str(pl.lit("'"), expr)).otherwise(expr)


def safe_frame(df: pl.DataFrame, columns: Iterable[str] | None = None) -> pl.DataFrame:
    """``df`` with its text columns (or just ``columns``) made safe; other columns unchanged.  Column names
    are made safe too, as they become the header row."""
    names = [c for c, t in df.schema.items() if t == pl.String] if columns is None else list(columns)
    out = df.with_columns([safe_text_expr(pl.col(c)).alias(c) for c in names]) if names else df
    renamed = {c: safe_text(c) for c in out.columns if safe_text(c) != c}
    return out.rename(renamed) if renamed else out


def write_frame_csv(df: pl.DataFrame, target: Path | IO[bytes] | IO[str], *,
                    columns: Iterable[str] | None = None, include_header: bool = True) -> None:
    """``df.write_csv`` after ``safe_frame``: for every CSV file written from a frame."""
    safe_frame(df, columns).write_csv(target, include_header=include_header)


def frame_csv_bytes(df: pl.DataFrame) -> bytes:
    """A frame as safe CSV bytes (UTF-8), e.g. for a download."""
    buf = io.BytesIO()
    write_frame_csv(df, buf)
    return buf.getvalue()


# -- Excel ---------------------------------------------------------------------------------------------------

def workbook(target: Path | IO[bytes]):
    """An ``xlsxwriter.Workbook`` that never turns text into formulas, links or numbers (write cells with
    ``write_cell``)."""
    import xlsxwriter

    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
               "nan_inf_to_errors": True}
    return xlsxwriter.Workbook(str(target) if isinstance(target, Path) else target, options)


def write_cell(ws, row: int, col: int, value: Any, fmt=None) -> None:
    """One cell of a worksheet: numbers as number cells, text (made safe) as string cells, None blank."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, dt.date):
        ws.write_string(row, col, value.isoformat(), fmt)
    else:
        ws.write_string(row, col, safe_text(str(value)), fmt)


def frame_xlsx_bytes(df: pl.DataFrame, sheet: str = "redress") -> bytes:
    """A frame as a one-sheet workbook (header row bold), every cell written by ``write_cell``."""
    buf = io.BytesIO()
    wb = workbook(buf)
    try:
        ws = wb.add_worksheet(sheet)
        bold = wb.add_format({"bold": True})
        for c, name in enumerate(df.columns):
            write_cell(ws, 0, c, name, bold)
        for r, values in enumerate(df.iter_rows(), start=1):
            for c, value in enumerate(values):
                write_cell(ws, r, c, value)
    finally:
        wb.close()
    return buf.getvalue()
