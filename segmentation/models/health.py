"""Health scorecards (versioned like tier policies) and each account's daily health."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class ScorecardStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class HealthBand(models.TextChoices):
    AT_RISK = "at_risk", "At risk"
    WATCH = "watch", "Watch"
    HEALTHY = "healthy", "Healthy"


class PointsDirection(models.TextChoices):
    """How a component's points must move as its value grows (checked when a scorecard is saved)."""

    HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
    LOWER_IS_BETTER = "lower_is_better", "Lower is better"
    ANY = "any", "Any shape"


class HealthScorecard(models.Model):
    """A versioned health model: draft → active → retired, exactly one active.

    Bands are lower bounds: a score below ``watch_from`` is ``at_risk``, below ``healthy_from``
    ``watch``, else ``healthy``.
    """

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=ScorecardStatus.choices, default=ScorecardStatus.DRAFT)
    watch_from = models.PositiveSmallIntegerField(default=40)
    healthy_from = models.PositiveSmallIntegerField(default=70)
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
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=ScorecardStatus.ACTIVE),
                name="healthscorecard_one_active",
            ),
            models.CheckConstraint(
                condition=Q(watch_from__gt=0)
                & Q(watch_from__lt=F("healthy_from"))
                & Q(healthy_from__lte=100),
                name="healthscorecard_bands_ordered",
            ),
        ]
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Health scorecard v{self.version} ({self.status})"


class HealthComponent(models.Model):
    """One input of a scorecard: a signal, the points its value earns (0–100) and a weight.

    ``points`` is a list of steps ``[{"from": <value>, "points": <0-100>}, ...]`` in ascending
    ``from``: a value earns the points of the last step whose ``from`` it reaches (the first
    step's points below it). A missing value earns ``missing_points``.
    """

    scorecard = models.ForeignKey(HealthScorecard, on_delete=models.CASCADE, related_name="components")
    signal = models.CharField(max_length=60)
    weight = models.DecimalField(max_digits=6, decimal_places=3)
    points = models.JSONField(default=list)
    direction = models.CharField(max_length=20, choices=PointsDirection.choices, default=PointsDirection.ANY)
    missing_points = models.PositiveSmallIntegerField(default=50)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "signal"], name="healthcomponent_unique_signal"),
            models.CheckConstraint(condition=Q(weight__gte=0), name="healthcomponent_weight_non_negative"),
            models.CheckConstraint(
                condition=Q(missing_points__lte=100), name="healthcomponent_missing_0_100"
            ),
        ]
        ordering = ["scorecard", "position", "id"]

    def __str__(self) -> str:
        return f"{self.signal} × {self.weight}"


class AccountHealth(models.Model):
    """An account's health on one day (one row a day: the history and the trend)."""

    # No index of its own, nor one on (account, -date): the unique (account, date) serves both,
    # read backwards for the latest; each extra index was a write on a million rows a night.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="health_history", db_index=False
    )
    date = models.DateField()
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=10, choices=HealthBand.choices)
    scorecard = models.ForeignKey(HealthScorecard, on_delete=models.PROTECT, related_name="+")
    # [value, points] per component, in the scorecard's order; ``health.explanation_from_kept``
    # gives back the whole explanation (signal, label, weight, contribution) with the scorecard.
    explanation = models.JSONField(default=list)
    summary = models.TextField(blank=True, default="")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="accounthealth_one_a_day"),
            models.CheckConstraint(condition=Q(score__lte=100), name="accounthealth_score_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date}: {self.score} ({self.band})"
