"""Thin tasks for account health follow-ups."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="engagement.health_flags_raise")
def health_flags_raise(*, account_ids: list[int]) -> None:
    from .services import health_flags_raise as raise_flags

    raise_flags(account_ids=account_ids)
