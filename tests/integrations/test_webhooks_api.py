"""Webhook endpoints through the API: who may manage them, the secret shown once, bad input."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from integrations.models import WebhookEndpoint, WebhookEventType

LIST = "api:webhooks-list"


def create(client, **body):
    payload = {"url": "https://crm.example.com/hooks", "events": ["account.tier_changed"], **body}
    return client.post(reverse(LIST), payload, format="json")


def test_integration_creates_an_endpoint_and_sees_the_secret_once(token_client, ivan, receiver):
    client = token_client(ivan)
    response = create(client, url=receiver.url, description="Salesforce")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 24
    assert body["events"] == ["account.tier_changed"]
    assert body["active"] is True
    assert body["created_by"] == "ivan"
    detail = client.get(reverse("api:webhooks-detail", args=[body["id"]])).json()
    assert "secret" not in detail
    assert all("secret" not in row for row in client.get(reverse(LIST)).json()["results"])
    assert WebhookEndpoint.objects.get().secret == body["secret"]


@pytest.mark.parametrize(("who", "status"), [("lena", 201), ("ivan", 201), ("alice", 403), ("tom", 403)])
def test_only_leadership_and_integrations_manage_webhooks(request, token_client, who, status):
    client = token_client(request.getfixturevalue(who))
    assert create(client).status_code == status
    assert client.get(reverse(LIST)).status_code == (200 if status == 201 else 403)


def test_anonymous_gets_401_and_a_read_only_token_may_only_read(api_client, token_client, ivan):
    assert api_client.get(reverse(LIST)).status_code == 401
    reader = token_client(ivan, read_only=True)
    assert reader.get(reverse(LIST)).status_code == 200
    assert create(reader).status_code == 403
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://crm.example.com/hooks", "Only http and https"),
        ("https://user:pw@crm.example.com/hooks", "credentials"),
        ("not a url", "Only http and https"),
        ("http://127.0.0.1:8000/hooks", "internal address (127.0.0.1)"),
        ("http://10.1.2.3/hooks", "internal address (10.1.2.3)"),
        ("http://169.254.169.254/latest/meta-data", "internal address (169.254.169.254)"),
        ("http://[::1]/hooks", "internal address (::1)"),
        ("http://localhost/hooks", "internal address"),
    ],
)
def test_bad_or_private_urls_are_refused_naming_the_field(token_client, ivan, settings, url, says):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = create(token_client(ivan), url=url)
    assert response.status_code == 400
    assert says in " ".join(response.json()["url"])
    assert not WebhookEndpoint.objects.exists()


def test_private_targets_are_accepted_when_the_setting_allows_them(token_client, ivan, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert create(token_client(ivan), url="http://127.0.0.1:9/hooks").status_code == 201


def test_an_unknown_event_is_refused_with_the_valid_ones(token_client, ivan):
    response = create(token_client(ivan), events=["account.tier_changed", "account.deleted"])
    assert response.status_code == 400
    message = response.json()["events"][0]
    assert "'account.deleted'" in message
    assert all(event in message for event in WebhookEventType.values)
    assert not WebhookEndpoint.objects.exists()


def test_patch_changes_events_and_deactivates_delete_removes(token_client, lena):
    client = token_client(lena)
    endpoint_id = create(client).json()["id"]
    url = reverse("api:webhooks-detail", args=[endpoint_id])
    response = client.patch(
        url, {"events": ["flag.raised", "renewal.recorded"], "active": False}, format="json"
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["flag.raised", "renewal.recorded"]
    assert endpoint.active is False and endpoint.deactivated_at is not None
    assert client.patch(url, {"events": ["nope"]}, format="json").status_code == 400
    assert client.put(url, {}, format="json").status_code == 405
    assert client.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.exists()
