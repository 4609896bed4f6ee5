"""Playbooks listens to segmentation: entitlements are versioned with the tier policy.

A new policy version (a clone, made as a draft) starts with the entitlements of the active policy,
tier by tier code, so leadership edits a copy and the active policy's service stays as it is; a
policy activated without entitlements inherits the latest version that had some.

Receivers run inside the sender's transaction and only add rows to the task outbox; the copies
are made by Celery jobs once that transaction committed.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from csplatform.dispatch import enqueue
from segmentation.models import TierPolicy
from segmentation.signals import policy_activated

from . import jobs


@receiver(post_save, sender=TierPolicy, dispatch_uid="playbooks.copy_entitlements_to_new_policy")
def copy_entitlements_to_new_policy(sender: Any, instance: TierPolicy, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    # The clone creates its tiers after the policy row: the task runs once the transaction committed.
    enqueue(jobs.entitlements_copy_to_new_policy, policy_id=instance.pk)


@receiver(policy_activated, dispatch_uid="playbooks.entitlements_on_activation")
def entitlements_on_activation(sender: Any, *, policy_id: int, **kwargs: Any) -> None:
    enqueue(jobs.entitlements_inherit_for_activated_policy, policy_id=policy_id)
