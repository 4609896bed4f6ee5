from typing import Any

from django.http import HttpRequest

from . import roles as role_checks


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "is_leader": role_checks.is_leader(user),
        "is_csm": role_checks.is_csm(user),
        "is_ae": role_checks.is_account_executive(user),
    }
