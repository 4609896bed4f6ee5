"""Deliveries to a real HTTP receiver on localhost: Standard Webhooks signatures checked with the
specification's own algorithm, retries with backoff and the same webhook-id, recovery,
deactivation after three days of failures, redelivery, and the private-address guard."""

from __future__ import annotations

import datetime as dt
import json

import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from integrations import jobs
from integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookMessage,
)
from integrations.services import webhook_endpoint_create


def endpoint_for(receiver, by, events=("account.tier_changed",)):
    return webhook_endpoint_create(by=by, url=receiver.url, events=list(events))


def raise_acv(client, account, on_commit, acv="90000.00"):
    """Change the ACV through the API: the tier is re-evaluated (eagerly) and ENT applied."""
    with on_commit():
        response = client.patch(
            reverse("api:accounts-detail", args=[account.pk]), {"acv": acv}, format="json"
        )
    assert response.status_code == 200, response.content


def verified(endpoint, request):
    """The payload, verified as a receiver following the specification does (raises if not)."""
    return Webhook(endpoint.secret).verify(request.body, request.headers)


def test_a_tier_change_is_delivered_signed_per_the_specification(
    receiver, tiered_account, token_client, ivan, on_commit
):
    endpoint = endpoint_for(receiver, ivan)
    raise_acv(token_client(ivan), tiered_account, on_commit)

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    payload = verified(endpoint, request)
    assert payload["type"] == "account.tier_changed"
    assert dt.datetime.fromisoformat(payload["timestamp"]).tzinfo is not None
    assert payload["data"]["account"] == {
        "id": tiered_account.pk,
        "crm_source": "salesforce",
        "external_id": "0015g00000XyZ12AAB",
        "name": tiered_account.name,
    }
    assert (payload["data"]["from_tier"], payload["data"]["to_tier"]) == ("MM1", "ENT")
    assert payload["data"]["source"] == "event"
    assert payload["data"]["explanation"] == "ACV 90,000 ≥ 70,000 → Enterprise."
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.message.webhook_id == request.headers["webhook-id"]


def test_a_signature_made_with_another_secret_does_not_verify(
    receiver, tiered_account, token_client, ivan, on_commit
):
    endpoint_for(receiver, ivan)
    raise_acv(token_client(ivan), tiered_account, on_commit)
    other = Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    try:
        other.verify(receiver.requests[0].body, receiver.requests[0].headers)
    except Exception as exc:  # WebhookVerificationError
        assert "signature" in str(exc).lower()
    else:
        raise AssertionError("a wrong secret verified")


def test_a_failing_receiver_is_retried_with_backoff_and_the_same_webhook_id_until_it_recovers(
    receiver, tiered_account, token_client, ivan, on_commit
):
    endpoint = endpoint_for(receiver, ivan)
    receiver.answer_next(500, 503)
    start = timezone.now()
    with time_machine.travel(start, tick=True) as traveller:
        raise_acv(token_client(ivan), tiered_account, on_commit)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        first_wait = delivery.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=25) < first_wait <= dt.timedelta(seconds=30)
        endpoint.refresh_from_db()
        assert endpoint.failing_since is not None

        # Not due yet: the every-minute tick sends nothing.
        with on_commit():
            jobs.webhooks_tick.delay()
        assert len(receiver.requests) == 1

        traveller.shift(dt.timedelta(seconds=61))
        with on_commit():
            jobs.webhooks_tick.delay()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 2, 503)
        second_wait = delivery.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=55) < second_wait <= dt.timedelta(seconds=60)  # doubled

        traveller.shift(dt.timedelta(seconds=121))
        with on_commit():
            jobs.webhooks_tick.delay()
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 3, 200)
        payloads = [verified(endpoint, request) for request in receiver.requests]

    assert len({request.headers["webhook-id"] for request in receiver.requests}) == 1
    assert len({request.body for request in receiver.requests}) == 1
    assert len({request.headers["webhook-timestamp"] for request in receiver.requests}) == 3
    assert all(p["type"] == "account.tier_changed" for p in payloads)
    log = list(WebhookAttempt.objects.filter(delivery=delivery).order_by("attempted_at"))
    assert [(a.status_code, a.succeeded) for a in log] == [(500, False), (503, False), (200, True)]
    assert log[0].error == "Answered HTTP 500." and log[0].response_excerpt == "receiver is down"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at is not None


