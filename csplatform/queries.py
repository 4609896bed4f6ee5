"""Hand-written SQL of the core package (PostgreSQL only).

Each function names one statement. They are SQL because no ORM call says the same: a bare round
trip for the health check, transaction-scoped advisory locks, and a commit that does not wait for
the disk.
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


def commit_without_flush_wait() -> None:
    """For the rest of the current transaction, ``synchronous_commit = off``: its COMMIT returns
    before the WAL reaches the disk (within ``wal_writer_delay``, 200 ms by default).

    Only for transactions whose loss in a crash costs nothing but a repeat: the batches of a tier
    review and of the nightly health run (each commits its writes with its progress, so a crash
    loses whole batches, which the run evaluates again when it resumes; waiting for the flush cost
    18 ms per commit, a tenth of a review of a million accounts), and the outbox's removal of
    published rows (a lost removal publishes the task again, and tasks are safe to run twice).
    Outside a transaction it does nothing."""
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
