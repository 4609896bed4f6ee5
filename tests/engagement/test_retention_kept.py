"""Retention's kept segments: the historical answers of an ended renewal day and the per-day sums
are read instead of history, follow edits, deletes and late deliveries, and agree with the history
look-ups on generated histories."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, RenewalOutcome
from engagement.coverage.services import module_delivery_record
from engagement.models import DeliverySource
from engagement.retention.queries import HISTORICAL, retention_outcomes
from engagement.retention.services import renewal_segments_settle
from playbooks.models import ServiceModule, TierEntitlement
from segmentation.models import (
    AccountHealth,
    HealthScorecard,
    ScorecardStatus,
    Tier,
    TierChange,
    TierOverride,
)
from tests.engagement.test_retention import (
    PERIOD,
    URL,
    at_noon,
    deliver,
    make_book,
    renewal,
    rows_by_group,
    tier_change,
)
from tests.engagement.test_retention_agree import rolled_back
from tests.factories import AccountFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice: Any, bob: Any) -> dict[str, Account]:
    """The four renewals of 2026 and one of 2025 described in ``test_retention.make_book``."""
    return make_book(alice, bob)


def test_kept_segments_are_read_instead_of_history(book, lena, api_client, django_assert_max_num_queries):
    tier_change(book["retail-1"], "MM1", at_noon(dt.date(2025, 6, 1)))
    assert renewal_segments_settle() == 5  # every outcome's renewal day has ended
    assert renewal_segments_settle() == 0  # kept: nothing left to answer
    kept = RenewalOutcome.objects.get(account=book["retail-1"], renewal_date=dt.date(2026, 3, 1))
    assert kept.segments_at_renewal["tier"] == "MM1"
    assert kept.segments_at_renewal["touch_model"] == "hybrid"
    assert kept.segments_at_renewal["override"] == "policy"
    # History rewritten behind the report's back (never done by the product): the kept answer holds.
    TierChange.objects.all().delete()
    api_client.force_authenticate(lena)
    with django_assert_max_num_queries(4):
        body = api_client.get(URL, {**PERIOD, "by": "tier"}).json()
    assert rows_by_group(body)["MM1"]["renewals"] == 1


def test_the_day_sums_follow_an_outcome_changed_or_deleted_after_it_was_kept(
    book, lena, api_client, integration_client
):
    renewal_segments_settle()
    api_client.force_authenticate(lena)
    # The CRM corrects finance-1's contraction to a churn, then the account is deleted.
    response = integration_client.post(
        "/api/v1/renewals/sync/",
        {
            "crm_source": book["finance-1"].crm_source,
            "records": [
                {
                    "external_id": book["finance-1"].external_id,
                    "renewal_date": "2026-05-01",
                    "outcome": "churned",
                    "arr_before": "300.00",
                    "arr_after": "0.00",
                    "churn_reason": "budget",
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    total = api_client.get(URL, {**PERIOD, "by": "tier"}).json()["total"]
    assert (total["renewals"], total["logo_churn"], total["arr_after"]) == (4, "0.5000", "360.00")
    assert RenewalOutcome.objects.get(
        account=book["finance-1"], renewal_date=dt.date(2026, 5, 1)
    ).segments_at_renewal
    book["retail-2"].delete()
    total = api_client.get(URL, {**PERIOD, "by": "tier"}).json()["total"]
    assert (total["renewals"], total["arr_before"], total["arr_after"]) == (3, "500.00", "100.00")


def test_a_renewal_day_not_ended_is_not_kept(lena, api_client):
    today = dt.date.today()
    account = AccountFactory()
    renewal(account, today, "renewed", "100", "100")
    renewal(account, today - dt.timedelta(days=1), "renewed", "100", "100")
    assert renewal_segments_settle() == 1
    assert RenewalOutcome.objects.get(renewal_date=today).segments_at_renewal is None


def test_a_delivery_logged_late_changes_the_coverage_of_kept_renewals(book, lena, api_client):
    mm2 = Tier.objects.get(policy__status="active", code="MM2")
    TierEntitlement.objects.filter(tier=mm2).delete()
    qbr = ServiceModule.objects.get(code="qbr")
    TierEntitlement.objects.create(tier=mm2, module=qbr, cadence_days=90)
    account = book["finance-1"]  # renews 2026-05-01
    tier_change(account, "MM2", at_noon(dt.date(2024, 1, 1)))
    deliver(
        account, qbr, dt.date(2025, 5, 20), dt.date(2025, 8, 10), dt.date(2026, 1, 20), dt.date(2026, 4, 10)
    )
    renewal_segments_settle()
    api_client.force_authenticate(lena)
    before = rows_by_group(api_client.get(URL, {**PERIOD, "by": "coverage"}).json())
    assert before["late"]["renewals"] == 1
    # The missing QBR of October 2025, logged now: the gap closes.
    module_delivery_record(
        account_id=account.pk,
        module_code="qbr",
        delivered_at=at_noon(dt.date(2025, 10, 25)),
        source=DeliverySource.MANUAL,
        source_id=None,
    )
    forgotten = RenewalOutcome.objects.get(account=account, renewal_date=dt.date(2026, 5, 1))
    assert forgotten.segments_at_renewal is None
    # An earlier renewal of another account keeps its segments.
    assert RenewalOutcome.objects.filter(segments_at_renewal__isnull=False).count() == 4
    after = rows_by_group(api_client.get(URL, {**PERIOD, "by": "coverage"}).json())
    assert "late" not in after and after["on_time"]["renewals"] == 4


DAYS = st.integers(min_value=-500, max_value=330)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    renewal_days=st.lists(DAYS, min_size=1, max_size=6, unique=True),
    changes=st.lists(st.tuples(st.sampled_from(["ENT", "MM1", "MM2", "MM3"]), DAYS), max_size=4),
    overrides=st.lists(st.tuples(DAYS, st.integers(min_value=0, max_value=120)), max_size=2),
    health=st.lists(st.tuples(DAYS, st.sampled_from(["healthy", "watch", "at_risk"])), max_size=4),
    deliveries=st.lists(DAYS, max_size=5),
)
def test_kept_segments_agree_with_history_for_every_dimension(
    renewal_days, changes, overrides, health, deliveries
) -> None:
    start = dt.date(2026, 1, 1)
    with rolled_back():
        account = AccountFactory()
        mm2 = Tier.objects.get(policy__status="active", code="MM2")
        TierEntitlement.objects.update_or_create(
            tier=mm2, module=ServiceModule.objects.get(code="qbr"), defaults={"cadence_days": 90}
        )
        for day in renewal_days:
            renewal(account, start + dt.timedelta(days=day), "renewed", "100", "100")
        for code, day in changes:
            tier_change(account, code, at_noon(start + dt.timedelta(days=day)))
        for day, length in overrides:
            TierOverride.objects.create(
                account=account,
                tier_code="ENT",
                tier_name="Enterprise",
                tier_rank=1,
                policy_tier_code="MM2",
                policy_tier_rank=3,
                reason="strategic_logo",
                note="test",
                expires_on=start + dt.timedelta(days=day + length),
                status="expired",
                requested_by=UserFactory(),
                activated_at=at_noon(start + dt.timedelta(days=day)),
            )
        scorecard = HealthScorecard.objects.get(status=ScorecardStatus.ACTIVE)
        for day, band in {d: b for d, b in health}.items():
            AccountHealth.objects.create(
                account=account, date=start + dt.timedelta(days=day), score=50, band=band, scorecard=scorecard
            )
        deliver(
            account,
            ServiceModule.objects.get(code="qbr"),
            *sorted({start + dt.timedelta(days=d) for d in deliveries}),
        )
        period = {"date_from": start - dt.timedelta(days=500), "date_to": start + dt.timedelta(days=330)}
        live = {by: retention_outcomes(**period, by=by) for by in HISTORICAL}
        live_sums = {by: retention_outcomes(**period, by=by, summed=True) for by in HISTORICAL}
        renewal_segments_settle()
        for by in HISTORICAL:
            assert retention_outcomes(**period, by=by) == live[by], by
            assert retention_outcomes(**period, by=by, summed=True) == live_sums[by], by
