"""Regressions found by the API fuzzing: bad input is a documented 4xx in JSON."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_malformed_cursor_is_a_400_that_names_the_parameter(integration_client):
    response = integration_client.get("/api/v1/accounts/", {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json() == {"cursor": ["Invalid cursor: use the `next` or `previous` link of a page."]}


def test_an_api_url_that_matches_no_route_answers_json_404(integration_client):
    response = integration_client.get("/api/v1/accounts/null,null/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_a_page_that_does_not_exist_is_still_an_html_404(client, alice):
    client.force_login(alice)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_the_schema_documents_error_responses(client):
    schema = client.get("/api/schema/?format=json").json()
    detail = schema["paths"]["/api/v1/accounts/{id}/"]
    assert {"401", "403", "404", "429"} <= set(detail["get"]["responses"])
    assert {"400", "409", "413"} <= set(detail["patch"]["responses"])
    assert "Retry-After" in detail["get"]["responses"]["429"]["headers"]
