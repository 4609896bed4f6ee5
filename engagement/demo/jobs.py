"""Celery job that gives seeded demo accounts an engagement history. The name is stored."""

from __future__ import annotations

from celery import shared_task

from segmentation.services.demo_history import demo_history_create, demo_reviews_create

from ..coverage.services import coverage_recompute
from ..retention.services import renewal_segments_forget, renewal_segments_settle
from .journeys import demo_journeys_create
from .services import demo_engagement_create, seeded_accounts_tiered


@shared_task(name="engagement.demo_data", bind=True, max_retries=30)
def demo_data(self, *, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Demo touchpoints, tasks, commitments and flags once segmentation tiered the seeded accounts;
    then the past segmentation reads with them (dated tiers, past overrides, health history, two
    reviews), the journeys' sent emails, coverage over that history; last the segments of the past
    renewal days, which all of it decides."""
    if not seeded_accounts_tiered():
        raise self.retry(countdown=5)
    demo_engagement_create(seed=seed)
    demo_history_create(seed=seed)
    demo_reviews_create(seed=seed)
    demo_journeys_create(seed=seed)
    # The tiers now date from the contracts' start: what each tier owed since, and was delivered
    # on time, is computed again (coverage owes nothing for a tier taken today).
    coverage_recompute()
    renewal_segments_forget(account_ids=None)
    renewal_segments_settle()
