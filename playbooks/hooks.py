"""What playbooks offers segmentation through the hooks segmentation declares (see ready())."""

from __future__ import annotations

from .selectors import tier_weekly_minutes


def weekly_hours_by_tier(counts: dict[str, int]) -> dict[str, float]:
    """CSM hours per week each tier needs for ``counts`` accounts per tier code, from the active
    policy's entitlements (Σ module minutes × 7 / cadence days, per account)."""
    per_account = tier_weekly_minutes()
    return {code: round(per_account.get(code, 0.0) * n / 60, 2) for code, n in counts.items()}
