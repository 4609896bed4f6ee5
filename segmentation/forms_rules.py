"""The structured rule builder of the policy editor: one row per rule (name, up to
``CONDITIONS`` conditions of signal, operator and value, and an effect), in readable words.

The rows are turned into the policy's rule JSON (``segmentation.rules``) and back; the JSON stays
editable beside the builder for what the rows cannot show (more conditions than a row holds).
Validation is the vocabulary's own (``validate_rules`` when the draft is checked or saved): the
rows only translate, so a rule is never checked twice in two ways.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django import forms

from .rules import BOOLEAN, MAX_RULES, NUMBER, SIGNALS

CONDITIONS = 3

OPERATOR_LABELS = {
    ">=": "is at least",
    ">": "is more than",
    "<=": "is at most",
    "<": "is less than",
    "==": "is",
    "in": "is one of",
    "between": "is between",
}
EFFECT_LABELS = {
    "promote": "Promote by ranks",
    "demote": "Demote by ranks",
    "floor": "At least tier",
    "cap": "At most tier",
    "flag": "Raise a flag (tier unchanged)",
}
# Flags a rule may raise, in words (the kinds the engagement flags know, and any other kept as is).
FLAG_KINDS = [
    ("usage_drop", "Usage drop"),
    ("usage_spike", "Usage spike"),
    ("ticket_surge", "Ticket surge"),
    ("renewal_near", "Renewal near"),
    ("champion_left", "Champion left"),
    ("health_at_risk", "Health at risk"),
]


def _signal_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (name, spec.label[0].upper() + spec.label[1:] + (f" ({spec.unit})" if spec.unit else ""))
        for name, spec in SIGNALS.items()
    ]


class RuleRowForm(forms.Form):
    name = forms.CharField(label="Rule name", required=False, max_length=120)
    match = forms.ChoiceField(
        label="Applies when", choices=[("all", "all conditions hold"), ("any", "any condition holds")]
    )
    effect_type = forms.ChoiceField(
        label="Effect", choices=[("", "—"), *EFFECT_LABELS.items()], required=False
    )
    effect_ranks = forms.IntegerField(label="Ranks", required=False, min_value=1, max_value=10)
    effect_tier = forms.ChoiceField(label="Tier", required=False)
    effect_flag = forms.ChoiceField(label="Flag", required=False, choices=[("", "—"), *FLAG_KINDS])
    effect_days = forms.IntegerField(label="Flag for days", required=False, min_value=1, max_value=365)

    def __init__(self, *args: Any, tier_codes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effect_tier"].choices = [("", "—"), *((c, c) for c in tier_codes or [])]  # type: ignore[attr-defined]
        for i in range(1, CONDITIONS + 1):
            self.fields[f"c{i}_signal"] = forms.ChoiceField(
                label=f"Condition {i}: signal", required=False, choices=_signal_choices()
            )
            self.fields[f"c{i}_op"] = forms.ChoiceField(
                label=f"Condition {i}: comparison",
                required=False,
                choices=[("", "—"), *OPERATOR_LABELS.items()],
            )
            self.fields[f"c{i}_value"] = forms.CharField(
                label=f"Condition {i}: value",
                required=False,
                max_length=200,
                help_text="A number; yes or no; a word; a list as a, b; a range as 10 - 20.",
            )

    def conditions(self) -> list[Any]:
        """The row's condition fields, grouped: [(signal, op, value), ...] (bound fields)."""
        return [
            (self[f"c{i}_signal"], self[f"c{i}_op"], self[f"c{i}_value"]) for i in range(1, CONDITIONS + 1)
        ]


class BaseRuleFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def __init__(self, *args: Any, tier_codes: list[str] | None = None, **kwargs: Any) -> None:
        self.tier_codes = tier_codes or []
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "tier_codes": self.tier_codes}


