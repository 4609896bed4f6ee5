from __future__ import annotations

from django.db import models


class AccountCostInputs(models.Model):
    """An account's cost-to-serve inputs over the cost window (``economics``): its logged minutes
    and support tickets of the year, kept so that a book's economics summary is one pass over
    this table instead of a year of touchpoints and usage.

    Database triggers keep them whoever writes (a sync, a service, a bulk load). A statement that
    writes or deletes usage adds to each account's ``tickets`` the difference it made within the
    counted window (``CostInputsWindow``): usage is written for the whole book every week, and
    the next read then has nothing to count. A statement that writes or deletes touchpoints marks
    the accounts' rows not ``current``; ``services.cost_inputs`` counts such rows again in full
    (minutes and tickets) before they are read, and counts every row again when the window has
    moved (nightly). A missing row and a row of zeros both mean no inputs: a row whose usage all
    went keeps its zeros until the next full count. No database-level foreign key: a trigger may
    write the row of an account that is being deleted, and such rows are ignored (joined with
    the accounts) and removed at the next full count.
    """

    account = models.OneToOneField(
        "accounts.Account",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    minutes = models.BigIntegerField(default=0)
    tickets = models.BigIntegerField(default=0)
    # False: a touchpoint write touched this account's minutes since they were counted.
    current = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["account"], name="cost_inputs_stale", condition=models.Q(current=False))
        ]

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.minutes} min, {self.tickets} tickets"


class CostInputsWindow(models.Model):
    """The first day of the cost window the kept inputs were counted for (one row)."""

    window_start = models.DateField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"cost window from {self.window_start}"
