"""Enqueue Celery tasks so that no work is lost when the broker is down.

Use ``enqueue(task, **kwargs)`` instead of ``task.delay_on_commit(...)``: the intent is stored in
the database in the caller's transaction, published after commit, and re-published by the
sweeper if publishing failed. Tasks must take JSON-able keyword arguments (ids, not objects)
and be safe to run twice.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import PendingDispatch
from .queries import commit_without_flush_wait

logger = logging.getLogger(__name__)

# How long a row may wait before the sweeper assumes its on-commit publish failed.
SWEEP_GRACE = timedelta(seconds=30)


# Rows enqueued by this thread and not yet published. A transaction that enqueues a dozen tasks
# publishes them together after its commit (one read, one producer, one delete) instead of a
# read, a connection and a delete each.
_unpublished = threading.local()


def _waiting() -> list[int]:
    if not hasattr(_unpublished, "ids"):
        _unpublished.ids = []
    return _unpublished.ids  # type: ignore[no-any-return]


def enqueue(task: Any, **kwargs: Any) -> None:
    """Publish ``task`` with ``kwargs`` after the current transaction commits, durably."""
    name = task if isinstance(task, str) else task.name
    row = PendingDispatch.objects.create(task_name=name, kwargs=kwargs)
    _waiting().append(row.pk)
    # Each row keeps its own hook, so a rolled-back savepoint drops exactly its rows' hooks; the
    # first hook to run publishes every row still waiting, the others find theirs done.
    transaction.on_commit(lambda: _publish_waiting(row.pk))


def _publish_waiting(pending_id: int) -> None:
    waiting = _waiting()
    if pending_id not in waiting:
        return  # published with an earlier row of its transaction
    ids = list(waiting)
    waiting.clear()
    # Ids of rolled-back rows are read as nothing: rows and hooks roll back together.
    publish_many(ids)


def publish(pending_id: int) -> bool:
    """Send one pending row to the broker; delete it once accepted. Returns success."""
    row = PendingDispatch.objects.filter(pk=pending_id).first()
    if row is None:
        return True
    return _send(row)


def publish_many(pending_ids: list[int]) -> bool:
    """``publish`` for several rows: read together, sent over one producer, deleted together."""
    rows = list(PendingDispatch.objects.filter(pk__in=pending_ids).order_by("id"))
    if current_app.conf.task_always_eager:
        return all([_send(row) for row in rows])
    sent: list[int] = []
    try:
        with current_app.producer_or_acquire() as producer:
            for row in rows:
                if _send_one(row, producer=producer):
                    sent.append(row.pk)
    finally:
        if sent:
            _forget(sent)
    return len(sent) == len(rows)


def _forget(pending_ids: list[int]) -> None:
    """Remove published rows. The commit does not wait for the disk: a removal lost in a crash
    only publishes its tasks again, which they allow, and the request that enqueued them does not
    wait a second flush. Inside a caller's transaction the removal is simply part of it: that
    commit is the caller's, and may carry writes that must reach the disk."""
    if transaction.get_connection().in_atomic_block:
        PendingDispatch.objects.filter(pk__in=pending_ids).delete()
        return
    with transaction.atomic():
        commit_without_flush_wait()
        PendingDispatch.objects.filter(pk__in=pending_ids).delete()


def _send(row: PendingDispatch) -> bool:
    if current_app.conf.task_always_eager:
        # Eager mode (tests, CELERY_TASK_ALWAYS_EAGER): send_task ignores it, so run in-process.
        PendingDispatch.objects.filter(pk=row.pk).delete()
        task = current_app.tasks[row.task_name]
        task.apply(kwargs=row.kwargs, throw=current_app.conf.task_eager_propagates)
        return True
    if not _send_one(row):
        return False
    PendingDispatch.objects.filter(pk=row.pk).delete()
    return True


def _send_one(row: PendingDispatch, producer: Any = None) -> bool:
    """Hand the row's task to the broker; on failure, note it on the row (the sweeper retries)."""
    try:
        current_app.send_task(row.task_name, kwargs=row.kwargs, retry=False, producer=producer)
    except Exception as exc:  # the broker may be down (any transport error): the sweeper retries
        PendingDispatch.objects.filter(pk=row.pk).update(
            attempts=row.attempts + 1, last_error=str(exc)[:1000]
        )
        logger.warning("could not publish %s, kept for the sweeper: %s", row.task_name, exc)
        return False
    return True


def sweep(*, limit: int = 1000, grace: timedelta | None = None) -> int:
    """Re-publish rows older than the grace period. Returns how many were published.

    Rows are locked while they are published (``SKIP LOCKED``), so two sweepers running at once
    (two beats, or a slow sweep overlapping the next) do not publish the same row twice.
    """
    if grace is None:
        seconds = getattr(settings, "DISPATCH_SWEEP_GRACE_SECONDS", SWEEP_GRACE.total_seconds())
        grace = timedelta(seconds=seconds)
    cutoff = timezone.now() - grace
    published = 0
    with transaction.atomic():
        rows = list(
            PendingDispatch.objects.select_for_update(skip_locked=True)
            .filter(created_at__lte=cutoff)
            .order_by("id")[:limit]
        )
        for row in rows:
            if not _send(row):
                break  # the broker is still down: stop and try again at the next sweep
            published += 1
    if published:
        logger.info("re-published %d pending task(s)", published)
    return published
