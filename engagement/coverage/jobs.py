"""Celery jobs that recompute coverage (and, nightly, the capacity summary). Thin, safe to run twice;
names are stored."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from csplatform.scheduling import claim_slot

from ..capacity import services as capacity
from . import services as coverage


@shared_task(name="engagement.coverage_recompute_accounts")
def coverage_recompute_accounts(*, account_ids: list[int]) -> None:
    coverage.coverage_recompute(account_ids=account_ids)


@shared_task(name="engagement.coverage_nightly")
def coverage_nightly() -> None:
    if not claim_slot("engagement.coverage_nightly", every=timedelta(days=1)):
        return
    coverage.coverage_recompute()
    capacity.csm_portfolio_refresh()
    capacity.csm_task_load_compact()
