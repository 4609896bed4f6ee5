"""Thin Celery jobs: take ids, call a service, safe to run twice. The task names are stored (beat
schedules, the task outbox): they never change."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from celery import shared_task

from csplatform.scheduling import claim_slot

from .models import ReviewTrigger


@shared_task(name="segmentation.run_tier_review", acks_late=True)
def run_tier_review(review_id: int) -> None:
    """Run or resume one review; a second delivery finds it claimed (or done) and returns."""
    from .services.reviews import tier_review_run

    tier_review_run(review_id=review_id)


@shared_task(name="segmentation.reevaluate_accounts")
def reevaluate_accounts(account_ids: list[int]) -> None:
    """Event-driven re-evaluation of a batch of accounts (ACV, owners, usage, contacts changed)."""
    from .services.evaluation import tier_evaluate_accounts

    tier_evaluate_accounts(account_ids=account_ids)


@shared_task(name="segmentation.assign_initial_tiers")
def assign_initial_tiers() -> None:
    """Seeded demo data gets its first tiers; accounts that already have one are left alone."""
    from .services.initial_tiers import tier_assign_initial

    tier_assign_initial()


@shared_task(name="segmentation.nightly_review")
def nightly_review() -> None:
    if not claim_slot("segmentation.nightly_review", every=timedelta(days=1)):
        return
    from .services.reviews import ReviewInProgress, tier_review_start

    # When one is open it was resumed if its worker had died: it is tonight's review.
    with suppress(ReviewInProgress):
        tier_review_start(trigger=ReviewTrigger.SCHEDULE)


@shared_task(name="segmentation.expire_overrides")
def expire_overrides() -> None:
    if not claim_slot("segmentation.expire_overrides", every=timedelta(days=1)):
        return
    from .services.overrides import tier_overrides_expire

    tier_overrides_expire()


@shared_task(name="segmentation.compute_health_accounts")
def compute_health_accounts(account_ids: list[int]) -> None:
    """Event-driven health of a few accounts (a sync, a touchpoint, a flag)."""
    from .services.health import health_compute_accounts

    health_compute_accounts(account_ids=account_ids)


@shared_task(name="segmentation.nightly_health")
def nightly_health() -> None:
    if not claim_slot("segmentation.nightly_health", every=timedelta(days=1)):
        return
    from .services.health import health_compute_book

    health_compute_book()


@shared_task(name="segmentation.count_cost_inputs")
def count_cost_inputs() -> None:
    """Nightly, before the review: the cost window moved a day, every account's kept cost-to-serve
    inputs are counted again (the review's economics summary then reads them as they are)."""
    if not claim_slot("segmentation.count_cost_inputs", every=timedelta(days=1)):
        return
    from .services.cost_inputs import cost_inputs_bring_current

    cost_inputs_bring_current()