def test_deliveries_listed_through_the_api_and_redelivered_on_demand(
    receiver, tiered_account, token_client, ivan, on_commit
):
    endpoint = endpoint_for(receiver, ivan)
    client = token_client(ivan)
    raise_acv(client, tiered_account, on_commit)
    rows = client.get(reverse("api:webhooks-deliveries", args=[endpoint.pk])).json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert row["webhook_id"] == receiver.requests[0].headers["webhook-id"]
    assert (
        row["event"],
        row["status"],
        row["attempts"],
        row["last_status_code"],
        row["next_attempt_at"],
    ) == (
        "account.tier_changed",
        "succeeded",
        1,
        200,
        None,
    )
    with on_commit():
        response = client.post(reverse("api:webhooks-redeliver", args=[endpoint.pk, row["id"]]))
    assert response.status_code == 202
    assert len(receiver.requests) == 2
    assert receiver.requests[1].headers["webhook-id"] == row["webhook_id"]
    verified(endpoint, receiver.requests[1])
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)
    assert [a.on_demand for a in delivery.attempt_log.order_by("id")] == [False, True]
    failed = client.get(reverse("api:webhooks-deliveries", args=[endpoint.pk]) + "?status=failed").json()
    assert failed["results"] == []
    assert (
        client.get(reverse("api:webhooks-deliveries", args=[endpoint.pk]) + "?status=bogus").status_code
        == 400
    )


def test_a_failed_redelivery_is_not_retried_automatically(
    receiver, tiered_account, token_client, ivan, on_commit
):
    endpoint = endpoint_for(receiver, ivan)
    client = token_client(ivan)
    raise_acv(client, tiered_account, on_commit)
    delivery = WebhookDelivery.objects.get()
    receiver.answer_next(500)
    with on_commit():
        client.post(reverse("api:webhooks-redeliver", args=[endpoint.pk, delivery.pk]))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)


def test_an_endpoint_failing_for_three_days_is_deactivated_and_its_owner_told(
    receiver, tiered_account, token_client, ivan, lena, on_commit
):
    endpoint = endpoint_for(receiver, lena, events=["account.tier_changed", "renewal.recorded"])
    receiver.default_status = 503
    start = timezone.now()
    with time_machine.travel(start, tick=True) as traveller:
        raise_acv(token_client(ivan), tiered_account, on_commit)
        traveller.shift(dt.timedelta(days=2, hours=23))
        with on_commit():
            jobs.webhooks_tick.delay()
        endpoint.refresh_from_db()
        assert endpoint.active, "still inside the three days"
        attempts_so_far = len(receiver.requests)
        assert attempts_so_far == 2
        traveller.shift(dt.timedelta(hours=2))
        with on_commit():
            jobs.webhooks_tick.delay()
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert "failed for 3 days" in endpoint.deactivated_reason
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [lena.email]
    assert endpoint.url in mail.outbox[0].subject
    assert f"/integrations/webhooks/{endpoint.pk}/" in mail.outbox[0].body
    # An inactive endpoint gets nothing new.
    raise_acv(token_client(ivan), tiered_account, on_commit, acv="10000.00")
    assert len(receiver.requests) == attempts_so_far + 1
    assert WebhookMessage.objects.count() == 1


def test_a_target_that_became_private_is_refused_before_sending(
    receiver, tiered_account, token_client, ivan, on_commit, settings
):
    endpoint_for(receiver, ivan)
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    raise_acv(token_client(ivan), tiered_account, on_commit)
    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get()
    assert "internal address (127.0.0.1)" in attempt.error
    assert attempt.status_code is None
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING


def test_nothing_is_queued_when_no_endpoint_listens(receiver, tiered_account, token_client, ivan, on_commit):
    endpoint_for(receiver, ivan, events=["flag.raised"])
    raise_acv(token_client(ivan), tiered_account, on_commit)
    assert not WebhookMessage.objects.exists()
    assert receiver.requests == []


def test_a_body_is_compact_json_with_type_timestamp_and_data(
    receiver, tiered_account, token_client, ivan, on_commit
):
    endpoint_for(receiver, ivan)
    raise_acv(token_client(ivan), tiered_account, on_commit)
    body = receiver.requests[0].body.decode()
    assert list(json.loads(body)) == ["type", "timestamp", "data"]
    assert WebhookMessage.objects.get().body == body
