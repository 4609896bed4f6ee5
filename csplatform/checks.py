"""Deployment checks of csplatform's own (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def shared_cache_check(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Production runs several web processes: a per-process cache lets each count its own share of
    the API rate limit and of failed sign-ins, so the limits do not hold."""
    if settings.DEBUG or settings.SHARED_CACHE:
        return []
    return [
        Warning(
            "No shared cache: API throttles and sign-in lockouts are counted per process.",
            hint="Set CACHE_URL to the Redis server (e.g. redis://redis:6379/1).",
            id="csplatform.W001",
        )
    ]
