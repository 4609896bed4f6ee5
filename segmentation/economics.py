"""Relationship economics (Storbacka's grid): revenue (ACV) against the annual cost to serve.

cost to serve = logged CSM minutes ÷ 60 × ``CSM_HOURLY_COST`` + support tickets ×
``SUPPORT_TICKET_COST``, over the last 365 days, annualised for accounts younger than a year.

Logged minutes live in a higher app, which registers the SQL that yields them in its ready()::

    from segmentation.economics import register_minutes_sql
    register_minutes_sql(
        "SELECT account_id, SUM(minutes) AS minutes FROM engagement_touchpoint "
        "WHERE occurred_at >= %(since)s GROUP BY account_id"
    )

The SQL must yield ``(account_id, minutes)`` and may use the ``%(since)s`` parameter (a date).
Until one is registered, minutes count as 0.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from accounts.models import Account, UsageSnapshot

from .models import Quadrant

_minutes_sql: str | None = None
NO_MINUTES_SQL = "SELECT account_id, 0 AS minutes FROM accounts_usagesnapshot WHERE 1 = 0"
# Younger accounts are annualised over at least this many days, so a first busy week does not
# extrapolate to an absurd yearly cost.
MIN_ANNUALISE_DAYS = 30


def register_minutes_sql(sql: str) -> None:
    """Register the SQL yielding (account_id, minutes) logged since ``%(since)s``."""
    global _minutes_sql
    _minutes_sql = sql


def minutes_sql() -> str:
    return _minutes_sql or NO_MINUTES_SQL


def _days_since_start_sql() -> str:
    if connection.vendor == "postgresql":
        return "(%(today)s::date - COALESCE(a.contract_start, a.created_at::date))"
    return "(julianday(%(today)s) - julianday(COALESCE(a.contract_start, date(a.created_at))))"


def cost_sql(*, where: str = "") -> str:
    """SELECT id, acv, cost, quadrant per account (``where`` filters accounts, e.g. one id)."""
    account_table = Account._meta.db_table
    usage_table = UsageSnapshot._meta.db_table
    days = _days_since_start_sql()
    return f"""
        WITH tickets AS (
            SELECT account_id, SUM(support_tickets) AS n FROM {usage_table}
            WHERE period_start >= %(since)s GROUP BY account_id
        ),
        minutes AS ({minutes_sql()}),
        costs AS (
            SELECT a.id, a.acv,
                   (COALESCE(m.minutes, 0) / 60.0 * %(hourly)s + COALESCE(t.n, 0) * %(ticket)s)
                   * (CASE WHEN {days} < 365 THEN 365.0 / (CASE WHEN {days} < {MIN_ANNUALISE_DAYS}
                                                           THEN {MIN_ANNUALISE_DAYS} ELSE {days} END)
                      ELSE 1 END) AS cost
            FROM {account_table} a
            LEFT JOIN tickets t ON t.account_id = a.id
            LEFT JOIN minutes m ON m.account_id = a.id
            {where}
        )
        SELECT id, acv, cost,
               CASE WHEN acv >= %(high_revenue)s
                    THEN CASE WHEN cost >= %(high_cost)s THEN '{Quadrant.HIGH_REVENUE_HIGH_COST.value}'
                              ELSE '{Quadrant.HIGH_REVENUE_LOW_COST.value}' END
                    ELSE CASE WHEN cost >= %(high_cost)s THEN '{Quadrant.LOW_REVENUE_HIGH_COST.value}'
                              ELSE '{Quadrant.LOW_REVENUE_LOW_COST.value}' END
               END AS quadrant
        FROM costs
    """


def cost_params(today: dt.date, **extra: Any) -> dict[str, Any]:
    return {
        "since": today - dt.timedelta(days=365),
        "today": today,
        "hourly": float(settings.CSM_HOURLY_COST),
        "ticket": float(settings.SUPPORT_TICKET_COST),
        "high_revenue": float(settings.ECONOMICS_HIGH_REVENUE_ACV),
        "high_cost": float(settings.ECONOMICS_HIGH_COST_TO_SERVE),
        **extra,
    }


def revenue_totals() -> dict[bool, tuple[int, Decimal]]:
    """{is_high_revenue: (accounts, acv_sum)} over all accounts."""
    sql = f"SELECT acv >= %(high_revenue)s, COUNT(*), SUM(acv) FROM {Account._meta.db_table} GROUP BY 1"
    with connection.cursor() as cursor:
        cursor.execute(sql, {"high_revenue": float(settings.ECONOMICS_HIGH_REVENUE_ACV)})
        return {bool(high): (n, Decimal(str(acv or 0))) for high, n, acv in cursor.fetchall()}


def quadrant_totals(
    today: dt.date, *, by_revenue: dict[bool, tuple[int, Decimal]] | None = None
) -> list[tuple[str, int, Decimal, Decimal]]:
    """[(quadrant, accounts, acv_sum, cost_sum)] over all accounts.

    Costs are computed only for accounts that have logged minutes or tickets in the year; every
    other account costs 0 and falls in its revenue class's low-cost quadrant (or high-cost, if the
    threshold is 0). ``by_revenue`` (from ``revenue_totals``) saves a scan when the caller has it.
    """
    by_revenue = revenue_totals() if by_revenue is None else by_revenue
    costed_only = "WHERE a.id IN (SELECT account_id FROM tickets UNION SELECT account_id FROM minutes)"
    sql = (
        f"SELECT acv >= %(high_revenue)s, quadrant, COUNT(*), SUM(acv), SUM(cost) "
        f"FROM ({cost_sql(where=costed_only)}) q GROUP BY 1, 2"
    )
    totals: dict[str, list[Any]] = {q.value: [0, Decimal(0), Decimal(0)] for q in Quadrant}
    costed: dict[bool, list[Any]] = {True: [0, Decimal(0)], False: [0, Decimal(0)]}
    with connection.cursor() as cursor:
        cursor.execute(sql, cost_params(today))
        for high, quadrant, n, acv, cost in cursor.fetchall():
            totals[quadrant][0] += n
            totals[quadrant][1] += Decimal(str(acv or 0))
            totals[quadrant][2] += Decimal(str(round(cost or 0, 2)))
            costed[bool(high)][0] += n
            costed[bool(high)][1] += Decimal(str(acv or 0))
    zero_is_high = float(settings.ECONOMICS_HIGH_COST_TO_SERVE) <= 0
    for high, (n, acv) in by_revenue.items():
        quadrant = {
            (True, False): Quadrant.HIGH_REVENUE_LOW_COST,
            (True, True): Quadrant.HIGH_REVENUE_HIGH_COST,
            (False, False): Quadrant.LOW_REVENUE_LOW_COST,
            (False, True): Quadrant.LOW_REVENUE_HIGH_COST,
        }[(high, zero_is_high)]
        totals[quadrant.value][0] += n - costed[high][0]
        totals[quadrant.value][1] += acv - costed[high][1]
    return [(q, n, acv, cost) for q, (n, acv, cost) in totals.items() if n]


def account_economics(account_id: int, today: dt.date) -> dict[str, Any]:
    """The cost to serve and quadrant of one account: {"acv", "cost_to_serve", "quadrant"}."""
    sql = cost_sql(where="WHERE a.id = %(account_id)s")
    with connection.cursor() as cursor:
        cursor.execute(sql, cost_params(today, account_id=account_id))
        row = cursor.fetchone()
    if row is None:
        return {}
    return {
        "acv": Decimal(str(row[1])),
        "cost_to_serve": Decimal(str(round(row[2] or 0, 2))),
        "quadrant": row[3],
        "quadrant_label": Quadrant(row[3]).label,
    }
