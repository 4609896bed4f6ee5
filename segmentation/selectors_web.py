"""Page-shaped reads for the leadership panels this app owns. Reads only.

Dashboards read the summary tables the last review wrote (never a GROUP BY over every account),
plus the tier changes applied since that review, so a decision shows up at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import Account

from .economics import CostRates, in_cents
from .models import Quadrant, ReviewStatus, TierReview
from .queries import book as book_sql
from .queries import economics as economics_sql
from .queries import summaries as summaries_sql


@dataclass
class TierCount:
    code: str
    name: str
    rank: int | None
    accounts: int
    acv: Decimal


def tier_distribution() -> list[TierCount]:
    """Accounts and ACV per tier in the active book, as they stand now: the figures the database
    keeps as accounts are written (``TierBookDelta``), so a decision, a sync or a review chunk
    shows up at once, at the cost of a few rows whatever the size of the book."""
    by_code: dict[str, TierCount] = {}
    # Largest group first: a tier renamed while a review is on its way shows under the name most
    # of its accounts carry, as one row (the accounts list it opens filters by code).
    for code, name, rank, n, acv in sorted(book_sql.tier_book_counts(), key=lambda r: -r[3]):
        row = by_code.setdefault(code, TierCount(code, name, rank, 0, Decimal(0)))
        row.accounts += n
        row.acv += acv
    return sorted(by_code.values(), key=lambda t: (t.rank is None, t.rank or 0, t.code))


def migration_matrix(
    summaries: dict[str, Any],
) -> tuple[list[str], list[tuple[str, list[tuple[str, int, Decimal]]]]]:
    """(codes, rows): accounts moving from the row tier to the column tier since the review before."""
    migrations = summaries["migrations"]
    order = {t.tier_code: t.tier_rank or 99 for t in summaries["tiers"]}
    codes = sorted(
        {m.from_code for m in migrations} | {m.to_code for m in migrations},
        key=lambda c: (order.get(c, 99), c),
    )
    cells: dict[tuple[str, str], tuple[int, Decimal]] = {
        (m.from_code, m.to_code): (m.accounts, Decimal(m.acv_sum)) for m in migrations
    }
    empty = (0, Decimal(0))
    return codes, [
        (f, [(t, cells.get((f, t), empty)[0], cells.get((f, t), empty)[1]) for t in codes]) for f in codes
    ]


def previous_finished_review(review: TierReview) -> TierReview | None:
    return (
        TierReview.objects.filter(status=ReviewStatus.FINISHED, pk__lt=review.pk)
        .only("pk", "finished_at")
        .order_by("-pk")
        .first()
    )


SCATTER_SAMPLE = 200


def economics_scatter() -> list[dict[str, Any]]:
    """Revenue against cost to serve for the largest accounts (the grid's interesting corner)."""
    names = dict(Account.objects.order_by("-acv").values_list("id", "name")[:SCATTER_SAMPLE])
    rows = economics_sql.account_costs(
        account_ids=list(names), today=timezone.localdate(), rates=CostRates.from_settings()
    )
    return [
        {"id": pk, "x": float(acv), "y": float(in_cents(cost)), "quadrant": quadrant, "name": names[pk]}
        for pk, acv, cost, quadrant in rows
    ]


def account_ids_in_quadrant(*, quadrant: str, limit: int) -> list[int]:
    """The largest accounts (by ACV) in ``quadrant`` as of today."""
    return economics_sql.account_ids_in_quadrant(
        quadrant=quadrant, today=timezone.localdate(), rates=CostRates.from_settings(), limit=limit
    )


def account_ids_in_quadrant_page(
    *, quadrant: str, as_of: dt.date | None, limit: int, offset: int
) -> tuple[list[int], int]:
    """One page of the accounts in ``quadrant`` as of ``as_of`` (today when None), and their number."""
    return economics_sql.account_ids_in_quadrant_page(
        quadrant=quadrant,
        today=as_of or timezone.localdate(),
        rates=CostRates.from_settings(),
        limit=limit,
        offset=offset,
    )


def tier_move_account_ids(
    *, after_change_id: int, upto_change_id: int, from_code: str, to_code: str
) -> list[int]:
    """The accounts behind one cell of a review's migration matrix (``TierMigration``)."""
    return summaries_sql.tier_move_account_ids(
        after_change_id=after_change_id, upto_change_id=upto_change_id, from_code=from_code, to_code=to_code
    )


QUADRANT_ORDER = [
    Quadrant.HIGH_REVENUE_LOW_COST,
    Quadrant.HIGH_REVENUE_HIGH_COST,
    Quadrant.LOW_REVENUE_LOW_COST,
    Quadrant.LOW_REVENUE_HIGH_COST,
]
