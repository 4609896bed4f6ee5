"""The capacity summary follows tier changes and portfolio changes (new accounts, CSM reassignment,
lifecycle).

A tier review refreshes every CSM once, when it finishes, not once per committed batch: each batch
changes accounts across most portfolios, and refreshing the CSMs it touched re-read their whole
books every time (at a million accounts, twenty batches re-read the book twenty times while the
review ran). Until the review finishes the panel shows the portfolios as they were before it.

Receivers run inside the sender's transaction and only enqueue jobs with ids
(``csplatform.dispatch.enqueue``): the follow-up commits with the change, and the work runs in
workers. Connected in ``EngagementConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import accounts_changed
from csplatform.dispatch import enqueue
from segmentation.signals import review_failed, review_finished, tier_changed, tier_changes_applied

from . import jobs


@receiver(tier_changed, dispatch_uid="engagement.capacity.tier_changed")
def on_tier_changed(sender: Any, *, account_id: int, **kwargs: Any) -> None:
    enqueue(jobs.csm_portfolio_refresh, account_ids=[account_id])


@receiver(tier_changes_applied, dispatch_uid="engagement.capacity.tier_changes_applied")
def on_tier_changes_applied(sender: Any, *, account_ids: list[int], source: str, **kwargs: Any) -> None:
    if source == "review":
        return  # refreshed for every CSM when the review finishes (below)
    enqueue(jobs.csm_portfolio_refresh, account_ids=list(account_ids))


@receiver(review_finished, dispatch_uid="engagement.capacity.review_finished")
@receiver(review_failed, dispatch_uid="engagement.capacity.review_failed")
def on_review_ended(sender: Any, *, review_id: int, **kwargs: Any) -> None:
    # A failed review's committed batches stand: their portfolios are refreshed all the same.
    enqueue(jobs.csm_portfolio_refresh_everyone)


@receiver(accounts_changed, dispatch_uid="engagement.capacity.accounts_changed")
def on_accounts_changed(sender: Any, *, account_ids: list[int], fields: Any = None, **kwargs: Any) -> None:
    fields = set(fields or ())
    if fields & {"created", "csm", "lifecycle_stage"}:
        # The capacity summary counts accounts per CSM and tier (not churned ones).
        enqueue(jobs.csm_portfolio_refresh, account_ids=list(account_ids), reassigned="csm" in fields)
