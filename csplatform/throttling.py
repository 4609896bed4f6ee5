"""API throttles whose rates are read from settings on each request.

DRF's stock throttles copy ``DEFAULT_THROTTLE_RATES`` into a class attribute at import time, so a
changed setting (an operator's environment in a reloaded worker, a test's override) is ignored.
These read the live API settings instead.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework import throttling
from rest_framework.settings import api_settings


def _live_rate(scope: str | None) -> str | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope) if scope else None
    return str(rate) if rate else None


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_rate(self) -> str | None:
        return _live_rate(self.scope)


class UserRateThrottle(throttling.UserRateThrottle):
    def get_rate(self) -> str | None:
        return _live_rate(self.scope)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting exactly ``NUM_PROXIES`` reverse proxies in front of us.

    Each proxy appends the address it saw to ``X-Forwarded-For``, so the client is the entry
    ``NUM_PROXIES`` from the right; anything further left was written by the client itself and
    proves nothing. The same rule as DRF's throttles, used for django-axes lockouts.
    """
    remote_addr = request.META.get("REMOTE_ADDR")
    num_proxies = settings.NUM_PROXIES
    forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
    if not num_proxies or not forwarded_for:
        return remote_addr
    addresses = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if not addresses:
        return remote_addr
    return addresses[-min(num_proxies, len(addresses))]
