"""Engagement pages: the CSM worklist (home), inline actions, AE handoffs, account sections."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.selectors_web import visible_accounts
from csplatform import roles
from csplatform.htmx import querystring, render_page_or_fragment

from . import selectors_web
from .forms import WorklistFilterForm


def _active_tier_choices() -> list[tuple[str, str]]:
    from segmentation.models import Tier

    return list(Tier.objects.filter(policy__status="active").order_by("rank").values_list("code", "name"))


def worklist(request: HttpRequest) -> HttpResponse:
    """The CSM's home: their accounts in priority order, with why, capacity and coverage on top."""
    if not (roles.is_csm(request.user) or roles.is_leader(request.user)):
        raise PermissionDenied("The worklist is for CSMs.")
    today = selectors_web.local_today()
    form = WorklistFilterForm(request.GET or None, tier_choices=_active_tier_choices())
    filters = form.filters() if form.is_bound else {}
    if roles.is_leader(request.user) and not filters.get("csm"):
        # Leadership opens a CSM's worklist from the capacity panel; the whole book is not a worklist.
        filters["csm"] = request.user.pk
    page_number = (form.cleaned_data.get("page") if form.is_bound and form.is_valid() else None) or 1
    size = selectors_web.WORKLIST_PAGE_SIZE
    start = (page_number - 1) * size
    accounts = list(
        selectors_web.worklist_queryset(request.user, filters, today=today).select_related("csm")[
            start : start + size + 1
        ]
    )
    has_next = len(accounts) > size
    rows = selectors_web.worklist_rows(accounts[:size], today=today)
    mine = visible_accounts(request.user).exclude(lifecycle_stage="churned")
    context = {
        "form": form,
        "filters": filters,
        "rows": rows,
        "page": page_number,
        "has_next": has_next,
        "next_query": querystring(filters, page=page_number + 1),
        "previous_query": querystring(filters, page=page_number - 1),
        "capacity": selectors_web.capacity_for(request.user, mine),
        "today": today,
    }
    return render_page_or_fragment(request, "engagement/worklist.html", "results", context)


def register_pages() -> None:
    from csplatform.home import register_home

    register_home(roles.CSM, worklist)
