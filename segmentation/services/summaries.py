"""Summary tables a finished review writes, so dashboards read a few rows instead of a million."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from accounts.models import Account

from .. import economics
from ..models import (
    ChangeStatus,
    OverrideStatus,
    OverrideSummary,
    QuadrantSummary,
    ReviewStatus,
    TierChange,
    TierMigration,
    TierOverride,
    TierReview,
    TierSummary,
)


@transaction.atomic
def review_summaries_write(*, review_id: int, today: dt.date) -> None:
    """(Re)write the tier, migration, override and quadrant summaries of a review."""
    for model in (TierSummary, TierMigration, OverrideSummary, QuadrantSummary):
        model.objects.filter(review_id=review_id).delete()

    # One scan of the accounts gives both the tier summary and the revenue classes of the grid.
    high_revenue = float(settings.ECONOMICS_HIGH_REVENUE_ACV)
    tiers: dict[tuple[str, str, int | None], list[Any]] = {}
    by_revenue: dict[bool, tuple[int, Decimal]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tier_code, tier_name, tier_rank, acv >= %s, COUNT(*), SUM(acv), "
            f"COUNT(*) FILTER (WHERE tier_source = 'override') FROM {Account._meta.db_table} "
            "GROUP BY 1, 2, 3, 4"
            if connection.vendor == "postgresql"
            else "SELECT tier_code, tier_name, tier_rank, acv >= %s, COUNT(*), SUM(acv), "
            f"SUM(CASE WHEN tier_source = 'override' THEN 1 ELSE 0 END) FROM {Account._meta.db_table} "
            "GROUP BY 1, 2, 3, 4",
            [high_revenue],
        )
        for code, name, rank, high, n, acv, overridden in cursor.fetchall():
            acv = Decimal(str(acv or 0))
            slot = tiers.setdefault((code, name, rank), [0, Decimal(0), 0])
            slot[0] += n
            slot[1] += acv
            slot[2] += overridden
            count, total = by_revenue.get(bool(high), (0, Decimal(0)))
            by_revenue[bool(high)] = (count + n, total + acv)
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
    change_table = TierChange._meta.db_table
    account_table = Account._meta.db_table
    sql = (
        f"SELECT c.from_code, a.tier_code, COUNT(*), SUM(a.acv) FROM {change_table} c "
        f"JOIN (SELECT account_id, MIN(id) AS first_id FROM {change_table} "
        "      WHERE id > %s AND status = %s GROUP BY account_id) f "
        "  ON c.id = f.first_id "
        f"JOIN {account_table} a ON a.id = c.account_id "
        "WHERE c.from_code <> a.tier_code GROUP BY c.from_code, a.tier_code"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since_id, ChangeStatus.APPLIED.value])
        migrations = cursor.fetchall()
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
        for q, n, acv, cost in economics.quadrant_totals(today, by_revenue=by_revenue)
    )
