"""Activities from the CRM, calendar or mailbox: touchpoints upserted by (crm_source, external_id).

A synced activity is a touchpoint like one logged by hand (same table, same field rules through
``touchpoint_field_errors``, same delivery ledger), so it counts for coverage, cost-to-serve and
capacity alike. Set-based: accounts, people and modules are resolved in one query each, existing
activities read and locked in one, new ones inserted in one; the delivery ledger and coverage are
written once per request. A replay changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Account
from accounts.services import SyncResult
from accounts.services.accounts import unknown_user_message, user_refs_resolve
from playbooks.models import ServiceModule

from ..coverage.services import DeliveryToRecord, coverage_recompute, module_deliveries_record_many
from ..models import DeliverySource, ModuleDelivery, Touchpoint
from .services import touchpoint_field_errors

if TYPE_CHECKING:
    from csplatform.models import User

Record = tuple[int, Mapping[str, Any]]
SYNCED_FIELDS = ("account_id", "kind", "occurred_at", "minutes", "logged_by_id", "module_id", "notes")


@transaction.atomic
def touchpoints_sync(*, crm_source: str, records: Sequence[Record], actor: User | None) -> SyncResult:
    """Upsert activities; a record whose account, person, module or fields are wrong fails alone,
    naming the field, and changes nothing."""
    result = SyncResult()
    unique: list[Record] = []
    first_index: dict[str, int] = {}
    for index, data in records:
        external_id = data["external_id"]
        if external_id in first_index:
            result.fail(
                index,
                external_id,
                {
                    "external_id": [
                        f"Duplicate of record {first_index[external_id]} in this request; "
                        "only the first one is applied."
                    ]
                },
            )
            continue
        first_index[external_id] = index
        unique.append((index, data))

    accounts = {
        account.external_id: account
        for account in Account.objects.filter(
            crm_source=crm_source, external_id__in={data["account_external_id"] for _, data in unique}
        ).only("id", "external_id", "region")
    }
    people = user_refs_resolve(data["by"] for _, data in unique)
    codes = {data["module"] for _, data in unique if data.get("module")}
    modules = {m.code: m for m in ServiceModule.objects.filter(code__in=codes)}
    existing = {
        t.external_id: t
        for t in Touchpoint.objects.select_for_update().filter(
            crm_source=crm_source, external_id__in=[data["external_id"] for _, data in unique]
        )
    }

    now = timezone.now()
    to_create: list[Touchpoint] = []
    to_update: list[Touchpoint] = []
    regions: dict[int, str] = {}
    for index, data in unique:
        external_id = data["external_id"]
        errors: dict[str, list[str]] = {}
        account = accounts.get(data["account_external_id"])
        if account is None:
            errors["account_external_id"] = [
                f'No account with external_id "{data["account_external_id"]}" from {crm_source}.'
            ]
        person = people.get(data["by"])
        if person is None:
            errors["by"] = [unknown_user_message(data["by"])]
        code = data.get("module") or None
        if code and code not in modules:
            errors["module"] = [f"Unknown service module '{code}'."]
        if account is not None:
            errors.update(
                touchpoint_field_errors(
                    kind=data["kind"],
                    minutes=data["minutes"],
                    occurred_at=data["occurred_at"],
                    region=account.region,
                )
            )
        if errors:
            result.fail(index, external_id, errors)
            continue
        assert account is not None and person is not None
        regions[account.pk] = account.region
        values = {
            "account_id": account.pk,
            "kind": data["kind"],
            "occurred_at": data["occurred_at"],
            "minutes": int(data["minutes"]),
            "logged_by_id": person.pk,
            "module_id": modules[code].pk if code else None,
            "notes": data.get("notes") or "",
        }
        current = existing.get(external_id)
        if current is None:
            to_create.append(Touchpoint(crm_source=crm_source, external_id=external_id, **values))
            result.created += 1
            continue
        if all(getattr(current, name) == value for name, value in values.items()):
            result.unchanged += 1
            continue
        for name, value in values.items():
            setattr(current, name, value)
        current.updated_at = now
        to_update.append(current)
        result.updated += 1

    created = Touchpoint.objects.bulk_create(to_create, batch_size=500)
    if to_update:
        Touchpoint.objects.bulk_update(to_update, [*SYNCED_FIELDS, "updated_at"], batch_size=500)
        # A changed activity's delivery is recorded again from its new module and time.
        previous_accounts = set(
            ModuleDelivery.objects.filter(
                source=DeliverySource.TOUCHPOINT, source_id__in=[t.pk for t in to_update]
            ).values_list("account_id", flat=True)
        )
        ModuleDelivery.objects.filter(
            source=DeliverySource.TOUCHPOINT, source_id__in=[t.pk for t in to_update]
        ).delete()
        if previous_accounts:
            coverage_recompute(account_ids=sorted(previous_accounts))
    module_deliveries_record_many(
        source=DeliverySource.TOUCHPOINT,
        deliveries=[
            DeliveryToRecord(t.account_id, regions.get(t.account_id, ""), t.module_id, t.occurred_at, t.pk)
            for t in [*created, *to_update]
            if t.module_id is not None
        ],
    )
    return result
