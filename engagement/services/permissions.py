"""Who may act on an account's engagement records. Every service asks here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from accounts.models import Account
from csplatform import roles


def can_work_on(user: Any, account: Account) -> bool:
    """Leaders act on every account; a CSM or AE on the accounts they own."""
    if roles.is_leader(user):
        return True
    if roles.is_csm(user) and account.csm_id == user.pk:
        return True
    return roles.is_account_executive(user) and account.ae_id == user.pk


def require_work_on(user: Any, account: Account, *, action: str) -> None:
    if not can_work_on(user, account):
        raise PermissionDenied(f"You may only {action} on accounts you own.")
