"""Playbooks start when an account enters a tier, is overridden, starts onboarding or renews.

Receivers run inside the sender's transaction and only enqueue jobs with ids
(``csplatform.dispatch.enqueue``): the follow-up commits with the change, and the work runs in
workers. Connected in ``EngagementConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import accounts_changed, renewal_recorded
from csplatform.dispatch import enqueue
from segmentation.signals import override_applied, tier_changed, tier_changes_applied

from . import jobs


@receiver(tier_changed, dispatch_uid="engagement.tier_changed")
def on_tier_changed(
    sender: Any, *, account_id: int, from_code: str, to_code: str, change_id: int, **kwargs: Any
) -> None:
    enqueue(
        jobs.tier_change_handle,
        account_id=account_id,
        from_code=from_code,
        to_code=to_code,
        change_id=change_id,
    )


@receiver(tier_changes_applied, dispatch_uid="engagement.tier_changes_applied")
def on_tier_changes_applied(
    sender: Any, *, account_ids: list[int], change_ids: list[int], source: str, **kwargs: Any
) -> None:
    if source == "initial":
        return  # initial tiering is not "entering" a tier: no playbooks (coverage starts)
    enqueue(jobs.tier_changes_handle, change_ids=list(change_ids))


@receiver(override_applied, dispatch_uid="engagement.override_applied")
def on_override_applied(sender: Any, *, account_id: int, override_id: int, **kwargs: Any) -> None:
    enqueue(jobs.override_playbooks, account_id=account_id, override_id=override_id)


@receiver(accounts_changed, dispatch_uid="engagement.accounts_changed")
def on_accounts_changed(sender: Any, *, account_ids: list[int], fields: Any = None, **kwargs: Any) -> None:
    if set(fields or ()) & {"created", "lifecycle_stage"}:
        enqueue(jobs.onboarding_playbooks, account_ids=list(account_ids))


@receiver(renewal_recorded, dispatch_uid="engagement.renewal_recorded")
def on_renewal_recorded(sender: Any, *, renewal_ids: list[int], **kwargs: Any) -> None:
    if renewal_ids:
        enqueue(jobs.renewal_recorded_playbooks, renewal_ids=list(renewal_ids))
