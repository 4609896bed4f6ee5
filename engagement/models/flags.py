"""Temporary signals that raise an account in the CSM's worklist until they expire or are resolved."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class FlagKind(models.TextChoices):
    USAGE_DROP = "usage_drop", "Usage drop"
    USAGE_SPIKE = "usage_spike", "Usage spike"
    TICKET_SURGE = "ticket_surge", "Ticket surge"
    RENEWAL_NEAR = "renewal_near", "Renewal near"
    CHAMPION_LEFT = "champion_left", "Champion left"
    HEALTH_AT_RISK = "health_at_risk", "Health at risk"


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    EXPIRED = "expired", "Expired"


class Flag(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=20, choices=FlagKind.choices)
    status = models.CharField(max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    explanation = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    raised_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"], condition=Q(status=FlagStatus.OPEN), name="flag_one_open_per_kind"
            )
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="flag_status_expiry"),
            models.Index(fields=["account", "status"], name="flag_account_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.account_id} ({self.status})"


class ChampionWatch(models.Model):
    """The champions last seen on an account, so a champion who disappears can be flagged."""

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, related_name="+")
    champion_contact_ids = models.JSONField(default=list)
    checked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"champions of {self.account_id}"
