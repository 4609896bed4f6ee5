"""Account pages: the portfolio list (and drill-down target) and the account page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from csplatform import authorization, roles
from csplatform.csv import csv_response
from csplatform.htmx import (
    HtmxHttpRequest,
    account_sections,
    filters_status,
    querystring,
    render_page_or_fragment,
    sort_links,
    tier_choices,
)
from csplatform.models import SavedView
from csplatform.views_saved import saved_views_context

from . import selectors_web
from .forms import AccountFilterForm
from .sorting import SORTABLE_COLUMNS


@require_GET
def account_list(request: HtmxHttpRequest) -> HttpResponse:
    """The accounts the person may see, filtered; leadership drill-downs land here."""
    if not authorization.may_browse_accounts(request.user):
        raise PermissionDenied("Your role has no account list.")
    choices = tier_choices()
    if choices is None:
        choices = selectors_web.tier_choices_for(request.user)
    form = AccountFilterForm(request.GET or None, tier_choices=choices)
    filters = form.filters() if form.is_bound else {}
    page_number = form.page_number() if form.is_bound else 1
    page = selectors_web.account_page(request.user, filters, page=page_number)
    order = filters.get("order") or "name"
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "filter_labels": _filter_labels(form, filters),
        "query": querystring(filters),
        "next_query": querystring(filters, page=page.page + 1) if page.has_next else None,
        "previous_query": querystring(filters, page=page.page - 1) if page.has_previous else None,
        # Each sortable column's link: ascending first, descending when it is the order now.
        "sort_links": sort_links(filters, SORTABLE_COLUMNS, order),
        "order": order,
        "is_own_portfolio": not authorization.sees_every_account(request.user),
        **saved_views_context(request, SavedView.Page.ACCOUNTS, querystring(filters)),
    }
    return render_page_or_fragment(
        request, "accounts/account_list.html", "results", context, status=filters_status(form)
    )


def _filter_labels(form: AccountFilterForm, filters: dict[str, object]) -> list[tuple[str, str]]:
    """(field label, value label) of each filter in force, in the words of the form."""
    labels = []
    for name, value in filters.items():
        if name in ("order", "csm", "ae"):
            continue
        field = form.fields[name]
        choices = dict(getattr(field.widget, "choices", None) or getattr(field, "choices", None) or [])
        labels.append((str(field.label or name), str(choices.get(value, choices.get(str(value), value)))))
    return labels


@require_GET
def account_export(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The account list with the same filters, as CSV (cells that could run as formulas are quoted)."""
    if not authorization.may_browse_accounts(request.user):
        raise PermissionDenied("Your role has no account list.")
    choices = tier_choices()
    if choices is None:
        choices = selectors_web.tier_choices_for(request.user)
    form = AccountFilterForm(request.GET or None, tier_choices=choices)
    if form.is_bound and not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
        )
        return HttpResponse(
            f"Some filters were not understood: {problems}", status=400, content_type="text/plain"
        )
    filters = form.filters() if form.is_bound else {}
    rows = selectors_web.account_export_rows(request.user, filters)
    return csv_response("accounts.csv", list(selectors_web.EXPORT_COLUMNS), rows)


@require_GET
def account_detail(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """One account: header, contacts, usage; sections owned by other apps load as fragments."""
    detail = selectors_web.account_detail(request.user, account_id)
    return render(
        request,
        "accounts/account_detail.html",
        {"detail": detail, "account": detail.account, "sections": account_sections()},
    )


def register_pages() -> None:
    """Until richer homes are registered by the apps above, CSMs and AEs land on their portfolio.
    The account page's own renewals section is registered like the sections of other apps."""
    from csplatform.home import register_home
    from csplatform.htmx import register_account_section

    register_home(roles.CSM, account_list)
    register_home(roles.ACCOUNT_EXECUTIVE, account_list)
    register_account_section("renewals", "Renewals", "accounts:renewals-section", order=55, wide=True)
