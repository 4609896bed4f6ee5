"""Celery job that keeps the segments of renewal days that have ended. The name is stored."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from csplatform.scheduling import claim_slot

from . import services


@shared_task(name="engagement.retention_segments_nightly")
def retention_segments_nightly() -> None:
    if not claim_slot("engagement.retention_segments_nightly", every=timedelta(days=1)):
        return
    services.renewal_segments_settle()
