"""Token authentication against hashed keys, the read-only token rule, and the role every API call needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from . import authorization, roles
from .models import ApiToken, User, hash_token_key

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class HashedTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        try:
            # The token's person with their roles, in one query (every API call checks a role).
            token = (
                ApiToken.objects.select_related("user")
                .annotate(role_name_list=roles.role_names_aggregate("user__groups"))
                .get(key_hash=hash_token_key(key), revoked_at__isnull=True)
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        roles.remember_role_names(token.user, token.role_name_list)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        now = timezone.now()
        # Touch last_used_at at most once a minute: a sync burst should not write per request.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token


class ReadOnlyTokenPermission(permissions.BasePermission):
    """A read-only token may only use safe methods."""

    message = "This API token is read-only."

    def has_permission(self, request: Request, view: APIView) -> bool:
        token = getattr(request, "auth", None)
        if isinstance(token, ApiToken) and token.read_only:
            return request.method in permissions.SAFE_METHODS
        return True


class RoleRequired(permissions.BasePermission):
    """Signed in is not enough: a person whose role was removed may not use the API at all, even
    to read lists that would come back empty (``authorization.has_any_role``)."""

    message = "Your user has no role in the product."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return authorization.has_any_role(request.user)
