"""Small middleware: request ids, API body limit, Vary for HTMX, error pages, login required, DB outages."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.views import defaults
from django_htmx.http import HttpResponseClientRedirect

from .bounds import JSON_TOO_DEEP, MAX_JSON_DEPTH, json_depth
from .htmx import HtmxHttpRequest
from .logging import request_id_var

logger = logging.getLogger("csplatform.request")

Handler = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Tags each request with an id (from ``X-Request-ID`` or new), logs its server-side time."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = (
            incoming if incoming and len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        )
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        elapsed_ms = (time.perf_counter() - started) * 1000
        response["X-Request-ID"] = request_id
        response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        match = getattr(request, "resolver_match", None)
        logger.info(
            "request",
            extra={
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "view": match.view_name if match else None,
                "status": response.status_code,
                "duration_ms": round(elapsed_ms, 1),
            },
        )
        return response


class ApiBodySizeLimitMiddleware:
    """Answer 413 before reading a body whose declared length is over the limit."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                {"detail": f"Request body too large: {length} bytes; the limit is {limit} bytes."},
                status=413,
            )
        return self.get_response(request)


class JsonDepthLimitMiddleware:
    """Answer 400 to a JSON body nested deeper than ``MAX_JSON_DEPTH``, before the view runs."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        content_type = request.content_type or ""
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                body = request.body
            except RequestDataTooBig:
                return self.get_response(request)  # the view answers 413
            if body and json_depth(body) > MAX_JSON_DEPTH:
                return JsonResponse({"detail": f"JSON parse error - {JSON_TOO_DEEP}"}, status=400)
        return self.get_response(request)


class HtmxVaryMiddleware:
    """Pages render differently for HTMX requests: caches must key on the header (django-htmx's
    middleware only reads it)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


class ErrorPagesMiddleware:
    """A 404 is the product's own page, never Django's technical one that lists every URL pattern.

    With ``DEBUG`` (the embedded default), Django answers an ``Http404`` and an unmatched URL with
    its technical page; this answers them with ``404.html`` instead (``handler404`` does the same
    without ``DEBUG``). An HTMX request gets one plain sentence, which the page flashes. The API
    keeps its JSON (``csplatform.api_errors``).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # No resolver match: the URL matched no route (the exception never reached a view).
        if (
            response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and not getattr(response, "is_product_page", False)
        ):
            return not_found_response(request)  # type: ignore[arg-type]
        return response

    def process_exception(self, request: HtmxHttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return not_found_response(request)
        return None


def not_found_response(request: HtmxHttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": "Not found."}, status=404)
    elif getattr(request, "htmx", False):
        response = HttpResponse(
            "That no longer exists, or you cannot see it.",
            status=404,
            content_type="text/plain; charset=utf-8",
        )
    else:
        response = HttpResponse(render_to_string("404.html", request=request), status=404)
    response.is_product_page = True  # type: ignore[attr-defined]
    return response


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a signed-in user; the API answers 401 itself (tokens or sessions).

    An HTMX request whose session expired gets ``HX-Redirect`` to the login page (with ``next``
    set to the page the person was on) instead of a login form swapped into a fragment.
    """

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any) -> Any:
        # The API authenticates itself (token or session) and answers 401; docs need a login.
        if request.path_info.startswith(("/api/v1/", "/api/schema/")):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)

    def handle_no_permission(  # type: ignore[override]
        self, request: HtmxHttpRequest, view_func: Any
    ) -> HttpResponse:
        from urllib.parse import urlencode, urlparse

        from django.shortcuts import redirect
        from django.urls import reverse

        # An HTMX request comes from a page rendered for a signed-in person, and a page request with
        # a session cookie that signs nobody in: the session expired (or was signed out elsewhere).
        # The sign-in page then says why it asks, and app.js puts typed text back.
        expired = settings.SESSION_COOKIE_NAME in request.COOKIES
        if request.htmx:
            current = urlparse(request.htmx.current_url or "")
            next_path = current.path or "/"
            if current.query:
                next_path = f"{next_path}?{current.query}"
            query = {"next": next_path, "expired": "1"}
            return HttpResponseClientRedirect(f"{reverse('login')}?{urlencode(query)}", status=401)
        if expired:
            query = {"next": request.get_full_path(), "expired": "1"}
            return redirect(f"{reverse('login')}?{urlencode(query)}")
        return super().handle_no_permission(request, view_func)


def is_database_unavailable(exception: BaseException | None) -> bool:
    """True for the errors a lost or refused database connection raises (psycopg, via Django)."""
    return isinstance(exception, OperationalError | InterfaceError)


def database_unavailable_response(request: HtmxHttpRequest) -> HttpResponse:
    if request.path_info.startswith("/api/") or request.htmx:
        response: HttpResponse = JsonResponse(
            {"detail": "The database is unavailable; try again shortly."}, status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    """A database outage answers 503 (and recovers by itself: CONN_HEALTH_CHECKS reconnects).

    This catches what views raise. The session and user are loaded *before* the view (by the
    login-required check), where ``process_exception`` never sees the error: ``server_error``
    (the ``handler500``) answers 503 for those.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HtmxHttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_unavailable(exception):
            return None
        logger.warning("database unavailable: %s", exception)
        return database_unavailable_response(request)


def server_error(request: HtmxHttpRequest) -> HttpResponse:
    """``handler500``: a database outage anywhere in the request is a 503, anything else a 500."""
    exception = sys.exc_info()[1]
    if is_database_unavailable(exception):
        logger.warning("database unavailable: %s", exception)
        return database_unavailable_response(request)
    return defaults.server_error(request)
