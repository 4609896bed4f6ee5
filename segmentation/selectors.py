"""Reads of segmentation shaped for pages and the API. No writes, no rules about who may change
what (services own those); who sees which account is ``csplatform.authorization``'s.

For the web pages:
- policy editor: ``policies_list``, ``policy_with_tiers``, ``services.policies.policy_errors``;
- simulation: ``services.tier_policy_simulate`` then ``simulation_moving_accounts`` for a page;
- review progress: ``review_get``, ``reviews_recent``, ``review_open``;
- account panel and override dialog: ``account_tier_panel``, ``override_reason_choices``;
- proposals / approvals: ``proposals_open_for``, ``overrides_awaiting_approval``;
- dashboards: ``latest_review_summaries``, ``services.override_feedback``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Account
from csplatform import authorization

from .entitlements import entitlements_for
from .models import (
    AccountTierState,
    ChangeStatus,
    OverrideReason,
    OverrideStatus,
    PolicyStatus,
    ReviewStatus,
    Tier,
    TierChange,
    TierOverride,
    TierPolicy,
    TierReview,
)
from .services.economics import account_cost_to_serve
from .services.simulation import SimulationResult

if TYPE_CHECKING:
    from csplatform.models import AnyUser


def active_policy() -> TierPolicy:
    return TierPolicy.objects.prefetch_related("tiers").get(status=PolicyStatus.ACTIVE)


def active_tiers_with_entitlements() -> list[dict[str, Any]]:
    """The active policy's tiers in rank order, each with ``entitlements`` (from the playbooks hook)."""
    tiers = list(Tier.objects.filter(policy__status=PolicyStatus.ACTIVE).order_by("rank"))
    entitlements = entitlements_for([t.pk for t in tiers])
    return [
        {
            "id": t.pk,
            "code": t.code,
            "name": t.name,
            "rank": t.rank,
            "touch_model": t.touch_model,
            "min_acv": t.min_acv,
            "entitlements": entitlements.get(t.pk, []),
        }
        for t in tiers
    ]


def policies_list() -> QuerySet[TierPolicy]:
    """All policies, newest version first, with who created and activated them."""
    return TierPolicy.objects.select_related("created_by", "activated_by").order_by("-version")


def policy_with_tiers(policy_id: int) -> TierPolicy:
    return (
        TierPolicy.objects.select_related("created_by", "activated_by")
        .prefetch_related("tiers")
        .get(pk=policy_id)
    )


def account_tier_history(*, account: Account) -> QuerySet[TierChange]:
    """Applied tier changes of ``account``, newest first, with who made them."""
    return (
        TierChange.objects.filter(account=account, status=ChangeStatus.APPLIED)
        .select_related("by")
        .order_by("-id")
    )


@dataclass
class AccountTierPanel:
    account: Account
    steps: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    policy_tier_code: str
    pending_downgrade_reviews: int
    active_override: TierOverride | None
    pending_override: TierOverride | None
    open_proposal: TierChange | None
    history: list[TierChange]
    economics: dict[str, Any]


def account_tier_panel(*, account: Account, history_limit: int = 10) -> AccountTierPanel:
    """Everything the account page shows about the tier: why (steps), flags, override, proposal,
    recent history and cost to serve. A fixed handful of queries."""
    state = AccountTierState.objects.filter(account=account).first()
    overrides = {
        o.status: o
        for o in TierOverride.objects.filter(
            account=account, status__in=[OverrideStatus.ACTIVE, OverrideStatus.PENDING]
        ).select_related("requested_by")
    }
    proposal = TierChange.objects.filter(account=account, status=ChangeStatus.PROPOSED).first()
    history = list(account_tier_history(account=account)[:history_limit])
    return AccountTierPanel(
        account=account,
        steps=state.steps if state else [],
        flags=state.flags if state else [],
        policy_tier_code=state.policy_tier_code if state else account.tier_code,
        pending_downgrade_reviews=state.pending_downgrade_reviews if state else 0,
        active_override=overrides.get(OverrideStatus.ACTIVE),
        pending_override=overrides.get(OverrideStatus.PENDING),
        open_proposal=proposal,
        history=history,
        economics=account_cost_to_serve(account_id=account.pk, today=timezone.localdate()),
    )


def override_reason_choices() -> list[tuple[str, str]]:
    return list(OverrideReason.choices)


def proposals_open_for(*, user: AnyUser) -> QuerySet[TierChange]:
    """Open tier proposals ``user`` may decide: their own accounts for a CSM, all for leadership."""
    return (
        TierChange.objects.filter(status=ChangeStatus.PROPOSED)
        .filter(authorization.cs_work_scope(user, via="account__"))
        .select_related("account", "account__csm")
        .order_by("-id")
    )


def overrides_awaiting_approval() -> QuerySet[TierOverride]:
    return (
        TierOverride.objects.filter(status=OverrideStatus.PENDING)
        .select_related("account", "requested_by")
        .order_by("created_at")
    )


def overrides_visible_to(*, user: AnyUser) -> QuerySet[TierOverride]:
    """Overrides on accounts ``user`` may see, newest first."""
    return (
        TierOverride.objects.filter(authorization.account_scope(user, via="account__"))
        .select_related("account", "requested_by", "decided_by")
        .order_by("-id")
    )


def review_get(review_id: int) -> TierReview:
    return TierReview.objects.select_related("policy", "requested_by").get(pk=review_id)


def review_open() -> TierReview | None:
    return TierReview.objects.filter(is_open=True).select_related("policy").first()


def reviews_recent(limit: int = 20) -> list[TierReview]:
    return list(TierReview.objects.select_related("policy", "requested_by").order_by("-id")[:limit])


def latest_review_summaries() -> dict[str, Any]:
    """The summary tables of the latest finished review: tiers, migrations, overrides, quadrants."""
    review = (
        TierReview.objects.filter(status=ReviewStatus.FINISHED)
        .select_related("policy")
        .order_by("-id")
        .prefetch_related("tier_summaries", "tier_moves", "override_summaries", "quadrant_summaries")
        .first()
    )
    if review is None:
        return {"review": None, "tiers": [], "migrations": [], "overrides": [], "quadrants": []}
    return {
        "review": review,
        "tiers": sorted(review.tier_summaries.all(), key=lambda s: (s.tier_rank is None, s.tier_rank or 0)),
        "migrations": list(review.tier_moves.all()),
        "overrides": list(review.override_summaries.all()),
        "quadrants": list(review.quadrant_summaries.all()),
    }


def simulation_moving_accounts(
    *, result: SimulationResult, page: int = 1, page_size: int = 50
) -> dict[str, Any]:
    """One page of the accounts a simulation would move: name, ACV, current tier, new policy tier."""
    page_size = max(1, min(page_size, 500))
    page = max(1, page)
    rows = result.moving_accounts[(page - 1) * page_size : page * page_size]
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=[r[0] for r in rows]).select_related("csm")}
    return {
        "page": page,
        "page_size": page_size,
        "total": result.moving,
        "has_next": page * page_size < result.moving,
        "rows": [
            {"account": accounts[i], "from_code": before, "to_code": after}
            for i, before, after in rows
            if i in accounts
        ],
    }
