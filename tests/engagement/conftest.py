from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine

# A fixed "now" for date arithmetic: Sunday 22 November 2026, noon UTC.
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen_now() -> Iterator[dt.datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW
