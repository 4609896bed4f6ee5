"""Sending webhook deliveries: claim, sign, POST, record — retried with backoff, same webhook-id.

A sender claims due rows (``pending → sending``), POSTs each with Standard Webhooks headers
(``webhook-id`` is the message's, the same on every attempt; ``webhook-timestamp`` and the
signature are the attempt's), then records every outcome and attempt of the batch in one
transaction. Delivery is at least once: a sender that dies after a POST leaves its rows
``sending`` until ``deliveries_recover_stuck`` returns them to the queue, and the receiver
recognises the repeat by its ``webhook-id``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter

import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from csplatform import authorization, roles
from csplatform.dispatch import enqueue
from csplatform.errors import ConcurrentChange
from csplatform.models import User

from ..models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..queries import ClaimedDelivery, DeliveryOutcome, deliveries_claim_due, deliveries_record
from ..targets import url_problem
from .events import sender_queue_once

logger = logging.getLogger(__name__)

# Failed attempts wait 30 s, 1 min, 2 min, ... doubling up to 4 hours, until the retry window
# (WEBHOOK_RETRY_HOURS, 72 by default) has passed: about 25 attempts over three days.
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=4)
# Rows claimed per round trip. At the 10 s timeout a batch of a dead endpoint takes at most
# BATCH_SIZE × 10 s, well inside STUCK_AFTER, so a live sender's rows are never taken back.
BATCH_SIZE = 50
STUCK_AFTER = dt.timedelta(minutes=15)
USER_AGENT = "csplatform-webhooks/1.0"
RESPONSE_EXCERPT = 300


class DeliveryInProgress(ConcurrentChange):
    public_message = "This delivery is being sent right now; look again in a moment."


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


def _timeout() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10.0))


def _deactivate_after() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "WEBHOOK_DEACTIVATE_AFTER_DAYS", 3)))


def signed_headers(*, signer: Webhook, webhook_id: str, body: str, at: dt.datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    at = at.astimezone(dt.UTC)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        # standardwebhooks reads the time as UTC wall time: give it a naive UTC datetime.
        "webhook-signature": signer.sign(webhook_id, at.replace(tzinfo=None), body),
    }


class _Sender:
    """One sender run: an HTTP session (kept-alive connections), signers and target checks cached."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.signers: dict[str, Webhook] = {}
        self.target_problems: dict[str, str | None] = {}

    def close(self) -> None:
        self.session.close()

    def attempt(self, row: ClaimedDelivery) -> tuple[DeliveryOutcome, WebhookAttempt]:
        started = time.monotonic()
        now = timezone.now()
        code: int | None = None
        excerpt = ""
        if row.url not in self.target_problems:
            self.target_problems[row.url] = url_problem(row.url)
        error = self.target_problems[row.url] or ""
        if not error:
            signer = self.signers.get(row.secret)
            if signer is None:
                signer = self.signers[row.secret] = Webhook(row.secret)
            headers = signed_headers(signer=signer, webhook_id=row.webhook_id, body=row.body, at=now)
            try:
                response = self.session.post(
                    row.url,
                    data=row.body.encode(),
                    headers=headers,
                    timeout=_timeout(),
                    allow_redirects=False,
                )
                code = response.status_code
                excerpt = response.text[:RESPONSE_EXCERPT]
                if not 200 <= code < 300:
                    error = f"Answered HTTP {code}."
            except requests.Timeout:
                error = f"No answer within {_timeout():g} s."
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
        succeeded = not error
        finished = timezone.now()
        if succeeded:
            outcome = DeliveryOutcome(row.id, DeliveryStatus.SUCCEEDED, code, "", None, finished)
        else:
            next_at = finished + backoff(row.attempts + 1)
            if row.on_demand or next_at > row.retry_until:
                outcome = DeliveryOutcome(row.id, DeliveryStatus.FAILED, code, error[:500], None, None)
            else:
                outcome = DeliveryOutcome(row.id, DeliveryStatus.PENDING, code, error[:500], next_at, None)
        log = WebhookAttempt(
            delivery_id=row.id,
            attempted_at=now,
            status_code=code,
            succeeded=succeeded,
            error=error[:500],
            response_excerpt=excerpt,
            duration_ms=int((time.monotonic() - started) * 1000),
            on_demand=row.on_demand,
        )
        return outcome, log


def webhooks_deliver(
    *, time_budget: float | None = None, batch_size: int = BATCH_SIZE, endpoint_id: int | None = None
) -> Counter:
    """Send due deliveries until none is left (or ``time_budget`` seconds passed; ``more`` is then
    set in the counts). Several senders may run at once: each sends only the rows it claimed."""
    counts: Counter = Counter()
    deadline = time.monotonic() + time_budget if time_budget else None
    sender = _Sender()
    try:
        while True:
            with transaction.atomic():
                rows = deliveries_claim_due(now=timezone.now(), limit=batch_size, endpoint_id=endpoint_id)
            if not rows:
                break
            results = [sender.attempt(row) for row in rows]
            _record_batch(rows, results, counts=counts)
            if deadline is not None and time.monotonic() > deadline:
                counts["more"] = 1
                break
    finally:
        sender.close()
    return counts


