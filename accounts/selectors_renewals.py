"""Reads for the renewals section of the account page: outcomes, ARR history, the churn banner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from .models import Account, AccountFieldChange, LifecycleStage, RenewalOutcome, RenewalOutcomeKind
from .selectors import account_renewals

# The section shows recent history; older rows stay in the API and the admin.
HISTORY_ROWS = 40


@dataclass(frozen=True)
class ArrHistoryRow:
    """One step of the account's ARR: a renewal outcome or an ACV change."""

    on: dt.date
    before: Decimal | None
    after: Decimal | None
    what: str
    source: str
    by: str


@dataclass(frozen=True)
class RenewalSection:
    account: Account
    renewals: list[RenewalOutcome]
    arr_history: list[ArrHistoryRow]


def _money(text: str) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:  # history keeps whatever was written; show it as unknown
        return None


def account_arr_history(account: Account, renewals: list[RenewalOutcome]) -> list[ArrHistoryRow]:
    """ARR over time, newest first: each renewal outcome (ARR before → after at the renewal date)
    and each recorded ACV change (old → new on the day it changed)."""
    rows = [
        ArrHistoryRow(
            on=renewal.renewal_date,
            before=renewal.arr_before,
            after=renewal.arr_after,
            what=f"Renewal: {renewal.get_outcome_display().lower()}",
            source=renewal.source,
            by=renewal.recorded_by.username if renewal.recorded_by else "",
        )
        for renewal in renewals[:HISTORY_ROWS]
    ]
    changes = (
        AccountFieldChange.objects.filter(account=account, field="acv")
        .select_related("changed_by")
        .order_by("-changed_at")[:HISTORY_ROWS]
    )
    rows.extend(
        ArrHistoryRow(
            on=timezone.localdate(change.changed_at),
            before=_money(change.old_value),
            after=_money(change.new_value),
            what="ACV changed",
            source=change.source,
            by=change.changed_by.username if change.changed_by else "",
        )
        for change in changes
    )
    rows.sort(key=lambda row: row.on, reverse=True)
    return rows[:HISTORY_ROWS]


def renewal_section(account: Account) -> RenewalSection:
    renewals = list(account_renewals(account=account)[:HISTORY_ROWS])
    return RenewalSection(
        account=account, renewals=renewals, arr_history=account_arr_history(account, renewals)
    )


def account_churn(account: Account) -> RenewalOutcome | None:
    """The churn that took a churned account out of the active book (None if it is not churned,
    or was set to churned by hand without an outcome)."""
    if account.lifecycle_stage != LifecycleStage.CHURNED:
        return None
    return (
        RenewalOutcome.objects.filter(account=account, outcome=RenewalOutcomeKind.CHURNED)
        .order_by("-renewal_date")
        .first()
    )
