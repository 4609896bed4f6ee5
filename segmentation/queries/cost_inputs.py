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
from typing import Any, Literal

from django.db import connection
from psycopg import sql

from accounts.models import UsageSnapshot

from .. import economics
from ..models import AccountCostInputs

_NO_MINUTES = "SELECT NULL::bigint AS account_id, 0 AS minutes WHERE false"

_COUNT = """
    WITH tickets AS (
        SELECT u.account_id, SUM(u.support_tickets) AS n FROM {tickets_from}
        WHERE u.period_start >= %(since)s {tickets_filter} GROUP BY u.account_id
    ),
    minutes AS ({minutes})
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


# Up to this many marked accounts are counted with their ids sent as one constant array: an index
# look-up per account in the usage and touchpoint tables, and, wherever the planner filters with
# it instead, a hashed membership test. More are joined with the kept table's marked rows: a bulk
# load of touchpoints may mark every account, a million ids read into Python and sent back cost
# more memory than the review, and an array built in the database (``ARRAY(SELECT ...)``) is
# searched element by element for every row a filter or a lossy bitmap rechecks (800,000 marked
# accounts over 26 million usage rows: the tickets alone ran past 11 minutes, against 15 s joined).
STALE_AS_ARRAY_MAX = 50_000


def _count(
    accounts: Literal["all", "marked"] | list[int], *, since: dt.date
) -> tuple[sql.Composed, dict[str, Any]]:
    """The count, and its parameters, of every account (``"all"``), of the marked accounts joined
    as rows (``"marked"``), or of the accounts of a list of ids."""
    params: dict[str, Any] = {"since": since}
    kept = sql.Identifier(AccountCostInputs._meta.db_table)
    usage = sql.Identifier(UsageSnapshot._meta.db_table)
    registered = sql.SQL(economics.minutes_sql() or _NO_MINUTES)
    minutes: sql.Composable
    if accounts == "all":
        tickets_from, tickets_filter, minutes = sql.SQL("{} u").format(usage), sql.SQL(""), registered
    elif accounts == "marked":
        tickets_from = sql.SQL("{kept} s JOIN {usage} u ON u.account_id = s.account_id").format(
            kept=kept, usage=usage
        )
        tickets_filter = sql.SQL("AND NOT s.current")
        # The registered SELECT is grouped: the join reads all of it once, which a count of a
        # large part of the book reads anyway.
        minutes = sql.SQL(
            "SELECT r.* FROM ({registered}) r JOIN {kept} s ON s.account_id = r.account_id "
            "WHERE NOT s.current"
        ).format(registered=registered, kept=kept)
    else:
        tickets_from = sql.SQL("{} u").format(usage)
        params["stale"] = accounts
        tickets_filter = sql.SQL("AND u.account_id = ANY(%(stale)s::bigint[])")
        # A condition on the grouped column is pushed into the registered SELECT by the planner.
        minutes = sql.SQL("SELECT * FROM ({}) r WHERE r.account_id = ANY(%(stale)s::bigint[])").format(
            registered
        )
    statement = sql.SQL(_COUNT).format(
        kept=kept, tickets_from=tickets_from, tickets_filter=tickets_filter, minutes=minutes
    )
    return statement, params


def cost_inputs_count_all(*, since: dt.date) -> int:
    """Count every account's inputs over the window from ``since`` again (the rows of accounts
    with neither minutes nor tickets in it go). Returns the rows kept. Call in a transaction."""
    table = sql.Identifier(AccountCostInputs._meta.db_table)
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(sql.SQL("DELETE FROM {}").format(table))
        cursor.execute(*_count("all", since=since))
        return int(cursor.rowcount)


def cost_inputs_count_stale(*, since: dt.date) -> int:
    """Count again the inputs of the rows a write marked (not current). Returns how many. Call in
    a transaction."""
    table = sql.Identifier(AccountCostInputs._meta.db_table)
    with connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute(
            sql.SQL("SELECT account_id FROM {} WHERE NOT current LIMIT %s").format(table),
            [STALE_AS_ARRAY_MAX + 1],
        )
        marked = [row[0] for row in cursor.fetchall()]
        if not marked:
            return 0
        # The marked accounts with activity in the window are counted (their rows become current);
        # the lock keeps new marks out until the commit, so what is still marked after the count
        # is an account whose activity all went: it keeps no row.
        cursor.execute(*_count("marked" if len(marked) > STALE_AS_ARRAY_MAX else marked, since=since))
        counted = int(cursor.rowcount)
        cursor.execute(sql.SQL("DELETE FROM {} WHERE NOT current").format(table))
        return counted + int(cursor.rowcount)
