"""Celery job that gives seeded demo accounts an engagement history. The name is stored."""

from __future__ import annotations

from celery import shared_task

from segmentation.services.demo_history import demo_history_create

from ..retention.services import renewal_segments_forget, renewal_segments_settle
from .services import demo_engagement_create, seeded_accounts_tiered


@shared_task(name="engagement.demo_data", bind=True, max_retries=30)
def demo_data(self, *, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Demo touchpoints, tasks, commitments and flags once segmentation tiered the seeded accounts;
    then the past segmentation reads with them (dated tiers, past overrides, health history); then
    the segments of the past renewal days, which that history decides."""
    if not seeded_accounts_tiered():
        raise self.retry(countdown=5)
    demo_engagement_create(seed=seed)
    demo_history_create(seed=seed)
    renewal_segments_forget(account_ids=None)
    renewal_segments_settle()
