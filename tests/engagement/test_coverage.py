"""Coverage on a hand-computed fixture; due dates across month ends and time zones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from engagement.clock import due_date
from engagement.coverage.selectors import coverage_for_account, coverage_share, coverage_share_for_period
from engagement.coverage.services import (
    coverage_figures_for_accounts,
    coverage_recompute,
    module_delivery_record,
)
from engagement.models import EntitlementCoverage, ModuleDelivery
from tests.engagement.factories import tiered_account

pytestmark = pytest.mark.django_db


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=dt.UTC)


def deliver(account, module: str, when: dt.datetime, source_id: int) -> None:
    module_delivery_record(
        account_id=account.pk, module_code=module, delivered_at=when, source="manual", source_id=source_id
    )


@pytest.fixture
def portfolio(alice, bob, frozen_now):
    """Today is 2026-11-22; the window is 90 days (deliveries after 2026-08-24 count)."""
    a = tiered_account("MM1", csm=alice, tiered_on=dt.date(2026, 1, 1))  # QBR/90, catch-up/30
    b = tiered_account("MM2", csm=alice, tiered_on=dt.date(2026, 11, 1))  # catch-up/60, webinars/30
    c = tiered_account("MM3", csm=bob)  # no recurring entitlement
    deliver(a, "qbr", at("2026-09-01"), 1)
    deliver(a, "catch_up", at("2026-08-20"), 2)  # before the window
    deliver(a, "catch_up", at("2026-08-31"), 3)
    deliver(a, "catch_up", at("2026-10-01"), 4)
    coverage_recompute()
    return a, b, c


def test_coverage_rows_match_the_hand_computation(portfolio) -> None:
    a, b, c = portfolio
    assert not EntitlementCoverage.objects.filter(account=c).exists(), "MM3 owes no recurring service"
    rows = {(r.account_id, r.module.code): r for r in EntitlementCoverage.objects.select_related("module")}
    assert set(rows) == {(a.pk, "qbr"), (a.pk, "catch_up"), (b.pk, "catch_up"), (b.pk, "webinars")}
    qbr = rows[(a.pk, "qbr")]
    assert (qbr.last_delivered_on, qbr.next_due_on, qbr.delivered_in_window) == (
        dt.date(2026, 9, 1),
        dt.date(2026, 11, 30),
        1,
    )
    assert qbr.planned_in_window == Decimal("1.000")
    catch_up = rows[(a.pk, "catch_up")]
    assert (catch_up.last_delivered_on, catch_up.next_due_on, catch_up.delivered_in_window) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
        2,
    )
    assert catch_up.planned_in_window == Decimal("3.000")
    new_catch_up = rows[(b.pk, "catch_up")]
    assert (new_catch_up.last_delivered_on, new_catch_up.next_due_on) == (None, dt.date(2026, 12, 31))
    # 21 days entitled: neither is due yet (first due after 60 and 30 days), so none is planned.
    assert new_catch_up.planned_in_window == Decimal("0.000")
    assert rows[(b.pk, "webinars")].next_due_on == dt.date(2026, 12, 1)
    assert rows[(b.pk, "webinars")].planned_in_window == Decimal("0.000")


def test_share_delivered_on_time_per_csm_and_per_tier(portfolio, frozen_now) -> None:
    by_csm = {row.key: row for row in coverage_share(group_by="csm", today=frozen_now.date())}
    assert by_csm["alice"].planned == Decimal("4")  # account B owes nothing before its due days
    assert by_csm["alice"].delivered_on_time == Decimal("3")  # min(1,1) + min(2,3)
    assert by_csm["alice"].overdue == 1
    assert round(by_csm["alice"].share, 4) == 0.75
    assert "bob" not in by_csm
    by_tier = {row.key: row for row in coverage_share(group_by="tier", today=frozen_now.date())}
    assert by_tier["MM1"].share == 0.75
    assert by_tier["MM2"].share is None  # nothing due yet: not behind


def test_share_over_a_chosen_period(portfolio, frozen_now) -> None:
    trailing = coverage_share_for_period(start=dt.date(2026, 8, 25), end=frozen_now.date(), group_by="csm")
    stored = coverage_share(group_by="csm", today=frozen_now.date())
    assert [(r.key, r.planned, r.delivered_on_time, r.overdue) for r in trailing] == [
        (r.key, r.planned, r.delivered_on_time, r.overdue) for r in stored
    ]
    # September: QBR planned 30/90 and delivered on 1 Sep; catch-up planned once, not delivered
    # (31 Aug and 1 Oct fall outside); account B was not entitled yet.
    (september,) = coverage_share_for_period(
        start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30), group_by="csm"
    )
    assert (september.key, september.planned, september.delivered_on_time, september.overdue) == (
        "alice",
        Decimal("1.333"),
        Decimal("0.333"),
        0,
    )
    by_tier = {
        r.key: r.share
        for r in coverage_share_for_period(
            start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30), group_by="tier"
        )
    }
    assert by_tier == {"MM1": pytest.approx(0.333 / 1.333), "MM2": None}


def test_account_coverage_lists_every_entitlement_with_overdue(portfolio, api_client, alice, bob) -> None:
    a, _, _ = portfolio
    lines = {line.module_code: line for line in coverage_for_account(account=a)}
    assert lines["catch_up"].overdue and not lines["qbr"].overdue
    assert lines["academy"].cadence_days is None and lines["academy"].next_due_on is None
    api_client.force_authenticate(alice)
    body = api_client.get(reverse("api:accounts-coverage", args=[a.pk])).json()
    assert {"module": "catch_up", "overdue": True, "next_due_on": "2026-10-31"}.items() <= next(
        line for line in body if line["module"] == "catch_up"
    ).items()
    api_client.force_authenticate(bob)
    assert api_client.get(reverse("api:accounts-coverage", args=[a.pk])).status_code == 404


def test_a_delivery_updates_coverage_at_once_and_recording_it_twice_is_harmless(portfolio) -> None:
    a, _, _ = portfolio
    deliver(a, "catch_up", at("2026-11-20"), 99)
    deliver(a, "catch_up", at("2026-11-20"), 99)
    assert ModuleDelivery.objects.filter(source_id=99).count() == 1
    row = EntitlementCoverage.objects.get(account=a, module__code="catch_up")
    assert (row.last_delivered_on, row.next_due_on, row.delivered_in_window) == (
        dt.date(2026, 11, 20),
        dt.date(2026, 12, 20),
        3,
    )


def test_leaving_the_tier_removes_coverage_rows_it_no_longer_owes(portfolio) -> None:
    a, _, _ = portfolio
    type(a).objects.filter(pk=a.pk).update(tier_code="MM3")
    coverage_recompute(account_ids=[a.pk])
    assert not EntitlementCoverage.objects.filter(account=a).exists()


@pytest.mark.parametrize(
    ("last", "cadence", "expected"),
    [
        (dt.date(2027, 1, 31), 30, dt.date(2027, 3, 2)),  # across February, not a leap year
        (dt.date(2028, 1, 31), 30, dt.date(2028, 3, 1)),  # leap year
        (dt.date(2026, 12, 31), 1, dt.date(2027, 1, 1)),  # year end
        (dt.date(2026, 11, 30), 90, dt.date(2027, 2, 28)),
    ],
)
def test_due_dates_count_calendar_days_across_month_ends(last, cadence, expected) -> None:
    assert due_date(last=last, cadence_days=cadence) == expected


@pytest.mark.parametrize(
    ("region", "delivered_on", "next_due"),
    [
        ("APAC", dt.date(2026, 2, 1), dt.date(2026, 3, 3)),  # 07:30 on 1 Feb in Singapore
        ("EMEA", dt.date(2026, 2, 1), dt.date(2026, 3, 3)),  # 00:30 on 1 Feb in Berlin
        ("Americas", dt.date(2026, 1, 31), dt.date(2026, 3, 2)),  # 18:30 on 31 Jan in New York
    ],
)
def test_the_delivery_day_is_the_customers_day(alice, region, delivered_on, next_due) -> None:
    account = tiered_account("MM1", csm=alice, region=region, tiered_on=dt.date(2025, 6, 1))
    deliver(account, "catch_up", at("2026-01-31", 23, 30), 1)
    delivery = ModuleDelivery.objects.get(account=account)
    assert delivery.delivered_on == delivered_on
    coverage_recompute(account_ids=[account.pk], today=dt.date(2026, 2, 10))
    assert EntitlementCoverage.objects.get(account=account, module__code="catch_up").next_due_on == next_due


def stored_versions(account) -> dict[str, tuple]:
    """Per module code: the row's physical version and figures, which change whenever it is written."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.code, c.xmin::text, c.ctid::text, c.computed_on, c.planned_in_window "
            "FROM engagement_entitlementcoverage c JOIN playbooks_servicemodule m ON m.id = c.module_id "
            "WHERE c.account_id = %s",
            [account.pk],
        )
        return {code: rest for code, *rest in cursor.fetchall()}


