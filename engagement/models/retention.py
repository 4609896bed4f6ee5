"""Sums of renewal outcomes per renewal day and segment, for the retention report."""

from __future__ import annotations

from django.db import models


class RetentionDaySums(models.Model):
    """The sums of the outcomes of one renewal day that fell in one group of one historical
    dimension, over the outcomes whose segments are kept (``RenewalOutcome.segments_at_renewal``).

    Derived data: ``engagement.retention`` rebuilds a day's rows whenever an outcome of that day
    is recorded, changed, deleted, settled or forgotten, so a year's report by tier reads ~365 × a
    few rows instead of every outcome. Never edited by hand.
    """

    renewal_date = models.DateField()
    dimension = models.CharField(max_length=20)
    grp = models.CharField("group", max_length=64)
    renewals = models.PositiveIntegerField()
    arr_before = models.DecimalField(max_digits=18, decimal_places=2)
    arr_after = models.DecimalField(max_digits=18, decimal_places=2)
    arr_kept = models.DecimalField(max_digits=18, decimal_places=2)
    churned = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "renewal_date", "grp"], name="retention_day_sums_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.renewal_date} {self.dimension}={self.grp}: {self.renewals}"
