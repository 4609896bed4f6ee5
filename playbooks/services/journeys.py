"""Editing journeys: every rule about what a journey and its steps may contain.

Templates and skip conditions are checked here, at save time, so a broken template never
reaches the sender. The HTML editor and any API call these functions; neither repeats a rule.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from csplatform import authorization
from playbooks.journey_templates import TemplateProblem, validate_template
from playbooks.models import DelayFrom, Journey, JourneyStep, JourneyStepKind, StepSurveyKind
from playbooks.services.catalogue import module_get_by_code
from playbooks.signals import journey_timing_changed
from segmentation.models import PolicyStatus

if TYPE_CHECKING:
    from csplatform.models import User

TEMPLATE_FIELDS = ("subject_template", "body_text_template", "body_html_template")
JOURNEY_FIELDS = (
    "code",
    "name",
    "description",
    "tier_code",
    "send_window_start",
    "send_window_end",
    "send_on_weekends",
)
STEP_FIELDS = (
    "name",
    "kind",
    "survey_kind",
    "survey_question",
    "delay_days",
    "delay_hours",
    "delay_from",
    "subject_template",
    "body_text_template",
    "body_html_template",
    "skip_condition",
    "module_code",
)


def _require_leader(user: User) -> None:
    if not authorization.may_manage_policies(user):
        raise PermissionError("Only CS Leadership may edit journeys.")


# --- Skip conditions --------------------------------------------------------------------------
# A skip condition is one condition of the segmentation signal vocabulary, written as text
# ("seat_utilisation >= 0.6") and read into segmentation's condition shape
# ({"signal", "op", "value"}). Validation and evaluation are segmentation's; these two functions
# are the only place journeys touch them.

_CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(>=|<=|==|>|<)\s*(\S+)\s*$")


def skip_condition_parse(*, condition: str) -> dict[str, Any] | None:
    """The condition as segmentation's ``{"signal", "op", "value"}``; None when blank."""
    if not condition.strip():
        return None
    match = _CONDITION.match(condition)
    if not match:
        raise ValidationError("Write a condition as “signal operator value”, e.g. “seat_utilisation >= 0.6”.")
    signal, op, raw = match.groups()
    value: Any
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        try:
            value = float(raw) if "." in raw else int(raw)
        except ValueError:
            value = raw
    return {"signal": signal, "op": op, "value": value}


_OPERATOR_WORDS = {">=": "is at least", ">": "is above", "<=": "is at most", "<": "is below", "==": "is"}


def skip_condition_label(*, condition: str) -> str:
    """The condition in words (“seat utilisation is at least 0.6”), for people reading a journey;
    the condition as written when it does not parse (the editor says what is wrong with it)."""
    from segmentation.rules import SIGNALS

    try:
        parsed = skip_condition_parse(condition=condition)
    except ValidationError:
        return condition
    if parsed is None:
        return ""
    spec = SIGNALS.get(parsed["signal"])
    label = spec.label if spec else parsed["signal"].replace("_", " ")
    value = parsed["value"]
    if isinstance(value, bool) and parsed["op"] == "==":
        return label if value else f"not: {label}"
    if isinstance(value, str):
        value = value.replace("_", " ")
    unit = spec.unit if spec else ""
    return f"{label} {_OPERATOR_WORDS[parsed['op']]} {value}{unit}"


def skip_condition_validate(*, condition: str) -> None:
    """Raise ValidationError when ``condition`` is not a valid signal condition."""
    from segmentation.rules import _validate_condition

    parsed = skip_condition_parse(condition=condition)
    if parsed is None:
        return
    problems = _validate_condition(parsed, "condition")
    if problems:
        raise ValidationError([problem.removeprefix("condition").lstrip(".: ") for problem in problems])


def skip_conditions_for_accounts(*, condition: str, account_ids: list[int]) -> dict[int, bool]:
    """Whether ``condition`` holds for each account now (never when a signal has no data)."""
    parsed = skip_condition_parse(condition=condition)
    if parsed is None or not account_ids:
        return dict.fromkeys(account_ids, False)
    from accounts.models import Account
    from segmentation.account_metrics import ACCOUNT_FACT_FIELDS, AccountFacts, signals_for
    from segmentation.engine import PolicySnapshot, condition_holds
    from segmentation.models import TierPolicy

    policy = TierPolicy.objects.filter(status=PolicyStatus.ACTIVE).prefetch_related("tiers").first()
    if policy is None:
        return dict.fromkeys(account_ids, False)
    facts = [
        AccountFacts(*row)
        for row in Account.objects.filter(pk__in=account_ids).values_list(*ACCOUNT_FACT_FIELDS)
    ]
    values = signals_for(
        facts,
        policy=PolicySnapshot.from_policy(policy),
        needed={parsed["signal"]},
        today=timezone.localdate(),
    )
    return {
        account_id: bool(
            account_id in values and condition_holds(parsed, values[account_id].get(parsed["signal"]))
        )
        for account_id in account_ids
    }


