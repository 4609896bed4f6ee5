"""The kept active book per tier (``TierBookDelta``): read it, fold it.

Mirrors the rule "the active book is every account not churned" (``accounts.selectors.
in_active_book``), which the triggers of migration 0015 apply; tests/segmentation/test_tier_book.py
checks that the kept figures equal a count over the accounts after every kind of write.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection


def tier_book_counts() -> list[tuple[str, str, int | None, int, Decimal]]:
    """(code, name, rank, accounts, ACV) per tier of the active book, tiers without accounts left
    out."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tier_code, tier_name, tier_rank, sum(accounts), sum(acv)
            FROM segmentation_tierbookdelta
            GROUP BY tier_code, tier_name, tier_rank
            HAVING sum(accounts) <> 0
            """
        )
        return [(code, name, rank, int(n), Decimal(acv)) for code, name, rank, n, acv in cursor.fetchall()]


def tier_book_compact() -> int:
    """Fold the appended rows into one per tier; returns the rows that remain.

    The DELETE sees the rows committed when it starts; a writer appending meanwhile keeps its
    row, so nothing is counted twice or lost."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH folded AS (
                DELETE FROM segmentation_tierbookdelta
                RETURNING tier_code, tier_name, tier_rank, accounts, acv
            )
            INSERT INTO segmentation_tierbookdelta (tier_code, tier_name, tier_rank, accounts, acv)
            SELECT tier_code, tier_name, tier_rank, sum(accounts), sum(acv)
            FROM folded
            GROUP BY tier_code, tier_name, tier_rank
            HAVING sum(accounts) <> 0 OR sum(acv) <> 0
            """
        )
        return cursor.rowcount
