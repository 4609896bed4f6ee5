"""Reads of the playbooks app: what each account is entitled to, and the playbooks that apply.

Entitlements come from the account's tier under the *active* policy (tiers are matched by code,
so the account's denormalised ``tier_code`` is enough) plus its approved, current add-ons. When
both cover a module, the more frequent cadence wins.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.db.models import Q, QuerySet

from accounts.models import Account
from csplatform import authorization
from segmentation.models import PolicyStatus, Tier, TierPolicy

from .models import AccountAddOn, AddOnStatus, Playbook, ServiceModule, TierEntitlement

if TYPE_CHECKING:
    from csplatform.models import AnyUser


@dataclass(frozen=True)
class Entitlement:
    """One module an account is owed. ``cadence_days`` is None for a non-recurring module."""

    module_id: int
    module_code: str
    module_name: str
    kind: str
    expected_minutes: int
    cadence_days: int | None
    source: Literal["tier", "add_on"]
    add_on_id: int | None = None
    ends_on: dt.date | None = None

    @property
    def weekly_minutes(self) -> float:
        """CSM minutes per week this entitlement costs (0 when it has no cadence)."""
        if not self.cadence_days:
            return 0.0
        return self.expected_minutes * 7 / self.cadence_days


def active_policy() -> TierPolicy | None:
    return TierPolicy.objects.filter(status=PolicyStatus.ACTIVE).first()


def entitlements_by_tier_code(*, policy: TierPolicy | None = None) -> dict[str, list[Entitlement]]:
    """The active (or given) policy's entitlements keyed by tier code. One query."""
    if policy is None:
        rows = TierEntitlement.objects.filter(tier__policy__status=PolicyStatus.ACTIVE)
    else:
        rows = TierEntitlement.objects.filter(tier__policy=policy)
    by_code: dict[str, list[Entitlement]] = defaultdict(list)
    for row in rows.select_related("tier", "module").order_by("tier__rank", "module__name"):
        by_code[row.tier.code].append(_tier_entitlement(row))
    return dict(by_code)


def entitlements_for_tiers(tier_ids: Iterable[int]) -> dict[int, list[dict[str, object]]]:
    """``{tier_id: [{"module": code, "cadence_days": n}, ...]}`` for the tiers API. One query."""
    result: dict[int, list[dict[str, object]]] = {tier_id: [] for tier_id in tier_ids}
    rows = (
        TierEntitlement.objects.filter(tier_id__in=list(result))
        .select_related("module")
        .order_by("tier_id", "module__name")
    )
    for row in rows:
        result[row.tier_id].append({"module": row.module.code, "cadence_days": row.cadence_days})
    return result


def approved_add_ons(*, account_ids: Iterable[int], on: dt.date) -> QuerySet[AccountAddOn]:
    """Add-ons that count as entitlements on ``on``."""
    return AccountAddOn.objects.filter(
        account_id__in=list(account_ids), status=AddOnStatus.APPROVED, starts_on__lte=on
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))


def entitlements_for_accounts(
    *, accounts: Iterable[Account], on: dt.date, by_tier: dict[str, list[Entitlement]] | None = None
) -> dict[int, list[Entitlement]]:
    """Each account's entitlements on ``on``: its tier's plus its current add-ons. Two queries."""
    accounts = list(accounts)
    by_tier = entitlements_by_tier_code() if by_tier is None else by_tier
    result: dict[int, dict[int, Entitlement]] = {
        account.pk: {e.module_id: e for e in by_tier.get(account.tier_code, [])} for account in accounts
    }
    add_ons = approved_add_ons(account_ids=result.keys(), on=on).select_related("module")
    for add_on in add_ons:
        entitlement = Entitlement(
            module_id=add_on.module_id,
            module_code=add_on.module.code,
            module_name=add_on.module.name,
            kind=add_on.module.kind,
            expected_minutes=add_on.module.expected_minutes,
            cadence_days=add_on.cadence_days,
            source="add_on",
            add_on_id=add_on.pk,
            ends_on=add_on.ends_on,
        )
        current = result[add_on.account_id].get(add_on.module_id)
        if current is None or _more_frequent(entitlement.cadence_days, current.cadence_days):
            result[add_on.account_id][add_on.module_id] = entitlement
    return {account_id: list(by_module.values()) for account_id, by_module in result.items()}


def entitlements_for_account(*, account: Account, on: dt.date) -> list[Entitlement]:
    return entitlements_for_accounts(accounts=[account], on=on)[account.pk]


def tier_weekly_minutes(*, policy: TierPolicy | None = None) -> dict[str, float]:
    """CSM minutes per week one account of each tier needs, from the tier's entitlements."""
    return {
        code: sum(e.weekly_minutes for e in entitlements)
        for code, entitlements in entitlements_by_tier_code(policy=policy).items()
    }


def playbooks_for(
    *, trigger: str, tier_code: str = "", flag_kind: str = "", any_tier: bool = False
) -> list[Playbook]:
    """Active playbooks for a trigger that apply to ``tier_code`` (and ``flag_kind``), with steps.

    ``any_tier=True`` returns the playbooks of every tier (the caller matches tiers per account).
    """
    playbooks = Playbook.objects.filter(is_active=True, trigger=trigger)
    if not any_tier:
        playbooks = playbooks.filter(Q(tier_code="") | Q(tier_code=tier_code))
    if flag_kind:
        playbooks = playbooks.filter(Q(flag_kind="") | Q(flag_kind=flag_kind))
    return list(playbooks.prefetch_related("steps__module").order_by("code"))


def modules_by_code() -> dict[str, ServiceModule]:
    return {module.code: module for module in ServiceModule.objects.all()}


def tiers_of_active_policy() -> QuerySet[Tier]:
    return Tier.objects.filter(policy__status=PolicyStatus.ACTIVE).order_by("rank")


def _tier_entitlement(row: TierEntitlement) -> Entitlement:
    return Entitlement(
        module_id=row.module_id,
        module_code=row.module.code,
        module_name=row.module.name,
        kind=row.module.kind,
        expected_minutes=row.module.expected_minutes,
        cadence_days=row.cadence_days,
        source="tier",
    )


def _more_frequent(candidate: int | None, current: int | None) -> bool:
    if candidate is None:
        return False
    return current is None or candidate < current


def add_ons_visible_to(*, user: AnyUser) -> QuerySet[AccountAddOn]:
    """Add-ons on the accounts ``user`` may see (``authorization.account_scope``)."""
    return AccountAddOn.objects.select_related("module", "requested_by", "decided_by").filter(
        authorization.account_scope(user, via="account__")
    )
