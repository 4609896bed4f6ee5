from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class ReviewStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"


class ReviewTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Nightly schedule"
    MANUAL = "manual", "Started by a person"


class TierReview(models.Model):
    """One run of the active policy over every account, in primary-key chunks (TierReviewChunk)
    that any number of workers evaluate at once.

    The counters are committed together with each chunk's changes, so a review whose worker died
    resumes with the chunks not yet done and never applies one twice.
    """

    policy = models.ForeignKey("segmentation.TierPolicy", on_delete=models.PROTECT, related_name="reviews")
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.QUEUED)
    trigger = models.CharField(max_length=10, choices=ReviewTrigger.choices, default=ReviewTrigger.MANUAL)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # True while queued or running; NULL afterwards. The partial unique constraint on it is what
    # guarantees that only one review is under way, whatever the number of web processes or beats.
    is_open = models.BooleanField(null=True, default=True, editable=False)
    accounts_total = models.PositiveIntegerField(default=0)
    accounts_done = models.PositiveIntegerField(default=0)
    changes_applied = models.PositiveIntegerField(default=0)
    changes_proposed = models.PositiveIntegerField(default=0)
    last_account_id = models.BigIntegerField(
        default=0, help_text="Highest account id of the chunks committed so far."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="How many times the review was started or resumed after its workers stopped."
    )
    # The newest TierChange id when the review finished: the next review's migration matrix
    # reads the changes after it through the primary key.
    last_change_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_open"], condition=Q(is_open=True), name="tierreview_one_open"
            ),
            models.CheckConstraint(
                condition=Q(is_open=True, status__in=[ReviewStatus.QUEUED, ReviewStatus.RUNNING])
                | Q(is_open__isnull=True, status__in=[ReviewStatus.FINISHED, ReviewStatus.FAILED]),
                name="tierreview_open_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"Review #{self.pk} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.accounts_total:
            return 100 if self.status == ReviewStatus.FINISHED else 0
        return min(100, round(100 * self.accounts_done / self.accounts_total))


class TierReviewChunk(models.Model):
    """One id range of a review (``lower < id <= upper``), planned when the review starts.

    A worker holds a chunk by a session advisory lock on its id (``queries.reviews``) while it
    evaluates, and commits the chunk's writes in batches, each with its counters; ``done_at``
    commits with the last. So two workers never evaluate the same chunk at once, a worker that
    dies releases its chunk with its connection (its open batch rolls back), and the worker that
    takes the chunk over skips what the committed batches evaluated: nothing is applied twice.
    """

    review = models.ForeignKey(TierReview, on_delete=models.CASCADE, related_name="chunks")
    lower = models.BigIntegerField(help_text="Accounts with a higher id ...")
    upper = models.BigIntegerField(help_text="... up to and including this id.")
    done_at = models.DateTimeField(null=True, blank=True)
    accounts_done = models.PositiveIntegerField(default=0)
    # Accounts the SQL pre-filter could not rule out, evaluated in Python.
    evaluated = models.PositiveIntegerField(default=0)
    changes_applied = models.PositiveIntegerField(default=0)
    changes_proposed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["review", "lower"]
        constraints = [
            models.UniqueConstraint(fields=["review", "lower"], name="tierreviewchunk_one_per_range"),
            models.CheckConstraint(condition=Q(upper__gt=F("lower")), name="tierreviewchunk_range"),
        ]

    def __str__(self) -> str:
        return f"Review #{self.review_id} accounts {self.lower + 1}–{self.upper}"
