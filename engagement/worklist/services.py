"""The worklist's priority score: one table of points and the rule that turns an account's state
into reasons worth those points.

The worklist orders a whole portfolio by the score in SQL (``engagement.worklist.queries``),
which receives these points as named parameters; the page's rows get their reasons from
``worklist_score_parts``. Both read the same table, and tests/engagement/test_queries_agree.py
checks that the SQL score is the sum of the Python parts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..models import FlagKind

# Flags that signal churn weigh more than the others.
RISK_FLAGS = frozenset({"usage_drop", "champion_left", "ticket_surge", "health_at_risk"})
# A renewal this close scores ``renewal_soon``; up to settings.WORKLIST_RENEWAL_DAYS, ``renewal``.
RENEWAL_SOON_DAYS = 30
# The worklist's own order (``?order=priority``, the default): most urgent first.
PRIORITY = "priority"
# Tier ranks below this one score (ceiling - rank) x ``per_tier_rank``: Enterprise +20 … Tier 3 +5.
TIER_RANK_CEILING = 5


@dataclass(frozen=True)
class WorklistPoints:
    """Points per reason; the worklist orders by their sum. Overdue service and risk flags weigh
    most because they are what the tier promised and what signals churn; tier rank breaks ties."""

    overdue_entitlement: int = 30
    overdue_per_day: int = 1  # plus one point per day the oldest entitlement is overdue (capped)
    overdue_days_cap: int = 30
    flag: int = 25
    risk_flag: int = 35  # usage drop, champion left, ticket surge
    renewal_soon: int = 30  # within RENEWAL_SOON_DAYS
    renewal: int = 15  # within settings.WORKLIST_RENEWAL_DAYS
    pending_proposal: int = 20
    pending_commitment: int = 15
    overdue_task: int = 10
    per_tier_rank: int = 5

    def as_params(self) -> dict[str, int]:
        """The points as named SQL parameters (``%(overdue_entitlement)s``…)."""
        return dataclasses.asdict(self)


WORKLIST_POINTS = WorklistPoints()


@dataclass(frozen=True)
class ScorePart:
    """What one rule adds to the score, with the reason shown for it (none for the tier rank,
    which only breaks ties)."""

    rule: str
    points: int
    reason: str | None


def worklist_score_parts(
    *,
    overdue_entitlements: int,
    oldest_due: dt.date | None,
    flag_kinds: Sequence[str],
    renewal_date: dt.date | None,
    renewal_days: int,
    pending_proposal: bool,
    pending_commitments: int,
    overdue_tasks: int,
    tier_rank: int | None,
    today: dt.date,
    points: WorklistPoints = WORKLIST_POINTS,
) -> list[ScorePart]:
    """The parts of an account's score, in the order the worklist shows its reasons."""
    parts: list[ScorePart] = []
    if overdue_entitlements:
        days = (today - oldest_due).days if oldest_due else 0
        noun = "entitlement" if overdue_entitlements == 1 else "entitlements"
        parts.append(
            ScorePart(
                "overdue_entitlement",
                points.overdue_entitlement + points.overdue_per_day * min(days, points.overdue_days_cap),
                f"{overdue_entitlements} {noun} overdue (oldest by {days} days)",
            )
        )
    for kind in flag_kinds:
        risky = kind in RISK_FLAGS
        parts.append(
            ScorePart(
                "risk_flag" if risky else "flag",
                points.risk_flag if risky else points.flag,
                f"Flag: {FlagKind(kind).label}",
            )
        )
    if renewal_date and renewal_date >= today:
        days_left = (renewal_date - today).days
        if days_left <= RENEWAL_SOON_DAYS:
            parts.append(ScorePart("renewal_soon", points.renewal_soon, f"Renews in {days_left} days"))
        elif days_left <= renewal_days:
            parts.append(ScorePart("renewal", points.renewal, f"Renews in {days_left} days"))
    if pending_proposal:
        parts.append(
            ScorePart("pending_proposal", points.pending_proposal, "Tier proposal waiting for review")
        )
    if pending_commitments:
        parts.append(
            ScorePart(
                "pending_commitment",
                points.pending_commitment,
                f"{pending_commitments} AE commitment(s) beyond the tier",
            )
        )
    if overdue_tasks:
        parts.append(ScorePart("overdue_task", points.overdue_task, f"{overdue_tasks} overdue task(s)"))
    if tier_rank and 0 < tier_rank < TIER_RANK_CEILING:
        parts.append(ScorePart("tier_rank", (TIER_RANK_CEILING - tier_rank) * points.per_tier_rank, None))
    return parts
