"""Thin Celery tasks that follow recorded renewal outcomes."""

from __future__ import annotations

from celery import shared_task

from ..services.renewal_recorded import renewal_recorded_playbooks_start


@shared_task(name="engagement.renewal_recorded_playbooks")
def renewal_recorded_playbooks(*, renewal_ids: list[int]) -> None:
    renewal_recorded_playbooks_start(renewal_ids=renewal_ids)
