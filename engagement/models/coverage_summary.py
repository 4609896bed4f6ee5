"""Coverage summed per tier and per CSM, so the leadership panel reads a few rows instead of
grouping every coverage row of the book.

Kept by ``engagement.coverage.queries.coverage_rewrite`` in the same transaction as the coverage
rows it sums: each rewrite subtracts what the rows of its accounts added before and adds what they
add now. Each coverage row remembers the tier and CSM it is counted under (``counted_tier_code``,
``counted_csm_id``), so an account that changed hands moves from one group to the other.

"Overdue" depends on the day it is asked: an entitlement is overdue when its next due day is
before today. So the entitlements are counted per next due day (``due_on``), and the accounts per
the earliest next due day of their entitlements; days before ``CoverageSummaryBase.base_on`` are
folded into one bucket (``due_on`` NULL), which every day from the base on counts as overdue.
The planned and on-time deliveries do not depend on the day, so they are all kept in that NULL
bucket, which every tier and CSM with a row has: the panel reads the NULL bucket and the days
overdue on its day, a few rows per tier and CSM, not every due day of the coming year.
"""

from __future__ import annotations

from django.db import models


class CoverageSummaryDimension(models.TextChoices):
    TIER = "tier", "Tier"
    CSM = "csm", "CSM"


class CoverageSummary(models.Model):
    """For one tier (``key``: its code) or one CSM (``key``: the user id; '' for accounts without a
    CSM) and one next due day: the entitlements due that day and the accounts whose earliest due day
    it is; the NULL bucket also holds the planned and on-time deliveries of all of them in the
    window."""

    dimension = models.CharField(max_length=8, choices=CoverageSummaryDimension.choices)
    key = models.CharField(max_length=40, blank=True)
    # NULL: before ``CoverageSummaryBase.base_on`` (overdue from the base day on).
    due_on = models.DateField(null=True, blank=True)
    entitlements = models.IntegerField(default=0)
    accounts = models.IntegerField(default=0)
    planned = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    delivered_on_time = models.DecimalField(max_digits=16, decimal_places=3, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key", "due_on"],
                name="coverage_summary_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [
            # The panel reads the NULL bucket and the days already overdue: with 8,000 CSMs a tenth
            # of the rows, which a scan of the whole table (every due day of the coming year) read
            # ten times over.
            models.Index(fields=["due_on"], name="coverage_summary_due_on"),
        ]

    def __str__(self) -> str:
        return f"{self.dimension} {self.key or '—'} {self.due_on or 'before base'}: {self.entitlements}"


class CoverageSummaryBase(models.Model):
    """One row: the day before which ``CoverageSummary`` folds due days into one bucket. It only
    moves forward (to the day of the latest rewrite)."""

    base_on = models.DateField()

    def __str__(self) -> str:
        return f"coverage summary from {self.base_on}"
