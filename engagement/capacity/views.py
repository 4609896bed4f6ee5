"""Leadership's CSM capacity panel (a CSM sees their own on the worklist)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from csplatform.htmx import (
    HtmxHttpRequest,
    leaders_only,
    register_overview_panel,
    render_fragment,
)

from ..clock import local_today
from .selectors import csm_capacity

PANELS = "engagement/panels.html"
PANEL_CSMS = 25


@require_GET
@leaders_only
def capacity_panel(request: HtmxHttpRequest) -> HttpResponse:
    # Every CSM: accounts per tier come from the portfolio summary, not a GROUP BY of the book.
    everyone = csm_capacity(today=local_today(), from_summary=True)
    # A large team does not make the panel a page of its own: the most loaded CSMs, the counts of
    # the rest (thousands of bars and rows took seconds to render and could not be read).
    rows = sorted(everyone, key=lambda r: (-(r.utilisation or 0), r.csm.username))[:PANEL_CSMS]
    chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [r.csm.display_name for r in rows],
        "xLabel": "% of weekly capacity",
        # A bar opens the CSM's accounts: the table's drill-down.
        "links": [f"{reverse('accounts:list')}?csm={r.csm.pk}&lifecycle=active" for r in rows],
        "datasets": [
            {"label": "Utilisation %", "data": [round(100 * (r.utilisation or 0)) for r in rows]},
        ],
    }
    context = {
        "rows": rows,
        "chart": chart,
        "total": len(everyone),
        "over": sum(1 for r in everyone if r.overloaded),
    }
    return render_fragment(request, PANELS, "capacity", context)


def register_pages() -> None:
    register_overview_panel("capacity", "CSM capacity", "engagement:panel-capacity", order=60, wide=True)
