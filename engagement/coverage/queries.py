"""Coverage figures, set-based: per account and recurring entitlement, the last delivery, the next
due day and the deliveries against the plan over a trailing window.

Mirrors ``engagement.coverage.services.coverage_figures_for_accounts`` (the definition in Python,
one account at a time). SQL because a nightly run covers 100k accounts (~250k rows) in about a
second when the database joins entitlements to the delivery ledger and writes only what changed;
the same figures built in Python would read every delivery into memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from django.db import connection, transaction
from psycopg import sql

from accounts.models import Account
from accounts.selectors import CHURNED_STAGE
from csplatform.models import User
from playbooks.models import AccountAddOn, AddOnStatus, TierEntitlement
from segmentation.models import Tier

from ..models import EntitlementCoverage, ModuleDelivery
from ..sql import render, table

# Named parameters of ``_CURRENT``: policy_id, today, window_start, window_days, churned_stage (a
# churned account is owed nothing: it has left the active book) and the scope's.
_CURRENT = sql.SQL("""
    WITH addon AS (
        SELECT ad.account_id, ad.module_id,
               MIN(ad.cadence_days) AS cadence_days, MIN(ad.starts_on) AS since
        FROM {addons} ad
        WHERE ad.status = %(addon_approved)s AND ad.cadence_days IS NOT NULL AND ad.starts_on <= %(today)s
          AND (ad.ends_on IS NULL OR ad.ends_on >= %(today)s) AND {addon_scope}
        GROUP BY ad.account_id, ad.module_id
    ),
    m AS (
        -- The tier's recurring entitlements; a more frequent add-on for the module wins.
        SELECT a.id AS account_id, e.module_id,
               LEAST(ad.cadence_days, e.cadence_days) AS cadence_days,
               COALESCE(ad.cadence_days < e.cadence_days, FALSE) AS is_add_on,
               COALESCE(CAST(a.tier_updated_at AS date), CAST(a.created_at AS date)) AS since
        FROM {accounts} a
        JOIN {tiers} t ON t.code = a.tier_code AND t.policy_id = %(policy_id)s
        JOIN {entitlements} e ON e.tier_id = t.id
        LEFT JOIN addon ad ON ad.account_id = a.id AND ad.module_id = e.module_id
        WHERE e.cadence_days IS NOT NULL AND a.lifecycle_stage <> %(churned_stage)s AND {account_scope}
        UNION ALL
        -- Add-ons for modules the tier does not recur.
        SELECT ad.account_id, ad.module_id, ad.cadence_days, TRUE AS is_add_on, ad.since
        FROM addon ad
        JOIN {accounts} a ON a.id = ad.account_id
        WHERE a.lifecycle_stage <> %(churned_stage)s AND NOT EXISTS (
            SELECT 1 FROM {tiers} t
            JOIN {entitlements} e ON e.tier_id = t.id
            WHERE t.policy_id = %(policy_id)s AND t.code = a.tier_code AND e.module_id = ad.module_id
              AND e.cadence_days IS NOT NULL)
    ),
    dl AS (
        SELECT account_id, module_id, MAX(delivered_on) AS last_on,
               COUNT(*) FILTER (WHERE delivered_on > %(window_start)s) AS in_window
        FROM {deliveries}
        WHERE {delivery_scope} AND delivered_on <= %(today)s
        GROUP BY account_id, module_id
    )
    SELECT m.account_id, m.module_id, m.cadence_days, m.is_add_on, m.since AS entitled_since,
           dl.last_on AS last_delivered_on,
           COALESCE(dl.last_on, m.since) + m.cadence_days AS next_due_on,
           COALESCE(dl.in_window, 0) AS delivered_in_window,
           ROUND(LEAST(%(window_days)s, GREATEST(0, %(today)s::date - m.since)) / m.cadence_days::numeric, 3)
               AS planned_in_window,
           %(today)s::date AS computed_on
    FROM m
    LEFT JOIN dl ON dl.account_id = m.account_id AND dl.module_id = m.module_id
