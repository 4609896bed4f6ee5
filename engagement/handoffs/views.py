"""AE handoffs (the AE's home), an account's commitments, and the single decision on a commitment
that exceeds the tier (the approvals inbox itself is in ``views_approvals``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Account
from accounts.selectors_web import account_page, visible_account_or_404
from csplatform import authorization, roles
from csplatform.htmx import (
    HtmxHttpRequest,
    add_service_errors,
    conflict,
    leaders_only,
    querystring,
    register_account_section,
    register_overview_panel,
    render_fragment,
    trigger_notice,
)
from playbooks.models import ServiceModule
from playbooks.selectors import entitlements_for_account

from ..clock import local_today
from ..models import HandoffCommitment
from .forms import CommitmentForm, DecisionForm, HandoffSearchForm
from .selectors import commitments_awaiting_decision, commitments_for
from .services import (
    commitment_accept,
    commitment_check,
    commitment_decline,
    commitment_log,
)

if TYPE_CHECKING:
    from csplatform.models import AnyUser

SECTIONS = "engagement/account_sections.html"
PANELS = "engagement/panels.html"


def _require_ae_or_leader(user: AnyUser) -> None:
    if not authorization.may_log_handoffs(user):
        raise PermissionDenied("Handoffs are for Account Executives.")


# An AE's book runs to hundreds of accounts: a page of them at a time, searchable.
HANDOFF_PAGE_SIZE = 25


@require_GET
def handoffs(request: HtmxHttpRequest) -> HttpResponse:
    """The AE's home: my accounts, and the status of the commitments I logged."""
    _require_ae_or_leader(request.user)
    form = HandoffSearchForm(request.GET)
    form.is_valid()
    cleaned = getattr(form, "cleaned_data", {})
    q = cleaned.get("q", "") if "q" not in form.errors else ""
    page_number = (cleaned.get("page") if "page" not in form.errors else None) or 1
    page = account_page(
        request.user, {"q": q, "ae": request.user.pk}, page=page_number, page_size=HANDOFF_PAGE_SIZE
    )
    filters = {"q": q} if q else {}
    context = {
        "form": form,
        "page": page,
        "q": q,
        "next_query": querystring(filters, page=page.page + 1) if page.has_next else None,
        "previous_query": querystring(filters, page=page.page - 1) if page.has_previous else None,
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "engagement/handoffs.html#accounts", context)
    context["commitments"] = list(
        HandoffCommitment.objects.filter(logged_by_id=request.user.pk)
        .select_related("account", "module", "decided_by")
        .order_by("-created_at")[:200]
    )
    return render(request, "engagement/handoffs.html", context)


def _handoff_context(request: HtmxHttpRequest, account: Account, form: CommitmentForm) -> dict[str, object]:
    today = local_today()
    return {
        "account": account,
        "form": form,
        "entitlements": entitlements_for_account(account=account, on=today),
        "commitments": list(
            account.commitments.select_related("module", "logged_by", "decided_by").order_by("-created_at")
        ),
    }


@require_http_methods(["GET", "POST"])
def handoff_account(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """Log a commitment on one of my accounts, with the tier's entitlements beside the form."""
    _require_ae_or_leader(request.user)
    account = visible_account_or_404(request.user, account_id, related=("csm", "ae"))
    if not authorization.may_log_commitment(request.user, account):
        raise Http404("No such account among your handoffs.")
    form = CommitmentForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                commitment = commitment_log(
                    by=authorization.signed_in(request.user),
                    account=account,
                    module_code=data["module"] or None,
                    cadence_days=data["cadence_days"],
                    description=data["description"],
                    deal_reference=data["deal_reference"],
                    note=data["note"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                context = _handoff_context(request, account, CommitmentForm())
                context["logged"] = commitment
                if request.htmx:
                    return render_fragment(request, "engagement/handoff_account.html", "workspace", context)
                return render(request, "engagement/handoff_account.html", context)
        context = _handoff_context(request, account, form)
        if request.htmx:
            return render_fragment(
                request, "engagement/handoff_account.html", "workspace", context, status=422
            )
        return render(request, "engagement/handoff_account.html", context, status=422)
    return render(request, "engagement/handoff_account.html", _handoff_context(request, account, form))


@require_POST
def handoff_check(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """Preview the entitlement check of a promise before it is saved (same rule as saving)."""
    _require_ae_or_leader(request.user)
    account = visible_account_or_404(request.user, account_id)
    form = CommitmentForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    module = None
    if data.get("module"):
        module = ServiceModule.objects.filter(code=data["module"]).first()
    if module is None and not (data.get("description") or "").strip():
        return HttpResponse('<p class="muted">Choose a service or describe the promise to check it.</p>')
    status, explanation = commitment_check(
        tier_code=account.tier_code,
        entitlements=entitlements_for_account(account=account, on=local_today()),
        module=module,
        cadence_days=data.get("cadence_days"),
    )
    return render_fragment(
        request,
        "engagement/handoff_account.html",
        "check",
        {"check_status": status, "check_explanation": explanation},
    )


@require_GET
def account_commitments(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    commitments = list(commitments_for(user=request.user, account_id=account.pk).order_by("-created_at"))
    return render_fragment(request, SECTIONS, "commitments", {"account": account, "commitments": commitments})


@leaders_only
@require_POST
def commitment_decide(request: HtmxHttpRequest, commitment_id: int) -> HttpResponse:
    commitment = get_object_or_404(
        HandoffCommitment.objects.select_related("account", "module"), pk=commitment_id
    )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return HttpResponse(
                " ".join(str(e) for errs in form.errors.values() for e in errs),
                status=400,
                content_type="text/plain",
            )
        return redirect("engagement:approvals")
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            commitment = commitment_accept(
                by=authorization.signed_in(request.user),
                commitment=commitment,
                until=data["until"],
                note=data["reason"],
            )
        else:
            commitment = commitment_decline(
                by=authorization.signed_in(request.user), commitment=commitment, reason=data["reason"]
            )
    except ValidationError as exc:
        if "status" in getattr(exc, "message_dict", {}):
            return conflict(" ".join(exc.message_dict["status"]))
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    notice = f"Commitment on {commitment.account.name} {commitment.get_status_display().lower()}."
    if request.htmx:
        response = render_fragment(
            request, "engagement/approvals.html", "commitment_decided", {"c": commitment}
        )
        return trigger_notice(response, notice)
    from django.contrib import messages

    messages.success(request, notice)
    return redirect("engagement:approvals")


@require_GET
@leaders_only
def commitments_panel(request: HtmxHttpRequest) -> HttpResponse:
    waiting = commitments_awaiting_decision()
    return render_fragment(
        request, PANELS, "commitments", {"commitments": list(waiting[:8]), "count": waiting.count()}
    )


def register_pages() -> None:
    from csplatform.home import register_home

    register_home(roles.ACCOUNT_EXECUTIVE, handoffs)
    register_account_section(
        "commitments", "AE commitments", "engagement:account-commitments", order=40, wide=True
    )
    register_overview_panel(
        "commitments", "Commitments awaiting a decision", "engagement:panel-commitments", order=50
    )
