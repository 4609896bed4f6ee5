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

from ..clock import local_today
from ..models import (
    CoverageSummary,
    CoverageSummaryBase,
    CoverageSummaryDimension,
    EntitlementCoverage,
    ModuleDelivery,
)
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
               COALESCE(CAST(a.tier_updated_at AS date), CAST(a.created_at AS date)) AS since,
               a.tier_code, a.csm_id
        FROM {accounts} a
        JOIN {tiers} t ON t.code = a.tier_code AND t.policy_id = %(policy_id)s
        JOIN {entitlements} e ON e.tier_id = t.id
        LEFT JOIN addon ad ON ad.account_id = a.id AND ad.module_id = e.module_id
        WHERE e.cadence_days IS NOT NULL AND a.lifecycle_stage <> %(churned_stage)s AND {account_scope}
        UNION ALL
        -- Add-ons for modules the tier does not recur.
        SELECT ad.account_id, ad.module_id, ad.cadence_days, TRUE AS is_add_on, ad.since,
               a.tier_code, a.csm_id
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
           %(today)s::date AS computed_on,
           m.tier_code AS counted_tier_code, m.csm_id AS counted_csm_id
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
    "counted_tier_code",
    "counted_csm_id",
)
_COLUMNS = ("account_id", "module_id", *_CHANGING, "computed_on")
# What the summary counts a row by (``_SIGNED_ROWS``); the changes keep the stored values of these.
_COUNTED = ("counted_tier_code", "counted_csm_id", "next_due_on", "planned_in_window", "delivered_in_window")
_CHANGES = sql.Identifier("engagement_coverage_changes")  # a temporary table, one per transaction
_CHANGES_WORK_MEM = "64MB"
_WORK_MEM_GET = "SELECT current_setting('work_mem')"
_WORK_MEM_SET = "SELECT set_config('work_mem', %(work_mem)s, TRUE)"  # to the transaction's end at most

# The accounts whose figures changed, every row of each (computed and stored side by side): the
# stored and the computed rows are joined once, and what the table and the summary need follows
# from these few rows. A full join can only be a hash or merge join, whatever the statistics.
# Whole accounts, because an account is counted by the earliest due day of all its rows.
_CHANGES_QUERY = sql.SQL("""
    WITH joined AS MATERIALIZED (
        SELECT COALESCE(n.account_id, s.account_id) AS account_id,
               COALESCE(n.module_id, s.module_id) AS module_id,
               n.account_id IS NOT NULL AS is_owed, s.account_id IS NOT NULL AS is_stored,
               ({changed_old}) IS DISTINCT FROM ({changed_new}) AS differs,
               {new_columns}, {stored_columns}
        FROM ({current}) n
        FULL JOIN (SELECT {columns} FROM {coverage} AS c WHERE {coverage_scope}) s
            ON s.account_id = n.account_id AND s.module_id = n.module_id
    )
    SELECT * FROM joined WHERE account_id IN (SELECT account_id FROM joined WHERE differs)""")

# Bring the table in line with the changes and add their difference to the summary, in one
# statement: update what changed, insert what is new, delete what is no longer owed. The
# statement's parts see the table as it was before it, so the stored side of the changes is what
# the summary held.
_WRITES = sql.SQL("""
    updated AS (
        UPDATE {coverage} AS c SET {assignments} FROM {changes} AS n
        WHERE c.account_id = n.account_id AND c.module_id = n.module_id
          AND n.differs AND n.is_owed AND n.is_stored
    ),
    inserted AS (
        INSERT INTO {coverage} ({columns}) SELECT {columns} FROM {changes} AS n WHERE NOT n.is_stored
    ),
    deleted AS (
        DELETE FROM {coverage} AS c USING {changes} AS n
        WHERE c.account_id = n.account_id AND c.module_id = n.module_id AND NOT n.is_owed
    ),""")


