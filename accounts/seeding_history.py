"""Two years of demo renewal outcomes, derived from what the seed generated for each account.

Outcomes follow the account's generated usage trend and ticket load (not random noise): a
declining account churns or contracts far more often than a growing one, a growing one expands,
a flat one mostly renews; the lowest tier (ACV under the Mid-Market Tier 2 threshold) churns more.
Each account renews once a year on its renewal date's anniversary, from its contract start on;
every such date in the last 24 months gets an outcome. The first churn ends the story: the account
becomes ``churned`` with that date as its (last) renewal date. An account drawn as churned that
the rules keep renewed its contract on that date instead, and renews again a year later.

ARR is chained backwards from today's ACV, so the latest outcome's ARR after equals the ACV (a
churned account keeps its last ACV as the ARR it lost) and each outcome's ARR before is the
previous one's ARR after. Rows follow the outcome rules the database checks.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .models import ChurnReason, LifecycleStage, RenewalOutcomeKind

HISTORY_DAYS = 730
# The lowest tier of the default policy (Mid-Market Tier 3) is below this ACV.
LOWEST_TIER_ACV = 15_000
# Per renewal, the chance to churn by usage trend (before the ticket and lowest-tier factors).
CHURN_CHANCE = {"growing": 0.015, "flat": 0.035, "spiky": 0.06, "declining": 0.14}
HIGH_TICKETS_CHURN_FACTOR = 1.5
LOWEST_TIER_CHURN_FACTOR = 1.6
# Given the account stayed: chances of (expanded, contracted); the rest renewed flat.
CHANGE_CHANCE = {
    "growing": (0.65, 0.03),
    "flat": (0.18, 0.08),
    "spiky": (0.25, 0.15),
    "declining": (0.06, 0.35),
}
CHURN_REASONS = {
    "declining": (
        ChurnReason.PRODUCT_FIT,
        ChurnReason.COMPETITOR,
        ChurnReason.BUDGET,
        ChurnReason.CHAMPION_LEFT,
    ),
    "tickets": (ChurnReason.SERVICE, ChurnReason.PRODUCT_FIT, ChurnReason.COMPETITOR),
    "other": (ChurnReason.BUDGET, ChurnReason.ACQUIRED, ChurnReason.CHAMPION_LEFT, ChurnReason.OTHER),
}
ONE_YEAR = dt.timedelta(days=365)
HUNDRED = Decimal("100")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class AccountUsageProfile:
    """What the seed generated for an account that the renewal history depends on."""

    account_id: int
    acv: float
    lifecycle_stage: str
    contract_start: dt.date
    renewal_date: dt.date
    trend: str
    high_tickets: bool


@dataclass(frozen=True)
class AccountHistoryChange:
    """An account whose stage or renewal date the history moved (churned, or renewed instead)."""

    account_id: int
    lifecycle_stage: str
    renewal_date: dt.date


def _past_renewal_dates(profile: AccountUsageProfile, today: dt.date) -> list[dt.date]:
    """The anniversaries of the contract in the last 24 months, before today, oldest first."""
    dates = []
    day = profile.renewal_date
    while day >= profile.contract_start + ONE_YEAR - dt.timedelta(days=1):
        if day < today and day >= today - dt.timedelta(days=HISTORY_DAYS):
            dates.append(day)
        day -= ONE_YEAR
    return sorted(dates)


def _churn_chance(profile: AccountUsageProfile) -> float:
    chance = CHURN_CHANCE[profile.trend]
    if profile.high_tickets:
        chance *= HIGH_TICKETS_CHURN_FACTOR
    if profile.acv < LOWEST_TIER_ACV:
        chance *= LOWEST_TIER_CHURN_FACTOR
    return chance


def _churn_reason(rng: random.Random, profile: AccountUsageProfile) -> str:
    if profile.trend == "declining":
        reasons = CHURN_REASONS["declining"]
    elif profile.high_tickets:
        reasons = CHURN_REASONS["tickets"]
    else:
        reasons = CHURN_REASONS["other"]
    return str(reasons[int(rng.random() * len(reasons))].value)


def account_history(
    rng: random.Random, profile: AccountUsageProfile, today: dt.date
) -> tuple[list[tuple[dt.date, str, Decimal, Decimal, str]], AccountHistoryChange | None]:
    """One account's outcomes ``(date, outcome, arr_before, arr_after, churn_reason)`` oldest
    first, and the change to its stage and renewal date (None when it keeps the drawn ones)."""
    kinds: list[tuple[dt.date, str, float]] = []  # date, outcome, ARR factor (after / before)
    for day in _past_renewal_dates(profile, today):
        if rng.random() < _churn_chance(profile):
            kinds.append((day, RenewalOutcomeKind.CHURNED.value, 0.0))
            break
        expand, contract = CHANGE_CHANCE[profile.trend]
        draw = rng.random()
        if draw < expand:
            kinds.append((day, RenewalOutcomeKind.EXPANDED.value, 1.15 + rng.random() * 0.45))
        elif draw < expand + contract:
            kinds.append((day, RenewalOutcomeKind.CONTRACTED.value, 0.8 + rng.random() * 0.15))
        else:
            kinds.append((day, RenewalOutcomeKind.RENEWED.value, 1.0))
    rows: list[tuple[dt.date, str, Decimal, Decimal, str]] = []
    arr_after = Decimal(f"{profile.acv:.2f}")
    for day, outcome, factor in reversed(kinds):
        if outcome == RenewalOutcomeKind.CHURNED:
            rows.append((day, outcome, arr_after, Decimal("0.00"), _churn_reason(rng, profile)))
            continue  # the ARR lost is the last ACV: the next-older outcome ended at it
        arr_before = _arr_before(outcome, arr_after, factor)
        # An ACV too small to have grown from a smaller one renewed flat.
        rows.append(
            (
                day,
                outcome if arr_before != arr_after else RenewalOutcomeKind.RENEWED.value,
                arr_before,
                arr_after,
                "",
            )
        )
        arr_after = arr_before
    rows.reverse()
    return rows, _stage_change(profile, rows, today)


def _arr_before(outcome: str, arr_after: Decimal, factor: float) -> Decimal:
    """The ARR before a renewal that ended at ``arr_after``, in hundreds, on the outcome's side."""
    if outcome == RenewalOutcomeKind.RENEWED:
        return arr_after
    before = (arr_after / Decimal(str(factor))).quantize(HUNDRED)
    if outcome == RenewalOutcomeKind.EXPANDED:
        before = min(before, arr_after - HUNDRED)
        return before.quantize(CENTS) if before >= HUNDRED else arr_after
    return max(before, arr_after + HUNDRED).quantize(CENTS)


