"""Logging what CS did with a customer (calls, meetings, QBRs, ...)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact
from csplatform import authorization, bounds
from playbooks.services.catalogue import module_get_by_code

from ..clock import account_today, local_date
from ..coverage.services import module_delivery_record
from ..models import DeliverySource, Touchpoint, TouchpointKind

if TYPE_CHECKING:
    from csplatform.models import User


def touchpoint_field_errors(
    *, kind: str, minutes: int | None, occurred_at: dt.datetime, region: str
) -> dict[str, list[str]]:
    """The rules of a touchpoint's own fields, whether logged by hand or synced: a known kind,
    minutes within their bounds, a time with its offset within the business calendar and no later
    than tomorrow in the account's zone."""
    errors: dict[str, list[str]] = {}
    if kind not in TouchpointKind.values:
        errors["kind"] = [f"Unknown kind '{kind}'; choose one of {', '.join(TouchpointKind.values)}."]
    try:
        bounds.TOUCHPOINT_MINUTES.check(minutes if minutes is not None else "", field="minutes")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if timezone.is_naive(occurred_at):
        errors["occurred_at"] = ["Give the time with its UTC offset."]
    elif not bounds.BUSINESS_DATE.contains(occurred_at):
        errors["occurred_at"] = [bounds.BUSINESS_DATE.message()]
    elif local_date(occurred_at, region=region) > account_today(region=region) + dt.timedelta(days=1):
        errors["occurred_at"] = ["A touchpoint cannot be later than tomorrow."]
    return errors


@transaction.atomic
def touchpoint_log(
    *,
    by: User,
    account: Account,
    kind: str,
    occurred_at: dt.datetime,
    minutes: int,
    module_code: str | None = None,
    notes: str = "",
    participant_ids: Iterable[int] = (),
) -> Touchpoint:
    """Record a touchpoint; one that delivers a module is added to the delivery ledger.

    Refused as a whole (nothing saved) when any field is wrong: negative minutes, a day after
    tomorrow in the account's time zone, an unknown module, contacts of another account.
    """
    if not authorization.may_work_on(by, account):
        raise PermissionDenied("You may only log touchpoints on accounts you own.")
    errors = touchpoint_field_errors(
        kind=kind, minutes=minutes, occurred_at=occurred_at, region=account.region
    )
    module = None
    try:
        module = module_get_by_code(module_code)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    participant_ids = sorted(set(participant_ids))
    if participant_ids:
        found = set(
            Contact.objects.filter(account=account, pk__in=participant_ids).values_list("pk", flat=True)
        )
        missing = [str(pk) for pk in participant_ids if pk not in found]
        if missing:
            errors["participants"] = [f"Not contacts of this account: {', '.join(missing)}."]
    if errors:
        raise ValidationError(errors)
    touchpoint = Touchpoint.objects.create(
        account=account,
        kind=kind,
        occurred_at=occurred_at,
        minutes=int(minutes),
        logged_by=by,
        module=module,
        notes=notes,
    )
    if participant_ids:
        touchpoint.participants.set(participant_ids)
    if module is not None:
        module_delivery_record(
            account_id=account.pk,
            module_code=module.code,
            delivered_at=occurred_at,
            source=DeliverySource.TOUCHPOINT,
            source_id=touchpoint.pk,
        )
    return touchpoint
