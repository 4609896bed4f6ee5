"""Roles are Django groups, created by a data migration. Who holds which role is read here; what a
role allows is decided in ``csplatform.authorization``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.postgres.aggregates import ArrayAgg

if TYPE_CHECKING:
    from .models import AnyUser

CSM = "CSM"
ACCOUNT_EXECUTIVE = "Account Executive"
CS_LEADERSHIP = "CS Leadership"
INTEGRATION = "Integration"

ALL_ROLES = (CSM, ACCOUNT_EXECUTIVE, CS_LEADERSHIP, INTEGRATION)


def role_names(user: AnyUser | None) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        # A per-request cache on the user object (not a model field).
        setattr(user, "_role_names", cached)  # noqa: B010
    return cached


def role_names_aggregate(groups_path: str = "groups") -> ArrayAgg:
    """An annotation of the user's role names (``<groups_path>__name``), for reading them with the
    user in one query; pass the result to ``remember_role_names``."""
    return ArrayAgg(f"{groups_path}__name", distinct=True)


def remember_role_names(user: AnyUser, names: Iterable[str | None]) -> None:
    """Keep role names read with the user (``role_names_aggregate``; a user without a group reads
    as ``[None]``) as ``role_names``' per-request cache."""
    setattr(user, "_role_names", frozenset(name for name in names if name))  # noqa: B010


def has_role(user: AnyUser, *roles: str) -> bool:
    return bool(role_names(user) & set(roles))


def is_csm(user: AnyUser) -> bool:
    return has_role(user, CSM)


def is_account_executive(user: AnyUser) -> bool:
    return has_role(user, ACCOUNT_EXECUTIVE)


def is_leader(user: AnyUser) -> bool:
    """CS Leadership, or a superuser operating the product."""
    return bool(getattr(user, "is_superuser", False)) or has_role(user, CS_LEADERSHIP)


def is_integration(user: AnyUser) -> bool:
    return has_role(user, INTEGRATION)


def primary_role(user: AnyUser) -> str | None:
    """The role whose home page the user lands on."""
    if is_leader(user):
        return CS_LEADERSHIP
    for role in (CSM, ACCOUNT_EXECUTIVE, INTEGRATION):
        if has_role(user, role):
            return role
    return None
