"""Reads of account health and health scorecards shaped for the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import DateField, ExpressionWrapper, OuterRef, QuerySet, Subquery

from accounts.models import Account
from accounts.selectors import register_account_annotation

from .models import AccountHealth, HealthScorecard

# The trend compares the latest score with the one this many days before it.
TREND_DAYS = 30


def _latest_row(column: str) -> Subquery:
    """``column`` of the account's AccountHealth row for its latest health day."""
    return Subquery(
        AccountHealth.objects.filter(account=OuterRef("pk"), date=OuterRef("health_on")).values(column)[:1]
    )


def score_trend_days_before() -> Subquery:
    """The score on the latest day with health at least ``TREND_DAYS`` days before the account's
    latest health (null without such history)."""
    cutoff = ExpressionWrapper(
        OuterRef("health_on") - dt.timedelta(days=TREND_DAYS), output_field=DateField()
    )
    return Subquery(
        AccountHealth.objects.filter(account=OuterRef("pk"), date__lte=cutoff)
        .order_by("-date")
        .values("score")[:1]
    )


def register_api_columns() -> None:
    """The accounts API shows the health sentence, scorecard version and trend (accounts cannot read
    segmentation's history itself): three correlated subqueries on (account, date), in the list's
    own query."""
    register_account_annotation("health_summary", lambda: _latest_row("summary"))
    register_account_annotation("health_scorecard_version", lambda: _latest_row("scorecard__version"))
    register_account_annotation("health_score_30d_before", score_trend_days_before)


def account_health_history(*, account: Account) -> QuerySet[AccountHealth]:
    """One row a day, newest first, with its scorecard's version."""
    return AccountHealth.objects.filter(account=account).select_related("scorecard").order_by("-date")


def health_scorecards() -> QuerySet[HealthScorecard]:
    """Every version, newest first, with its components (two queries)."""
    return HealthScorecard.objects.prefetch_related("components").order_by("-version")


def scorecard_bands(scorecard: HealthScorecard) -> dict[str, Any]:
    return {"watch_from": scorecard.watch_from, "healthy_from": scorecard.healthy_from}
