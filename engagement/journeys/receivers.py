"""Journey exits driven by other apps' signals (connected in EngagementConfig.ready()).

Like every receiver here, it only adds a row to the task outbox inside the sender's transaction.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import contacts_changed
from csplatform.dispatch import enqueue
from playbooks.signals import journey_timing_changed
from segmentation.signals import tier_changed

from . import jobs


@receiver(tier_changed, dispatch_uid="engagement.journeys.tier_changed")
def stop_journeys_when_tier_left(sender: Any, *, account_id: int, to_code: str, **kwargs: Any) -> None:
    """An account that left a journey's tier (say, up to high touch) gets no more of its emails."""
    enqueue(jobs.journeys_stop_for_tier_change, account_id=account_id, to_code=to_code)


@receiver(contacts_changed, dispatch_uid="engagement.journeys.contacts_changed")
def enrol_late_contacts(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    """Contacts synced or added after their account entered a journey's tier join it too."""
    enqueue(jobs.journeys_enrol_late_contacts, account_ids=list(account_ids))


@receiver(journey_timing_changed, dispatch_uid="engagement.journeys.timing_changed")
def replan_waiting_contacts(sender: Any, *, journey_id: int, **kwargs: Any) -> None:
    enqueue(jobs.journey_replan, journey_id=journey_id)
