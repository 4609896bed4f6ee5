"""Reads of AE handoff commitments and of the exceptions awaiting leadership's decision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from csplatform import authorization
from playbooks.models import AccountAddOn, AddOnStatus

from ..models import CommitmentStatus, HandoffCommitment

if TYPE_CHECKING:
    from csplatform.models import AnyUser


def commitments_for(*, user: AnyUser, account_id: int | None = None) -> QuerySet[HandoffCommitment]:
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


def pending_add_ons() -> QuerySet[Any]:
    return AccountAddOn.objects.filter(status=AddOnStatus.PENDING).select_related(
        "account", "module", "requested_by"
    )
