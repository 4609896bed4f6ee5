"""Relationship economics (Storbacka's grid): revenue (ACV) against the annual cost to serve.

cost to serve = logged CSM minutes ÷ 60 × ``CSM_HOURLY_COST`` + support tickets ×
``SUPPORT_TICKET_COST``, over the last 365 days, annualised for accounts younger than a year.
``annual_cost_to_serve`` and ``quadrant_for`` are the rule; ``segmentation.queries.economics``
computes the same for many accounts at once in SQL (tests prove they agree).

Logged minutes live in a higher app, which registers the SQL that yields them in its ready()::

    from segmentation.economics import register_minutes_sql
    register_minutes_sql(
        "SELECT account_id, SUM(minutes) AS minutes FROM engagement_touchpoint "
        "WHERE occurred_at >= %(since)s GROUP BY account_id"
    )

The SQL must yield ``(account_id, minutes)`` and may use the ``%(since)s`` parameter (a date).
Until one is registered, minutes count as 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from .models import Quadrant

_minutes_sql: str | None = None
# Younger accounts are annualised over at least this many days, so a first busy week does not
# extrapolate to an absurd yearly cost.
MIN_ANNUALISE_DAYS = 30
COST_WINDOW_DAYS = 365
CENTS = Decimal("0.01")


def register_minutes_sql(sql: str) -> None:
    """Register the SQL yielding (account_id, minutes) logged since ``%(since)s``."""
    global _minutes_sql
    _minutes_sql = sql


def minutes_sql() -> str | None:
    """The registered minutes SQL, or None when no app logs minutes."""
    return _minutes_sql


def cost_window_start(today: dt.date) -> dt.date:
    """Minutes and tickets count from this day on."""
    return today - dt.timedelta(days=COST_WINDOW_DAYS)


@dataclass(frozen=True)
class CostRates:
    hourly: Decimal
    ticket: Decimal
    high_revenue: Decimal
    high_cost: Decimal

    @classmethod
    def from_settings(cls) -> CostRates:
        return cls(
            hourly=Decimal(str(settings.CSM_HOURLY_COST)),
            ticket=Decimal(str(settings.SUPPORT_TICKET_COST)),
            high_revenue=Decimal(str(settings.ECONOMICS_HIGH_REVENUE_ACV)),
            high_cost=Decimal(str(settings.ECONOMICS_HIGH_COST_TO_SERVE)),
        )


def annual_cost_to_serve(
    *, minutes: int, tickets: int, served_since: dt.date, today: dt.date, rates: CostRates
) -> Decimal:
    """The yearly cost of serving an account (unrounded).

    One division at the end (SQL's numeric and Python's Decimal then round alike)."""
    days = (today - served_since).days
    work = minutes * rates.hourly + 60 * tickets * rates.ticket
    if days >= COST_WINDOW_DAYS:
        return work / 60
    return work * COST_WINDOW_DAYS / (60 * max(days, MIN_ANNUALISE_DAYS))


def quadrant_for(*, acv: Decimal, cost: Decimal, rates: CostRates) -> Quadrant:
    return quadrant_of(high_revenue=acv >= rates.high_revenue, high_cost=cost >= rates.high_cost)


def quadrant_of(*, high_revenue: bool, high_cost: bool) -> Quadrant:
    if high_revenue:
        return Quadrant.HIGH_REVENUE_HIGH_COST if high_cost else Quadrant.HIGH_REVENUE_LOW_COST
    return Quadrant.LOW_REVENUE_HIGH_COST if high_cost else Quadrant.LOW_REVENUE_LOW_COST


def in_cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP)
