"""seed_demo's past: renewal outcomes that follow the generated usage, and health history."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from accounts import seeding
from accounts.models import Account, LifecycleStage, RenewalOutcome, UsageSnapshot
from csplatform.models import User
from engagement.retention.services import retention_report
from segmentation.models import AccountHealth, TierOverride

pytestmark = pytest.mark.django_db


def outcomes_of_seed(accounts: int, seed: int) -> list[tuple[Any, ...]]:
    with transaction.atomic():
        seeding.seed_demo(accounts=accounts, seed=seed)
        rows = list(
            RenewalOutcome.objects.order_by("account__external_id", "renewal_date").values_list(
                "account__external_id", "renewal_date", "outcome", "arr_before", "arr_after", "churn_reason"
            )
        )
        transaction.set_rollback(True)
    return rows


def usage_trend(account_id: int) -> str:
    users = list(
        UsageSnapshot.objects.filter(account_id=account_id)
        .order_by("period_start")
        .values_list("active_users", flat=True)
    )
    early, late = sum(users[:4]) or 1, sum(users[-4:])
    return "growing" if late > early * 1.3 else "declining" if late < early * 0.7 else "other"


def test_the_same_seed_records_the_same_outcomes_and_another_seed_others() -> None:
    first = outcomes_of_seed(150, 5)
    assert first
    assert outcomes_of_seed(150, 5) == first
    assert outcomes_of_seed(150, 6) != first


def test_outcomes_follow_the_rules_and_agree_with_the_accounts_contracts() -> None:
    seeding.seed_demo(accounts=600, seed=3)
    today = timezone.localdate()
    by_account: dict[int, list[RenewalOutcome]] = defaultdict(list)
    for outcome in RenewalOutcome.objects.order_by("renewal_date"):
        by_account[outcome.account_id].append(outcome)
    assert 300 < sum(len(rows) for rows in by_account.values()) < 900

    accounts = Account.objects.in_bulk(list(by_account))
    for account_id, rows in by_account.items():
        account = accounts[account_id]
        for earlier, later in itertools.pairwise(rows):
            assert earlier.outcome != "churned"  # nothing after a churn
            assert later.arr_before == earlier.arr_after  # ARR chains from one renewal to the next
            assert (later.renewal_date - earlier.renewal_date).days in (365, 366)
        for row in rows:
            assert today - dt.timedelta(days=730) <= row.renewal_date < today
            assert account.contract_start is not None
            assert row.renewal_date >= account.contract_start + dt.timedelta(days=364)
            assert row.source == "seed"
            rule = {
                "churned": row.arr_after == 0 and row.churn_reason != "",
                "expanded": row.arr_after > row.arr_before and row.churn_reason == "",
                "contracted": row.arr_after < row.arr_before and row.churn_reason == "",
                "renewed": row.arr_after == row.arr_before and row.churn_reason == "",
            }
            assert rule[row.outcome]
        last = rows[-1]
        if last.outcome == "churned":
            assert account.lifecycle_stage == LifecycleStage.CHURNED
            assert account.renewal_date == last.renewal_date
            assert last.arr_before == account.acv
        else:
            assert account.lifecycle_stage != LifecycleStage.CHURNED
            assert account.renewal_date > today
            assert last.arr_after == account.acv
    churned = Account.objects.filter(lifecycle_stage=LifecycleStage.CHURNED).values_list("pk", flat=True)
    assert all(by_account[pk] and by_account[pk][-1].outcome == "churned" for pk in churned)


def test_declining_accounts_churn_far_more_often_than_growing_ones_and_churn_stays_plausible() -> None:
    seeding.seed_demo(accounts=1500, seed=42)
    renewals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for account_id, outcome in RenewalOutcome.objects.values_list("account_id", "outcome"):
        counts = renewals[usage_trend(account_id)]
        counts[0] += 1
        counts[1] += outcome == "churned"
    declining, growing = renewals["declining"], renewals["growing"]
    assert declining[1] / declining[0] > 2 * growing[1] / growing[0]
    total = sum(c[0] for c in renewals.values())
    churned = sum(c[1] for c in renewals.values())
    assert 0.06 <= churned / total <= 0.16


def test_the_demo_has_health_history_and_a_plausible_retention_report(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        seeding.seed_demo(accounts=400, seed=42)
    today = timezone.localdate()

    live = Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED).exclude(health_on=None)
    assert live.count() > 300
    account = live.order_by("pk").first()
    assert account is not None
    dates = set(AccountHealth.objects.filter(account=account).values_list("date", flat=True))
    assert {today - dt.timedelta(days=back) for back in range(0, 31)} <= dates
    assert today - dt.timedelta(days=84) in dates
    bands = set(AccountHealth.objects.filter(date=today).values_list("band", flat=True))
    assert {"healthy", "watch"} <= bands

    # The backtest and the report's health band read the score 90 days before each renewal.
    year_ago = today - dt.timedelta(days=365)
    recent = RenewalOutcome.objects.filter(renewal_date__gte=year_ago)
    with_history = sum(
        AccountHealth.objects.filter(
            account_id=o.account_id, date__lte=o.renewal_date - dt.timedelta(days=90)
        ).exists()
        for o in recent
    )
    assert with_history == recent.count() > 50

    lena = User.objects.get(username="lena")
    report = retention_report(user=lena, date_from=year_ago, date_to=today, by="tier")
    assert "unknown" not in {row.group for row in report.rows}
    assert report.total.grr is not None and report.total.nrr is not None
    assert Decimal("0.80") <= report.total.grr <= Decimal("0.97")
    assert Decimal("0.88") <= report.total.nrr <= Decimal("1.12")
    by_override = retention_report(user=lena, date_from=year_ago, date_to=today, by="override")
    assert "overridden" in {row.group for row in by_override.rows}
    assert TierOverride.objects.filter(status="expired").exists()
