"""Segmentation listens to the accounts app: changed accounts, usage and contacts are
re-evaluated by tasks; seeded demo data gets its initial tiers by a task.

Receivers run inside the sender's transaction and only add rows to the task outbox.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import accounts_changed, contacts_changed, demo_data_seeded, usage_received

# Account fields that can change a tier (ACV, lifecycle stage, renewal date are signals; owners
# decide who is asked about proposals and overrides).
TIER_FIELDS = frozenset({"acv", "csm", "ae", "lifecycle_stage", "renewal_date", "created"})


@receiver(accounts_changed, dispatch_uid="segmentation.accounts_changed")
def on_accounts_changed(sender: Any, account_ids: list[int], fields: Any = None, **kwargs: Any) -> None:
    if fields is not None and not TIER_FIELDS & set(fields):
        return
    from .services.evaluation import enqueue_reevaluation

    enqueue_reevaluation(account_ids=account_ids)


@receiver(usage_received, dispatch_uid="segmentation.usage_received")
@receiver(contacts_changed, dispatch_uid="segmentation.contacts_changed")
def on_signals_changed(sender: Any, account_ids: list[int], **kwargs: Any) -> None:
    from .services.evaluation import enqueue_reevaluation

    enqueue_reevaluation(account_ids=account_ids)


@receiver(demo_data_seeded, dispatch_uid="segmentation.demo_data_seeded")
def on_demo_data_seeded(sender: Any, **kwargs: Any) -> None:
    from csplatform.dispatch import enqueue

    from .jobs import assign_initial_tiers

    enqueue(assign_initial_tiers)


@receiver(accounts_changed, dispatch_uid="segmentation.health.accounts_changed")
@receiver(usage_received, dispatch_uid="segmentation.health.usage_received")
def on_health_inputs_changed(sender: Any, account_ids: list[int], **kwargs: Any) -> None:
    """A sync changed accounts or their usage: their health is recomputed within seconds."""
    from .services.health import enqueue_health_recompute

    enqueue_health_recompute(account_ids=account_ids)
