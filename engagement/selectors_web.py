"""Page-shaped reads for the engagement pages: the CSM worklist and its *why*, capacity, coverage.

Reads only. Each query here is bounded by the page size, never by the size of the book.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from accounts.models import Account
from accounts.selectors_web import filter_accounts, visible_accounts
from segmentation.models import TierChange

from .models import EntitlementCoverage, Flag, HandoffCommitment, Task, Touchpoint

WORKLIST_PAGE_SIZE = 50
RENEWAL_SOON_DAYS = 30
RENEWAL_WATCH_DAYS = 90


def _overdue_coverage(today: dt.date) -> Exists:
    return Exists(EntitlementCoverage.objects.filter(account=OuterRef("pk"), next_due_on__lt=today))


def _open_flags() -> Exists:
    return Exists(Flag.objects.filter(account=OuterRef("pk"), status="open"))


def _open_proposal() -> Exists:
    return Exists(TierChange.objects.filter(account=OuterRef("pk"), status="proposed"))


def _commitment_to_honour() -> Exists:
    return Exists(
        HandoffCommitment.objects.filter(account=OuterRef("pk"), status__in=["exceeds_tier", "accepted"])
    )


def _overdue_task(today: dt.date) -> Exists:
    return Exists(
        Task.objects.filter(account=OuterRef("pk"), status="open", due_on__lt=today).filter(
            Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
        )
    )


def worklist_queryset(user: Any, filters: dict[str, Any], *, today: dt.date) -> QuerySet[Account]:
    """The person's accounts with what raises them, in priority order (highest first)."""
    queryset = filter_accounts(visible_accounts(user).exclude(lifecycle_stage="churned"), filters)
    if filters.get("flag"):
        queryset = queryset.filter(
            Exists(Flag.objects.filter(account=OuterRef("pk"), status="open", kind=filters["flag"]))
        )
    soon = today + dt.timedelta(days=RENEWAL_SOON_DAYS)
    watch = today + dt.timedelta(days=RENEWAL_WATCH_DAYS)
    queryset = queryset.annotate(
        has_overdue=_overdue_coverage(today),
        has_flag=_open_flags(),
        has_proposal=_open_proposal(),
        has_commitment=_commitment_to_honour(),
        has_overdue_task=_overdue_task(today),
        last_touch_at=Subquery(
            Touchpoint.objects.filter(account=OuterRef("pk"))
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        ),
    ).annotate(
        priority=ExpressionWrapper(
            Case(When(has_overdue=True, then=Value(40)), default=Value(0))
            + Case(When(has_flag=True, then=Value(30)), default=Value(0))
            + Case(When(has_proposal=True, then=Value(25)), default=Value(0))
            + Case(When(has_commitment=True, then=Value(15)), default=Value(0))
            + Case(When(has_overdue_task=True, then=Value(10)), default=Value(0))
            + Case(
                When(renewal_date__gte=today, renewal_date__lte=soon, then=Value(20)),
                When(renewal_date__gt=soon, renewal_date__lte=watch, then=Value(8)),
                default=Value(0),
            )
            + Case(
                When(tier_rank=1, then=Value(6)),
                When(tier_rank=2, then=Value(4)),
                When(tier_rank=3, then=Value(2)),
                default=Value(0),
            ),
            output_field=IntegerField(),
        )
    )
    return queryset.order_by("-priority", "tier_rank", "renewal_date", "name", "id")


@dataclass
class WorklistRow:
    account: Account
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (badge kind, text)
    flags: list[Flag] = field(default_factory=list)
    overdue: list[EntitlementCoverage] = field(default_factory=list)
    proposal: TierChange | None = None
    commitments: list[HandoffCommitment] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)


@dataclass
class CapacitySummary:
    weekly_capacity_hours: Decimal
    required_hours: Decimal
    delivered: Decimal
    planned: Decimal

    @property
    def utilisation_percent(self) -> int:
        if not self.weekly_capacity_hours:
            return 0
        return round(100 * self.required_hours / self.weekly_capacity_hours)

    @property
    def on_time_percent(self) -> int | None:
        if not self.planned:
            return None
        return min(100, round(100 * self.delivered / self.planned))


