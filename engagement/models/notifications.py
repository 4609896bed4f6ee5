"""What people are told: in-app notifications (the bell) and each person's choices for them and
for their email digest.

A notification is keyed per recipient (``key``, e.g. ``flag:42``): the task that writes it may run
twice and writes it once. Notifications are also the record the digests read for what happened
in a period (new flags, health falls, decisions), so a digest costs a few grouped queries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationKind(models.TextChoices):
    FLAG_RAISED = "flag_raised", "New flag on one of my accounts"
    TIER_PROPOSAL = "tier_proposal", "Tier proposal waiting for me"
    HEALTH_FELL = "health_fell", "Health fell on one of my accounts"
    SURVEY_RESPONDED = "survey_responded", "A customer answered a survey"
    APPROVAL_WAITING = "approval_waiting", "An approval waits for CS Leadership"
    COMMITMENT_DECIDED = "commitment_decided", "Leadership decided on my commitment"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    key = models.CharField(max_length=80, help_text="What it is about, e.g. flag:42 (one per recipient).")
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=300, blank=True, default="")
    url = models.CharField(max_length=300, blank=True, default="")
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_recipient"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_time"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
            models.Index(fields=["created_at", "kind"], name="notification_time_kind"),
            # Deleting an account checks that no notification still names it, once per account:
            # without an index each check reads the whole table (40,000 deleted accounts took
            # minutes at commit).
            models.Index(fields=["account"], condition=Q(account__isnull=False), name="notification_account"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"


class DigestFrequency(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly (Mondays)"
    NEVER = "never", "Never"


class NotificationPreference(models.Model):
    """One person's choices. No row: the defaults (every kind in the bell, a daily digest of every
    item their role gets, at 07:00 in their time zone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    digest_frequency = models.CharField(
        max_length=6, choices=DigestFrequency.choices, default=DigestFrequency.DAILY
    )
    digest_hour = models.PositiveSmallIntegerField(default=7, help_text="Local hour the digest is sent.")
    # Digest items left out (``engagement.notifications.digests.DIGEST_ITEMS``); empty: all of them.
    digest_items_off = models.JSONField(default=list, blank=True)
    # Notification kinds the bell leaves out; empty: all of them.
    in_app_off = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(digest_hour__lte=23), name="notificationpref_hour_0_23")
        ]

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
