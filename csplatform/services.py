"""Core services: API tokens, saved views."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from . import authorization
from .models import ApiToken, SavedView, User, hash_token_key


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


# Parameters a saved view never keeps: the page number (a view opens on its first page).
_NOT_SAVED = {"page", "csrfmiddlewaretoken"}


def saved_view_save(*, user: User, page: str, name: str, query: str) -> SavedView:
    """Save the list's current filters under ``name`` (a view of the same name is replaced)."""
    if page not in SavedView.Page.values:
        raise ValidationError({"page": [f"Unknown page “{page}”."]})
    if not authorization.may_save_view(user, page):
        raise PermissionDenied("Your role has no such list.")
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": ["Give the view a name."]})
    if len(name) > 60:
        raise ValidationError({"name": ["At most 60 characters."]})
    kept = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False) if k not in _NOT_SAVED]
    clean = urlencode(kept)
    if len(clean) > 500:
        raise ValidationError({"query": ["These filters are too long to save."]})
    view, _ = SavedView.objects.update_or_create(user=user, page=page, name=name, defaults={"query": clean})
    return view


def saved_view_delete(*, user: User, view_id: int) -> int:
    """Delete one of the person's own saved views (someone else's does not exist for them)."""
    deleted, _ = SavedView.objects.filter(user=user, pk=view_id).delete()
    return deleted
