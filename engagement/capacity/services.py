"""The per-CSM portfolio summary and the kept open-task minutes that capacity dashboards read
instead of grouping every account and task."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import active_book

from ..clock import local_today
from ..models import CsmPortfolioLoad, CsmPortfolioSummary
from . import TASKS_DUE_WITHIN
from . import queries as capacity_sql
from .selectors import entitlements_key, weekly_minutes_per_account


@transaction.atomic
def csm_portfolio_refresh(*, csm_ids: list[int] | None = None) -> int:
    """Rewrite the summary rows of ``csm_ids`` (every CSM when None) from the accounts table, and
    each CSM's entitled minutes per week over them (``CsmPortfolioLoad.weekly_minutes``; 0 for a
    CSM left with no account).

    One grouped read of the CSMs' accounts (the ``csm`` index for a few CSMs); safe to run twice.
    Returns the number of summary rows written. A refresh of the same CSMs begun meanwhile in
    another transaction is waited for, and then replaced.
    """
    if csm_ids is not None and not csm_ids:
        return 0
    # Before the first read: the rows read and deleted below are then the ones the other
    # refresh committed.
    capacity_sql.csm_portfolio_refresh_lock(csm_ids=csm_ids)
    accounts = active_book()
    summaries = CsmPortfolioSummary.objects.all()
    if csm_ids is None:
        accounts = accounts.filter(csm__isnull=False)
    else:
        accounts = accounts.filter(csm_id__in=csm_ids)
        summaries = summaries.filter(csm_id__in=csm_ids)
    now = timezone.now()
    rows = [
        CsmPortfolioSummary(csm_id=csm_id, tier_code=tier_code, accounts=n, refreshed_at=now)
        for csm_id, tier_code, n in accounts.order_by()
        .values("csm_id", "tier_code")
        .annotate(n=Count("pk"))
        .values_list("csm_id", "tier_code", "n")
    ]
    # Each CSM's entitled minutes under today's entitlements, written with the rows they sum.
    per_tier, _ = weekly_minutes_per_account()
    minutes: dict[int, float] = defaultdict(float)
    for row in rows:
        minutes[row.csm_id] += per_tier.get(row.tier_code, 0.0) * row.accounts
    key = entitlements_key(per_tier)
    loads = [
        CsmPortfolioLoad(csm_id=csm_id, weekly_minutes=total, entitlements_key=key, refreshed_at=now)
        for csm_id, total in minutes.items()
    ]
    summaries.delete()
    CsmPortfolioSummary.objects.bulk_create(rows, batch_size=1000)
    # Upserted, and emptied rather than deleted: two refreshes of the same CSM never collide on
    # its row, and the row's capacity, which the database keeps in it, stays (this writes only
    # the portfolio's columns).
    gone = CsmPortfolioLoad.objects.exclude(csm_id__in=list(minutes))
    (gone if csm_ids is None else gone.filter(csm_id__in=csm_ids)).update(
        weekly_minutes=0, entitlements_key=key, refreshed_at=now
    )
    CsmPortfolioLoad.objects.bulk_create(
        loads,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["csm"],
        update_fields=["weekly_minutes", "entitlements_key", "refreshed_at"],
    )
    return len(rows)


def csm_portfolio_refresh_accounts(*, account_ids: list[int], reassigned: bool = False) -> int:
    """Refresh the CSMs who own ``account_ids``. When accounts changed hands the previous owners
    are not known here, so every CSM is refreshed."""
    if reassigned:
        return csm_portfolio_refresh()
    csm_ids = list(
        Account.objects.filter(pk__in=account_ids, csm__isnull=False)
        .order_by()
        .values_list("csm_id", flat=True)
        .distinct()
    )
    return csm_portfolio_refresh(csm_ids=csm_ids)


def csm_portfolios_follow_up(*, account_ids: list[int] | None = None, reassigned: bool = False) -> int:
    """What follows a portfolio change: the summary of the CSMs owning ``account_ids`` (every CSM
    when None or after a reassignment), then the kept open-task minutes folded, since portfolio
    changes come with tasks (a review's playbooks add them by the thousand). Returns the summary
    rows written."""
    written = (
        csm_portfolio_refresh()
        if account_ids is None
        else csm_portfolio_refresh_accounts(account_ids=account_ids, reassigned=reassigned)
    )
    csm_task_load_compact()
    return written


def csm_task_load_compact(*, today: dt.date | None = None) -> int:
    """Fold the open-task minutes the task table's triggers appended (``CsmTaskLoad``): one row per
    assignee and due day, every day up to a week ahead in one. Safe to run at any time and twice;
    run nightly and after portfolio changes (a review's playbooks add tasks by the thousand).
    Rewrites only what was appended since the last fold. Returns the rows it wrote."""
    today = today or local_today()
    return capacity_sql.csm_task_load_compact(fold_to=today + TASKS_DUE_WITHIN)
