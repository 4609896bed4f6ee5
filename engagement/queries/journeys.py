"""Journey enrolments: the scheduler's write of where each enrolment stands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from psycopg import sql

from ..models import JourneyEnrolment
from ._sql import render, table

_WRITE_PROGRESS = sql.SQL("""
    UPDATE {enrolments} AS e
    SET status = v.status, next_position = v.next_position, next_due_at = v.next_due_at,
        waiting_reason = v.waiting_reason, capped_count = v.capped_count
    FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(positions)s::integer[],
                %(due_ats)s::timestamptz[], %(waiting_reasons)s::text[], %(capped_counts)s::integer[])
         AS v(id, status, next_position, next_due_at, waiting_reason, capped_count)
    WHERE e.id = v.id
""")


def journey_enrolments_write_progress(*, enrolments: Sequence[JourneyEnrolment]) -> None:
    """Write each enrolment's status, next position, due time, wait reason and cap count as they
    stand on the instances, in one statement (nothing else of the row changes).

    Mirrors ``JourneyEnrolment.objects.bulk_update(enrolments, [those fields])``. SQL because
    ``bulk_update`` builds a CASE per column and row and costs more than rendering the emails
    the scheduler queues.
    """
    if not enrolments:
        return
    params: dict[str, Any] = {
        "ids": [e.pk for e in enrolments],
        "statuses": [e.status for e in enrolments],
        "positions": [e.next_position for e in enrolments],
        "due_ats": [e.next_due_at for e in enrolments],
        "waiting_reasons": [e.waiting_reason for e in enrolments],
        "capped_counts": [e.capped_count for e in enrolments],
    }
    with connection.cursor() as cursor:
        cursor.execute(render(_WRITE_PROGRESS.format(enrolments=table(JourneyEnrolment))), params)
