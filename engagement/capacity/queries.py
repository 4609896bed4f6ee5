"""Every CSM's weekly load, approximately and set-based, to narrow the team panel to the CSMs that
``csm_capacity`` must compute exactly.

Mirrors ``engagement.capacity.selectors.csm_capacity(from_summary=True)`` (the definition in
Python), over the team as the database keeps it: ``CsmPortfolioLoad``, one row per CSM with their
capacity (kept by triggers) and their portfolio's entitled minutes (kept with the portfolio
summary). required = Σ portfolio accounts × the tier's weekly entitled minutes + what approved
add-ons add over the tier's cadence + open tasks due within 7 days (from the minutes the task
table's triggers keep per assignee and due day, ``CsmTaskLoad``). SQL because a team of thousands
of CSMs read into Python (their users, four ``IN`` lists of thousands of ids) took most of a
second per panel; the database ranks them in a few milliseconds.

The figures here are not rounded the way the Python rule rounds (to the hundredth of an hour, per
term, half to even), so they are only ever used with a margin (``ROUNDING_MARGIN_HOURS``): a CSM
is left out of the panel, or counted over capacity, only when no rounding could change that; the
CSMs near a boundary are handed to ``csm_capacity``, which decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account
from playbooks.models import AccountAddOn, AddOnStatus, ServiceModule

from ..models import CsmPortfolioLoad, CsmPortfolioSummary, CsmTaskLoad
from ..sql import render, table
from . import TASKS_DUE_WITHIN

# Two terms rounded to 0.01 h each (±0.005 h) plus float noise: the exact required hours lie
# within this of the figure computed here.
ROUNDING_MARGIN_HOURS = 0.02

# Named parameters: tier_codes/tier_minutes (weekly entitled minutes per account of a
# tier), entitlements_key (their fingerprint), module_tiers/module_ids/module_minutes (per tier and
# module), add_on_approved, today, task_due_by, margin, shown.
_LOAD = sql.SQL("""
    WITH tier_minutes AS (
        SELECT * FROM unnest(%(tier_codes)s::text[], %(tier_minutes)s::float8[]) AS t(code, minutes)
    ),
    module_minutes AS (
        SELECT * FROM unnest(%(module_tiers)s::text[], %(module_ids)s::bigint[],
                             %(module_minutes)s::float8[]) AS m(code, module_id, minutes)
    ),
    stale AS (
        -- Whether any kept portfolio row was computed under other entitlements than today's.
        SELECT EXISTS (
            SELECT 1 FROM {portfolio_loads} WHERE entitlements_key <> %(entitlements_key)s
        ) AS stale
    ),
    folded AS (
        -- The summary folded per CSM: read only when the entitlements changed since the kept
        -- portfolio rows (``CsmPortfolioLoad``) were written.
        SELECT s.csm_id, SUM(t.minutes * s.accounts) AS minutes
        FROM {portfolios} s JOIN tier_minutes t ON t.code = s.tier_code
        WHERE (SELECT stale FROM stale)
        GROUP BY s.csm_id
    ),
    extra AS (
        -- What each CSM's kept portfolio minutes leave out, summed per CSM: a few hundred rows to
        -- join with the team, where a join per term cost more than the rest of the statement.
        SELECT csm_id, SUM(minutes) AS minutes
        FROM (
            -- An add-on replaces the tier's cadence for its module when it is more frequent.
            SELECT a.csm_id,
                   CAST(GREATEST(0, sm.expected_minutes * 7.0 / ad.cadence_days - COALESCE(mm.minutes, 0))
                        AS float8) AS minutes
            FROM {add_ons} ad
            JOIN {accounts} a ON a.id = ad.account_id
            JOIN {modules} sm ON sm.id = ad.module_id
            LEFT JOIN module_minutes mm ON mm.code = a.tier_code AND mm.module_id = ad.module_id
            WHERE ad.status = %(add_on_approved)s AND ad.starts_on <= %(today)s
              AND ad.cadence_days IS NOT NULL AND (ad.ends_on IS NULL OR ad.ends_on >= %(today)s)
              AND a.csm_id IS NOT NULL
            UNION ALL
            -- The kept open-task minutes (``CsmTaskLoad``), not the task table: about one folded
            -- row per CSM instead of every open task due this week.
            SELECT assignee_id, CAST(minutes AS float8) FROM {task_load} WHERE due_on <= %(task_due_by)s
            UNION ALL
            -- When the entitlements changed since the kept minutes were written: the summary
            -- folded under today's instead of them.
            SELECT csm_id, minutes FROM folded
            UNION ALL
            SELECT csm_id, -weekly_minutes FROM {portfolio_loads}
            WHERE (SELECT stale FROM stale) AND capacity_hours IS NOT NULL
        ) AS terms
        GROUP BY csm_id
    ),
    bounds AS MATERIALIZED (
        -- One pass over the team as the database keeps it: a kept row per CSM, with a capacity
        -- while they are an active CSM (joining every user with their groups, and then with their
        -- portfolio rows, was most of this statement). In floating point: the margin covers its
        -- error, and numeric arithmetic on every CSM cost more than the rest of the statement.
        -- Utilisation could be anywhere between low and high once rounded; no capacity counts as
        -- no utilisation (0), as in the Python rule.
        SELECT id, capacity, required,
               CASE WHEN capacity > 0 THEN (required - %(margin)s) / capacity ELSE 0 END AS low,
               CASE WHEN capacity > 0 THEN (required + %(margin)s) / capacity ELSE 0 END AS high
        FROM (
            SELECT p.csm_id AS id, CAST(p.capacity_hours AS float8) AS capacity,
                   (p.weekly_minutes + COALESCE(e.minutes, 0)) / 60.0 AS required
            FROM {portfolio_loads} p LEFT JOIN extra e ON e.csm_id = p.csm_id
            WHERE p.capacity_hours IS NOT NULL
        ) AS load
    ),
    threshold AS (
        -- The shown-th highest lowest-possible utilisation: every CSM of the panel has at least it.
        SELECT MIN(low) AS low FROM (SELECT low FROM bounds ORDER BY low DESC LIMIT %(shown)s) AS top
    )
    SELECT team.csms, team.over, team.borderline,
        (SELECT COALESCE(array_agg(id), '{{}}') FROM bounds
         WHERE high >= (SELECT low FROM threshold) OR team.csms <= %(shown)s)
    FROM (
        -- The counts in one pass over the team.
        SELECT COUNT(*) AS csms,
               COUNT(*) FILTER (WHERE required > capacity + %(margin)s) AS over,
               COALESCE(array_agg(id) FILTER (WHERE ABS(required - capacity) <= %(margin)s), '{{}}')
                   AS borderline
        FROM bounds
    ) team
