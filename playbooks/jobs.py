"""Celery jobs of the playbooks app. Entitlements follow policy versions: thin jobs queued by the
receivers, safe to run twice. The task names are stored (the task outbox): they never change.
"""

from __future__ import annotations

from celery import shared_task

from .services.catalogue import entitlements_copy_from_active, entitlements_inherit_on_activation


@shared_task(name="playbooks.entitlements_copy_to_new_policy")
def entitlements_copy_to_new_policy(*, policy_id: int) -> None:
    entitlements_copy_from_active(policy_id=policy_id)


@shared_task(name="playbooks.entitlements_inherit_on_activation")
def entitlements_inherit_for_activated_policy(*, policy_id: int) -> None:
    entitlements_inherit_on_activation(policy_id=policy_id)
