"""Segmentation pages: the account's tier section, overrides and proposals, policies and
simulation, reviews, and the leadership overview panels this app owns."""

from .accounts import override_decide, override_new, proposal_accept, proposal_dispute, tier_section
from .health import health_section
from .overview import distribution_panel, economics_panel, migrations_panel, overrides_panel
from .policies import (
    policy_activate,
    policy_detail,
    policy_list,
    policy_new_draft,
    policy_simulate,
    policy_validate,
)
from .reviews import review_detail, review_list, review_progress, review_start

__all__ = [
    "distribution_panel",
    "economics_panel",
    "health_section",
    "migrations_panel",
    "override_decide",
    "override_new",
    "overrides_panel",
    "policy_activate",
    "policy_detail",
    "policy_list",
    "policy_new_draft",
    "policy_simulate",
    "policy_validate",
    "proposal_accept",
    "proposal_dispute",
    "review_detail",
    "review_list",
    "review_progress",
    "review_start",
    "tier_section",
]


def register_pages() -> None:
    """The account page's tier section and the leadership panels this app owns."""
    from csplatform.htmx import register_account_section, register_overview_panel, register_tier_choices

    from ..models import PolicyStatus, Tier

    register_tier_choices(
        lambda: list(
            Tier.objects.filter(policy__status=PolicyStatus.ACTIVE)
            .order_by("rank")
            .values_list("code", "name")
        )
    )
    register_account_section("tier", "Tier and why", "segmentation:tier-section", order=10)
    register_account_section("health", "Health and trend", "segmentation:health-section", order=15)
    register_overview_panel("distribution", "Tier distribution", "segmentation:panel-distribution", order=10)
    register_overview_panel(
        "migrations", "Migrations between reviews", "segmentation:panel-migrations", order=20
    )
    register_overview_panel(
        "overrides", "Overrides and feedback", "segmentation:panel-overrides", order=40, wide=True
    )
    # Wide: its scatter needs the room to be read (thousands of accounts, two thresholds).
    register_overview_panel(
        "economics", "Revenue × cost to serve", "segmentation:panel-economics", order=70, wide=True
    )
