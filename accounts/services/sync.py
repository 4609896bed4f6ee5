"""Bulk CRM sync: upsert accounts, contacts and usage snapshots set-based, in one transaction.

Each function takes records that passed field validation, as ``(index in the request, data)``,
and applies them with a fixed number of queries whatever the batch size: owners resolved in one
query, existing rows read (and locked) in one, new and changed rows written with one
``INSERT ... ON CONFLICT DO UPDATE``, history in one insert. Records that break a rule which
needs the database (unknown owner, unknown account, a duplicate key later in the request) fail
on their own and change nothing; the result lists them by index.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import models, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from csplatform.models import User

from .. import queries
from ..models import TRACKED_FIELDS, Account, Contact, UsageSnapshot
from ..signals import contacts_changed, usage_received
from .accounts import (
    EDITABLE_FIELDS,
    OWNER_FIELDS,
    dates_error,
    history_text,
    notify_accounts_changed,
    owner_role_error,
    roles_prefetch,
    source_label,
    unknown_user_message,
    user_refs_resolve,
)

MAX_SYNC_RECORDS = 1000

Record = tuple[int, Mapping[str, Any]]

CONTACT_FIELDS = ("name", "role", "is_champion", "is_executive", "time_zone")
# Model attribute names of the editable fields: owners are written by id, not by object.
_ACCOUNT_ATTNAMES = tuple(f"{name}_id" if name in OWNER_FIELDS else name for name in EDITABLE_FIELDS)
# What each row of the upsert holds, in order.
_UPSERT_COLUMNS = ("external_id", *_ACCOUNT_ATTNAMES)


def _plain(value: Any) -> Any:
    # A choices default is an enum member; the database wants the value it stands for.
    return value.value if isinstance(value, enum.Enum) else value


def _default(attname: str) -> Any:
    field = cast(models.Field, Account._meta.get_field(attname))  # type: ignore[type-arg]
    return _plain(field.to_python(field.get_default()))


# What a new account holds in a field the record leaves out: the model's defaults.
_NEW_ACCOUNT_DEFAULTS = {attname: _default(attname) for attname in _ACCOUNT_ATTNAMES}
METRIC_FIELDS = ("active_users", "licensed_seats", "support_tickets", "feature_adoption")


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, index: int, external_id: Any, errors: Mapping[str, Any]) -> None:
        self.errors.append({"index": index, "external_id": external_id, "errors": dict(errors)})

    @property
    def failed(self) -> int:
        return len(self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "errors": sorted(self.errors, key=lambda error: error["index"]),
        }


def _first_of_each(records: Sequence[Record], key: Any, result: SyncResult, what: str) -> list[Record]:
    """Keep the first record per key; later ones with the same key fail."""
    seen: dict[Any, int] = {}
    unique: list[Record] = []
    for index, data in records:
        k = key(data)
        if k in seen:
            result.fail(
                index,
                data.get("external_id"),
                {what: [f"Duplicate of record {seen[k]} in this request; only the first one is applied."]},
            )
            continue
        seen[k] = index
        unique.append((index, data))
    return unique


def _accounts_by_external_id(crm_source: str, external_ids: set[str]) -> dict[str, int]:
    return dict(
        Account.objects.filter(crm_source=crm_source, external_id__in=external_ids).values_list(
            "external_id", "id"
        )
    )


def _unknown_account(crm_source: str, external_id: str) -> dict[str, list[str]]:
    return {"external_id": [f'No account with external_id "{external_id}" in "{crm_source}".']}


@transaction.atomic
def accounts_sync(*, crm_source: str, records: Sequence[Record], actor: User | None) -> SyncResult:
    """Upsert accounts by (``crm_source``, ``external_id``); fields left out keep their values."""
    result = SyncResult()
    source = source_label(f"sync:{crm_source}")
    unique = _first_of_each(records, lambda data: data["external_id"], result, "external_id")

    users = user_refs_resolve(
        data[f] for _, data in unique for f in OWNER_FIELDS if isinstance(data.get(f), str)
    )
    # Plain dicts, not models: a thousand model instances cost more than the query. Locked in id
    # order, the order of every other writer that locks several accounts (a review chunk, a
    # renewal sync): two of them never wait on each other crosswise. ``no_key``: a transaction
    # that merely references one of these accounts (a foreign-key check) does not wait for it.
    existing: dict[str, dict[str, Any]] = {
        row["external_id"]: row
        for row in Account.objects.select_for_update(of=("self",), no_key=True)
        .filter(crm_source=crm_source, external_id__in=[data["external_id"] for _, data in unique])
        .order_by("id")
        .values(
            "id",
            "external_id",
            *_ACCOUNT_ATTNAMES,
            csm_username=F("csm__username"),
            ae_username=F("ae__username"),
        )
    }

    roles_prefetch(users.values())
    username_by_id = {user.pk: user.username for user in users.values()}
    # Rows of every writable column (``_UPSERT_COLUMNS`` order), not model instances: building and
    # binding a thousand instances cost more than the statement that writes them.
    to_write: list[tuple[Any, ...]] = []
    created_ids: list[str] = []
    history: list[tuple[str, str, Any, Any]] = []  # (external_id, field, old, new)
    changed_fields: dict[int, set[str]] = {}
    for index, data in unique:
        external_id = data["external_id"]
        current = existing.get(external_id)
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, value in data.items():
            if name == "external_id":
                continue
            if name in OWNER_FIELDS:
                if value in (None, ""):
                    values[f"{name}_id"] = None
                elif value in users:
                    owner = users[value]
                    values[f"{name}_id"] = owner.pk
                    current_owner = None if current is None else current[f"{name}_id"]
                    problem = [] if owner.pk == current_owner else owner_role_error(name, owner)
                    if problem:
                        errors[name] = problem
                else:
                    errors[name] = [unknown_user_message(value)]
            else:
                values[name] = value
        if current is None and not data.get("name"):
            errors["name"] = ["This field is required."]
        if errors:
            result.fail(index, external_id, errors)
            continue

        if current is None:
            merged = dict(_NEW_ACCOUNT_DEFAULTS)
            merged.update(values)
            date_errors = dates_error(merged["contract_start"], merged["renewal_date"])
            if date_errors:
                result.fail(index, external_id, date_errors)
                continue
            to_write.append((external_id, *(merged[attname] for attname in _ACCOUNT_ATTNAMES)))
            created_ids.append(external_id)
            continue

        changes = {name: (current[name], value) for name, value in values.items() if current[name] != value}
        if not changes:
            result.unchanged += 1
            continue
        merged = {attname: current[attname] for attname in _ACCOUNT_ATTNAMES}
        merged.update({name: new for name, (_, new) in changes.items()})
        date_errors = dates_error(merged["contract_start"], merged["renewal_date"])
        if date_errors:
            result.fail(index, external_id, date_errors)
            continue
        to_write.append((external_id, *(merged[attname] for attname in _ACCOUNT_ATTNAMES)))
        result.updated += 1
        tracked = []
        for attname, (old, new) in changes.items():
            field_name = attname.removesuffix("_id")
            if field_name not in TRACKED_FIELDS:
                continue
            tracked.append(field_name)
            if field_name in OWNER_FIELDS:
                old = current[f"{field_name}_username"]
                new = username_by_id.get(new)
            history.append((external_id, field_name, old, new))
        if tracked:
            changed_fields[current["id"]] = set(tracked)

    now = timezone.now()
    # One key order for every writer: two syncs inserting the same new ids cannot deadlock.
    to_write.sort(key=lambda row: row[0])
    ids = {external_id: row["id"] for external_id, row in existing.items()}
    ids.update(
        queries.accounts_upsert(crm_source=crm_source, columns=_UPSERT_COLUMNS, rows=to_write, now=now)
    )
    if history:
        queries.field_changes_insert(
            changes=[
                (ids[external_id], field_name, history_text(old)[:255], history_text(new)[:255])
                for external_id, field_name, old, new in history
            ],
            changed_by_id=actor.pk if actor is not None else None,
            source=source,
            now=now,
        )
    result.created = len(created_ids)
    notify_accounts_changed(created=[ids[external_id] for external_id in created_ids], changed=changed_fields)
    return result


@transaction.atomic
def contacts_sync(*, crm_source: str, records: Sequence[Record], actor: User | None) -> SyncResult:
    """Upsert contacts by (account, email). An opt-out or unsubscribe is never cleared by a sync."""
    result = SyncResult()
    unique = _first_of_each(
        records, lambda data: (data["external_id"], data["email"].lower()), result, "email"
    )
    account_ids = _accounts_by_external_id(crm_source, {data["external_id"] for _, data in unique})
    emails = {data["email"].lower() for _, data in unique}
    existing = {
        (contact.account_id, contact.email.lower()): contact
        for contact in Contact.objects.select_for_update()
        .annotate(email_lower=Lower("email"))
        .filter(account_id__in=set(account_ids.values()), email_lower__in=emails)
        .order_by("id")
    }

    to_write: list[Contact] = []
    touched_accounts: set[int] = set()
    for index, data in unique:
        external_id = data["external_id"]
        account_id = account_ids.get(external_id)
        if account_id is None:
            result.fail(index, external_id, _unknown_account(crm_source, external_id))
            continue
        values = {name: data[name] for name in CONTACT_FIELDS if name in data}
        opting_out = bool(data.get("email_opt_out"))
        current = existing.get((account_id, data["email"].lower()))
        if current is None:
            to_write.append(
                Contact(account_id=account_id, email=data["email"], email_opt_out=opting_out, **values)
            )
            result.created += 1
            touched_accounts.add(account_id)
            continue
        changed = {name: value for name, value in values.items() if getattr(current, name) != value}
        if opting_out and not current.email_opt_out:
            changed["email_opt_out"] = True
        if not changed:
            result.unchanged += 1
            continue
        merged = {name: getattr(current, name) for name in (*CONTACT_FIELDS, "email_opt_out")}
        merged.update(changed)
        # The stored spelling of the email is the conflict key.
        to_write.append(Contact(account_id=account_id, email=current.email, **merged))
        result.updated += 1
        touched_accounts.add(account_id)

    if to_write:
        to_write.sort(key=lambda contact: (contact.account_id, contact.email))
        Contact.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["account", "email"],
            update_fields=[*CONTACT_FIELDS, "email_opt_out", "updated_at"],
        )
    if touched_accounts:
        contacts_changed.send(sender=Contact, account_ids=sorted(touched_accounts))
    return result


@transaction.atomic
def metrics_sync(*, crm_source: str, records: Sequence[Record], actor: User | None) -> SyncResult:
    """Upsert usage snapshots by (account, ``period_start``)."""
    result = SyncResult()
    unique = _first_of_each(
        records, lambda data: (data["external_id"], data["period_start"]), result, "period_start"
    )
    account_ids = _accounts_by_external_id(crm_source, {data["external_id"] for _, data in unique})
    periods = {data["period_start"] for _, data in unique}
    existing = {
        (snapshot.account_id, snapshot.period_start): snapshot
        for snapshot in UsageSnapshot.objects.select_for_update()
        .filter(account_id__in=set(account_ids.values()), period_start__in=periods)
        .order_by("id")
    }

    to_write: list[UsageSnapshot] = []
    touched_accounts: set[int] = set()
    for index, data in unique:
        external_id = data["external_id"]
        account_id = account_ids.get(external_id)
        if account_id is None:
            result.fail(index, external_id, _unknown_account(crm_source, external_id))
            continue
        values = {name: data[name] for name in METRIC_FIELDS if name in data}
        current = existing.get((account_id, data["period_start"]))
        if current is None:
            to_write.append(UsageSnapshot(account_id=account_id, period_start=data["period_start"], **values))
            result.created += 1
            touched_accounts.add(account_id)
            continue
        changed = {name: value for name, value in values.items() if getattr(current, name) != value}
        if not changed:
            result.unchanged += 1
            continue
        merged = {name: getattr(current, name) for name in METRIC_FIELDS}
        merged.update(changed)
        to_write.append(UsageSnapshot(account_id=account_id, period_start=data["period_start"], **merged))
        result.updated += 1
        touched_accounts.add(account_id)

    if to_write:
        to_write.sort(key=lambda snapshot: (snapshot.account_id, snapshot.period_start))
        UsageSnapshot.objects.bulk_create(
            to_write,
            update_conflicts=True,
            unique_fields=["account", "period_start"],
            update_fields=[*METRIC_FIELDS, "updated_at"],
        )
    if touched_accounts:
        usage_received.send(sender=UsageSnapshot, account_ids=sorted(touched_accounts))
    return result
