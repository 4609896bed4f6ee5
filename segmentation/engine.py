"""Tier evaluation as a pure function: no database, so it is the same for reviews, events,
simulations and tests.

``evaluate()`` takes a policy snapshot, the account's signal values, what the policy said last
time (for hysteresis) and an active override, and returns the policy tier, the effective tier,
the structured explanation (steps) and its one-sentence rendering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from . import rules as _rules
from .rules import SIGNALS

# The code an evaluation's outcome depends on besides its inputs: this module and the signal
# vocabulary. Part of each policy's fingerprint, so a release that words an explanation
# differently re-evaluates every account at the next review instead of leaving the old wording.
_ENGINE_SOURCE_DIGEST = hashlib.sha256(
    Path(__file__).read_bytes() + Path(_rules.__file__).read_bytes()
).hexdigest()

OP_SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "in": "in", "between": "between"}
FRACTION_SIGNALS = frozenset({"seat_utilisation", "feature_adoption"})


def format_money(value: Decimal | int | float) -> str:
    """62000 → "62,000"; 62000.5 → "62,000.50"."""
    return f"{Decimal(value):,.2f}".removesuffix(".00")


def money_input(value: Decimal) -> str:
    """Money in the structured steps: always two places, whatever the database returned."""
    return f"{Decimal(value):.2f}"


def _format_number(value: Any) -> str:
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0")


@dataclass(frozen=True)
class TierInfo:
    id: int
    code: str
    name: str
    rank: int
    min_acv: Decimal
    touch_model: str = ""


@dataclass(frozen=True)
class PolicySnapshot:
    """What evaluation needs from a TierPolicy, loaded once per review or batch."""

    id: int | None
    version: int
    tiers: tuple[TierInfo, ...]  # rank order, 1 first
    rules: tuple[dict[str, Any], ...] = ()
    hysteresis_band: Decimal = Decimal("0.100")
    downgrade_after_consecutive_reviews: int = 2
    apply_mode: str = "auto"

    @classmethod
    def from_policy(cls, policy: Any) -> PolicySnapshot:
        tiers = tuple(
            TierInfo(t.id, t.code, t.name, t.rank, Decimal(t.min_acv), t.touch_model)
            for t in sorted(policy.tiers.all(), key=lambda t: t.rank)
        )
        return cls(
            id=policy.pk,
            version=policy.version,
            tiers=tiers,
            rules=tuple(policy.rules or ()),
            hysteresis_band=Decimal(policy.hysteresis_band),
            downgrade_after_consecutive_reviews=policy.downgrade_after_consecutive_reviews,
            apply_mode=policy.apply_mode,
        )

    @cached_property
    def fingerprint(self) -> str:
        """Names this policy's content and the engine's code: two evaluations with the same
        fingerprint and the same inputs give the same outcome (kept in ``AccountTierState``, it
        lets a review skip an account evaluated since by the same policy at the same ACV)."""
        content = repr(
            (
                self.id,
                self.version,
                self.tiers,
                self.rules,
                self.hysteresis_band,
                self.downgrade_after_consecutive_reviews,
                self.apply_mode,
            )
        )
        return hashlib.sha256((_ENGINE_SOURCE_DIGEST + content).encode()).hexdigest()[:32]

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {tier.code: index for index, tier in enumerate(self.tiers)}

    def by_code(self, code: str) -> TierInfo | None:
        index = self._positions.get(code)
        return None if index is None else self.tiers[index]

    def by_rank(self, rank: int) -> TierInfo:
        """The tier at ``rank``, clamped to the policy's highest and lowest tiers."""
        rank = max(self.tiers[0].rank, min(self.tiers[-1].rank, rank))
        return next(t for t in self.tiers if t.rank >= rank)

    def shift(self, tier: TierInfo, ranks: int) -> TierInfo:
        """The tier ``ranks`` positions lower (positive) or higher (negative) in the ordering."""
        index = self._positions[tier.code] + ranks
        return self.tiers[max(0, min(len(self.tiers) - 1, index))]

    def base_tier(self, acv: Decimal) -> TierInfo:
        """The highest tier whose minimum ACV the account reaches (the lowest tier otherwise)."""
        for tier in self.tiers:
            if acv >= tier.min_acv:
                return tier
        return self.tiers[-1]

    def next_threshold(self, tier: TierInfo) -> Decimal | None:
        index = self._positions[tier.code]
        return self.tiers[index - 1].min_acv if index > 0 else None


@dataclass(frozen=True)
class OverrideInfo:
    id: int
    tier_code: str
    tier_name: str
    tier_rank: int
    by_username: str
    expires_on: dt.date
    reason_label: str
    note: str


@dataclass
class Evaluation:
    policy_tier: TierInfo
    effective_code: str
    effective_name: str
    effective_rank: int
    # The values of accounts.models.TierSource; the engine stays free of Django imports.
    source: Literal["policy", "override"]
    steps: list[dict[str, Any]]
    sentence: str
    flags: list[dict[str, Any]] = field(default_factory=list)
    pending_downgrade_reviews: int = 0
    override_id: int | None = None


