"""CSV export of the account list: same visibility and filters as the page, formula-safe cells."""

import csv
import io

import pytest

from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _rows(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_a_csm_exports_only_their_accounts_with_formula_cells_quoted(client, alice, bob):
    AccountFactory(name='=HYPERLINK("http://evil.example","x")', csm=alice)
    AccountFactory(name="Bob's account", csm=bob)
    client.force_login(alice)

    response = client.get("/accounts/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, *rows = _rows(response)
    assert header[:3] == ["External id", "CRM", "Name"]
    assert [row[2] for row in rows] == ['\'=HYPERLINK("http://evil.example","x")']


def test_the_export_applies_the_list_filters(client, lena):
    AccountFactory(name="Renewing Co", lifecycle_stage="renewing")
    AccountFactory(name="Mature Co", lifecycle_stage="mature")
    client.force_login(lena)

    rows = _rows(client.get("/accounts/export.csv?lifecycle=renewing"))[1:]

    assert [row[2] for row in rows] == ["Renewing Co"]


def test_a_malformed_filter_is_refused_rather_than_exporting_everything(client, lena):
    AccountFactory()
    client.force_login(lena)

    response = client.get("/accounts/export.csv?lifecycle=not-a-stage")

    assert response.status_code == 400
    assert b"lifecycle" in response.content
