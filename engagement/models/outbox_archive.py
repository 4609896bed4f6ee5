"""Archived journey emails, and every journey email whether archived or not.

The outbox (``OutboundEmail``) is the senders' hot table: every claim and every result writes it,
so it keeps only what is in flight and what was settled recently. A nightly job moves settled
rows (sent, failed, skipped, cancelled) older than ``ARCHIVE_AFTER`` into
``OutboundEmailArchive`` with the same id and content, and nothing writes an archived row again.

``OutboundEmailRecord`` reads both (a view, ``UNION ALL``): pages, journey results, the account
timeline, survey links and the provider's reports look emails up there, so an archived email is
still shown and still found by its id. Exactly-once holds across both tables: the archive keeps
(enrolment, step) unique, and a trigger on the outbox (migration ``outbound_archive``) drops an
insert whose (enrolment, step) is already archived, as the outbox's own unique constraint drops
one that is still hot.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from .outbox import OutboundStatus

# Older settled rows leave the hot table. Longer than anything the sender or the scheduler reads
# back from the outbox (the frequency cap looks 7 days back, a stuck row is reviewed within hours).
ARCHIVE_AFTER = dt.timedelta(days=30)
SETTLED_STATUSES = (
    OutboundStatus.SENT,
    OutboundStatus.FAILED,
    OutboundStatus.SKIPPED,
    OutboundStatus.CANCELLED,
)


class _OutboundContent(models.Model):
    """The columns an outbox row and its archived copy share, apart from the foreign keys."""

    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    to_email = models.CharField(max_length=254)
    to_name = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=255, blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="")
    module_code = models.CharField(max_length=40, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True, default="")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.to_email}: {self.subject} ({self.status})"


class OutboundEmailArchive(_OutboundContent):
    """A settled outbox row moved out of the hot table (same id). Written once, by the archive job.

    No foreign key constraint in the database: rows arrive by the hundred thousand in one
    statement and are never updated. Deletions still cascade through Django (an account, a
    contact, an enrolment removed), and journeys and steps stay protected.
    """

    id = models.BigIntegerField(primary_key=True)
    enrolment = models.ForeignKey(
        "engagement.JourneyEnrolment",
        on_delete=models.CASCADE,
        related_name="archived_emails",
        db_index=False,
        db_constraint=False,
    )
    step = models.ForeignKey(
        "playbooks.JourneyStep",
        on_delete=models.PROTECT,
        related_name="archived_emails",
        db_index=False,
        db_constraint=False,
    )
    journey = models.ForeignKey(
        "playbooks.Journey",
        on_delete=models.PROTECT,
        related_name="archived_emails",
        db_index=False,
        db_constraint=False,
    )
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        related_name="archived_journey_emails",
        db_index=False,
        db_constraint=False,
    )
    contact = models.ForeignKey(
        "accounts.Contact",
        on_delete=models.CASCADE,
        related_name="archived_journey_emails",
        db_index=False,
        db_constraint=False,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    archived_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One email per (enrolment, step) across both tables: see the outbox's insert guard.
            models.UniqueConstraint(fields=["enrolment", "step"], name="outbound_archive_enrolment_step"),
        ]
        indexes = [
            models.Index(fields=["contact", "created_at"], name="outbound_archive_contact_time"),
            models.Index(fields=["journey", "step"], name="outbound_archive_journey_step"),
            models.Index(fields=["account", "-created_at"], name="outbound_archive_account_time"),
        ]


class OutboundEmailRecord(_OutboundContent):
    """Every journey email, hot or archived: a read-only view over both tables (``archived`` says
    which). Read it wherever an email of the past must be found; write only the outbox."""

    id = models.BigIntegerField(primary_key=True)
    enrolment = models.ForeignKey(
        "engagement.JourneyEnrolment", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    step = models.ForeignKey(
        "playbooks.JourneyStep", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    journey = models.ForeignKey(
        "playbooks.Journey", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    archived = models.BooleanField()

    class Meta:
        managed = False
        db_table = "engagement_outboundemail_all"
