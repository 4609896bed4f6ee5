"""Page-shaped reads for the leadership panels this app owns. Reads only.

Dashboards read the summary tables the last review wrote (never a GROUP BY over every account),
plus the tier changes applied since that review, so a decision shows up at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import Account, AccountFieldChange
from accounts.selectors import CHURNED_STAGE, active_book, in_active_book

from .economics import CostRates, in_cents
from .models import ChangeStatus, Quadrant, ReviewStatus, TierChange, TierReview
from .queries import economics as economics_sql
from .queries import summaries as summaries_sql


@dataclass
class TierCount:
    code: str
    name: str
    rank: int | None
    accounts: int
    acv: Decimal


def tier_distribution(summaries: dict[str, Any]) -> tuple[list[TierCount], bool]:
    """Accounts and ACV per tier in the active book: the last review's summary moved by the changes
    applied since, and by the accounts that churned (or came back) since.

    Returns (rows, live) where ``live`` says no review has finished yet and the figures were
    counted directly (small books only: a fresh install or a demo).
    """
    review: TierReview | None = summaries["review"]
    if review is None:
        live = (
            active_book()
            .values("tier_code", "tier_name", "tier_rank")
            .annotate(n=Count("pk"), acv=Sum("acv"))
            .order_by("tier_rank", "tier_code")
        )
        return [
            TierCount(r["tier_code"], r["tier_name"], r["tier_rank"], r["n"], Decimal(r["acv"] or 0))
            for r in live
        ], True
    by_code = {
        s.tier_code: TierCount(s.tier_code, s.tier_name, s.tier_rank, s.accounts, Decimal(s.acv_sum))
        for s in summaries["tiers"]
    }
    since = review.finished_at or review.created_at
    left, joined = _book_changes_since(since)
    # Moves of accounts that left or joined the active book since the review are settled below.
    moves = (
        TierChange.objects.filter(status=ChangeStatus.APPLIED, applied_at__gt=since)
        .filter(in_active_book(via="account__"))
        .exclude(account_id__in=joined)
        .values("from_code", "to_code", "to_name", "to_rank")
        .annotate(n=Count("pk"), acv=Sum("account__acv"))
    )
    for move in moves:
        acv = Decimal(move["acv"] or 0)
        source = by_code.get(move["from_code"])
        if source is not None:
            source.accounts -= move["n"]
            source.acv -= acv
        target = by_code.setdefault(
            move["to_code"], TierCount(move["to_code"], move["to_name"], move["to_rank"], 0, Decimal(0))
        )
        target.accounts += move["n"]
        target.acv += acv
    for code, acv in left:  # churned since: out of the tier the review counted it in
        source = by_code.get(code)
        if source is not None:
            source.accounts -= 1
            source.acv -= acv
    for code, name, rank, acv in joined.values():  # back from churn: into its tier of today
        target = by_code.setdefault(code, TierCount(code, name, rank, 0, Decimal(0)))
        target.accounts += 1
        target.acv += acv
    rows = sorted(by_code.values(), key=lambda t: (t.rank is None, t.rank or 0, t.code))
    return rows, False


def _book_changes_since(
    since: Any,
) -> tuple[list[tuple[str, Decimal]], dict[int, tuple[str, str, int | None, Decimal]]]:
    """Accounts that left the active book (churned) or came back to it since ``since``, from the
    lifecycle field history: (tier code the review counted it in, ACV) per leaver, and (tier code,
    name, rank, ACV) of today per account that came back, by account id.

    Two queries, plus one for the leavers' tier at the review when any left.
    """
    stage_at_review: dict[int, str] = {}
    for account_id, old_value in (
        AccountFieldChange.objects.filter(field="lifecycle_stage", changed_at__gt=since)
        .order_by("account_id", "changed_at", "pk")
        .values_list("account_id", "old_value")
    ):
        stage_at_review.setdefault(account_id, old_value)
    if not stage_at_review:
        return [], {}
    left: dict[int, tuple[str, Decimal]] = {}
    joined: dict[int, tuple[str, str, int | None, Decimal]] = {}
    for pk, stage, code, name, rank, acv in Account.objects.filter(pk__in=stage_at_review).values_list(
        "pk", "lifecycle_stage", "tier_code", "tier_name", "tier_rank", "acv"
    ):
        was_churned = stage_at_review[pk] == CHURNED_STAGE
        if stage == CHURNED_STAGE and not was_churned:
            left[pk] = (code, Decimal(acv or 0))
        elif stage != CHURNED_STAGE and was_churned:
            joined[pk] = (code, name, rank, Decimal(acv or 0))
    if left:
        # A leaver that moved tier since the review was counted in the tier of its first move's from.
        tier_at_review: dict[int, str] = {}
        for account_id, from_code in (
            TierChange.objects.filter(status=ChangeStatus.APPLIED, applied_at__gt=since, account_id__in=left)
            .order_by("account_id", "applied_at", "pk")
            .values_list("account_id", "from_code")
        ):
            tier_at_review.setdefault(account_id, from_code)
        left = {pk: (tier_at_review.get(pk, code), acv) for pk, (code, acv) in left.items()}
    return list(left.values()), joined


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
