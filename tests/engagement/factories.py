"""Factories for engagement and playbooks records, and tiered accounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Account
from engagement.models import Flag, FlagKind, HandoffCommitment, Task, Touchpoint
from tests.factories import AccountFactory

TIER_NAMES = {
    "ENT": ("Enterprise", 1),
    "MM1": ("Mid-Market Tier 1", 2),
    "MM2": ("Mid-Market Tier 2", 3),
    "MM3": ("Mid-Market Tier 3", 4),
}


def tiered_account(tier_code: str = "MM1", *, tiered_on: dt.date | None = None, **fields: Any) -> Account:
    """An account already placed in ``tier_code`` (as segmentation would have done)."""
    name, rank = TIER_NAMES[tier_code]
    tiered_on = tiered_on or dt.date(2026, 1, 1)
    return AccountFactory(
        tier_code=tier_code,
        tier_name=name,
        tier_rank=rank,
        tier_source="policy",
        tier_updated_at=dt.datetime.combine(tiered_on, dt.time(12), tzinfo=dt.UTC),
        **fields,
    )


class TouchpointFactory(DjangoModelFactory):
    class Meta:
        model = Touchpoint

    account = factory.SubFactory(AccountFactory)
    kind = "call"
    occurred_at = factory.LazyFunction(timezone.now)
    minutes = 30


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    account = factory.SubFactory(AccountFactory)
    title = factory.Sequence(lambda n: f"Task {n}")
    due_on = factory.LazyFunction(timezone.localdate)


class FlagFactory(DjangoModelFactory):
    class Meta:
        model = Flag

    account = factory.SubFactory(AccountFactory)
    kind = FlagKind.USAGE_DROP
    explanation = "Active users fell."
    raised_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=14))


class CommitmentFactory(DjangoModelFactory):
    class Meta:
        model = HandoffCommitment

    account = factory.SubFactory(AccountFactory)
    description = "Promised something."
    status = "exceeds_tier"
    checked_at = factory.LazyFunction(timezone.now)
