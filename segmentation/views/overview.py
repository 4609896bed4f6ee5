"""Leadership overview panels owned by segmentation; each is its own HTMX fragment with drill-downs."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.drilldown import (
    DRILLDOWN_PAGE_SIZE,
    drilldown_offset,
    drilldown_page_number,
    page_of,
    render_drilldown,
)
from accounts.models import Account
from csplatform.htmx import HtmxHttpRequest, leaders_only, render_fragment

from .. import selectors_web as web
from ..economics import CostRates
from ..models import (
    OverrideReason,
    OverrideStatus,
    Quadrant,
    ReviewStatus,
    TierOverride,
    TierReview,
)
from ..selectors import latest_review_summaries
from ..services.feedback import override_feedback, override_outcomes

PANELS = "segmentation/panels.html"


@require_GET
@leaders_only
def distribution_panel(request: HtmxHttpRequest) -> HttpResponse:
    rows = web.tier_distribution()
    # Each bar and slice opens the accounts it counts: the table's drill-down links.
    tier_lists = [f"{reverse('accounts:list')}?tier={r.code or 'none'}&lifecycle=active" for r in rows]
    chart = {
        "type": "bar",
        "labels": [r.code or "none" for r in rows],
        "yLabel": "accounts",
        "links": tier_lists,
        "datasets": [{"label": "Accounts", "data": [r.accounts for r in rows]}],
    }
    acv_chart = {
        "type": "doughnut",
        "labels": [r.code or "none" for r in rows],
        "links": [f"{url}&order=-acv" for url in tier_lists],
        "datasets": [
            {
                "label": "ACV",
                "data": [float(r.acv) for r in rows],
                "colors": ["#1f3c88", "#3d6fd9", "#8fb0ef", "#dfe7f7", "#f0a500", "#5b6575"],
            }
        ],
    }
    context = {
        "rows": rows,
        "chart": chart,
        "acv_chart": acv_chart,
        "total": sum(r.accounts for r in rows),
        "total_acv": sum(r.acv for r in rows),
    }
    return render_fragment(request, PANELS, "distribution", context)


@require_GET
@leaders_only
def migrations_panel(request: HtmxHttpRequest) -> HttpResponse:
    summaries = latest_review_summaries()
    codes, rows = web.migration_matrix(summaries)
    return render_fragment(
        request, PANELS, "migrations", {"codes": codes, "rows": rows, "review": summaries["review"]}
    )


@require_GET
@leaders_only
def overrides_panel(request: HtmxHttpRequest) -> HttpResponse:
    groups = override_feedback()
    by_reason: dict[str, int] = {}
    for group in groups:
        by_reason[group.reason] = by_reason.get(group.reason, 0) + group.accounts
    reasons = [
        (code, label, by_reason.get(code, 0)) for code, label in OverrideReason.choices if by_reason.get(code)
    ]
    pending = TierOverride.objects.filter(status=OverrideStatus.PENDING).count()
    chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [label for _, label, _ in reasons],
        "xLabel": "active overrides",
        "links": [reverse("segmentation:override-accounts", args=[code]) for code, _, _ in reasons],
        "datasets": [{"label": "Active overrides", "data": [n for _, _, n in reasons], "color": "#f0a500"}],
    }
    outcomes = override_outcomes()
    evidence = [(label, outcomes[code]) for code, label in OverrideReason.choices if code in outcomes]
    context = {
        "reasons": reasons,
        "groups": groups[:8],
        "pending": pending,
        "chart": chart,
        "evidence": evidence,
    }
    return render_fragment(request, PANELS, "overrides", context)


@require_GET
@leaders_only
def economics_panel(request: HtmxHttpRequest) -> HttpResponse:
    summaries = latest_review_summaries()
    by_quadrant = {q.quadrant: q for q in summaries["quadrants"]}
    quadrants = [(q.value, q.label, by_quadrant.get(q.value)) for q in web.QUADRANT_ORDER]
    return render_fragment(
        request, PANELS, "economics", {"quadrants": quadrants, "review": summaries["review"]}
    )


@require_GET
@leaders_only
def economics_scatter(request: HtmxHttpRequest) -> HttpResponse:
    points = web.economics_scatter()
    for point in points:
        point["url"] = reverse("accounts:detail", args=[point["id"]])
    # The lines the quadrant summary divides by: the same thresholds as its counts.
    rates = CostRates.from_settings()
    colours = {
        Quadrant.HIGH_REVENUE_LOW_COST: "#1b7f4b",
        Quadrant.HIGH_REVENUE_HIGH_COST: "#3d6fd9",
        Quadrant.LOW_REVENUE_LOW_COST: "#8fb0ef",
        Quadrant.LOW_REVENUE_HIGH_COST: "#b42318",
    }
    chart = {
        "type": "scatter",
        # ACV spreads over orders of magnitude: on a log axis the small accounts are not one blot.
        "xLabel": "ACV (revenue, log scale)",
        "xLog": True,
        "yLabel": "cost to serve / year",
        "quadrants": {
            "x": float(rates.high_revenue),
            "y": float(rates.high_cost),
            "xLabel": f"high revenue ≥ {rates.high_revenue:,.0f}",
            "yLabel": f"high cost ≥ {rates.high_cost:,.0f}",
        },
        "datasets": [
            {"label": q.label, "color": colours[q], "data": [p for p in points if p["quadrant"] == q.value]}
            for q in web.QUADRANT_ORDER
        ],
    }
    context = {"chart": chart, "points": points, "rates": rates}
    return render_fragment(request, PANELS, "scatter", context)


# --- Drill-downs: the accounts behind a number ---------------------------------------------------
# Each drill-down opens exactly the accounts its number counts: the same rule, the same total,
# paged (a link's number equals the total the page shows, data-total).


@require_GET
@leaders_only
def migration_accounts(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    try:
        review = TierReview.objects.get(pk=review_id, status=ReviewStatus.FINISHED)
    except TierReview.DoesNotExist:
        raise Http404("No such finished review.") from None
    from_code, to_code = request.GET.get("from", ""), request.GET.get("to", "")
    previous = web.previous_finished_review(review)
    ids = web.tier_move_account_ids(
        after_change_id=previous.last_change_id if previous else 0,
        upto_change_id=review.last_change_id,
        from_code=from_code,
        to_code=to_code,
    )
    page = drilldown_page_number(request)
    return render_drilldown(
        request,
        f"Accounts moved {from_code or 'none'} → {to_code or 'none'} (review #{review.pk})",
        ids=page_of(ids, page),
        total=len(ids),
        page=page,
    )


@require_GET
@leaders_only
def override_accounts(request: HtmxHttpRequest, reason: str) -> HttpResponse:
    if reason not in OverrideReason.values:
        raise Http404("No such reason.")
    overrides = TierOverride.objects.filter(status=OverrideStatus.ACTIVE, reason=reason)
    accounts = Account.objects.filter(pk__in=overrides.values("account_id")).order_by("-acv", "id")
    page = drilldown_page_number(request)
    offset = drilldown_offset(page)
    return render_drilldown(
        request,
        f"Accounts overridden for {OverrideReason(reason).label}",
        ids=list(accounts.values_list("pk", flat=True)[offset : offset + DRILLDOWN_PAGE_SIZE]),
        total=accounts.count(),
        page=page,
    )


@require_GET
@leaders_only
def quadrant_accounts(request: HtmxHttpRequest, quadrant: str) -> HttpResponse:
    if quadrant not in Quadrant.values:
        raise Http404("No such quadrant.")
    summaries = latest_review_summaries()
    review = summaries["review"]
    # The panel counts the quadrants as of the last review's day: the drill-down computes them
    # as of that same day, so the number and its accounts agree.
    as_of = timezone.localdate(review.finished_at) if review is not None and review.finished_at else None
    page = drilldown_page_number(request)
    ids, total = web.account_ids_in_quadrant_page(
        quadrant=quadrant, as_of=as_of, limit=DRILLDOWN_PAGE_SIZE, offset=drilldown_offset(page)
    )
    return render_drilldown(
        request,
        f"{Quadrant(quadrant).label}: accounts by ACV",
        ids=ids,
        total=total,
        page=page,
        note=f"Cost to serve as of {as_of:%Y-%m-%d}, the day of review #{review.pk}." if review else "",
    )
