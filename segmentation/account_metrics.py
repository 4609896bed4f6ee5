"""Signal values for a batch of accounts, fetched in a handful of queries per batch.

Only the signals the policy's rules use are computed: a policy without usage rules never reads
usage snapshots.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q

from accounts.models import Account, Contact

from .engine import PolicySnapshot
from .queries.evaluation import usage_history_of
from .rules import CONTACT_SIGNALS, HEALTH_SIGNALS, USAGE_SIGNALS

# Weekly snapshots: 90 days of trend plus slack for a late period.
USAGE_LOOKBACK_DAYS = 120
TREND_DAYS = 90
TICKET_DAYS = 30


@dataclass(frozen=True)
class AccountFacts:
    """The account columns evaluation needs (one row of a chunk query)."""

    id: int
    acv: Decimal
    lifecycle_stage: str
    renewal_date: dt.date | None
    tier_code: str = ""
    tier_name: str = ""
    tier_rank: int | None = None
    tier_source: str = ""
    tier_explanation: str = ""
    csm_id: int | None = None
    tier_updated_at: dt.datetime | None = None


ACCOUNT_FACT_FIELDS = (
    "id",
    "acv",
    "lifecycle_stage",
    "renewal_date",
    "tier_code",
    "tier_name",
    "tier_rank",
    "tier_source",
    "tier_explanation",
    "csm_id",
    "tier_updated_at",
)


def _trend(snapshots: list[tuple[dt.date, int]]) -> Decimal | None:
    """% change of active users between the latest period and the one ~90 days before it."""
    if len(snapshots) < 2:
        return None
    latest_date, latest_users = snapshots[-1]
    cutoff = latest_date - dt.timedelta(days=TREND_DAYS)
    earlier = [s for s in snapshots[:-1] if s[0] <= cutoff]
    _, base_users = earlier[-1] if earlier else snapshots[0]
    if not base_users:
        return None
    return (Decimal(latest_users - base_users) * 100 / base_users).quantize(Decimal("0.1"))


def usage_values(periods: list[tuple[dt.date, int, int, Decimal, int]], *, today: dt.date) -> dict[str, Any]:
    """The usage signals of one account's periods (period start, active users, seats, adoption,
    tickets), oldest first and at least one, as they stand on ``today``."""
    _, users, seats, adoption, _ = periods[-1]
    ticket_since = today - dt.timedelta(days=TICKET_DAYS)
    return {
        "seat_utilisation": (Decimal(users) / seats).quantize(Decimal("0.001")) if seats else None,
        "feature_adoption": adoption,
        "active_users_trend_90d": _trend([(p[0], p[1]) for p in periods]),
        "support_tickets_30d": sum(p[4] for p in periods if p[0] >= ticket_since),
    }


def signals_for(
    accounts: Iterable[AccountFacts], *, policy: PolicySnapshot, needed: set[str], today: dt.date
) -> dict[int, dict[str, Any]]:
    """{account_id: {signal: value}} for ``accounts``; value None when there is no data."""
    accounts = list(accounts)
    ids = [a.id for a in accounts]
    result: dict[int, dict[str, Any]] = {}
    # Every rule reads ACV and may read the lifecycle stage; the rest only when a rule uses it.
    unread = dict.fromkeys((USAGE_SIGNALS | CONTACT_SIGNALS | HEALTH_SIGNALS) & needed)
    wants_renewal = "days_to_renewal" in needed
    wants_within = "acv_within_pct_of_next_threshold" in needed
    for account in accounts:
        values: dict[str, Any] = {"acv": account.acv, "lifecycle_stage": account.lifecycle_stage, **unread}
        if wants_renewal:
            values["days_to_renewal"] = (account.renewal_date - today).days if account.renewal_date else None
        if wants_within:
            next_threshold = policy.next_threshold(policy.base_tier(account.acv))
            values["acv_within_pct_of_next_threshold"] = (
                ((next_threshold - account.acv) * 100 / next_threshold).quantize(Decimal("0.1"))
                if next_threshold
                else None
            )
        result[account.id] = values
    if not ids:
        return result

    if needed & USAGE_SIGNALS:
        history: dict[int, list[tuple[dt.date, int, int, Decimal, int]]] = defaultdict(list)
        rows = usage_history_of(account_ids=ids, since=today - dt.timedelta(days=USAGE_LOOKBACK_DAYS))
        for account_id, period, users, seats, adoption, tickets in rows:
            history[account_id].append((period, users, seats, adoption, tickets))
        for account_id, periods in history.items():
            result[account_id].update(usage_values(periods, today=today))
        for account_id in ids:
            if account_id not in history:
                result[account_id]["support_tickets_30d"] = 0

    if needed & CONTACT_SIGNALS:
        for account_id in ids:
            result[account_id]["has_champion"] = False
            result[account_id]["has_executive_sponsor"] = False
        contacts = (
            Contact.objects.filter(account_id__in=ids)
            .filter(Q(is_champion=True) | Q(is_executive=True))
            .values_list("account_id", "is_champion", "is_executive")
        )
        for account_id, champion, executive in contacts:
            result[account_id]["has_champion"] |= champion
            result[account_id]["has_executive_sponsor"] |= executive
    if needed & HEALTH_SIGNALS:
        # The latest health kept on the account (None before its first computation).
        for account_id, score, band in Account.objects.filter(pk__in=ids).values_list(
            "pk", "health_score", "health_band"
        ):
            result[account_id]["health_score"] = score
            result[account_id]["health_band"] = band or None
    return result
