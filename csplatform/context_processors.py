from typing import Any

from django.http import HttpRequest

from . import authorization
from . import roles as role_checks


def roles(request: HttpRequest) -> dict[str, Any]:
    """The role names pick the navigation's labels; what a link may open is ``authorization``'s."""
    user = getattr(request, "user", None)
    return {
        "is_leader": authorization.may_lead(user),
        "is_csm": role_checks.is_csm(user),
        "is_ae": role_checks.is_account_executive(user),
        "may_browse_accounts": authorization.may_browse_accounts(user),
    }
