"""Reads of CSM capacity: the weekly hours each portfolio needs against each CSM's capacity, and who
has room for one more account."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import active_book
from csplatform import roles
from csplatform.models import User
from playbooks.models import AccountAddOn, AddOnStatus
from playbooks.selectors import entitlements_by_tier_code, entitlements_for_account

from ..clock import local_today
from ..models import CsmPortfolioSummary, CsmTaskLoad, Task, TaskStatus
from . import TASKS_DUE_WITHIN
from . import queries as capacity_sql


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


def weekly_minutes_per_account() -> tuple[dict[str, float], dict[tuple[str, int], float]]:
    """CSM minutes per week one account needs: per tier code, and per tier code and module (what
    an add-on for the module counts beyond). One query."""
    by_tier = entitlements_by_tier_code()
    per_tier = {code: sum(e.weekly_minutes for e in entitlements) for code, entitlements in by_tier.items()}
    per_module = {
        (code, e.module_id): e.weekly_minutes for code, entitlements in by_tier.items() for e in entitlements
    }
    return per_tier, per_module


def entitlements_key(per_tier: dict[str, float]) -> str:
    """A fingerprint of the minutes per account of each tier: a ``CsmPortfolioLoad`` row holds
    minutes computed under the entitlements whose key it stores."""
    canonical = json.dumps(sorted(per_tier.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def csm_capacity(
    *, csm_ids: list[int] | None = None, today: dt.date | None = None, from_summary: bool = False
) -> list[CsmCapacity]:
    """Weekly hours each CSM's portfolio needs against their capacity (a constant number of queries).

    required = Σ over the portfolio of entitled module minutes × 7 / cadence days (tier and add-on
    entitlements; an add-on counts only what it adds over the tier's cadence) + the estimates of
    open tasks due within the next 7 days (overdue included).

    ``from_summary`` reads the accounts per CSM and tier from ``CsmPortfolioSummary`` (kept by
    ``csm_portfolio_refresh`` when portfolios change, and nightly) instead of grouping every
    CSM-owned account, and the open tasks' minutes from ``CsmTaskLoad`` (kept by the task table's
    triggers) instead of summing the task table: dashboards over all CSMs use it, so their cost
    does not grow with the book.
    """
    return _csm_capacity(
        csm_ids=csm_ids,
        today=today or timezone.localdate(),
        from_summary=from_summary,
        minutes_per_account=None,
    )


def _csm_capacity(
    *,
    csm_ids: list[int] | None,
    today: dt.date,
    from_summary: bool,
    minutes_per_account: tuple[dict[str, float], dict[tuple[str, int], float]] | None,
) -> list[CsmCapacity]:
    # Membership as a semi-join (a join needs DISTINCT over every column of the user rows), of
    # the asked CSMs' memberships only (not a hash of the whole team's).
    memberships = User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=roles.CSM)
    csms = User.objects.filter(is_active=True).order_by("username")
    if csm_ids is not None:
        memberships = memberships.filter(user_id__in=csm_ids)
        csms = csms.filter(pk__in=csm_ids)
    csms_list = list(csms.filter(Exists(memberships)))
    ids = [u.pk for u in csms_list]
    per_tier, per_module = minutes_per_account or weekly_minutes_per_account()
    minutes: dict[int, float] = defaultdict(float)
    accounts: dict[int, int] = defaultdict(int)
    portfolio: Any
    if from_summary:
        portfolio = CsmPortfolioSummary.objects.filter(csm_id__in=ids).values_list(
            "csm_id", "tier_code", "accounts"
        )
    else:
        portfolio = (
            active_book()
            .filter(csm_id__in=ids)
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
    task_minutes: dict[int, int]
    if from_summary:
        # The kept minutes of open tasks (exact, kept by the task table's triggers): a few rows per
        # CSM, where the task table holds every open task of a large book.
        task_minutes = dict(
            CsmTaskLoad.objects.filter(assignee_id__in=ids, due_on__lte=today + TASKS_DUE_WITHIN)
            .values("assignee_id")
            .annotate(m=Sum("minutes"))
            .values_list("assignee_id", "m")
        )
    else:
        task_minutes = dict(
            Task.objects.filter(
                assignee_id__in=ids, status=TaskStatus.OPEN, due_on__lte=today + TASKS_DUE_WITHIN
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


@dataclass
class TeamCapacity:
    """The team at a glance: its ``most_loaded`` CSMs, how many CSMs, how many over capacity."""

    most_loaded: list[CsmCapacity]
    csms: int
    over_capacity: int


def team_capacity(*, today: dt.date | None = None, shown: int = 25) -> TeamCapacity:
    """The ``shown`` most loaded CSMs (utilisation, then username), how many CSMs and how many over
    capacity, exactly as ``csm_capacity(from_summary=True)`` says, without computing every CSM in
    Python: the database ranks the team (``queries.team_load_narrowed``) and leaves to
    ``csm_capacity`` only those it cannot settle beyond rounding, a few dozen of thousands."""
    today = today or local_today()
    per_tier, per_module = weekly_minutes_per_account()
    narrowed = capacity_sql.team_load_narrowed(
        tier_minutes=per_tier,
        entitlements_key=entitlements_key(per_tier),
        module_minutes=per_module,
        today=today,
        shown=shown,
    )
    decided = {
        row.csm.pk: row
        for row in _csm_capacity(
            csm_ids=sorted({*narrowed.contenders, *narrowed.borderline}),
            today=today,
            from_summary=True,
            minutes_per_account=(per_tier, per_module),
        )
    }
    contenders = [decided[pk] for pk in narrowed.contenders if pk in decided]
    ordered = sorted(contenders, key=lambda r: (-(r.utilisation or 0), r.csm.username))
    return TeamCapacity(
        most_loaded=ordered[:shown],
        csms=narrowed.csms,
        over_capacity=narrowed.clearly_over
        + sum(1 for pk in narrowed.borderline if pk in decided and decided[pk].overloaded),
    )


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
