"""What the AE promised during the sale, checked against the account's entitlements."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from csplatform import bounds


class CommitmentStatus(models.TextChoices):
    WITHIN_TIER = "within_tier", "Within the tier"
    EXCEEDS_TIER = "exceeds_tier", "Exceeds the tier (leadership decides)"
    ACCEPTED = "accepted", "Accepted as an exception"
    DECLINED = "declined", "Declined"


class HandoffCommitment(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="commitments")
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="commitments"
    )
    module = models.ForeignKey(
        "playbooks.ServiceModule", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cadence_days = models.PositiveIntegerField(
        null=True, blank=True, validators=bounds.CADENCE_DAYS.validators()
    )
    description = models.TextField(blank=True, default="")
    deal_reference = models.CharField(max_length=120, blank=True, default="")
    note = models.TextField(blank=True, default="")
    status = models.CharField(max_length=14, choices=CommitmentStatus.choices)
    check_explanation = models.CharField(max_length=300, blank=True, default="")
    checked_at = models.DateTimeField()
    checked_tier_code = models.CharField(max_length=10, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="")
    exception_until = models.DateField(null=True, blank=True)
    add_on = models.ForeignKey(
        "playbooks.AccountAddOn", null=True, blank=True, on_delete=models.SET_NULL, related_name="commitments"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_days__isnull=True) | Q(cadence_days__gt=0),
                name="commitment_cadence_positive",
            ),
            models.CheckConstraint(
                condition=Q(module__isnull=False) | ~Q(description=""),
                name="commitment_module_or_description",
            ),
        ]
        indexes = [models.Index(fields=["status", "account"], name="commitment_status_account")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.module_id or self.description[:40]} ({self.status})"
