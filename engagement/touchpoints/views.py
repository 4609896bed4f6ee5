"""Logging a touchpoint (a dialog from the worklist or the account page) and the account timeline."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import reswap, retarget

from accounts.selectors_web import visible_account_or_404
from csplatform.authorization import signed_in
from csplatform.htmx import (
    DIALOG_BODY,
    HtmxHttpRequest,
    add_service_errors,
    register_account_section,
    render_fragment,
)

from ..worklist.views import account_action_response
from . import selectors
from .forms import TouchpointForm
from .services import touchpoint_log

SECTIONS = "engagement/account_sections.html"


@require_http_methods(["GET", "POST"])
def touchpoint_new(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """Log a touchpoint: a dialog form (GET), saved by the touchpoint service (POST)."""
    account = visible_account_or_404(request.user, account_id)
    if request.method == "POST":
        form = TouchpointForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                touchpoint_log(
                    by=signed_in(request.user),
                    account=account,
                    kind=data["kind"],
                    occurred_at=data["occurred_at"],
                    minutes=data["minutes"],
                    module_code=data["module"] or None,
                    notes=data["notes"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return account_action_response(request, account.pk, f"Touchpoint logged on {account.name}.")
        context = {"form": form, "account": account, "origin": request.POST.get("from", "")}
        response = render(request, "engagement/touchpoint_form.html", context, status=422)
        return reswap(retarget(response, DIALOG_BODY), "innerHTML") if request.htmx else response
    form = TouchpointForm(initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)})
    context = {"form": form, "account": account, "origin": request.GET.get("from", "")}
    return render(request, "engagement/touchpoint_form.html", context)


@require_GET
def account_timeline(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    items = selectors.account_timeline(account.pk)
    return render_fragment(request, SECTIONS, "timeline", {"account": account, "items": items})


def register_pages() -> None:
    register_account_section("timeline", "Timeline", "engagement:account-timeline", order=50, wide=True)
