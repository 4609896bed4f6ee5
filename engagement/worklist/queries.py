"""The worklist's order: the priority score of every account in a filtered portfolio, in SQL, and
the page of it in the order asked for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from psycopg import sql

from accounts.models import Account
from accounts.sorting import ACCOUNT_SORTS
from segmentation.models import ChangeStatus, TierChange

from ..models import (
    CommitmentStatus,
    EntitlementCoverage,
    Flag,
    FlagStatus,
    HandoffCommitment,
    Task,
    TaskStatus,
    Touchpoint,
)
from ..sql import orm_subquery, render, table
from .services import PRIORITY, RENEWAL_SOON_DAYS, RISK_FLAGS, TIER_RANK_CEILING, WorklistPoints

# The portfolio is read once, narrow (the columns the orders need); the reason rows of its
# accounts are then read once per table through that table's index by account, with the
# portfolio's ids as an array (``account_id = ANY(ARRAY(...))``: one index descent per account),
# and all of them are grouped once by account, so the cost grows with the portfolio and the rows of
# its accounts, never with a table's size. Only the page's rows are then read from the account
# table (the columns a row shows, ``WORKLIST_ROW_COLUMNS``), by primary key, with the proposal and
# the next open task their inline actions act on and their last touch (a lookup per page row,
# through the account's index).
#
# The plan must not follow the statistics of the probed tables: while a review runs, coverage,
# flags and proposals are written faster than autovacuum analyses them, and a planner that believes
# a table holds no overdue row or no open flag scans every such row of the book (24,000 overdue
# coverage rows at a million accounts: 40 ms instead of 2) for each worklist. So the only index
# condition each table offers is the account (with the status only where an index leads with the
# account or holds both): the day and the flag's status are filtered, never looked up ("+ 0",
# "|| ''"). The array is not a join either: a join's plan follows the estimates (a hash of a whole
# table, or a probe per account that a small table answers by scanning itself each time, 500
# scans); the array's only alternative to the index is one scan of a table the planner knows to be
# a few pages (its size is read at planning, not taken from the statistics). Proposals are the
# exception: their partial unique index (``tierchange_one_open_proposal``) holds the account and
# nothing else, so the status picks that index (a page or two), not the account's whole history.
_WORKLIST = sql.SQL("""
    WITH a AS MATERIALIZED ({portfolio}),
    reason AS (
      SELECT c.account_id, 'coverage' AS source, c.next_due_on AS day, NULL::varchar AS kind,
             NULL::timestamptz AS at, NULL::bigint AS ref
      FROM {coverage} c
      WHERE c.account_id = ANY(ARRAY(SELECT id FROM a)) AND c.next_due_on + 0 < %(today)s
      UNION ALL
      SELECT f.account_id, 'flag', NULL, f.kind, f.raised_at, f.id
      FROM {flag} f
      WHERE f.account_id = ANY(ARRAY(SELECT id FROM a)) AND f.status || '' = %(flag_open)s
      UNION ALL
      SELECT t.account_id, 'task', t.due_on, NULL, NULL, NULL
      FROM {task} t
      WHERE t.account_id = ANY(ARRAY(SELECT id FROM a)) AND t.status = %(task_open)s
        AND (t.snoozed_until IS NULL OR t.snoozed_until <= %(today)s)
      UNION ALL
      SELECT h.account_id, 'commitment', NULL, NULL, NULL, NULL
      FROM {commitment} h
      WHERE h.account_id = ANY(ARRAY(SELECT id FROM a))
        AND h.status || '' = %(commitment_exceeds_tier)s
      UNION ALL
      SELECT x.account_id, 'proposal', NULL, NULL, NULL, NULL
      FROM {change} x
      WHERE x.account_id = ANY(ARRAY(SELECT id FROM a)) AND x.status = %(change_proposed)s
    ),
    counted AS (
      SELECT r.account_id,
        COUNT(*) FILTER (WHERE r.source = 'coverage') AS overdue_entitlements,
        MIN(r.day) FILTER (WHERE r.source = 'coverage') AS oldest_due,
        COALESCE(SUM(CASE WHEN r.kind = ANY(%(risk_flags)s) THEN %(risk_flag)s ELSE %(flag)s END)
                 FILTER (WHERE r.source = 'flag'), 0) AS flag_points,
        ARRAY_AGG(r.kind ORDER BY r.at, r.ref) FILTER (WHERE r.source = 'flag') AS flag_kinds,
        COUNT(*) FILTER (WHERE r.source = 'task' AND r.day < %(today)s) AS overdue_tasks,
        COUNT(*) FILTER (WHERE r.source = 'task') AS open_tasks,
        COUNT(*) FILTER (WHERE r.source = 'commitment') AS pending_commitments,
        BOOL_OR(r.source = 'proposal') AS pending_proposal
      FROM reason r
      GROUP BY r.account_id
    ),
    scored AS (
      SELECT w.*, w.attention + CASE WHEN w.tier_rank > 0 AND w.tier_rank < %(tier_rank_ceiling)s
                                     THEN (%(tier_rank_ceiling)s - w.tier_rank) * %(per_tier_rank)s
                                     ELSE 0 END AS score
      FROM (
        SELECT v.*,
          CASE WHEN v.overdue_entitlements > 0
               THEN %(overdue_entitlement)s + %(overdue_per_day)s
                    * LEAST(COALESCE(%(today)s::date - v.oldest_due, 0), %(overdue_days_cap)s)
               ELSE 0 END
          + v.flag_points
          + CASE WHEN v.renewal_date IS NULL OR v.renewal_date < %(today)s THEN 0
                 WHEN v.renewal_date <= %(renewal_soon_until)s THEN %(renewal_soon)s
                 WHEN v.renewal_date <= %(renewal_until)s THEN %(renewal)s
                 ELSE 0 END
          + CASE WHEN v.pending_proposal THEN %(pending_proposal)s ELSE 0 END
          + CASE WHEN v.pending_commitments > 0 THEN %(pending_commitment)s ELSE 0 END
          + CASE WHEN v.overdue_tasks > 0 THEN %(overdue_task)s ELSE 0 END AS attention
        FROM (
          SELECT a.*,
            COALESCE(n.overdue_entitlements, 0) AS overdue_entitlements,
            n.oldest_due,
            COALESCE(n.flag_points, 0) AS flag_points,
            COALESCE(n.flag_kinds, ARRAY[]::varchar[]) AS flag_kinds,
            COALESCE(n.overdue_tasks, 0) AS overdue_tasks,
            COALESCE(n.open_tasks, 0) AS open_tasks,
            COALESCE(n.pending_commitments, 0) AS pending_commitments,
            COALESCE(n.pending_proposal, FALSE) AS pending_proposal
          FROM a LEFT JOIN counted n ON n.account_id = a.id
        ) v
      ) w
    ),
    page AS (
      SELECT s.id, s.score, s.attention, s.overdue_entitlements, s.oldest_due, s.flag_points,
             s.flag_kinds, s.overdue_tasks, s.open_tasks, s.pending_commitments, s.pending_proposal,
             COUNT(*) OVER () AS total, ROW_NUMBER() OVER (ORDER BY {order}) AS position
      FROM scored s
      WHERE NOT %(needs_attention)s OR s.attention > 0
      ORDER BY position
      LIMIT %(limit)s OFFSET %(offset)s
    )
    SELECT {row_columns}, page.score, page.attention, page.overdue_entitlements, page.oldest_due,
           page.flag_points, page.flag_kinds, page.overdue_tasks, page.open_tasks,
           page.pending_commitments, page.pending_proposal, page.total,
           px.id AS proposal_id, px.explanation AS proposal_explanation,
           nt.id AS task_id, nt.title AS task_title, nt.due_on AS task_due_on,
           nt.snoozed_until AS task_snoozed_until,
           (SELECT MAX(tp.occurred_at) FROM {touchpoint} tp WHERE tp.account_id = page.id) AS last_touch_at
           {portfolio_tiers}
    FROM page
    JOIN {account} acc ON acc.id = page.id
    -- What the page's rows offer inline: the proposal to accept or dispute, the next open task.
    LEFT JOIN LATERAL (
      SELECT x.id, x.explanation FROM {change} x
      WHERE x.account_id = page.id AND x.status = %(change_proposed)s
      ORDER BY x.id DESC LIMIT 1
    ) px ON page.pending_proposal
    LEFT JOIN LATERAL (
      SELECT t.id, t.title, t.due_on, t.snoozed_until FROM {task} t
      WHERE t.account_id = page.id AND t.status = %(task_open)s
      ORDER BY t.due_on, t.id LIMIT 1
    ) nt ON TRUE
    ORDER BY page.position
