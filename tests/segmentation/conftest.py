from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from accounts.models import Account
from segmentation.services.reviews import tier_review_run, tier_review_start
from tests.factories import AccountFactory


@pytest.fixture
def run_review(db: None) -> Callable[..., Any]:
    """run_review() -> the finished TierReview (eager Celery already ran it on commit)."""

    def run(**kwargs: Any) -> Any:
        review = tier_review_start(**kwargs)
        review.refresh_from_db()
        if review.status != "finished":  # when the task did not run eagerly
            tier_review_run(review_id=review.pk)
            review.refresh_from_db()
        return review

    return run


@pytest.fixture
def account_with(db: None) -> Callable[..., Account]:
    def make(acv: str | int, **fields: Any) -> Account:
        return AccountFactory(acv=Decimal(str(acv)), **fields)

    return make
