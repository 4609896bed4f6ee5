"""Rules of the service catalogue: tier entitlements and per-account add-ons.

Services raise ``django.core.exceptions.ValidationError`` with a field-keyed dict for bad input
and ``PermissionDenied`` when the person may not act; the API turns them into 400 and 403.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from csplatform import authorization, bounds
from csplatform.bulk import RowResult, decide_each
from segmentation.models import PolicyStatus, Tier, TierPolicy, TouchModel

from ..models import AccountAddOn, AddOnSource, AddOnStatus, ServiceModule, TierEntitlement

if TYPE_CHECKING:
    from csplatform.models import User


def module_get_by_code(code: str | None, *, field: str = "module") -> ServiceModule | None:
    """The module with ``code``; None for an empty code; a field error for an unknown one."""
    if not code:
        return None
    module = ServiceModule.objects.filter(code=code).first()
    if module is None:
        raise ValidationError({field: [f"Unknown service module '{code}'."]})
    return module


def cadence_validate(cadence_days: Any, *, field: str = "cadence_days") -> int | None:
    """A cadence is a whole number of days within ``bounds.CADENCE_DAYS``, or empty for a
    non-recurring module."""
    if cadence_days is None or cadence_days == "":
        return None
    try:
        value = int(cadence_days)
    except (TypeError, ValueError):
        raise ValidationError({field: ["Cadence must be a whole number of days."]}) from None
    return int(bounds.CADENCE_DAYS.check(value, field=field))


def _require(allowed: bool, action: str) -> None:
    if not allowed:
        raise PermissionDenied(f"Only CS Leadership may {action}.")


@transaction.atomic
def entitlement_set(*, by: User, tier: Tier, module_code: str, cadence_days: int | None) -> TierEntitlement:
    """Entitle a tier to a module (or change its cadence). Retired policies are history: frozen."""
    _require(authorization.may_manage_policies(by), "edit entitlements")
    module = module_get_by_code(module_code)
    cadence = cadence_validate(cadence_days)
    if tier.policy.status == PolicyStatus.RETIRED:
        raise ValidationError({"tier": ["Entitlements of a retired policy cannot change."]})
    entitlement, _ = TierEntitlement.objects.update_or_create(
        tier=tier, module=module, defaults={"cadence_days": cadence, "updated_by": by}
    )
    return entitlement


@transaction.atomic
def entitlement_remove(*, by: User, tier: Tier, module_code: str) -> None:
    _require(authorization.may_manage_policies(by), "edit entitlements")
    module = module_get_by_code(module_code)
    if tier.policy.status == PolicyStatus.RETIRED:
        raise ValidationError({"tier": ["Entitlements of a retired policy cannot change."]})
    TierEntitlement.objects.filter(tier=tier, module=module).delete()


@transaction.atomic
def entitlements_copy(*, from_policy: TierPolicy, to_policy: TierPolicy) -> int:
    """Copy entitlements between policy versions, tier by tier code (for "clone policy").

    Tiers of ``to_policy`` that already have entitlements keep them. Returns rows created.
    """
    target_tiers = {tier.code: tier for tier in to_policy.tiers.all()}
    already = set(TierEntitlement.objects.filter(tier__policy=to_policy).values_list("tier_id", flat=True))
    rows = [
        TierEntitlement(
            tier=target_tiers[source.tier.code], module_id=source.module_id, cadence_days=source.cadence_days
        )
        for source in TierEntitlement.objects.filter(tier__policy=from_policy).select_related("tier")
        if source.tier.code in target_tiers and target_tiers[source.tier.code].pk not in already
    ]
    TierEntitlement.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def entitlements_copy_from_active(*, policy_id: int) -> int:
    """A new policy version (a clone, made as a draft) starts with the active policy's
    entitlements, tier by tier code. Safe to run twice: tiers with entitlements keep them."""
    target = TierPolicy.objects.filter(pk=policy_id).first()
    source = TierPolicy.objects.filter(status=PolicyStatus.ACTIVE).exclude(pk=policy_id).first()
    if target is None or source is None:
        return 0
    return entitlements_copy(from_policy=source, to_policy=target)


@transaction.atomic
def entitlements_inherit_on_activation(*, policy_id: int) -> int:
    """A policy activated without any entitlements inherits the latest version that had some,
    so accounts never silently lose their service because a copy was missed. Safe to run twice."""
    if TierEntitlement.objects.filter(tier__policy_id=policy_id).exists():
        return 0
    target = TierPolicy.objects.filter(pk=policy_id).first()
    source = (
        TierPolicy.objects.exclude(pk=policy_id)
        .filter(tiers__entitlements__isnull=False)
        .order_by("-version")
        .first()
    )
    if target is None or source is None:
        return 0
    return entitlements_copy(from_policy=source, to_policy=target)


@transaction.atomic
def addon_request(
    *,
    by: User,
    account: Account,
    module_code: str,
    cadence_days: int | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    note: str = "",
) -> AccountAddOn:
    """Ask for an à-la-carte module on a high-touch (enterprise) account.

    The owning CSM or AE asks and leadership approves; a leader's own request is approved at once.
    """
    if not authorization.may_work_on(by, account):
        raise PermissionDenied("Only the account's CSM or AE, or CS Leadership, may request an add-on.")
    # Whoever decides add-ons needs no one's approval for their own request.
    leader = authorization.may_decide_approvals(by)
    module = module_get_by_code(module_code)
    if module is None:
        raise ValidationError({"module": ["Choose a service module."]})
    cadence = cadence_validate(cadence_days)
    touch_model = (
        Tier.objects.filter(policy__status=PolicyStatus.ACTIVE, code=account.tier_code)
        .values_list("touch_model", flat=True)
        .first()
    )
    if touch_model != TouchModel.HIGH:
        raise ValidationError(
            {"account": ["Add-on modules are offered to high-touch (enterprise) accounts only."]}
        )
    starts_on = starts_on or timezone.localdate()
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": ["The add-on cannot end before it starts."]})
    now = timezone.now()
    return AccountAddOn.objects.create(
        account=account,
        module=module,
        cadence_days=cadence,
        starts_on=starts_on,
        ends_on=ends_on,
        note=note,
        source=AddOnSource.REQUEST,
        requested_by=by,
        status=AddOnStatus.APPROVED if leader else AddOnStatus.PENDING,
        decided_by=by if leader else None,
        decided_at=now if leader else None,
    )


@transaction.atomic
def addon_decide(*, by: User, add_on: AccountAddOn, approve: bool, reason: str = "") -> AccountAddOn:
    _require(authorization.may_decide_approvals(by), "approve or decline add-ons")
    locked = AccountAddOn.objects.select_for_update().get(pk=add_on.pk)
    if locked.status != AddOnStatus.PENDING:
        raise ValidationError({"status": [f"This add-on was already {locked.get_status_display().lower()}."]})
    if not approve and not reason.strip():
        raise ValidationError({"reason": ["Say why the add-on is declined."]})
    locked.status = AddOnStatus.APPROVED if approve else AddOnStatus.DECLINED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_reason = reason.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return locked


def addons_decide_many(
    *, by: User, add_on_ids: list[int], approve: bool, reason: str = ""
) -> list[RowResult[AccountAddOn]]:
    """Leadership's bulk decision on requested add-ons: each goes through ``addon_decide`` in its
    own transaction; one decided meanwhile gets its reason and the others go through."""
    add_ons = AccountAddOn.objects.filter(pk__in=add_on_ids).select_related("account", "module")
    return decide_each(
        add_ons,
        add_on_ids,
        lambda add_on: addon_decide(by=by, add_on=add_on, approve=approve, reason=reason),
    )
