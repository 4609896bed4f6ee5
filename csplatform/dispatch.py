"""Enqueue Celery tasks so that no work is lost when the broker is down.

Use ``enqueue(task, **kwargs)`` instead of ``task.delay_on_commit(...)``: the intent is stored in
the database in the caller's transaction, published after commit, and re-published by the
sweeper if publishing failed. Tasks must take JSON-able keyword arguments (ids, not objects)
and be safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from .models import PendingDispatch

logger = logging.getLogger(__name__)

# How long a row may wait before the sweeper assumes its on-commit publish failed.
SWEEP_GRACE = timedelta(seconds=30)


def enqueue(task: Any, **kwargs: Any) -> None:
    """Publish ``task`` with ``kwargs`` after the current transaction commits, durably."""
    name = task if isinstance(task, str) else task.name
    row = PendingDispatch.objects.create(task_name=name, kwargs=kwargs)
    transaction.on_commit(lambda: publish(row.pk))


def publish(pending_id: int) -> bool:
    """Send one pending row to the broker; delete it once accepted. Returns success."""
    row = PendingDispatch.objects.filter(pk=pending_id).first()
    if row is None:
        return True
    try:
        current_app.send_task(row.task_name, kwargs=row.kwargs, retry=False)
    except Exception as exc:  # noqa: BLE001 - the broker may be down; the sweeper retries
        PendingDispatch.objects.filter(pk=row.pk).update(
            attempts=row.attempts + 1, last_error=str(exc)[:1000]
        )
        logger.warning("could not publish %s, kept for the sweeper: %s", row.task_name, exc)
        return False
    PendingDispatch.objects.filter(pk=row.pk).delete()
    return True


def sweep(*, limit: int = 1000) -> int:
    """Re-publish rows older than the grace period. Returns how many were published."""
    cutoff = timezone.now() - SWEEP_GRACE
    ids = list(
        PendingDispatch.objects.filter(created_at__lt=cutoff).order_by("id").values_list("id", flat=True)[:limit]
    )
    published = 0
    for pending_id in ids:
        if not publish(pending_id):
            break  # the broker is still down: stop and try again at the next sweep
        published += 1
    return published
