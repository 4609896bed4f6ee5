"""Sign-in by username and password, and the signed-in person read once per request with their roles."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from . import roles
from .models import User


class RolesModelBackend(ModelBackend):
    """Django's model backend, whose ``get_user`` (run on every signed-in request) reads the
    person's role names in the same query: ``roles.role_names`` then answers from memory, where
    the first permission check of every page, fragment and action used to cost a query of its own.
    """

    def get_user(self, user_id: Any) -> User | None:
        user = (
            User._default_manager.annotate(role_name_list=roles.role_names_aggregate())
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        roles.remember_role_names(user, user.role_name_list)
        return user
