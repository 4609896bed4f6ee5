"""Health scorecards: drafts, validation and activation (exactly one scorecard is active).

Mirrors tier policies (``services.policies``): only CS Leadership edits; only a draft is edited
or activated; activation retires the previous active scorecard and records who and when.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from csplatform import authorization

from ..health import validate_scorecard
from ..health_signals import health_signal_labels
from ..models import HealthComponent, HealthScorecard, ScorecardStatus

COMPONENT_FIELDS = ("signal", "weight", "points", "direction", "missing_points")


def _require_leader(user: Any) -> None:
    if not authorization.may_manage_health_scorecards(user):
        raise PermissionDenied("Only CS Leadership may change health scorecards.")


def scorecard_components(scorecard: HealthScorecard) -> list[dict[str, Any]]:
    """The scorecard's components as data (the shape drafts are created and updated with)."""
    return [
        {
            "signal": c.signal,
            "weight": c.weight,
            "points": c.points,
            "direction": c.direction,
            "missing_points": c.missing_points,
        }
        for c in scorecard.components.all()
    ]


def scorecard_errors(*, components: Any, watch_from: Any, healthy_from: Any) -> dict[str, list[str]]:
    return validate_scorecard(
        components=components,
        watch_from=watch_from,
        healthy_from=healthy_from,
        known_signals=health_signal_labels(),
    )


def _write_components(scorecard: HealthScorecard, components: list[dict[str, Any]]) -> None:
    scorecard.components.all().delete()
    HealthComponent.objects.bulk_create(
        HealthComponent(
            scorecard=scorecard,
            signal=item["signal"],
            weight=Decimal(str(item["weight"])),
            points=[{"from": step["from"], "points": step["points"]} for step in item["points"]],
            direction=item.get("direction", "any"),
            missing_points=item.get("missing_points", 50),
            position=position,
        )
        for position, item in enumerate(components)
    )


@transaction.atomic
def health_scorecard_create_draft(
    *,
    by: Any,
    name: str = "",
    components: list[dict[str, Any]] | None = None,
    watch_from: int | None = None,
    healthy_from: int | None = None,
    notes: str | None = None,
) -> HealthScorecard:
    """A new draft with the next version: a copy of the active scorecard, with any of
    ``components`` and the band bounds given instead. Refused when the result is not valid."""
    _require_leader(by)
    version = (HealthScorecard.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0) + 1
    active = HealthScorecard.objects.filter(status=ScorecardStatus.ACTIVE).first()
    if components is None:
        components = scorecard_components(active) if active else []
    watch_from = watch_from if watch_from is not None else (active.watch_from if active else 40)
    healthy_from = healthy_from if healthy_from is not None else (active.healthy_from if active else 70)
    errors = scorecard_errors(components=components, watch_from=watch_from, healthy_from=healthy_from)
    if errors:
        raise ValidationError(errors)
    draft = HealthScorecard.objects.create(
        version=version,
        name=name or (f"{active.name} (draft v{version})" if active else f"Health v{version}"),
        status=ScorecardStatus.DRAFT,
        watch_from=watch_from,
        healthy_from=healthy_from,
        notes=notes if notes is not None else (active.notes if active else ""),
        created_by=by,
    )
    _write_components(draft, components)
    return draft


@transaction.atomic
def health_scorecard_update(
    *,
    scorecard: HealthScorecard,
    by: Any,
    components: list[dict[str, Any]] | None = None,
    watch_from: int | None = None,
    healthy_from: int | None = None,
    name: str | None = None,
    notes: str | None = None,
) -> HealthScorecard:
    """Edit a draft's components (the whole list), bands, name or notes; refuses an invalid result
    with a field-keyed ValidationError naming the component."""
    _require_leader(by)
    scorecard = HealthScorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ValidationError(
            {"status": [f"Only a draft can be edited; v{scorecard.version} is {scorecard.status}."]}
        )
    if watch_from is not None:
        scorecard.watch_from = watch_from
    if healthy_from is not None:
        scorecard.healthy_from = healthy_from
    if name is not None:
        scorecard.name = name
    if notes is not None:
        scorecard.notes = notes
    checked = components if components is not None else scorecard_components(scorecard)
    errors = scorecard_errors(
        components=checked, watch_from=scorecard.watch_from, healthy_from=scorecard.healthy_from
    )
    if errors:
        raise ValidationError(errors)
    scorecard.save()
    if components is not None:
        _write_components(scorecard, components)
    return scorecard


@transaction.atomic
def health_scorecard_activate(*, scorecard: HealthScorecard, by: Any) -> HealthScorecard:
    """Make a valid draft the active scorecard; the previous one is retired. Records who activated
    it and when. The next health computation (nightly or an event) uses it."""
    _require_leader(by)
    scorecard = HealthScorecard.objects.select_for_update().get(pk=scorecard.pk)
    if scorecard.status != ScorecardStatus.DRAFT:
        raise ValidationError(
            {"status": [f"Only a draft can be activated; v{scorecard.version} is {scorecard.status}."]}
        )
    errors = scorecard_errors(
        components=scorecard_components(scorecard),
        watch_from=scorecard.watch_from,
        healthy_from=scorecard.healthy_from,
    )
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    HealthScorecard.objects.select_for_update().filter(status=ScorecardStatus.ACTIVE).update(
        status=ScorecardStatus.RETIRED, retired_at=now
    )
    scorecard.status = ScorecardStatus.ACTIVE
    scorecard.activated_by = by
    scorecard.activated_at = now
    scorecard.save(update_fields=["status", "activated_by", "activated_at"])
    return scorecard
