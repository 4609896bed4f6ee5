"""Hand-written SQL of the accounts app (PostgreSQL only).

Demo seeding writes up to a million rows: COPY streams them about ten times faster than
``bulk_create``, which binds every value as a query parameter. Identifiers are composed with
``psycopg.sql``, never formatted into the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from psycopg import sql


def rows_copy(*, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Stream ``rows`` (values in ``columns`` order, ready for the database) into ``table`` with
    COPY; returns how many were written. Mirrors no rule: it is ``bulk_create`` without the
    per-parameter cost."""
    statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
        table=sql.Identifier(table),
        columns=sql.SQL(", ").join(sql.Identifier(column) for column in columns),
    )
    written = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written
