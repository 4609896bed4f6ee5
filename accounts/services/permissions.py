"""Who may read and write accounts. Pages and API views both ask here, so the rule lives once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from csplatform import roles

from ..models import Account


def _sees_everything(user: Any) -> bool:
    return roles.is_leader(user) or roles.is_integration(user)


def can_read_accounts(user: Any) -> bool:
    """Anyone with a role sees accounts (CSMs and AEs only their own: see selectors)."""
    return _sees_everything(user) or roles.has_role(user, roles.CSM, roles.ACCOUNT_EXECUTIVE)


def can_create_accounts(user: Any) -> bool:
    return _sees_everything(user)


def can_edit_account(user: Any, account: Account) -> bool:
    """Leadership and integrations edit any account; a CSM edits the accounts they own as CSM."""
    if _sees_everything(user):
        return True
    return roles.is_csm(user) and account.csm_id is not None and account.csm_id == user.pk


def can_reassign_owners(user: Any) -> bool:
    """Moving an account to another CSM or AE changes someone's portfolio: leadership decides."""
    return _sees_everything(user)


def can_sync(user: Any) -> bool:
    """Bulk CRM sync is for integration users (and superusers operating the product)."""
    return bool(getattr(user, "is_superuser", False)) or roles.is_integration(user)


def reassigns_owner(account: Account, changes: Mapping[str, Any]) -> bool:
    """Whether ``changes`` (usernames or emails for ``csm``/``ae``) move the account to someone else.

    Sending the current owner back (as a form or a full record does) is not a move.
    """
    for field in ("csm", "ae"):
        if field not in changes:
            continue
        owner = getattr(account, field)
        ref = changes[field] or None
        if owner is None and ref is None:
            continue
        if owner is None or ref is None:
            return True
        if ref != owner.username and ref.lower() != (owner.email or "").lower():
            return True
    return False
