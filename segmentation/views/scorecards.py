"""Health scorecards for CS Leadership: versions, a draft's editor, its backtest beside the active
scorecard's, fitting weights to outcomes, activation."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from csplatform import authorization
from csplatform.authorization import signed_in
from csplatform.htmx import HtmxHttpRequest, conflict, render_fragment, require_permission

from ..forms_health import ComponentFormSet, ScorecardSettingsForm, steps_text
from ..health_signals import health_signal_labels
from ..models import HealthScorecard, ScorecardStatus
from ..selectors_health import health_scorecards
from ..services.health_backtest import health_backtest
from ..services.health_fit import health_scorecard_fit_draft
from ..services.health_scorecards import (
    health_scorecard_activate,
    health_scorecard_create_draft,
    health_scorecard_update,
    scorecard_components,
)

PAGE = "segmentation/scorecard_detail.html"
managers_only = require_permission(authorization.may_manage_health_scorecards)


def _scorecard_or_404(scorecard_id: int) -> HealthScorecard:
    try:
        return health_scorecards().select_related("created_by", "activated_by").get(pk=scorecard_id)
    except HealthScorecard.DoesNotExist:
        raise Http404("No such scorecard.") from None


@require_GET
@managers_only
def scorecard_list(request: HtmxHttpRequest) -> HttpResponse:
    scorecards = list(health_scorecards().select_related("created_by", "activated_by"))
    return render(request, "segmentation/scorecard_list.html", {"scorecards": scorecards})


@managers_only
@require_POST
def scorecard_new_draft(request: HtmxHttpRequest) -> HttpResponse:
    """A draft copied from the active scorecard (or from the one named in the form)."""
    source_id = request.POST.get("from", "")
    by = signed_in(request.user)
    if source_id.isdigit():
        source = _scorecard_or_404(int(source_id))
        draft = health_scorecard_create_draft(
            by=by,
            components=scorecard_components(source),
            watch_from=source.watch_from,
            healthy_from=source.healthy_from,
            notes=source.notes,
        )
    else:
        draft = health_scorecard_create_draft(by=by)
    messages.success(request, f"Draft v{draft.version} created.")
    return redirect("segmentation:scorecard-detail", scorecard_id=draft.pk)


def _forms_for(scorecard: HealthScorecard, data: Any = None) -> tuple[ScorecardSettingsForm, Any]:
    settings_form = ScorecardSettingsForm(
        data,
        initial={
            "name": scorecard.name,
            "watch_from": scorecard.watch_from,
            "healthy_from": scorecard.healthy_from,
            "notes": scorecard.notes,
        },
    )
    rows = [
        {
            "signal": c.signal,
            "weight": c.weight,
            "steps": steps_text(c.points),
            "direction": c.direction,
            "missing_points": c.missing_points,
        }
        for c in scorecard.components.all()
    ]
    return settings_form, ComponentFormSet(data, initial=rows, prefix="components")


def _place_errors(error: ValidationError, settings_form: ScorecardSettingsForm, component_forms: Any) -> None:
    """A service error beside what it names: a component's beside its row, bands beside the bands."""
    by_signal = {
        form.cleaned_data.get("signal"): form
        for form in component_forms.forms
        if getattr(form, "cleaned_data", None)
    }
    for field, problems in error.message_dict.items():
        for problem in problems:
            name = problem.split(":", 1)[0]
            if field == "components" and name in by_signal:
                by_signal[name].add_error(None, problem)
            elif field == "bands":
                settings_form.add_error("watch_from", problem)
            else:
                settings_form.add_error(None, problem)


def _context(scorecard: HealthScorecard, settings_form: Any, component_forms: Any) -> dict[str, Any]:
    labels = health_signal_labels()
    return {
        "scorecard": scorecard,
        "settings_form": settings_form,
        "component_forms": component_forms,
        "editable": scorecard.status == ScorecardStatus.DRAFT,
        "components": [
            {"component": c, "label": labels.get(c.signal, c.signal), "steps": c.points}
            for c in scorecard.components.all()
        ],
    }