""")

_CHANGING = (
    "cadence_days",
    "is_add_on",
    "entitled_since",
    "last_delivered_on",
    "next_due_on",
    "delivered_in_window",
    "planned_in_window",
)
_COLUMNS = ("account_id", "module_id", *_CHANGING, "computed_on")
_NEW = sql.Identifier("engagement_coverage_new")  # a temporary table, one per transaction

# Bring the table in line with the computed rows: three hash joins (update what changed, insert
# what is new, delete what is no longer owed) instead of a per-row conflict check, so a run
# where little changed mostly reads.
_WRITE = [
    sql.SQL("ANALYZE {new}"),
    sql.SQL(
        "UPDATE {coverage} AS c SET {assignments} FROM {new} AS n "
        "WHERE c.account_id = n.account_id AND c.module_id = n.module_id "
        "AND ({changed_old}) IS DISTINCT FROM ({changed_new})"
    ),
    sql.SQL(
        "INSERT INTO {coverage} ({columns}) SELECT {columns} FROM {new} AS n WHERE NOT EXISTS "
        "(SELECT 1 FROM {coverage} AS c WHERE c.account_id = n.account_id AND c.module_id = n.module_id)"
    ),
    sql.SQL(
        "DELETE FROM {coverage} AS c WHERE {coverage_scope} AND NOT EXISTS "
        "(SELECT 1 FROM {new} AS n WHERE n.account_id = c.account_id AND n.module_id = c.module_id)"
    ),
]


def _scope(
    column: str, *, account_ids: Sequence[int] | None, id_range: tuple[int, int] | None
) -> sql.Composable:
    """The accounts a statement covers, as a condition on ``column``: a list of ids, a range of
    ids, or every account."""
    col = sql.SQL(".").join(sql.Identifier(part) for part in column.split("."))
    if account_ids is not None:
        return sql.SQL("{} = ANY(%(account_ids)s)").format(col)
    if id_range is not None:
        return sql.SQL("{} BETWEEN %(low_id)s AND %(high_id)s").format(col)
    return sql.SQL("TRUE")


def _current(*, account_ids: Sequence[int] | None, id_range: tuple[int, int] | None) -> sql.Composed:
    def scope(column: str) -> sql.Composable:
        return _scope(column, account_ids=account_ids, id_range=id_range)

    return _CURRENT.format(
        addons=table(AccountAddOn),
        accounts=table(Account),
        tiers=table(Tier),
        entitlements=table(TierEntitlement),
        deliveries=table(ModuleDelivery),
        addon_scope=scope("ad.account_id"),
        account_scope=scope("a.id"),
        delivery_scope=scope("account_id"),
    )


def _params(
    *,
    policy_id: int,
    today: dt.date,
    window_days: int,
    account_ids: Sequence[int] | None,
    id_range: tuple[int, int] | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "policy_id": policy_id,
        "today": today,
        "window_start": today - dt.timedelta(days=window_days),
        "window_days": window_days,
        "addon_approved": AddOnStatus.APPROVED.value,
        "churned_stage": CHURNED_STAGE,
    }
    if account_ids is not None:
        params["account_ids"] = list(account_ids)
    if id_range is not None:
        params["low_id"], params["high_id"] = id_range
    return params


def coverage_rewrite(
    *,
    policy_id: int,
    today: dt.date,
    window_days: int,
    account_ids: Sequence[int] | None = None,
    id_range: tuple[int, int] | None = None,
) -> None:
    """Rewrite ``EntitlementCoverage`` for the accounts in ``account_ids`` or ``id_range`` (all
    accounts when neither is given): figures as of ``today`` under the tier policy ``policy_id``,
    over a window of ``window_days`` ending ``today``. Rows whose figures did not change are not
    written; rows no longer owed (a churned account's) are deleted. One transaction."""
    params = _params(
        policy_id=policy_id, today=today, window_days=window_days, account_ids=account_ids, id_range=id_range
    )
    current = _current(account_ids=account_ids, id_range=id_range)
    identifiers = {
        "new": _NEW,
        "coverage": table(EntitlementCoverage),
        "columns": sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
        "assignments": sql.SQL(", ").join(
            sql.SQL("{0} = n.{0}").format(sql.Identifier(col)) for col in (*_CHANGING, "computed_on")
        ),
        "changed_old": sql.SQL(", ").join(sql.Identifier("c", col) for col in _CHANGING),
        "changed_new": sql.SQL(", ").join(sql.Identifier("n", col) for col in _CHANGING),
        "coverage_scope": _scope("c.account_id", account_ids=account_ids, id_range=id_range),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(render(sql.SQL("DROP TABLE IF EXISTS {}").format(_NEW)))
        cursor.execute(
            render(sql.SQL("CREATE TEMPORARY TABLE {new} AS {current}").format(new=_NEW, current=current)),
            params,
        )
        for statement in _WRITE:
            cursor.execute(render(statement.format(**identifiers)), params)
        cursor.execute(render(sql.SQL("DROP TABLE {}").format(_NEW)))


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
