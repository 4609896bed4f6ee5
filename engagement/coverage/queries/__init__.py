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
from typing import Any

from django.db import connection, transaction
from psycopg import sql

from accounts.models import Account
from accounts.selectors import CHURNED_STAGE
from playbooks.models import AccountAddOn, AddOnStatus, TierEntitlement
from segmentation.models import Tier

from ...clock import local_today
from ...models import (
    CoverageSummary,
    CoverageSummaryBase,
    CoverageSummaryDimension,
    EntitlementCoverage,
    ModuleDelivery,
)
from ...sql import render, table

# Named parameters of ``_CURRENT``: policy_id, today, window_start, window_days, churned_stage (a
# churned account is owed nothing: it has left the active book) and the scope's. Planned: the
# deliveries due so far in the window, i.e. the window's share of the cadence once the entitlement
# is older than the window, before that the whole cadence periods since it began (an integer
# division): a delivery is owed at its due day, not before.
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
           ROUND(LEAST(%(window_days)s::numeric / m.cadence_days,
                       GREATEST(0, %(today)s::date - m.since) / m.cadence_days), 3) AS planned_in_window,
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
_WORK_MEM_SET = "SELECT set_config('work_mem', %(work_mem)s, TRUE)"  # to the transaction's end at most

# What changed, from one full join of the computed and the stored rows (a full join can only be
# a hash or merge join, whatever the statistics): every row that differs, and, for an account that
# moves in the summary, one row carrying its tier, CSM and first due day before and after. An
# account is counted by the earliest due day of all its rows, so those are windows over the
# account's rows; the rows of an account are written together from one account row, so they share
# one tier and one CSM on each side. The windows read the joined rows once: looking the changed
# accounts up in a second pass cost as much as the join itself when most rows change (a book
# whose entitlements began together passes a due day together). The account's figures are NULL
# (no space) on the other rows, which keeps the changes narrow.
_ACCOUNT_FIGURES = (
    ("account_tier_code", "counted_tier_code"),
    ("account_csm_id", "counted_csm_id"),
    ("account_first_due", "next_due_on"),
    ("stored_account_tier_code", "stored_counted_tier_code"),
    ("stored_account_csm_id", "stored_counted_csm_id"),
    ("stored_account_first_due", "stored_next_due_on"),
)
_CHANGES_QUERY = sql.SQL("""
    SELECT {joined_columns}, account_moves, {account_figures} FROM (
        SELECT flagged.*,
               first_of_account AND ({stored_account}) IS DISTINCT FROM ({new_account}) AS account_moves
        FROM (
            SELECT joined.*, row_number() OVER per_account = 1 AS first_of_account, {account_windows}
            FROM (
                SELECT COALESCE(n.account_id, s.account_id) AS account_id,
                       COALESCE(n.module_id, s.module_id) AS module_id,
                       n.account_id IS NOT NULL AS is_owed, s.account_id IS NOT NULL AS is_stored,
                       ({changed_old}) IS DISTINCT FROM ({changed_new}) AS differs,
                       n.account_id IS NOT NULL AND s.account_id IS NOT NULL
                           AND (s.counted_tier_code, s.counted_csm_id, s.next_due_on)
                               IS NOT DISTINCT FROM (n.counted_tier_code, n.counted_csm_id, n.next_due_on)
                           AS same_cell,
                       {new_columns}, {stored_columns}
                FROM ({current}) n
                FULL JOIN (SELECT {columns} FROM {coverage} AS c WHERE {coverage_scope}) s
                    ON s.account_id = n.account_id AND s.module_id = n.module_id
            ) joined
            WINDOW per_account AS (PARTITION BY account_id)
        ) flagged
    ) changes
    WHERE differs OR account_moves""")

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
# What coverage rows add to the summary, per tier and per CSM and due-day bucket: entitlements by
# their next due day, accounts by the earliest next due day of their entitlements. The planned and
# on-time deliveries do not depend on the day anyone reads them, so they are all kept in the NULL
# bucket (``part.by_day`` false), which every tier and CSM with a row has: the panel then folds
# only the buckets overdue on its day, a few rows per tier and CSM, instead of every due day of
# the coming year. ``cells``: CTEs ending
# in ``cells`` (tier, csm, due_on and the four sums); ``writes``: CTEs run before (none when the
# summary is rebuilt).
_SUMMARY_DELTA = sql.SQL("""
    WITH {writes}
    base AS (SELECT base_on FROM {base} WHERE id = 1),
    {cells}
    INSERT INTO {summary} AS s (dimension, key, due_on, entitlements, accounts, planned, delivered_on_time)
    SELECT d.dimension,
           CASE d.dimension WHEN %(tier_dimension)s THEN cells.tier ELSE COALESCE(cells.csm::text, '') END,
           CASE WHEN NOT part.by_day OR cells.due_on < base.base_on THEN NULL ELSE cells.due_on END,
           SUM(CASE WHEN part.by_day THEN cells.entitlements ELSE 0 END),
           SUM(CASE WHEN part.by_day THEN cells.accounts ELSE 0 END),
           SUM(CASE WHEN part.by_day THEN 0 ELSE cells.planned END),
           SUM(CASE WHEN part.by_day THEN 0 ELSE cells.on_time END)
    FROM cells CROSS JOIN base
    CROSS JOIN (VALUES (%(tier_dimension)s), (%(csm_dimension)s)) AS d (dimension)
    CROSS JOIN (VALUES (TRUE), (FALSE)) AS part (by_day)
    GROUP BY 1, 2, 3
    HAVING bool_or(NOT part.by_day)
        OR SUM(CASE WHEN part.by_day THEN cells.entitlements ELSE 0 END) <> 0
        OR SUM(CASE WHEN part.by_day THEN cells.accounts ELSE 0 END) <> 0
        OR SUM(CASE WHEN part.by_day THEN 0 ELSE cells.planned END) <> 0
        OR SUM(CASE WHEN part.by_day THEN 0 ELSE cells.on_time END) <> 0
    ON CONFLICT (dimension, key, due_on) DO UPDATE SET {add}""")
