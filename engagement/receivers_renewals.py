"""Engagement follows recorded renewal outcomes (connected in EngagementConfig.ready()).

The receiver runs inside the sender's transaction and only enqueues a task with ids.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import renewal_recorded
from csplatform.dispatch import enqueue

from .tasks.renewals import renewal_recorded_playbooks


@receiver(renewal_recorded, dispatch_uid="engagement.renewal_recorded")
def on_renewal_recorded(sender: Any, *, renewal_ids: list[int], **kwargs: Any) -> None:
    if renewal_ids:
        enqueue(renewal_recorded_playbooks, renewal_ids=list(renewal_ids))
