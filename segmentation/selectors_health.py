"""Reads of account health and health scorecards shaped for the API and the account page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import DateField, ExpressionWrapper, OuterRef, QuerySet, Subquery

from accounts.models import Account
from accounts.selectors import register_account_annotation

from .models import AccountHealth, HealthBand, HealthScorecard

# The trend compares the latest score with the one this many days before it.
TREND_DAYS = 30
# The account page's chart shows this many days of history.
CHART_DAYS = 90
# Badge colour per band, on every page that shows health.
BAND_BADGES: dict[str, str] = {HealthBand.HEALTHY: "ok", HealthBand.WATCH: "warn", HealthBand.AT_RISK: "bad"}


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


@dataclass
class AccountHealthPanel:
    """The account page's health: the latest score and band, why, the 30-day trend and a chart."""

    score: int | None
    band: str
    band_label: str
    badge: str
    as_of: dt.date | None
    summary: str
    trend_30d: int | None
    chart: dict[str, Any] = field(default_factory=dict)


def account_health_panel(*, account: Account) -> AccountHealthPanel:
    """The latest health (the account's columns), its sentence and the last ``CHART_DAYS`` days of
    history (one query), and the 30-day trend as the API computes it (one more query only when the
    window holds no day ``TREND_DAYS`` before the latest)."""
    labels = dict(HealthBand.choices)
    panel = AccountHealthPanel(
        score=account.health_score,
        band=account.health_band,
        band_label=labels.get(account.health_band, ""),
        badge=BAND_BADGES.get(account.health_band, "outline"),
        as_of=account.health_on,
        summary="",
        trend_30d=None,
    )
    if account.health_on is None or account.health_score is None:
        return panel
    since = account.health_on - dt.timedelta(days=CHART_DAYS - 1)
    history = list(
        AccountHealth.objects.filter(account=account, date__gte=since, date__lte=account.health_on)
        .order_by("date")
        .values_list("date", "score", "summary")
    )
    if history and history[-1][0] == account.health_on:
        panel.summary = history[-1][2]
    cutoff = account.health_on - dt.timedelta(days=TREND_DAYS)
    before = [score for day, score, _ in history if day <= cutoff]
    if before:
        panel.trend_30d = account.health_score - before[-1]
    else:
        older = (
            AccountHealth.objects.filter(account=account, date__lte=cutoff)
            .order_by("-date")
            .values_list("score", flat=True)
            .first()
        )
        panel.trend_30d = None if older is None else account.health_score - older
    panel.chart = {
        "type": "line",
        "labels": [day.isoformat() for day, _, _ in history],
        "yLabel": "health score",
        "datasets": [{"label": "Health score", "data": [score for _, score, _ in history]}],
    }
    return panel
