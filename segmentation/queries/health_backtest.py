"""What the health backtest reads about many (account, past day) pairs, one statement per kind.

The pairs go as two parallel array parameters, unnested with their position (from 1), so each
read is one indexed join whatever the number of renewals. None of these mirrors a rule; they fetch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import UsageSnapshot

from ..models import AccountHealth

_PAIRS = "unnest(%(account_ids)s::bigint[], %(days)s::date[]) WITH ORDINALITY AS p(account_id, day, position)"


def _fetch(statement: sql.Composable, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall())


def usage_history_as_of(
    *, account_ids: Sequence[int], days: Sequence[dt.date], lookback_days: int
) -> list[tuple[int, dt.date, int, int, Decimal, int]]:
    """[(position, period start, active users, seats, feature adoption, tickets)] of the usage
    periods starting within ``lookback_days`` before each pair's day and not after it, by position
    then period."""
    statement = sql.SQL(
        "SELECT p.position, u.period_start, u.active_users, u.licensed_seats, u.feature_adoption, "
        "u.support_tickets FROM " + _PAIRS + " "
        "JOIN {usage} u ON u.account_id = p.account_id "
        "AND u.period_start >= p.day - %(lookback_days)s::int AND u.period_start <= p.day "
        "ORDER BY p.position, u.period_start"
    ).format(usage=sql.Identifier(UsageSnapshot._meta.db_table))
    params = {"account_ids": list(account_ids), "days": list(days), "lookback_days": lookback_days}
    return _fetch(statement, params)  # type: ignore[return-value]


def stored_scores_as_of(
    *, account_ids: Sequence[int], days: Sequence[dt.date], scorecard_id: int, max_age_days: int
) -> list[tuple[int, int]]:
    """[(position, score)] of the latest AccountHealth row computed under ``scorecard_id`` on or at
    most ``max_age_days`` before each pair's day (pairs without one are left out)."""
    statement = sql.SQL(
        "SELECT DISTINCT ON (p.position) p.position, h.score FROM " + _PAIRS + " "
        "JOIN {health} h ON h.account_id = p.account_id AND h.date <= p.day "
        "AND h.date >= p.day - %(max_age_days)s::int AND h.scorecard_id = %(scorecard_id)s "
        "ORDER BY p.position, h.date DESC"
    ).format(health=sql.Identifier(AccountHealth._meta.db_table))
    params = {
        "account_ids": list(account_ids),
        "days": list(days),
        "scorecard_id": scorecard_id,
        "max_age_days": max_age_days,
    }
    return _fetch(statement, params)  # type: ignore[return-value]
