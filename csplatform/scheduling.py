"""Periodic jobs that must not run twice for the same slot, even with two beats running.

    @shared_task(name="segmentation.nightly_review")
    def nightly_review() -> None:
        if not claim_slot("segmentation.nightly_review", every=timedelta(days=1)):
            return  # another beat already triggered this slot
        ...

The claim is a row with a unique (job, slot) constraint: only one INSERT wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ScheduledRun


def slot_start(now: datetime, every: timedelta) -> datetime:
    seconds = int(every.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo or timezone.get_current_timezone())


def claim_slot(job: str, *, every: timedelta, now: datetime | None = None) -> bool:
    """True for exactly one caller per (job, slot of length ``every``)."""
    slot = slot_start(now or timezone.now(), every)
    try:
        with transaction.atomic():
            ScheduledRun.objects.create(job=job, slot=slot)
    except IntegrityError:
        return False
    return True
