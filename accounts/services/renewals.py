"""Renewal outcomes: recorded by CS on the account page or synced from the CRM, one per renewal date.

The outcome rules (API.md) are checked here, field by field, before anything is written; the
database's CheckConstraint only backs them up. An account whose latest outcome is ``churned``
leaves the active book: its lifecycle stage moves to ``churned`` through ``account_update`` (so the
field history records it), and a later outcome that is not a churn brings it back to ``mature``
(the renewal is done; ``renewing`` is for the weeks before the next one). ``renewal_recorded`` is
sent inside the transaction for every outcome created or changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from csplatform import bounds
from csplatform.models import User

from ..models import Account, ChurnReason, LifecycleStage, RenewalOutcome, RenewalOutcomeKind
from ..signals import renewal_recorded
from .accounts import account_update, source_label
from .sync import Record, SyncResult, _accounts_by_external_id, _first_of_each, _unknown_account

# A renewal date outside these bounds is a typo (year 1, year 9999), not a contract.
EARLIEST_RENEWAL = dt.date(2000, 1, 1)
LATEST_RENEWAL = dt.date(2100, 12, 31)
# Where an account returns when an outcome after its churn says it stayed.
STAGE_AFTER_RENEWAL = LifecycleStage.MATURE
# The values an upsert compares to decide "unchanged" (who and where from do not count).
OUTCOME_FIELDS = ("outcome", "arr_before", "arr_after", "churn_reason", "note")


def renewal_errors(
    *,
    renewal_date: Any,
    outcome: Any,
    arr_before: Any,
    arr_after: Any,
    churn_reason: Any,
) -> dict[str, list[str]]:
    """The outcome rules, as field-keyed messages (empty when the outcome is consistent)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(renewal_date, dt.date):
        errors["renewal_date"] = ["A renewal date is required."]
    elif not EARLIEST_RENEWAL <= renewal_date <= LATEST_RENEWAL:
        errors["renewal_date"] = [
            f"The renewal date must lie between {EARLIEST_RENEWAL} and {LATEST_RENEWAL}."
        ]
    for name, value in (("arr_before", arr_before), ("arr_after", arr_after)):
        if not isinstance(value, Decimal) or not value.is_finite():
            errors[name] = ["A valid amount is required."]
        elif not bounds.MONEY.low <= value <= bounds.MONEY.high:
            errors[name] = [bounds.MONEY.message()]
    if outcome not in RenewalOutcomeKind.values:
        errors["outcome"] = [f"Choose one of: {', '.join(RenewalOutcomeKind.values)}."]
        return errors
    reason = churn_reason or ""
    if reason and reason not in ChurnReason.values:
        errors["churn_reason"] = [f"Choose one of: {', '.join(ChurnReason.values)}."]
    if outcome == RenewalOutcomeKind.CHURNED:
        if not reason:
            errors.setdefault("churn_reason", ["A churned renewal needs a churn reason."])
    elif reason:
        errors.setdefault("churn_reason", ["Only a churned renewal has a churn reason."])
    if "arr_before" in errors or "arr_after" in errors:
        return errors
    if outcome == RenewalOutcomeKind.CHURNED and arr_after != 0:
        errors["arr_after"] = ["A churned renewal has an ARR after of 0.00."]
    elif outcome == RenewalOutcomeKind.EXPANDED and not arr_after > arr_before:
        errors["arr_after"] = [f"An expansion needs ARR after above ARR before ({arr_before:.2f})."]
    elif outcome == RenewalOutcomeKind.CONTRACTED and not arr_after < arr_before:
        errors["arr_after"] = [f"A contraction needs ARR after below ARR before ({arr_before:.2f})."]
    elif outcome == RenewalOutcomeKind.RENEWED and arr_after != arr_before:
        errors["arr_after"] = [
            f"A renewal at the same ARR has ARR after equal to ARR before ({arr_before:.2f})."
        ]
    return errors


@transaction.atomic
def renewal_record(
    *,
    account: Account,
    renewal_date: dt.date,
    outcome: str,
    arr_before: Decimal,
    arr_after: Decimal,
    churn_reason: str | None = "",
    note: str = "",
    actor: User | None,
    source: str,
) -> RenewalOutcome:
    """Record the outcome of ``account``'s renewal on ``renewal_date`` (replacing one recorded before)."""
    errors = renewal_errors(
        renewal_date=renewal_date,
        outcome=outcome,
        arr_before=arr_before,
        arr_after=arr_after,
        churn_reason=churn_reason,
    )
    if errors:
        raise ValidationError(errors)
    values = {
        "outcome": outcome,
        "arr_before": arr_before,
        "arr_after": arr_after,
        "churn_reason": churn_reason or "",
        "note": note,
    }
    # Lock the account first, as account_update and the sync do: one lock order for every writer.
    Account.objects.select_for_update(of=("self",), no_key=True).filter(pk=account.pk).exists()
    current = (
        RenewalOutcome.objects.select_for_update().filter(account=account, renewal_date=renewal_date).first()
    )
    if current is not None and all(getattr(current, name) == values[name] for name in OUTCOME_FIELDS):
        return current
    renewal, _ = RenewalOutcome.objects.update_or_create(
        account=account,
        renewal_date=renewal_date,
        defaults={**values, "source": source_label(source), "recorded_by": actor},
    )
    _lifecycle_follow_renewals(account_ids=[account.pk], actor=actor, source=source)
    renewal_recorded.send(sender=RenewalOutcome, renewal_ids=[renewal.pk], account_ids=[account.pk])
    return renewal


