"""The override feedback evidence read from the day sums (by reason and policy tier) against the
same evidence computed outcome by outcome, on generated books."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from engagement.retention.services import (
    override_evidence,
    override_evidence_from_outcomes,
    renewal_segments_settle,
)
from segmentation.models import TierOverride
from tests.engagement.test_retention import at_noon, renewal, tier_change
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seed", range(4))
def test_the_feedback_evidence_from_day_sums_equals_the_one_from_each_outcome(seed, alice, bob, time_machine):
    """Generated renewals, tier histories and overrides: the evidence read from the day sums
    (settled or not) equals the evidence computed outcome by outcome."""
    time_machine.move_to(at_noon(dt.date(2026, 11, 22)))
    rng = random.Random(seed)
    reasons = ["executive_sponsor", "strategic_logo", "at_risk"]
    for i in range(rng.randint(8, 16)):
        account = AccountFactory(name=f"Generated {i}", csm=rng.choice([alice, bob]))
        if rng.random() < 0.8:
            tier_change(account, rng.choice(["ENT", "MM1", "MM2"]), at_noon(dt.date(2025, 6, 1)))
        if rng.random() < 0.5:
            TierOverride.objects.create(
                account=account,
                tier_code="ENT",
                tier_name="Enterprise",
                tier_rank=1,
                policy_tier_code=rng.choice(["MM1", "MM2", ""]),
                policy_tier_rank=2,
                reason=rng.choice(reasons),
                note="generated",
                expires_on=dt.date(2026, 12, 31),
                status="active",
                requested_by=alice,
                activated_at=at_noon(dt.date(2025, 7, 1)),
            )
        for _ in range(rng.randint(1, 2)):
            before = rng.randint(100, 900)
            after = rng.choice([0, before, before + rng.randint(1, 300), max(0, before - 50)])
            outcome = (
                "churned"
                if after == 0
                else "expanded"
                if after > before
                else "contracted"
                if after < before
                else "renewed"
            )
            day = dt.date(2026, 11, 22) - dt.timedelta(days=rng.randint(0, 360))
            renewal(account, day, outcome, str(before), str(after))
    period = {"date_from": dt.date(2025, 11, 23), "date_to": dt.date(2026, 11, 22)}
    live = override_evidence(**period)
    assert live == override_evidence_from_outcomes(**period)
    assert renewal_segments_settle() > 0  # past renewal days now read from the day sums
    assert override_evidence(**period) == live
    assert live, "the generated book has overridden renewals"
