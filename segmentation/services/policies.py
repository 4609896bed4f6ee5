"""Tier policies: drafts, validation, cloning and activation (exactly one policy is active)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from csplatform import authorization

from ..models import ApplyMode, PolicyStatus, Tier, TierPolicy, TouchModel
from ..rules import validate_rules
from ..signals import policy_activated

if TYPE_CHECKING:
    from csplatform.models import User

TIER_FIELDS = ("code", "name", "rank", "touch_model", "min_acv")


def _require_leader(user: User) -> None:
    if not authorization.may_manage_policies(user):
        raise PermissionDenied("Only CS Leadership may change tier policies.")


def validate_tiers(tiers: list[dict[str, Any]]) -> list[str]:
    """Problems with a tier list: codes and ranks unique, thresholds descending by rank, and a
    lowest tier with minimum ACV 0 so that no account is ever left without a tier."""
    errors: list[str] = []
    if not tiers:
        return ["tiers: a policy needs at least one tier."]
    for index, tier in enumerate(tiers):
        label = f"tier {index + 1}" + (f" ({tier.get('code')})" if tier.get("code") else "")
        if not str(tier.get("code") or "").strip():
            errors.append(f"{label}.code: a code is required.")
        elif len(str(tier["code"])) > 10:
            errors.append(f"{label}.code: at most 10 characters.")
        if not str(tier.get("name") or "").strip():
            errors.append(f"{label}.name: a name is required.")
        rank = tier.get("rank")
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            errors.append(f"{label}.rank: a whole number ≥ 1 is required.")
        if tier.get("touch_model") not in TouchModel.values:
            errors.append(f"{label}.touch_model: use one of {', '.join(TouchModel.values)}.")
        try:
            min_acv = Decimal(str(tier.get("min_acv")))
            if min_acv < 0 or not min_acv.is_finite():
                errors.append(f"{label}.min_acv: must be 0 or more.")
        except (InvalidOperation, ValueError):
            errors.append(f"{label}.min_acv: a number is required.")
    if errors:
        return errors
    codes = [t["code"] for t in tiers]
    ranks = [t["rank"] for t in tiers]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        errors.append(f"tiers: the code {code!r} is used twice.")
    for rank in sorted({r for r in ranks if ranks.count(r) > 1}):
        errors.append(f"tiers: the rank {rank} is used twice.")
    ordered = sorted(tiers, key=lambda t: t["rank"])
    for higher, lower in pairwise(ordered):
        if Decimal(str(higher["min_acv"])) <= Decimal(str(lower["min_acv"])):
            errors.append(
                f"tiers: {higher['code']} (rank {higher['rank']}) needs a higher minimum ACV than "
                f"{lower['code']} (rank {lower['rank']})."
            )
    if Decimal(str(ordered[-1]["min_acv"])) != 0:
        errors.append(
            f"tiers: the lowest tier ({ordered[-1]['code']}) must have minimum ACV 0, "
            "so that every account has a tier."
        )
    return errors


def policy_errors(policy: TierPolicy, tiers: list[dict[str, Any]] | None = None) -> dict[str, list[str]]:
    """Field-keyed problems that stop ``policy`` (with ``tiers``, default its own) from being active."""
    if tiers is None:
        tiers = list(policy.tiers.values(*TIER_FIELDS))
    errors: dict[str, list[str]] = {}
    tier_errors = validate_tiers(tiers)
    if tier_errors:
        errors["tiers"] = tier_errors
    rule_errors = validate_rules(policy.rules, tier_codes={str(t.get("code")) for t in tiers})
    if rule_errors:
        errors["rules"] = rule_errors
    band = Decimal(str(policy.hysteresis_band))
    if not 0 <= band < 1:
        errors["hysteresis_band"] = ["The band is a share from 0 up to (not including) 1, e.g. 0.10."]
    if policy.apply_mode not in ApplyMode.values:
        errors["apply_mode"] = [f"Use one of {', '.join(ApplyMode.values)}."]
    return errors


@transaction.atomic
def tier_policy_clone(*, policy: TierPolicy, by: User, name: str = "") -> TierPolicy:
    """A new draft copying ``policy`` (tiers, rules, settings), with the next version number."""
    _require_leader(by)
    version = (TierPolicy.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0) + 1
    draft = TierPolicy.objects.create(
        version=version,
        name=name or f"{policy.name} (draft v{version})",
        status=PolicyStatus.DRAFT,
        rules=policy.rules,
        hysteresis_band=policy.hysteresis_band,
        downgrade_after_consecutive_reviews=policy.downgrade_after_consecutive_reviews,
        apply_mode=policy.apply_mode,
        notes=policy.notes,
        created_by=by,
    )
    Tier.objects.bulk_create(
        Tier(policy=draft, **{f: getattr(t, f) for f in TIER_FIELDS}) for t in policy.tiers.all()
    )
    return draft


@transaction.atomic
def tier_policy_update(
    *,
    policy: TierPolicy,
    by: User,
    tiers: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> TierPolicy:
    """Edit a draft: any of name, rules, hysteresis_band, downgrade_after_consecutive_reviews,
    apply_mode, notes, and (optionally) the whole tier list. Refuses an invalid result with a
    field-keyed ValidationError naming the rule/tier and field."""
    _require_leader(by)
    policy = TierPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.status != PolicyStatus.DRAFT:
        raise ValidationError(
            {"status": [f"Only a draft can be edited; v{policy.version} is {policy.status}."]}
        )
    allowed = {
        "name",
        "rules",
        "hysteresis_band",
        "downgrade_after_consecutive_reviews",
        "apply_mode",
        "notes",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: ["Not an editable policy field."] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(policy, name, value)
    errors = policy_errors(policy, tiers)
    if errors:
        raise ValidationError(errors)
    policy.save()
    if tiers is not None:
        policy.tiers.all().delete()
        Tier.objects.bulk_create(Tier(policy=policy, **{f: tier[f] for f in TIER_FIELDS}) for tier in tiers)
    return policy


@transaction.atomic
def tier_policy_activate(*, policy: TierPolicy, by: User) -> TierPolicy:
    """Make a valid draft the active policy; the previous one is retired. The next review (or
    event) applies it. Records who activated it and when."""
    _require_leader(by)
    policy = TierPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.status != PolicyStatus.DRAFT:
        raise ValidationError(
            {"status": [f"Only a draft can be activated; v{policy.version} is {policy.status}."]}
        )
    errors = policy_errors(policy)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    TierPolicy.objects.select_for_update().filter(status=PolicyStatus.ACTIVE).update(
        status=PolicyStatus.RETIRED, retired_at=now
    )
    policy.status = PolicyStatus.ACTIVE
    policy.activated_by = by
    policy.activated_at = now
    policy.save(update_fields=["status", "activated_by", "activated_at"])
    policy_activated.send(sender=TierPolicy, policy_id=policy.pk)
    return policy


@transaction.atomic
def tier_policy_delete_draft(*, policy: TierPolicy, by: User) -> None:
    _require_leader(by)
    if policy.status != PolicyStatus.DRAFT:
        raise ValidationError({"status": ["Only a draft can be deleted."]})
    policy.delete()
