"""Health scoring as a pure function: no database, so it is the reference for the nightly run,
the event-driven recompute and the tests.

A scorecard maps each component's signal value to points 0–100 with a step function (the points
of the last step whose ``from`` the value reaches; the first step's points below it;
``missing_points`` when there is no value). Each component contributes
``points × weight / Σ weights``; the score is the sum rounded half up and clamped to 0–100; the
band follows from the scorecard's lower bounds (``watch_from``, ``healthy_from``).

The sentence a CSM reads names what pulls the score down. A component's **effect** is what it
costs against a perfect score: ``(points − 100) × weight / Σ weights`` (its contribution minus
the most it could contribute), so the effects of all components add up to ``score − 100``
(before rounding). The sentence lists the (at most three) components whose effect rounds to −1
or less, the largest cost first, each with its effect:
"Health 42 (at risk): active users -35% in 90 days (-18); 9 tickets in 30 days (-9); no touch
for 120 days (-6)."
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

BANDS = ("at_risk", "watch", "healthy")
BAND_LABELS = {"at_risk": "at risk", "watch": "watch", "healthy": "healthy"}
DIRECTIONS = ("higher_is_better", "lower_is_better", "any")
# The sentence names at most this many components.
SUMMARY_COMPONENTS = 3
# Shown as a percentage although stored as a share 0–1.
FRACTION_SIGNALS = frozenset({"seat_utilisation", "feature_adoption", "coverage_kept"})
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Component:
    signal: str
    weight: Decimal
    steps: tuple[tuple[Decimal, int], ...]  # (from, points), ascending ``from``
    missing_points: int = 50
    direction: str = "any"
    label: str = ""

    def points_for(self, value: Any) -> int:
        """The points ``value`` earns: the last step it reaches (the first step below them all)."""
        number = as_number(value)
        if number is None:
            return self.missing_points
        earned = self.steps[0][1]
        for start, points in self.steps:
            if number >= start:
                earned = points
            else:
                break
        return earned


@dataclass(frozen=True)
class Scorecard:
    id: int | None
    version: int
    watch_from: int
    healthy_from: int
    components: tuple[Component, ...]

    @property
    def total_weight(self) -> Decimal:
        return sum((c.weight for c in self.components), Decimal(0))

    def band_for(self, score: int) -> str:
        if score >= self.healthy_from:
            return "healthy"
        if score >= self.watch_from:
            return "watch"
        return "at_risk"

    @property
    def signals(self) -> set[str]:
        return {c.signal for c in self.components}


@dataclass(frozen=True)
class Health:
    score: int
    band: str
    explanation: list[dict[str, Any]]
    summary: str


def as_number(value: Any) -> Decimal | None:
    """A signal value as a number (booleans count 1 and 0); None when there is none."""
    if value is None:
        return None
    if isinstance(value, bool):
        return Decimal(int(value))
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _json_value(value: Any) -> Any:
    """A value as the explanation stores it (JSON): numbers stay numbers."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    number = as_number(value)
    return None if number is None else float(number)


def compute_health(scorecard: Scorecard, values: dict[str, Any]) -> Health:
    """Score ``values`` ({signal: value}) under ``scorecard``: points, contributions, band, sentence."""
    total = scorecard.total_weight
    explanation = []
    raw = Decimal(0)
    effects: list[tuple[Decimal, int, Component, Any]] = []
    for position, component in enumerate(scorecard.components):
        value = values.get(component.signal)
        points = component.points_for(value)
        share = _share(component, total)
        raw += points * share
        effects.append(((points - HUNDRED) * share, position, component, value))
        explanation.append(_explained(component, _json_value(value), points, share))
    score = max(0, min(100, int(raw.quantize(Decimal(1), rounding=ROUND_HALF_UP))))
    band = scorecard.band_for(score)
    return Health(score, band, explanation, summary_sentence(score, band, effects))


def _share(component: Component, total: Decimal) -> Decimal:
    return component.weight / total if total else Decimal(0)


