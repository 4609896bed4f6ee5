"""A churned account leaves the active book (tier totals, coverage, capacity, worklist) and comes
back when a later renewal un-churns it; renewals and health band changes on the timeline; health
on the account page and the worklist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.services.renewals import renewal_record
from engagement.capacity.selectors import csm_capacity
from engagement.coverage.selectors import coverage_share
from engagement.coverage.services import coverage_recompute
from engagement.models import CsmPortfolioSummary, EntitlementCoverage
from segmentation.models import AccountHealth, HealthScorecard, ScorecardStatus, TierReview
from tests.engagement.factories import tiered_account
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _renewal(account, outcome, *, days_ago, capture, **fields):
    arr = Decimal("60000")
    with capture(execute=True):
        renewal_record(
            account=account,
            renewal_date=TODAY - dt.timedelta(days=days_ago),
            outcome=outcome,
            arr_before=arr,
            arr_after=Decimal("0") if outcome == "churned" else fields.pop("arr_after", arr),
            churn_reason="budget" if outcome == "churned" else "",
            actor=None,
            source="web",
        )
    account.refresh_from_db()


def _book_figures(alice):
    """What each place that counts the active book says about alice's MM1 accounts."""
    capacity = csm_capacity(csm_ids=[alice.pk])[0]
    summary = sum(CsmPortfolioSummary.objects.filter(csm=alice).values_list("accounts", flat=True))
    coverage_accounts = set(EntitlementCoverage.objects.values_list("account_id", flat=True))
    by_tier = {row.key: row.planned for row in coverage_share(group_by="tier", today=TODAY)}
    return capacity.accounts, summary, coverage_accounts, by_tier.get("MM1")


def test_churn_leaves_coverage_capacity_and_worklist_and_a_renewal_brings_it_back(
    alice, signed_in, django_capture_on_commit_callbacks
):
    gone = tiered_account("MM1", csm=alice, name="Gone Co", tiered_on=TODAY - dt.timedelta(days=200))
    stay = tiered_account("MM1", csm=alice, name="Stay Co", tiered_on=TODAY - dt.timedelta(days=200))
    coverage_recompute()
    from engagement.capacity.services import csm_portfolio_refresh

    csm_portfolio_refresh()
    accounts, summary, covered, planned_before = _book_figures(alice)
    assert (accounts, summary, covered) == (2, 2, {gone.pk, stay.pk})

    _renewal(gone, "churned", days_ago=5, capture=django_capture_on_commit_callbacks)
    assert gone.lifecycle_stage == "churned"
    accounts, summary, covered, planned = _book_figures(alice)
    assert (accounts, summary, covered) == (1, 1, {stay.pk})
    assert planned == planned_before / 2
    client = signed_in(alice)
    body = client.get("/").content.decode()
    assert "Stay Co" in body and "Gone Co" not in body
    assert "1 account" in client.get("/worklist/capacity/", headers={"HX-Request": "true"}).content.decode()
    page = client.get(f"/accounts/{gone.pk}/").content.decode()
    assert 'data-testid="churn-banner"' in page and "not in the active book" in page

    _renewal(gone, "renewed", days_ago=1, capture=django_capture_on_commit_callbacks)
    assert gone.lifecycle_stage != "churned"
    accounts, summary, covered, _ = _book_figures(alice)
    assert (accounts, summary, covered) == (2, 2, {gone.pk, stay.pk})  # owed its tier's service again
    assert "Gone Co" in client.get("/").content.decode()


def _run_review(client, capture):
    with capture(execute=True):
        assert client.post("/reviews/start/").status_code == 302
    return TierReview.objects.latest("id")


def test_tier_totals_leave_out_churned_accounts_before_and_after_the_review(
    alice, lena, signed_in, django_capture_on_commit_callbacks
):
    ent = [AccountFactory(csm=alice, acv=Decimal("80000")) for _ in range(3)]
    AccountFactory(csm=alice, acv=Decimal("80000"), lifecycle_stage="churned")
    leader = signed_in(lena)
    panel = leader.get("/overview/tier-distribution/").content.decode()  # counted live before a review
    _run_review(leader, django_capture_on_commit_callbacks)
    summary = TierReview.objects.latest("id").tier_summaries.get(tier_code="ENT")
    assert (summary.accounts, summary.acv_sum) == (3, Decimal("240000"))
    panel = leader.get("/overview/tier-distribution/").content.decode()
    assert 'data-testid="tier-count-ENT">3<' in panel

    _renewal(ent[0], "churned", days_ago=3, capture=django_capture_on_commit_callbacks)
    panel = leader.get("/overview/tier-distribution/").content.decode()
    assert 'data-testid="tier-count-ENT">2<' in panel
    _renewal(
        ent[0], "expanded", days_ago=1, capture=django_capture_on_commit_callbacks, arr_after=Decimal("90000")
    )
    panel = leader.get("/overview/tier-distribution/").content.decode()
    assert 'data-testid="tier-count-ENT">3<' in panel


