"""Webhook pages: endpoints, the delivery log with each attempt, and redelivery.

CS Leadership and integrations manage them (``authorization.may_manage_webhooks``); every rule is
the services', shared with the API.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from csplatform import authorization
from csplatform.errors import ConcurrentChange
from csplatform.htmx import HtmxHttpRequest, add_service_errors, conflict, require_permission, trigger_notice

from .forms import WebhookEndpointForm
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .selectors import delivery_attempts, endpoint_deliveries, webhook_endpoints
from .services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)

managers_only = require_permission(authorization.may_manage_webhooks)
DELIVERIES_PER_PAGE = 25


@require_http_methods(["GET", "POST"])
@managers_only
def webhook_list(request: HtmxHttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = webhook_endpoint_create(
                by=authorization.signed_in(request.user),
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                active=form.cleaned_data["active"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = WebhookEndpointForm()
    status = 400 if request.method == "POST" and created is None else 200
    context = {"endpoints": webhook_endpoints(), "form": form, "created": created}
    return render(request, "integrations/webhooks.html", context, status=status)


@require_http_methods(["GET", "POST"])
@managers_only
def webhook_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {k: getattr(endpoint, k) for k in ("url", "description", "events", "active")}
    form = WebhookEndpointForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                endpoint = webhook_endpoint_update(
                    by=authorization.signed_in(request.user), endpoint=endpoint, changes=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Endpoint saved.")
                return redirect("integrations:webhook-detail", pk=endpoint.pk)
        status = 400
    wanted = request.GET.get("status") or None
    if wanted not in DeliveryStatus.values:
        wanted = None
    page = Paginator(endpoint_deliveries(endpoint=endpoint, status=wanted), DELIVERIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    attempts = delivery_attempts(delivery_ids=[d.pk for d in page])
    rows = [(d, attempts[d.pk]) for d in page]
    context = {
        "endpoint": endpoint,
        "form": form,
        "page": page,
        "rows": rows,
        "status_filter": wanted,
        "statuses": DeliveryStatus.choices,
    }
    return render(request, "integrations/webhook_detail.html", context, status=status)


@require_POST
@managers_only
def webhook_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    webhook_endpoint_delete(by=authorization.signed_in(request.user), endpoint=endpoint)
    messages.success(request, f"Endpoint {endpoint.url} removed.")
    return redirect("integrations:webhook-list")


@require_POST
@managers_only
def webhook_redeliver(request: HtmxHttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("message"), pk=delivery_id, endpoint_id=pk
    )
    try:
        delivery = webhook_delivery_redeliver(by=authorization.signed_in(request.user), delivery=delivery)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    except ConcurrentChange as exc:
        return conflict(exc.public_message)
    if not request.htmx:
        messages.success(request, "Queued to be sent again.")
        return redirect("integrations:webhook-detail", pk=pk)
    delivery = WebhookDelivery.objects.select_related("message").get(pk=delivery.pk)
    context = {
        "endpoint": delivery.endpoint,
        "d": delivery,
        "attempts": delivery_attempts(delivery_ids=[delivery.pk])[delivery.pk],
    }
    response = render(request, "integrations/webhook_detail.html#delivery-row", context)
    return trigger_notice(response, "Queued to be sent again.")
