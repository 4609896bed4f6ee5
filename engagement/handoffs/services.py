"""AE handoff commitments: logged by the AE, checked against entitlements, decided by leadership."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from csplatform import authorization
from csplatform.bulk import RowResult, decide_each
from playbooks.models import AccountAddOn, AddOnSource, AddOnStatus, ServiceModule, Trigger
from playbooks.selectors import Entitlement, entitlements_by_tier_code, entitlements_for_accounts
from playbooks.services.catalogue import cadence_validate, module_get_by_code

from ..models import CommitmentStatus, HandoffCommitment
from ..signals import commitment_decided, commitment_logged

if TYPE_CHECKING:
    from csplatform.models import User

OPEN_STATUSES = (CommitmentStatus.WITHIN_TIER, CommitmentStatus.EXCEEDS_TIER)


def commitment_check(
    *, tier_code: str, entitlements: list[Entitlement], module: ServiceModule | None, cadence_days: int | None
) -> tuple[str, str]:
    """``(status, explanation)`` of a promise against the account's current entitlements.

    Within the tier when the module is entitled at least as often as promised (a promise without a
    cadence only needs the module). Free text cannot be checked by a machine: leadership reads it.
    """
    tier = tier_code or "no tier"
    if module is None:
        return CommitmentStatus.EXCEEDS_TIER, "A free-text promise needs CS Leadership to check it."
    entitled = next((e for e in entitlements if e.module_id == module.pk), None)
    if entitled is None:
        return CommitmentStatus.EXCEEDS_TIER, f"{module.name} is not included in {tier}."
    if cadence_days is None:
        return CommitmentStatus.WITHIN_TIER, f"{module.name} is included in {tier}."
    if entitled.cadence_days is None:
        return (
            CommitmentStatus.EXCEEDS_TIER,
            f"{module.name} is included in {tier} but not every {cadence_days} days.",
        )
    if cadence_days >= entitled.cadence_days:
        return (
            CommitmentStatus.WITHIN_TIER,
            f"{tier} includes {module.name} every {entitled.cadence_days} days; "
            f"promised every {cadence_days}.",
        )
    return (
        CommitmentStatus.EXCEEDS_TIER,
        f"Promised {module.name} every {cadence_days} days; "
        f"{tier} includes it every {entitled.cadence_days}.",
    )


@transaction.atomic
def commitment_log(
    *,
    by: User,
    account: Account,
    module_code: str | None,
    cadence_days: int | None,
    description: str = "",
    deal_reference: str = "",
    note: str = "",
) -> HandoffCommitment:
    """The AE records a promise made during the sale; it is checked against the tier at once."""
    if not authorization.may_log_commitment(by, account):
        raise PermissionDenied("Only the account's AE (or CS Leadership) may log a commitment on it.")
    errors: dict[str, list[str]] = {}
    module: ServiceModule | None = None
    cadence: int | None = None
    try:
        module = module_get_by_code(module_code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        cadence = cadence_validate(cadence_days)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if module is None and not module_code and not description.strip():
        errors["description"] = ["Describe the promise or choose a service module."]
    if module is None and not module_code and cadence is not None:
        errors["cadence_days"] = ["A cadence needs a service module."]
    if errors:
        raise ValidationError(errors)
    today = timezone.localdate()
    entitlements = entitlements_for_accounts(accounts=[account], on=today)[account.pk]
    status, explanation = commitment_check(
        tier_code=account.tier_code, entitlements=entitlements, module=module, cadence_days=cadence
    )
    commitment = HandoffCommitment.objects.create(
        account=account,
        logged_by=by,
        module=module,
        cadence_days=cadence,
        description=description.strip(),
        deal_reference=deal_reference.strip(),
        note=note.strip(),
        status=status,
        check_explanation=explanation[:300],
        checked_at=timezone.now(),
        checked_tier_code=account.tier_code,
    )
    commitment_logged.send(sender=HandoffCommitment, account_id=account.pk, commitment_id=commitment.pk)
    return commitment


def commitments_recheck(*, account_ids: Iterable[int]) -> int:
    """Re-check open commitments (after a tier change). Returns how many changed status."""
    open_commitments = list(
        HandoffCommitment.objects.filter(
            account_id__in=list(account_ids), status__in=OPEN_STATUSES
        ).select_related("account", "module")
    )
    if not open_commitments:
        return 0
    today = timezone.localdate()
    entitlements = entitlements_for_accounts(
        accounts={c.account_id: c.account for c in open_commitments}.values(),
        on=today,
        by_tier=entitlements_by_tier_code(),
    )
    changed = []
    now = timezone.now()
    for commitment in open_commitments:
        status, explanation = commitment_check(
            tier_code=commitment.account.tier_code,
            entitlements=entitlements[commitment.account_id],
            module=commitment.module,
            cadence_days=commitment.cadence_days,
        )
        if status != commitment.status or commitment.checked_tier_code != commitment.account.tier_code:
            commitment.status = status
            commitment.check_explanation = explanation[:300]
            commitment.checked_at = now
            commitment.checked_tier_code = commitment.account.tier_code
            changed.append(commitment)
    HandoffCommitment.objects.bulk_update(
        changed, ["status", "check_explanation", "checked_at", "checked_tier_code"]
    )
    return len(changed)


def _locked_for_decision(by: User, commitment: HandoffCommitment) -> HandoffCommitment:
    if not authorization.may_decide_approvals(by):
        raise PermissionDenied("Only CS Leadership may accept or decline a commitment.")
    locked = (
        HandoffCommitment.objects.select_for_update(of=("self",))
        .select_related("account", "module")
        .get(pk=commitment.pk)
    )
    if locked.status != CommitmentStatus.EXCEEDS_TIER:
        raise ValidationError(
            {
                "status": [
                    f"Only a commitment that exceeds the tier needs a decision; this one is "
                    f"{locked.get_status_display().lower()}."
                ]
            }
        )
    return locked


@transaction.atomic
def commitment_accept(
    *, by: User, commitment: HandoffCommitment, until: dt.date | None = None, note: str = ""
) -> HandoffCommitment:
    """Leadership accepts an exceeding promise as an exception until ``until``: a module promise
    becomes a time-boxed add-on entitlement, and 'commitment accepted' playbooks start."""
    from ..coverage.services import coverage_recompute
    from ..playbook_runs.services import playbooks_start

    locked = _locked_for_decision(by, commitment)
    today = timezone.localdate()
    until = until or today + dt.timedelta(days=int(settings.COMMITMENT_EXCEPTION_DAYS))
    if until <= today:
        raise ValidationError({"until": ["The exception must last beyond today."]})
    now = timezone.now()
    if locked.module is not None:
        locked.add_on = AccountAddOn.objects.create(
            account=locked.account,
            module=locked.module,
            cadence_days=locked.cadence_days,
            status=AddOnStatus.APPROVED,
            source=AddOnSource.COMMITMENT,
            note=locked.description or locked.note,
            starts_on=today,
            ends_on=until,
            requested_by=locked.logged_by,
            decided_by=by,
            decided_at=now,
            decision_reason=note,
        )
    locked.status = CommitmentStatus.ACCEPTED
    locked.decided_by = by
    locked.decided_at = now
    locked.decision_reason = note.strip()
    locked.exception_until = until
    locked.save(
        update_fields=["status", "decided_by", "decided_at", "decision_reason", "exception_until", "add_on"]
    )
    playbooks_start(
        account=locked.account, trigger=Trigger.COMMITMENT_ACCEPTED, key=f"commitment:{locked.pk}"
    )
    coverage_recompute(account_ids=[locked.account_id])
    commitment_decided.send(
        sender=HandoffCommitment, account_id=locked.account_id, commitment_id=locked.pk, decision="accepted"
    )
    return locked


@transaction.atomic
def commitment_decline(*, by: User, commitment: HandoffCommitment, reason: str) -> HandoffCommitment:
    """Leadership declines an exceeding promise; the reason is shown to the AE and the CSM."""
    locked = _locked_for_decision(by, commitment)
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the commitment is declined; the AE and CSM see it."]})
    locked.status = CommitmentStatus.DECLINED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_reason = reason.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    commitment_decided.send(
        sender=HandoffCommitment, account_id=locked.account_id, commitment_id=locked.pk, decision="declined"
    )
    return locked


def commitments_decide_many(
    *, by: User, commitment_ids: list[int], approve: bool, reason: str = "", until: dt.date | None = None
) -> list[RowResult[HandoffCommitment]]:
    """Decide several waiting commitments the same way (leadership's bulk decision). Each is
    decided by ``commitment_accept`` / ``commitment_decline`` in its own transaction: one that
    changed meanwhile (decided by someone else) gets its reason, the others go through."""

    def decide(commitment: HandoffCommitment) -> HandoffCommitment:
        if approve:
            return commitment_accept(by=by, commitment=commitment, until=until, note=reason)
        return commitment_decline(by=by, commitment=commitment, reason=reason)

    commitments = HandoffCommitment.objects.filter(pk__in=commitment_ids).select_related("account", "module")
    return decide_each(commitments, commitment_ids, decide)
