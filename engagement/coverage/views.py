"""Coverage on the pages: an account's entitlements against deliveries, and leadership's panel."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.selectors_web import visible_account_or_404
from csplatform.htmx import (
    HtmxHttpRequest,
    leaders_only,
    register_account_section,
    register_overview_panel,
    render_fragment,
)

from ..clock import local_today
from .selectors import coverage_for_account, coverage_share

SECTIONS = "engagement/account_sections.html"
PANELS = "engagement/panels.html"


@require_GET
def account_coverage(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    lines = coverage_for_account(account=account, today=local_today())
    return render_fragment(request, SECTIONS, "coverage", {"account": account, "lines": lines})


@require_GET
@leaders_only
def coverage_panel(request: HtmxHttpRequest) -> HttpResponse:
    today = local_today()
    by_tier = coverage_share(group_by="tier", today=today)
    by_csm = coverage_share(group_by="csm", today=today)
    return render_fragment(request, PANELS, "coverage", {"by_tier": by_tier, "by_csm": by_csm})


def register_pages() -> None:
    register_account_section("coverage", "Entitlements vs delivered", "engagement:account-coverage", order=20)
    register_overview_panel("coverage", "Coverage by tier and CSM", "engagement:panel-coverage", order=30)
