"""The email provider's reports (django-anymail's tracking webhooks) about journey emails.

A hard bounce, or a provider rejecting an invalid address, marks the address undeliverable and ends
its enrolments (``contact_bounced``); a spam complaint or an unsubscribe at the provider
unsubscribes the contact (``contact_unsubscribe``); deliveries, opens and clicks are recorded for
the journey's results and the account timeline. Each report is recorded once, however often the
provider repeats it.

The report names the journey email by the ``outbound_id`` metadata the sender attaches; a report
without it (another sender, a provider that drops metadata) acts on every contact with the address.

The tracking URLs are anymail's (``/anymail/<provider>/tracking/``), behind HTTP basic auth with
``ANYMAIL["WEBHOOK_SECRET"]``: a request without it is answered 401 and changes nothing, and with no
secret configured every request is refused (anymail itself would accept them with a warning).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from anymail.utils import get_request_basic_auth
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import Contact

from ..models import EmailEvent, EmailEventKind, OutboundEmailRecord
from .services import contact_bounced, contact_unsubscribe

logger = logging.getLogger(__name__)

# The metadata key the sender attaches to each journey email (``sending.outbound_message``).
OUTBOUND_METADATA_KEY = "outbound_id"

KINDS: dict[str, str] = {
    EventType.DELIVERED: EmailEventKind.DELIVERED,
    EventType.BOUNCED: EmailEventKind.BOUNCED,
    EventType.REJECTED: EmailEventKind.REJECTED,
    EventType.COMPLAINED: EmailEventKind.COMPLAINED,
    EventType.UNSUBSCRIBED: EmailEventKind.UNSUBSCRIBED,
    EventType.OPENED: EmailEventKind.OPENED,
    EventType.CLICKED: EmailEventKind.CLICKED,
}
# A rejection for these reasons means the address cannot receive mail; other rejections
# (blocked by policy, a provider's own reasons) are recorded only.
UNDELIVERABLE_REJECTIONS = {RejectReason.INVALID, RejectReason.BOUNCED}
UNSUBSCRIBING_REJECTIONS = {RejectReason.UNSUBSCRIBED, RejectReason.SPAM}


def _dedupe_key(provider: str, kind: str, event: AnymailTrackingEvent) -> str:
    if event.event_id:
        return f"{provider}:{event.event_id}"[:200]
    parts = "|".join(
        str(part or "")
        for part in (
            kind,
            event.message_id,
            event.recipient,
            event.timestamp and event.timestamp.isoformat(),
            event.click_url,
        )
    )
    return f"{provider}:{hashlib.sha256(parts.encode()).hexdigest()}"


def _outbound_of(event: AnymailTrackingEvent) -> OutboundEmailRecord | None:
    raw = (event.metadata or {}).get(OUTBOUND_METADATA_KEY)
    try:
        outbound_id = int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None
    if outbound_id is None:
        return None
    # Archived or not: a report may come weeks after the email (a late open, a click).
    return (
        OutboundEmailRecord.objects.filter(pk=outbound_id)
        .only("id", "journey_id", "account_id", "contact_id")
        .first()
    )


def _contact_ids(outbound: OutboundEmailRecord | None, recipient: str) -> list[int]:
    if outbound is not None:
        return [outbound.contact_id]
    if not recipient:
        return []
    return list(
        Contact.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=recipient.lower())
        .values_list("pk", flat=True)
    )


@transaction.atomic
def email_event_record(*, provider: str, event: AnymailTrackingEvent) -> EmailEvent | None:
    """Record one provider report and act on it; None for kinds not tracked or a repeat."""
    kind = KINDS.get(event.event_type or "")
    if kind is None:
        return None
    outbound = _outbound_of(event)
    recipient = (event.recipient or "")[:254]
    contact_ids = _contact_ids(outbound, recipient)
    account_id = outbound.account_id if outbound else None
    if account_id is None and len(contact_ids) == 1:
        account_id = Contact.objects.filter(pk=contact_ids[0]).values_list("account_id", flat=True).first()
    detail = (
        event.click_url if kind == EmailEventKind.CLICKED else (event.description or event.mta_response or "")
    )
    try:
        with transaction.atomic():
            recorded = EmailEvent.objects.create(
                kind=kind,
                outbound=outbound,
                journey_id=outbound.journey_id if outbound else None,
                account_id=account_id,
                contact_id=contact_ids[0] if len(contact_ids) == 1 else None,
                recipient=recipient,
                occurred_at=event.timestamp or timezone.now(),
                provider=provider[:40],
                dedupe_key=_dedupe_key(provider, kind, event),
                detail=(detail or "")[:500],
            )
    except IntegrityError:
        return None  # the provider repeated a report already recorded
    reason = event.reject_reason
    if kind == EmailEventKind.BOUNCED or (
        kind == EmailEventKind.REJECTED and reason in UNDELIVERABLE_REJECTIONS
    ):
        for contact_id in contact_ids:
            contact_bounced(contact_id=contact_id)
    elif kind in (EmailEventKind.COMPLAINED, EmailEventKind.UNSUBSCRIBED) or (
        kind == EmailEventKind.REJECTED and reason in UNSUBSCRIBING_REJECTIONS
    ):
        for contact_id in contact_ids:
            contact_unsubscribe(contact_id=contact_id)
    return recorded


# --- The tracking URLs ---------------------------------------------------------------------------


def _secrets() -> list[str]:
    configured = (getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET") or []
    return [configured] if isinstance(configured, str) else list(configured)


def _unauthorized(message: str) -> HttpResponse:
    response = HttpResponse(message, status=401, content_type="text/plain; charset=utf-8")
    response["WWW-Authenticate"] = 'Basic realm="email tracking"'
    return response


def require_webhook_secret(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """401 unless the request carries one of the configured basic-auth secrets (and when none is
    configured); anymail's own check then runs as well."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        allowed = _secrets()
        if not allowed:
            return _unauthorized("Email tracking is not configured: set ANYMAIL_WEBHOOK_SECRET.")
        given = get_request_basic_auth(request)
        if given is None or not any(constant_time_compare(given, secret) for secret in allowed):
            return _unauthorized("Missing or wrong credentials for email tracking.")
        return view(request, *args, **kwargs)

    return guarded


def tracking_urlpatterns() -> list[URLPattern]:
    """anymail's tracking webhook URLs (every provider), each behind ``require_webhook_secret``."""
    from anymail import urls as anymail_urls

    return [
        URLPattern(p.pattern, require_webhook_secret(p.callback), p.default_args, p.name)
        for p in anymail_urls.urlpatterns
        if isinstance(p, URLPattern) and (p.name or "").endswith("_tracking_webhook")
    ]
