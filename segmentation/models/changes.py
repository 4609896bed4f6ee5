from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ChangeSource(models.TextChoices):
    REVIEW = "review", "Review"
    EVENT = "event", "Event"
    OVERRIDE = "override", "Override"
    INITIAL = "initial", "Initial"


class ChangeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"
    # A newer evaluation replaced a proposal nobody decided on.
    SUPERSEDED = "superseded", "Superseded"


class TierChange(models.Model):
    """A change of an account's effective tier, applied or proposed. Applied ones are its history."""

    # A review writes tens of thousands of changes: every index costs on each insert, so the
    # foreign keys rely on the composite indexes below instead of one index each.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="tier_changes", db_index=False
    )
    policy = models.ForeignKey(
        "segmentation.TierPolicy",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    review = models.ForeignKey(
        "segmentation.TierReview",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        db_index=False,
    )
    override = models.ForeignKey(
        "segmentation.TierOverride",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        db_index=False,
    )
    from_code = models.CharField(max_length=10, blank=True, default="")
    from_name = models.CharField(max_length=80, blank=True, default="")
    from_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    to_code = models.CharField(max_length=10)
    to_name = models.CharField(max_length=80)
    to_rank = models.PositiveSmallIntegerField()
    explanation = models.TextField()
    # The structured explanation: [{"rule", "inputs", "effect", "text"}, ...]
    steps = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    status = models.CharField(max_length=10, choices=ChangeStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A chunk re-run after a crash can never record the same account twice in one review.
            models.UniqueConstraint(
                fields=["review", "account"],
                condition=Q(review__isnull=False),
                name="tierchange_once_per_review",
            ),
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status=ChangeStatus.PROPOSED),
                name="tierchange_one_open_proposal",
            ),
            models.CheckConstraint(
                condition=Q(status=ChangeStatus.APPLIED, applied_at__isnull=False)
                | ~Q(status=ChangeStatus.APPLIED),
                name="tierchange_applied_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-id"], name="tierchange_account_recent"),
            # No index by status: the open proposals are read through the partial unique index of
            # ``tierchange_one_open_proposal`` (a few rows, by account), the applied history through
            # ``tierchange_applied_by_account``; one on (status, account) held every change of the
            # book and tempted the worklist's plan into reading every proposal of the book.
            models.Index(fields=["applied_at"], name="tierchange_applied_at"),
            # "Which tier did the account hold on day D?" (retention by tier, one look-up per
            # renewal): the latest applied change before D, read from the index alone.
            models.Index(
                fields=["account", "-applied_at", "-id"],
                name="tierchange_applied_by_account",
                include=["to_code", "policy_id"],
                condition=Q(status=ChangeStatus.APPLIED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_code or '—'} → {self.to_code} ({self.status})"
