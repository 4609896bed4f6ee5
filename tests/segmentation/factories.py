"""Factories for segmentation: policies with tiers, tier changes, and overrides."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from factory.django import DjangoModelFactory

from segmentation.models import ChangeStatus, PolicyStatus, Tier, TierChange, TierPolicy
from tests.factories import AccountFactory

DEFAULT_TIERS = [
    ("ENT", "Enterprise", 1, "high", Decimal("70000")),
    ("MM1", "Mid-Market Tier 1", 2, "hybrid", Decimal("50000")),
    ("MM2", "Mid-Market Tier 2", 3, "hybrid", Decimal("15000")),
    ("MM3", "Mid-Market Tier 3", 4, "digital", Decimal("0")),
]


def make_draft(
    *, version: int | None = None, rules: list[dict[str, Any]] | None = None, **fields: Any
) -> TierPolicy:
    """A draft policy with the default four tiers (and the given rules and settings)."""
    version = version or (max(TierPolicy.objects.values_list("version", flat=True), default=0) + 1)
    policy = TierPolicy.objects.create(
        version=version, name=f"Policy v{version}", status=PolicyStatus.DRAFT, rules=rules or [], **fields
    )
    for code, name, rank, touch, min_acv in DEFAULT_TIERS:
        Tier.objects.create(
            policy=policy, code=code, name=name, rank=rank, touch_model=touch, min_acv=min_acv
        )
    return policy


def set_active_rules(rules: list[dict[str, Any]], **fields: Any) -> TierPolicy:
    """Change the active policy's rules/settings in place (tests only; the product clones drafts)."""
    policy = TierPolicy.objects.get(status=PolicyStatus.ACTIVE)
    policy.rules = rules
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    return policy


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


class TierChangeFactory(DjangoModelFactory):
    """A review's proposal to move an account to Enterprise (pass ``status``/``applied_at`` for an
    applied change)."""

    class Meta:
        model = TierChange

    account = factory.SubFactory(AccountFactory)
    to_code = "ENT"
    to_name = "Enterprise"
    to_rank = 1
    explanation = "ACV up."
    source = "review"
    status = ChangeStatus.PROPOSED
