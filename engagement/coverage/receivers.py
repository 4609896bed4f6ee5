"""Coverage starts with an account's first tier (later tier changes recompute it as their
playbooks run), and follows an account out of the active book when it churns and back when it
returns.

Receivers run inside the sender's transaction and only enqueue jobs with ids
(``csplatform.dispatch.enqueue``): the follow-up commits with the change, and the work runs in
workers. Connected in ``EngagementConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import accounts_changed
from csplatform.dispatch import enqueue
from segmentation.signals import tier_changes_applied

from . import jobs


@receiver(tier_changes_applied, dispatch_uid="engagement.coverage.tier_changes_applied")
def on_tier_changes_applied(sender: Any, *, account_ids: list[int], source: str, **kwargs: Any) -> None:
    if source == "initial":
        # Initial tiering is not "entering" a tier: no playbooks, but coverage starts.
        enqueue(jobs.coverage_recompute_accounts, account_ids=list(account_ids))


@receiver(accounts_changed, dispatch_uid="engagement.coverage.accounts_changed")
def on_accounts_changed(sender: Any, *, account_ids: list[int], fields: Any = None, **kwargs: Any) -> None:
    # A churned account is owed nothing; one that comes back is owed its tier's service again. A
    # new CSM takes the account's coverage into their row of the summary.
    if set(fields or ()) & {"lifecycle_stage", "csm"}:
        enqueue(jobs.coverage_recompute_accounts, account_ids=list(account_ids))
