"""Each event the API lists, recorded for delivery in the transaction of the change.

The lower apps send their signals inside the transaction that made the change; these receivers
write the webhook outbox rows (message and deliveries) in that same transaction, so a change and
its webhooks commit together or not at all, and queue the sender through the task outbox. When
no endpoint listens for an event, a receiver costs one query. Connected in ``ready()``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import renewal_recorded
from engagement.signals import commitment_decided, commitment_logged, flags_raised, survey_responded
from segmentation.signals import (
    health_band_changed,
    override_decided,
    override_requested,
    tier_changed,
    tier_changes_applied,
)

from . import payloads
from .models import WebhookEventType as E
from .services.events import subscribed_endpoint_ids, webhook_events_record


def _record(event: str, build: Any, *args: Any, **kwargs: Any) -> None:
    # Build the payloads only when someone listens: most installations have few endpoints.
    endpoint_ids = subscribed_endpoint_ids(event)
    if endpoint_ids:
        webhook_events_record(event=event, payloads=build(*args, **kwargs), endpoint_ids=endpoint_ids)


@receiver(tier_changed, dispatch_uid="integrations.tier_changed")
def on_tier_changed(sender: Any, *, change_id: int, **kwargs: Any) -> None:
    _record(E.ACCOUNT_TIER_CHANGED, payloads.tier_changes, [change_id])


@receiver(tier_changes_applied, dispatch_uid="integrations.tier_changes_applied")
def on_tier_changes_applied(sender: Any, *, change_ids: list[int], **kwargs: Any) -> None:
    _record(E.ACCOUNT_TIER_CHANGED, payloads.tier_changes, change_ids)


@receiver(health_band_changed, dispatch_uid="integrations.health_band_changed")
def on_health_band_changed(
    sender: Any, *, account_ids: list[int], from_bands: list[str], to_bands: list[str], **kwargs: Any
) -> None:
    _record(E.ACCOUNT_HEALTH_BAND_CHANGED, payloads.health_band_changes, account_ids, from_bands, to_bands)


@receiver(override_requested, dispatch_uid="integrations.override_requested")
def on_override_requested(sender: Any, *, override_id: int, **kwargs: Any) -> None:
    _record(E.OVERRIDE_REQUESTED, payloads.override, override_id)


@receiver(override_decided, dispatch_uid="integrations.override_decided")
def on_override_decided(sender: Any, *, override_id: int, decision: str, **kwargs: Any) -> None:
    _record(E.OVERRIDE_DECIDED, payloads.override, override_id, decision=decision)


@receiver(commitment_logged, dispatch_uid="integrations.commitment_logged")
def on_commitment_logged(sender: Any, *, commitment_id: int, **kwargs: Any) -> None:
    _record(E.COMMITMENT_LOGGED, payloads.commitment, commitment_id)


@receiver(commitment_decided, dispatch_uid="integrations.commitment_decided")
def on_commitment_decided(sender: Any, *, commitment_id: int, decision: str, **kwargs: Any) -> None:
    _record(E.COMMITMENT_DECIDED, payloads.commitment, commitment_id, decision=decision)


@receiver(flags_raised, dispatch_uid="integrations.flags_raised")
def on_flags_raised(sender: Any, *, flag_ids: list[int], **kwargs: Any) -> None:
    _record(E.FLAG_RAISED, payloads.flags, flag_ids)


@receiver(renewal_recorded, dispatch_uid="integrations.renewal_recorded")
def on_renewal_recorded(sender: Any, *, renewal_ids: list[int], **kwargs: Any) -> None:
    _record(E.RENEWAL_RECORDED, payloads.renewals, renewal_ids)


@receiver(survey_responded, dispatch_uid="integrations.survey_responded")
def on_survey_responded(sender: Any, *, response_id: int, replaced: bool = False, **kwargs: Any) -> None:
    _record(E.SURVEY_RESPONDED, payloads.survey_response, response_id, replaced=replaced)
