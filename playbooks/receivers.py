"""Playbooks listens to segmentation: entitlements are versioned with the tier policy.

A new policy version (a clone, made as a draft) starts with the entitlements of the active policy,
tier by tier code, so leadership edits a copy and the active policy's service stays as it is.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from segmentation.models import PolicyStatus, TierPolicy
from segmentation.signals import policy_activated

from .models import TierEntitlement
from .services.catalogue import entitlements_copy


@receiver(post_save, sender=TierPolicy, dispatch_uid="playbooks.copy_entitlements_to_new_policy")
def copy_entitlements_to_new_policy(sender: Any, instance: TierPolicy, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    # The clone creates its tiers after the policy row: copy once the transaction committed.
    policy_id = instance.pk
    transaction.on_commit(lambda: _copy_from_active(policy_id))


def _copy_from_active(policy_id: int) -> None:
    target = TierPolicy.objects.filter(pk=policy_id).first()
    source = TierPolicy.objects.filter(status=PolicyStatus.ACTIVE).exclude(pk=policy_id).first()
    if target is None or source is None:
        return
    entitlements_copy(from_policy=source, to_policy=target)


@receiver(policy_activated, dispatch_uid="playbooks.entitlements_on_activation")
def entitlements_on_activation(sender: Any, *, policy_id: int, **kwargs: Any) -> None:
    """A policy activated without any entitlements inherits the latest version that had some,
    so accounts never silently lose their service because a copy was missed."""
    if TierEntitlement.objects.filter(tier__policy_id=policy_id).exists():
        return
    target = TierPolicy.objects.get(pk=policy_id)
    source = (
        TierPolicy.objects.exclude(pk=policy_id)
        .filter(tiers__entitlements__isnull=False)
        .order_by("-version")
        .first()
    )
    if source is not None:
        entitlements_copy(from_policy=source, to_policy=target)
