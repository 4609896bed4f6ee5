"""Journey tasks: the every-minute scheduler tick and the outbox sender. Thin, safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from csplatform.dispatch import enqueue
from csplatform.scheduling import claim_slot

from .archive import outbound_archive_settled
from .schedule import DISPATCH_TASK, journey_due_steps_schedule
from .sending import outbound_dispatch
from .services import enrolments_stop_for_tier_change

# A sender hands over to a fresh task before a minute passes, so no task runs for long.
DISPATCH_TIME_BUDGET_SECONDS = 50


@shared_task(name="engagement.journeys_tick", ignore_result=True)
def journeys_tick() -> dict[str, int]:
    """Every minute: turn due steps into outbox rows, then make sure a sender runs."""
    if not claim_slot("engagement.journeys_tick", every=timedelta(minutes=1)):
        return {}
    counts = journey_due_steps_schedule()
    # One sender per tick also picks up rows whose retry time came.
    enqueue(DISPATCH_TASK)
    return dict(counts)


@shared_task(name=DISPATCH_TASK, ignore_result=True)
def journeys_dispatch() -> dict[str, int]:
    """Send what is due in the outbox; hand over to a new task when the time budget runs out."""
    budget = getattr(settings, "JOURNEY_DISPATCH_TIME_BUDGET", DISPATCH_TIME_BUDGET_SECONDS)
    counts = outbound_dispatch(time_budget=budget)
    if counts.get("more"):
        enqueue(DISPATCH_TASK)
    return dict(counts)


@shared_task(name="engagement.journeys_stop_for_tier_change", ignore_result=True)
def journeys_stop_for_tier_change(*, account_id: int, to_code: str) -> None:
    """The account moved to ``to_code``: its enrolments in other tiers' journeys stop (a second run
    finds them stopped)."""
    enrolments_stop_for_tier_change(account_id=account_id, to_code=to_code)


@shared_task(name="engagement.journeys_enrol_late_contacts", ignore_result=True)
def journeys_enrol_late_contacts(*, account_ids: list[int]) -> int:
    """Contacts that joined accounts already in journeys are enrolled like the first ones."""
    from .follow_book import journeys_enrol_late_contacts as enrol

    return enrol(account_ids=account_ids)


@shared_task(name="engagement.journey_replan", ignore_result=True)
def journey_replan(*, journey_id: int) -> int:
    """A journey's timing changed: the contacts already waiting are re-planned."""
    from .follow_book import journey_replan as replan

    return replan(journey_id=journey_id)


@shared_task(name="engagement.journeys_archive_settled", ignore_result=True)
def journeys_archive_settled() -> dict[str, int]:
    """Nightly: settled journey emails older than the outbox's window move to the archive."""
    if not claim_slot("engagement.journeys_archive_settled", every=timedelta(days=1)):
        return {}
    return dict(outbound_archive_settled())
