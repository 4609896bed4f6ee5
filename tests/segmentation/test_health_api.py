"""Health in the API: the accounts' ``health`` field, its filter and ordering, the history and the
scorecards, with their permissions and query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Max

from accounts.models import Account
from segmentation.models import AccountHealth, HealthScorecard, ScorecardStatus
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/accounts/"
TODAY = dt.date(2026, 11, 29)


def _history(account: Account, *days_and_scores: tuple[int, int]) -> None:
    """Health rows ``days`` before TODAY; the latest one is also kept on the account."""
    scorecard = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)
    for days_ago, score in days_and_scores:
        band = "healthy" if score >= 70 else "watch" if score >= 40 else "at_risk"
        AccountHealth.objects.create(
            account=account,
            date=TODAY - dt.timedelta(days=days_ago),
            score=score,
            band=band,
            scorecard=scorecard,
            summary=f"Health {score} ({band.replace('_', ' ')}): test.",
        )
    latest = AccountHealth.objects.filter(account=account).order_by("-date").first()
    assert latest is not None
    Account.objects.filter(pk=account.pk).update(
        health_score=latest.score, health_band=latest.band, health_on=latest.date
    )


def test_health_is_null_before_the_first_computation(integration_client):
    account = AccountFactory()
    assert integration_client.get(f"{LIST}{account.pk}/").json()["health"] is None


def test_health_has_the_fields_of_the_contract(integration_client):
    account = AccountFactory()
    _history(account, (31, 50), (30, 54), (10, 60), (0, 42))
    health = integration_client.get(f"{LIST}{account.pk}/").json()["health"]
    assert health == {
        "score": 42,
        "band": "watch",
        "as_of": "2026-11-29",
        "trend_30d": 42 - 54,
        "scorecard_version": 1,
        "explanation": "Health 42 (watch): test.",
    }


def test_the_trend_is_null_without_history_30_days_back(integration_client):
    account = AccountFactory()
    _history(account, (29, 80), (0, 42))
    assert integration_client.get(f"{LIST}{account.pk}/").json()["health"]["trend_30d"] is None


def test_the_list_filters_by_band_and_orders_by_health(integration_client):
    low, high, middle = AccountFactory(), AccountFactory(), AccountFactory()
    unscored = AccountFactory()
    _history(low, (0, 20))
    _history(high, (0, 90))
    _history(middle, (0, 55))
    ids = [r["id"] for r in integration_client.get(f"{LIST}?ordering=health").json()["results"]]
    assert ids == [low.pk, middle.pk, high.pk, unscored.pk]
    ids = [r["id"] for r in integration_client.get(f"{LIST}?ordering=-health").json()["results"]]
    assert ids == [high.pk, middle.pk, low.pk, unscored.pk]
    at_risk = integration_client.get(f"{LIST}?health_band=at_risk").json()["results"]
    assert [r["id"] for r in at_risk] == [low.pk]
    assert integration_client.get(f"{LIST}?health_band=sick").status_code == 400
    assert integration_client.get(f"{LIST}?ordering=name").status_code == 400


def test_ordering_by_health_pages_with_the_cursor(integration_client):
    accounts = AccountFactory.create_batch(5)
    for index, account in enumerate(accounts):
        _history(account, (0, 50 + index % 2))
    first = integration_client.get(f"{LIST}?ordering=health&page_size=2").json()
    seen = [r["id"] for r in first["results"]]
    page = first
    while page["next"]:
        page = integration_client.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert sorted(seen) == sorted(a.pk for a in accounts) and len(seen) == 5
    scores = [Account.objects.get(pk=pk).health_score for pk in seen]
    assert scores == sorted(scores)


def test_health_and_its_trend_add_no_query_per_row(integration_client, django_assert_max_num_queries):
    for account in AccountFactory.create_batch(20):
        _history(account, (30, 70), (0, 60))
    with django_assert_max_num_queries(5):
        response = integration_client.get(f"{LIST}?page_size=20&ordering=-health")
    assert [r["health"]["trend_30d"] for r in response.json()["results"]] == [-10] * 20


def test_the_history_is_newest_first_with_a_cursor(alice, bob, token_client):
    account = AccountFactory(csm=alice)
    _history(account, (2, 50), (1, 60), (0, 70))
    page = token_client(alice).get(f"{LIST}{account.pk}/health-history/?page_size=2").json()
    assert page["results"] == [
        {"date": "2026-11-29", "score": 70, "band": "healthy", "scorecard_version": 1},
        {"date": "2026-11-28", "score": 60, "band": "watch", "scorecard_version": 1},
    ]
    rest = token_client(alice).get(page["next"]).json()
    assert [r["date"] for r in rest["results"]] == ["2026-11-27"]
    assert token_client(bob).get(f"{LIST}{account.pk}/health-history/").status_code == 404


def test_scorecards_are_read_by_leadership_and_csms(lena, alice, tom, ivan, token_client):
    response = token_client(lena).get("/api/v1/health-scorecards/")
    assert response.status_code == 200
    [scorecard] = response.json()["results"]
    assert scorecard["version"] == 1 and scorecard["status"] == "active"
    assert scorecard["bands"] == {"watch_from": 40, "healthy_from": 70}
    first = scorecard["components"][0]
    assert first["signal"] == "active_users_trend_90d"
    assert first["weight"] == 0.25
    assert first["points"][0] == {"from": -100, "points": 10}
    assert token_client(alice).get("/api/v1/health-scorecards/").status_code == 200
    assert token_client(tom).get("/api/v1/health-scorecards/").status_code == 403
    assert token_client(ivan).get("/api/v1/health-scorecards/").status_code == 403


def test_the_scorecard_list_does_not_query_per_version(lena, token_client, django_assert_max_num_queries):
    from segmentation.services.health_scorecards import health_scorecard_create_draft

    for _ in range(3):
        health_scorecard_create_draft(by=lena)
    assert HealthScorecard.objects.aggregate(top=Max("version"))["top"] == 4
    client = token_client(lena)
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/health-scorecards/")
    assert [s["version"] for s in response.json()["results"]] == [4, 3, 2, 1]
