"""Calendar days in the account's time zone: cadences and due dates count the customer's days.

A call at 23:30 UTC on 31 January with a customer in Singapore happened on 1 February for them;
"every 30 days" counts from that local day. Pages and dashboards count the site's days
(``local_today``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from accounts.models import REGION_TIME_ZONES


def local_today() -> dt.date:
    """Today in the site's time zone, as pages and dashboards count days."""
    return timezone.localdate()


def region_zone(region: str) -> ZoneInfo:
    return ZoneInfo(REGION_TIME_ZONES.get(region, settings.TIME_ZONE))  # type: ignore[call-overload]


def local_date(moment: dt.datetime, *, region: str) -> dt.date:
    """The calendar day of ``moment`` for an account in ``region``."""
    return timezone.localtime(moment, region_zone(region)).date()


def account_today(*, region: str, now: dt.datetime | None = None) -> dt.date:
    return local_date(now or timezone.now(), region=region)


def due_date(*, last: dt.date, cadence_days: int) -> dt.date:
    """The next due day: ``cadence_days`` calendar days after ``last`` (month ends roll over)."""
    return last + dt.timedelta(days=cadence_days)
