"""Files staff download: CSV and XLSX tables, PDFs rendered from a template.

One place for the three formats so every list a commune exports is safe and reads the same:
CSV in UTF-8 with a BOM and `;` separators (what French Excel opens without an import wizard),
cells that a spreadsheet would run as a formula neutralised (OWASP "CSV injection"), XLSX through
openpyxl, PDFs through WeasyPrint from an HTML template.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP, "CSV Injection"): such text cells are prefixed with an apostrophe.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# Control characters an XLSX cannot hold (openpyxl raises IllegalCharacterError): a name or a
# note pasted with one must not make the download fail. Dropped from every text cell.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet cell: numbers and dates as they are, text that a spreadsheet
    would evaluate (`=HYPERLINK(…)`, `+33…`, `@SUM…`) prefixed with `'` so it stays text;
    control characters (which an XLSX cannot hold) dropped first."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float | Decimal | datetime.date):
        return value
    text = CONTROL_CHARACTERS.sub("", str(value))
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


@dataclass
class Sheet:
    """One table: a title (the XLSX sheet's name), its header and its rows."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]] = field(default_factory=list)


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def csv_response(filename: str, sheet: Sheet) -> HttpResponse:
    """`sheet` as a CSV download (UTF-8 with BOM, `;`-separated, cells made safe)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in sheet.header])
    for row in sheet.rows:
        writer.writerow([_csv_cell(safe_cell(cell)) for cell in row])
    return _attachment(HttpResponse(buffer.getvalue(), content_type=CSV_CONTENT_TYPE), filename)


def _csv_cell(value: Any) -> Any:
    """Decimal numbers with a comma ("15,50", "-12,00"), as French spreadsheets read them."""
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    return value


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as an XLSX workbook (header row bold and frozen, cells made safe)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        # Excel refuses sheet names over 31 characters or with []:*?/\
        title = "".join(c for c in sheet.title if c not in "[]:*?/\\")[:31] or "Feuille"
        worksheet = workbook.create_sheet(title)
        worksheet.append([safe_cell(h) for h in sheet.header])
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        worksheet.freeze_panes = "A2"
        for row in sheet.rows:
            worksheet.append([safe_cell(cell) for cell in row])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def xlsx_response(filename: str, sheets: Sequence[Sheet]) -> HttpResponse:
    """The sheets as an XLSX download."""
    return _attachment(HttpResponse(xlsx_bytes(sheets), content_type=XLSX_CONTENT_TYPE), filename)


def pdf_bytes(template: str, context: dict[str, Any], request: HttpRequest | None = None) -> bytes:
    """The template rendered to HTML then to PDF by WeasyPrint (fonts from the system; no
    network: relative URLs resolve against nothing, so templates inline their CSS)."""
    from weasyprint import HTML

    html = render_to_string(template, context, request=request)
    return HTML(string=html).write_pdf()


def pdf_response(
    filename: str, template: str, context: dict[str, Any], request: HttpRequest | None = None
) -> HttpResponse:
    """The template as a PDF download."""
    data = pdf_bytes(template, context, request)
    return _attachment(HttpResponse(data, content_type=PDF_CONTENT_TYPE), filename)