# --- The per-tier and per-CSM summary (``CoverageSummary``), kept by every rewrite ---------------
# One writer of the summary at a time (a transaction-scoped advisory lock): a rewrite adds signed
# differences, a new base day folds buckets; both read and write the same few rows.
_SUMMARY_LOCK = sql.SQL("SELECT pg_advisory_xact_lock(hashtext('engagement.coverage_summary'))")
# The base day only moves forward; due days before it fold into the NULL bucket (overdue from
# the base day on, whatever day the panel is read).
_SUMMARY_REBASE = [
    sql.SQL("INSERT INTO {base} (id, base_on) VALUES (1, %(base_on)s) ON CONFLICT (id) DO NOTHING"),
    sql.SQL("""
        WITH folded AS (
            DELETE FROM {summary} WHERE due_on < %(base_on)s
            RETURNING dimension, key, entitlements, accounts, planned, delivered_on_time
        )
        INSERT INTO {summary} AS s
            (dimension, key, due_on, entitlements, accounts, planned, delivered_on_time)
        SELECT dimension, key, NULL, SUM(entitlements), SUM(accounts), SUM(planned), SUM(delivered_on_time)
        FROM folded GROUP BY dimension, key
        ON CONFLICT (dimension, key, due_on) DO UPDATE SET {add}"""),
    sql.SQL("UPDATE {base} SET base_on = %(base_on)s WHERE id = 1 AND base_on < %(base_on)s"),
]
# What the changed accounts' rows add to the summary now (the computed rows, +1) minus what they
# added before (the stored rows, -1), per tier and per CSM and due-day bucket: entitlements by
# their next due day, accounts by the earliest next due day of their entitlements. An account
# whose rows did not change adds nothing, so it is not read. ``writes``: CTEs run before (none
# when the summary is rebuilt).
_SUMMARY_DELTA = sql.SQL("""
    WITH {writes}
    base AS (SELECT base_on FROM {base} WHERE id = 1),
    signed AS ({signed}),
    cells AS (
        SELECT tier, csm, next_due_on AS due_on, SUM(sign) AS entitlements, 0 AS accounts,
               SUM(sign * planned) AS planned, SUM(sign * on_time) AS on_time
        FROM signed GROUP BY tier, csm, next_due_on
        UNION ALL
        SELECT tier, csm, first_due, 0, SUM(sign), 0, 0
        FROM (SELECT tier, csm, sign, MIN(next_due_on) AS first_due
              FROM signed GROUP BY account_id, tier, csm, sign) per_account
        GROUP BY tier, csm, first_due
    )
    INSERT INTO {summary} AS s (dimension, key, due_on, entitlements, accounts, planned, delivered_on_time)
    SELECT d.dimension,
           CASE d.dimension WHEN %(tier_dimension)s THEN cells.tier ELSE COALESCE(cells.csm::text, '') END,
           CASE WHEN cells.due_on < base.base_on THEN NULL ELSE cells.due_on END,
           SUM(cells.entitlements), SUM(cells.accounts), SUM(cells.planned), SUM(cells.on_time)
    FROM cells CROSS JOIN base
    CROSS JOIN (VALUES (%(tier_dimension)s), (%(csm_dimension)s)) AS d (dimension)
    GROUP BY 1, 2, 3
    HAVING SUM(cells.entitlements) <> 0 OR SUM(cells.accounts) <> 0
        OR SUM(cells.planned) <> 0 OR SUM(cells.on_time) <> 0
    ON CONFLICT (dimension, key, due_on) DO UPDATE SET {add}""")
_SIGNED_ROWS = sql.SQL("""
        SELECT account_id, {counted_tier_code} AS tier, {counted_csm_id} AS csm, {next_due_on} AS next_due_on,
               {planned_in_window} AS planned,
               LEAST({delivered_in_window}::numeric, {planned_in_window}) AS on_time, {sign} AS sign
        FROM {rows} c WHERE {scope}""")
