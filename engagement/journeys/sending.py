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
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from csplatform import authorization
from playbooks.journey_templates import single_line

from ..models import OutboundEmail, OutboundStatus
from ..models.outbox import OutboundQueueEntry
from .queries import ClaimedEmail, outbound_claim_due, outbound_mark_sent
from .services import journey_settings
from .unsubscribe import unsubscribe_url

if TYPE_CHECKING:
    from csplatform.models import User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Transient failures wait 1, 2, 4, 8 minutes (at most an hour) before the next attempt.
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=1)
# A row claimed longer ago than this and still ``sending`` was left by a crashed sender.
STUCK_AFTER = dt.timedelta(minutes=10)
# Rows claimed per conditional update. A crash strands at most this many rows for review per
# sender, all with one claim token, and the review page resolves them with one decision
# (``outbound_review_resolve_batch``). The claim and the record cost 3 queries per batch: the
# same run sent 1,505 emails/s at 100 and 1,768/s at 250 (``make bench``, ``journey_dispatch``:
# ratio 0.43 and 0.54 to the backend alone, with the claim's contact joined once at 250).
DEFAULT_SEND_BATCH_SIZE = 250


def _batch_size() -> int:
    return int(getattr(settings, "JOURNEY_SEND_BATCH_SIZE", DEFAULT_SEND_BATCH_SIZE))


def outbound_claim(*, limit: int, now: dt.datetime | None = None, after_id: int = 0) -> list[ClaimedEmail]:
    """Move up to ``limit`` due rows from pending to sending; return exactly the rows this call won.

    Concurrent senders skip each other's rows and a row is claimed once; both kill switches
    (global, per journey) are read by the claim, so nothing is claimed once they are set; a row
    of a contact who unsubscribed or bounced meanwhile is cancelled instead. ``after_id`` lets a
    sender continue past the rows it already handled. See ``outbound_claim_due``.
    """
    return outbound_claim_due(limit=limit, now=now or timezone.now(), after_id=after_id)


@lru_cache(maxsize=4)
def _domain_of(site_url: str) -> str:
    return urlparse(site_url).hostname or "csplatform.localhost"


def _message_id_domain() -> str:
    return _domain_of(settings.SITE_URL)


def outbound_message(row: OutboundEmail | ClaimedEmail, *, connection: Any = None) -> EmailMultiAlternatives:
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
    # Sent to the provider by anymail backends (ignored by others) and returned in its tracking
    # reports, which then name the journey email they are about (``tracking.email_event_record``).
    message.metadata = {"outbound_id": str(row.pk)}  # type: ignore[attr-defined]
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


Sent = list[tuple[ClaimedEmail, str]]


def _send_claimed(rows: list[ClaimedEmail], *, mail_connection: Any, counts: Counter) -> Sent:
    """Send the claimed rows; returns (row, message id) of those the backend accepted."""
    sent: Sent = []
    for row in rows:
        try:
            message = outbound_message(row, connection=mail_connection)
            if mail_connection.send_messages([message]) != 1:
                raise ConnectionError("The email backend did not accept the message.")
        except Exception as exc:
            _record_failure(row, exc, counts=counts)
            # A broken SMTP session is reopened by the next send; closing it may fail too.
            with contextlib.suppress(Exception):
                mail_connection.close()
            continue
        status = getattr(message, "anymail_status", None)
        message_id = getattr(status, "message_id", None) or message.extra_headers["Message-ID"]
        sent.append((row, str(message_id)[:255]))
    return sent


def _after_recorded(sent: Sent, *, at: dt.datetime, counts: Counter) -> None:
    counts["sent"] += len(sent)
    _record_module_deliveries([row for row, _ in sent if row.module_code], delivered_at=at)


def _mark_sent(sent: Sent, *, now: dt.datetime) -> None:
    """Record the sent rows and their message ids in one statement (a CASE per row is slower
    than sending the emails)."""
    outbound_mark_sent(sent=[(row.pk, message_id) for row, message_id in sent], now=now)


def _record_failure(row: ClaimedEmail, exc: Exception, *, counts: Counter) -> None:
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


def _record_module_deliveries(rows: list[ClaimedEmail], *, delivered_at: dt.datetime) -> None:
    """Sends count as coverage of the module their step delivers: one batch per claimed batch
    (recorded one by one, each email cost more queries and a coverage recompute of its own)."""
    if not rows:
        return
    try:
        from ..coverage.services import DeliveryByCode, module_deliveries_record_by_code
    except ImportError:  # pragma: no cover - the ledger ships with the engagement app
        return
    try:
        unknown = module_deliveries_record_by_code(
            source="email",
            deliveries=[
                DeliveryByCode(
                    account_id=row.account_id,
                    module_code=row.module_code,
                    delivered_at=delivered_at,
                    source_id=row.pk,
                )
                for row in rows
            ],
        )
    except ValidationError as exc:
        logger.warning("journey emails %s: modules not recorded: %s", [row.pk for row in rows], exc)
        return
    for delivery in unknown:
        logger.warning(
            "journey email %s: module %s not recorded: unknown module or account",
            delivery.source_id,
            delivery.module_code,
        )


