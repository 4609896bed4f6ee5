"""The public answer page of a survey link, and leadership's satisfaction panel.

The answer page needs no login: the signed token in the link is the proof. A GET (a person
clicking, a link scanner, a mail preview) only shows the chosen score and a comment box; the
answer is recorded by the POST.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from csplatform.htmx import HtmxHttpRequest, leaders_only, register_overview_panel, render_fragment

from ..clock import local_today
from ..models import SurveyKind, SurveyResponse
from .selectors import satisfaction_panel
from .services import (
    SurveyLinks,
    score_parse,
    score_range,
    survey_invitation_open,
    survey_response_record,
)


@login_not_required
@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = survey_invitation_open(token=token)
    except ValidationError:
        return render(request, "surveys/invalid.html", status=400)
    survey = invitation.survey
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            response = survey_response_record(
                token=token, score=request.POST.get("score"), comment=request.POST.get("comment", "")
            )
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        else:
            return render(request, "surveys/responded.html", {"response": response})
    raw = request.POST.get("score") if request.method == "POST" else request.GET.get("score")
    try:
        chosen: int | None = score_parse(kind=survey.kind, raw=raw)
    except ValidationError:
        chosen = None
    labels = SurveyLinks(question=survey.question, kind=survey.kind, links=[])
    context = {
        "survey": survey,
        "scores": list(score_range(survey.kind)),
        "chosen": chosen,
        "comment": request.POST.get("comment", ""),
        "errors": errors,
        "low_label": labels.low_label,
        "high_label": labels.high_label,
        "previous": SurveyResponse.objects.filter(survey=survey, contact=invitation.contact).first(),
    }
    page = render(request, "surveys/respond.html", context, status=status)
    page["Cache-Control"] = "no-store"
    page["X-Robots-Tag"] = "noindex"
    return page


PANEL_GROUPS = {"tier": "By tier", "csm": "By CSM"}


@require_GET
@leaders_only
def satisfaction_panel_view(request: HtmxHttpRequest) -> HttpResponse:
    # Its own parameter: the overview passes its query string to every panel, and ``by`` is the
    # retention panel's.
    by = request.GET.get("satisfaction_by") or "tier"
    if by not in PANEL_GROUPS:
        return HttpResponse(
            f"satisfaction_by: choose one of {', '.join(PANEL_GROUPS)}.",
            status=400,
            content_type="text/plain",
        )
    today = local_today()
    context = {
        "by": by,
        "groups": PANEL_GROUPS,
        "panels": [satisfaction_panel(kind=kind, by=by, today=today) for kind in SurveyKind.values],
        "kind_labels": dict(SurveyKind.choices),
        "fragment_title": "Customer satisfaction",
    }
    return render_fragment(request, "surveys/panel.html", "panel", context)


def register_pages() -> None:
    register_overview_panel(
        "satisfaction", "Customer satisfaction (NPS and CSAT)", "surveys:panel", order=37, wide=True
    )
