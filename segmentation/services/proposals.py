"""Tier proposals (apply mode ``propose``): the owning CSM or CS Leadership accepts or rejects.

Rejecting a proposal is an override: the account keeps its tier for a reason, until an expiry.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, TierSource
from accounts.services.governance import tier_input_changes_caused_by
from csplatform import authorization

from ..models import ChangeStatus, TierChange, TierOverride
from .evaluation import send_tier_changed
from .overrides import tier_override_request

if TYPE_CHECKING:
    from csplatform.models import User


def _caused_by(change: TierChange, account: Account, user: User) -> bool:
    """Whether ``user``'s own change to the account's tier inputs led to this proposal: made after
    the account's last applied tier change and before the proposal."""
    last_applied = (
        TierChange.objects.filter(
            account_id=account.pk, status=ChangeStatus.APPLIED, applied_at__lt=change.created_at
        )
        .order_by("-applied_at")
        .values_list("applied_at", flat=True)
        .first()
    )
    return tier_input_changes_caused_by(
        account_id=account.pk, user=user, since=last_applied, until=change.created_at
    )


def _lock_open(change: TierChange, by: User) -> tuple[TierChange, Account]:
    account = Account.objects.select_for_update(no_key=True).get(pk=change.account_id)
    if not authorization.may_do_cs_work(by, account):
        raise PermissionDenied("Only the account's CSM or CS Leadership may decide a tier proposal.")
    change = TierChange.objects.select_for_update().get(pk=change.pk)
    if change.status != ChangeStatus.PROPOSED:
        raise ValidationError({"status": [f"This proposal is already {change.status}."]})
    return change, account


@transaction.atomic
def tier_proposal_accept(*, change: TierChange, by: User) -> TierChange:
    """Apply a proposed change: the account moves to the proposed tier with its explanation."""
    change, account = _lock_open(change, by)
    ranks = abs(change.to_rank - change.from_rank) if change.from_rank is not None else 0
    if not authorization.may_accept_tier_proposal(
        by, account, caused_it=ranks > 1 and _caused_by(change, account, by), ranks=ranks
    ):
        raise PermissionDenied(
            "Your own change to this account led to this proposal, and it moves the account more than "
            "one tier: another person (the account's CSM or CS Leadership) must accept it."
        )
    if account.tier_code != change.from_code:
        raise ValidationError(
            {"status": ["The account's tier changed since this was proposed; it will be re-evaluated."]}
        )
    now = timezone.now()
    Account.objects.filter(pk=account.pk).update(
        tier_code=change.to_code,
        tier_name=change.to_name,
        tier_rank=change.to_rank,
        tier_source=TierSource.POLICY,
        tier_explanation=change.explanation,
        tier_updated_at=now,
    )
    change.status = ChangeStatus.APPLIED
    change.applied_at = now
    change.decided_by = by
    change.decided_at = now
    change.by = by
    change.save(update_fields=["status", "applied_at", "decided_by", "decided_at", "by"])
    send_tier_changed(change)
    return change


@transaction.atomic
def tier_proposal_reject(
    *, change: TierChange, by: User, reason: str, note: str, expires_on: dt.date | None = None
) -> tuple[TierChange, TierOverride]:
    """Reject a proposal: the account keeps its tier through an override with this reason, note
    and expiry (the override follows the usual approval rules)."""
    change, account = _lock_open(change, by)
    now = timezone.now()
    change.status = ChangeStatus.REJECTED
    change.decided_by = by
    change.decided_at = now
    change.decision_note = (note or "").strip()
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    override = tier_override_request(
        account=account,
        by=by,
        tier_code=account.tier_code,
        reason=reason,
        note=note,
        expires_on=expires_on,
        rejected_change=change,
    )
    return change, override
