"""CSM capacity: required hours = Σ module minutes × 7 / cadence (+ open tasks), utilisation, room."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from engagement.capacity.selectors import csm_capacity, csm_suggestions_for_account
from playbooks.hooks import weekly_hours_by_tier
from playbooks.models import AccountAddOn, ServiceModule
from tests.engagement.factories import TaskFactory, tiered_account

pytestmark = pytest.mark.django_db

# Weekly CSM minutes per account, from the default entitlements:
# ENT: QBR 90×7/90 = 7, catch-up 30×7/14 = 15, specialist 60×7/7 = 60, EBR 120×7/365 = 2.30137
ENT_MINUTES = 7 + 15 + 60 + 120 * 7 / 365
MM1_MINUTES = 7 + 7  # QBR 90×7/90, catch-up 30×7/30


def test_required_hours_add_entitlements_and_tasks_due_this_week(alice, frozen_now) -> None:
    first = tiered_account("ENT", csm=alice)
    tiered_account("ENT", csm=alice)
    tiered_account("MM1", csm=alice)
    tiered_account("MM3", csm=alice)  # digital: no CSM minutes
    today = frozen_now.date()
    TaskFactory(account=first, assignee=alice, estimated_minutes=60, due_on=today - dt.timedelta(days=3))
    TaskFactory(account=first, assignee=alice, estimated_minutes=30, due_on=today + dt.timedelta(days=7))
    TaskFactory(account=first, assignee=alice, estimated_minutes=45, due_on=today + dt.timedelta(days=8))
    TaskFactory(account=first, assignee=alice, estimated_minutes=45, due_on=today, status="done")
    (row,) = csm_capacity(csm_ids=[alice.pk])
    assert row.accounts == 4
    assert row.entitlement_hours == Decimal(str(round((2 * ENT_MINUTES + MM1_MINUTES) / 60, 2)))  # 3.04
    assert row.task_hours == Decimal("1.50")
    assert row.required_hours == Decimal("4.54")
    assert row.utilisation == pytest.approx(4.54 / 40)
    assert not row.overloaded


def test_an_add_on_counts_what_it_adds_over_the_tier(alice, lena, frozen_now) -> None:
    account = tiered_account("ENT", csm=alice)
    AccountAddOn.objects.create(
        account=account,
        module=ServiceModule.objects.get(code="qbr"),
        cadence_days=30,
        status="approved",
        starts_on=frozen_now.date(),
    )
    (row,) = csm_capacity(csm_ids=[alice.pk])
    # QBR every 30 days instead of 90: 21 minutes a week instead of 7.
    assert row.entitlement_hours == Decimal(str(round((ENT_MINUTES + 14) / 60, 2)))


def test_an_overloaded_csm_is_visible_and_the_one_with_room_is_suggested(
    api_client, alice, bob, lena, frozen_now
) -> None:
    bob.weekly_capacity_hours = Decimal("1.0")
    bob.save()
    tiered_account("ENT", csm=bob)  # 1.41 h a week
    tiered_account("MM1", csm=alice)
    newcomer = tiered_account("ENT")
    api_client.force_authenticate(lena)
    rows = {row["csm"]: row for row in api_client.get(reverse("api:capacity")).json()}
    assert rows["bob"]["overloaded"] is True and rows["alice"]["overloaded"] is False
    assert [c.csm.username for c in csm_suggestions_for_account(account=newcomer)] == ["alice"]
    suggestions = reverse("api:accounts-csm-suggestions", args=[newcomer.pk])
    assert [row["csm"] for row in api_client.get(suggestions).json()] == ["alice"]
    api_client.force_authenticate(alice)
    assert [row["csm"] for row in api_client.get(reverse("api:capacity")).json()] == ["alice"]
    assert api_client.get(suggestions).status_code == 403


def test_the_hours_estimator_for_simulations(db) -> None:
    hours = weekly_hours_by_tier({"ENT": 10, "MM1": 30, "MM3": 1000})
    assert hours == {"ENT": round(10 * ENT_MINUTES / 60, 2), "MM1": 7.0, "MM3": 0.0}
