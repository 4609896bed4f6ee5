"""Touchpoints: what CS did with a customer. They feed coverage, cost-to-serve and the timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from csplatform import bounds


class TouchpointKind(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    QBR = "qbr", "QBR"
    EMAIL = "email", "Email"
    TRAINING = "training", "Training"
    ESCALATION = "escalation", "Escalation"


class Touchpoint(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="touchpoints")
    kind = models.CharField(max_length=12, choices=TouchpointKind.choices)
    occurred_at = models.DateTimeField()
    minutes = models.PositiveIntegerField(default=0, validators=bounds.TOUCHPOINT_MINUTES.validators())
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="touchpoints"
    )
    module = models.ForeignKey(
        "playbooks.ServiceModule", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    participants = models.ManyToManyField("accounts.Contact", blank=True, related_name="touchpoints")
    notes = models.TextField(blank=True, default="")
    # An activity synced from the CRM, calendar or mailbox (``/api/v1/touchpoints/sync/``) keeps
    # its source and id there; both are empty for a touchpoint logged in csplatform.
    crm_source = models.CharField(max_length=40, blank=True, default="")
    external_id = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gte=0), name="touchpoint_minutes_non_negative"),
            # Replaying a sync never creates an activity twice.
            models.UniqueConstraint(
                fields=["crm_source", "external_id"],
                condition=~Q(external_id=""),
                name="touchpoint_unique_external_id",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-occurred_at"], name="touchpoint_account_time"),
            models.Index(fields=["occurred_at"], name="touchpoint_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} with {self.account_id} @ {self.occurred_at:%Y-%m-%d}"
