"""What the email provider reported about journey emails (through django-anymail's tracking)."""

from __future__ import annotations

from django.db import models


class EmailEventKind(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    REJECTED = "rejected", "Rejected by the provider"
    COMPLAINED = "complained", "Marked as spam"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed at the provider"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"


class EmailEvent(models.Model):
    """One report of the provider. ``outbound`` is the journey email it is about when the report
    carries its id (sent as metadata); a report about an address only has the contact(s)."""

    kind = models.CharField(max_length=12, choices=EmailEventKind.choices)
    # The email wherever it now lives (the outbox or its archive, same id): no constraint, as an
    # archived email leaves the outbox table. ``None`` for a report that named no journey email.
    outbound = models.ForeignKey(
        "engagement.OutboundEmailRecord",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="events",
        db_constraint=False,
    )
    journey = models.ForeignKey(
        "playbooks.Journey", null=True, blank=True, on_delete=models.SET_NULL, related_name="email_events"
    )
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.CASCADE, related_name="email_events"
    )
    contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="email_events"
    )
    recipient = models.CharField(max_length=254, blank=True, default="")
    occurred_at = models.DateTimeField()
    provider = models.CharField(max_length=40)
    # The provider's event id, or a digest of the report when it has none: providers repeat
    # webhooks, and a repeat is recorded once.
    dedupe_key = models.CharField(max_length=200, unique=True)
    detail = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="emailevent_account_time"),
            models.Index(fields=["journey", "kind"], name="emailevent_journey_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.recipient} @ {self.occurred_at:%Y-%m-%d %H:%M}"