""").format(
    portfolios=table(CsmPortfolioSummary),
    portfolio_loads=table(CsmPortfolioLoad),
    add_ons=table(AccountAddOn),
    accounts=table(Account),
    modules=table(ServiceModule),
    task_load=table(CsmTaskLoad),
)
LOAD = render(_LOAD)


@dataclass(frozen=True)
class TeamLoadNarrowed:
    """What the database settled about the team, and whom it left to the exact rule.

    ``clearly_over``: CSMs over capacity whatever the rounding; ``borderline``: CSMs within the
    margin of their capacity; ``contenders``: every CSM who could be among the ``shown`` most
    loaded."""

    csms: int
    clearly_over: int
    borderline: list[int]
    contenders: list[int]


def team_load_narrowed(
    *,
    tier_minutes: dict[str, float],
    entitlements_key: str,
    module_minutes: dict[tuple[str, int], float],
    today: dt.date,
    shown: int,
) -> TeamLoadNarrowed:
    """One statement over every active CSM: how many, how many clearly over capacity, and the ids
    the exact rule must still decide (near capacity; possibly among the ``shown`` most loaded)."""
    modules = list(module_minutes.items())
    params: dict[str, Any] = {
        "tier_codes": list(tier_minutes),
        "tier_minutes": list(tier_minutes.values()),
        "entitlements_key": entitlements_key,
        "module_tiers": [code for (code, _), _ in modules],
        "module_ids": [module_id for (_, module_id), _ in modules],
        "module_minutes": [minutes for _, minutes in modules],
        "add_on_approved": AddOnStatus.APPROVED,
        "today": today,
        "task_due_by": today + TASKS_DUE_WITHIN,
        "margin": ROUNDING_MARGIN_HOURS,
        "shown": shown,
    }
    with connection.cursor() as cursor:
        cursor.execute(LOAD, params)
        csms, clearly_over, borderline, contenders = cursor.fetchone()
    return TeamLoadNarrowed(csms, clearly_over, list(borderline), list(contenders))


# Folds the appended rows into one per assignee and due day, the days up to ``fold_to`` into one
# row dated ``fold_to``. Only the groups that need it are rewritten (several rows, or a row dated
# before ``fold_to``, or nothing left): a fold writes what was appended since the last one, not the
# whole table, which would leave a dead copy of it behind on every run. The DELETE sees the rows
# committed when it starts; a writer appending meanwhile keeps its row, and a row another fold
# deleted first is not returned here: nothing is counted twice or lost.
_COMPACT = sql.SQL("""
    WITH loose AS (
        SELECT assignee_id, GREATEST(due_on, %(fold_to)s) AS day
        FROM {task_load}
        GROUP BY assignee_id, GREATEST(due_on, %(fold_to)s)
        HAVING COUNT(*) > 1 OR bool_or(due_on < %(fold_to)s) OR SUM(minutes) = 0
    ),
    folded AS (
        DELETE FROM {task_load} l USING loose
        WHERE l.assignee_id = loose.assignee_id AND GREATEST(l.due_on, %(fold_to)s) = loose.day
        RETURNING l.assignee_id, loose.day, l.minutes
    )
    INSERT INTO {task_load} (assignee_id, due_on, minutes)
    SELECT assignee_id, day, SUM(minutes)
    FROM folded
    GROUP BY assignee_id, day
    HAVING SUM(minutes) <> 0
