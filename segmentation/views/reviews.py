"""Tier reviews: start one, watch its progress (HTMX polling), read the result."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from csplatform.authorization import signed_in
from csplatform.htmx import HtmxHttpRequest, leaders_only, render_fragment

from ..models import TierReview
from ..selectors import review_get, review_open, reviews_recent
from ..services.reviews import ReviewInProgress, tier_review_start

DETAIL = "segmentation/review_detail.html"


def _review_or_404(review_id: int) -> TierReview:
    try:
        return review_get(review_id)
    except TierReview.DoesNotExist:
        raise Http404("No such review.") from None


@require_GET
@leaders_only
def review_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request, "segmentation/review_list.html", {"reviews": reviews_recent(), "open": review_open()}
    )


@leaders_only
@require_POST
def review_start(request: HtmxHttpRequest) -> HttpResponse:
    """Start a review of every account; a second click while one runs opens the running one."""
    try:
        review = tier_review_start(requested_by=signed_in(request.user))
    except ReviewInProgress as exc:
        messages.info(
            request, f"Review #{exc.review.pk} is already {exc.review.status}; here is its progress."
        )
        review = exc.review
    return redirect("segmentation:review-detail", review_id=review.pk)


def _changes(review: TierReview) -> list[object]:
    return list(review.changes.select_related("account").order_by("-id")[:50])


@require_GET
@leaders_only
def review_detail(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    review = _review_or_404(review_id)
    return render(
        request, DETAIL, {"review": review, "changes": _changes(review) if not review.is_open else []}
    )


@require_GET
@leaders_only
def review_progress(request: HtmxHttpRequest, review_id: int) -> HttpResponse:
    """The progress fragment: it polls itself while the review runs and stops once it is done."""
    review = _review_or_404(review_id)
    return render_fragment(
        request,
        DETAIL,
        "progress",
        {"review": review, "changes": _changes(review) if not review.is_open else []},
    )