@transaction.atomic
def renewals_sync(*, crm_source: str, records: Sequence[Record], actor: User | None) -> SyncResult:
    """Upsert renewal outcomes by (account ``external_id`` in ``crm_source``, ``renewal_date``)."""
    result = SyncResult()
    source = source_label(f"sync:{crm_source}")
    unique = _first_of_each(
        records, lambda data: (data["external_id"], data["renewal_date"]), result, "renewal_date"
    )
    account_ids = _accounts_by_external_id(crm_source, {data["external_id"] for _, data in unique})
    if account_ids:
        # Accounts before outcomes, in id order: the lock order of account_update and renewal_record.
        list(
            Account.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk__in=account_ids.values())
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    existing: dict[tuple[int, dt.date], dict[str, Any]] = {
        (row["account_id"], row["renewal_date"]): row
        for row in RenewalOutcome.objects.select_for_update()
        .filter(
            account_id__in=set(account_ids.values()),
            renewal_date__in={data["renewal_date"] for _, data in unique},
        )
        .values("account_id", "renewal_date", *OUTCOME_FIELDS)
    }

    to_write: list[RenewalOutcome] = []
    for index, data in unique:
        external_id = data["external_id"]
        account_id = account_ids.get(external_id)
        if account_id is None:
            result.fail(index, external_id, _unknown_account(crm_source, external_id))
            continue
        values = {
            "outcome": data["outcome"],
            "arr_before": data["arr_before"],
            "arr_after": data["arr_after"],
            "churn_reason": data.get("churn_reason") or "",
            "note": data.get("note") or "",
        }
        errors = renewal_errors(
            renewal_date=data["renewal_date"], **{k: values[k] for k in OUTCOME_FIELDS[:4]}
        )
        if errors:
            result.fail(index, external_id, errors)
            continue
        current = existing.get((account_id, data["renewal_date"]))
        if current is not None and all(current[name] == values[name] for name in OUTCOME_FIELDS):
            result.unchanged += 1
            continue
        if current is None:
            result.created += 1
        else:
            result.updated += 1
        to_write.append(
            RenewalOutcome(
                account_id=account_id,
                renewal_date=data["renewal_date"],
                source=source,
                recorded_by=actor,
                **values,
            )
        )

    if not to_write:
        return result
    to_write.sort(key=lambda renewal: (renewal.account_id, renewal.renewal_date))
    written = RenewalOutcome.objects.bulk_create(
        to_write,
        update_conflicts=True,
        unique_fields=["account", "renewal_date"],
        update_fields=[*OUTCOME_FIELDS, "source", "recorded_by", "updated_at"],
    )
    touched = sorted({renewal.account_id for renewal in written})
    _lifecycle_follow_renewals(account_ids=touched, actor=actor, source=source)
    renewal_recorded.send(
        sender=RenewalOutcome,
        renewal_ids=sorted(renewal.pk for renewal in written if renewal.pk is not None),
        account_ids=touched,
    )
    return result


def latest_outcomes(account_ids: Iterable[int]) -> dict[int, str]:
    """The outcome of each account's latest renewal, in one query (PostgreSQL DISTINCT ON)."""
    rows = (
        RenewalOutcome.objects.filter(account_id__in=list(account_ids))
        .order_by("account_id", "-renewal_date")
        .distinct("account_id")
        .values_list("account_id", "outcome")
    )
    return dict(rows)


def _stage_for(current: str, latest_outcome: str | None) -> str | None:
    """The stage an account moves to after its renewals, or None when it stays where it is."""
    if latest_outcome == RenewalOutcomeKind.CHURNED and current != LifecycleStage.CHURNED:
        return LifecycleStage.CHURNED
    if latest_outcome not in (None, RenewalOutcomeKind.CHURNED) and current == LifecycleStage.CHURNED:
        return STAGE_AFTER_RENEWAL
    return None


def _lifecycle_follow_renewals(*, account_ids: Sequence[int], actor: User | None, source: str) -> None:
    """Move the accounts whose latest outcome says churned (or no longer churned) to that stage.

    Through ``account_update``, one account at a time: only accounts whose stage changes pay for it,
    and the field history and ``accounts_changed`` are those of any other stage change.
    """
    latest = latest_outcomes(account_ids)
    stages: Mapping[int, str] = dict(
        Account.objects.filter(pk__in=account_ids).values_list("pk", "lifecycle_stage")
    )
    moves = {pk: stage for pk in account_ids if (stage := _stage_for(stages[pk], latest.get(pk)))}
    for account in Account.objects.filter(pk__in=moves).order_by("pk"):
        account_update(
            account=account, actor=actor, source=source, data={"lifecycle_stage": moves[account.pk]}
        )