RuleFormSet = cast(
    "type[BaseRuleFormSet]",
    forms.formset_factory(
        RuleRowForm, formset=BaseRuleFormSet, extra=1, can_delete=True, max_num=MAX_RULES, validate_max=True
    ),
)


def _number(text: str) -> Any:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text  # kept as typed: the vocabulary's check says what is wrong with it
    return int(number) if number == number.to_integral_value() else float(number)


def _value(signal: str, op: str, text: str) -> Any:
    """The typed value in the JSON's terms for the signal's kind."""
    spec = SIGNALS.get(signal)
    text = text.strip()
    if op == "between":
        parts = [p for p in text.replace("–", "-").replace(",", " - ").split("-") if p.strip()]
        return [_number(p.strip()) for p in parts]
    items = [t.strip() for t in text.split(",") if t.strip()] if op == "in" else [text]
    values: list[Any] = []
    for item in items:
        if spec is not None and spec.kind == NUMBER:
            values.append(_number(item))
        elif spec is not None and spec.kind == BOOLEAN:
            lowered = item.lower()
            values.append(
                True if lowered in ("yes", "true") else False if lowered in ("no", "false") else item
            )
        else:
            values.append(item)
    return values if op == "in" else values[0] if values else ""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return "" if value is None else str(value)


def rules_from_rows(formset: Any) -> list[dict[str, Any]]:
    """The rule JSON the rows describe (blank rows and rows marked to delete left out)."""
    rules: list[dict[str, Any]] = []
    for form in formset.forms:
        data = form.cleaned_data if form.is_valid() else {}
        if not data or data.get("DELETE"):
            continue
        when = []
        for i in range(1, CONDITIONS + 1):
            signal, op, text = data.get(f"c{i}_signal"), data.get(f"c{i}_op"), data.get(f"c{i}_value", "")
            if signal or op or text:
                value = _value(signal or "", op or "", text or "")
                when.append({"signal": signal or "", "op": op or "", "value": value})
        kind = data.get("effect_type") or ""
        if not when and not kind and not data.get("name"):
            continue  # the blank row for a new rule
        effect: dict[str, Any] = {"type": kind}
        if kind in ("promote", "demote"):
            effect["ranks"] = data.get("effect_ranks") or 1
        elif kind in ("floor", "cap"):
            effect["tier"] = data.get("effect_tier") or ""
        elif kind == "flag":
            effect["kind"] = data.get("effect_flag") or ""
            effect["days"] = data.get("effect_days") or 30
        rule: dict[str, Any] = {"when": when, "effect": effect}
        if data.get("name"):
            rule = {"name": data["name"], **rule}
        if data.get("match") == "any":
            rule["match"] = "any"
        rules.append(rule)
    return rules


def rows_from_rules(rules: Any) -> list[dict[str, Any]] | None:
    """The builder's rows for ``rules``, or None when a rule does not fit in a row (then the JSON
    is the editor)."""
    if not isinstance(rules, list):
        return None
    rows = []
    for rule in rules:
        if not isinstance(rule, dict):
            return None
        when = rule.get("when") or []
        effect = rule.get("effect") or {}
        if not isinstance(when, list) or len(when) > CONDITIONS or not isinstance(effect, dict):
            return None
        row: dict[str, Any] = {
            "name": rule.get("name", ""),
            "match": rule.get("match", "all"),
            "effect_type": effect.get("type", ""),
            "effect_ranks": effect.get("ranks"),
            "effect_tier": effect.get("tier", ""),
            "effect_flag": effect.get("kind", ""),
            "effect_days": effect.get("days"),
        }
        for i, condition in enumerate(when, start=1):
            if not isinstance(condition, dict):
                return None
            row[f"c{i}_signal"] = condition.get("signal", "")
            row[f"c{i}_op"] = condition.get("op", "")
            value = condition.get("value")
            row[f"c{i}_value"] = (
                " - ".join(_text(v) for v in value)
                if condition.get("op") == "between" and isinstance(value, list)
                else _text(value)
            )
        rows.append(row)
    return rows
