"""Engagement's health inputs as they stood on past days, for many (account, day) pairs at once.

Each statement joins the pairs (two parallel array parameters, unnested with their position) to
the engagement table, so a backtest over 100,000 renewals reads each input in one statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import Flag, Touchpoint

# The pairs, numbered from 1 in the order given; ``p.day + 1`` is the first moment after the day
# (midnight UTC, the connection's time zone).
_PAIRS = "unnest(%(account_ids)s::bigint[], %(days)s::date[]) WITH ORDINALITY AS p(account_id, day, position)"


def _fetch(statement: sql.Composable, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall())


def last_touch_before(
    *, account_ids: Sequence[int], days: Sequence[dt.date]
) -> list[tuple[int, dt.datetime, str]]:
    """[(position, last touchpoint before the end of that day, account region)] for the pairs
    with a touchpoint by then (positions from 1)."""
    statement = sql.SQL(
        "SELECT p.position, max(t.occurred_at), a.region FROM " + _PAIRS + " "
        "JOIN {touchpoints} t ON t.account_id = p.account_id AND t.occurred_at < (p.day + 1)::timestamptz "
        "JOIN {accounts} a ON a.id = p.account_id "
        "GROUP BY p.position, a.region"
    ).format(
        touchpoints=sql.Identifier(Touchpoint._meta.db_table),
        accounts=sql.Identifier(Account._meta.db_table),
    )
    return _fetch(statement, {"account_ids": list(account_ids), "days": list(days)})  # type: ignore[return-value]


def flags_open_at(*, account_ids: Sequence[int], days: Sequence[dt.date]) -> list[tuple[int, int]]:
    """[(position, flags open at the end of that day)] for the pairs with any: raised by then, and
    neither closed nor past their expiry by then."""
    statement = sql.SQL(
        "SELECT p.position, count(f.id) FROM " + _PAIRS + " "
        "JOIN {flags} f ON f.account_id = p.account_id AND f.raised_at < (p.day + 1)::timestamptz "
        "AND f.expires_at >= (p.day + 1)::timestamptz "
        "AND (f.closed_at IS NULL OR f.closed_at >= (p.day + 1)::timestamptz) "
        "GROUP BY p.position"
    ).format(flags=sql.Identifier(Flag._meta.db_table))
    return _fetch(statement, {"account_ids": list(account_ids), "days": list(days)})  # type: ignore[return-value]
