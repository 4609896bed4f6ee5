"""Hand-written SQL of the core package (PostgreSQL only).

Each function names one statement. They are SQL because no ORM call says the same: a bare round
trip for the health check, and transaction-scoped advisory locks.
"""

from __future__ import annotations

from django.db import connection


def database_round_trip() -> None:
    """Send ``SELECT 1`` and read the answer; raises if the database does not answer.

    SQL because opening a connection proves nothing about a pooled or half-dead one: only a
    round trip does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def advisory_xact_lock(*, key: str) -> None:
    """Wait for the transaction-scoped advisory lock named ``key``; it is released at commit.

    SQL because PostgreSQL advisory locks have no ORM form. Two workers that take the same key
    run one after the other without locking any row."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%(key)s))", {"key": key})
