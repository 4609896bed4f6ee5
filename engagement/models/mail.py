"""The outbox of emails to single people that are not journey steps: one-off survey invitations and
notification digests.

``key`` is unique: a survey invitation is keyed by survey and contact, a digest by person, digest
and period, so a task that runs twice (or two beats) cannot write, and so cannot send, a second
one. A sender sends only rows it moved from ``pending`` to ``sending`` with a conditional update.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MailKind(models.TextChoices):
    SURVEY = "survey", "Survey invitation"
    DIGEST = "digest", "Notification digest"


class MailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class OutgoingMail(models.Model):
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=10, choices=MailKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to_email = models.CharField(max_length=254)
    to_name = models.CharField(max_length=200, blank=True, default="")
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=MailStatus.choices, default=MailStatus.PENDING)
    not_before = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["not_before", "id"], condition=Q(status="pending"), name="outgoingmail_pending"
            ),
            models.Index(fields=["user", "kind", "-created_at"], name="outgoingmail_user_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email}: {self.subject} ({self.status})"