def outbound_dispatch(*, time_budget: float | None = None, batch_size: int | None = None) -> Counter:
    """Send due outbox rows until none is left (or ``time_budget`` seconds passed).

    Several senders may run at once: each claims its own rows. Returns counts; ``more`` is set
    when the budget ran out with rows possibly left.
    """
    counts: Counter = Counter()
    deadline = time.monotonic() + time_budget if time_budget else None
    size = batch_size or _batch_size()
    mail_connection = get_connection(fail_silently=False)
    unrecorded: Sent = []
    after_id = 0
    try:
        while True:
            # The previous batch's results and the next claim share one commit: one WAL flush
            # per batch. The claim is durable before anything of the new batch is sent.
            now = timezone.now()
            with transaction.atomic():
                _mark_sent(unrecorded, now=now)
                rows = outbound_claim(limit=size, now=now, after_id=after_id)
            recorded, unrecorded = unrecorded, []
            _after_recorded(recorded, at=now, counts=counts)
            if not rows and after_id:
                after_id = 0  # one more pass from the start: retries that came due meanwhile
                continue
            if not rows:
                if journey_settings().sending_paused:
                    counts["globally_paused"] = 1
                break
            after_id = rows[-1].pk
            unrecorded = _send_claimed(rows, mail_connection=mail_connection, counts=counts)
            if deadline is not None and time.monotonic() > deadline:
                counts["more"] = 1
                break
    finally:
        if unrecorded:
            now = timezone.now()
            _mark_sent(unrecorded, now=now)
            _after_recorded(unrecorded, at=now, counts=counts)
        try:
            mail_connection.close()
        except Exception:
            logger.warning("could not close the email connection", exc_info=True)
    return counts


# --- Review of rows stuck in ``sending`` -----------------------------------------------------


def outbound_stuck(*, now: dt.datetime | None = None) -> QuerySet[OutboundEmail]:
    """Rows a crashed sender left in ``sending``: maybe delivered, maybe not; a person decides."""
    now = now or timezone.now()
    cutoff = now - STUCK_AFTER
    # The queue holds only rows pending or in flight: the review list never scans the outbox.
    claimed_long_ago = OutboundQueueEntry.objects.filter(claimed_at__lt=cutoff).values("outbound_id")
    return OutboundEmail.objects.filter(
        pk__in=claimed_long_ago, status=OutboundStatus.SENDING, claimed_at__lt=cutoff
    )


REVIEW_ACTIONS = ("delivered", "resend", "give_up")


def _review_decision(*, user: User, action: str) -> dict[str, Any]:
    """The fields a review decision writes on a stuck row (the same for one row or a batch)."""
    if not authorization.may_manage_policies(user):
        raise PermissionDenied("Only CS Leadership may resolve stuck journey emails.")
    if action not in REVIEW_ACTIONS:
        raise ValidationError({"action": [f"Choose one of: {', '.join(REVIEW_ACTIONS)}."]})
    who = getattr(user, "display_name", str(user))
    changes: dict[str, Any] = {"reviewed_at": timezone.now(), "reviewed_by": user, "claim_token": None}
    if action == "delivered":
        return changes | {
            "status": OutboundStatus.SENT,
            # When the sender claimed it: the send, if it happened, came right after.
            "sent_at": F("claimed_at"),
            "detail": f"Confirmed delivered by {who} after an interrupted send.",
        }
    if action == "resend":
        return changes | {
            "status": OutboundStatus.PENDING,
            "next_attempt_at": None,
            "detail": f"Sent again on purpose by {who} after an interrupted send.",
        }
    return changes | {
        "status": OutboundStatus.FAILED,
        "detail": f"Given up by {who} after an interrupted send; not sent again.",
    }


@transaction.atomic
def outbound_review_resolve(*, user: User, outbound: OutboundEmail, action: str) -> None:
    """Resolve a stuck row: confirmed delivered, deliberately sent again, or given up."""
    changes = _review_decision(user=user, action=action)
    updated = OutboundEmail.objects.filter(pk=outbound.pk, status=OutboundStatus.SENDING).update(**changes)
    if not updated:
        raise ValidationError({"outbound": ["This email is no longer waiting for review."]})


@transaction.atomic
def outbound_review_resolve_batch(*, user: User, claim_token: uuid.UUID, action: str) -> int:
    """Resolve every email still stuck from one interrupted claim (the rows a crashed sender
    claimed together share its token) with one decision; returns how many were resolved.

    A crash interrupts a whole claimed batch at once, and the provider's log answers for the
    batch's minute, not email by email: one decision per batch, not one per row. Rows of the
    batch a person already resolved (or not yet stuck long enough) are left as they are."""
    changes = _review_decision(user=user, action=action)
    updated = outbound_stuck().filter(claim_token=claim_token).update(**changes)
    if not updated:
        raise ValidationError({"claim_token": ["No email of this batch is waiting for review."]})
    return updated
