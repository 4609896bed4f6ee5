"""CSM tasks, from playbooks or by hand, and the record of which playbook ran for which event."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from csplatform import bounds


class PlaybookRun(models.Model):
    """A playbook started for an account by one event. ``key`` names the event
    (``tier_change:17``, ``renewal:2027-03-31``, ``flag:5``) so the same event never starts the
    same playbook twice, however often the task that handles it runs."""

    playbook = models.ForeignKey("playbooks.Playbook", on_delete=models.CASCADE, related_name="runs")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="playbook_runs")
    key = models.CharField(max_length=80)
    tier_code = models.CharField(max_length=10, blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["playbook", "account", "key"], name="playbookrun_unique_event")
        ]

    def __str__(self) -> str:
        return f"{self.playbook_id} for {self.account_id} ({self.key})"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Task(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    checklist = models.JSONField(default=list, blank=True)
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=255, blank=True, default="")
    module = models.ForeignKey(
        "playbooks.ServiceModule",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Completing the task records a delivery of this module.",
    )
    estimated_minutes = models.PositiveIntegerField(
        default=30, validators=bounds.ESTIMATED_MINUTES.validators()
    )
    playbook_run = models.ForeignKey(
        PlaybookRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    # The tier whose playbook created the task: leaving that tier cancels it.
    tier_code = models.CharField(max_length=10, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(snoozed_until__isnull=True) | ~Q(snooze_reason=""),
                name="task_snooze_needs_reason",
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_due"),
            models.Index(fields=["account", "status"], name="task_account_status"),
        ]

    def __str__(self) -> str:
        return self.title
