"""The leadership "Retention" panel: period and dimension in the URL, a table and a chart, every
number opening the renewals behind it, and a CSV export of the same figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from csplatform import authorization
from csplatform.csv import csv_response
from csplatform.htmx import HtmxHttpRequest, leaders_only, querystring, render_fragment

from .queries import DIMENSIONS
from .services import (
    RetentionReport,
    override_evidence,
    retention_renewals,
    retention_report,
    validate_period,
)

TEMPLATE = "engagement/retention.html"
DIMENSION_LABELS = {
    "tier": "Tier on the renewal date",
    "touch_model": "Touch model",
    "csm": "CSM",
    "vertical": "Vertical",
    "region": "Region",
    "coverage": "Coverage kept in the year before",
    "override": "Overridden on the renewal date",
    "health_band": "Health band 90 days before",
}


def last_twelve_months(today: dt.date) -> tuple[dt.date, dt.date]:
    """The default period: the 365 days up to and including today."""
    return today - dt.timedelta(days=364), today


def _filters(request: HtmxHttpRequest) -> dict[str, Any]:
    """The request's period and dimension, the defaults filled in for what it leaves out."""
    default_from, default_to = last_twelve_months(timezone.localdate())
    return {
        "from": request.GET.get("from") or default_from.isoformat(),
        "to": request.GET.get("to") or default_to.isoformat(),
        "by": request.GET.get("by") or "tier",
    }


def _group_labels(report: RetentionReport, by: str) -> list[str]:
    """What a person reads for each group: grouped by CSM, the people's names (the groups are
    usernames, as the API and the drill-down's parameter have them)."""
    groups = [row.group or "—" for row in report.rows]
    if by != "csm":
        return groups
    people = get_user_model().objects.filter(username__in=groups).only("username", "first_name", "last_name")
    names: dict[str, str] = {person.username: person.display_name for person in people}
    return [names.get(group, group) for group in groups]


def _chart(report: RetentionReport, labels: list[str], links: list[str]) -> dict[str, Any]:
    """GRR, NRR and logo churn per group; each group's bars open its renewals (``links``)."""

    def percent(value: Any) -> float | None:
        return None if value is None else float(value * 100)

    return {
        "type": "bar",
        "labels": labels,
        "yLabel": "% of ARR before / of renewals",
        "links": links,
        "datasets": [
            {"label": "GRR %", "data": [percent(r.grr) for r in report.rows]},
            {"label": "NRR %", "data": [percent(r.nrr) for r in report.rows]},
            {
                "label": "Logo churn %",
                "data": [percent(r.logo_churn) for r in report.rows],
                "color": "#b42318",
            },
        ],
    }


@require_GET
@leaders_only
def retention_panel(request: HtmxHttpRequest) -> HttpResponse:
    filters = _filters(request)
    context: dict[str, Any] = {
        "filters": filters,
        "dimensions": [(key, DIMENSION_LABELS[key]) for key in DIMENSIONS],
        "fragment_title": "Retention",
    }
    try:
        date_from, date_to, by = validate_period(
            raw_from=filters["from"], raw_to=filters["to"], raw_by=filters["by"]
        )
    except ValidationError as exc:
        context["errors"] = exc.message_dict
        return render_fragment(request, TEMPLATE, "panel", context, status=400)
    report = retention_report(user=request.user, date_from=date_from, date_to=date_to, by=by)
    labels = _group_labels(report, by)
    table_rows = [
        (row, querystring(filters, group=row.group), label)
        for row, label in zip(report.rows, labels, strict=True)
    ]
    drill = reverse("engagement:retention-renewals")
    context.update(
        report=report,
        chart=_chart(report, labels, [f"{drill}?{q}" for _, q, _ in table_rows]),
        dimension_label=DIMENSION_LABELS[by],
        query=querystring(filters),
        table_rows=table_rows,
    )
    return render_fragment(request, TEMPLATE, "panel", context)


def _period_or_400(filters: dict[str, Any]) -> tuple[dt.date, dt.date, str] | HttpResponse:
    """The period and dimension asked for, or a 400 naming each bad parameter."""
    try:
        return validate_period(raw_from=filters["from"], raw_to=filters["to"], raw_by=filters["by"])
    except ValidationError as exc:
        message = " ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


@require_GET
@leaders_only
def retention_drilldown(request: HtmxHttpRequest) -> HttpResponse:
    """The renewals behind a number of the panel: one group (``?group=``) or every group."""
    filters = _filters(request)
    period = _period_or_400(filters)
    if isinstance(period, HttpResponse):
        return period
    date_from, date_to, by = period
    group = request.GET.get("group") or None
    renewals = retention_renewals(user=request.user, date_from=date_from, date_to=date_to, by=by, group=group)
    context = {
        "renewals": renewals,
        "filters": filters,
        "group": group,
        "dimension_label": DIMENSION_LABELS[by],
        "panel_query": querystring(filters),
        "csv_query": querystring(filters, group=group, rows="renewals"),
    }
    return render(request, "engagement/retention_renewals.html", context)


@require_GET
def retention_csv(request: HtmxHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The panel's rows (default) or, with ``?rows=renewals``, the renewals behind them."""
    if not authorization.may_lead(request.user):
        raise PermissionDenied("Retention exports are for CS Leadership.")
    filters = _filters(request)
    period = _period_or_400(filters)
    if isinstance(period, HttpResponse):
        return period
    date_from, date_to, by = period
    stem = f"retention-{by}-{date_from.isoformat()}-{date_to.isoformat()}"
    if request.GET.get("rows") == "renewals":
        group = request.GET.get("group") or None
        renewals = retention_renewals(
            user=request.user, date_from=date_from, date_to=date_to, by=by, group=group
        )
        header = [by, "account_id", "account", "renewal_date", "outcome", "arr_before", "arr_after"]
        return csv_response(
            f"{stem}-renewals.csv",
            header,
            (
                [r.group, r.account_id, r.account_name, r.renewal_date, r.outcome, r.arr_before, r.arr_after]
                for r in renewals
            ),
        )
    report = retention_report(user=request.user, date_from=date_from, date_to=date_to, by=by)
    header = [by, "renewals", "arr_before", "arr_after", "grr", "nrr", "logo_churn"]
    rows = [*report.rows, report.total]
    return csv_response(
        f"{stem}.csv",
        header,
        (
            [
                r.group if r.group is not None else "total",
                r.renewals,
                r.arr_before,
                r.arr_after,
                r.grr,
                r.nrr,
                r.logo_churn,
            ]
            for r in rows
        ),
    )


def override_outcomes_for_feedback() -> dict[str, Any]:
    """The override feedback report's evidence: how accounts overridden for each reason renewed
    over the last 12 months, against their policy-tier peers."""
    date_from, date_to = last_twelve_months(timezone.localdate())
    return dict(override_evidence(date_from=date_from, date_to=date_to))


def register_pages() -> None:
    from csplatform.htmx import register_overview_panel
    from segmentation.services.feedback import register_override_outcomes

    register_overview_panel("retention", "Retention", "engagement:panel-retention", order=35, wide=True)
    register_override_outcomes(override_outcomes_for_feedback)
