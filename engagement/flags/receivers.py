"""Flags follow usage metrics, contacts (champions) and renewal dates.

Receivers run inside the sender's transaction and only enqueue jobs with ids
(``csplatform.dispatch.enqueue``): the follow-up commits with the change, and the work runs in
workers. Connected in ``EngagementConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import accounts_changed, contacts_changed, usage_received
from csplatform.dispatch import enqueue

from . import jobs


@receiver(usage_received, dispatch_uid="engagement.usage_received")
def on_usage_received(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    enqueue(jobs.flags_detect, account_ids=list(account_ids))


@receiver(contacts_changed, dispatch_uid="engagement.contacts_changed")
def on_contacts_changed(sender: Any, *, account_ids: list[int], **kwargs: Any) -> None:
    enqueue(jobs.champions_check, account_ids=list(account_ids))


@receiver(accounts_changed, dispatch_uid="engagement.flags.accounts_changed")
def on_accounts_changed(sender: Any, *, account_ids: list[int], fields: Any = None, **kwargs: Any) -> None:
    if "renewal_date" in set(fields or ()):
        enqueue(jobs.flags_detect, account_ids=list(account_ids))
