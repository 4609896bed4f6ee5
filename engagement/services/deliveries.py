"""The module deliveries ledger: every delivered module, from whichever channel delivered it."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account
from playbooks.services.catalogue import module_get_by_code

from ..models import DeliverySource, ModuleDelivery
from .clock import local_date


@transaction.atomic
def module_delivery_record(
    *, account_id: int, module_code: str, delivered_at: dt.datetime, source: str, source_id: int | None
) -> ModuleDelivery:
    """Record that ``account_id`` received ``module_code`` at ``delivered_at``.

    Safe to call twice for the same (source, source_id, module): the second call returns the first
    row. The account's coverage is recomputed in the same transaction.
    """
    if source not in DeliverySource.values:
        raise ValidationError({"source": [f"Unknown delivery source '{source}'."]})
    module = module_get_by_code(module_code)
    if module is None:
        raise ValidationError({"module": ["A delivery needs a service module."]})
    account = Account.objects.filter(pk=account_id).only("id", "region").first()
    if account is None:
        raise ValidationError({"account": [f"Unknown account {account_id}."]})
    if source_id is not None:
        existing = ModuleDelivery.objects.filter(source=source, source_id=source_id, module=module).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            delivery = ModuleDelivery.objects.create(
                account_id=account_id,
                module=module,
                delivered_at=delivered_at,
                delivered_on=local_date(delivered_at, region=account.region),
                source=source,
                source_id=source_id,
            )
    except IntegrityError:
        # A concurrent call recorded the same delivery first.
        return ModuleDelivery.objects.get(source=source, source_id=source_id, module=module)
    from .coverage import coverage_recompute

    coverage_recompute(account_ids=[account_id])
    return delivery
