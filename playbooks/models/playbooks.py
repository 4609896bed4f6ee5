"""Playbooks: a trigger (an account entered a tier, a flag was raised, ...) and ordered steps."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from csplatform import bounds


class Trigger(models.TextChoices):
    ENTERED_TIER = "entered_tier", "Account entered the tier"
    LEFT_TIER = "left_tier", "Account left the tier"
    ONBOARDING_STARTED = "onboarding_started", "Onboarding started"
    RENEWAL_IN_DAYS = "renewal_in_days", "Renewal in N days"
    FLAG_RAISED = "flag_raised", "Flag raised"
    OVERRIDE_APPLIED = "override_applied", "Tier override applied"
    COMMITMENT_ACCEPTED = "commitment_accepted", "AE commitment accepted"
    RENEWAL_RECORDED = "renewal_recorded", "Renewal outcome recorded"


class Playbook(models.Model):
    """What CS does when something happens to an account.

    ``tier_code`` limits the playbook to accounts of that tier (for entered/left tier: the tier
    entered or left); empty means every tier. Tier codes, not Tier rows, so a playbook survives
    a new policy version that keeps the codes.
    """

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    tier_code = models.CharField(max_length=10, blank=True, default="")
    renewal_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="For 'renewal in N days': how many days before the renewal."
    )
    flag_kind = models.CharField(
        max_length=20, blank=True, default="", help_text="For 'flag raised': which flag kind; empty for any."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(trigger=Trigger.RENEWAL_IN_DAYS) | Q(renewal_days__gt=0),
                name="playbook_renewal_days_required",
            )
        ]
        indexes = [models.Index(fields=["trigger", "tier_code"], name="playbook_trigger_tier")]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    TASK = "task", "Create a CSM task"
    JOURNEY = "journey", "Enrol contacts in a journey"


class PlaybookStep(models.Model):
    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=StepKind.choices, default=StepKind.TASK)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    due_offset_days = models.PositiveIntegerField(
        default=0, help_text="Task due this many days after the trigger."
    )
    checklist = models.JSONField(default=list, blank=True, help_text="A list of short strings.")
    module = models.ForeignKey(
        "playbooks.ServiceModule",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Completing the task delivers this module.",
    )
    estimated_minutes = models.PositiveIntegerField(
        default=30, validators=bounds.ESTIMATED_MINUTES.validators()
    )
    journey_code = models.SlugField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["playbook", "position"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "position"], name="playbookstep_unique_position"),
            models.CheckConstraint(
                condition=~Q(kind=StepKind.JOURNEY) | ~Q(journey_code=""),
                name="playbookstep_journey_code_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id}.{self.position} {self.title}"
