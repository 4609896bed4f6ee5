"""Reads for the webhook pages and API: endpoints, their deliveries with the message, attempts."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("created_by").order_by("-id")


def endpoint_deliveries(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).select_related("message")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-id")


def delivery_attempts(*, delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """The attempts of the deliveries shown on a page, newest first, in one query."""
    attempts: dict[int, list[WebhookAttempt]] = {pk: [] for pk in delivery_ids}
    for attempt in WebhookAttempt.objects.filter(delivery_id__in=delivery_ids).order_by(
        "-attempted_at", "-id"
    ):
        attempts[attempt.delivery_id].append(attempt)
    return attempts