def capacity_for(user: Any, accounts: QuerySet[Account]) -> CapacitySummary:
    """Hours the portfolio's entitlements need per week, and the share delivered on time (1 query)."""
    minutes_per_week = ExpressionWrapper(
        F("module__expected_minutes") * Value(Decimal(7)) / F("cadence_days"),
        output_field=DecimalField(max_digits=14, decimal_places=3),
    )
    totals = EntitlementCoverage.objects.filter(account__in=accounts.values("pk")).aggregate(
        minutes=Coalesce(Sum(minutes_per_week), Value(Decimal(0)), output_field=DecimalField()),
        delivered=Coalesce(
            Sum(Least(F("delivered_in_window"), F("planned_in_window"), output_field=DecimalField())),
            Value(Decimal(0)),
            output_field=DecimalField(),
        ),
        planned=Coalesce(Sum("planned_in_window"), Value(Decimal(0)), output_field=DecimalField()),
    )
    return CapacitySummary(
        weekly_capacity_hours=Decimal(getattr(user, "weekly_capacity_hours", 0) or 0),
        required_hours=(Decimal(totals["minutes"]) / 60).quantize(Decimal("0.1")),
        delivered=Decimal(totals["delivered"]),
        planned=Decimal(totals["planned"]),
    )


def worklist_rows(accounts: list[Account], *, today: dt.date) -> list[WorklistRow]:
    """The *why* of each account on the page: 5 queries for the whole page."""
    ids = [a.pk for a in accounts]
    flags: dict[int, list[Flag]] = defaultdict(list)
    for flag in Flag.objects.filter(account_id__in=ids, status="open").order_by("raised_at"):
        flags[flag.account_id].append(flag)
    overdue: dict[int, list[EntitlementCoverage]] = defaultdict(list)
    for cov in (
        EntitlementCoverage.objects.filter(account_id__in=ids, next_due_on__lt=today)
        .select_related("module")
        .order_by("next_due_on")
    ):
        overdue[cov.account_id].append(cov)
    proposals = {c.account_id: c for c in TierChange.objects.filter(account_id__in=ids, status="proposed")}
    commitments: dict[int, list[HandoffCommitment]] = defaultdict(list)
    for com in HandoffCommitment.objects.filter(
        account_id__in=ids, status__in=["exceeds_tier", "accepted"]
    ).select_related("module"):
        commitments[com.account_id].append(com)
    tasks: dict[int, list[Task]] = defaultdict(list)
    for task in Task.objects.filter(account_id__in=ids, status="open").order_by("due_on", "id"):
        tasks[task.account_id].append(task)

    rows = []
    for account in accounts:
        row = WorklistRow(
            account=account,
            flags=flags[account.pk],
            overdue=overdue[account.pk],
            proposal=proposals.get(account.pk),
            commitments=commitments[account.pk],
            tasks=tasks[account.pk],
        )
        for cov in row.overdue:
            days = (today - cov.next_due_on).days
            row.reasons.append(("bad", f"{cov.module.name} overdue by {days} d"))
        for flag in row.flags:
            row.reasons.append(("warn", flag.get_kind_display()))
        if account.renewal_date and today <= account.renewal_date <= today + dt.timedelta(
            days=RENEWAL_WATCH_DAYS
        ):
            days = (account.renewal_date - today).days
            row.reasons.append(("warn" if days <= RENEWAL_SOON_DAYS else "info", f"renewal in {days} days"))
        if row.proposal:
            row.reasons.append(
                ("info", f"tier proposal {row.proposal.from_code or '—'} → {row.proposal.to_code}")
            )
        for com in row.commitments:
            what = com.module.name if com.module else com.description[:40]
            row.reasons.append(("info", f"AE commitment: {what}"))
        overdue_tasks = [
            t for t in row.tasks if t.due_on < today and not (t.snoozed_until and t.snoozed_until > today)
        ]
        if overdue_tasks:
            row.reasons.append(("warn", f"{len(overdue_tasks)} task(s) overdue"))
        rows.append(row)
    return rows


def local_today() -> dt.date:
    return timezone.localdate()