def base_step_text(policy: PolicySnapshot, acv: Decimal, tier: TierInfo) -> str:
    """The ACV step. The review's pre-filter compares accounts with its output (via ``evaluate``);
    it never renders it in SQL."""
    if tier.min_acv > 0:
        return f"ACV {format_money(acv)} ≥ {format_money(tier.min_acv)} → {tier.name}"
    upper = policy.next_threshold(tier)
    if upper is None:
        return f"ACV {format_money(acv)} → {tier.name}"
    return f"ACV {format_money(acv)} < {format_money(upper)} → {tier.name}"


def _condition_text(condition: dict[str, Any], actual: Any, context: dict[str, Any]) -> str:
    signal, op, value = condition["signal"], condition["op"], condition["value"]
    spec = SIGNALS[signal]
    if signal == "active_users_trend_90d":
        text = f"active users {Decimal(str(actual)):+.0f}% in 90 days"
        return (
            text
            if op in (">=", ">")
            else f"{text} ({OP_SYMBOLS[op]} {_format_threshold(signal, op, value)}%)"
        )
    if signal == "acv_within_pct_of_next_threshold" and op in ("<=", "<"):
        return f"ACV within {_format_number(value)}% of {format_money(context['next_threshold'])}"
    if spec.kind == "boolean":
        positive = bool(actual)
        return spec.label if positive else "no " + spec.label.removeprefix("has a ").removeprefix("has an ")
    if spec.kind == "text":
        return f"{spec.label} {actual}"
    shown = _format_value(signal, actual)
    return f"{spec.label} {shown} {OP_SYMBOLS[op]} {_format_threshold(signal, op, value)}"


def _format_value(signal: str, value: Any) -> str:
    if signal in FRACTION_SIGNALS:
        return f"{Decimal(str(value)) * 100:.0f}%"
    if signal == "acv":
        return format_money(Decimal(str(value)))
    if SIGNALS[signal].unit == "%":
        return f"{Decimal(str(value)):.0f}%"
    return _format_number(value)


def _format_threshold(signal: str, op: str, value: Any) -> str:
    if op == "between":
        return f"{_format_value(signal, value[0])} and {_format_value(signal, value[1])}"
    if signal == "active_users_trend_90d":
        return f"{Decimal(str(value)):+.0f}"
    return _format_value(signal, value)


def condition_holds(condition: dict[str, Any], actual: Any) -> bool:
    """Compare one signal value against a condition. A missing value (no usage data) never holds."""
    if actual is None:
        return False
    op, value = condition["op"], condition["value"]
    if op == "in":
        return actual in value
    if op == "==":
        if isinstance(value, bool) or isinstance(actual, (bool, str)):
            return bool(actual == value)
        return Decimal(str(actual)) == Decimal(str(value))
    number = actual if isinstance(actual, Decimal) else Decimal(str(actual))
    if op == "between":
        return Decimal(str(value[0])) <= number <= Decimal(str(value[1]))
    threshold = Decimal(str(value))
    return {
        ">=": number >= threshold,
        ">": number > threshold,
        "<=": number <= threshold,
        "<": number < threshold,
    }[op]


