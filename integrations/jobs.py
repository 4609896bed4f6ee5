"""Webhook tasks: the sender, the every-minute retry tick and the owners' notice. Thin, safe to run
twice. The task names are stored (beat, the task outbox): they never change."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from csplatform.dispatch import enqueue
from csplatform.scheduling import claim_slot

from .services import sending

# A sender hands over to a fresh task before a minute passes, so no task runs for long.
DELIVER_TIME_BUDGET_SECONDS = 50


@shared_task(name="integrations.webhooks_deliver", ignore_result=True)
def webhooks_deliver() -> dict[str, int]:
    """Send what is due; hand over to a new task when the time budget runs out."""
    budget = getattr(settings, "WEBHOOK_DELIVER_TIME_BUDGET", DELIVER_TIME_BUDGET_SECONDS)
    counts = sending.webhooks_deliver(time_budget=budget)
    if counts.get("more"):
        enqueue(webhooks_deliver)
    return dict(counts)


@shared_task(name="integrations.webhooks_tick", ignore_result=True)
def webhooks_tick() -> int:
    """Every minute: take back rows a dead sender left, and start a sender when retries are due."""
    if not claim_slot("integrations.webhooks_tick", every=timedelta(minutes=1)):
        return 0
    recovered = sending.deliveries_recover_stuck()
    if recovered or sending.deliveries_due_exist():
        enqueue(webhooks_deliver)
    return recovered


@shared_task(name="integrations.webhook_owners_notify", ignore_result=True)
def webhook_owners_notify(*, endpoint_id: int) -> int:
    return sending.webhook_owners_notify(endpoint_id=endpoint_id)
