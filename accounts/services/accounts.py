"""Single-account writes: create and update, with the field history and the change signal.

Bulk sync (``sync.py``) follows the same rules set-based; the helpers shared by both live here:
resolving owners, rendering history values and announcing changes inside the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from csplatform import authorization, bounds, roles
from csplatform.errors import ConcurrentChange
from csplatform.models import User

from ..models import TRACKED_FIELDS, Account, AccountFieldChange
from ..signals import accounts_changed

# Fields a person or an integration may write; the tier fields belong to segmentation.
EDITABLE_FIELDS = (
    "name",
    "domain",
    "vertical",
    "region",
    "acv",
    "lifecycle_stage",
    "contract_start",
    "renewal_date",
    "csm",
    "ae",
)
OWNER_FIELDS = ("csm", "ae")
# AccountFieldChange.source is 40 characters; "sync:" plus a long CRM name must still fit.
SOURCE_MAX_LENGTH = 40


class AccountConflict(ConcurrentChange):
    """The account was created or changed by someone else at the same moment."""

    public_message = "The account was changed by someone else at the same time; reload and retry."


def user_refs_resolve(refs: Iterable[str]) -> dict[str, User]:
    """Map usernames or emails (case-insensitive) to active users, in one query.

    A reference that matches no user, or an email shared by several users, is left out.
    """
    wanted = {ref for ref in refs if ref}
    if not wanted:
        return {}
    lowered = {ref.lower() for ref in wanted}
    users = (
        User.objects.annotate(email_lower=Lower("email"))
        .filter(Q(username__in=wanted) | Q(email_lower__in=lowered), is_active=True)
        .only("id", "username", "email")
    )
    by_username: dict[str, User] = {}
    by_email: dict[str, list[User]] = defaultdict(list)
    for user in users:
        by_username[user.username] = user
        if user.email:
            by_email[user.email.lower()].append(user)
    resolved: dict[str, User] = {}
    for ref in wanted:
        if ref in by_username:
            resolved[ref] = by_username[ref]
        elif len(by_email.get(ref.lower(), ())) == 1:
            resolved[ref] = by_email[ref.lower()][0]
    return resolved


def account_version(account: Account) -> str:
    """An opaque version of the account's stored state (its last change time), for optimistic edits."""
    return f"{account.updated_at.timestamp():.6f}" if account.updated_at else ""


def unknown_user_message(ref: str) -> str:
    return f'No active user with username or email "{ref}".'


_OWNER_RULES = {
    "csm": (authorization.may_own_as_csm, "CSM"),
    "ae": (authorization.may_own_as_ae, "Account Executive"),
}


def roles_prefetch(users: Iterable[User]) -> None:
    """Read the roles of ``users`` in one query (``roles.role_names`` then answers from memory)."""
    pending = {user.pk: user for user in users if not hasattr(user, "_role_names")}
    if not pending:
        return
    names: dict[int, set[str]] = defaultdict(set)
    memberships = User.groups.through.objects.filter(user_id__in=pending).values_list(
        "user_id", "group__name"
    )
    for user_id, group_name in memberships:
        names[user_id].add(group_name)
    for pk, user in pending.items():
        roles.remember_role_names(user, names[pk])


def owner_role_error(field: str, user: User | None) -> list[str]:
    """Why ``user`` may not become the account's ``csm``/``ae`` (empty when they may).

    The one check of owners' roles: account creation and edits (API, pages, admin) and the CRM
    sync all set owners through it. Roles are read with ``roles_prefetch`` for a batch.
    """
    if user is None:
        return []
    may_own, role = _OWNER_RULES[field]
    if may_own(user):
        return []
    return [f'"{user.username}" does not hold the {role} role, so cannot own accounts as {field.upper()}.']


def history_text(value: Any) -> str:
    """How a tracked value is written in AccountFieldChange (money with two places, usernames)."""
    if value is None:
        return ""
    if isinstance(value, User):
        return value.username
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def dates_error(contract_start: dt.date | None, renewal_date: dt.date | None) -> dict[str, list[str]]:
    """The database refuses a renewal before the contract start; say so field by field first."""
    if contract_start and renewal_date and renewal_date < contract_start:
        message = f"The renewal date must not be before the contract start ({contract_start})."
        return {"renewal_date": [message]}
    return {}


def source_label(source: str) -> str:
    return source[:SOURCE_MAX_LENGTH]


def notify_accounts_changed(
    *, created: Iterable[int] = (), changed: Mapping[int, set[str]] | None = None
) -> None:
    """Send ``accounts_changed`` now, in the caller's transaction: once for created accounts, once
    for changed ones. Receivers add their follow-up to the task outbox, so it commits (or rolls
    back) with the change itself.

    ``changed`` maps account ids to their changed tracked fields; the signal carries the union,
    so a batch of any size costs receivers one call (they look at the accounts themselves).
    """
    created_ids = sorted(created)
    changed_ids = sorted(changed or {})
    changed_fields: set[str] = set().union(*(changed or {}).values())
    if created_ids:
        accounts_changed.send(sender=Account, account_ids=created_ids, fields={"created"})
    if changed_ids:
        accounts_changed.send(sender=Account, account_ids=changed_ids, fields=changed_fields)


