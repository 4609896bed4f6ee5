"""Core services: API tokens."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import ApiToken, User, hash_token_key


@transaction.atomic
def api_token_issue(*, user: User, read_only: bool = False) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the clear key (never stored)."""
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=user, key_hash=hash_token_key(key), prefix=key[:8], read_only=read_only
    )
    return token, key


def api_tokens_revoke(*, tokens: QuerySet[ApiToken]) -> int:
    """Revoke the given tokens (a queryset) at once; already revoked ones keep their date."""
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
