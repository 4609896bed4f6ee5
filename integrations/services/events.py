"""Recording events for delivery: one message per event, one delivery per subscribed endpoint.

Called inside the transaction that made the change (from the signal receivers), so a change and
its webhooks commit together or not at all; the sender is queued through the task outbox.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from csplatform.dispatch import enqueue

from ..models import WebhookDelivery, WebhookEndpoint, WebhookEventType, WebhookMessage

BULK_BATCH = 1000


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def message_body(*, event: str, at: dt.datetime, data: dict[str, Any]) -> str:
    """The body every attempt sends: ``{"type", "timestamp", "data"}`` as compact JSON."""
    return json.dumps(
        {"type": event, "timestamp": at.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def retry_window() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "WEBHOOK_RETRY_HOURS", 72)))


def subscribed_endpoint_ids(event: str) -> list[int]:
    return list(
        WebhookEndpoint.objects.filter(active=True, events__contains=[event])
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def webhook_events_record(
    *, event: str, payloads: Sequence[dict[str, Any]], endpoint_ids: Sequence[int] | None = None
) -> int:
    """Record ``event`` once per payload for every active endpoint subscribed to it; returns how
    many deliveries were queued. One query when nobody listens (none when the caller passes the
    ``endpoint_ids`` it has just read)."""
    if event not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event {event!r}.")
    if not payloads:
        return 0
    if endpoint_ids is None:
        endpoint_ids = subscribed_endpoint_ids(event)
    if not endpoint_ids:
        return 0
    now = timezone.now()
    messages = WebhookMessage.objects.bulk_create(
        [
            WebhookMessage(
                webhook_id=new_webhook_id(),
                event=event,
                body=message_body(event=event, at=now, data=data),
                created_at=now,
            )
            for data in payloads
        ],
        batch_size=BULK_BATCH,
    )
    until = now + retry_window()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=endpoint_id,
                message_id=message.pk,
                next_attempt_at=now,
                retry_until=until,
                created_at=now,
            )
            for message in messages
            for endpoint_id in endpoint_ids
        ],
        batch_size=BULK_BATCH,
    )
    sender_queue_once()
    return len(messages) * len(endpoint_ids)


class _SenderQueued:
    """Registered with ``on_commit`` beside the sender's queueing: while one that has not run yet is
    in the transaction's list, the transaction has queued the sender already (a savepoint rollback
    removes both together)."""

    def __init__(self) -> None:
        self.ran = False

    def __call__(self) -> None:
        self.ran = True


def sender_queue_once() -> None:
    """Queue the sender once per transaction, however many events it recorded."""
    from .. import jobs

    conn = transaction.get_connection()
    if conn.in_atomic_block and any(
        isinstance(entry[1], _SenderQueued) and not entry[1].ran for entry in conn.run_on_commit
    ):
        return
    enqueue(jobs.webhooks_deliver)
    transaction.on_commit(_SenderQueued())
