from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class ApplyMode(models.TextChoices):
    AUTO = "auto", "Apply automatically"
    PROPOSE = "propose", "Propose for review"


class TouchModel(models.TextChoices):
    HIGH = "high", "High touch"
    HYBRID = "hybrid", "Hybrid"
    DIGITAL = "digital", "Digital"


class TierPolicy(models.Model):
    """A versioned rule set: draft → active → retired, exactly one active."""

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT)
    # Signal rules: a list of JSON objects validated against a fixed vocabulary (segmentation.rules).
    rules = models.JSONField(default=list, blank=True)
    hysteresis_band = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.100"),
        help_text="No downgrade while ACV is within this share below the tier's threshold.",
    )
    downgrade_after_consecutive_reviews = models.PositiveSmallIntegerField(
        default=2, help_text="A downgrade applies once it held at this many consecutive reviews."
    )
    apply_mode = models.CharField(max_length=10, choices=ApplyMode.choices, default=ApplyMode.AUTO)
    notes = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "tier policies"
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status=PolicyStatus.ACTIVE), name="tierpolicy_one_active"
            ),
            models.CheckConstraint(
                condition=Q(hysteresis_band__gte=0) & Q(hysteresis_band__lt=1),
                name="tierpolicy_band_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name} ({self.status})"


class Tier(models.Model):
    """A tier of a policy. Rank 1 is the highest-touch tier."""

    policy = models.ForeignKey(TierPolicy, on_delete=models.CASCADE, related_name="tiers")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=80)
    rank = models.PositiveSmallIntegerField()
    touch_model = models.CharField(max_length=10, choices=TouchModel.choices)
    min_acv = models.DecimalField("minimum ACV", max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["policy", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="tier_unique_code"),
            models.UniqueConstraint(fields=["policy", "rank"], name="tier_unique_rank"),
            models.CheckConstraint(condition=Q(min_acv__gte=0), name="tier_min_acv_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
