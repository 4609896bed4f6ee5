"""HTMX helpers shared by the page views of every app.

Views stay thin: they check role and object, call a service or a selector and render with these.
A fragment is a ``{% partialdef %}`` of the page template, so a page and its fragments never drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from . import authorization

if TYPE_CHECKING:
    from .models import AnyUser

View = TypeVar("View", bound=Callable[..., HttpResponse])

# The shared dialog of the base layout: a form loaded into it answers an error back into it.
DIALOG_BODY = "#app-dialog-body"


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (every request here does)."""

    htmx: HtmxDetails


def render_fragment(
    request: HtmxHttpRequest,
    template: str,
    partial: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    """Render one ``{% partialdef %}`` of a page template (``template.html#partial``).

    Opened as a normal link (no HTMX), the fragment comes inside the base layout, so every
    ``hx-get`` also works as an ``href``.
    """
    response = render(request, f"{template}#{partial}", context, status=status)
    if not request.htmx:
        response = render(
            request,
            "partials/standalone.html",
            {"content": response.content.decode(), "title": context.get("fragment_title", "")},
            status=status,
        )
    return response


def render_page_or_fragment(
    request: HtmxHttpRequest, template: str, partial: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """The whole page for a normal request, only ``partial`` for an HTMX one (same URL, same data)."""
    # A history restore (back button after hx-push-url) needs the whole page again.
    if request.htmx and not request.htmx.history_restore_request:
        response = render_fragment(request, template, partial, context)
        response.status_code = status
        return response
    return render(request, template, context, status=status)


def trigger_notice(response: HttpResponse, notice: str) -> HttpResponse:
    """Flash ``notice`` on the page: app.js shows the ``notice`` event's ``detail.value``."""
    return trigger_client_event(response, "notice", {"value": notice})


def conflict(message: str) -> HttpResponse:
    """409: the page acted on something that changed meanwhile. The message is shown as is."""
    return HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")


def filters_status(form: Any) -> int:
    """400 when a list's filter form (bound to the query string) holds a value that makes no sense
    (an id beyond 64 bits, a page number of a million, a stage that does not exist), else 200.

    The page still renders and says which filters were not understood; the status tells a script
    (or a link checker) that its question was not answered as asked.
    """
    return 400 if form.is_bound and not form.is_valid() else 200


def require_permission(*decisions: Callable[[AnyUser], bool]) -> Callable[[View], View]:
    """403 unless one of ``decisions`` (``authorization.may_lead``, ...) allows the signed-in person."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not any(decision(request.user) for decision in decisions):
                raise PermissionDenied("Your role cannot open this page.")
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


leaders_only = require_permission(authorization.may_lead)


def querystring(params: dict[str, Any], **changes: Any) -> str:
    """The current filters with some changed, for pagination and drill-down links."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "", [])}
    return urlencode(merged, doseq=True)


def sort_links(filters: dict[str, Any], columns: Iterable[str], order: str) -> dict[str, str]:
    """The query string behind each sortable column header of a list in ``order`` now: ascending
    first, descending when the list is in that column's ascending order (the filters are kept,
    the page goes back to the first)."""
    return {
        column: querystring(filters, order=f"-{column}" if order == column else column, page=None)
        for column in columns
    }


# --- Account page sections --------------------------------------------------------------------
# The account page belongs to the accounts app, which must not import the apps above it. Those
# apps register the sections they own (a fragment URL taking the account id) in their ready().


@dataclass(frozen=True)
class AccountSection:
    key: str
    title: str
    url_name: str
    order: int
    wide: bool = False


_account_sections: dict[str, AccountSection] = {}


def register_account_section(key: str, title: str, url_name: str, *, order: int, wide: bool = False) -> None:
    _account_sections[key] = AccountSection(key=key, title=title, url_name=url_name, order=order, wide=wide)


def account_sections() -> Iterable[AccountSection]:
    return sorted(_account_sections.values(), key=lambda s: s.order)


# --- Leadership overview panels ---------------------------------------------------------------
# Each panel is an HTMX fragment served by the app that owns its data; apps register them here.


@dataclass(frozen=True)
class OverviewPanel:
    key: str
    title: str
    url_name: str
    order: int
    wide: bool = False


_overview_panels: dict[str, OverviewPanel] = {}


def register_overview_panel(key: str, title: str, url_name: str, *, order: int, wide: bool = False) -> None:
    _overview_panels[key] = OverviewPanel(key=key, title=title, url_name=url_name, order=order, wide=wide)


def overview_panels() -> Iterable[OverviewPanel]:
    return sorted(_overview_panels.values(), key=lambda p: p.order)


def add_service_errors(form: Any, error: Any) -> None:
    """Put a service's ValidationError next to the matching form fields (others on top)."""
    if hasattr(error, "message_dict"):
        for name, messages in error.message_dict.items():
            target = name if name in form.fields else None
            for message in messages:
                form.add_error(
                    target, message if target else f"{name}: {message}" if name != "__all__" else message
                )
    else:
        for message in getattr(error, "messages", [str(error)]):
            form.add_error(None, message)


_URL_MARKER = 987654321


def url_pattern(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[id])`` for many ids at the cost of one reverse (lists of rows)."""
    from django.urls import reverse

    template = reverse(name, args=[_URL_MARKER])
    head, tail = template.split(str(_URL_MARKER), 1)
    return lambda pk: f"{head}{pk}{tail}"


# --- Tier choices for filters -----------------------------------------------------------------
# The accounts app lists accounts but does not know the tier policy; segmentation registers the
# active policy's tiers here so a filter never scans every account for its distinct tiers.

_tier_choices_provider: list[Callable[[], list[tuple[str, str]]]] = []


def register_tier_choices(provider: Callable[[], list[tuple[str, str]]]) -> None:
    _tier_choices_provider[:] = [provider]


def tier_choices() -> list[tuple[str, str]] | None:
    return _tier_choices_provider[0]() if _tier_choices_provider else None