def _explained(component: Component, value: Any, points: int, share: Decimal) -> dict[str, Any]:
    """One component of an explanation: its signal, label, value, points, weight, contribution."""
    return {
        "signal": component.signal,
        "label": component.label or component.signal.replace("_", " "),
        "value": value,
        "points": points,
        "weight": float(component.weight),
        "contribution": float((points * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
    }


def explanation_kept(explanation: list[dict[str, Any]]) -> list[list[Any]]:
    """What a day's AccountHealth keeps of an explanation: ``[value, points]`` per component, in
    the scorecard's order. The signal, label, weight and contribution follow from the scorecard
    version the row names (``explanation_from_kept``): kept on a million rows a day, they made
    each row four times as large and the nightly run's writes twice as slow."""
    return [[entry["value"], entry["points"]] for entry in explanation]


def explanation_from_kept(scorecard: Scorecard, kept: list[list[Any]]) -> list[dict[str, Any]]:
    """The explanation ``compute_health`` gave, from what a row keeps and the row's scorecard."""
    total = scorecard.total_weight
    return [
        _explained(component, value, points, _share(component, total))
        for component, (value, points) in zip(scorecard.components, kept, strict=True)
    ]


def summary_sentence(score: int, band: str, effects: list[tuple[Decimal, int, Component, Any]]) -> str:
    head = f"Health {score} ({BAND_LABELS[band]})"
    pulling = [
        (rounded, position, component, value)
        for effect, position, component, value in effects
        if (rounded := int(effect.quantize(Decimal(1), rounding=ROUND_HALF_UP))) <= -1
    ]
    pulling.sort(key=lambda item: (item[0], item[1]))
    if not pulling:
        return f"{head}: nothing costs it a point."
    parts = [
        f"{describe_value(component, value)} ({rounded})"
        for rounded, _, component, value in pulling[:SUMMARY_COMPONENTS]
    ]
    return f"{head}: {'; '.join(parts)}."


def _plain(number: Decimal) -> str:
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def describe_value(component: Component, value: Any) -> str:
    """The component's value in words a CSM can check against the account page."""
    signal = component.signal
    label = component.label or signal.replace("_", " ")
    number = as_number(value)
    if number is None:
        if signal == "days_since_last_touch":
            return "no touchpoint logged"
        return f"no {label} data"
    if isinstance(value, bool):
        return label if value else "no " + label.removeprefix("has a ").removeprefix("has an ")
    if signal == "active_users_trend_90d":
        return f"active users {number:+.0f}% in 90 days"
    if signal == "support_tickets_30d":
        return f"{_plain(number)} ticket{'' if number == 1 else 's'} in 30 days"
    if signal == "open_flags":
        return f"{_plain(number)} open flag{'' if number == 1 else 's'}"
    if signal == "days_since_last_touch":
        return f"no touch for {_plain(number)} days"
    if signal == "days_to_renewal":
        return f"renews in {_plain(number)} days"
    if signal in FRACTION_SIGNALS:
        return f"{label} {number * 100:.0f}%"
    return f"{label} {_plain(number)}"


# --- Validation (a scorecard's components and bands, before they are saved) ---------------------


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_component(item: Any, index: int, known: dict[str, str]) -> tuple[str, list[str]]:
    if not isinstance(item, dict):
        return f"component {index + 1}", [f"component {index + 1}: an object with signal, weight and points."]
    signal = item.get("signal")
    name = signal if isinstance(signal, str) and signal else f"component {index + 1}"
    errors: list[str] = []
    unknown_keys = set(item) - {"signal", "weight", "points", "direction", "missing_points"}
    if unknown_keys:
        errors.append(f"{name}: unknown field(s) {', '.join(sorted(unknown_keys))}.")
    if signal not in known:
        errors.append(f"{name}: unknown signal; use one of {', '.join(sorted(known))}.")
    weight = as_number(item.get("weight"))
    if weight is None:
        errors.append(f"{name}: the weight must be a number.")
    elif weight < 0:
        errors.append(f"{name}: the weight must not be negative.")
    direction = item.get("direction", "any")
    if direction not in DIRECTIONS:
        errors.append(f"{name}: direction must be one of {', '.join(DIRECTIONS)}.")
    missing = item.get("missing_points", 50)
    if not _is_whole(missing) or not 0 <= missing <= 100:
        errors.append(f"{name}: missing_points must be a whole number from 0 to 100.")
    steps = item.get("points")
    if not isinstance(steps, list) or not steps:
        errors.append(f"{name}: points must be a non-empty list of {{from, points}} steps.")
        return name, errors
    parsed: list[tuple[Decimal, int]] = []
    for step in steps:
        start = as_number(step.get("from")) if isinstance(step, dict) else None
        points = step.get("points") if isinstance(step, dict) else None
        if start is None or isinstance(step.get("from"), bool):
            errors.append(f"{name}: each step needs a number 'from'.")
            return name, errors
        if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= 100:
            errors.append(f"{name}: points must be whole numbers from 0 to 100.")
            return name, errors
        parsed.append((start, points))
    if any(a[0] >= b[0] for a, b in pairwise(parsed)):
        errors.append(f"{name}: steps must be in ascending order of 'from'.")
    elif direction == "higher_is_better" and any(a[1] > b[1] for a, b in pairwise(parsed)):
        errors.append(f"{name}: points must not fall as the value grows")
    elif direction == "lower_is_better" and any(a[1] < b[1] for a, b in pairwise(parsed)):
        errors.append(f"{name}: points must not rise as the value grows")
    return name, errors


def validate_scorecard(
    *, components: Any, watch_from: Any, healthy_from: Any, known_signals: dict[str, str]
) -> dict[str, list[str]]:
    """Every problem with a scorecard, keyed by field; each component problem names its signal.

    ``known_signals`` maps the signals a component may use to their labels.
    """
    errors: dict[str, list[str]] = {}
    problems: list[str] = []
    if not isinstance(components, list) or not components:
        problems.append("components: a scorecard needs at least one component.")
    else:
        seen: set[str] = set()
        for index, item in enumerate(components):
            name, component_errors = _validate_component(item, index, known_signals)
            problems.extend(component_errors)
            if name in seen:
                problems.append(f"{name}: used by more than one component.")
            seen.add(name)
        weights = [as_number(item.get("weight")) for item in components if isinstance(item, dict)]
        if not problems and all(w == 0 for w in weights):
            problems.append("components: at least one component needs a weight above 0.")
    if problems:
        errors["components"] = problems
    if not _is_whole(watch_from) or not _is_whole(healthy_from):
        errors["bands"] = ["bands: watch_from and healthy_from must be whole numbers."]
    elif not 0 < watch_from < healthy_from <= 100:
        errors["bands"] = [
            "bands: the lower bounds must rise: 0 < watch_from < healthy_from ≤ 100 "
            f"(got watch_from {watch_from}, healthy_from {healthy_from})."
        ]
    return errors