@transaction.atomic
def _record_batch(
    rows: list[ClaimedDelivery], results: list[tuple[DeliveryOutcome, WebhookAttempt]], *, counts: Counter
) -> None:
    outcomes = [outcome for outcome, _ in results]
    deliveries_record(outcomes=outcomes)
    WebhookAttempt.objects.bulk_create([log for _, log in results])
    succeeded_endpoints: set[int] = set()
    failed_endpoints: set[int] = set()
    for row, outcome in zip(rows, outcomes, strict=True):
        counts[outcome.status] += 1
        if outcome.status == DeliveryStatus.SUCCEEDED:
            succeeded_endpoints.add(row.endpoint_id)
        else:
            failed_endpoints.add(row.endpoint_id)
    now = timezone.now()
    if succeeded_endpoints:
        WebhookEndpoint.objects.filter(pk__in=succeeded_endpoints).update(
            last_success_at=now, failing_since=None
        )
    failing = failed_endpoints - succeeded_endpoints
    if failing:
        WebhookEndpoint.objects.filter(pk__in=failing, failing_since__isnull=True).update(failing_since=now)
        counts["deactivated"] += endpoints_deactivate_failing(endpoint_ids=failing, now=now)


def endpoints_deactivate_failing(*, endpoint_ids: set[int], now: dt.datetime) -> int:
    """Deactivate those of ``endpoint_ids`` that have failed without a success for the deactivation
    period; their waiting deliveries fail and their owners are told. Returns how many."""
    cutoff = now - _deactivate_after()
    days = _deactivate_after().days
    to_deactivate = list(
        WebhookEndpoint.objects.select_for_update()
        .filter(pk__in=endpoint_ids, active=True, failing_since__lte=cutoff)
        .values_list("pk", flat=True)
    )
    if not to_deactivate:
        return 0
    WebhookEndpoint.objects.filter(pk__in=to_deactivate).update(
        active=False,
        deactivated_at=now,
        deactivated_reason=f"Every delivery failed for {days} days; deactivated automatically.",
    )
    WebhookDelivery.objects.filter(endpoint_id__in=to_deactivate, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED,
        next_attempt_at=None,
        last_error="Not sent: the endpoint was deactivated after failing for days.",
    )
    from .. import jobs

    for endpoint_id in to_deactivate:
        enqueue(jobs.webhook_owners_notify, endpoint_id=endpoint_id)
    logger.warning("deactivated failing webhook endpoints %s", to_deactivate)
    return len(to_deactivate)


def deliveries_recover_stuck(*, now: dt.datetime | None = None) -> int:
    """Return rows a dead sender left ``sending`` to the queue (sent again: at least once)."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - STUCK_AFTER
    ).update(status=DeliveryStatus.PENDING, next_attempt_at=now, claimed_at=None)


def deliveries_due_exist(*, now: dt.datetime | None = None) -> bool:
    return WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now or timezone.now(), endpoint__active=True
    ).exists()


@transaction.atomic
def webhook_delivery_redeliver(*, by: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with its webhook-id, whatever its state: one attempt, logged as
    asked for; a failure is not retried automatically."""
    if not authorization.may_manage_webhooks(by):
        raise PermissionDenied("Only CS Leadership and integrations manage webhooks.")
    locked = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not locked.endpoint.active:
        raise ValidationError({"endpoint": ["The endpoint is inactive; activate it before redelivering."]})
    if locked.status == DeliveryStatus.SENDING:
        raise DeliveryInProgress(DeliveryInProgress.public_message)
    now = timezone.now()
    locked.status = DeliveryStatus.PENDING
    locked.next_attempt_at = now
    locked.retry_until = now
    locked.on_demand = True
    locked.save(update_fields=["status", "next_attempt_at", "retry_until", "on_demand"])
    sender_queue_once()
    return locked


def webhook_owners_notify(*, endpoint_id: int) -> int:
    """Tell an automatically deactivated endpoint's owner (its creator; CS Leadership when the
    creator is gone) by email. Returns how many people were told; safe to run twice (it only
    speaks of endpoints still deactivated)."""
    endpoint = (
        WebhookEndpoint.objects.filter(pk=endpoint_id, active=False).select_related("created_by").first()
    )
    if endpoint is None or endpoint.deactivated_at is None:
        return 0
    creator = endpoint.created_by
    if (
        creator is not None
        and creator.is_active
        and creator.email
        and authorization.may_manage_webhooks(creator)
    ):
        recipients = [creator.email]
    else:
        leaders = Group.objects.filter(name=roles.CS_LEADERSHIP).first()
        recipients = sorted(
            {u.email for u in User.objects.filter(groups=leaders, is_active=True).exclude(email="")}
            if leaders
            else set()
        )
    if not recipients:
        return 0
    link = settings.SITE_URL + reverse("integrations:webhook-detail", args=[endpoint.pk])
    send_mail(
        subject=f"Webhook endpoint deactivated: {endpoint.url}"[:200],
        message=(
            f"The webhook endpoint {endpoint.url} ({endpoint.description or 'no description'}) was "
            f"deactivated on {endpoint.deactivated_at:%Y-%m-%d %H:%M} UTC.\n\n"
            f"{endpoint.deactivated_reason}\n\n"
            f"Its delivery log shows each attempt and the answer it got. Once the receiver works "
            f"again, activate the endpoint and redeliver what it missed:\n{link}\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    return len(recipients)
