"""Summary tables a finished review writes, so dashboards read a few rows instead of a million."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import BooleanField, Case, Count, Q, Sum, Value, When

from accounts.models import TierSource
from accounts.selectors import active_book

from ..economics import CostRates
from ..models import (
    OverrideStatus,
    OverrideSummary,
    QuadrantSummary,
    ReviewStatus,
    TierMigration,
    TierOverride,
    TierReview,
    TierSummary,
)
from ..queries import book as book_sql
from ..queries import summaries as summaries_sql
from .economics import quadrant_totals


@transaction.atomic
def review_summaries_write(*, review_id: int, today: dt.date) -> None:
    """(Re)write the tier, migration, override and quadrant summaries of a review, and fold the
    rows the kept tier book gathered since the last one."""
    book_sql.tier_book_compact()
    for model in (TierSummary, TierMigration, OverrideSummary, QuadrantSummary):
        model.objects.filter(review_id=review_id).delete()

    # One scan of the accounts gives both the tier summary and the revenue classes of the grid.
    tiers: dict[tuple[str, str, int | None], list[Any]] = {}
    by_revenue: dict[bool, tuple[int, Decimal]] = {}
    for row in _tier_revenue_groups():
        acv = Decimal(row["acv_sum"] or 0)
        slot = tiers.setdefault((row["tier_code"], row["tier_name"], row["tier_rank"]), [0, Decimal(0), 0])
        slot[0] += row["n"]
        slot[1] += acv
        slot[2] += row["overridden"]
        count, total = by_revenue.get(row["high"], (0, Decimal(0)))
        by_revenue[row["high"]] = (count + row["n"], total + acv)
    TierSummary.objects.bulk_create(
        TierSummary(
            review_id=review_id,
            tier_code=code,
            tier_name=name,
            tier_rank=rank,
            accounts=n,
            acv_sum=acv,
            overridden=overridden,
        )
        for (code, name, rank), (n, acv, overridden) in tiers.items()
    )

    previous = (
        TierReview.objects.filter(status=ReviewStatus.FINISHED, id__lt=review_id).order_by("-id").first()
    )
    # Changes recorded since the previous review finished, read through the primary key. (A
    # proposal accepted after that review but created before it counts in the review after.)
    since_id = previous.last_change_id if previous else 0
    migrations = summaries_sql.tier_moves_since(after_change_id=since_id)
    TierMigration.objects.bulk_create(
        TierMigration(review_id=review_id, from_code=f, to_code=t, accounts=n, acv_sum=acv or 0)
        for f, t, n, acv in migrations
    )

    overrides = (
        TierOverride.objects.filter(status=OverrideStatus.ACTIVE)
        .values("reason", "policy_tier_code", "tier_code")
        .annotate(accounts=Count("id"))
        .order_by()
    )
    OverrideSummary.objects.bulk_create(OverrideSummary(review_id=review_id, **row) for row in overrides)

    QuadrantSummary.objects.bulk_create(
        QuadrantSummary(review_id=review_id, quadrant=q, accounts=n, acv_sum=acv, cost_sum=cost)
        for q, n, acv, cost in quadrant_totals(today, by_revenue=by_revenue)
    )


def _tier_revenue_groups() -> Any:
    """Accounts of the active book per (tier, revenue class): one scan gives the tier summary and
    the grid's revenue classes (a churned account counts in neither)."""
    high_revenue = CostRates.from_settings().high_revenue
    return (
        active_book()
        .annotate(
            high=Case(
                When(acv__gte=high_revenue, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values("tier_code", "tier_name", "tier_rank", "high")
        .annotate(
            n=Count("id"),
            acv_sum=Sum("acv"),
            overridden=Count("id", filter=Q(tier_source=TierSource.OVERRIDE)),
        )
        .order_by()
    )
