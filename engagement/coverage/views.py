"""Coverage on the pages: an account's entitlements against deliveries, and leadership's panel."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.drilldown import DRILLDOWN_PAGE_SIZE, drilldown_offset, drilldown_page_number, render_drilldown
from accounts.selectors_web import visible_account_or_404
from csplatform.htmx import (
    HtmxHttpRequest,
    leaders_only,
    register_account_section,
    register_overview_panel,
    render_fragment,
)
from segmentation.models import PolicyStatus, Tier

from ..clock import local_today
from .selectors import (
    CoverageShare,
    coverage_for_account,
    coverage_panel_shares,
    overdue_account_ids,
)

SECTIONS = "engagement/account_sections.html"
PANELS = "engagement/panels.html"
PANEL_CSMS = 25


@require_GET
def account_coverage(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    lines = coverage_for_account(account=account, today=local_today())
    return render_fragment(request, SECTIONS, "coverage", {"account": account, "lines": lines})


@require_GET
@leaders_only
def coverage_panel(request: HtmxHttpRequest) -> HttpResponse:
    # The summary kept by every coverage rewrite: a few rows per tier and CSM, not the book; of a
    # team of thousands, the CSMs with the most accounts overdue.
    coverage = coverage_panel_shares(today=local_today(), csms_shown=PANEL_CSMS)
    shares = {row.key: row for row in coverage.by_tier}
    # Every tier of the active policy has a row: a digital tier has no recurring human
    # entitlement to be late on, and says so (its service is the journeys).
    tiers = list(Tier.objects.filter(policy__status=PolicyStatus.ACTIVE).order_by("rank"))
    by_tier: list[tuple[Tier | None, CoverageShare | None]] = [
        (tier, shares.pop(tier.code, None)) for tier in tiers
    ]
    by_tier += [(None, share) for share in shares.values()]  # accounts on a retired tier code
    by_csm = [(coverage.names.get(r.key, r.key), r) for r in coverage.by_csm]
    context = {
        "by_tier": by_tier,
        "by_csm": by_csm,
        "csms": coverage.csms,
        "csms_overdue": coverage.csms_overdue,
    }
    return render_fragment(request, PANELS, "coverage", context)


@require_GET
@leaders_only
def overdue_accounts(request: HtmxHttpRequest) -> HttpResponse:
    """The accounts behind an "overdue" number of the coverage panel (by tier or by CSM)."""
    tier_code = request.GET.get("tier")
    csm_username = request.GET.get("csm")
    page = drilldown_page_number(request)
    ids, total = overdue_account_ids(
        tier_code=tier_code,
        csm_username=csm_username,
        today=local_today(),
        limit=DRILLDOWN_PAGE_SIZE,
        offset=drilldown_offset(page),
    )
    scope = (
        f"tier {tier_code}"
        if tier_code is not None
        else f"CSM {csm_username}"
        if csm_username
        else "all tiers"
    )
    return render_drilldown(
        request,
        f"Accounts with an overdue entitlement ({scope})",
        ids=ids,
        total=total,
        page=page,
        note="An entitlement is overdue when its next delivery was due before today.",
    )


def register_pages() -> None:
    register_account_section(
        "coverage", "Entitlements vs delivered", "engagement:account-coverage", order=20, wide=True
    )
    register_overview_panel("coverage", "Coverage by tier and CSM", "engagement:panel-coverage", order=30)
