"""What-if simulation, relationship economics, the feedback loop and the periodic tasks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account
from segmentation import economics, simulation
from segmentation.jobs import expire_overrides, nightly_review
from segmentation.models import TierChange, TierReview
from segmentation.selectors import simulation_moving_accounts
from segmentation.services import (
    account_cost_to_serve,
    override_feedback,
    tier_override_request,
    tier_policy_simulate,
    tier_policy_update,
)
from tests.factories import AccountFactory, UsageSnapshotFactory
from tests.segmentation.factories import make_draft


def test_simulating_a_draft_shows_what_would_move_and_writes_nothing(lena, run_review, monkeypatch):
    accounts = [AccountFactory(acv=Decimal(acv)) for acv in ("80000", "60000", "55000", "20000", "5000")]
    run_review()
    draft = make_draft()
    tiers = [
        {"code": "ENT", "name": "Enterprise", "rank": 1, "touch_model": "high", "min_acv": Decimal("58000")},
        {
            "code": "MM1",
            "name": "Mid-Market Tier 1",
            "rank": 2,
            "touch_model": "hybrid",
            "min_acv": Decimal("40000"),
        },
        {
            "code": "MM2",
            "name": "Mid-Market Tier 2",
            "rank": 3,
            "touch_model": "hybrid",
            "min_acv": Decimal("15000"),
        },
        {
            "code": "MM3",
            "name": "Mid-Market Tier 3",
            "rank": 4,
            "touch_model": "digital",
            "min_acv": Decimal("0"),
        },
    ]
    tier_policy_update(policy=draft, by=lena, tiers=tiers)
    monkeypatch.setattr(simulation, "_hours_estimator", None)
    before = list(Account.objects.order_by("id").values_list("tier_code", "tier_explanation"))
    changes = TierChange.objects.count()
    with CaptureQueriesContext(connection) as queries:
        result = tier_policy_simulate(policy=draft)
    assert not [
        q
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert list(Account.objects.order_by("id").values_list("tier_code", "tier_explanation")) == before
    assert TierChange.objects.count() == changes

    figures = {t.code: (t.accounts_before, t.acv_before, t.accounts_after, t.acv_after) for t in result.tiers}
    assert figures == {
        "ENT": (1, Decimal("80000"), 2, Decimal("140000")),
        "MM1": (2, Decimal("115000"), 1, Decimal("55000")),
        "MM2": (1, Decimal("20000"), 1, Decimal("20000")),
        "MM3": (1, Decimal("5000"), 1, Decimal("5000")),
    }
    assert result.matrix[("MM1", "ENT")] == 1 and result.matrix[("MM1", "MM1")] == 1
    assert result.moving == 1
    assert all(t.hours_after is None for t in result.tiers)
    page = simulation_moving_accounts(result=result, page=1, page_size=10)
    assert [(r["account"].pk, r["from_code"], r["to_code"]) for r in page["rows"]] == [
        (accounts[1].pk, "MM1", "ENT")
    ]
    assert page["has_next"] is False


def test_simulation_reports_hours_once_an_estimator_is_registered(db, monkeypatch):
    AccountFactory(acv=Decimal("80000"))
    monkeypatch.setattr(
        simulation, "_hours_estimator", lambda counts: {c: n * 2.0 for c, n in counts.items()}
    )
    result = tier_policy_simulate(policy=make_draft())
    assert result.hours_after_total == 2.0
    assert {t.code: t.hours_after for t in result.tiers}["ENT"] == 2.0


def test_cost_to_serve_counts_minutes_and_tickets_over_a_year(db, monkeypatch, settings):
    settings.CSM_HOURLY_COST = 100.0
    settings.SUPPORT_TICKET_COST = 10.0
    settings.ECONOMICS_HIGH_COST_TO_SERVE = 1000.0
    today = timezone.localdate()
    account = AccountFactory(acv=Decimal("20000"), contract_start=today - dt.timedelta(days=800))
    UsageSnapshotFactory(account=account, period_start=today - dt.timedelta(days=10), support_tickets=5)
    UsageSnapshotFactory(account=account, period_start=today - dt.timedelta(days=400), support_tickets=50)
    monkeypatch.setattr(economics, "_minutes_sql", None)
    assert account_cost_to_serve(account_id=account.pk)["cost_to_serve"] == Decimal("50.00")
    monkeypatch.setattr(
        economics,
        "_minutes_sql",
        f"SELECT {account.pk} AS account_id, 600 AS minutes WHERE %(since)s IS NOT NULL",
    )
    result = account_cost_to_serve(account_id=account.pk)
    assert result["cost_to_serve"] == Decimal("1050.00")  # 10 h × 100 + 5 tickets × 10
    assert result["quadrant"] == "low_revenue_high_cost"


def test_a_young_account_is_annualised(db, monkeypatch, settings):
    settings.SUPPORT_TICKET_COST = 10.0
    monkeypatch.setattr(economics, "_minutes_sql", None)
    today = timezone.localdate()
    account = AccountFactory(acv=Decimal("20000"), contract_start=today - dt.timedelta(days=73))
    UsageSnapshotFactory(account=account, period_start=today - dt.timedelta(days=10), support_tickets=2)
    assert account_cost_to_serve(account_id=account.pk)["cost_to_serve"] == Decimal("100.00")  # 20 × 365/73


def test_feedback_groups_overrides_and_suggests_a_rule(lena, run_review):
    accounts = AccountFactory.create_batch(3, acv=Decimal("9000"))
    run_review()
    for account in accounts[:2]:
        tier_override_request(
            account=account, by=lena, tier_code="MM2", reason="executive_sponsor", note="Sponsor"
        )
    tier_override_request(account=accounts[2], by=lena, tier_code="MM1", reason="strategic_logo", note="Logo")
    groups = override_feedback()
    assert [(g.reason, g.policy_tier_code, g.tier_code, g.accounts) for g in groups] == [
        ("executive_sponsor", "MM3", "MM2", 2),
        ("strategic_logo", "MM3", "MM1", 1),
    ]
    assert groups[0].suggestion == (
        "2 MM3 accounts overridden to MM2 for executive sponsor: "
        "consider a floor rule on has_executive_sponsor."
    )
    review = run_review()
    assert [(s.reason, s.accounts) for s in review.override_summaries.order_by("reason")] == [
        ("executive_sponsor", 2),
        ("strategic_logo", 1),
    ]


def test_the_nightly_review_runs_once_per_slot(db, django_capture_on_commit_callbacks):
    AccountFactory(acv=Decimal("80000"))
    with django_capture_on_commit_callbacks(execute=True):
        nightly_review.apply()
        nightly_review.apply()
    assert TierReview.objects.count() == 1
    assert TierReview.objects.get().trigger == "schedule"
    assert TierReview.objects.get().status == "finished"


def test_the_daily_expiry_task_falls_back_to_the_policy(lena, run_review, time_machine):
    account = AccountFactory(acv=Decimal("9000"))
    run_review()
    tier_override_request(
        account=account,
        by=lena,
        tier_code="MM2",
        reason="at_risk",
        note="x",
        expires_on=timezone.localdate() + dt.timedelta(days=1),
    )
    time_machine.move_to(timezone.now() + dt.timedelta(days=3))
    expire_overrides.apply()
    account.refresh_from_db()
    assert (account.tier_code, account.tier_source) == ("MM3", "policy")
