"""The feedback loop: active overrides grouped by reason and from/to tier, each group with the
candidate rule it suggests, so the policy learns from the exceptions people make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from ..models import OverrideReason, OverrideStatus, TierOverride

# The signal a reason points at, when there is one in the rule vocabulary.
REASON_SIGNALS = {
    OverrideReason.EXECUTIVE_SPONSOR: "has_executive_sponsor",
    OverrideReason.EXPANSION_POTENTIAL: "active_users_trend_90d",
    OverrideReason.AT_RISK: "support_tickets_30d",
    OverrideReason.STRATEGIC_LOGO: None,
    OverrideReason.LEGACY_RELATIONSHIP: "lifecycle_stage",
    OverrideReason.SALES_COMMITMENT: None,
    OverrideReason.OTHER: None,
}


@dataclass(frozen=True)
class FeedbackGroup:
    reason: str
    reason_label: str
    policy_tier_code: str
    tier_code: str
    accounts: int
    suggestion: str


def _suggestion(
    reason: str, policy_code: str, tier_code: str, policy_rank: int | None, tier_rank: int, count: int
) -> str:
    label = OverrideReason(reason).label
    accounts = f"{count} {policy_code or 'untiered'} account{'s' if count != 1 else ''}"
    head = f"{accounts} overridden to {tier_code} for {label}"
    signal = REASON_SIGNALS.get(OverrideReason(reason))
    upward = policy_rank is None or tier_rank < policy_rank
    if signal is None:
        return f"{head}: no signal measures this yet; review the notes and consider tracking it."
    effect = "a floor rule" if upward else "a cap rule"
    return f"{head}: consider {effect} on {signal}."


def override_feedback() -> list[FeedbackGroup]:
    """Groups of active overrides, largest first, with the suggested candidate rule."""
    rows = (
        TierOverride.objects.filter(status=OverrideStatus.ACTIVE)
        .values("reason", "policy_tier_code", "policy_tier_rank", "tier_code", "tier_rank")
        .annotate(accounts=Count("id"))
        .order_by("-accounts", "reason", "policy_tier_code", "tier_code")
    )
    return [
        FeedbackGroup(
            reason=row["reason"],
            reason_label=OverrideReason(row["reason"]).label,
            policy_tier_code=row["policy_tier_code"],
            tier_code=row["tier_code"],
            accounts=row["accounts"],
            suggestion=_suggestion(
                row["reason"],
                row["policy_tier_code"],
                row["tier_code"],
                row["policy_tier_rank"],
                row["tier_rank"],
                row["accounts"],
            ),
        )
        for row in rows
    ]


# How overridden accounts renewed is measured by the retention report, which needs data of the apps
# above this one (coverage, entitlements): that app registers its provider here in its ready().
_override_outcomes: list[Callable[[], dict[str, Any]]] = []


def register_override_outcomes(provider: Callable[[], dict[str, Any]]) -> None:
    """``provider()`` answers, per override reason, how its accounts renewed against their peers."""
    _override_outcomes[:] = [provider]


def override_outcomes() -> dict[str, Any]:
    """Per override reason, the renewal evidence (empty when no app measures retention)."""
    return _override_outcomes[0]() if _override_outcomes else {}
