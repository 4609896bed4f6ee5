"""Reads of accounts shaped for pages and the API; every list is scoped to what the reader may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from csplatform import authorization

from .models import Account, RenewalOutcome

if TYPE_CHECKING:
    from csplatform.models import AnyUser


def accounts_visible_to(*, user: AnyUser) -> QuerySet[Account]:
    """Accounts ``user`` may see (``authorization.account_scope``), for pages and the API alike.

    Owners are joined so a page or an API list renders usernames without a query per row.
    """
    return Account.objects.select_related("csm", "ae").filter(authorization.account_scope(user))


def account_tier(account: Account) -> dict[str, str] | None:
    """The account's effective tier as the API and pages show it, or None before a review."""
    if not account.tier_code:
        return None
    return {
        "code": account.tier_code,
        "name": account.tier_name,
        "source": account.tier_source,
        "explanation": account.tier_explanation,
    }


def account_renewals(*, account: Account) -> QuerySet[RenewalOutcome]:
    """The account's renewal outcomes, newest renewal first, with who recorded them."""
    return (
        RenewalOutcome.objects.filter(account=account).select_related("recorded_by").order_by("-renewal_date")
    )
