from __future__ import annotations

from django.db import models


class TierBookDelta(models.Model):
    """The active book per tier (accounts and ACV), kept by the database itself.

    Statement-level triggers on the accounts table append, for every statement that inserts,
    updates or deletes accounts, how many accounts and how much ACV each (code, name, rank) of
    tier gained or lost in the active book (churned accounts are outside it). Whoever writes the
    accounts (a review chunk, a sync, an override, a bulk load, a raw UPDATE) keeps the figures
    exact, and concurrent writers only append rows, so they never wait on each other here. The
    distribution is the sum of the rows per tier; ``services.book.tier_book_compact`` folds them
    into one row per tier when a review finishes. Created by migration 0015 (``TRIGGERS``).
    """

    tier_code = models.CharField(max_length=10, blank=True)
    tier_name = models.CharField(max_length=80, blank=True)
    tier_rank = models.SmallIntegerField(null=True, blank=True)
    accounts = models.BigIntegerField()
    acv = models.DecimalField(max_digits=20, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.tier_code or 'none'} {self.accounts:+d}"
