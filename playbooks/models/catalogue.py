"""What customer success can deliver (the module catalogue) and who is entitled to what."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from csplatform import bounds


class ModuleKind(models.TextChoices):
    HUMAN = "human", "Human"
    AUTOMATED = "automated", "Automated"
    SELF_SERVE = "self_serve", "Self-serve"


class ServiceModule(models.Model):
    """One deliverable of the service catalogue (QBR, catch-up call, onboarding emails, ...)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=12, choices=ModuleKind.choices)
    description = models.TextField(blank=True, default="")
    # Empty when the module is not recurring (a kickoff, an always-on support line).
    default_cadence_days = models.PositiveIntegerField(
        null=True, blank=True, validators=bounds.CADENCE_DAYS.validators()
    )
    expected_minutes = models.PositiveIntegerField(
        default=0,
        validators=bounds.TOUCHPOINT_MINUTES.validators(),
        help_text="CSM minutes one occurrence takes; 0 for automated and self-serve modules.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_cadence_days__isnull=True) | Q(default_cadence_days__gt=0),
                name="servicemodule_cadence_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TierEntitlement(models.Model):
    """A tier of a policy entitles its accounts to a module, at a cadence (or once / always-on)."""

    tier = models.ForeignKey("segmentation.Tier", on_delete=models.CASCADE, related_name="entitlements")
    module = models.ForeignKey(ServiceModule, on_delete=models.PROTECT, related_name="tier_entitlements")
    cadence_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=bounds.CADENCE_DAYS.validators(),
        help_text="Deliver at least every N days; empty when not recurring.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["tier", "module__name"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "module"], name="tierentitlement_unique_module"),
            models.CheckConstraint(
                condition=Q(cadence_days__isnull=True) | Q(cadence_days__gt=0),
                name="tierentitlement_cadence_positive",
            ),
        ]

    def __str__(self) -> str:
        every = f" every {self.cadence_days} d" if self.cadence_days else ""
        return f"{self.tier_id}: {self.module_id}{every}"


class AddOnStatus(models.TextChoices):
    PENDING = "pending", "Waiting for leadership"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class AddOnSource(models.TextChoices):
    REQUEST = "request", "Requested"
    COMMITMENT = "commitment", "Accepted AE commitment"


class AccountAddOn(models.Model):
    """A module an account gets beyond its tier (à la carte), approved by CS Leadership.

    Approved add-ons count as entitlements from ``starts_on`` until ``ends_on`` (open-ended when
    empty); an accepted AE commitment becomes a time-boxed add-on.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="add_ons")
    module = models.ForeignKey(ServiceModule, on_delete=models.PROTECT, related_name="add_ons")
    cadence_days = models.PositiveIntegerField(
        null=True, blank=True, validators=bounds.CADENCE_DAYS.validators()
    )
    status = models.CharField(max_length=10, choices=AddOnStatus.choices, default=AddOnStatus.PENDING)
    source = models.CharField(max_length=12, choices=AddOnSource.choices, default=AddOnSource.REQUEST)
    note = models.TextField(blank=True, default="")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_days__isnull=True) | Q(cadence_days__gt=0),
                name="accountaddon_cadence_positive",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="accountaddon_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["account", "status"], name="addon_account_status")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.module_id} ({self.status})"
