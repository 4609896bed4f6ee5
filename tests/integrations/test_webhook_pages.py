"""The webhook pages: who may open them, creating an endpoint (secret shown once), editing, the
delivery log and redelivery from the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from integrations.services import webhook_endpoint_create
from integrations.services.events import webhook_events_record

LIST = reverse("integrations:webhook-list")


@pytest.mark.parametrize(("who", "status"), [("lena", 200), ("ivan", 200), ("alice", 403), ("tom", 403)])
def test_who_may_open_the_webhooks_page(request, db, client, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.get(LIST).status_code == status


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_leadership_adds_an_endpoint_and_sees_its_secret_once(client, lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client.force_login(lena)
    response = client.post(
        LIST,
        {"url": "https://93.184.215.14/hooks", "events": ["flag.raised", "renewal.recorded"], "active": "on"},
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret in response.content.decode()
    assert endpoint.events == ["flag.raised", "renewal.recorded"] and endpoint.created_by == lena
    assert endpoint.secret not in client.get(LIST).content.decode()
    assert (
        endpoint.secret
        not in client.get(reverse("integrations:webhook-detail", args=[endpoint.pk])).content.decode()
    )


def test_a_private_url_is_refused_on_the_page_next_to_the_field(client, lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    client.force_login(lena)
    response = client.post(LIST, {"url": "http://192.168.1.10/hooks", "events": ["flag.raised"]})
    assert response.status_code == 400
    assert "internal address (192.168.1.10)" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_page_edits_and_deactivates_an_endpoint(client, lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    endpoint = webhook_endpoint_create(by=lena, url="http://127.0.0.1:9/a", events=["flag.raised"])
    client.force_login(lena)
    url = reverse("integrations:webhook-detail", args=[endpoint.pk])
    response = client.post(
        url, {"url": "http://127.0.0.1:9/b", "events": ["renewal.recorded"], "description": "ERP"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description, endpoint.active) == (
        "http://127.0.0.1:9/b",
        ["renewal.recorded"],
        "ERP",
        False,
    )
    assert "Deactivated by" in endpoint.deactivated_reason


def test_the_delivery_log_shows_attempts_and_redelivers_over_htmx(
    client, ivan, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(by=ivan, url=receiver.url, events=["flag.raised"])
    receiver.answer_next(500)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_events_record(event="flag.raised", payloads=[{"flag": {"id": 1}}])
    delivery = WebhookDelivery.objects.get()
    client.force_login(ivan)
    page = client.get(reverse("integrations:webhook-detail", args=[endpoint.pk])).content.decode()
    assert delivery.message.webhook_id in page
    assert "Answered HTTP 500." in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("integrations:webhook-redeliver", args=[endpoint.pk, delivery.pk]),
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 200
    assert f'id="delivery-{delivery.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.message.webhook_id] * 2


def test_a_csm_cannot_redeliver(client, alice, lena, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    endpoint = webhook_endpoint_create(by=lena, url="http://127.0.0.1:9/a", events=["flag.raised"])
    webhook_events_record(event="flag.raised", payloads=[{"flag": {"id": 1}}])
    delivery = WebhookDelivery.objects.get()
    client.force_login(alice)
    assert (
        client.post(reverse("integrations:webhook-redeliver", args=[endpoint.pk, delivery.pk])).status_code
        == 403
    )
    delivery.refresh_from_db()
    assert delivery.on_demand is False
