"""Celery tasks of the playbooks app, one module per sub-domain; each is imported here."""

from .entitlements import entitlements_copy_to_new_policy, entitlements_inherit_for_activated_policy

__all__ = ["entitlements_copy_to_new_policy", "entitlements_inherit_for_activated_policy"]
