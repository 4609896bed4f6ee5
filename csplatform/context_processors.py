from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from . import authorization
from . import roles as role_checks


def roles(request: HttpRequest) -> dict[str, Any]:
    """The role names pick the navigation's labels; what a link may open is ``authorization``'s."""
    # A request that failed before the authentication middleware ran (a 400 page) carries no user.
    user = getattr(request, "user", None) or AnonymousUser()
    return {
        "is_leader": authorization.may_lead(user),
        "is_csm": role_checks.is_csm(user),
        "is_ae": role_checks.is_account_executive(user),
        "may_browse_accounts": authorization.may_browse_accounts(user),
        "may_manage_webhooks": authorization.may_manage_webhooks(user),
    }