_SUMMARY_PRUNE = sql.SQL(
    "DELETE FROM {summary} WHERE entitlements = 0 AND accounts = 0 AND planned = 0 AND delivered_on_time = 0"
)
_SUMMARY_ADD = sql.SQL(
    "entitlements = s.entitlements + EXCLUDED.entitlements, accounts = s.accounts + EXCLUDED.accounts, "
    "planned = s.planned + EXCLUDED.planned, "
    "delivered_on_time = s.delivered_on_time + EXCLUDED.delivered_on_time"
)


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
    coverage = table(EntitlementCoverage)
    changes = sql.SQL("CREATE TEMPORARY TABLE {changes} AS {query}").format(
        changes=_CHANGES,
        query=_CHANGES_QUERY.format(
            current=_current(account_ids=account_ids, id_range=id_range),
            coverage=coverage,
            columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
            coverage_scope=_scope("c.account_id", account_ids=account_ids, id_range=id_range),
            changed_old=sql.SQL(", ").join(sql.Identifier("s", col) for col in _CHANGING),
            changed_new=sql.SQL(", ").join(sql.Identifier("n", col) for col in _CHANGING),
            new_columns=sql.SQL(", ").join(sql.Identifier("n", col) for col in (*_CHANGING, "computed_on")),
            stored_columns=sql.SQL(", ").join(
                sql.SQL("{} AS {}").format(sql.Identifier("s", col), sql.Identifier(f"stored_{col}"))
                for col in _COUNTED
            ),
        ),
    )
    writes = _WRITES.format(
        coverage=coverage,
        changes=_CHANGES,
        columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
        assignments=sql.SQL(", ").join(
            sql.SQL("{0} = n.{0}").format(sql.Identifier(col)) for col in (*_CHANGING, "computed_on")
        ),
    )
    signed = sql.SQL(" UNION ALL ").join(
        [
            _signed_rows(sign=-1, rows=_CHANGES, scope=sql.SQL("is_stored"), prefix="stored_"),
            _signed_rows(sign=1, rows=_CHANGES, scope=sql.SQL("is_owed")),
        ]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Taken before the stored rows are read: they are what the summary holds until this commits.
        cursor.execute(render(_SUMMARY_LOCK))
        _summary_rebase(cursor, base_on=min(today, local_today()))
        cursor.execute(render(sql.SQL("DROP TABLE IF EXISTS {}").format(_CHANGES)))
        # The deliveries grouped per account and module (~70,000 groups a chunk) outgrow the default
        # work_mem and spill to disk; the larger setting holds for this statement only.
        cursor.execute(_WORK_MEM_GET)
        (previous,) = cursor.fetchone()
        cursor.execute(_WORK_MEM_SET, {"work_mem": _CHANGES_WORK_MEM})
        cursor.execute(render(changes), params)
        cursor.execute(_WORK_MEM_SET, {"work_mem": previous})
        # Keyed like the coverage table, so the writes probe it by key: with the coverage table's
        # statistics stale (a first run, rows written since the last autovacuum) the planner may
        # choose a nested loop, which without this index scans the changes once per stored row.
        cursor.execute(render(sql.SQL("CREATE INDEX ON {} (account_id, module_id)").format(_CHANGES)))
        _summary_add(cursor, signed=signed, params=params, writes=writes)
        cursor.execute(render(sql.SQL("DROP TABLE {}").format(_CHANGES)))


def _signed_rows(*, sign: int, rows: sql.Composable, scope: sql.Composable, prefix: str = "") -> sql.Composed:
    """``rows`` as the summary counts them, with ``sign``; the counted columns named with ``prefix``."""
    return _SIGNED_ROWS.format(
        sign=sql.Literal(sign),
        rows=rows,
        scope=scope,
        **{col: sql.Identifier(f"{prefix}{col}") for col in _COUNTED},
    )


def _summary_rebase(cursor: Any, *, base_on: dt.date) -> None:
    """Move the summary's base day to ``base_on`` when that is later; the lock is held."""
    names = {"summary": table(CoverageSummary), "base": table(CoverageSummaryBase), "add": _SUMMARY_ADD}
    for statement in _SUMMARY_REBASE:
        cursor.execute(render(statement.format(**names)), {"base_on": base_on})


def _summary_add(
    cursor: Any, *, signed: sql.Composable, params: dict[str, Any], writes: sql.Composable | None = None
) -> None:
    """Add ``signed`` (coverage rows with a sign: +1 counted from now on, -1 no longer) to
    ``CoverageSummary``, in one statement with ``writes`` (CTEs); the lock is held."""
    names = {"summary": table(CoverageSummary), "base": table(CoverageSummaryBase), "add": _SUMMARY_ADD}
    delta_params = {
        **params,
        "tier_dimension": CoverageSummaryDimension.TIER.value,
        "csm_dimension": CoverageSummaryDimension.CSM.value,
    }
    delta = _SUMMARY_DELTA.format(signed=signed, writes=writes or sql.SQL(""), **names)
    cursor.execute(render(delta), delta_params)
    cursor.execute(render(_SUMMARY_PRUNE.format(**names)))


def coverage_summary_rebuild(*, base_on: dt.date) -> None:
    """Rewrite ``CoverageSummary`` from every stored coverage row, folding due days before
    ``base_on``: for a database whose summary is missing or was changed by hand. The rewrites
    keep it true otherwise."""
    signed = _signed_rows(sign=1, rows=table(EntitlementCoverage), scope=sql.SQL("TRUE"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(render(_SUMMARY_LOCK))
        cursor.execute(render(sql.SQL("DELETE FROM {}").format(table(CoverageSummary))))
        cursor.execute(render(sql.SQL("DELETE FROM {}").format(table(CoverageSummaryBase))))
        _summary_rebase(cursor, base_on=base_on)
        _summary_add(cursor, signed=signed, params={})


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
