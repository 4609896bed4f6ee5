"""The batches of a tier review and of the nightly health run commit without waiting for the WAL
flush (``synchronous_commit = off`` in their transactions only); an event-driven evaluation, whose
caller is waiting, keeps the server's setting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from segmentation.models import AccountHealth, TierChange, TierReview
from segmentation.services import health, reviews
from segmentation.services.health_scorecards import health_scorecard_activate, health_scorecard_create_draft
from tests.factories import AccountFactory
from tests.segmentation.test_health import FLAGS_AND_TOUCH
from tests.segmentation.test_review_workers import _active_policy

pytestmark = pytest.mark.django_db


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def _recording(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[str]:
    seen: list[str] = []
    real = getattr(module, name)

    def recorded(**kwargs: Any) -> Any:
        seen.append(_synchronous_commit())
        return real(**kwargs)

    monkeypatch.setattr(module, name, recorded)
    return seen


def _activate_scorecard(by: Any) -> None:
    draft = health_scorecard_create_draft(by=by, components=FLAGS_AND_TOUCH)
    health_scorecard_activate(scorecard=draft, by=by)


def test_a_review_batch_commits_without_waiting_for_the_flush(monkeypatch) -> None:
    accounts = [AccountFactory(acv=Decimal(acv)) for acv in (5_000, 30_000, 150_000)]
    review = TierReview.objects.create(policy=_active_policy(), accounts_total=len(accounts))
    seen = _recording(monkeypatch, reviews, "evaluate_batch")
    assert reviews.tier_review_run(review_id=review.pk) is not None
    assert seen and set(seen) == {"off"}
    assert TierChange.objects.filter(review=review).count() == len(accounts)


def test_a_nightly_health_batch_commits_without_waiting_for_the_flush(monkeypatch, lena) -> None:
    _activate_scorecard(lena)
    AccountFactory.create_batch(2)
    seen = _recording(monkeypatch, health, "_compute_batch")
    assert health.health_compute_book() == 2
    assert seen == ["off"] and AccountHealth.objects.count() == 2


def test_an_event_driven_health_recompute_keeps_the_servers_setting(monkeypatch, lena) -> None:
    _activate_scorecard(lena)
    account = AccountFactory()
    servers_setting = _synchronous_commit()
    seen = _recording(monkeypatch, health, "_compute_batch")
    assert health.health_compute_accounts(account_ids=[account.pk]) == 1
    assert seen == [servers_setting]
