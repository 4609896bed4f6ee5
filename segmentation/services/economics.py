"""Relationship economics services: the rule is ``segmentation.economics``, the SQL that applies
it to many accounts ``segmentation.queries.economics``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Case, Count, Sum, Value, When
from django.utils import timezone

from accounts.models import Account

from ..economics import CostRates, annual_cost_to_serve, in_cents, quadrant_for, quadrant_of
from ..models import Quadrant
from ..queries import economics as economics_sql
from .cost_inputs import cost_inputs_bring_current


def account_cost_to_serve(*, account_id: int, today: dt.date | None = None) -> dict[str, Any]:
    """{"acv", "cost_to_serve" (annual), "quadrant", "quadrant_label"} of one account ({} if none)."""
    today = today or timezone.localdate()
    inputs = economics_sql.account_cost_inputs(account_id=account_id, today=today)
    if inputs is None:
        return {}
    acv, minutes, tickets, served_since = inputs
    rates = CostRates.from_settings()
    cost = annual_cost_to_serve(
        minutes=minutes, tickets=tickets, served_since=served_since, today=today, rates=rates
    )
    quadrant = quadrant_for(acv=acv, cost=cost, rates=rates)
    return {
        "acv": Decimal(acv),
        "cost_to_serve": in_cents(cost),
        "quadrant": quadrant.value,
        "quadrant_label": quadrant.label,
    }


def revenue_totals() -> dict[bool, tuple[int, Decimal]]:
    """{is_high_revenue: (accounts, acv_sum)} over all accounts."""
    high_revenue = CostRates.from_settings().high_revenue
    rows = (
        Account.objects.annotate(
            high=Case(
                When(acv__gte=high_revenue, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values("high")
        .annotate(n=Count("id"), acv_sum=Sum("acv"))
        .order_by()
    )
    return {bool(row["high"]): (row["n"], Decimal(row["acv_sum"] or 0)) for row in rows}


def quadrant_totals(
    today: dt.date, *, by_revenue: dict[bool, tuple[int, Decimal]] | None = None
) -> list[tuple[str, int, Decimal, Decimal]]:
    """[(quadrant, accounts, acv_sum, cost_sum)] over all accounts.

    Costs are computed only for accounts that have logged minutes or tickets in the year; every
    other account costs 0 and falls in its revenue class's low-cost quadrant (or high-cost, if the
    threshold is 0). ``by_revenue`` (from ``revenue_totals``) saves a scan when the caller has it.
    """
    rates = CostRates.from_settings()
    by_revenue = revenue_totals() if by_revenue is None else by_revenue
    totals: dict[str, list[Any]] = {q.value: [0, Decimal(0), Decimal(0)] for q in Quadrant}
    costed: dict[bool, list[Any]] = {True: [0, Decimal(0)], False: [0, Decimal(0)]}
    # The kept inputs of the accounts with minutes or tickets, not a year of touchpoints and usage.
    cost_inputs_bring_current(today=today)
    for high, quadrant, n, acv, cost in economics_sql.kept_costed_quadrant_totals(today=today, rates=rates):
        totals[quadrant][0] += n
        totals[quadrant][1] += Decimal(acv or 0)
        totals[quadrant][2] += in_cents(Decimal(cost or 0))
        costed[bool(high)][0] += n
        costed[bool(high)][1] += Decimal(acv or 0)
    free_is_high_cost = Decimal(0) >= rates.high_cost
    for high, (n, acv) in by_revenue.items():
        quadrant = quadrant_of(high_revenue=high, high_cost=free_is_high_cost).value
        totals[quadrant][0] += n - costed[high][0]
        totals[quadrant][1] += acv - costed[high][1]
    return [(q, n, acv, cost) for q, (n, acv, cost) in totals.items() if n]
