"""Journey enrolments and the email outbox.

Exactly-once rests on the database, not on the broker: one ``OutboundEmail`` per (enrolment,
step) is enforced by a unique constraint, and a sender only sends a row it moved from
``pending`` to ``sending`` with a conditional update. A row left in ``sending`` by a crash is
never sent again automatically; it is listed for review (at most once beats twice).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class EnrolmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


class StopReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Contact unsubscribed"
    BOUNCED = "bounced", "Address bounced"
    OPTED_OUT = "opted_out", "Contact opted out of email"
    INVALID_ADDRESS = "invalid_address", "Invalid email address"
    TIER_LEFT = "tier_left", "Account left the journey's tier"
    STOPPED_BY_CSM = "stopped_by_csm", "Stopped on the account page"


class JourneyEnrolment(models.Model):
    """A contact travelling through a journey; ``next_due_at`` is when its next step is due."""

    journey = models.ForeignKey("playbooks.Journey", on_delete=models.PROTECT, related_name="enrolments")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="enrolments")
    # Denormalised from the contact: account pages and tier exits select by account.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="enrolments")
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE)
    source = models.CharField(max_length=80, help_text="What enrolled the contact: playbook:<id>, manual, …")
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The position of the next step to send and when it is due (UTC); both null once completed.
    next_position = models.PositiveSmallIntegerField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)
    # Why the next step waits beyond its due time (send window, frequency cap), shown to people.
    waiting_reason = models.CharField(max_length=255, blank=True, default="")
    capped_count = models.PositiveIntegerField(default=0, help_text="Times a step waited for the cap.")
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True, default="")
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # Enrolling twice is a no-op: a contact never receives a journey's steps twice.
            models.UniqueConstraint(fields=["journey", "contact"], name="enrolment_unique_journey_contact"),
            models.CheckConstraint(
                condition=~Q(status=EnrolmentStatus.ACTIVE) | Q(next_due_at__isnull=False),
                name="enrolment_active_has_due",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_due_at"], name="enrolment_due"),
            models.Index(fields=["account", "status"], name="enrolment_account"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.journey_id} ({self.status})"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


class OutboundEmail(models.Model):
    """One email of one step for one enrolment, rendered when it became due."""

    # Every status change of a row writes a new version into every index of the table, so the
    # table keeps few indexes: foreign keys are served by the composite indexes in Meta.
    enrolment = models.ForeignKey(
        JourneyEnrolment, on_delete=models.CASCADE, related_name="emails", db_index=False
    )
    step = models.ForeignKey(
        "playbooks.JourneyStep", on_delete=models.PROTECT, related_name="emails", db_index=False
    )
    # Denormalised for results per journey, the account timeline and the frequency cap.
    journey = models.ForeignKey(
        "playbooks.Journey", on_delete=models.PROTECT, related_name="emails", db_index=False
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="journey_emails", db_index=False
    )
    contact = models.ForeignKey(
        "accounts.Contact", on_delete=models.CASCADE, related_name="journey_emails", db_index=False
    )
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    to_email = models.CharField(max_length=254)
    to_name = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=255, blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="")
    module_code = models.CharField(max_length=40, blank=True, default="")
    # Why a row was skipped, cancelled or failed; the last transient error while retrying.
    detail = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True, default="")
    # A row stuck in ``sending`` is resolved by a person (confirmed sent, or given up).
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # Not indexed: nothing looks rows up by reviewer, and each index costs every status change.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "step"], name="outbound_unique_enrolment_step"),
        ]
        # No index mentions a column the sender changes (status, claim, result): its two writes
        # per email are then HOT updates that touch no index. Pending and in-flight rows are
        # found through ``OutboundQueueEntry`` instead.
        indexes = [
            models.Index(fields=["contact", "created_at"], name="outbound_contact_time"),
            models.Index(fields=["journey", "step"], name="outbound_journey_step"),
            models.Index(fields=["account", "-created_at"], name="outbound_account_time"),
        ]

    def __str__(self) -> str:
        return f"{self.to_email}: {self.subject} ({self.status})"


class OutboundQueueEntry(models.Model):
    """An outbox row that is ``pending`` or in flight (``sending``): the senders' narrow queue.

    Database triggers (migration ``outbound_queue``) keep it in step with the row's status,
    whoever writes it: ``pending`` adds a waiting entry, ``sending`` marks it claimed, any other
    status removes it. Senders find due rows here, in id order, instead of in the wide outbox
    whose indexes would otherwise change with every status. A claimed entry that is old is a row
    a crashed sender left in ``sending``: the review list.
    """

    outbound = models.OneToOneField(
        OutboundEmail, primary_key=True, on_delete=models.CASCADE, related_name="queue_entry"
    )
    # Copied from the row so a claim reads only this table: paused journeys, retry time.
    journey = models.ForeignKey(
        "playbooks.Journey", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Senders take waiting entries in id order: read in index order, a claim costs the
            # rows it takes, not a sort of everything still waiting.
            models.Index(
                fields=["outbound"], condition=Q(claimed_at__isnull=True), name="outbound_queue_waiting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outbound_id} ({'claimed' if self.claimed_at else 'waiting'})"


class JourneySettings(models.Model):
    """The single row of journey-wide settings: the global kill switch and the frequency cap."""

    sending_paused = models.BooleanField(
        default=False, help_text="Global kill switch: no journey schedules or sends while set."
    )
    paused_reason = models.CharField(max_length=255, blank=True, default="")
    weekly_cap = models.PositiveSmallIntegerField(
        default=2, help_text="At most this many automated emails per contact per rolling 7 days."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "journey settings"

    def __str__(self) -> str:
        return "Journey settings"