# The cells of ``signed`` (coverage rows with a sign: +1 counted from now on, -1 no longer).
_CELLS_OF_SIGNED_ROWS = sql.SQL("""
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
    )""")
# The difference the changes make (``_CHANGES_QUERY``), in one pass over them: a row that differs
# no longer adds its stored figures and adds its new ones, as one row when both fall in the same
# cell (the usual change: the window moved past a delivery, a due day passed); a changed account
# moves from the cell of its stored first due day to that of its new one, when they differ.
_CELLS_OF_CHANGES = sql.SQL("""
    cells AS (
        SELECT tier, csm, due_on, SUM(entitlements) AS entitlements, SUM(accounts) AS accounts,
               SUM(planned) AS planned, SUM(on_time) AS on_time
        FROM (
            SELECT counted_tier_code AS tier, counted_csm_id AS csm, next_due_on AS due_on,
                   0 AS entitlements, 0 AS accounts, planned_in_window - stored_planned_in_window AS planned,
                   LEAST(delivered_in_window::numeric, planned_in_window)
                   - LEAST(stored_delivered_in_window::numeric, stored_planned_in_window) AS on_time
            FROM {changes} WHERE differs AND same_cell
            UNION ALL
            SELECT stored_counted_tier_code, stored_counted_csm_id, stored_next_due_on, -1, 0,
                   -stored_planned_in_window,
                   -LEAST(stored_delivered_in_window::numeric, stored_planned_in_window)
            FROM {changes} WHERE differs AND is_stored AND NOT same_cell
            UNION ALL
            SELECT counted_tier_code, counted_csm_id, next_due_on, 1, 0, planned_in_window,
                   LEAST(delivered_in_window::numeric, planned_in_window)
            FROM {changes} WHERE differs AND is_owed AND NOT same_cell
            UNION ALL
            SELECT stored_account_tier_code, stored_account_csm_id, stored_account_first_due, 0, -1, 0, 0
            FROM {changes} WHERE account_moves AND stored_account_first_due IS NOT NULL
            UNION ALL
            SELECT account_tier_code, account_csm_id, account_first_due, 0, 1, 0, 0
            FROM {changes} WHERE account_moves AND account_first_due IS NOT NULL
        ) signed
        GROUP BY tier, csm, due_on
    )""")
# Coverage rows as the summary counts them, with a sign; the counted columns named with a prefix.
_SIGNED_ROWS = sql.SQL("""
        SELECT account_id, {counted_tier_code} AS tier, {counted_csm_id} AS csm, {next_due_on} AS next_due_on,
               {planned_in_window} AS planned,
               LEAST({delivered_in_window}::numeric, {planned_in_window}) AS on_time, {sign} AS sign
        FROM {rows} c WHERE {scope}""")
