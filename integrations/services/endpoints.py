"""Webhook endpoints: created, changed and removed by CS Leadership and integrations only."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from csplatform import authorization

from ..models import WebhookEndpoint, WebhookEventType
from ..targets import url_check

if TYPE_CHECKING:
    from csplatform.models import User

SECRET_BYTES = 24


def webhook_secret_generate() -> str:
    """``whsec_`` + base64 of random bytes, the Standard Webhooks form of a symmetric secret."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_events_check(events: Iterable[Any]) -> list[str]:
    """The events as a sorted list without duplicates; an unknown one is refused with the valid list."""
    events = list(events) if not isinstance(events, str) else [events]
    if not events:
        raise ValidationError({"events": ["Choose at least one event."]})
    unknown = [str(e) for e in events if e not in WebhookEventType.values]
    if unknown:
        raise ValidationError(
            {
                "events": [
                    f"Unknown event {', '.join(repr(u) for u in unknown)}; "
                    f"valid events are {', '.join(WebhookEventType.values)}."
                ]
            }
        )
    return sorted(set(events))


def _require(by: User) -> None:
    if not authorization.may_manage_webhooks(by):
        raise PermissionDenied("Only CS Leadership and integrations manage webhooks.")


@transaction.atomic
def webhook_endpoint_create(
    *, by: User, url: str, events: Iterable[str], description: str = "", active: bool = True
) -> WebhookEndpoint:
    """A new endpoint with a new secret (the caller shows it once)."""
    _require(by)
    errors: dict[str, list[str]] = {}
    checked_events: list[str] = []
    try:
        checked_events = webhook_events_check(events)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        url_check(url)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return WebhookEndpoint.objects.create(
        url=url,
        events=checked_events,
        description=description.strip(),
        active=active,
        secret=webhook_secret_generate(),
        created_by=by,
    )


@transaction.atomic
def webhook_endpoint_update(
    *, by: User, endpoint: WebhookEndpoint, changes: dict[str, Any]
) -> WebhookEndpoint:
    """Change ``url``, ``events``, ``description`` or ``active``. Activating an endpoint again
    forgets its failure streak: its next failure starts a new one."""
    _require(by)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    errors: dict[str, list[str]] = {}
    if "events" in changes:
        try:
            endpoint.events = webhook_events_check(changes["events"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "url" in changes and changes["url"] != endpoint.url:
        try:
            url_check(changes["url"])
            endpoint.url = changes["url"]
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if "description" in changes:
        endpoint.description = (changes["description"] or "").strip()
    if "active" in changes:
        active = bool(changes["active"])
        if active and not endpoint.active:
            endpoint.failing_since = None
            endpoint.deactivated_at = None
            endpoint.deactivated_reason = ""
        elif not active and endpoint.active:
            endpoint.deactivated_at = timezone.now()
            endpoint.deactivated_reason = f"Deactivated by {by.display_name}."
        endpoint.active = active
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, by: User, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its delivery log."""
    _require(by)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
