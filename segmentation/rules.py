"""The fixed vocabulary of tier rules, and their validation. Rules are data, never code.

A policy's ``rules`` is a list of objects, applied in order after the ACV base tier::

    {"name": "Fast growth near the next threshold",
     "match": "all",                     # "all" (default) or "any" of the conditions
     "when": [{"signal": "active_users_trend_90d", "op": ">=", "value": 30},
              {"signal": "acv_within_pct_of_next_threshold", "op": "<=", "value": 20}],
     "effect": {"type": "promote", "ranks": 1}}

Effects: ``promote``/``demote`` (``ranks`` ≥ 1), ``floor``/``cap`` (``tier`` code: at least / at
most that tier), ``flag`` (``kind`` and ``days``: raises a temporary flag, tier unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

NUMBER = "number"
BOOLEAN = "boolean"
TEXT = "text"


@dataclass(frozen=True)
class SignalSpec:
    name: str
    kind: str
    label: str
    # Values a text signal may take (None: any).
    choices: tuple[str, ...] | None = None
    # Shown after a numeric value: "%" or "" (plain number).
    unit: str = ""


LIFECYCLE_STAGES = ("onboarding", "adopting", "mature", "renewing", "churned")

SIGNALS: dict[str, SignalSpec] = {
    spec.name: spec
    for spec in (
        SignalSpec("acv", NUMBER, "ACV"),
        SignalSpec("seat_utilisation", NUMBER, "seat utilisation"),
        SignalSpec("active_users_trend_90d", NUMBER, "active users", unit="%"),
        SignalSpec("feature_adoption", NUMBER, "feature adoption"),
        SignalSpec("support_tickets_30d", NUMBER, "support tickets in 30 days"),
        SignalSpec("days_to_renewal", NUMBER, "days to renewal"),
        SignalSpec("lifecycle_stage", TEXT, "lifecycle stage", choices=LIFECYCLE_STAGES),
        SignalSpec("has_champion", BOOLEAN, "has a champion"),
        SignalSpec("has_executive_sponsor", BOOLEAN, "has an executive sponsor"),
        SignalSpec("acv_within_pct_of_next_threshold", NUMBER, "ACV within", unit="%"),
        # The account's latest health (segmentation.services.health keeps it on the account).
        SignalSpec("health_score", NUMBER, "health score"),
        SignalSpec("health_band", TEXT, "health band", choices=("at_risk", "watch", "healthy")),
    )
}

# Signals that need usage snapshots or contacts; the others come from the account row alone.
USAGE_SIGNALS = frozenset(
    {"seat_utilisation", "active_users_trend_90d", "feature_adoption", "support_tickets_30d"}
)
CONTACT_SIGNALS = frozenset({"has_champion", "has_executive_sponsor"})
HEALTH_SIGNALS = frozenset({"health_score", "health_band"})

OPERATORS = (">=", ">", "<=", "<", "==", "in", "between")
NUMERIC_OPERATORS = frozenset({">=", ">", "<=", "<", "between"})
EFFECTS = ("promote", "demote", "floor", "cap", "flag")
MAX_RULES = 50
MAX_CONDITIONS = 10


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _validate_condition(condition: Any, where: str) -> list[str]:
    if not isinstance(condition, dict):
        return [f"{where}: a condition must be an object with signal, op and value."]
    errors: list[str] = []
    unknown_keys = set(condition) - {"signal", "op", "value"}
    if unknown_keys:
        errors.append(f"{where}: unknown field(s) {', '.join(sorted(unknown_keys))}.")
    signal = condition.get("signal")
    spec = SIGNALS.get(signal) if isinstance(signal, str) else None
    if spec is None:
        errors.append(f"{where}.signal: unknown signal {signal!r}; known signals are {', '.join(SIGNALS)}.")
    op = condition.get("op")
    if op not in OPERATORS:
        errors.append(f"{where}.op: unknown operator {op!r}; use one of {', '.join(OPERATORS)}.")
        return errors
    if "value" not in condition:
        errors.append(f"{where}.value: a value is required.")
        return errors
    if spec is None:
        return errors
    value = condition["value"]
    if spec.kind != NUMBER and op in NUMERIC_OPERATORS:
        errors.append(f"{where}.op: {op!r} compares numbers; {spec.name} is a {spec.kind} signal.")
        return errors
    if op == "between":
        if not (isinstance(value, list) and len(value) == 2 and all(_number(v) is not None for v in value)):
            errors.append(f"{where}.value: 'between' needs two numbers [low, high].")
        elif _number(value[0]) > _number(value[1]):  # type: ignore[operator]
            errors.append(f"{where}.value: 'between' needs low ≤ high.")
        return errors
    values = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        errors.append(f"{where}.value: 'in' needs a non-empty list.")
        return errors
    for item in values:
        if spec.kind == NUMBER and _number(item) is None:
            errors.append(f"{where}.value: {item!r} is not a number.")
        elif spec.kind == BOOLEAN and not isinstance(item, bool):
            errors.append(f"{where}.value: {spec.name} is true or false, not {item!r}.")
        elif spec.kind == TEXT and (not isinstance(item, str) or (spec.choices and item not in spec.choices)):
            errors.append(
                f"{where}.value: {item!r} is not a {spec.label}; use one of {', '.join(spec.choices or ())}."
            )
    return errors


def _validate_effect(effect: Any, where: str, tier_codes: set[str]) -> list[str]:
    if not isinstance(effect, dict):
        return [f'{where}: an effect object is required, e.g. {{"type": "promote", "ranks": 1}}.']
    kind = effect.get("type")
    if kind not in EFFECTS:
        return [f"{where}.type: unknown effect {kind!r}; use one of {', '.join(EFFECTS)}."]
    errors: list[str] = []
    allowed = {"type"}
    if kind in ("promote", "demote"):
        allowed.add("ranks")
        ranks = effect.get("ranks", 1)
        if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1:
            errors.append(f"{where}.ranks: a whole number of ranks ≥ 1 is required.")
    elif kind in ("floor", "cap"):
        allowed.add("tier")
        tier = effect.get("tier")
        if tier not in tier_codes:
            errors.append(
                f"{where}.tier: unknown tier {tier!r}; "
                f"this policy's tiers are {', '.join(sorted(tier_codes))}."
            )
    else:
        allowed |= {"kind", "days"}
        if not isinstance(effect.get("kind"), str) or not effect["kind"].strip():
            errors.append(f'{where}.kind: a flag kind is required (e.g. "champion_left").')
        days = effect.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            errors.append(f"{where}.days: a whole number of days from 1 to 365 is required.")
    unknown_keys = set(effect) - allowed
    if unknown_keys:
        errors.append(f"{where}: unknown field(s) {', '.join(sorted(unknown_keys))} for a {kind} effect.")
    return errors


def rule_label(rule: Any, index: int) -> str:
    name = rule.get("name") if isinstance(rule, dict) else None
    return f"rule {index + 1}" + (f" ({name!r})" if isinstance(name, str) and name else "")


def validate_rules(rules: Any, *, tier_codes: set[str]) -> list[str]:
    """Every problem with ``rules``, each naming the rule (number and name) and the field."""
    if not isinstance(rules, list):
        return ["rules: a list of rules is required."]
    if len(rules) > MAX_RULES:
        return [f"rules: at most {MAX_RULES} rules."]
    errors: list[str] = []
    for index, rule in enumerate(rules):
        label = rule_label(rule, index)
        if not isinstance(rule, dict):
            errors.append(f"{label}: a rule must be an object with name, when and effect.")
            continue
        unknown_keys = set(rule) - {"name", "match", "when", "effect"}
        if unknown_keys:
            errors.append(f"{label}: unknown field(s) {', '.join(sorted(unknown_keys))}.")
        if not isinstance(rule.get("name"), str) or not rule["name"].strip():
            errors.append(f"{label}.name: a name is required.")
        if rule.get("match", "all") not in ("all", "any"):
            errors.append(f'{label}.match: use "all" or "any".')
        when = rule.get("when")
        if not isinstance(when, list) or not when:
            errors.append(f"{label}.when: a non-empty list of conditions is required.")
        elif len(when) > MAX_CONDITIONS:
            errors.append(f"{label}.when: at most {MAX_CONDITIONS} conditions.")
        else:
            for c_index, condition in enumerate(when):
                errors.extend(_validate_condition(condition, f"{label}.when[{c_index + 1}]"))
        errors.extend(_validate_effect(rule.get("effect"), f"{label}.effect", tier_codes))
    return errors


def clean_rules(rules: Any, *, tier_codes: set[str]) -> None:
    """Raise ValidationError({"rules": [...]}) when ``rules`` is not valid."""
    errors = validate_rules(rules, tier_codes=tier_codes)
    if errors:
        raise ValidationError({"rules": errors})


def signals_used(rules: list[dict[str, Any]]) -> set[str]:
    return {c["signal"] for rule in rules for c in rule.get("when", [])}