# Rows that count nothing, except a NULL bucket whose tier or CSM still counts on another day:
# every tier and CSM in the summary keeps its NULL bucket, so the panel finds it there.
_SUMMARY_PRUNE = sql.SQL("""
    DELETE FROM {summary} s
    WHERE s.entitlements = 0 AND s.accounts = 0 AND s.planned = 0 AND s.delivered_on_time = 0
      AND (s.due_on IS NOT NULL OR NOT EXISTS (
          SELECT 1 FROM {summary} o
          WHERE o.dimension = s.dimension AND o.key = s.key AND o.due_on IS NOT NULL
            AND (o.entitlements <> 0 OR o.accounts <> 0)))""")
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
        changes=_CHANGES, query=_changes_query(account_ids=account_ids, id_range=id_range)
    )
    writes = _WRITES.format(
        coverage=coverage,
        changes=_CHANGES,
        columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)),
        assignments=sql.SQL(", ").join(
            sql.SQL("{0} = n.{0}").format(sql.Identifier(col)) for col in (*_CHANGING, "computed_on")
        ),
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Taken before the stored rows are read: they are what the summary holds until this commits.
        cursor.execute(render(_SUMMARY_LOCK))
        _summary_rebase(cursor, base_on=min(today, local_today()))
        cursor.execute(render(sql.SQL("DROP TABLE IF EXISTS {}").format(_CHANGES)))
        # The deliveries grouped per account and module (~70,000 groups a chunk), the joined rows
        # sorted per account and the summary's cells outgrow the default work_mem and spill to
        # disk; the larger setting holds to the end of this transaction.
        cursor.execute(_WORK_MEM_SET, {"work_mem": _CHANGES_WORK_MEM})
        cursor.execute(render(changes), params)
        # Keyed like the coverage table, so the writes probe it by key: with the coverage table's
        # statistics stale (a first run, rows written since the last autovacuum) the planner may
        # choose a nested loop, which without this index scans the changes once per stored row.
        cursor.execute(render(sql.SQL("CREATE INDEX ON {} (account_id, module_id)").format(_CHANGES)))
        _summary_add(cursor, cells=_CELLS_OF_CHANGES.format(changes=_CHANGES), params=params, writes=writes)
        cursor.execute(render(sql.SQL("DROP TABLE {}").format(_CHANGES)))


def _changes_query(*, account_ids: Sequence[int] | None, id_range: tuple[int, int] | None) -> sql.Composed:
    """``_CHANGES_QUERY`` for the accounts in ``account_ids`` or ``id_range``."""

    def names(columns: Sequence[str]) -> sql.Composed:
        return sql.SQL(", ").join(map(sql.Identifier, columns))

    stored = tuple(f"stored_{col}" for col in _COUNTED)
    return _CHANGES_QUERY.format(
        current=_current(account_ids=account_ids, id_range=id_range),
        coverage=table(EntitlementCoverage),
        columns=names(_COLUMNS),
        coverage_scope=_scope("c.account_id", account_ids=account_ids, id_range=id_range),
        changed_old=sql.SQL(", ").join(sql.Identifier("s", col) for col in _CHANGING),
        changed_new=sql.SQL(", ").join(sql.Identifier("n", col) for col in _CHANGING),
        new_columns=sql.SQL(", ").join(sql.Identifier("n", col) for col in (*_CHANGING, "computed_on")),
        stored_columns=sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(sql.Identifier("s", col), sql.Identifier(name))
            for col, name in zip(_COUNTED, stored, strict=True)
        ),
        joined_columns=names(
            (
                "account_id",
                "module_id",
                "is_owed",
                "is_stored",
                "differs",
                "same_cell",
                *_CHANGING,
                "computed_on",
                *stored,
            )
        ),
        account_windows=sql.SQL(", ").join(
            sql.SQL("MIN({}) OVER per_account AS {}").format(
                sql.Identifier(col), sql.Identifier(f"all_{name}")
            )
            for name, col in _ACCOUNT_FIGURES
        ),
        stored_account=names([f"all_{name}" for name, _ in _ACCOUNT_FIGURES[3:]]),
        new_account=names([f"all_{name}" for name, _ in _ACCOUNT_FIGURES[:3]]),
        account_figures=sql.SQL(", ").join(
            sql.SQL("CASE WHEN account_moves THEN {} END AS {}").format(
                sql.Identifier(f"all_{name}"), sql.Identifier(name)
            )
            for name, _ in _ACCOUNT_FIGURES
        ),
    )


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
    cursor: Any, *, cells: sql.Composable, params: dict[str, Any], writes: sql.Composable | None = None
) -> None:
    """Add ``cells`` (CTEs ending in ``cells``, see ``_SUMMARY_DELTA``) to ``CoverageSummary``, in
    one statement with ``writes`` (CTEs); the lock is held."""
    names = {"summary": table(CoverageSummary), "base": table(CoverageSummaryBase), "add": _SUMMARY_ADD}
    delta_params = {
        **params,
        "tier_dimension": CoverageSummaryDimension.TIER.value,
        "csm_dimension": CoverageSummaryDimension.CSM.value,
    }
    delta = _SUMMARY_DELTA.format(cells=cells, writes=writes or sql.SQL(""), **names)
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
        _summary_add(cursor, cells=_CELLS_OF_SIGNED_ROWS.format(signed=signed), params={})
