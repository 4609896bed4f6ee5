"""Engagement listens to accounts and segmentation (connected in EngagementConfig.ready()).

Receivers run inside the sender's transaction and only enqueue tasks with ids
(``csplatform.dispatch.enqueue``): the follow-up commits with the change, and the work runs in
workers.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import accounts_changed, contacts_changed, demo_data_seeded, usage_received
from csplatform.dispatch import enqueue
from segmentation.signals import override_applied, tier_changed, tier_changes_applied

from .tasks import engagement as tasks


@receiver(tier_changed, dispatch_uid="engagement.tier_changed")
def on_tier_changed(
    sender: Any, *, account_id: int, from_code: str, to_code: str, change_id: int, **kwargs: Any
) -> None:
    enqueue(
        tasks.tier_change_handle,
        account_id=account_id,
        from_code=from_code,
        to_code=to_code,
        change_id=change_id,
    )
    enqueue(tasks.csm_portfolio_refresh, account_ids=[account_id])


@receiver(tier_changes_applied, dispatch_uid="engagement.tier_changes_applied")
def on_tier_changes_applied(
    sender: Any, *, account_ids: list[int], change_ids: list[int], source: str, **kwargs: Any
) -> None:
    enqueue(tasks.csm_portfolio_refresh, account_ids=list(account_ids))
    if source == "initial":
        # Initial tiering is not "entering" a tier: no playbooks, but coverage starts.
        enqueue(tasks.coverage_recompute_accounts, account_ids=list(account_ids))
        return
    enqueue(tasks.tier_changes_handle, change_ids=list(change_ids))


@receiver(override_applied, dispatch_uid="engagement.override_applied")
def on_override_applied(sender: Any, *, account_id: int, override_id: int, **kwargs: Any) -> None:
    enqueue(tasks.override_playbooks, account_id=account_id, override_id=override_id)


@receiver(usage_received, dispatch_uid="engagement.usage_received")
def on_usage_received(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    enqueue(tasks.flags_detect, account_ids=list(account_ids))


@receiver(contacts_changed, dispatch_uid="engagement.contacts_changed")
def on_contacts_changed(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    enqueue(tasks.champions_check, account_ids=list(account_ids))


@receiver(accounts_changed, dispatch_uid="engagement.accounts_changed")
def on_accounts_changed(sender: Any, *, account_ids: list[int], fields: Any = None, **kwargs: Any) -> None:
    fields = set(fields or ())
    if fields & {"created", "csm", "lifecycle_stage"}:
        # The capacity summary counts accounts per CSM and tier (not churned ones).
        enqueue(tasks.csm_portfolio_refresh, account_ids=list(account_ids), reassigned="csm" in fields)
    if fields & {"created", "lifecycle_stage"}:
        enqueue(tasks.onboarding_playbooks, account_ids=list(account_ids))
    if "renewal_date" in fields:
        enqueue(tasks.flags_detect, account_ids=list(account_ids))


@receiver(demo_data_seeded, dispatch_uid="engagement.demo_data_seeded")
def on_demo_data_seeded(sender: Any, *, seed: int, **kwargs: Any) -> None:
    # Connected after segmentation's receiver (apps order); the task also waits for tiers.
    enqueue(tasks.demo_data, seed=seed)
