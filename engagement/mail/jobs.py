"""Every minute: send the survey invitations and digests that are due. Thin, safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="engagement.mail_dispatch", ignore_result=True)
def mail_dispatch() -> dict[str, int]:
    from .services import outgoing_mail_dispatch

    return dict(outgoing_mail_dispatch())