def _apply_rule(
    policy: PolicySnapshot,
    rule: dict[str, Any],
    tier: TierInfo,
    signals: dict[str, Any],
    context: dict[str, Any],
) -> tuple[TierInfo, dict[str, Any] | None, dict[str, Any] | None]:
    """(new tier, step or None when the rule did not match, flag or None)."""
    conditions = rule["when"]
    held = [c for c in conditions if condition_holds(c, signals.get(c["signal"]))]
    matched = len(held) == len(conditions) if rule.get("match", "all") == "all" else bool(held)
    if not matched:
        return tier, None, None
    effect = rule["effect"]
    kind = effect["type"]
    inputs = {c["signal"]: _jsonable(signals.get(c["signal"])) for c in held}
    conditions_text = (
        " and ".join(_condition_text(c, signals.get(c["signal"]), context) for c in held)
        if context.get("explain", True)
        else ""
    )
    flag = None
    new_tier = tier
    if kind == "promote":
        new_tier = policy.shift(tier, -effect.get("ranks", 1))
        outcome = f"promoted to {new_tier.name}" if new_tier != tier else f"stays {tier.name} (highest tier)"
    elif kind == "demote":
        new_tier = policy.shift(tier, effect.get("ranks", 1))
        outcome = f"demoted to {new_tier.name}" if new_tier != tier else f"stays {tier.name} (lowest tier)"
    elif kind == "floor":
        floor = policy.by_code(effect["tier"]) or tier
        new_tier = floor if floor.rank < tier.rank else tier
        outcome = (
            f"raised to at least {floor.name}"
            if new_tier != tier
            else f"stays {tier.name} (at least {floor.name})"
        )
    elif kind == "cap":
        cap = policy.by_code(effect["tier"]) or tier
        new_tier = cap if cap.rank > tier.rank else tier
        outcome = f"capped at {cap.name}" if new_tier != tier else f"stays {tier.name} (at most {cap.name})"
    else:
        flag = {"kind": effect["kind"], "days": effect["days"], "rule": rule["name"]}
        outcome = f"flag {effect['kind'].replace('_', ' ')} for {effect['days']} days"
    step = {
        "rule": rule["name"],
        "inputs": inputs,
        "effect": {"type": kind, "from": tier.code, "to": new_tier.code, **({"flag": flag} if flag else {})},
        "text": f"{conditions_text} → {outcome}",
    }
    return new_tier, step, flag


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def evaluate(
    policy: PolicySnapshot,
    *,
    acv: Decimal,
    signals: dict[str, Any],
    previous_policy_code: str = "",
    pending_downgrade_reviews: int = 0,
    counts_as_review: bool = False,
    override: OverrideInfo | None = None,
    explain: bool = True,
) -> Evaluation:
    """Evaluate one account. ``previous_policy_code`` is what the policy said last time (hysteresis).

    ``explain=False`` (simulations) skips rendering the sentence; the tiers are the same."""
    base = policy.base_tier(acv)
    steps: list[dict[str, Any]] = [
        {
            "rule": "ACV thresholds",
            "inputs": {"acv": money_input(acv)} if explain else {},
            "effect": {
                "type": "base",
                "to": base.code,
                "threshold": money_input(base.min_acv) if explain else "",
            },
            "text": base_step_text(policy, acv, base) if explain else "",
        }
    ]
    context = {"next_threshold": policy.next_threshold(base), "explain": explain}
    tier = base
    flags: list[dict[str, Any]] = []
    for rule in policy.rules:
        tier, step, flag = _apply_rule(policy, rule, tier, signals, context)
        if step:
            steps.append(step)
        if flag:
            flags.append(flag)

    pending = 0
    previous = policy.by_code(previous_policy_code) if previous_policy_code else None
    if previous is not None and tier.rank > previous.rank:
        tier, pending, hysteresis_step = _hysteresis(
            policy, acv, previous, tier, pending_downgrade_reviews, counts_as_review
        )
        if hysteresis_step:
            steps.append(hysteresis_step)

    policy_sentence = "; ".join(step["text"] for step in steps) + "."
    if override is not None:
        sentence = (
            f"Overridden to {override.tier_code} by {override.by_username} until "
            f"{override.expires_on.isoformat()}: {override.reason_label} — {override.note.strip()} "
            f"(policy: {policy_sentence})"
        )
        return Evaluation(
            tier,
            override.tier_code,
            override.tier_name,
            override.tier_rank,
            "override",
            steps,
            sentence,
            flags,
            pending,
            override.id,
        )
    return Evaluation(tier, tier.code, tier.name, tier.rank, "policy", steps, policy_sentence, flags, pending)


def _hysteresis(
    policy: PolicySnapshot,
    acv: Decimal,
    previous: TierInfo,
    target: TierInfo,
    pending: int,
    counts_as_review: bool,
) -> tuple[TierInfo, int, dict[str, Any] | None]:
    """A downgrade applies when ACV is below the previous tier's threshold by more than the band,
    or once it has held at ``downgrade_after_consecutive_reviews`` consecutive reviews (0: band only)."""
    band = policy.hysteresis_band
    band_floor = previous.min_acv * (1 - band)
    required = policy.downgrade_after_consecutive_reviews
    reviews = pending + (1 if counts_as_review else 0)
    beyond_band = acv < previous.min_acv and acv < band_floor
    if beyond_band or (required and reviews >= required):
        if beyond_band:
            return target, 0, None
        return (
            target,
            0,
            {
                "rule": "Hysteresis",
                "inputs": {"consecutive_reviews": reviews, "required": required},
                "effect": {"type": "downgrade", "from": previous.code, "to": target.code},
                "text": f"downgrade indicated at {reviews} consecutive reviews → {target.name}",
            },
        )
    within = acv < previous.min_acv
    if within:
        reason = (
            f"ACV {format_money(acv)} within {band * 100:.0f}% below the {previous.name} threshold of "
            f"{format_money(previous.min_acv)}"
        )
    else:
        reason = f"downgrade to {target.name} indicated"
    counted = f"{reviews} of {required} consecutive reviews" if required else "band only"
    return (
        previous,
        reviews,
        {
            "rule": "Hysteresis",
            "inputs": {
                "acv": money_input(acv),
                "band": str(band),
                "consecutive_reviews": reviews,
                "required": required,
            },
            "effect": {"type": "hold", "from": target.code, "to": previous.code},
            "text": f"{reason} → stays {previous.name} (downgrade held: {counted})",
        },
    )
