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


@require_GET
@leaders_only
def capacity_panel(request: HtmxHttpRequest) -> HttpResponse:
    # Every CSM: accounts per tier come from the portfolio summary, not a GROUP BY of the book.
    rows = csm_capacity(today=local_today(), from_summary=True)
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
    return render_fragment(request, PANELS, "capacity", {"rows": rows, "chart": chart})


def register_pages() -> None:
    register_overview_panel("capacity", "CSM capacity", "engagement:panel-capacity", order=60, wide=True)