def _health(account, days_ago, score, band, summary=""):
    scorecard = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)
    return AccountHealth.objects.create(
        account=account,
        date=TODAY - dt.timedelta(days=days_ago),
        score=score,
        band=band,
        scorecard=scorecard,
        summary=summary,
    )


def _with_history(account):
    """Healthy 40 days ago, watch from 20 days ago, at risk today; the columns hold today's."""
    _health(account, 40, 82, "healthy")
    _health(account, 39, 80, "healthy")
    _health(account, 20, 61, "watch")
    _health(account, 0, 35, "at_risk", summary="Health 35 (at risk): usage fell 40% in 90 days.")
    Account.objects.filter(pk=account.pk).update(health_score=35, health_band="at_risk", health_on=TODAY)


def test_timeline_shows_renewals_and_health_band_changes_in_bounded_queries(
    alice, signed_in, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    account = tiered_account("MM1", csm=alice, name="Timeline Co")
    _with_history(account)
    _renewal(
        account,
        "contracted",
        days_ago=10,
        capture=django_capture_on_commit_callbacks,
        arr_after=Decimal("45000"),
    )
    client = signed_in(alice)
    with django_assert_max_num_queries(14):
        body = client.get(
            reverse("engagement:account-timeline", args=[account.pk]), headers={"HX-Request": "true"}
        ).content.decode()
    assert "Renewal</span>" in body and "Contracted on" in body and "60,000.00 → 45,000.00" in body
    assert "Healthy → Watch (score 61)" in body
    assert "Watch → At risk (score 35)" in body
    assert body.count("Health</span>") == 2  # the first day and unchanged days are not changes


def test_account_page_shows_health_its_sentence_trend_and_chart_data(alice, signed_in):
    account = tiered_account("MM1", csm=alice, name="Health Co")
    _with_history(account)
    client = signed_in(alice)
    page = client.get(f"/accounts/{account.pk}/").content.decode()
    assert 'data-testid="health-stat"' in page and "35 · At risk" in page
    assert reverse("segmentation:health-section", args=[account.pk]) in page
    section = client.get(
        reverse("segmentation:health-section", args=[account.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert 'data-testid="health-score">35<' in section and "badge-bad" in section
    assert "usage fell 40% in 90 days" in section
    assert 'data-testid="health-trend">-45 over 30 days<' in section  # 35 now, 80 on the day 39 days ago
    assert 'id="chart-health"' in section and '"data": [82, 80, 61, 35]' in section
    assert "<script>" not in section  # data in json_script only; the chart is drawn by static JS


def test_account_without_health_says_so(alice, signed_in):
    account = tiered_account("MM1", csm=alice)
    section = signed_in(alice).get(reverse("segmentation:health-section", args=[account.pk])).content.decode()
    assert "No health computed yet." in section


def test_worklist_shows_health_badges_and_filters_by_band_in_bounded_queries(
    alice, signed_in, django_assert_max_num_queries
):
    risky = AccountFactory(
        csm=alice, name="Risky Co", health_score=30, health_band="at_risk", health_on=TODAY
    )
    AccountFactory(csm=alice, name="Fine Co", health_score=88, health_band="healthy", health_on=TODAY)
    AccountFactory.create_batch(20, csm=alice, health_score=70, health_band="watch", health_on=TODAY)
    client = signed_in(alice)
    with django_assert_max_num_queries(12):
        body = client.get("/").content.decode()
    assert "30 · At risk" in body and 'data-testid="health-badge"' in body
    with django_assert_max_num_queries(12):
        body = client.get("/", {"health": "at_risk"}).content.decode()
    assert "Risky Co" in body and "Fine Co" not in body
    assert body.count('id="worklist-row-') == 1
    assert 'value="at_risk" selected' in body
    assert client.get("/", {"health": "nonsense"}).status_code == 400  # a bad filter is reported
    del risky
