"""Hand-written SQL of the webhook outbox: the sender's claim and its record of a batch's results.

SQL because each is one statement per batch: the claim locks due rows with ``SKIP LOCKED`` (two
senders never take the same row) and returns what the POST needs from three tables; the record
writes every row's own outcome from arrays (``bulk_update`` would build a CASE per row and column).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import connection
from psycopg import sql

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookMessage


def _table(model: type) -> sql.Identifier:
    return sql.Identifier(model._meta.db_table)  # type: ignore[attr-defined]


class ClaimedDelivery(NamedTuple):
    id: int
    endpoint_id: int
    url: str
    secret: str
    webhook_id: str
    body: str
    attempts: int
    retry_until: dt.datetime
    on_demand: bool


_CLAIM = sql.SQL("""
    UPDATE {deliveries} AS d
    SET status = %(sending)s, claimed_at = %(now)s
    FROM (
        SELECT due.id FROM {deliveries} AS due
        JOIN {endpoints} AS active_endpoint ON active_endpoint.id = due.endpoint_id AND active_endpoint.active
        WHERE due.status = %(pending)s AND due.next_attempt_at <= %(now)s {only_endpoint}
        ORDER BY due.next_attempt_at, due.id
        LIMIT %(limit)s
        FOR UPDATE OF due SKIP LOCKED
    ) AS claimed, {endpoints} AS e, {messages} AS m
    WHERE d.id = claimed.id AND e.id = d.endpoint_id AND m.id = d.message_id
    RETURNING d.id, d.endpoint_id, e.url, e.secret, m.webhook_id, m.body,
              d.attempts, d.retry_until, d.on_demand
""")


def deliveries_claim_due(
    *, now: dt.datetime, limit: int, endpoint_id: int | None = None
) -> list[ClaimedDelivery]:
    """Move up to ``limit`` due deliveries of active endpoints from pending to sending; return the
    rows this call won, oldest due first.

    Mirrors ``WebhookDelivery.objects.filter(status=PENDING, next_attempt_at__lte=now,
    endpoint__active=True)[:limit]`` updated to ``status=SENDING, claimed_at=now`` under
    ``select_for_update(skip_locked=True)``.
    """
    only_endpoint = sql.SQL("AND due.endpoint_id = %(endpoint_id)s") if endpoint_id else sql.SQL("")
    query = _CLAIM.format(
        deliveries=_table(WebhookDelivery),
        endpoints=_table(WebhookEndpoint),
        messages=_table(WebhookMessage),
        only_endpoint=only_endpoint,
    )
    params: dict[str, Any] = {
        "sending": DeliveryStatus.SENDING.value,
        "pending": DeliveryStatus.PENDING.value,
        "now": now,
        "limit": limit,
        "endpoint_id": endpoint_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(None), params)
        rows = [ClaimedDelivery(*row) for row in cursor.fetchall()]
    rows.sort(key=lambda row: row.id)
    return rows


class DeliveryOutcome(NamedTuple):
    id: int
    status: str
    status_code: int | None
    error: str
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


_RECORD = sql.SQL("""
    UPDATE {deliveries} AS d
    SET status = v.status, attempts = d.attempts + 1, last_status_code = v.status_code,
        last_error = v.error, next_attempt_at = v.next_attempt_at,
        delivered_at = COALESCE(v.delivered_at, d.delivered_at), claimed_at = NULL, on_demand = false
    FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(codes)s::integer[], %(errors)s::text[],
                %(next_ats)s::timestamptz[], %(delivered_ats)s::timestamptz[])
         AS v(id, status, status_code, error, next_attempt_at, delivered_at)
    WHERE d.id = v.id AND d.status = %(sending)s
""")


def deliveries_record(*, outcomes: Sequence[DeliveryOutcome]) -> None:
    """Write each claimed delivery's outcome (one more attempt) in one statement; rows no longer
    ``sending`` (recovered meanwhile) are left alone.

    Mirrors, per outcome, ``WebhookDelivery.objects.filter(pk=id, status=SENDING).update(
    status=..., attempts=F("attempts") + 1, last_status_code=..., last_error=..., next_attempt_at=...,
    delivered_at=Coalesce(..., "delivered_at"), claimed_at=None, on_demand=False)``.
    """
    if not outcomes:
        return
    params: dict[str, Any] = {
        "ids": [o.id for o in outcomes],
        "statuses": [o.status for o in outcomes],
        "codes": [o.status_code for o in outcomes],
        "errors": [o.error for o in outcomes],
        "next_ats": [o.next_attempt_at for o in outcomes],
        "delivered_ats": [o.delivered_at for o in outcomes],
        "sending": DeliveryStatus.SENDING.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RECORD.format(deliveries=_table(WebhookDelivery)).as_string(None), params)
