"""Reads of the engagement app, shaped for pages and endpoints. All query-count work lives here.

The HTML pages and the API call these; none of them writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Max,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Least
from django.utils import timezone

from accounts.models import Account
from csplatform import authorization, roles
from csplatform.models import User
from playbooks.models import AccountAddOn, AddOnStatus
from playbooks.selectors import entitlements_by_tier_code, entitlements_for_account

from .models import (
    CommitmentStatus,
    CsmPortfolioSummary,
    EntitlementCoverage,
    Flag,
    FlagStatus,
    HandoffCommitment,
    ModuleDelivery,
    Task,
    TaskStatus,
    Touchpoint,
)

# The worklist lives in its own module; its names stay importable from here.
from .selectors_worklist import (  # noqa: F401
    WorklistEntry,
    accounts_for_worklist,
    worklist_accounts,
    worklist_entries,
    worklist_portfolio,
    worklist_tiers,
)

# ---------------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------------


@dataclass
class CoverageLine:
    module_code: str
    module_name: str
    cadence_days: int | None
    source: str
    last_delivered_on: dt.date | None
    next_due_on: dt.date | None
    overdue: bool


def coverage_for_account(*, account: Account, today: dt.date | None = None) -> list[CoverageLine]:
    """Each entitlement of the account with its last delivery and next due day (three queries)."""
    today = today or timezone.localdate()
    rows = {row.module_id: row for row in EntitlementCoverage.objects.filter(account=account)}
    last = dict(
        ModuleDelivery.objects.filter(account=account)
        .values("module_id")
        .annotate(last=Max("delivered_on"))
        .values_list("module_id", "last")
    )
    lines = []
    for entitlement in entitlements_for_account(account=account, on=today):
        row = rows.get(entitlement.module_id)
        next_due = row.next_due_on if row and entitlement.cadence_days else None
        lines.append(
            CoverageLine(
                module_code=entitlement.module_code,
                module_name=entitlement.module_name,
                cadence_days=entitlement.cadence_days,
                source=entitlement.source,
                last_delivered_on=last.get(entitlement.module_id),
                next_due_on=next_due,
                overdue=bool(next_due and next_due < today),
            )
        )
    return lines


@dataclass
class CoverageShare:
    key: str
    planned: Decimal
    delivered_on_time: Decimal
    overdue: int

    @property
    def share(self) -> float | None:
        return float(self.delivered_on_time / self.planned) if self.planned else None


def coverage_share(*, group_by: str, today: dt.date | None = None) -> list[CoverageShare]:
    """Share of entitlements delivered on time over the trailing window, per CSM or per tier.

    ``group_by`` is ``"csm"`` (key: username) or ``"tier"`` (key: tier code). One query over the
    materialised coverage table.
    """
    today = today or timezone.localdate()
    column = {"csm": "account__csm__username", "tier": "account__tier_code"}[group_by]
    rows = (
        EntitlementCoverage.objects.values(column)
        .annotate(
            planned=Sum("planned_in_window"),
            delivered=Sum(
                Least(
                    Cast("delivered_in_window", DecimalField(max_digits=8, decimal_places=3)),
                    "planned_in_window",
                    output_field=DecimalField(max_digits=8, decimal_places=3),
                )
            ),
            overdue=Count("pk", filter=Q(next_due_on__lt=today)),
        )
        .order_by(column)
    )
    return [
        CoverageShare(
            key=row[column] or "",
            planned=Decimal(row["planned"] or 0),
            delivered_on_time=Decimal(row["delivered"] or 0),
            overdue=row["overdue"],
        )
        for row in rows
    ]


def coverage_share_for_period(*, start: dt.date, end: dt.date, group_by: str) -> list[CoverageShare]:
    """Share delivered on time from ``start`` to ``end`` (inclusive), per CSM or per tier, computed
    from the delivery ledger in one query (for drill-downs; dashboards read ``coverage_share``).

    Entitlements are today's (tier and add-ons); a period in the past is measured against them.
    """
    from engagement.queries.coverage import coverage_share_by_group
    from playbooks.selectors import active_policy

    if end < start:
        raise ValueError("The period ends before it starts.")
    policy = active_policy()
    if policy is None:
        return []
    if group_by not in ("csm", "tier"):
        raise KeyError(group_by)
    rows = coverage_share_by_group(
        policy_id=policy.pk, start=start, end=end, group_by="csm" if group_by == "csm" else "tier"
    )
    return [
        CoverageShare(
            key=key or "",
            planned=Decimal(str(planned or 0)).quantize(Decimal("0.001")),
            delivered_on_time=Decimal(str(delivered or 0)).quantize(Decimal("0.001")),
            overdue=int(overdue or 0),
        )
        for key, planned, delivered, overdue in rows
    ]


# ---------------------------------------------------------------------------------------------
# Capacity
# ---------------------------------------------------------------------------------------------


@dataclass
class CsmCapacity:
    csm: User
    accounts: int
    capacity_hours: Decimal
    entitlement_hours: Decimal
    task_hours: Decimal

    @property
    def required_hours(self) -> Decimal:
        return self.entitlement_hours + self.task_hours

    @property
    def utilisation(self) -> float | None:
        return float(self.required_hours / self.capacity_hours) if self.capacity_hours else None

    @property
    def overloaded(self) -> bool:
        return self.required_hours > self.capacity_hours

    @property
    def spare_hours(self) -> Decimal:
        return self.capacity_hours - self.required_hours


def _hours(minutes: float) -> Decimal:
    return (Decimal(str(minutes)) / 60).quantize(Decimal("0.01"))


def csm_capacity(
    *, csm_ids: list[int] | None = None, today: dt.date | None = None, from_summary: bool = False
) -> list[CsmCapacity]:
    """Weekly hours each CSM's portfolio needs against their capacity (a constant number of queries).

    required = Σ over the portfolio of entitled module minutes × 7 / cadence days (tier and add-on
    entitlements; an add-on counts only what it adds over the tier's cadence) + the estimates of
    open tasks due within the next 7 days (overdue included).

    ``from_summary`` reads the accounts per CSM and tier from ``CsmPortfolioSummary`` (kept by
    ``csm_portfolio_refresh`` when portfolios change, and nightly) instead of grouping every
    CSM-owned account: dashboards over all CSMs use it, so their cost does not grow with the book.
    """
    today = today or timezone.localdate()
    csms = User.objects.filter(groups__name=roles.CSM, is_active=True).order_by("username")
    if csm_ids is not None:
        csms = csms.filter(pk__in=csm_ids)
    csms_list = list(csms.distinct())
    ids = [u.pk for u in csms_list]
    by_tier = entitlements_by_tier_code()
    per_tier = {code: sum(e.weekly_minutes for e in entitlements) for code, entitlements in by_tier.items()}
    per_module = {
        (code, e.module_id): e.weekly_minutes for code, entitlements in by_tier.items() for e in entitlements
    }
    minutes: dict[int, float] = defaultdict(float)
    accounts: dict[int, int] = defaultdict(int)
    portfolio: Any
    if from_summary:
        portfolio = CsmPortfolioSummary.objects.filter(csm_id__in=ids).values_list(
            "csm_id", "tier_code", "accounts"
        )
    else:
        portfolio = (
            Account.objects.filter(csm_id__in=ids)
            .exclude(lifecycle_stage="churned")
            .values("csm_id", "tier_code")
            .annotate(n=Count("pk"))
            .values_list("csm_id", "tier_code", "n")
        )
    for csm_id, tier_code, n in portfolio:
        minutes[csm_id] += per_tier.get(tier_code, 0.0) * n
        accounts[csm_id] += n
    add_ons = (
        AccountAddOn.objects.filter(
            account__csm_id__in=ids,
            status=AddOnStatus.APPROVED,
            starts_on__lte=today,
            cadence_days__isnull=False,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values_list(
            "account__csm_id", "account__tier_code", "module_id", "module__expected_minutes", "cadence_days"
        )
    )
    for csm_id, tier_code, module_id, expected, cadence in add_ons:
        assert cadence  # filtered above
        # An add-on replaces the tier's cadence for its module when it is more frequent.
        minutes[csm_id] += max(0.0, expected * 7 / cadence - per_module.get((tier_code, module_id), 0.0))
    task_minutes = dict(
        Task.objects.filter(
            assignee_id__in=ids, status=TaskStatus.OPEN, due_on__lte=today + dt.timedelta(days=7)
        )
        .values("assignee_id")
        .annotate(m=Sum("estimated_minutes"))
        .values_list("assignee_id", "m")
    )
    return [
        CsmCapacity(
            csm=user,
            accounts=accounts[user.pk],
            capacity_hours=Decimal(user.weekly_capacity_hours),
            entitlement_hours=_hours(minutes[user.pk]),
            task_hours=_hours(task_minutes.get(user.pk) or 0),
        )
        for user in csms_list
    ]


def csm_suggestions_for_account(*, account: Account, today: dt.date | None = None) -> list[CsmCapacity]:
    """CSMs ordered by the room they would have left after taking ``account`` (most room first);
    only CSMs who would stay within capacity are suggested."""
    today = today or timezone.localdate()
    load = Decimal(0)
    for entitlement in entitlements_for_account(account=account, on=today):
        load += Decimal(str(entitlement.weekly_minutes)) / 60
    candidates = [c for c in csm_capacity(today=today) if c.csm.pk != account.csm_id]
    fitting = [c for c in candidates if c.spare_hours - load >= 0]
    return sorted(fitting, key=lambda c: (-(c.spare_hours - load), c.csm.username))


# ---------------------------------------------------------------------------------------------
# Lists for pages and the API
# ---------------------------------------------------------------------------------------------


def touchpoints_for(*, user: Any, account_id: int | None = None) -> QuerySet[Touchpoint]:
    """Touchpoints the user may read, newest first, ready for the timeline."""
    touchpoints = Touchpoint.objects.filter(authorization.account_scope(user, via="account__"))
    if account_id is not None:
        touchpoints = touchpoints.filter(account_id=account_id)
    return touchpoints.select_related("logged_by", "module", "account").prefetch_related("participants")


def tasks_for_csm(
    *, csm: User, include_snoozed: bool = False, today: dt.date | None = None
) -> QuerySet[Task]:
    today = today or timezone.localdate()
    tasks = Task.objects.filter(assignee=csm, status=TaskStatus.OPEN)
    if not include_snoozed:
        tasks = tasks.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
    return tasks.select_related("account", "module").order_by("due_on", "pk")


def tasks_for_account(*, account: Account) -> QuerySet[Task]:
    return (
        Task.objects.filter(account=account)
        .select_related("module", "assignee")
        .order_by("status", "due_on", "pk")
    )


def tasks_visible_to(*, user: Any) -> QuerySet[Task]:
    """Tasks on the accounts ``user`` may see (to act on one: a 404 for the rest)."""
    return Task.objects.filter(authorization.account_scope(user, via="account__")).select_related("account")


def flags_visible_to(*, user: Any) -> QuerySet[Flag]:
    """Flags on the accounts ``user`` may see."""
    return Flag.objects.filter(authorization.account_scope(user, via="account__"))


def tasks_visible_for_account(*, account_id: int, user: Any) -> QuerySet[Task]:
    """The account's tasks if ``user`` may see the account, otherwise none (for the API filter)."""
    return (
        Task.objects.filter(authorization.account_scope(user, via="account__"), account_id=account_id)
        .select_related("module", "assignee")
        .order_by("status", "due_on", "pk")
    )


def commitments_for(*, user: Any, account_id: int | None = None) -> QuerySet[HandoffCommitment]:
    """Commitments the user may read: leaders all, AEs and CSMs those on their accounts."""
    commitments = HandoffCommitment.objects.filter(authorization.account_scope(user, via="account__"))
    if account_id is not None:
        commitments = commitments.filter(account_id=account_id)
    return commitments.select_related("account", "module", "logged_by", "decided_by")


def commitments_awaiting_decision() -> QuerySet[HandoffCommitment]:
    """The leadership queue: commitments that exceed the tier, oldest first."""
    return (
        HandoffCommitment.objects.filter(status=CommitmentStatus.EXCEEDS_TIER)
        .select_related("account", "module", "logged_by")
        .order_by("created_at", "pk")
    )


def open_flags_for_account(*, account: Account) -> QuerySet[Flag]:
    return Flag.objects.filter(account=account, status=FlagStatus.OPEN).order_by("-raised_at")


def pending_add_ons() -> QuerySet[Any]:
    return AccountAddOn.objects.filter(status=AddOnStatus.PENDING).select_related(
        "account", "module", "requested_by"
    )
