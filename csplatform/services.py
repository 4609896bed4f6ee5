"""Core services: API tokens."""

from __future__ import annotations

from django.db import transaction

from .models import ApiToken, User, hash_token_key


@transaction.atomic
def api_token_issue(*, user: User, read_only: bool = False) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the clear key (never stored)."""
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user, key_hash=hash_token_key(key), prefix=key[:8], read_only=read_only
    )
    return token, key