""").format(task_load=table(CsmTaskLoad))
COMPACT = render(_COMPACT)


def csm_task_load_compact(*, fold_to: dt.date) -> int:
    """Fold the kept open-task minutes; returns the rows written (the folded groups).

    ``fold_to`` must be on or before the horizon of every later reader (their day + 7), so a
    folded row still counts wherever its tasks would: the service passes its own day + 7."""
    with connection.cursor() as cursor:
        cursor.execute(COMPACT, {"fold_to": fold_to})
        return cursor.rowcount


# --- One refresh of a CSM's portfolio summary at a time ------------------------------------------
# A refresh deletes the CSM's summary rows and inserts them again. A second refresh of the same CSM
# begun meanwhile would not see the first one's new rows (they were not committed when its DELETE
# began), and its INSERT would then fail on the summary's unique (CSM, tier). Transaction-scoped
# advisory locks make it wait for the first one to commit: a refresh of every CSM takes the
# refreshes' lock alone; a refresh of some CSMs shares it and takes one lock per CSM, in id order
# so that two of them never wait for each other in a cycle. Ids beyond 31 bits share a lock with
# another id, which only makes their refreshes wait for each other.
_REFRESH_EVERYONE = sql.SQL("SELECT pg_advisory_xact_lock(hashtext('engagement.csm_portfolio_refresh'))")
_REFRESH_SOME = [
    sql.SQL("SELECT pg_advisory_xact_lock_shared(hashtext('engagement.csm_portfolio_refresh'))"),
    sql.SQL(
        "SELECT pg_advisory_xact_lock(hashtext('engagement.csm_portfolio'), (csm_id & 2147483647)::int) "
        "FROM (SELECT DISTINCT csm_id FROM unnest(%(csm_ids)s::bigint[]) AS csm_id ORDER BY csm_id) ids"
    ),
]


def csm_portfolio_refresh_lock(*, csm_ids: list[int] | None) -> None:
    """Wait until no other transaction refreshes the summary of ``csm_ids`` (every CSM when None),
    and keep them from starting until this transaction ends. Call inside a transaction."""
    with connection.cursor() as cursor:
        if csm_ids is None:
            cursor.execute(_REFRESH_EVERYONE)
            return
        for statement in _REFRESH_SOME:
            cursor.execute(statement, {"csm_ids": csm_ids})