def _resolve_owners(data: dict[str, Any]) -> dict[str, Any]:
    """Replace usernames/emails in ``csm``/``ae`` by users; unknown ones are a field error."""
    refs = [data[f] for f in OWNER_FIELDS if isinstance(data.get(f), str) and data[f]]
    users = user_refs_resolve(refs)
    errors: dict[str, list[str]] = {}
    resolved = dict(data)
    for field in OWNER_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            if not value:
                resolved[field] = None
            elif value in users:
                resolved[field] = users[value]
            else:
                errors[field] = [unknown_user_message(value)]
    if errors:
        raise ValidationError(errors)
    return resolved


def owner_errors(*, account: Account | None, data: Mapping[str, Any]) -> None:
    """Owners named in ``data`` (users, usernames or emails) must exist and hold their role."""
    _check_owner_roles(account, _resolve_owners(dict(data)))


def _check_owner_roles(account: Account | None, resolved: Mapping[str, Any]) -> None:
    """New owners must hold the role that goes with the field; keeping the current one is no move."""
    errors: dict[str, list[str]] = {}
    for field in OWNER_FIELDS:
        if field not in resolved:
            continue
        user = resolved[field]
        if account is not None and getattr(user, "pk", None) == getattr(account, f"{field}_id"):
            continue
        problem = owner_role_error(field, user)
        if problem:
            errors[field] = problem
    if errors:
        raise ValidationError(errors)


def _check_fields(data: Mapping[str, Any]) -> None:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable account fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    checks = (
        ("acv", bounds.MONEY),
        ("contract_start", bounds.BUSINESS_DATE),
        ("renewal_date", bounds.BUSINESS_DATE),
    )
    for field, bound in checks:
        try:
            bound.check(data.get(field), field=field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def account_create(
    *,
    actor: User | None,
    source: str,
    external_id: str,
    name: str,
    crm_source: str = "manual",
    **fields: Any,
) -> Account:
    """Create one account. ``csm``/``ae`` may be users or usernames/emails."""
    _check_fields(fields)
    fields = _resolve_owners(fields)
    _check_owner_roles(None, fields)
    account = Account(crm_source=crm_source, external_id=external_id, name=name, **fields)
    errors = dates_error(account.contract_start, account.renewal_date)
    if errors:
        raise ValidationError(errors)
    if Account.objects.filter(crm_source=crm_source, external_id=external_id).exists():
        message = f'An account with external_id "{external_id}" already exists in "{crm_source}".'
        raise ValidationError({"external_id": [message]})
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError as exc:
        # Someone created the same CRM id between our check and our insert.
        raise AccountConflict(str(exc)) from exc
    notify_accounts_changed(created=[account.pk])
    return account


@transaction.atomic
def account_update(
    *,
    account: Account,
    actor: User | None,
    source: str,
    data: Mapping[str, Any],
    expected_version: str | None = None,
) -> Account:
    """Apply ``data`` to ``account``; record tracked changes; announce them in the same transaction.

    Only fields present in ``data`` are touched. The row is locked while it changes so two
    editors do not record a history that skips a value. With ``expected_version`` (from
    ``account_version`` of what the editor saw), a change made meanwhile is an AccountConflict.
    """
    _check_fields(data)
    resolved = _resolve_owners(dict(data))
    locked = (
        Account.objects.select_for_update(of=("self",), no_key=True)
        .select_related("csm", "ae")
        .get(pk=account.pk)
    )
    if expected_version is not None and expected_version != account_version(locked):
        raise AccountConflict("The account changed since it was read.")
    _check_owner_roles(locked, resolved)
    changes: dict[str, tuple[Any, Any]] = {}
    for field, new in resolved.items():
        old = getattr(locked, field)
        if old != new:
            changes[field] = (old, new)
            setattr(locked, field, new)
    errors = dates_error(locked.contract_start, locked.renewal_date)
    if errors:
        raise ValidationError(errors)
    if not changes:
        return locked
    locked.save(update_fields=[*changes, "updated_at"])
    tracked = [field for field in TRACKED_FIELDS if field in changes]
    AccountFieldChange.objects.bulk_create(
        AccountFieldChange(
            account=locked,
            field=field,
            old_value=history_text(changes[field][0])[:255],
            new_value=history_text(changes[field][1])[:255],
            changed_by=actor,
            source=source_label(source),
        )
        for field in tracked
    )
    if tracked:
        notify_accounts_changed(changed={locked.pk: set(tracked)})
    return locked


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
        if isinstance(ref, User):
            if ref.pk != owner.pk:
                return True
            continue
        if ref != owner.username and ref.lower() != (owner.email or "").lower():
            return True
    return False