@managers_only
@require_http_methods(["GET", "POST"])
def scorecard_detail(request: HtmxHttpRequest, scorecard_id: int) -> HttpResponse:
    """A scorecard's components and bands; a draft is edited here, errors beside what they name."""
    scorecard = _scorecard_or_404(scorecard_id)
    if request.method == "GET":
        return render(request, PAGE, _context(scorecard, *_forms_for(scorecard)))
    if scorecard.status != ScorecardStatus.DRAFT:
        return conflict(
            f"v{scorecard.version} is {scorecard.status} and can no longer be edited; reload the page."
        )
    settings_form, component_forms = _forms_for(scorecard, request.POST)
    if settings_form.is_valid() and component_forms.is_valid():
        data = settings_form.cleaned_data
        try:
            health_scorecard_update(
                scorecard=scorecard,
                by=signed_in(request.user),
                components=component_forms.components(),
                watch_from=data["watch_from"],
                healthy_from=data["healthy_from"],
                name=data["name"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            if "status" in exc.message_dict:
                return conflict(" ".join(exc.message_dict["status"]))
            _place_errors(exc, settings_form, component_forms)
        else:
            scorecard = _scorecard_or_404(scorecard.pk)
            context = _context(scorecard, *_forms_for(scorecard))
            context["saved"] = True
            if request.htmx:
                return render_fragment(request, PAGE, "editor", context)
            messages.success(request, "Draft saved.")
            return redirect("segmentation:scorecard-detail", scorecard_id=scorecard.pk)
    context = _context(scorecard, settings_form, component_forms)
    if request.htmx:
        return render_fragment(request, PAGE, "editor", context, status=422)
    return render(request, PAGE, context, status=422)


@require_GET
@managers_only
def scorecard_backtest(request: HtmxHttpRequest, scorecard_id: int) -> HttpResponse:
    """The backtest of this scorecard beside the active one's (one column when it is the active)."""
    scorecard = _scorecard_or_404(scorecard_id)
    results = [health_backtest(scorecard=scorecard)]
    active = health_scorecards().filter(status=ScorecardStatus.ACTIVE).first()
    if active is not None and active.pk != scorecard.pk:
        results.append(health_backtest(scorecard=active))
    rows = [
        (band.label, [result.bands[index] for result in results])
        for index, band in enumerate(results[0].bands)
    ]
    context = {
        "scorecard": scorecard,
        "results": results,
        "band_rows": rows,
        "fragment_title": f"Backtest of health scorecard v{scorecard.version}",
    }
    return render_fragment(request, PAGE, "backtest", context)


@managers_only
@require_POST
def scorecard_fit(request: HtmxHttpRequest, scorecard_id: int) -> HttpResponse:
    """A new draft with this scorecard's components and weights fitted to the renewal outcomes."""
    base = _scorecard_or_404(scorecard_id)
    try:
        fitted = health_scorecard_fit_draft(by=signed_in(request.user), base=base)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("segmentation:scorecard-detail", scorecard_id=base.pk)
    messages.success(request, f"Draft v{fitted.version} has weights fitted to the outcomes: {fitted.notes}")
    return redirect("segmentation:scorecard-detail", scorecard_id=fitted.pk)


@managers_only
@require_POST
def scorecard_activate(request: HtmxHttpRequest, scorecard_id: int) -> HttpResponse:
    """Activate a draft (after a confirmation); who and when are recorded, the previous one retires."""
    scorecard = _scorecard_or_404(scorecard_id)
    try:
        health_scorecard_activate(scorecard=scorecard, by=signed_in(request.user))
    except ValidationError as exc:
        if "status" in exc.message_dict:
            return conflict(" ".join(exc.message_dict["status"]))
        messages.error(request, "The draft cannot be activated: " + "; ".join(exc.messages))
        return redirect("segmentation:scorecard-detail", scorecard_id=scorecard.pk)
    messages.success(
        request, f"v{scorecard.version} is now the active health scorecard; tonight's run uses it."
    )
    return redirect("segmentation:scorecard-detail", scorecard_id=scorecard.pk)
