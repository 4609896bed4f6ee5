"""Counting the kept cost-to-serve inputs (``AccountCostInputs``): a year's minutes and tickets
per account, from the usage table and the minutes SQL a higher app registers.

Mirrors the ``tickets`` and ``minutes`` of ``queries.economics._COSTS`` (the same statements
over the same window); tests/segmentation/test_cost_inputs.py holds the kept figures equal to
them. Before counting, the kept table is locked EXCLUSIVE against the triggers that write it
(segmentation's migrations 0014 and 0016, engagement's touchpoint triggers), whose statements
take ROW EXCLUSIVE: a writer that got there first commits before the count, which sees its rows;
a writer that waits adds its tickets' difference (or its mark) once the count committed, reading
the window and the figures the count wrote in the same statement (READ COMMITTED takes that
statement's snapshot after its locks). No write is counted twice or lost.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from psycopg import sql

from accounts.models import UsageSnapshot

from .. import economics
from ..models import AccountCostInputs

_NO_MINUTES = "SELECT NULL::bigint AS account_id, 0 AS minutes WHERE false"

_COUNT = """
    WITH tickets AS (
        SELECT account_id, SUM(support_tickets) AS n FROM {usage}
        WHERE period_start >= %(since)s {usage_filter} GROUP BY account_id
    ),
    minutes AS (SELECT * FROM ({minutes}) registered {minutes_filter})
    INSERT INTO {kept} (account_id, minutes, tickets, current)
    SELECT COALESCE(t.account_id, m.account_id), COALESCE(m.minutes, 0), COALESCE(t.n, 0), true
    FROM tickets t FULL JOIN minutes m ON m.account_id = t.account_id
    ON CONFLICT (account_id) DO UPDATE
    SET minutes = EXCLUDED.minutes, tickets = EXCLUDED.tickets, current = true
"""


def _lock(cursor: object) -> None:
    # EXCLUSIVE conflicts with the ROW EXCLUSIVE lock of a trigger's INSERT (a mark or a delta).
    cursor.execute(  # type: ignore[attr-defined]
        sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(AccountCostInputs._meta.db_table))
    )


# The marked rows' accounts as one array, built in the database: a bulk load of touchpoints may
# mark every account, and a million ids read into Python and sent back cost more memory than the
# review.
_STALE_IDS = sql.SQL("ARRAY(SELECT account_id FROM {} WHERE NOT current)")


def _count(*, since: dt.date, stale_only: bool) -> sql.Composed:
    kept = sql.Identifier(AccountCostInputs._meta.db_table)
    ids = _STALE_IDS.format(kept)
    return sql.SQL(_COUNT).format(
        usage=sql.Identifier(UsageSnapshot._meta.db_table),
        kept=kept,
        minutes=sql.SQL(economics.minutes_sql() or _NO_MINUTES),
        usage_filter=sql.SQL("AND account_id = ANY({})").format(ids) if stale_only else sql.SQL(""),
        # A condition on the grouped column is pushed into the registered SELECT by the planner.
        minutes_filter=sql.SQL("WHERE account_id = ANY({})").format(ids) if stale_only else sql.SQL(""),
    )


def cost_inputs_count_all(*, since: dt.date) -> int:
    """Count every account's inputs over the window from ``since`` again (the rows of accounts
    with neither minutes nor tickets in it go). Returns the rows kept. Call in a transaction."""
    table = sql.Identifier(AccountCostInputs._meta.db_table)
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(sql.SQL("DELETE FROM {}").format(table))
        cursor.execute(_count(since=since, stale_only=False), {"since": since})
        return int(cursor.rowcount)


def cost_inputs_count_stale(*, since: dt.date) -> int:
    """Count again the inputs of the rows a write marked (not current). Returns how many. Call in
    a transaction."""
    table = sql.Identifier(AccountCostInputs._meta.db_table)
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE NOT current)").format(table))
        if not cursor.fetchone()[0]:
            return 0
        # The marked accounts with activity in the window are counted (their rows become current);
        # the lock keeps new marks out until the commit, so what is still marked after the count
        # is an account whose activity all went: it keeps no row.
        cursor.execute(_count(since=since, stale_only=True), {"since": since})
        counted = int(cursor.rowcount)
        cursor.execute(sql.SQL("DELETE FROM {} WHERE NOT current").format(table))
        return counted + int(cursor.rowcount)
