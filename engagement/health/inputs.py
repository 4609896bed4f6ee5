"""Engagement's inputs to account health, registered with segmentation in EngagementConfig.ready().

Each is a batch function ``(account_ids, today) -> {account_id: value}`` over data engagement
keeps (a few ORM queries per batch, whatever the batch size):

- ``coverage_kept``: the share (0–1) of entitled deliveries made on time over the coverage window,
  from the stored coverage (Σ min(delivered, planned) / Σ planned, as the coverage panels count
  it); no value when nothing is owed.
- ``open_flags``: how many flags are open on the account.
- ``days_since_last_touch``: days from the last touchpoint (the account's local day) to today; no
  value when none was ever logged.
- ``survey_score``: the mean of each contact's latest NPS or CSAT answer of the last year, on
  0–100 (NPS × 10; CSAT 1–5 → 0–100); no value without answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, Max, Sum
from django.db.models.functions import Cast, Least

from segmentation.health_signals import register_health_signal
from segmentation.rules import NUMBER, SignalSpec

from ..clock import local_date
from ..models import EntitlementCoverage, Flag, FlagStatus, Touchpoint


def coverage_kept(account_ids: Sequence[int], today: dt.date) -> dict[int, Any]:
    delivered = Cast(F("delivered_in_window"), DecimalField(max_digits=8, decimal_places=3))
    rows = (
        EntitlementCoverage.objects.filter(account_id__in=account_ids)
        .values("account_id")
        .annotate(planned=Sum("planned_in_window"), kept=Sum(Least(delivered, F("planned_in_window"))))
        .values_list("account_id", "planned", "kept")
    )
    return {
        account_id: (Decimal(kept) / Decimal(planned)).quantize(Decimal("0.001"))
        for account_id, planned, kept in rows
        if planned
    }


def open_flags(account_ids: Sequence[int], today: dt.date) -> dict[int, Any]:
    counts = dict.fromkeys(account_ids, 0)
    counts.update(
        Flag.objects.filter(account_id__in=account_ids, status=FlagStatus.OPEN)
        .values("account_id")
        .annotate(open=Count("id"))
        .values_list("account_id", "open")
    )
    return counts


def days_since_last_touch(account_ids: Sequence[int], today: dt.date) -> dict[int, Any]:
    rows = (
        Touchpoint.objects.filter(account_id__in=account_ids)
        .values("account_id", "account__region")
        .annotate(last=Max("occurred_at"))
        .values_list("account_id", "account__region", "last")
    )
    return {
        account_id: max(0, (today - local_date(last, region=region)).days)
        for account_id, region, last in rows
    }


def survey_score(account_ids: Sequence[int], today: dt.date) -> dict[int, Any]:
    from ..surveys.selectors import survey_score as answers_score

    return answers_score(account_ids, today)


def register() -> None:
    register_health_signal(
        "coverage_kept", SignalSpec("coverage_kept", NUMBER, "coverage kept"), coverage_kept
    )
    register_health_signal("open_flags", SignalSpec("open_flags", NUMBER, "open flags"), open_flags)
    register_health_signal(
        "days_since_last_touch",
        SignalSpec("days_since_last_touch", NUMBER, "days since the last touch"),
        days_since_last_touch,
    )
    register_health_signal("survey_score", SignalSpec("survey_score", NUMBER, "survey score"), survey_score)
    # Their past, for backtests (a separate module: it is only read there).
    from .history import register as register_history

    register_history()
