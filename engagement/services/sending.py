"""Sending the journey outbox: claim, send, record — every email at most once.

A sender claims rows with a conditional update (``pending → sending``, only rows still pending
count) and sends only what it claimed. After the backend accepted a message the row becomes
``sent`` with the backend's message id. If the process dies between the claim and that record,
the row stays ``sending``: it is never sent again automatically but listed for review, because
an email sent twice does more harm than one that needs a person's look.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import time
import uuid
from collections import Counter
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from csplatform import roles
from playbooks.journey_templates import single_line

from ..models import OutboundEmail, OutboundStatus
from ..unsubscribe import unsubscribe_url
from .journeys import journey_settings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Transient failures wait 1, 2, 4, 8 minutes (at most an hour) before the next attempt.
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=1)
# A row claimed longer ago than this and still ``sending`` was left by a crashed sender.
STUCK_AFTER = dt.timedelta(minutes=10)
# Rows claimed per conditional update. A crash strands at most this many rows for review per
# sender; 20 keeps that small while costing about 4 queries per 20 emails.
DEFAULT_SEND_BATCH_SIZE = 20


def _batch_size() -> int:
    return int(getattr(settings, "JOURNEY_SEND_BATCH_SIZE", DEFAULT_SEND_BATCH_SIZE))


def _claimable(now: dt.datetime) -> QuerySet[OutboundEmail]:
    return OutboundEmail.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=OutboundStatus.PENDING,
        journey__is_paused=False,
        contact__unsubscribed_at__isnull=True,
        contact__email_opt_out=False,
        contact__bounced_at__isnull=True,
    )


def outbound_claim(*, limit: int, now: dt.datetime | None = None) -> list[OutboundEmail]:
    """Move up to ``limit`` due rows from pending to sending; return exactly the rows this call won."""
    now = now or timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            _claimable(now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        OutboundEmail.objects.filter(id__in=ids, status=OutboundStatus.PENDING).update(
            status=OutboundStatus.SENDING, claim_token=token, claimed_at=now, attempts=F("attempts") + 1
        )
    return list(OutboundEmail.objects.filter(claim_token=token, status=OutboundStatus.SENDING).order_by("id"))


def _message_id_domain() -> str:
    return urlparse(settings.SITE_URL).hostname or "csplatform.localhost"


def outbound_message(row: OutboundEmail, *, connection: Any = None) -> EmailMultiAlternatives:
    """The email for ``row``: plain text and HTML, RFC 8058 one-click unsubscribe headers.

    Header values come only from single-line text: a newline in a contact's name or a rendered
    subject cannot start a header of its own.
    """
    url = unsubscribe_url(contact_id=row.contact_id)
    message = EmailMultiAlternatives(
        subject=single_line(row.subject),
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((single_line(row.to_name), row.to_email))],
        connection=connection,
        headers={
            "Message-ID": make_msgid(idstring=f"journey{row.pk}", domain=_message_id_domain()),
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(row.body_html, "text/html")
    return message


def _is_permanent(exc: Exception) -> bool:
    """Whether retrying cannot help (a refused address, a malformed message)."""
    if isinstance(exc, BadHeaderError | ValueError | UnicodeError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    try:
        from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency
        return False
    if isinstance(exc, AnymailRecipientsRefused):
        return True
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        return status is not None and 400 <= status < 500 and status != 429
    return False


def _backoff(attempts: int) -> dt.timedelta:
    return min(BACKOFF_MAX, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


def _send_claimed(rows: list[OutboundEmail], *, connection: Any, counts: Counter) -> None:
    sent: list[tuple[OutboundEmail, str]] = []
    for row in rows:
        try:
            message = outbound_message(row, connection=connection)
            if connection.send_messages([message]) != 1:
                raise ConnectionError("The email backend did not accept the message.")
        except Exception as exc:
            _record_failure(row, exc, counts=counts)
            # A broken SMTP session is reopened by the next send; closing it may fail too.
            with contextlib.suppress(Exception):
                connection.close()
            continue
        status = getattr(message, "anymail_status", None)
        message_id = getattr(status, "message_id", None) or message.extra_headers["Message-ID"]
        sent.append((row, str(message_id)[:255]))
    if not sent:
        return
    now = timezone.now()
    OutboundEmail.objects.filter(id__in=[row.pk for row, _ in sent], status=OutboundStatus.SENDING).update(
        status=OutboundStatus.SENT,
        sent_at=now,
        detail="",
        next_attempt_at=None,
        message_id=Case(*(When(id=row.pk, then=Value(mid)) for row, mid in sent), default=F("message_id")),
    )
    counts["sent"] += len(sent)
    _record_module_deliveries([row for row, _ in sent if row.module_code], delivered_at=now)


def _record_failure(row: OutboundEmail, exc: Exception, *, counts: Counter) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if _is_permanent(exc) or row.attempts >= MAX_ATTEMPTS:
        OutboundEmail.objects.filter(pk=row.pk, status=OutboundStatus.SENDING).update(
            status=OutboundStatus.FAILED, detail=error, next_attempt_at=None
        )
        counts["failed"] += 1
        logger.warning("journey email %s failed: %s", row.pk, error)
        return
    # The backend refused before accepting: nothing went out, so a retry cannot duplicate.
    OutboundEmail.objects.filter(pk=row.pk, status=OutboundStatus.SENDING).update(
        status=OutboundStatus.PENDING,
        claim_token=None,
        detail=error,
        next_attempt_at=timezone.now() + _backoff(row.attempts),
    )
    counts["retrying"] += 1


def _record_module_deliveries(rows: list[OutboundEmail], *, delivered_at: dt.datetime) -> None:
    """Sends count as coverage of the module their step delivers."""
    if not rows:
        return
    try:
        from .deliveries import module_delivery_record
    except ImportError:  # pragma: no cover - the ledger ships with the engagement app
        return
    for row in rows:
        try:
            module_delivery_record(
                account_id=row.account_id,
                module_code=row.module_code,
                delivered_at=delivered_at,
                source="email",
                source_id=row.pk,
            )
        except ValidationError as exc:
            logger.warning("journey email %s: module %s not recorded: %s", row.pk, row.module_code, exc)


def outbound_dispatch(*, time_budget: float | None = None, batch_size: int | None = None) -> Counter:
    """Send due outbox rows until none is left (or ``time_budget`` seconds passed).

    Several senders may run at once: each claims its own rows. Returns counts; ``more`` is set
    when the budget ran out with rows possibly left.
    """
    counts: Counter = Counter()
    deadline = time.monotonic() + time_budget if time_budget else None
    size = batch_size or _batch_size()
    connection = get_connection(fail_silently=False)
    try:
        while True:
            if journey_settings().sending_paused:
                counts["globally_paused"] = 1
                break
            rows = outbound_claim(limit=size)
            if not rows:
                break
            _send_claimed(rows, connection=connection, counts=counts)
            if deadline is not None and time.monotonic() > deadline:
                counts["more"] = 1
                break
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("could not close the email connection", exc_info=True)
    return counts


# --- Review of rows stuck in ``sending`` -----------------------------------------------------


def outbound_stuck(*, now: dt.datetime | None = None) -> QuerySet[OutboundEmail]:
    """Rows a crashed sender left in ``sending``: maybe delivered, maybe not; a person decides."""
    now = now or timezone.now()
    return OutboundEmail.objects.filter(status=OutboundStatus.SENDING, claimed_at__lt=now - STUCK_AFTER)


REVIEW_ACTIONS = ("delivered", "resend", "give_up")


@transaction.atomic
def outbound_review_resolve(*, user: Any, outbound: OutboundEmail, action: str) -> None:
    """Resolve a stuck row: confirmed delivered, deliberately sent again, or given up."""
    if not roles.is_leader(user):
        raise PermissionDenied("Only CS Leadership may resolve stuck journey emails.")
    if action not in REVIEW_ACTIONS:
        raise ValidationError({"action": [f"Choose one of: {', '.join(REVIEW_ACTIONS)}."]})
    now = timezone.now()
    who = getattr(user, "display_name", str(user))
    changes: dict[str, Any] = {"reviewed_at": now, "reviewed_by": user, "claim_token": None}
    if action == "delivered":
        changes |= {
            "status": OutboundStatus.SENT,
            "sent_at": outbound.claimed_at,
            "detail": f"Confirmed delivered by {who} after an interrupted send.",
        }
    elif action == "resend":
        changes |= {
            "status": OutboundStatus.PENDING,
            "next_attempt_at": None,
            "detail": f"Sent again on purpose by {who} after an interrupted send.",
        }
    else:
        changes |= {
            "status": OutboundStatus.FAILED,
            "detail": f"Given up by {who} after an interrupted send; not sent again.",
        }
    updated = OutboundEmail.objects.filter(pk=outbound.pk, status=OutboundStatus.SENDING).update(**changes)
    if not updated:
        raise ValidationError({"outbound": ["This email is no longer waiting for review."]})
