"""Global search from the header: accounts and contacts the person may see, by name, domain,
CRM id or email. Typing shows the first matches under the box; Enter opens the results page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from csplatform import authorization
from csplatform.htmx import HtmxHttpRequest

from .selectors_web import global_search

SUGGESTIONS = 6
RESULTS = 50


@require_GET
def search(request: HtmxHttpRequest) -> HttpResponse:
    if not authorization.may_browse_accounts(request.user):
        raise PermissionDenied("Your role has no accounts to search.")
    q = " ".join(request.GET.get("q", "").split())[:100]
    suggest = bool(request.htmx) and not request.htmx.history_restore_request
    results = global_search(request.user, q, limit=SUGGESTIONS if suggest else RESULTS)
    context = {"q": q, "results": results, "limit": SUGGESTIONS if suggest else RESULTS}
    if suggest:
        return render(request, "accounts/search.html#suggestions", context)
    return render(request, "accounts/search.html", context)
