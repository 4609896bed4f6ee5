"""The kept cost-to-serve inputs (``AccountCostInputs``): the usage triggers keep the tickets as
usage is written; the rows a touchpoint write marked are counted again before they are read, and
every row is counted again in full once a day (the window moves) by the nightly job."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ..economics import cost_window_start
from ..models import CostInputsWindow
from ..queries import cost_inputs as cost_inputs_sql


def cost_inputs_bring_current(*, today: dt.date | None = None) -> int:
    """Make the kept inputs those of ``today``'s cost window: every row counted again when the
    window moved since the last count, else only the rows a (touchpoint) write marked. Returns rows
    counted."""
    since = cost_window_start(today or timezone.localdate())
    with transaction.atomic():
        window, _ = CostInputsWindow.objects.select_for_update().get_or_create(pk=1)
        if window.window_start == since:
            return cost_inputs_sql.cost_inputs_count_stale(since=since)
        counted = cost_inputs_sql.cost_inputs_count_all(since=since)
        window.window_start, window.counted_at = since, timezone.now()
        window.save(update_fields=["window_start", "counted_at"])
        return counted
