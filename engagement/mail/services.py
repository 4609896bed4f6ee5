"""Sending ``OutgoingMail``: claim, send, record — each row at most once.

A sender claims due rows (``pending`` → ``sending``, rows locked by another sender are skipped)
and sends only what it claimed. A row left in ``sending`` by a crash is not sent again: an email
sent twice does more harm than one missing. Transient failures go back to ``pending`` with a
backoff; after ``MAX_ATTEMPTS`` the row fails.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from playbooks.journey_templates import single_line

from ..models import MailKind, MailStatus, OutgoingMail

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_BATCH = 100


def _claim(*, now: dt.datetime, limit: int) -> list[OutgoingMail]:
    with transaction.atomic():
        ids = list(
            OutgoingMail.objects.select_for_update(skip_locked=True)
            .filter(status=MailStatus.PENDING, not_before__lte=now)
            .order_by("not_before", "id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        OutgoingMail.objects.filter(pk__in=ids, status=MailStatus.PENDING).update(
            status=MailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return list(OutgoingMail.objects.filter(pk__in=ids, status=MailStatus.SENDING).select_related("contact"))


def _message(row: OutgoingMail, *, connection: object) -> EmailMultiAlternatives:
    headers = {
        "Message-ID": make_msgid(idstring=f"mail{row.pk}", domain="csplatform.localhost"),
        "Auto-Submitted": "auto-generated",
    }
    if row.kind == MailKind.SURVEY and row.contact_id:
        from ..journeys.unsubscribe import unsubscribe_url

        url = unsubscribe_url(contact_id=row.contact_id)
        headers |= {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    message = EmailMultiAlternatives(
        subject=single_line(row.subject),
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((single_line(row.to_name), row.to_email))],
        connection=connection,
        headers=headers,
    )
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    return message


def _still_wanted(row: OutgoingMail) -> str:
    """Why a claimed row must not go out any more ("" when it may)."""
    if row.kind == MailKind.SURVEY and row.contact is not None:
        from ..journeys.services import contact_problem

        problem = contact_problem(row.contact)
        if problem:
            return f"Not sent: the contact may not be mailed ({problem})."
    return ""


def outgoing_mail_dispatch(*, now: dt.datetime | None = None, limit: int = 2000) -> Counter:
    """Send due rows, at most ``limit`` per call. Safe to run twice and in parallel."""
    counts: Counter = Counter()
    connection = get_connection(fail_silently=False)
    try:
        while counts.total() < limit:
            moment = now or timezone.now()
            rows = _claim(now=moment, limit=min(CLAIM_BATCH, limit - counts.total()))
            if not rows:
                break
            for row in rows:
                reason = _still_wanted(row)
                if reason:
                    OutgoingMail.objects.filter(pk=row.pk).update(status=MailStatus.CANCELLED, detail=reason)
                    counts["cancelled"] += 1
                    continue
                try:
                    message = _message(row, connection=connection)
                    if connection.send_messages([message]) != 1:
                        raise ConnectionError("The email backend did not accept the message.")
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"[:2000]
                    failed = row.attempts >= MAX_ATTEMPTS
                    OutgoingMail.objects.filter(pk=row.pk, status=MailStatus.SENDING).update(
                        status=MailStatus.FAILED if failed else MailStatus.PENDING,
                        detail=error,
                        not_before=timezone.now() + dt.timedelta(minutes=2**row.attempts),
                    )
                    counts["failed" if failed else "retrying"] += 1
                    logger.warning("mail %s not sent: %s", row.pk, error)
                    continue
                OutgoingMail.objects.filter(pk=row.pk, status=MailStatus.SENDING).update(
                    status=MailStatus.SENT,
                    sent_at=timezone.now(),
                    message_id=message.extra_headers["Message-ID"],
                )
                counts["sent"] += 1
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("could not close the email connection", exc_info=True)
    return counts