def _stage_change(
    profile: AccountUsageProfile, rows: list[tuple[dt.date, str, Decimal, Decimal, str]], today: dt.date
) -> AccountHistoryChange | None:
    churned = LifecycleStage.CHURNED.value
    if rows and rows[-1][1] == RenewalOutcomeKind.CHURNED:
        if profile.lifecycle_stage == churned and profile.renewal_date == rows[-1][0]:
            return None
        return AccountHistoryChange(profile.account_id, churned, rows[-1][0])
    if profile.lifecycle_stage != churned:
        return None
    # Drawn as churned but it renewed: the contract runs on to the next anniversary.
    renewal = profile.renewal_date
    while renewal < today:
        renewal += ONE_YEAR
    stage = (
        LifecycleStage.RENEWING.value
        if renewal <= today + dt.timedelta(days=90)
        else LifecycleStage.MATURE.value
    )
    return AccountHistoryChange(profile.account_id, stage, renewal)


def renewal_history_rows(
    rng: random.Random,
    profiles: Iterable[AccountUsageProfile],
    today: dt.date,
    changes: list[AccountHistoryChange],
) -> Iterator[tuple[Any, ...]]:
    """Outcome rows (OUTCOME_FIELDS order) for ``profiles``; stage changes go to ``changes``."""
    for profile in profiles:
        rows, change = account_history(rng, profile, today)
        if change is not None:
            changes.append(change)
        for day, outcome, arr_before, arr_after, reason in rows:
            yield (profile.account_id, day, outcome, arr_before, arr_after, reason, "seed")


OUTCOME_FIELDS = ("account", "renewal_date", "outcome", "arr_before", "arr_after", "churn_reason", "source")
