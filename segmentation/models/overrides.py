from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class OverrideReason(models.TextChoices):
    STRATEGIC_LOGO = "strategic_logo", "strategic logo"
    EXECUTIVE_SPONSOR = "executive_sponsor", "executive sponsor"
    EXPANSION_POTENTIAL = "expansion_potential", "expansion potential"
    LEGACY_RELATIONSHIP = "legacy_relationship", "legacy relationship"
    AT_RISK = "at_risk", "at risk"
    SALES_COMMITMENT = "sales_commitment", "sales commitment"
    OTHER = "other", "other"


class OverrideStatus(models.TextChoices):
    PENDING = "pending", "Awaiting CS Leadership approval"
    ACTIVE = "active", "Active"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    ENDED = "ended", "Ended early"


class TierOverride(models.Model):
    """A person's documented deviation from the policy's tier, with a reason and an expiry."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="tier_overrides")
    tier_code = models.CharField(max_length=10)
    tier_name = models.CharField(max_length=80)
    tier_rank = models.PositiveSmallIntegerField()
    # The tier the policy gave when the override was requested (the feedback loop groups on it).
    policy_tier_code = models.CharField(max_length=10, blank=True, default="")
    policy_tier_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=30, choices=OverrideReason.choices)
    note = models.TextField()
    expires_on = models.DateField()
    status = models.CharField(max_length=10, choices=OverrideStatus.choices)
    needs_approval = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tier_overrides_requested"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Set when the override came from rejecting a tier proposal.
    rejected_change = models.ForeignKey(
        "segmentation.TierChange", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status=OverrideStatus.ACTIVE), name="tieroverride_one_active"
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status=OverrideStatus.PENDING),
                name="tieroverride_one_pending",
            ),
            models.CheckConstraint(condition=~Q(note=""), name="tieroverride_note_required"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_on"], name="tieroverride_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} → {self.tier_code} ({self.status})"
