"""Touchpoints as other apps need them in their own SQL."""

from __future__ import annotations

from psycopg import sql

from ..models import Touchpoint
from ..sql import render, table


def touchpoint_minutes_since_sql() -> str:
    """A SELECT of ``(account_id, minutes)``: the CSM minutes logged per account since the
    ``%(since)s`` parameter. Segmentation's cost to serve joins it into its cost query
    (``segmentation.economics.register_minutes_sql``), which cannot import this app.

    Mirrors ``Touchpoint.objects.filter(occurred_at__gte=since).values("account_id")
    .annotate(minutes=Sum("minutes"))``. SQL because it becomes part of a larger statement
    that ranks every account by cost.
    """
    return render(
        sql.SQL(
            "SELECT account_id, SUM(minutes) AS minutes FROM {touchpoints} "
            "WHERE occurred_at >= %(since)s GROUP BY account_id"
        ).format(touchpoints=table(Touchpoint))
    )