""")

# The account columns a row, its reasons and the API's entry show: only these are read whole for
# the page (an account's explanation, CRM keys and timestamps are not shown, and reading and
# converting every column of 25 rows cost more than a millisecond of the page). Any other field
# is deferred by ``raw()``: reading it costs a query, which the worklist's query-count tests catch.
WORKLIST_ROW_COLUMNS = (
    "id",
    "name",
    "acv",
    "lifecycle_stage",
    "renewal_date",
    "csm_id",
    "tier_code",
    "tier_name",
    "tier_rank",
    "tier_source",
    "health_score",
    "health_band",
)
_ROW_COLUMNS = sql.SQL(", ").join(sql.Identifier("acc", column) for column in WORKLIST_ROW_COLUMNS)

# The worklist's own order, most urgent first: score, tier (none last), name in code-point order
# (as Python sorts), id; "-priority" is the same order reversed.
_PRIORITY = sql.SQL(
    """s.score DESC, CASE WHEN s.tier_rank > 0 THEN s.tier_rank ELSE 99 END, s.name COLLATE "C", s.id"""
)
_PRIORITY_REVERSED = sql.SQL(
    """s.score, CASE WHEN s.tier_rank > 0 THEN s.tier_rank ELSE 99 END DESC, s.name COLLATE "C" DESC,"""
    """ s.id DESC"""
)
# The tiers the portfolio holds (``worklist_tiers``' rows), read once from the materialised portfolio
# (the statement's InitPlan) rather than by a query of their own.
_PORTFOLIO_TIERS = sql.SQL(""", (
           SELECT COALESCE(json_agg(json_build_array(t.tier_code, t.tier_name, t.tier_rank)), '[]')
           FROM (SELECT DISTINCT tier_code, tier_name, tier_rank FROM a WHERE tier_code <> '') t
         ) AS portfolio_tiers""")
# The portfolio's columns the scores, every order and the portfolio's tiers read.
_NARROW = tuple(
    dict.fromkeys(
        (
            "id",
            "name",
            "renewal_date",
            "tier_rank",
            "tier_code",
            "tier_name",
            *sorted({c.field for cs in ACCOUNT_SORTS.values() for c in cs}),
        )
    )
)


def _order_by(order: str) -> sql.Composable:
    """The ORDER BY of ``order``: the worklist's priority, or a sort of every account list."""
    if order == PRIORITY:
        return _PRIORITY
    if order == f"-{PRIORITY}":
        return _PRIORITY_REVERSED
    return sql.SQL(", ").join(
        sql.SQL("s.{} {}{}").format(
            sql.Identifier(column.field),
            sql.SQL("DESC" if column.descending else "ASC"),
            sql.SQL(" NULLS LAST" if column.nulls_last else ""),
        )
        for column in ACCOUNT_SORTS[order]
    )


