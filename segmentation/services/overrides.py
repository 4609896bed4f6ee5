"""Governed tier overrides: a reason, free text and an expiry; leadership approves big or
foreign moves; expired overrides fall back to the policy.

Who may do what (the one place these rules live):
- a CSM may request an override on any account; it needs CS Leadership approval when it moves
  the account more than one rank away from the policy's tier, or when the CSM does not own the
  account; until approved nothing changes;
- CS Leadership (or an admin) may override any account without approval, and approves or
  declines requests with a reason;
- the requester or leadership may end an active override early.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from csplatform import authorization
from csplatform.bulk import RowResult, decide_each

from ..models import (
    AccountTierState,
    ChangeSource,
    ChangeStatus,
    OverrideReason,
    OverrideStatus,
    TierChange,
    TierOverride,
)
from ..signals import override_applied, override_decided, override_requested
from .evaluation import active_policy_snapshot, evaluate_batch, load_facts, tier_evaluate_accounts

if TYPE_CHECKING:
    from csplatform.models import User

DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365


def override_needs_approval(*, user: User, account: Account, policy_rank: int | None, tier_rank: int) -> bool:
    if authorization.may_decide_approvals(user):  # whoever approves needs no approval
        return False
    if account.csm_id != getattr(user, "pk", None):
        return True
    return policy_rank is None or abs(tier_rank - policy_rank) > 1


def policy_tier_of(account: Account) -> tuple[str, int | None]:
    """What the policy says for ``account`` (its effective tier when it was never evaluated)."""
    state = (
        AccountTierState.objects.filter(account_id=account.pk)
        .values_list("policy_tier_code", "policy_tier_rank")
        .first()
    )
    if state and state[0]:
        return state[0], state[1]
    return account.tier_code, account.tier_rank


@transaction.atomic
def tier_override_request(
    *,
    account: Account,
    by: User,
    tier_code: str,
    reason: str,
    note: str,
    expires_on: dt.date | None = None,
    rejected_change: TierChange | None = None,
) -> TierOverride:
    """Request (or, when no approval is needed, apply at once) an override of ``account``'s tier.

    Raises PermissionDenied for people who may not override, ValidationError (field-keyed) for a
    missing reason or note, an unknown tier, or an expiry in the past or beyond 365 days.
    """
    if not authorization.may_request_override(by):
        raise PermissionDenied("Only CSMs and CS Leadership may override a tier.")
    account = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
    today = timezone.localdate()
    policy = active_policy_snapshot()
    errors: dict[str, list[str]] = {}
    tier = policy.by_code(tier_code or "")
    if tier is None:
        errors["tier"] = [
            f"Unknown tier {tier_code!r}; "
            f"the active policy's tiers are {', '.join(t.code for t in policy.tiers)}."
        ]
    if reason not in OverrideReason.values:
        errors["reason"] = [f"Choose a reason: {', '.join(OverrideReason.values)}."]
    if not (note or "").strip():
        errors["note"] = ["Say why, in a few words: the reason code alone does not help the next person."]
    expires_on = expires_on or today + dt.timedelta(days=DEFAULT_EXPIRY_DAYS)
    if expires_on <= today:
        errors["expires_on"] = ["The expiry must be after today."]
    elif expires_on > today + dt.timedelta(days=MAX_EXPIRY_DAYS):
        errors["expires_on"] = [
            f"An override lasts at most {MAX_EXPIRY_DAYS} days "
            f"(until {today + dt.timedelta(days=MAX_EXPIRY_DAYS)})."
        ]
    if TierOverride.objects.filter(account=account, status=OverrideStatus.PENDING).exists():
        errors.setdefault("tier", []).append(
            "An override of this account already awaits CS Leadership approval."
        )
    policy_code, policy_rank = policy_tier_of(account)
    if tier is not None and tier.code == policy_code and rejected_change is None:
        errors.setdefault("tier", []).append(f"{tier.name} is already the policy's tier for this account.")
    if errors:
        raise ValidationError(errors)
    assert tier is not None
    needs_approval = override_needs_approval(
        user=by, account=account, policy_rank=policy_rank, tier_rank=tier.rank
    )
    override = TierOverride.objects.create(
        account=account,
        tier_code=tier.code,
        tier_name=tier.name,
        tier_rank=tier.rank,
        policy_tier_code=policy_code,
        policy_tier_rank=policy_rank,
        reason=reason,
        note=note.strip(),
        expires_on=expires_on,
        status=OverrideStatus.PENDING if needs_approval else OverrideStatus.ACTIVE,
        needs_approval=needs_approval,
        requested_by=by,
        rejected_change=rejected_change,
    )
    override_requested.send(sender=TierOverride, account_id=account.pk, override_id=override.pk)
    if not needs_approval:
        _make_effective(override, by=by)
    return override


def _make_effective(override: TierOverride, *, by: User) -> None:
    """End any other active override of the account, activate this one, and apply it."""
    now = timezone.now()
    TierOverride.objects.filter(account_id=override.account_id, status=OverrideStatus.ACTIVE).exclude(
        pk=override.pk
    ).update(status=OverrideStatus.ENDED, ended_at=now)
    override.status = OverrideStatus.ACTIVE
    override.activated_at = now
    override.save(update_fields=["status", "activated_at"])
    # A pending proposal is moot once a person has decided the tier.
    TierChange.objects.filter(account_id=override.account_id, status=ChangeStatus.PROPOSED).update(
        status=ChangeStatus.SUPERSEDED, decided_at=now
    )
    evaluate_batch(
        policy=active_policy_snapshot(),
        facts=load_facts([override.account_id]),
        source=ChangeSource.OVERRIDE,
        by_id=getattr(by, "pk", None),
    )
    override_applied.send(
        sender=TierOverride,
        account_id=override.account_id,
        override_id=override.pk,
        tier_code=override.tier_code,
    )


def _lock_pending(override: TierOverride) -> TierOverride:
    locked = TierOverride.objects.select_for_update().get(pk=override.pk)
    if locked.status != OverrideStatus.PENDING:
        raise ValidationError(
            {"status": [f"This override is {locked.get_status_display().lower()}, not awaiting approval."]}
        )
    return locked


@transaction.atomic
def tier_override_approve(*, override: TierOverride, by: User, note: str = "") -> TierOverride:
    """CS Leadership approves a pending override; it takes effect at once."""
    if not authorization.may_decide_approvals(by):
        raise PermissionDenied("Only CS Leadership may approve an override.")
    Account.objects.select_for_update(no_key=True).filter(pk=override.account_id).first()
    override = _lock_pending(override)
    if override.expires_on <= timezone.localdate():
        raise ValidationError(
            {"expires_on": ["This request has already passed its expiry; ask for a new one."]}
        )
    override.decided_by = by
    override.decided_at = timezone.now()
    override.decision_note = note.strip()
    override.save(update_fields=["decided_by", "decided_at", "decision_note"])
    _make_effective(override, by=by)
    override_decided.send(
        sender=TierOverride, account_id=override.account_id, override_id=override.pk, decision="approved"
    )
    return override


@transaction.atomic
def tier_override_decline(*, override: TierOverride, by: User, note: str) -> TierOverride:
    """CS Leadership declines a pending override, saying why; nothing changes on the account."""
    if not authorization.may_decide_approvals(by):
        raise PermissionDenied("Only CS Leadership may decline an override.")
    if not (note or "").strip():
        raise ValidationError({"note": ["Say why the override is declined; the requester reads it."]})
    override = _lock_pending(override)
    override.status = OverrideStatus.DECLINED
    override.decided_by = by
    override.decided_at = timezone.now()
    override.decision_note = note.strip()
    override.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    override_decided.send(
        sender=TierOverride, account_id=override.account_id, override_id=override.pk, decision="declined"
    )
    return override


def tier_overrides_decide_many(
    *, by: User, override_ids: list[int], approve: bool, note: str = ""
) -> list[RowResult[TierOverride]]:
    """Leadership's bulk decision on pending overrides: each goes through ``tier_override_approve``
    / ``tier_override_decline`` in its own transaction; one the service refuses (decided meanwhile,
    past its expiry) gets its reason and the others go through."""

    def decide(override: TierOverride) -> TierOverride:
        if approve:
            decided = tier_override_approve(override=override, by=by, note=note)
        else:
            decided = tier_override_decline(override=override, by=by, note=note)
        decided.refresh_from_db()
        return decided

    overrides = TierOverride.objects.filter(pk__in=override_ids).select_related("account", "requested_by")
    return decide_each(overrides, override_ids, decide)


@transaction.atomic
def tier_override_end(*, override: TierOverride, by: User) -> TierOverride:
    """End an active override early; the account falls back to the policy's tier at once."""
    if not authorization.may_end_override(by, override):
        raise PermissionDenied("Only the requester or CS Leadership may end an override.")
    override = TierOverride.objects.select_for_update().get(pk=override.pk)
    if override.status != OverrideStatus.ACTIVE:
        raise ValidationError({"status": ["Only an active override can be ended."]})
    override.status = OverrideStatus.ENDED
    override.ended_at = timezone.now()
    override.save(update_fields=["status", "ended_at"])
    tier_evaluate_accounts(account_ids=[override.account_id], source=ChangeSource.EVENT, by=by)
    return override


def tier_overrides_expire(*, today: dt.date | None = None) -> int:
    """Fall back to the policy for every override past its expiry. Returns how many expired."""
    today = today or timezone.localdate()
    account_ids = list(
        TierOverride.objects.filter(status=OverrideStatus.ACTIVE, expires_on__lt=today).values_list(
            "account_id", flat=True
        )
    )
    if account_ids:
        # Evaluation expires the overrides it finds past their date and falls back to the policy.
        tier_evaluate_accounts(account_ids=account_ids, source=ChangeSource.EVENT, today=today)
    return len(account_ids)
