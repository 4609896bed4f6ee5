"""Coverage over a period from the delivery ledger, for drill-downs: the figures the rewrite would
store, computed for a period the table does not hold.

Mirrors ``engagement.coverage.selectors.coverage_share`` (the same sums over the stored table), with
the rewrite's own figures (``_current``); a test holds both equal over the trailing window
(tests/engagement/test_coverage.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.db import connection
from psycopg import sql

from accounts.models import Account
from csplatform.models import User

from ...sql import render, table
from . import _current, _params


def coverage_share_by_group(
    *, policy_id: int, start: dt.date, end: dt.date, group_by: Literal["csm", "tier"]
) -> list[tuple[str | None, Decimal, Decimal, int]]:
    """(CSM username or tier code, planned, delivered on time, overdue) from ``start`` to ``end``
    inclusive, straight from the delivery ledger (the figures ``coverage_rewrite`` would store as
    of ``end`` with a window of the period's length), for accounts with a CSM when grouped by CSM.

    Mirrors ``engagement.coverage.selectors.coverage_share`` (the same sums over the stored table). SQL
    because the figures are computed for a period the table does not hold, then summed, in one
    query."""
    window_days = (end - start).days + 1
    params = _params(policy_id=policy_id, today=end, window_days=window_days, account_ids=None, id_range=None)
    key = sql.Identifier("u", "username") if group_by == "csm" else sql.Identifier("a", "tier_code")
    query = sql.SQL("""
        SELECT {key} AS key, SUM(c.planned_in_window) AS planned,
               SUM(LEAST(c.delivered_in_window, c.planned_in_window)) AS delivered,
               COUNT(*) FILTER (WHERE c.next_due_on < %(today)s) AS overdue
        FROM ({current}) c
        JOIN {accounts} a ON a.id = c.account_id
        LEFT JOIN {users} u ON u.id = a.csm_id
        WHERE {with_csm}
        GROUP BY {key} ORDER BY {key}
    """).format(
        key=key,
        current=_current(account_ids=None, id_range=None),
        accounts=table(Account),
        users=table(User),
        with_csm=sql.SQL("a.csm_id IS NOT NULL" if group_by == "csm" else "TRUE"),
    )
    with connection.cursor() as cursor:
        cursor.execute(render(query), params)
        return list(cursor.fetchall())
