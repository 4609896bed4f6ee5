"""Relationship economics in SQL: the cost to serve and quadrant of many accounts at once.

The rule is ``segmentation.economics.annual_cost_to_serve`` and ``quadrant_for``; the one-account
panel runs it in Python. Dashboards and drill-downs need it for every account, which only a
set-based statement does in seconds: ``_COSTS`` below mirrors it, and
tests/segmentation/test_queries_agree.py proves both agree. It is written with a single division
at the end, as the Python rule is, so both round alike.

Logged minutes come from the SQL a higher app registers (``economics.register_minutes_sql``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account, UsageSnapshot
from accounts.selectors import CHURNED_STAGE

from .. import economics
from ..economics import MIN_ANNUALISE_DAYS, CostRates, Quadrant
from ..models import AccountCostInputs

# Until a higher app registers its minutes, every account has logged none.
_NO_MINUTES = "SELECT NULL::bigint AS account_id, 0 AS minutes WHERE false"

# The cost and quadrant of each row of ``spans`` (id, acv, minutes, tickets, days served).
_COSTS_OF_SPANS = """
    costs AS (
        SELECT id, acv,
               (minutes * %(hourly)s + 60 * tickets * %(ticket)s)
               * (CASE WHEN days < 365 THEN 365 ELSE 1 END)
               / (60 * CASE WHEN days >= 365 THEN 1 ELSE GREATEST(days, %(min_days)s) END) AS cost
        FROM spans
    )
    SELECT id, acv, cost,
           CASE WHEN acv >= %(high_revenue)s
                THEN CASE WHEN cost >= %(high_cost)s THEN %(q_high_high)s ELSE %(q_high_low)s END
                ELSE CASE WHEN cost >= %(high_cost)s THEN %(q_low_high)s ELSE %(q_low_low)s END
           END AS quadrant
    FROM costs
"""

# (id, acv, cost, quadrant) of the accounts ``{accounts}`` selects (a FROM item aliased ``a``).
_COSTS = (
    """
    WITH tickets AS (
        SELECT account_id, SUM(support_tickets) AS n FROM {usage}
        WHERE period_start >= %(since)s GROUP BY account_id
    ),
    minutes AS ({minutes}),
    spans AS (
        SELECT a.id, a.acv, COALESCE(m.minutes, 0) AS minutes, COALESCE(t.n, 0) AS tickets,
               %(today)s::date - COALESCE(a.contract_start, a.created_at::date) AS days
        FROM {accounts}
        LEFT JOIN tickets t ON t.account_id = a.id
        LEFT JOIN minutes m ON m.account_id = a.id
    ),"""
    + _COSTS_OF_SPANS
)

# The same from the kept inputs (``AccountCostInputs``) of the accounts that have a row.
_KEPT_COSTS = (
    """
    WITH spans AS (
        SELECT a.id, a.acv, k.minutes, k.tickets,
               %(today)s::date - COALESCE(a.contract_start, a.created_at::date) AS days
        FROM {kept} k JOIN {accounts} a ON a.id = k.account_id
    ),"""
    + _COSTS_OF_SPANS
)


def _costs(accounts: sql.Composable) -> sql.Composed:
    return sql.SQL(_COSTS).format(
        usage=sql.Identifier(UsageSnapshot._meta.db_table),
        minutes=sql.SQL(economics.minutes_sql() or _NO_MINUTES),
        accounts=accounts,
    )


def _params(today: dt.date, rates: CostRates, **extra: Any) -> dict[str, Any]:
    return {
        "since": economics.cost_window_start(today),
        "today": today,
        "hourly": rates.hourly,
        "ticket": rates.ticket,
        "min_days": MIN_ANNUALISE_DAYS,
        "high_revenue": rates.high_revenue,
        "high_cost": rates.high_cost,
        "q_high_high": Quadrant.HIGH_REVENUE_HIGH_COST.value,
        "q_high_low": Quadrant.HIGH_REVENUE_LOW_COST.value,
        "q_low_high": Quadrant.LOW_REVENUE_HIGH_COST.value,
        "q_low_low": Quadrant.LOW_REVENUE_LOW_COST.value,
        **extra,
    }


def _accounts_table() -> sql.Composed:
    return sql.SQL("{} a").format(sql.Identifier(Account._meta.db_table))


def account_costs(
    *, account_ids: Sequence[int], today: dt.date, rates: CostRates
) -> list[tuple[int, Decimal, Decimal, str]]:
    """[(id, acv, annual cost, quadrant)] of ``account_ids``, in one statement.

    Mirrors ``economics.annual_cost_to_serve`` and ``economics.quadrant_for``."""
    accounts = sql.SQL("(SELECT * FROM {} WHERE id = ANY(%(account_ids)s)) a").format(
        sql.Identifier(Account._meta.db_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(_costs(accounts), _params(today, rates, account_ids=list(account_ids)))
        return list(cursor.fetchall())


def costed_quadrant_totals(
    *, today: dt.date, rates: CostRates
) -> list[tuple[bool, str, int, Decimal, Decimal]]:
    """[(high revenue?, quadrant, accounts, acv sum, cost sum)] of the accounts with logged minutes
    or tickets in the year; every other account costs nothing (the caller places those).

    Mirrors ``economics.annual_cost_to_serve`` and ``economics.quadrant_for``. SQL because it
    covers every account with activity: one scan instead of a million Python evaluations."""
    accounts = sql.SQL(
        "(SELECT * FROM {} WHERE id IN "
        "(SELECT account_id FROM tickets UNION SELECT account_id FROM minutes)) a"
    ).format(sql.Identifier(Account._meta.db_table))
    statement = sql.SQL(
        "SELECT acv >= %(high_revenue)s, quadrant, COUNT(*), SUM(acv), SUM(cost) "
        "FROM ({costs}) q GROUP BY 1, 2"
    ).format(costs=_costs(accounts))
    with connection.cursor() as cursor:
        cursor.execute(statement, _params(today, rates))
        return list(cursor.fetchall())


def kept_costed_quadrant_totals(
    *, today: dt.date, rates: CostRates
) -> list[tuple[bool, str, int, Decimal, Decimal]]:
    """``costed_quadrant_totals`` from the kept inputs (``AccountCostInputs``), which the caller
    brought up to date for ``today``'s window (``services.cost_inputs``): one pass over the kept
    rows joined with their accounts, instead of a year of usage and touchpoints.

    Mirrors ``economics.annual_cost_to_serve`` and ``economics.quadrant_for`` as ``_COSTS`` does.
    The accounts it covers may differ from ``costed_quadrant_totals``' by accounts whose inputs
    are zero (a row whose usage went keeps its zeros; usage of no tickets writes no row): those
    cost nothing, and the caller places them as it places the accounts without a row.
    tests/segmentation/test_cost_inputs.py holds the book's totals equal to the live ones."""
    statement = sql.SQL(
        "SELECT acv >= %(high_revenue)s, quadrant, COUNT(*), SUM(acv), SUM(cost) "
        "FROM ({costs}) q GROUP BY 1, 2"
    ).format(
        costs=sql.SQL(_KEPT_COSTS).format(
            kept=sql.Identifier(AccountCostInputs._meta.db_table),
            accounts=sql.Identifier(Account._meta.db_table),
        )
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, _params(today, rates))
        return list(cursor.fetchall())


