"""The health section of the account page: the latest score and band, why, and its trend."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from accounts.selectors_web import visible_account_or_404
from csplatform.htmx import HtmxHttpRequest, render_fragment

from ..selectors_health import account_health_panel


@require_GET
def health_section(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    panel = account_health_panel(account=account)
    return render_fragment(
        request, "segmentation/health_section.html", "section", {"account": account, "health": panel}
    )