# --- Journeys and steps -----------------------------------------------------------------------


def journey_step_validate(*, data: Mapping[str, Any]) -> None:
    """Raise ValidationError keyed by field, with the template line and reason."""
    errors: dict[str, list[str]] = {}
    for field in TEMPLATE_FIELDS:
        source = data.get(field) or ""
        if field != "body_html_template" and not source.strip():
            errors[field] = ["This template may not be empty."]
            continue
        try:
            validate_template(source)
        except TemplateProblem as problem:
            errors[field] = [f"Line {problem.line}: {problem.reason}"]
    try:
        skip_condition_validate(condition=data.get("skip_condition") or "")
    except ValidationError as exc:
        errors["skip_condition"] = exc.messages
    try:
        module_get_by_code(data.get("module_code") or None, field="module_code")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    kind = data.get("kind") or JourneyStepKind.EMAIL
    if kind not in JourneyStepKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(JourneyStepKind.values)}."]
    elif kind == JourneyStepKind.SURVEY and data.get("survey_kind") not in StepSurveyKind.values:
        errors["survey_kind"] = [f"A survey step asks one of: {', '.join(StepSurveyKind.values)}."]
    elif kind == JourneyStepKind.EMAIL and data.get("survey_kind"):
        errors["survey_kind"] = ["Only a survey step asks a survey question; leave this blank."]
    if data.get("delay_from", DelayFrom.PREVIOUS) not in DelayFrom.values:
        errors["delay_from"] = [f"Choose one of: {', '.join(DelayFrom.values)}."]
    if errors:
        raise ValidationError(errors)


def journey_validate(*, data: Mapping[str, Any]) -> None:
    start, end = data.get("send_window_start"), data.get("send_window_end")
    if isinstance(start, dt.time) and isinstance(end, dt.time) and end <= start:
        raise ValidationError({"send_window_end": ["The send window must end after it starts."]})


# What decides when the contacts already in a journey get their next email.
JOURNEY_TIMING_FIELDS = ("send_window_start", "send_window_end", "send_on_weekends")
STEP_TIMING_FIELDS = ("delay_days", "delay_hours", "delay_from")


def _timing_changes(instance: Any, fields: tuple[str, ...], data: Mapping[str, Any]) -> list[str]:
    if instance.pk is None:
        return []
    stored = type(instance).objects.filter(pk=instance.pk).values(*fields).first() or {}
    return [name for name in fields if name in data and data[name] != stored.get(name)]


@transaction.atomic
def journey_save(*, user: User, data: Mapping[str, Any], journey: Journey | None = None) -> Journey:
    """Create or change a journey. A new send window or weekend rule re-plans the contacts already
    waiting (``journey_timing_changed``, followed by engagement)."""
    _require_leader(user)
    journey_validate(data=data)
    journey = journey or Journey()
    changed = _timing_changes(journey, JOURNEY_TIMING_FIELDS, data)
    for field in JOURNEY_FIELDS:
        if field in data:
            setattr(journey, field, data[field])
    journey.full_clean()
    journey.save()
    if changed:
        journey_timing_changed.send(sender=Journey, journey_id=journey.pk, fields=changed)
    return journey


@transaction.atomic
def journey_step_save(
    *, user: User, journey: Journey, data: Mapping[str, Any], step: JourneyStep | None = None
) -> JourneyStep:
    """Create or change a step; a template that fails to render is refused with line and reason."""
    _require_leader(user)
    journey_step_validate(data=data)
    if step is None:
        last = journey.steps.order_by("-position").values_list("position", flat=True).first() or 0
        step = JourneyStep(journey=journey, position=last + 1)
    changed = _timing_changes(step, STEP_TIMING_FIELDS, data)
    for field in STEP_FIELDS:
        if field in data:
            setattr(step, field, data[field] if data[field] is not None else "")
    step.full_clean(exclude=["journey"])
    step.save()
    if changed:
        # A step's new delay re-plans the contacts waiting for it.
        journey_timing_changed.send(sender=JourneyStep, journey_id=journey.pk, fields=changed)
    return step


@transaction.atomic
def journey_pause(*, user: User, journey: Journey, reason: str = "") -> None:
    """Journey kill switch: nothing of this journey is scheduled or sent until resumed."""
    _require_leader(user)
    Journey.objects.filter(pk=journey.pk).update(is_paused=True, paused_reason=reason[:255])


@transaction.atomic
def journey_resume(*, user: User, journey: Journey) -> None:
    _require_leader(user)
    Journey.objects.filter(pk=journey.pk).update(is_paused=False, paused_reason="")