def test_planned_counts_the_due_days_passed_not_a_daily_fraction(alice, bob, frozen_now) -> None:
    today = frozen_now.date()
    young = tiered_account("MM1", csm=alice, tiered_on=today - dt.timedelta(days=10))  # QBR/90, catch-up/30
    mature = tiered_account(
        "MM2", csm=bob, tiered_on=today - dt.timedelta(days=200)
    )  # catch-up/60, webinars/30

    def planned(account, day: dt.date) -> dict[str, Decimal]:
        coverage_recompute(today=day)
        stored = {
            r.module.code: r
            for r in EntitlementCoverage.objects.filter(account=account).select_related("module")
        }
        # The Python definition gives what the rewrite stored.
        expected = coverage_figures_for_accounts(accounts=[account], today=day)
        assert {(f.module_id, f.planned_in_window, f.next_due_on) for f in expected} == {
            (r.module_id, r.planned_in_window, r.next_due_on) for r in stored.values()
        }
        return {code: row.planned_in_window for code, row in stored.items()}

    # Ten days in, the first catch-up is due in twenty days: nothing is owed, nobody is behind.
    assert planned(young, today) == {"qbr": Decimal("0.000"), "catch_up": Decimal("0.000")}
    young_share = {r.key: r for r in coverage_share(group_by="tier", today=today)}["MM1"]
    assert (young_share.planned, young_share.overdue, young_share.share) == (Decimal(0), 0, None)
    # Older than the window: the window's share of the cadence, as before.
    assert planned(mature, today) == {"catch_up": Decimal("1.500"), "webinars": Decimal("3.000")}

    # The next night: no due day passed, so the young account's rows are not written again.
    before = stored_versions(young)
    assert planned(young, today + dt.timedelta(days=1)) == {
        "qbr": Decimal("0.000"),
        "catch_up": Decimal("0.000"),
    }
    assert stored_versions(young) == before

    # Day 30: the first catch-up fell due (and is overdue from the next day).
    assert planned(young, today + dt.timedelta(days=20)) == {
        "qbr": Decimal("0.000"),
        "catch_up": Decimal("1.000"),
    }
    assert planned(young, today + dt.timedelta(days=49)) == {
        "qbr": Decimal("0.000"),
        "catch_up": Decimal("1.000"),
    }
    assert planned(young, today + dt.timedelta(days=50)) == {
        "qbr": Decimal("0.000"),
        "catch_up": Decimal("2.000"),
    }
    assert planned(young, today + dt.timedelta(days=190)) == {
        "qbr": Decimal("1.000"),
        "catch_up": Decimal("3.000"),
    }
