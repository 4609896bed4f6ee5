"""Role-dependent home page.

Apps register a home view for a role in their ``AppConfig.ready()`` (the dependency points from
the app to the core, never back). The first registered role the user has wins, in the order of
``HOME_PRECEDENCE``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse

from . import roles
from .htmx import HtmxHttpRequest

HomeView = Callable[[HtmxHttpRequest], HttpResponse]

HOME_PRECEDENCE = (roles.CS_LEADERSHIP, roles.CSM, roles.ACCOUNT_EXECUTIVE, roles.INTEGRATION)
_homes: dict[str, HomeView] = {}
_fallback: list[HomeView] = []


def register_home(role: str, view: HomeView) -> None:
    _homes[role] = view


def register_fallback_home(view: HomeView) -> None:
    _fallback[:] = [view]


def render_home(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    for role in HOME_PRECEDENCE:
        if (role == roles.CS_LEADERSHIP and roles.is_leader(user)) or roles.has_role(user, role):
            view = _homes.get(role)
            if view is not None:
                return view(request)
    if _fallback:
        return _fallback[0](request)
    return HttpResponse("No home page is available for your role.", status=403)