def account_ids_in_quadrant(*, quadrant: str, today: dt.date, rates: CostRates, limit: int) -> list[int]:
    """Ids of the ``limit`` largest accounts (ACV, then id) whose quadrant is ``quadrant``.

    Mirrors ``economics.quadrant_for``. SQL because the quadrant of every account is needed to
    find them, and it is computed, not stored."""
    statement = sql.SQL(
        "SELECT id FROM ({costs}) q WHERE quadrant = %(quadrant)s ORDER BY acv DESC, id LIMIT %(limit)s"
    ).format(costs=_costs(_accounts_table()))
    with connection.cursor() as cursor:
        cursor.execute(statement, _params(today, rates, quadrant=quadrant, limit=limit))
        return [row[0] for row in cursor.fetchall()]


def account_ids_in_quadrant_page(
    *, quadrant: str, today: dt.date, rates: CostRates, limit: int, offset: int
) -> tuple[list[int], int]:
    """(ids of one page of the accounts in ``quadrant``, largest ACV first; how many there are).

    Mirrors ``economics.quadrant_for`` like ``account_ids_in_quadrant``; the total comes with the
    page (a window count), so a drill-down costs one query whatever the page."""
    # The active book, as the grid's summary counts it (a churned account is in no quadrant).
    accounts = sql.SQL("(SELECT * FROM {} WHERE lifecycle_stage <> %(churned)s) a").format(
        sql.Identifier(Account._meta.db_table)
    )
    statement = sql.SQL(
        "SELECT id, COUNT(*) OVER () FROM ({costs}) q WHERE quadrant = %(quadrant)s "
        "ORDER BY acv DESC, id LIMIT %(limit)s OFFSET %(offset)s"
    ).format(costs=_costs(accounts))
    params = _params(today, rates, quadrant=quadrant, limit=limit, offset=offset, churned=CHURNED_STAGE)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    if rows:
        return [row[0] for row in rows], int(rows[0][1])
    if offset:  # past the last page: the total still answers
        _, total = account_ids_in_quadrant_page(
            quadrant=quadrant, today=today, rates=rates, limit=1, offset=0
        )
        return [], total
    return [], 0


def account_cost_inputs(*, account_id: int, today: dt.date) -> tuple[Decimal, int, int, dt.date] | None:
    """(acv, minutes, tickets, served since) of one account over the cost window, or None.

    The inputs of ``economics.annual_cost_to_serve``; SQL because the minutes come from the SQL a
    higher app registers. ``served since`` is the contract start, else the day it was created."""
    statement = sql.SQL(
        """
        WITH tickets AS (
            SELECT account_id, SUM(support_tickets) AS n FROM {usage}
            WHERE period_start >= %(since)s AND account_id = %(account_id)s GROUP BY account_id
        ),
        minutes AS ({minutes})
        SELECT a.acv, COALESCE(m.minutes, 0), COALESCE(t.n, 0),
               COALESCE(a.contract_start, a.created_at::date)
        FROM {accounts} a
        LEFT JOIN tickets t ON t.account_id = a.id
        LEFT JOIN minutes m ON m.account_id = a.id
        WHERE a.id = %(account_id)s
        """
    ).format(
        usage=sql.Identifier(UsageSnapshot._meta.db_table),
        minutes=sql.SQL(economics.minutes_sql() or _NO_MINUTES),
        accounts=sql.Identifier(Account._meta.db_table),
    )
    params: dict[str, Any] = {"since": economics.cost_window_start(today), "account_id": account_id}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return None
    acv, minutes, tickets, served_since = row
    return acv, int(minutes), int(tickets), served_since
