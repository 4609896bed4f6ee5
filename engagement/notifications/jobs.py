"""Notification tasks: write notifications from ids, and the digests that are due. Thin, safe to run
twice (notifications are keyed per recipient, digests per person and period)."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="engagement.notifications_write", ignore_result=True)
def notifications_write(*, about: str, ids: list[int], detail: dict[str, Any] | None = None) -> int:
    from .services import notifications_write as write

    return write(about=about, ids=ids, detail=detail)


@shared_task(name="engagement.digests_send", ignore_result=True)
def digests_send() -> dict[str, int]:
    """Every 15 minutes: the digests whose local hour came (each person's own time zone)."""
    from .digests import digests_send as send

    return dict(send())
