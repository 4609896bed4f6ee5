from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Account
from segmentation.services.reviews import tier_review_start
from tests.factories import AccountFactory


@pytest.fixture
def run_review(db: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """run_review() -> the finished TierReview: the task enqueued on commit runs eagerly, and so
    do the event tasks it enqueues."""

    def run(**kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            review = tier_review_start(**kwargs)
        review.refresh_from_db()
        return review

    return run


@pytest.fixture
def account_with(db: None) -> Callable[..., Account]:
    def make(acv: str | int, **fields: Any) -> Account:
        return AccountFactory(acv=Decimal(str(acv)), **fields)

    return make
