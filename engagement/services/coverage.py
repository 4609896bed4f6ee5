"""Coverage: per account and recurring entitlement, the last delivery and the next due day.

``coverage_recompute`` rewrites ``EntitlementCoverage`` set-based, in SQL: the current figures are
computed into a temporary table from the entitlements (tier under the active policy, plus approved
current add-ons) joined to the delivery ledger, then the table is brought in line with them
(changed rows updated, new rows inserted, rows no longer owed deleted). A row is only written
when a figure changed, so a nightly run over 100k accounts mostly reads.

Definitions (the same in the dashboard and the worklist):
- next due = (last delivery day, or the day the entitlement began) + cadence days;
- overdue  = next due is before today;
- planned in window = min(window, days entitled) / cadence; share delivered on time over the
  window = Σ min(delivered, planned) / Σ planned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account
from playbooks.selectors import active_policy

# Accounts per statement in a full recompute: 100k accounts (~250k coverage rows) take about a
# second on PostgreSQL and keep each transaction's locks short.
CHUNK_ACCOUNTS = 100_000
# Explicit id lists (after a delivery, a tier change) are short; longer lists are split.
ID_LIST_CHUNK = 500


def _dialect() -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {
            "date_of_ts": "CAST({} AS date)",
            "add_days": "({0} + {1})",
            "days_between": "({0} - {1})",
            "least": "LEAST",
            "greatest": "GREATEST",
            "round3": "ROUND(CAST({} AS numeric), 3)",
        }
    return {
        "date_of_ts": "date({})",
        "add_days": "date({0}, '+' || {1} || ' days')",
        "days_between": "CAST(julianday({0}) - julianday({1}) AS integer)",
        "least": "MIN",
        "greatest": "MAX",
        "round3": "ROUND({}, 3)",
    }


def coverage_select_sql(*, scope: str) -> str:
    """The SELECT of current coverage figures for accounts matching ``scope`` (a SQL condition on
    an ``account_id`` column); parameters ``policy_id``, ``today``, ``window_start``, ``window_days``."""
    d = _dialect()
    since_tier = "COALESCE({}, {})".format(
        d["date_of_ts"].format("a.tier_updated_at"), d["date_of_ts"].format("a.created_at")
    )
    base = "COALESCE(dl.last_on, m.since)"
    days_entitled = d["days_between"].format("%(today)s", "m.since")
    planned = d["round3"].format(
        "{least}(%(window_days)s, {greatest}(0, {days})) * 1.0 / m.cadence_days".format(
            least=d["least"], greatest=d["greatest"], days=days_entitled
        )
    )
    return f"""
        WITH addon AS (
            SELECT ad.account_id, ad.module_id,
                   MIN(ad.cadence_days) AS cadence_days, MIN(ad.starts_on) AS since
            FROM playbooks_accountaddon ad
            WHERE ad.status = 'approved' AND ad.cadence_days IS NOT NULL AND ad.starts_on <= %(today)s
              AND (ad.ends_on IS NULL OR ad.ends_on >= %(today)s) AND {scope.format(col="ad.account_id")}
            GROUP BY ad.account_id, ad.module_id
        ),
        m AS (
            -- The tier's recurring entitlements; a more frequent add-on for the module wins.
            SELECT a.id AS account_id, e.module_id,
                   CASE WHEN ad.cadence_days < e.cadence_days THEN ad.cadence_days ELSE e.cadence_days END
                       AS cadence_days,
                   (ad.cadence_days IS NOT NULL AND ad.cadence_days < e.cadence_days) AS is_add_on,
                   {since_tier} AS since
            FROM accounts_account a
            JOIN segmentation_tier t ON t.code = a.tier_code AND t.policy_id = %(policy_id)s
            JOIN playbooks_tierentitlement e ON e.tier_id = t.id
            LEFT JOIN addon ad ON ad.account_id = a.id AND ad.module_id = e.module_id
            WHERE e.cadence_days IS NOT NULL AND {scope.format(col="a.id")}
            UNION ALL
            -- Add-ons for modules the tier does not recur.
            SELECT ad.account_id, ad.module_id, ad.cadence_days, (1 = 1) AS is_add_on, ad.since
            FROM addon ad
            JOIN accounts_account a ON a.id = ad.account_id
            WHERE NOT EXISTS (
                SELECT 1 FROM segmentation_tier t
                JOIN playbooks_tierentitlement e ON e.tier_id = t.id
                WHERE t.policy_id = %(policy_id)s AND t.code = a.tier_code AND e.module_id = ad.module_id
                  AND e.cadence_days IS NOT NULL)
        ),
        dl AS (
            SELECT account_id, module_id, MAX(delivered_on) AS last_on,
                   SUM(CASE WHEN delivered_on > %(window_start)s THEN 1 ELSE 0 END) AS in_window
            FROM engagement_moduledelivery
            WHERE {scope.format(col="account_id")} AND delivered_on <= %(today)s
            GROUP BY account_id, module_id
        )
        SELECT m.account_id, m.module_id, m.cadence_days, m.is_add_on, m.since AS entitled_since,
               dl.last_on AS last_delivered_on,
               {d["add_days"].format(base, "m.cadence_days")} AS next_due_on,
               COALESCE(dl.in_window, 0) AS delivered_in_window,
               {planned} AS planned_in_window,
               %(today)s AS computed_on
        FROM m
        LEFT JOIN dl ON dl.account_id = m.account_id AND dl.module_id = m.module_id
    """


_COLUMNS = (
    "account_id, module_id, cadence_days, is_add_on, entitled_since, last_delivered_on, next_due_on, "
    "delivered_in_window, planned_in_window, computed_on"
)
_CHANGING = (
    "cadence_days",
    "is_add_on",
    "entitled_since",
    "last_delivered_on",
    "next_due_on",
    "delivered_in_window",
    "planned_in_window",
)


NEW = "engagement_coverage_new"
TABLE = "engagement_entitlementcoverage"


def _write_statements() -> list[str]:
    """Statements that bring the table in line with the computed rows in the temporary table.

    PostgreSQL: three hash joins (update what changed, insert what is new, delete what is no longer
    owed) instead of a per-row conflict check, so a run where little changed mostly reads. SQLite
    (small embedded databases): an upsert and a delete.
    """
    key = "c.account_id = n.account_id AND c.module_id = n.module_id"
    if connection.vendor == "postgresql":
        changed_old = ", ".join(f"c.{col}" for col in _CHANGING)
        changed_new = ", ".join(f"n.{col}" for col in _CHANGING)
        assignments = ", ".join(f"{col} = n.{col}" for col in (*_CHANGING, "computed_on"))
        return [
            f"ANALYZE {NEW}",
            f"UPDATE {TABLE} AS c SET {assignments} FROM {NEW} AS n "
            f"WHERE {key} AND ({changed_old}) IS DISTINCT FROM ({changed_new})",
            f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM {NEW} AS n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} AS c WHERE {key})",
        ]
    updates = ", ".join(f"{col} = excluded.{col}" for col in (*_CHANGING, "computed_on"))
    return [
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM {NEW} WHERE 1 = 1 "
        f"ON CONFLICT (account_id, module_id) DO UPDATE SET {updates}",
    ]


def _delete_stale_sql(scope: str) -> str:
    return (
        f"DELETE FROM {TABLE} WHERE {scope.format(col=TABLE + '.account_id')} AND NOT EXISTS "
        f"(SELECT 1 FROM {NEW} AS n "
        f"WHERE n.account_id = {TABLE}.account_id AND n.module_id = {TABLE}.module_id)"
    )


def coverage_params(*, today: dt.date, policy_id: int, window_days: int | None = None) -> dict[str, Any]:
    """Parameters of ``coverage_select_sql``: figures as of ``today`` over the trailing window."""
    window_days = int(settings.COVERAGE_WINDOW_DAYS) if window_days is None else window_days
    return {
        "policy_id": policy_id,
        "today": today,
        "window_start": today - dt.timedelta(days=window_days),
        "window_days": window_days,
    }


def coverage_recompute(*, account_ids: Iterable[int] | None = None, today: dt.date | None = None) -> None:
    """Bring ``EntitlementCoverage`` up to date for ``account_ids`` (all accounts when None)."""
    policy = active_policy()
    today = today or timezone.localdate()
    if policy is None:
        return
    params = coverage_params(today=today, policy_id=policy.pk)
    if account_ids is not None:
        ids = sorted(set(account_ids))
        for start in range(0, len(ids), ID_LIST_CHUNK):
            chunk = ids[start : start + ID_LIST_CHUNK]
            names = {f"id{n}": account_id for n, account_id in enumerate(chunk)}
            scope = "{col} IN (" + ", ".join(f"%({name})s" for name in names) + ")"
            _run(scope, {**params, **names})
        return
    bounds = Account.objects.order_by("id").values_list("id", flat=True)
    low, high = bounds.first(), bounds.last()
    if low is None or high is None:
        return
    for start in range(low, high + 1, CHUNK_ACCOUNTS):
        scope = "{col} BETWEEN %(low)s AND %(high)s"
        _run(scope, {**params, "low": start, "high": start + CHUNK_ACCOUNTS - 1})


def _run(scope: str, params: dict[str, Any]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {NEW}")
        cursor.execute(f"CREATE TEMPORARY TABLE {NEW} AS {coverage_select_sql(scope=scope)}", params)
        for statement in _write_statements():
            cursor.execute(statement)
        cursor.execute(_delete_stale_sql(scope), params)
        cursor.execute(f"DROP TABLE {NEW}")
