"""Core views: health, readiness and the role-dependent home page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated

from .health import broker_ok, database_ok
from .htmx import HtmxHttpRequest


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 otherwise."""
    checks = {"database": database_ok(), "broker": broker_ok()}
    status = 200 if all(checks.values()) else 503
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", "checks": checks}, status=status)


@login_not_required
@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and migrations are applied; the broker answers."""
    from django.db.migrations.executor import MigrationExecutor

    checks = {"database": database_ok(), "broker": broker_ok(), "migrations": False}
    if checks["database"]:
        try:
            executor = MigrationExecutor(connection)
            checks["migrations"] = not executor.migration_plan(executor.loader.graph.leaf_nodes())
        except Exception:  # any failure means "not ready"
            checks["migrations"] = False
    status = 200 if all(checks.values()) else 503
    return JsonResponse(
        {"status": "ready" if status == 200 else "not ready", "checks": checks}, status=status
    )


@never_cache
def home(request: HtmxHttpRequest) -> HttpResponse:
    """The signed-in person's home: each app registers the home of the roles it serves."""
    from .home import render_home

    return render_home(request)


@require_GET
def leadership_overview(request: HttpRequest) -> HttpResponse:
    """CS Leadership's home: a shell whose panels load as fragments from the apps owning the data."""
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import render

    from . import authorization
    from .htmx import overview_panels

    if not authorization.may_lead(request.user):
        raise PermissionDenied("The leadership overview is for CS Leadership.")
    return render(request, "overview.html", {"panels": overview_panels()})


@require_GET
def integration_home(request: HttpRequest) -> HttpResponse:
    """Home of an integration user: their API keys (never the key itself), the API, queued work."""
    from django.shortcuts import render

    from . import authorization
    from .models import ApiToken, PendingDispatch

    tokens = ApiToken.objects.filter(user=authorization.signed_in(request.user)).order_by("-created_at")[:50]
    context = {
        "tokens": tokens,
        "pending_dispatch": PendingDispatch.objects.count(),
    }
    return render(request, "integration_home.html", context)


class ApiDocsView(SpectacularSwaggerSplitView):
    """The interactive API docs, for signed-in people and token holders.

    Swagger UI (vendored by drf-spectacular-sidecar) runs under the strict CSP: its start-up script
    is served from this URL (``?script``) instead of inline, and its page style from a file.

    A browser visitor without a session is sent to the sign-in page and back, like every page;
    a client that sent credentials which did not authenticate gets the API's 401.
    """

    permission_classes = [IsAuthenticated]
    template_name = "api/swagger_ui.html"

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, NotAuthenticated) and "Authorization" not in self.request.headers:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
