"""Summary tables each review writes, so dashboards never aggregate a million accounts."""

from __future__ import annotations

from django.db import models


class TierSummary(models.Model):
    """Per review and tier: accounts and ACV at the end of the review."""

    review = models.ForeignKey(
        "segmentation.TierReview", on_delete=models.CASCADE, related_name="tier_summaries"
    )
    tier_code = models.CharField(max_length=10)
    tier_name = models.CharField(max_length=80)
    tier_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    accounts = models.PositiveIntegerField()
    acv_sum = models.DecimalField(max_digits=18, decimal_places=2)
    overridden = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["review", "tier_rank"]
        constraints = [
            models.UniqueConstraint(fields=["review", "tier_code"], name="tiersummary_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.tier_code}: {self.accounts}"


class TierMigration(models.Model):
    """Accounts that moved from one tier to another since the previous finished review."""

    review = models.ForeignKey("segmentation.TierReview", on_delete=models.CASCADE, related_name="tier_moves")
    from_code = models.CharField(max_length=10, blank=True, default="")
    to_code = models.CharField(max_length=10)
    accounts = models.PositiveIntegerField()
    acv_sum = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "from_code", "to_code"], name="tiermigration_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.from_code or '—'} → {self.to_code}: {self.accounts}"


class OverrideSummary(models.Model):
    """Active overrides at the end of a review, by reason and from (policy) / to (override) tier."""

    review = models.ForeignKey(
        "segmentation.TierReview", on_delete=models.CASCADE, related_name="override_summaries"
    )
    reason = models.CharField(max_length=30)
    policy_tier_code = models.CharField(max_length=10, blank=True, default="")
    tier_code = models.CharField(max_length=10)
    accounts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "reason", "policy_tier_code", "tier_code"], name="overridesummary_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason}: {self.policy_tier_code} → {self.tier_code}: {self.accounts}"


class Quadrant(models.TextChoices):
    """Storbacka's relationship grid: revenue (ACV) against cost to serve."""

    HIGH_REVENUE_LOW_COST = "high_revenue_low_cost", "High revenue, low cost"
    HIGH_REVENUE_HIGH_COST = "high_revenue_high_cost", "High revenue, high cost"
    LOW_REVENUE_LOW_COST = "low_revenue_low_cost", "Low revenue, low cost"
    LOW_REVENUE_HIGH_COST = "low_revenue_high_cost", "Low revenue, high cost"


class QuadrantSummary(models.Model):
    """Per review and quadrant: accounts, ACV and annual cost to serve."""

    review = models.ForeignKey(
        "segmentation.TierReview", on_delete=models.CASCADE, related_name="quadrant_summaries"
    )
    quadrant = models.CharField(max_length=30, choices=Quadrant.choices)
    accounts = models.PositiveIntegerField()
    acv_sum = models.DecimalField(max_digits=18, decimal_places=2)
    cost_sum = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "quadrant"], name="quadrantsummary_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.quadrant}: {self.accounts}"
