"""The evaluation engine: every operator and effect, threshold boundaries, hysteresis, sentences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from segmentation.engine import OverrideInfo, PolicySnapshot, TierInfo, condition_holds, evaluate

TIERS = (
    TierInfo(1, "ENT", "Enterprise", 1, Decimal("70000")),
    TierInfo(2, "MM1", "Mid-Market Tier 1", 2, Decimal("50000")),
    TierInfo(3, "MM2", "Mid-Market Tier 2", 3, Decimal("15000")),
    TierInfo(4, "MM3", "Mid-Market Tier 3", 4, Decimal("0")),
)


def policy(*rules: dict[str, Any], band: str = "0.100", consecutive: int = 2) -> PolicySnapshot:
    return PolicySnapshot(
        id=1,
        version=1,
        tiers=TIERS,
        rules=tuple(rules),
        hysteresis_band=Decimal(band),
        downgrade_after_consecutive_reviews=consecutive,
    )


def rule(
    effect: dict[str, Any], *when: dict[str, Any], name: str = "Rule", match: str = "all"
) -> dict[str, Any]:
    return {"name": name, "match": match, "when": list(when), "effect": effect}


def run(p: PolicySnapshot, acv: int | str, **kwargs: Any):
    signals = {"acv": Decimal(str(acv)), **kwargs.pop("signals", {})}
    return evaluate(p, acv=Decimal(str(acv)), signals=signals, **kwargs)


@pytest.mark.parametrize(
    ("acv", "code"),
    [
        (70000, "ENT"),
        ("69999.99", "MM1"),
        (50000, "MM1"),
        ("49999.99", "MM2"),
        (15000, "MM2"),
        (14999, "MM3"),
        (0, "MM3"),
    ],
)
def test_base_tier_is_reached_exactly_at_its_threshold(acv, code):
    assert run(policy(), acv).effective_code == code


def test_the_base_sentence_names_acv_threshold_and_tier():
    assert run(policy(), 62000).sentence == "ACV 62,000 ≥ 50,000 → Mid-Market Tier 1."
    assert run(policy(), "9000.50").sentence == "ACV 9,000.50 < 15,000 → Mid-Market Tier 3."


@pytest.mark.parametrize(
    ("op", "value", "actual", "holds"),
    [
        (">=", 10, 10, True),
        (">=", 10, 9, False),
        (">", 10, 10, False),
        (">", 10, 11, True),
        ("<=", 10, 10, True),
        ("<=", 10, 11, False),
        ("<", 10, 10, False),
        ("<", 10, 9, True),
        ("==", 10, 10, True),
        ("==", 10, 11, False),
        ("==", True, True, True),
        ("==", True, False, False),
        ("in", ["renewing", "mature"], "mature", True),
        ("in", ["renewing", "mature"], "onboarding", False),
        ("between", [10, 20], 10, True),
        ("between", [10, 20], 20, True),
        ("between", [10, 20], 21, False),
        (">=", 10, None, False),
    ],
)
def test_each_operator(op, value, actual, holds):
    assert condition_holds({"signal": "x", "op": op, "value": value}, actual) is holds


GROWTH = rule(
    {"type": "promote", "ranks": 1},
    {"signal": "active_users_trend_90d", "op": ">=", "value": 30},
    {"signal": "acv_within_pct_of_next_threshold", "op": "<=", "value": 20},
    name="Fast growth near the next threshold",
)


def test_promote_explains_the_rule_with_its_inputs():
    result = run(
        policy(GROWTH),
        62000,
        signals={
            "active_users_trend_90d": Decimal("41"),
            "acv_within_pct_of_next_threshold": Decimal("11.4"),
        },
    )
    assert result.effective_code == "ENT"
    assert result.sentence == (
        "ACV 62,000 ≥ 50,000 → Mid-Market Tier 1; active users +41% in 90 days and ACV within 20% of "
        "70,000 → promoted to Enterprise."
    )
    assert result.steps[1]["rule"] == "Fast growth near the next threshold"
    assert result.steps[1]["inputs"] == {
        "active_users_trend_90d": "41",
        "acv_within_pct_of_next_threshold": "11.4",
    }
    assert result.steps[1]["effect"] == {"type": "promote", "from": "MM1", "to": "ENT"}


def test_promote_needs_every_condition_with_match_all():
    result = run(
        policy(GROWTH),
        62000,
        signals={"active_users_trend_90d": Decimal("41"), "acv_within_pct_of_next_threshold": Decimal("25")},
    )
    assert result.effective_code == "MM1"
    assert len(result.steps) == 1


def test_match_any_needs_one_condition():
    any_rule = {**GROWTH, "match": "any"}
    result = run(
        policy(any_rule),
        62000,
        signals={"active_users_trend_90d": Decimal("41"), "acv_within_pct_of_next_threshold": Decimal("25")},
    )
    assert result.effective_code == "ENT"


def test_a_missing_signal_never_matches():
    assert run(policy(GROWTH), 62000).effective_code == "MM1"


def test_demote_by_two_ranks_stops_at_the_lowest_tier():
    demote = rule(
        {"type": "demote", "ranks": 2}, {"signal": "lifecycle_stage", "op": "==", "value": "churned"}
    )
    result = run(policy(demote), 20000, signals={"lifecycle_stage": "churned"})
    assert result.effective_code == "MM3"
    assert result.sentence.endswith("lifecycle stage churned → demoted to Mid-Market Tier 3.")


def test_floor_raises_to_at_least_a_tier_and_leaves_higher_tiers_alone():
    floor = rule(
        {"type": "floor", "tier": "MM1"}, {"signal": "has_executive_sponsor", "op": "==", "value": True}
    )
    low = run(policy(floor), 9000, signals={"has_executive_sponsor": True})
    high = run(policy(floor), 80000, signals={"has_executive_sponsor": True})
    assert low.effective_code == "MM1"
    assert low.sentence == (
        "ACV 9,000 < 15,000 → Mid-Market Tier 3; "
        "has an executive sponsor → raised to at least Mid-Market Tier 1."
    )
    assert high.effective_code == "ENT"


def test_cap_limits_to_at_most_a_tier():
    cap = rule({"type": "cap", "tier": "MM2"}, {"signal": "seat_utilisation", "op": "<", "value": "0.2"})
    result = run(policy(cap), 80000, signals={"seat_utilisation": Decimal("0.1")})
    assert result.effective_code == "MM2"
    assert "seat utilisation 10% < 20% → capped at Mid-Market Tier 2" in result.sentence


def test_flag_raises_a_flag_and_keeps_the_tier():
    flag = rule(
        {"type": "flag", "kind": "champion_left", "days": 30},
        {"signal": "has_champion", "op": "==", "value": False},
    )
    result = run(policy(flag), 62000, signals={"has_champion": False})
    assert result.effective_code == "MM1"
    assert result.flags == [{"kind": "champion_left", "days": 30, "rule": "Rule"}]
    assert result.sentence.endswith("no champion → flag champion left for 30 days.")


def test_between_condition_text():
    r = rule(
        {"type": "flag", "kind": "renewal_near", "days": 14},
        {"signal": "days_to_renewal", "op": "between", "value": [0, 60]},
    )
    result = run(policy(r), 20000, signals={"days_to_renewal": 45})
    assert "days to renewal 45 between 0 and 60 → flag renewal near for 14 days" in result.sentence


# --- hysteresis ---------------------------------------------------------------------------------


def test_a_drop_inside_the_band_is_held_and_counted():
    result = run(policy(), 46000, previous_policy_code="MM1", counts_as_review=True)
    assert result.effective_code == "MM1"
    assert result.pending_downgrade_reviews == 1
    assert result.sentence == (
        "ACV 46,000 ≥ 15,000 → Mid-Market Tier 2; "
        "ACV 46,000 within 10% below the Mid-Market Tier 1 threshold of 50,000 → "
        "stays Mid-Market Tier 1 (downgrade held: 1 of 2 consecutive reviews)."
    )


def test_exactly_at_the_band_edge_is_still_inside():
    # 10% below 50,000 is 45,000: the account is not *beyond* the band yet.
    result = run(policy(), 45000, previous_policy_code="MM1", counts_as_review=True)
    assert result.effective_code == "MM1"


def test_a_drop_beyond_the_band_downgrades_at_once():
    result = run(policy(), "44999.99", previous_policy_code="MM1", counts_as_review=True)
    assert result.effective_code == "MM2"
    assert result.pending_downgrade_reviews == 0
    assert result.sentence == "ACV 44,999.99 ≥ 15,000 → Mid-Market Tier 2."


def test_the_second_consecutive_review_applies_a_held_downgrade():
    first = run(policy(), 46000, previous_policy_code="MM1", counts_as_review=True)
    second = run(
        policy(),
        46000,
        previous_policy_code="MM1",
        pending_downgrade_reviews=first.pending_downgrade_reviews,
        counts_as_review=True,
    )
    assert (first.effective_code, second.effective_code) == ("MM1", "MM2")
    assert second.sentence == (
        "ACV 46,000 ≥ 15,000 → Mid-Market Tier 2; "
        "downgrade indicated at 2 consecutive reviews → Mid-Market Tier 2."
    )


def test_an_event_does_not_count_as_a_review():
    result = run(
        policy(), 46000, previous_policy_code="MM1", pending_downgrade_reviews=1, counts_as_review=False
    )
    assert result.effective_code == "MM1"
    assert result.pending_downgrade_reviews == 1


def test_band_only_when_consecutive_reviews_is_zero():
    p = policy(consecutive=0)
    held = run(p, 46000, previous_policy_code="MM1", pending_downgrade_reviews=9, counts_as_review=True)
    assert held.effective_code == "MM1"
    assert "band only" in held.sentence


def test_upgrades_are_never_held():
    assert run(policy(), 50000, previous_policy_code="MM2", counts_as_review=True).effective_code == "MM1"


def test_a_rule_driven_downgrade_waits_for_consecutive_reviews():
    cap = rule({"type": "cap", "tier": "MM2"}, {"signal": "support_tickets_30d", "op": ">", "value": 10})
    result = run(
        policy(cap),
        80000,
        signals={"support_tickets_30d": 12},
        previous_policy_code="ENT",
        counts_as_review=True,
    )
    assert result.effective_code == "ENT"
    assert "downgrade to Mid-Market Tier 2 indicated → stays Enterprise" in result.sentence


def test_an_override_wins_and_says_who_why_and_until_when():
    override = OverrideInfo(
        7,
        "ENT",
        "Enterprise",
        1,
        "maria",
        dt.date(2027, 2, 20),
        "executive sponsor",
        "CFO sponsors the rollout",
    )
    result = run(policy(), 62000, override=override)
    assert (result.effective_code, result.source, result.policy_tier.code) == ("ENT", "override", "MM1")
    assert result.sentence == (
        "Overridden to ENT by maria until 2027-02-20: executive sponsor — CFO sponsors the rollout "
        "(policy: ACV 62,000 ≥ 50,000 → Mid-Market Tier 1.)"
    )
