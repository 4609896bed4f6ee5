"""What engagement and playbooks plug into segmentation and the demo seed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from engagement.demo.services import demo_engagement_create
from engagement.models import EntitlementCoverage, Task, Touchpoint
from playbooks.models import TierEntitlement
from segmentation.economics import minutes_sql
from segmentation.entitlements import entitlements_for
from segmentation.models import PolicyStatus, Tier, TierPolicy
from segmentation.signals import policy_activated
from tests.engagement.factories import TouchpointFactory, tiered_account

pytestmark = pytest.mark.django_db


def test_logged_minutes_feed_cost_to_serve(alice, frozen_now) -> None:
    account = tiered_account("MM1", csm=alice)
    TouchpointFactory(account=account, minutes=45, occurred_at=frozen_now - dt.timedelta(days=10))
    TouchpointFactory(account=account, minutes=15, occurred_at=frozen_now - dt.timedelta(days=30))
    TouchpointFactory(account=account, minutes=600, occurred_at=frozen_now - dt.timedelta(days=400))
    with connection.cursor() as cursor:
        cursor.execute(minutes_sql(), {"since": (frozen_now - dt.timedelta(days=365)).date()})
        assert [tuple(row) for row in cursor.fetchall()] == [(account.pk, 60)]


def test_segmentation_reads_entitlements_through_the_provider(db) -> None:
    enterprise = Tier.objects.get(policy__version=1, code="ENT")
    assert {"module": "catch_up", "cadence_days": 14} in entitlements_for([enterprise.pk])[enterprise.pk]


def test_a_policy_activated_without_entitlements_inherits_the_latest_ones(
    db, django_capture_on_commit_callbacks
) -> None:
    draft = TierPolicy.objects.create(version=9, name="Bare", status=PolicyStatus.DRAFT)
    Tier.objects.create(
        policy=draft, code="ENT", name="Enterprise", rank=1, touch_model="high", min_acv=70000
    )
    TierEntitlement.objects.filter(tier__policy=draft).delete()
    with django_capture_on_commit_callbacks(execute=True):  # the receiver queues a task
        policy_activated.send(sender=None, policy_id=draft.pk)
    copied = set(
        TierEntitlement.objects.filter(tier__policy=draft).values_list("module__code", "cadence_days")
    )
    assert ("qbr", 90) in copied and ("catch_up", 14) in copied


def test_demo_engagement_is_derived_from_tiered_accounts_once(alice, tom, frozen_now) -> None:
    for n in range(40):
        tiered_account(["ENT", "MM1", "MM2", "MM3"][n % 4], csm=alice, ae=tom)
    assert demo_engagement_create(seed=42) == 40
    touchpoints = Touchpoint.objects.count()
    assert touchpoints > 0 and Task.objects.exists()
    assert EntitlementCoverage.objects.filter(account__tier_code="ENT").exists()
    assert not Touchpoint.objects.filter(account__tier_code="MM3").exists(), "the digital tier gets no calls"
    assert Touchpoint.objects.filter(occurred_at__gt=frozen_now).count() == 0
    assert demo_engagement_create(seed=42) == 0
    assert Touchpoint.objects.count() == touchpoints
