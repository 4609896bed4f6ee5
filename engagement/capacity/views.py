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
from .selectors import team_capacity

PANELS = "engagement/panels.html"
PANEL_CSMS = 25


@require_GET
@leaders_only
def capacity_panel(request: HtmxHttpRequest) -> HttpResponse:
    team = team_capacity(today=local_today(), shown=PANEL_CSMS)
    rows = team.most_loaded
    accounts_url = reverse("accounts:list")
    chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [r.csm.display_name for r in rows],
        "xLabel": "% of weekly capacity",
        # A bar opens the CSM's accounts: the table's drill-down.
        "links": [f"{accounts_url}?csm={r.csm.pk}&lifecycle=active" for r in rows],
        "datasets": [
            {"label": "Utilisation %", "data": [round(100 * (r.utilisation or 0)) for r in rows]},
        ],
    }
    context = {
        "rows": rows,
        "chart": chart,
        "total": team.csms,
        "over": team.over_capacity,
    }
    return render_fragment(request, PANELS, "capacity", context)


def register_pages() -> None:
    register_overview_panel("capacity", "CSM capacity", "engagement:panel-capacity", order=60, wide=True)
