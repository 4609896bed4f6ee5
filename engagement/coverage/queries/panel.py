"""The coverage panel's figures from ``CoverageSummary``, folded and ranked in one statement.

Mirrors ``engagement.coverage.selectors.coverage_shares_from_summary`` (the summary folded per tier
and CSM in Python) followed by ``_most_overdue`` (the ranking). SQL because a team of thousands of
CSMs folds to thousands of rows: bringing each into Python as Decimals and sorting them took most
of the panel's time, while the panel shows 25 of them. A test holds the two equal on generated
books (tests/engagement/test_coverage_summary.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from csplatform.models import User

from ...models import CoverageSummary, CoverageSummaryDimension
from ...sql import render, table

# Named parameters: today, tier, csm (the dimensions), shown.
# The CSM rows are ranked as ``_most_overdue`` ranks them: most accounts overdue, then the lowest
# on-time share (none planned: after any share), then the key compared byte by byte as Python
# compares strings. The share is divided at 28 decimal places, as Python's Decimal context divides,
# before it becomes a float, so that two CSMs compare alike in both.
_PANEL = sql.SQL("""
    WITH csm AS (
        -- Every CSM's counts overdue: the buckets overdue today, and the NULL bucket, which holds
        -- every planned and on-time delivery (``_SUMMARY_DELTA``); the buckets of days to come hold
        -- only counts not yet due. Counts only: the deliveries are summed below for the few CSMs
        -- who can be shown (numeric sums over thousands of CSMs were most of the statement).
        SELECT key, SUM(entitlements) AS overdue, SUM(accounts) AS overdue_accounts
        FROM {summary}
        WHERE dimension = %(csm)s AND (due_on IS NULL OR due_on < %(today)s)
        GROUP BY key
    ),
    candidates AS (
        -- Only the CSMs with at least the shown-th most accounts overdue can be shown.
        SELECT * FROM csm
        WHERE overdue_accounts >= COALESCE(
            (SELECT overdue_accounts FROM csm ORDER BY overdue_accounts DESC OFFSET %(shown)s - 1 LIMIT 1),
            0)
    ),
    shown AS (
        SELECT c.key, d.planned, d.delivered, c.overdue, c.overdue_accounts,
               row_number() OVER (ORDER BY c.overdue_accounts DESC,
                                  CASE WHEN d.planned <> 0
                                       THEN CAST(round(d.delivered, 28) / d.planned AS float8)
                                       ELSE 2 END,
                                  c.key COLLATE "C") AS place
        FROM candidates c
        CROSS JOIN LATERAL (
            SELECT SUM(s.planned) AS planned, SUM(s.delivered_on_time) AS delivered
            FROM {summary} s
            WHERE s.dimension = %(csm)s AND s.key = c.key AND (s.due_on IS NULL OR s.due_on < %(today)s)
        ) d
        ORDER BY place
        LIMIT %(shown)s
    )
    SELECT 'tier', key, SUM(planned), SUM(delivered_on_time), SUM(entitlements), SUM(accounts), NULL, 0
    FROM {summary}
    WHERE dimension = %(tier)s AND (due_on IS NULL OR due_on < %(today)s)
    GROUP BY key
    UNION ALL
    SELECT 'csm', s.key, s.planned, s.delivered, s.overdue, s.overdue_accounts, u.username, s.place
    FROM shown s LEFT JOIN {users} u ON u.id = CAST(NULLIF(s.key, '') AS bigint)
    UNION ALL
    SELECT 'count', NULL, NULL, NULL, COUNT(*), COUNT(*) FILTER (WHERE overdue_accounts > 0), NULL, 0
    FROM csm
""").format(summary=table(CoverageSummary), users=table(User))
PANEL = render(_PANEL)


@dataclass(frozen=True)
class PanelRow:
    """One tier's or one shown CSM's sums (``key``: the tier code, or the CSM's username, '' for
    the accounts without a CSM)."""

    key: str
    planned: Decimal
    delivered_on_time: Decimal
    overdue: int
    overdue_accounts: int


@dataclass(frozen=True)
class PanelFigures:
    tiers: list[PanelRow]
    most_overdue_csms: list[PanelRow]  # ranked
    csms: int
    csms_overdue: int


def coverage_panel_figures(*, today: dt.date, shown: int) -> PanelFigures:
    """Every tier's sums, the ``shown`` CSMs with the most accounts overdue as of ``today`` (in
    order, with their usernames), how many CSM rows there are and how many have any overdue."""
    params: dict[str, Any] = {
        "today": today,
        "tier": CoverageSummaryDimension.TIER,
        "csm": CoverageSummaryDimension.CSM,
        "shown": shown,
    }
    with connection.cursor() as cursor:
        cursor.execute(PANEL, params)
        rows = cursor.fetchall()
    tiers: list[PanelRow] = []
    ranked: list[tuple[int, PanelRow]] = []
    csms = csms_overdue = 0
    for part, key, planned, delivered, overdue, overdue_accounts, username, place in rows:
        if part == "count":
            csms, csms_overdue = int(overdue), int(overdue_accounts)
            continue
        row = PanelRow(
            key=(username or "") if part == "csm" else key,
            planned=Decimal(planned or 0),
            delivered_on_time=Decimal(delivered or 0),
            overdue=int(overdue),
            overdue_accounts=int(overdue_accounts),
        )
        if part == "tier":
            tiers.append(row)
        else:
            ranked.append((place, row))
    return PanelFigures(
        tiers=sorted(tiers, key=lambda r: r.key),
        most_overdue_csms=[row for _, row in sorted(ranked, key=lambda pair: pair[0])],
        csms=csms,
        csms_overdue=csms_overdue,
    )
