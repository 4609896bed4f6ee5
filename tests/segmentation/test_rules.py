"""Rules are data checked against a fixed vocabulary; every refusal names the rule and field."""

from __future__ import annotations

import pytest

from segmentation.rules import validate_rules

TIERS = {"ENT", "MM1", "MM2", "MM3"}


def good_rule(**changes):
    rule = {
        "name": "Sponsor floor",
        "when": [{"signal": "has_executive_sponsor", "op": "==", "value": True}],
        "effect": {"type": "floor", "tier": "MM1"},
    }
    rule.update(changes)
    return rule


def test_a_valid_rule_set_has_no_errors():
    rules = [
        good_rule(),
        {
            "name": "Growth",
            "match": "all",
            "when": [
                {"signal": "active_users_trend_90d", "op": ">=", "value": 30},
                {"signal": "acv_within_pct_of_next_threshold", "op": "between", "value": [0, 20]},
                {"signal": "lifecycle_stage", "op": "in", "value": ["adopting", "mature"]},
            ],
            "effect": {"type": "promote", "ranks": 1},
        },
        good_rule(name="Flag", effect={"type": "flag", "kind": "champion_left", "days": 30}),
        good_rule(name="Cap", effect={"type": "cap", "tier": "MM2"}),
        good_rule(name="Demote", effect={"type": "demote", "ranks": 2}),
    ]
    assert validate_rules(rules, tier_codes=TIERS) == []


def test_an_unknown_signal_is_named():
    errors = validate_rules(
        [good_rule(), good_rule(name="Mood", when=[{"signal": "mood", "op": "==", "value": 1}])],
        tier_codes=TIERS,
    )
    assert len(errors) == 1
    assert errors[0].startswith("rule 2 ('Mood').when[1].signal: unknown signal 'mood'")


def test_an_unknown_tier_is_named():
    errors = validate_rules([good_rule(effect={"type": "floor", "tier": "GOLD"})], tier_codes=TIERS)
    assert errors == [
        "rule 1 ('Sponsor floor').effect.tier: unknown tier 'GOLD'; "
        "this policy's tiers are ENT, MM1, MM2, MM3."
    ]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (good_rule(name=""), "rule 1.name: a name is required."),
        (good_rule(when=[]), "rule 1 ('Sponsor floor').when: a non-empty list of conditions is required."),
        (
            good_rule(when=[{"signal": "acv", "op": "~", "value": 1}]),
            "rule 1 ('Sponsor floor').when[1].op: unknown operator '~'",
        ),
        (
            good_rule(when=[{"signal": "acv", "op": ">="}]),
            "rule 1 ('Sponsor floor').when[1].value: a value is required.",
        ),
        (
            good_rule(when=[{"signal": "acv", "op": ">=", "value": "lots"}]),
            "rule 1 ('Sponsor floor').when[1].value: 'lots' is not a number.",
        ),
        (
            good_rule(when=[{"signal": "acv", "op": "between", "value": [5, 1]}]),
            "rule 1 ('Sponsor floor').when[1].value: 'between' needs low ≤ high.",
        ),
        (
            good_rule(when=[{"signal": "has_champion", "op": ">", "value": 1}]),
            "rule 1 ('Sponsor floor').when[1].op: '>' compares numbers; has_champion is a boolean signal.",
        ),
        (
            good_rule(when=[{"signal": "lifecycle_stage", "op": "in", "value": ["asleep"]}]),
            "rule 1 ('Sponsor floor').when[1].value: 'asleep' is not a lifecycle stage",
        ),
        (
            good_rule(effect={"type": "teleport"}),
            "rule 1 ('Sponsor floor').effect.type: unknown effect 'teleport'",
        ),
        (
            good_rule(effect={"type": "promote", "ranks": 0}),
            "rule 1 ('Sponsor floor').effect.ranks: a whole number of ranks ≥ 1 is required.",
        ),
        (
            good_rule(effect={"type": "flag", "kind": "x", "days": 400}),
            "rule 1 ('Sponsor floor').effect.days: a whole number of days from 1 to 365 is required.",
        ),
        (good_rule(code="x"), "rule 1 ('Sponsor floor'): unknown field(s) code."),
        ("not a rule", "rule 1: a rule must be an object with name, when and effect."),
    ],
)
def test_malformed_rules_are_refused_naming_rule_and_field(rule, message):
    errors = validate_rules([rule], tier_codes=TIERS)
    assert any(e.startswith(message) for e in errors), errors


def test_rules_must_be_a_list():
    assert validate_rules({"name": "x"}, tier_codes=TIERS) == ["rules: a list of rules is required."]
