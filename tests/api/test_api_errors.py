"""Regressions found by the API fuzzing: bad input is a documented 4xx in JSON."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from engagement.models import HandoffCommitment
from tests.engagement.factories import tiered_account

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


# --- One error path: what a service raises becomes the API's error body in the exception handler --


def _commitment(client, account):
    return client.post(
        "/api/v1/commitments/", {"account": account.pk, "deal_reference": "OPP-1"}, format="json"
    )


def test_a_services_refusal_is_a_403_with_its_reason(api_client, alice, tom):
    account = tiered_account("MM1", csm=alice, ae=tom)
    api_client.force_authenticate(alice)  # the CSM, not the account's AE
    response = _commitment(api_client, account)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only the account's AE (or CS Leadership) may log a commitment on it."
    }


def test_a_services_field_errors_are_a_400_keyed_by_field(api_client, alice, tom):
    account = tiered_account("MM1", csm=alice, ae=tom)
    api_client.force_authenticate(tom)
    response = api_client.post(
        "/api/v1/commitments/",
        {"account": account.pk, "module": "catch_up", "cadence_days": 0, "deal_reference": "OPP-1"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"cadence_days"}
    assert HandoffCommitment.objects.count() == 0


def test_an_error_no_field_owns_is_a_400_under_non_field_errors(api_client, alice, tom, monkeypatch):
    def refuse(**kwargs):
        raise ValidationError("The deal is closed.")

    monkeypatch.setattr("engagement.api.views.commitment_log", refuse)
    api_client.force_authenticate(tom)
    response = _commitment(api_client, tiered_account("MM1", csm=alice, ae=tom))
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["The deal is closed."]}


def test_a_lost_race_for_a_unique_row_is_a_409_not_a_500(api_client, alice, tom, monkeypatch):
    def race(**kwargs):
        raise IntegrityError('duplicate key value violates unique constraint "uniq_commitment"')

    monkeypatch.setattr("engagement.api.views.commitment_log", race)
    api_client.force_authenticate(tom)
    response = _commitment(api_client, tiered_account("MM1", csm=alice, ae=tom))
    assert response.status_code == 409
    assert "uniq_commitment" not in response.json()["detail"]


def test_a_concurrent_account_change_is_a_409_that_says_so(integration_client):
    created = integration_client.post(
        "/api/v1/accounts/", {"crm_source": "hubspot", "external_id": "A-1", "name": "Acme"}, format="json"
    )
    url = f"/api/v1/accounts/{created.json()['id']}/"
    etag = integration_client.get(url)["ETag"]
    integration_client.patch(url, {"name": "Acme Inc"}, format="json", headers={"If-Match": etag})
    stale = integration_client.patch(url, {"name": "Acme Corp"}, format="json", headers={"If-Match": etag})
    assert stale.status_code == 409
    assert stale.json() == {
        "detail": "The account was changed by someone else at the same time; reload and retry."
    }
