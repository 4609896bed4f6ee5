"""Policies: drafts are validated, exactly one is active, activation records who and when."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from segmentation.models import TierPolicy
from segmentation.services import tier_policy_activate, tier_policy_clone, tier_policy_update
from tests.segmentation.factories import make_draft

TIERS = [
    {"code": "ENT", "name": "Enterprise", "rank": 1, "touch_model": "high", "min_acv": Decimal("80000")},
    {"code": "MM", "name": "Mid-Market", "rank": 2, "touch_model": "hybrid", "min_acv": Decimal("20000")},
    {"code": "SMB", "name": "Small", "rank": 3, "touch_model": "digital", "min_acv": Decimal("0")},
]


def test_a_fresh_database_has_the_default_policy_active(db):
    policy = TierPolicy.objects.get(status="active")
    assert [(t.code, t.min_acv) for t in policy.tiers.order_by("rank")] == [
        ("ENT", 70000),
        ("MM1", 50000),
        ("MM2", 15000),
        ("MM3", 0),
    ]
    assert policy.hysteresis_band == Decimal("0.100")
    assert policy.apply_mode == "auto"


def test_clone_makes_a_draft_with_the_next_version(lena):
    active = TierPolicy.objects.get(status="active")
    draft = tier_policy_clone(policy=active, by=lena)
    assert (draft.status, draft.version) == ("draft", active.version + 1)
    assert list(draft.tiers.values_list("code", flat=True)) == ["ENT", "MM1", "MM2", "MM3"]


def test_activation_retires_the_old_policy_and_records_who_and_when(lena):
    old = TierPolicy.objects.get(status="active")
    draft = tier_policy_clone(policy=old, by=lena)
    tier_policy_activate(policy=draft, by=lena)
    old.refresh_from_db()
    draft.refresh_from_db()
    assert (old.status, draft.status) == ("retired", "active")
    assert old.retired_at is not None
    assert draft.activated_by == lena and draft.activated_at is not None
    assert TierPolicy.objects.filter(status="active").count() == 1


def test_the_database_refuses_two_active_policies(db):
    draft = make_draft()
    draft.status = "active"
    with pytest.raises(IntegrityError), transaction.atomic():
        draft.save()


def test_only_a_draft_can_be_activated(lena):
    active = TierPolicy.objects.get(status="active")
    with pytest.raises(ValidationError) as error:
        tier_policy_activate(policy=active, by=lena)
    assert "Only a draft can be activated" in str(error.value)


def test_only_leadership_may_activate(alice):
    draft = make_draft()
    with pytest.raises(PermissionDenied):
        tier_policy_activate(policy=draft, by=alice)


def test_editing_a_draft_replaces_its_tiers_and_rules(lena):
    draft = make_draft()
    rules = [
        {
            "name": "Sponsor",
            "when": [{"signal": "has_executive_sponsor", "op": "==", "value": True}],
            "effect": {"type": "floor", "tier": "MM"},
        }
    ]
    tier_policy_update(policy=draft, by=lena, tiers=TIERS, rules=rules, apply_mode="propose")
    draft.refresh_from_db()
    assert list(draft.tiers.values_list("code", flat=True)) == ["ENT", "MM", "SMB"]
    assert draft.rules == rules and draft.apply_mode == "propose"


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([{**TIERS[0]}, {**TIERS[1], "code": "ENT"}, TIERS[2]], "the code 'ENT' is used twice"),
        ([TIERS[0], {**TIERS[1], "rank": 1}, TIERS[2]], "the rank 1 is used twice"),
        (
            [TIERS[0], {**TIERS[1], "min_acv": Decimal("90000")}, TIERS[2]],
            "ENT (rank 1) needs a higher minimum ACV than MM (rank 2)",
        ),
        (
            [TIERS[0], TIERS[1], {**TIERS[2], "min_acv": Decimal("5")}],
            "the lowest tier (SMB) must have minimum ACV 0",
        ),
        ([], "a policy needs at least one tier"),
    ],
)
def test_invalid_tiers_are_refused_with_a_message(lena, tiers, message):
    draft = make_draft()
    with pytest.raises(ValidationError) as error:
        tier_policy_update(policy=draft, by=lena, tiers=tiers)
    assert any(message in m for m in error.value.message_dict["tiers"]), error.value.message_dict


def test_a_rule_naming_a_tier_the_draft_lacks_is_refused(lena):
    draft = make_draft()
    rules = [
        {
            "name": "Gold",
            "when": [{"signal": "acv", "op": ">", "value": 1}],
            "effect": {"type": "cap", "tier": "GOLD"},
        }
    ]
    with pytest.raises(ValidationError) as error:
        tier_policy_update(policy=draft, by=lena, rules=rules)
    assert error.value.message_dict["rules"] == [
        "rule 1 ('Gold').effect.tier: unknown tier 'GOLD'; this policy's tiers are ENT, MM1, MM2, MM3."
    ]


def test_an_active_policy_cannot_be_edited(lena):
    active = TierPolicy.objects.get(status="active")
    with pytest.raises(ValidationError):
        tier_policy_update(policy=active, by=lena, name="Sneaky")
