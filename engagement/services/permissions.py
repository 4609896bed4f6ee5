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


def can_do_cs_work(user: Any, account: Account, *, assignee_id: int | None = None) -> bool:
    """CS work (completing or snoozing tasks, resolving flags) belongs to the account's CSM, the
    person a task is assigned to, or leadership; an AE sees that work but does not close it."""
    if roles.is_leader(user):
        return True
    if assignee_id is not None and assignee_id == user.pk:
        return True
    return roles.is_csm(user) and account.csm_id == user.pk


def require_cs_work(user: Any, account: Account, *, action: str, assignee_id: int | None = None) -> None:
    if not can_do_cs_work(user, account, assignee_id=assignee_id):
        raise PermissionDenied(f"Only the account's CSM, the assignee or CS Leadership may {action}.")
