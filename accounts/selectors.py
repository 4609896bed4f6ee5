"""Reads of accounts shaped for pages and the API; every list is scoped to what the reader may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from csplatform import roles

from .models import Account


def accounts_visible_to(*, user: Any) -> QuerySet[Account]:
    """Accounts ``user`` may see: all for leadership and integrations, own ones for CSMs and AEs.

    Owners are joined so a page or an API list renders usernames without a query per row.
    """
    accounts = Account.objects.select_related("csm", "ae")
    if roles.is_leader(user) or roles.is_integration(user):
        return accounts
    scope = Q()
    if roles.is_csm(user):
        scope |= Q(csm=user)
    if roles.is_account_executive(user):
        scope |= Q(ae=user)
    if not scope:
        return accounts.none()
    return accounts.filter(scope)


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