def worklist_scored_accounts(
    *,
    portfolio: QuerySet[Account],
    points: WorklistPoints,
    today: dt.date,
    renewal_days: int,
    order: str = PRIORITY,
    needs_attention: bool = False,
    limit: int | None = None,
    offset: int = 0,
    with_tiers: bool = False,
) -> list[Any]:
    """The portfolio's accounts in ``order`` (most urgent first by default), each carrying
    ``score``, ``attention``, the counts behind its reasons (``overdue_entitlements``,
    ``oldest_due``, ``flag_points``, ``flag_kinds`` oldest first, ``overdue_tasks``,
    ``open_tasks``, ``pending_commitments``, ``pending_proposal``) and ``total``, how many
    accounts the list holds across its pages; and for the inline actions, the latest proposal
    waiting (``proposal_id``, ``proposal_explanation``), the next open task by due day, snoozed
    or not (``task_id``, ``task_title``, ``task_due_on``, ``task_snoozed_until``) and
    ``last_touch_at``. With ``with_tiers`` each also carries ``portfolio_tiers``, the distinct
    ``[tier_code, tier_name, tier_rank]`` of the whole portfolio (not only the page's).

    Mirrors ``engagement.worklist.services.worklist_score_parts``: the score is the sum of
    its parts' points, with the same ``points`` passed here as named parameters. SQL because the
    database must order and page the whole portfolio by the score (only the page's rows reach
    Python), and building and compiling a dozen nested ORM expressions cost more per request
    than running the query. ``order`` is ``priority``, ``-priority`` or a key of
    ``accounts.sorting.ACCOUNT_SORTS``; ``needs_attention`` keeps accounts with a reason beyond
    the tier rank; ``limit=None`` reads every row. One query.
    """
    if order not in (PRIORITY, f"-{PRIORITY}") and order not in ACCOUNT_SORTS:
        raise ValueError(f"Unknown worklist order {order!r}.")
    portfolio_sql, portfolio_params = portfolio.order_by().values(*_NARROW).query.sql_with_params()
    portfolio_fragment, named_portfolio_params = orm_subquery(
        portfolio_sql, portfolio_params, prefix="portfolio_"
    )
    query = _WORKLIST.format(
        coverage=table(EntitlementCoverage),
        flag=table(Flag),
        task=table(Task),
        commitment=table(HandoffCommitment),
        change=table(TierChange),
        account=table(Account),
        touchpoint=table(Touchpoint),
        portfolio=portfolio_fragment,
        row_columns=_ROW_COLUMNS,
        order=_order_by(order),
        portfolio_tiers=_PORTFOLIO_TIERS if with_tiers else sql.SQL(""),
    )
    params: dict[str, Any] = {
        **points.as_params(),
        **named_portfolio_params,
        "today": today,
        "renewal_soon_until": today + dt.timedelta(days=RENEWAL_SOON_DAYS),
        "renewal_until": today + dt.timedelta(days=renewal_days),
        "tier_rank_ceiling": TIER_RANK_CEILING,
        "risk_flags": sorted(RISK_FLAGS),
        "flag_open": FlagStatus.OPEN.value,
        "task_open": TaskStatus.OPEN.value,
        "commitment_exceeds_tier": CommitmentStatus.EXCEEDS_TIER.value,
        "change_proposed": ChangeStatus.PROPOSED.value,
        "needs_attention": needs_attention,
        "limit": limit or None,
        "offset": offset,
    }
    return list(Account.objects.raw(render(query), params))
