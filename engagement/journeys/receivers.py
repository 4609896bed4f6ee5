"""Journey exits driven by other apps' signals (connected in EngagementConfig.ready()).

Like every receiver here, the journey exit only adds a row to the task outbox inside the sender's
transaction. The email provider's reports (anymail's tracking signal, sent from its webhook view)
are recorded and acted on at once: they are the request's whole work.
"""

from __future__ import annotations

from typing import Any

from anymail.signals import tracking as anymail_tracking
from django.dispatch import receiver

from accounts.signals import contacts_changed
from csplatform.dispatch import enqueue
from playbooks.signals import journey_timing_changed
from segmentation.signals import tier_changed

from . import jobs
from .tracking import email_event_record


@receiver(tier_changed, dispatch_uid="engagement.journeys.tier_changed")
def stop_journeys_when_tier_left(sender: Any, *, account_id: int, to_code: str, **kwargs: Any) -> None:
    """An account that left a journey's tier (say, up to high touch) gets no more of its emails."""
    enqueue(jobs.journeys_stop_for_tier_change, account_id=account_id, to_code=to_code)


@receiver(anymail_tracking, dispatch_uid="engagement.journeys.email_tracking")
def on_email_tracking(sender: Any, *, event: Any, esp_name: str, **kwargs: Any) -> None:
    """The email provider reported a delivery, bounce, complaint, unsubscribe, open or click."""
    email_event_record(provider=esp_name, event=event)


@receiver(contacts_changed, dispatch_uid="engagement.journeys.contacts_changed")
def enrol_late_contacts(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    """Contacts synced or added after their account entered a journey's tier join it too."""
    enqueue(jobs.journeys_enrol_late_contacts, account_ids=list(account_ids))


@receiver(journey_timing_changed, dispatch_uid="engagement.journeys.timing_changed")
def replan_waiting_contacts(sender: Any, *, journey_id: int, **kwargs: Any) -> None:
    enqueue(jobs.journey_replan, journey_id=journey_id)
