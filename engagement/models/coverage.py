"""Materialised coverage: per account and recurring entitlement, last delivery and next due date.

Rewritten set-based by ``engagement.coverage.services.coverage_recompute``; dashboards and the
worklist read it instead of aggregating the delivery ledger per request.
"""

from __future__ import annotations

from django.db import models


class EntitlementCoverage(models.Model):
    # No index of its own: the unique (account, module) index leads with the account, and every
    # index is written again on each non-HOT update of a nightly rewrite.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="coverage", db_index=False
    )
    module = models.ForeignKey("playbooks.ServiceModule", on_delete=models.CASCADE, related_name="+")
    cadence_days = models.PositiveIntegerField()
    is_add_on = models.BooleanField(default=False)
    entitled_since = models.DateField()
    last_delivered_on = models.DateField(null=True, blank=True)
    next_due_on = models.DateField()
    # Deliveries, and deliveries due so far, in the trailing window (settings.COVERAGE_WINDOW_DAYS),
    # so "share delivered on time" per CSM or tier is one SUM over this table.
    delivered_in_window = models.PositiveIntegerField(default=0)
    planned_in_window = models.DecimalField(max_digits=8, decimal_places=3, default=0)
    computed_on = models.DateField()
    # The account's tier and CSM when the row was written: the groups ``CoverageSummary`` counts it
    # under (a CSM change recomputes the account's coverage, which moves it).
    counted_tier_code = models.CharField(max_length=10, blank=True, default="")
    counted_csm_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "module"], name="coverage_unique_account_module")
        ]
        indexes = [models.Index(fields=["next_due_on"], name="coverage_next_due")]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.module_id} due {self.next_due_on}"
