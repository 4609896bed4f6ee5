"""Relationship economics services; the SQL and the minutes hook live in segmentation.economics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .. import economics


def account_cost_to_serve(*, account_id: int, today: dt.date | None = None) -> dict[str, Any]:
    """{"acv", "cost_to_serve" (annual), "quadrant", "quadrant_label"} of one account."""
    return economics.account_economics(account_id, today or timezone.localdate())
