"""Saved views: a person names the filters of a list page and opens them again with one click."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import authorization
from .htmx import HtmxHttpRequest, trigger_notice
from .models import SavedView
from .services import saved_view_delete, saved_view_save

# Where each page's list lives (a saved view opens as ``<url>?<query>``).
PAGE_URLS: dict[str, str] = {
    SavedView.Page.WORKLIST.value: "engagement:worklist",
    SavedView.Page.ACCOUNTS.value: "accounts:list",
}


def saved_views_context(request: HtmxHttpRequest, page: str, query: str) -> dict[str, Any]:
    """What ``partials/saved_views.html`` needs: the person's views of ``page`` and the filters now."""
    views = list(
        SavedView.objects.filter(user_id=request.user.pk or 0, page=page).only("pk", "name", "query")
    )
    return {
        "saved_views": views,
        "saved_page": page,
        "saved_query": query,
        "saved_url": reverse(PAGE_URLS[page]),
    }


def _bar(
    request: HtmxHttpRequest, page: str, query: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {**saved_views_context(request, page, query), "saved_error": error}
    return render(request, "partials/saved_views.html", context, status=status)


def _may_save_any(request: HtmxHttpRequest) -> None:
    if not any(authorization.may_save_view(request.user, page) for page in SavedView.Page.values):
        raise PermissionDenied("Your role keeps no saved views.")


@require_POST
def saved_view_create(request: HtmxHttpRequest) -> HttpResponse:
    _may_save_any(request)
    page, query = request.POST.get("page", ""), request.POST.get("query", "")
    if page not in SavedView.Page.values:
        return HttpResponse(
            f"page: “{page}” is not a list with saved views.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    if not authorization.may_save_view(request.user, page):
        raise PermissionDenied("Your role has no such list.")
    try:
        view = saved_view_save(
            user=authorization.signed_in(request.user),
            page=page,
            name=request.POST.get("name", ""),
            query=query,
        )
    except ValidationError as error:
        message = " ".join(m for messages in error.message_dict.values() for m in messages)
        if not request.htmx:
            return redirect(f"{reverse(PAGE_URLS[page])}?{query}")
        return _bar(request, page, query, error=message, status=422)
    if not request.htmx:
        return redirect(f"{reverse(PAGE_URLS[page])}?{view.query}")
    return trigger_notice(_bar(request, page, query), f"View “{view.name}” saved.")


@require_POST
def saved_view_remove(request: HtmxHttpRequest, view_id: int) -> HttpResponse:
    _may_save_any(request)
    view = SavedView.objects.filter(user_id=request.user.pk or 0, pk=view_id).first()
    if view is None:  # someone else's view does not exist for this person
        raise Http404("No such saved view.")
    page = view.page
    saved_view_delete(user=authorization.signed_in(request.user), view_id=view_id)
    query = request.POST.get("query", "")
    if not request.htmx:
        return redirect(f"{reverse(PAGE_URLS[page])}?{query}")
    return trigger_notice(_bar(request, page, query), "View deleted.")
