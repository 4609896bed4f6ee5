"""A fall into the ``at_risk`` health band raises a ``health_at_risk`` flag (once while it is open)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from accounts.models import Account
from segmentation.models import AccountHealth

from ..flags.services import Signal, flags_raise
from ..models import Flag, FlagKind


def health_flags_raise(*, account_ids: Iterable[int]) -> list[Flag]:
    """Flag the accounts among ``account_ids`` that are still at risk, with the health sentence as
    the reason. Safe to run twice: an open flag of the kind is not raised again."""
    at_risk: dict[int, dt.date] = dict(
        Account.objects.filter(
            pk__in=set(account_ids), health_band="at_risk", health_on__isnull=False
        ).values_list("pk", "health_on")  # type: ignore[arg-type]  # health_on is not null here
    )
    if not at_risk:
        return []
    latest = {
        (row.account_id, row.date): row
        for row in AccountHealth.objects.filter(account_id__in=at_risk, date__in=set(at_risk.values()))
    }
    signals = []
    for account_id, day in at_risk.items():
        health = latest.get((account_id, day))
        if health is None:
            continue
        signals.append(
            Signal(
                account_id,
                FlagKind.HEALTH_AT_RISK,
                health.summary or f"Health {health.score} (at risk).",
                {"score": health.score, "date": day.isoformat(), "scorecard_id": health.scorecard_id},
            )
        )
    return flags_raise(signals=signals)
