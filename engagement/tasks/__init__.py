"""Celery tasks of the engagement app, one module per sub-domain; each is imported here."""

from .engagement import (
    champions_check,
    coverage_nightly,
    coverage_recompute_accounts,
    csm_portfolio_refresh,
    demo_data,
    flags_detect,
    flags_nightly,
    onboarding_playbooks,
    override_playbooks,
    renewal_playbooks_nightly,
    tier_change_handle,
    tier_changes_handle,
)
from .health import health_flags_raise
from .journeys import journeys_dispatch, journeys_stop_for_tier_change, journeys_tick

__all__ = [
    "champions_check",
    "coverage_nightly",
    "coverage_recompute_accounts",
    "csm_portfolio_refresh",
    "demo_data",
    "flags_detect",
    "flags_nightly",
    "health_flags_raise",
    "journeys_dispatch",
    "journeys_stop_for_tier_change",
    "journeys_tick",
    "onboarding_playbooks",
    "override_playbooks",
    "renewal_playbooks_nightly",
    "tier_change_handle",
    "tier_changes_handle",
]
