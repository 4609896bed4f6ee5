"""Engagement's health inputs as they stood on past days (for the scorecard backtest).

- ``days_since_last_touch``: days from the last touchpoint logged before the end of that day
  (UTC; the touch's local day in the account's region) to that day; no value when none.
- ``open_flags``: flags raised by the end of that day and neither closed nor expired by then.
- ``coverage_kept`` has no history (the stored coverage is today's snapshot): not registered, so
  the backtest treats it as missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from segmentation.health_signals import register_health_signal_history

from ..clock import local_date
from .queries import flags_open_at, last_touch_before


def days_since_last_touch_on(account_ids: Sequence[int], days: Sequence[dt.date]) -> list[Any]:
    values: list[Any] = [None] * len(account_ids)
    for position, last, region in last_touch_before(account_ids=account_ids, days=days):
        day = days[position - 1]
        values[position - 1] = max(0, (day - local_date(last, region=region)).days)
    return values


def open_flags_on(account_ids: Sequence[int], days: Sequence[dt.date]) -> list[Any]:
    values: list[Any] = [0] * len(account_ids)
    for position, count in flags_open_at(account_ids=account_ids, days=days):
        values[position - 1] = count
    return values


def register() -> None:
    register_health_signal_history("days_since_last_touch", days_since_last_touch_on)
    register_health_signal_history("open_flags", open_flags_on)
