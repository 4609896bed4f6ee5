"""Seeded demo accounts get an engagement history.

Receivers run inside the sender's transaction and only enqueue jobs with ids
(``csplatform.dispatch.enqueue``): the follow-up commits with the change, and the work runs in
workers. Connected in ``EngagementConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import demo_data_seeded
from csplatform.dispatch import enqueue

from . import jobs


@receiver(demo_data_seeded, dispatch_uid="engagement.demo_data_seeded")
def on_demo_data_seeded(sender: Any, *, seed: int, **kwargs: Any) -> None:
    # Connected after segmentation's receiver (apps order); the job also waits for tiers.
    enqueue(jobs.demo_data, seed=seed)
