"""The worklist's order: the priority score of every account in a filtered portfolio, in SQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from psycopg import sql

from accounts.models import Account
from segmentation.models import ChangeStatus, TierChange

from ..models import (
    CommitmentStatus,
    EntitlementCoverage,
    Flag,
    FlagStatus,
    HandoffCommitment,
    Task,
    TaskStatus,
)
from ..sql import orm_subquery, render, table
from .services import RENEWAL_SOON_DAYS, RISK_FLAGS, TIER_RANK_CEILING, WorklistPoints

# The counts behind the reasons (``worklist_score_parts`` reads them for the page's rows), then
# the attention points, then the tier rank's, then the order: score, tier, name in code-point
# order (as Python sorts), id. The counts are grouped once per table over the portfolio (read once,
# materialised) and joined, not counted per account: a subquery per account and table made the
# planner scan a small table once per account (500 accounts x 5 tables), and its cost moved with
# each table's statistics.
_WORKLIST = sql.SQL("""
    WITH a AS MATERIALIZED ({portfolio})
    SELECT s.*, s.attention + CASE WHEN s.tier_rank > 0 AND s.tier_rank < %(tier_rank_ceiling)s
                                   THEN (%(tier_rank_ceiling)s - s.tier_rank) * %(per_tier_rank)s
                                   ELSE 0 END AS score
    FROM (
      SELECT w.*,
        CASE WHEN w.overdue_entitlements > 0
             THEN %(overdue_entitlement)s + %(overdue_per_day)s
                  * LEAST(COALESCE(%(today)s::date - w.oldest_due, 0), %(overdue_days_cap)s)
             ELSE 0 END
        + w.flag_points
        + CASE WHEN w.renewal_date IS NULL OR w.renewal_date < %(today)s THEN 0
               WHEN w.renewal_date <= %(renewal_soon_until)s THEN %(renewal_soon)s
               WHEN w.renewal_date <= %(renewal_until)s THEN %(renewal)s
               ELSE 0 END
        + CASE WHEN w.pending_proposal THEN %(pending_proposal)s ELSE 0 END
        + CASE WHEN w.pending_commitments > 0 THEN %(pending_commitment)s ELSE 0 END
        + CASE WHEN w.overdue_tasks > 0 THEN %(overdue_task)s ELSE 0 END AS attention
      FROM (
        SELECT a.*,
          COALESCE(cov.overdue, 0) AS overdue_entitlements,
          cov.oldest_due,
          COALESCE(fl.points, 0) AS flag_points,
          COALESCE(tk.overdue, 0) AS overdue_tasks,
          COALESCE(tk.open, 0) AS open_tasks,
          COALESCE(hc.pending, 0) AS pending_commitments,
          px.account_id IS NOT NULL AS pending_proposal
        FROM a
        LEFT JOIN (
          SELECT c.account_id, COUNT(*) AS overdue, MIN(c.next_due_on) AS oldest_due
          FROM {coverage} c WHERE c.account_id IN (SELECT id FROM a) AND c.next_due_on < %(today)s
          GROUP BY c.account_id
        ) cov ON cov.account_id = a.id
        LEFT JOIN (
          SELECT f.account_id,
                 SUM(CASE WHEN f.kind = ANY(%(risk_flags)s) THEN %(risk_flag)s ELSE %(flag)s END) AS points
          FROM {flag} f WHERE f.account_id IN (SELECT id FROM a) AND f.status = %(flag_open)s
          GROUP BY f.account_id
        ) fl ON fl.account_id = a.id
        LEFT JOIN (
          SELECT t.account_id, COUNT(*) FILTER (WHERE t.due_on < %(today)s) AS overdue, COUNT(*) AS open
          FROM {task} t WHERE t.account_id IN (SELECT id FROM a) AND t.status = %(task_open)s
            AND (t.snoozed_until IS NULL OR t.snoozed_until <= %(today)s)
          GROUP BY t.account_id
        ) tk ON tk.account_id = a.id
        LEFT JOIN (
          SELECT h.account_id, COUNT(*) AS pending
          FROM {commitment} h
          WHERE h.account_id IN (SELECT id FROM a) AND h.status = %(commitment_exceeds_tier)s
          GROUP BY h.account_id
        ) hc ON hc.account_id = a.id
        LEFT JOIN (
          SELECT DISTINCT x.account_id
          FROM {change} x WHERE x.account_id IN (SELECT id FROM a) AND x.status = %(change_proposed)s
        ) px ON px.account_id = a.id
      ) w
    ) s
    WHERE NOT %(needs_attention)s OR s.attention > 0
    ORDER BY score DESC, CASE WHEN s.tier_rank > 0 THEN s.tier_rank ELSE 99 END, s.name COLLATE "C", s.id
    LIMIT %(limit)s OFFSET %(offset)s
""")


def worklist_scored_accounts(
    *,
    portfolio: QuerySet[Account],
    points: WorklistPoints,
    today: dt.date,
    renewal_days: int,
    needs_attention: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Any]:
    """The portfolio's accounts most urgent first, each carrying ``score``, ``attention`` and the
    counts behind its reasons (``overdue_entitlements``, ``oldest_due``, ``flag_points``,
    ``overdue_tasks``, ``open_tasks``, ``pending_commitments``, ``pending_proposal``).

    Mirrors ``engagement.worklist.services.worklist_score_parts``: the score is the sum of
    its parts' points, with the same ``points`` passed here as named parameters. SQL because the
    database must order and page the whole portfolio by the score (only the page's rows reach
    Python), and building and compiling a dozen nested ORM expressions cost more per request
    than running the query. ``needs_attention`` keeps accounts with a reason beyond the tier
    rank; ``limit=None`` reads every row. One query.
    """
    portfolio_sql, portfolio_params = portfolio.order_by().query.sql_with_params()
    portfolio_fragment, named_portfolio_params = orm_subquery(
        portfolio_sql, portfolio_params, prefix="portfolio_"
    )
    query = _WORKLIST.format(
        coverage=table(EntitlementCoverage),
        flag=table(Flag),
        task=table(Task),
        commitment=table(HandoffCommitment),
        change=table(TierChange),
        portfolio=portfolio_fragment,
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
