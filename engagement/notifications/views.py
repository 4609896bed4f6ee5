"""The bell (an HTMX fragment polled by the header), the notification list and preferences."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from csplatform.authorization import has_any_role, signed_in
from csplatform.htmx import HtmxHttpRequest, add_service_errors, require_permission

from ..models import NotificationKind
from .digests import digest_items_for
from .forms import PreferencesForm
from .selectors import notifications_for, unread_count
from .services import (
    notification_mark_read,
    notification_preferences_update,
    notifications_mark_all_read,
    preference_for,
)

TEMPLATE = "notifications/list.html"
people_with_a_role = require_permission(has_any_role)


@require_GET
@people_with_a_role
def bell(request: HtmxHttpRequest) -> HttpResponse:
    response = render(request, "partials/bell.html", {"unread": unread_count(signed_in(request.user))})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@people_with_a_role
def notification_list(request: HtmxHttpRequest) -> HttpResponse:
    user = signed_in(request.user)
    unread_only = request.GET.get("show") == "unread"
    context = {
        "notifications": notifications_for(user, unread_only=unread_only),
        "unread_only": unread_only,
        "unread": unread_count(user),
    }
    return render(request, TEMPLATE, context)


def _changed(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        return trigger_client_event(response, "notificationsChanged", {})
    return redirect("notifications:list")


@require_POST
@people_with_a_role
def mark_read(request: HtmxHttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(user=signed_in(request.user), notification_id=notification_id)
    return _changed(request)


@require_POST
@people_with_a_role
def mark_all_read(request: HtmxHttpRequest) -> HttpResponse:
    notifications_mark_all_read(user=signed_in(request.user))
    return _changed(request)


@require_http_methods(["GET", "POST"])
@people_with_a_role
def preferences(request: HtmxHttpRequest) -> HttpResponse:
    user = signed_in(request.user)
    items = digest_items_for(user)
    current = preference_for(user)
    initial = {
        "digest_frequency": current.digest_frequency,
        "digest_hour": current.digest_hour,
        "digest_items": [i for i in items if i not in (current.digest_items_off or [])],
        "in_app": [k for k in NotificationKind.values if k not in (current.in_app_off or [])],
    }
    form = PreferencesForm(request.POST or None, initial=initial, items=items)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                notification_preferences_update(user=user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                response = redirect("notifications:preferences")
                return response
        status = 422
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "time_zone": user.time_zone},
        status=status,
    )
