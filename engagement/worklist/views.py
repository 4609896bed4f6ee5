"""The CSM worklist (the CSM's home): the page, its capacity cards, its rows, and the answer every
inline action on an account gives (a refreshed row, or events for the account page)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET
from django_htmx.http import trigger_client_event

from accounts.models import Account
from accounts.selectors_web import visible_account_or_404
from csplatform import authorization, roles
from csplatform.htmx import (
    HtmxHttpRequest,
    filters_status,
    querystring,
    render_fragment,
    render_page_or_fragment,
    sort_links,
    trigger_notice,
)
from csplatform.models import SavedView, User
from csplatform.views_saved import saved_views_context

from ..capacity.selectors import csm_capacity
from ..clock import local_today
from ..coverage.selectors import on_time_coverage_for_csm
from .forms import WORKLIST_SORTABLE_COLUMNS, WorklistFilterForm
from .selectors import (
    WORKLIST_PAGE_SIZE,
    worklist_accounts,
    worklist_entries,
    worklist_page_and_tiers,
    worklist_portfolio,
    worklist_rows,
)
from .services import PRIORITY

WORKLIST = "engagement/worklist.html"


def _worklist_csm(request: HtmxHttpRequest, filters: dict[str, object]) -> Any:
    """Whose worklist: a CSM's own; leadership may open any CSM's (``?csm=<id>``)."""
    if not authorization.may_keep_worklist(request.user):
        raise PermissionDenied("The worklist is for CSMs.")
    if authorization.may_lead(request.user) and filters.get("csm"):  # leadership opens any CSM's
        return get_object_or_404(User, pk=filters["csm"])
    # A CSM's own; a leader without a portfolio sees an empty worklist and the filter.
    return request.user


@require_GET
def worklist(request: HtmxHttpRequest) -> HttpResponse:
    """The CSM's home: their accounts in priority order, with why, capacity and coverage on top."""
    if not authorization.may_keep_worklist(request.user):
        raise PermissionDenied("The worklist is for CSMs.")
    today = local_today()
    form = WorklistFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    csm = _worklist_csm(request, filters)
    tier = filters.get("tier")
    renewal_within = filters.get("renewal_within")
    filter_args: dict[str, Any] = {
        "csm": csm,
        "tier_code": tier if tier != "none" else None,
        "no_tier": tier == "none",
        "flag_kind": filters.get("flag"),
        "search": filters.get("q"),
        "lifecycle": filters.get("lifecycle"),
        "renewal_within": int(renewal_within) if renewal_within else None,
        "health_band": filters.get("health"),
        "today": today,
    }
    order = filters.get("order") or PRIORITY
    page_number = form.page_number() if form.is_bound else 1
    size = WORKLIST_PAGE_SIZE
    start = (page_number - 1) * size
    # The database orders and pages, and counts the list with the page: only its rows are built.
    accounts, tiers = worklist_page_and_tiers(order=order, limit=size, offset=start, **filter_args)
    form.set_tier_choices(tiers)
    # Past the last page (no row to carry the total), the count alone.
    total = accounts[0].total if accounts else worklist_portfolio(**filter_args).count() if start else 0
    entries = worklist_entries(accounts, today=today)
    context = {
        "form": form,
        "filters": filters,
        "worklist_csm": csm,
        "rows": worklist_rows(entries, today=today),
        "total": total,
        "page": page_number,
        "pages": max(1, -(-total // size)),
        "has_next": total > start + size,
        "next_query": querystring(filters, page=page_number + 1) if total > start + size else None,
        "previous_query": querystring(filters, page=page_number - 1) if page_number > 1 else None,
        "order": order,
        "sort_links": sort_links(filters, WORKLIST_SORTABLE_COLUMNS, order),
        "today": today,
        **ACTIONS,
        **saved_views_context(request, SavedView.Page.WORKLIST, querystring(filters)),
    }
    return render_page_or_fragment(request, WORKLIST, "results", context, status=filters_status(form))


@require_GET
def worklist_capacity(request: HtmxHttpRequest) -> HttpResponse:
    """The capacity and on-time coverage cards at the top of the worklist (its own fragment)."""
    if not authorization.may_keep_worklist(request.user):
        raise PermissionDenied("The worklist is for CSMs.")
    form = WorklistFilterForm(request.GET or None)
    csm = _worklist_csm(request, form.filters() if form.is_bound else {})
    capacity = next(iter(csm_capacity(csm_ids=[csm.pk])), None)
    context = {
        "capacity": capacity,
        "utilisation_percent": round(100 * capacity.utilisation) if capacity and capacity.utilisation else 0,
        "coverage": on_time_coverage_for_csm(csm.pk),
    }
    return render_fragment(request, WORKLIST, "capacity", context, status=filters_status(form))


# The inline actions the worklist rows offer (each URL exists once its service does).
ACTIONS = {"touchpoint_urls": True, "task_urls": True, "proposal_urls": True, "override_urls": True}


def worklist_row_response(request: HtmxHttpRequest, account_id: int, *, notice: str | None) -> HttpResponse:
    """One refreshed worklist row (after an inline action), closing the dialog and saying what happened."""
    today = local_today()
    account = Account.objects.filter(pk=account_id).only("csm").first()
    csm = account.csm if account is not None and account.csm_id else None
    entry = None
    if csm is not None:
        accounts = worklist_accounts(csm=csm, account_id=account_id, today=today)
        entry = next(iter(worklist_entries(accounts, today=today)), None)
    if entry is None:  # an account without a CSM is on nobody's worklist
        response = HttpResponse(status=204)
    else:
        row = worklist_rows([entry], today=today)[0]
        response = render_fragment(
            request, WORKLIST, "row", {"row": row, "updated": True, "today": today, **ACTIONS}
        )
    if notice is None:
        return response
    return _account_changed_events(response, account_id, notice)


def _account_changed_events(response: HttpResponse, account_id: int, notice: str) -> HttpResponse:
    """Close the dialog, flash the notice; the account's sections on the page reload themselves."""
    trigger_client_event(response, "closeDialog")
    trigger_notice(response, notice)
    return trigger_client_event(response, "accountChanged", {"account": account_id})


def account_action_response(request: HtmxHttpRequest, account_id: int, notice: str) -> HttpResponse:
    """HTMX from the worklist: the refreshed row; from elsewhere: events only (the account page
    reloads its sections); a plain form post: back to the account page."""
    if request.htmx:
        if request.POST.get("from") == "worklist":
            return worklist_row_response(request, account_id, notice=notice)
        return _account_changed_events(HttpResponse(status=204), account_id, notice)
    from django.contrib import messages

    messages.success(request, notice)
    return redirect("accounts:detail", account_id=account_id)


@require_GET
def worklist_row(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """One worklist row, re-read after something changed on the account (``account-changed-<id>``)."""
    visible_account_or_404(request.user, account_id)
    return worklist_row_response(request, account_id, notice=None)


def register_pages() -> None:
    from csplatform.home import register_home

    register_home(roles.CSM, worklist)
