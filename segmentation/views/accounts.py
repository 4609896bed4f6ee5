"""The tier section of the account page, the override dialog, proposals and override decisions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from accounts.selectors_web import visible_account_or_404
from csplatform import authorization
from csplatform.htmx import (
    DIALOG_BODY,
    HtmxHttpRequest,
    add_service_errors,
    conflict,
    leaders_only,
    render_fragment,
    trigger_notice,
)

from ..forms import DecisionForm, DisputeForm, OverrideForm
from ..models import ChangeStatus, OverrideStatus, PolicyStatus, Tier, TierChange, TierOverride
from ..selectors import account_tier_panel
from ..services.overrides import tier_override_approve, tier_override_decline, tier_override_request
from ..services.proposals import tier_proposal_accept, tier_proposal_reject


def account_changed(account_id: int, notice: str, *, status: int = 204) -> HttpResponse:
    """Tell the page an account changed: its worklist row and account sections reload themselves."""
    response = trigger_client_event(HttpResponse(status=status), "closeDialog")
    trigger_notice(response, notice)
    trigger_client_event(response, "accountChanged", {"account": account_id})
    return trigger_client_event(response, f"account-changed-{account_id}")


def _done(request: HtmxHttpRequest, account_id: int, notice: str) -> HttpResponse:
    if request.htmx:
        return account_changed(account_id, notice)
    from django.contrib import messages

    messages.success(request, notice)
    return redirect("accounts:detail", account_id=account_id)


def _conflict_message(exc: ValidationError) -> str | None:
    """A status error means the thing changed meanwhile (decided, expired, re-evaluated)."""
    messages = getattr(exc, "message_dict", {}).get("status")
    return " ".join(messages) if messages else None


@require_GET
def tier_section(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """Why the account has its tier (structured steps), override and proposal, history, economics."""
    account = visible_account_or_404(request.user, account_id)
    panel = account_tier_panel(account=account)
    context = {
        "panel": panel,
        "account": account,
        "can_override": authorization.may_do_cs_work(request.user, account),
        "fragment_title": f"{account.name}: tier and why",
    }
    return render_fragment(request, "segmentation/tier_section.html", "section", context)


def _active_tiers() -> list[tuple[str, str]]:
    return [
        (code, f"{code} · {name}")
        for code, name in Tier.objects.filter(policy__status=PolicyStatus.ACTIVE)
        .order_by("rank")
        .values_list("code", "name")
    ]


@require_http_methods(["GET", "POST"])
def override_new(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """Override the tier with a reason and an expiry (a dialog); the service decides on approval."""
    account = visible_account_or_404(request.user, account_id)
    tiers = _active_tiers()
    if request.method == "POST":
        form = OverrideForm(request.POST, tiers=tiers)
        if form.is_valid():
            data = form.cleaned_data
            try:
                override = tier_override_request(
                    account=account,
                    by=authorization.signed_in(request.user),
                    tier_code=data["tier"],
                    reason=data["reason"],
                    note=data["note"],
                    expires_on=data["expires_on"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if override.status == OverrideStatus.PENDING:
                    notice = f"Override to {override.tier_code} requested; it awaits CS Leadership approval."
                else:
                    notice = (
                        f"{account.name} is now {override.tier_code} until {override.expires_on:%Y-%m-%d}."
                    )
                return _done(request, account.pk, notice)
        response = render(
            request, "segmentation/override_form.html", {"form": form, "account": account}, status=422
        )
        return reswap(retarget(response, DIALOG_BODY), "innerHTML") if request.htmx else response
    form = OverrideForm(tiers=tiers)
    return render(request, "segmentation/override_form.html", {"form": form, "account": account})


def _visible_proposal(request: HtmxHttpRequest, change_id: int) -> TierChange:
    return get_object_or_404(
        TierChange.objects.select_related("account").filter(
            authorization.account_scope(request.user, via="account__")
        ),
        pk=change_id,
    )


@require_POST
def proposal_accept(request: HtmxHttpRequest, change_id: int) -> HttpResponse:
    change = _visible_proposal(request, change_id)
    if change.status == ChangeStatus.APPLIED and change.decided_by_id == request.user.pk:
        return _done(request, change.account_id, "Tier proposal already accepted.")  # a double submit
    if change.status != ChangeStatus.PROPOSED:
        return conflict(
            f"This proposal is {change.get_status_display().lower()} already; reload to see the tier."
        )
    try:
        tier_proposal_accept(change=change, by=authorization.signed_in(request.user))
    except ValidationError as exc:
        return conflict(_conflict_message(exc) or " ".join(exc.messages))
    return _done(request, change.account_id, f"{change.account.name} moves to {change.to_code}.")


@require_http_methods(["GET", "POST"])
def proposal_dispute(request: HtmxHttpRequest, change_id: int) -> HttpResponse:
    """Dispute a proposal: the account keeps its tier through an override with a reason."""
    change = _visible_proposal(request, change_id)
    context: dict[str, object] = {"change": change}
    if change.status != ChangeStatus.PROPOSED:
        return conflict(
            f"This proposal is {change.get_status_display().lower()} already; reload to see the tier."
        )
    if request.method == "POST":
        form = DisputeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                tier_proposal_reject(
                    change=change,
                    by=authorization.signed_in(request.user),
                    reason=data["reason"],
                    note=data["note"],
                    expires_on=data["expires_on"],
                )
            except ValidationError as exc:
                message = _conflict_message(exc)
                if message:
                    return conflict(message)
                add_service_errors(form, exc)
            else:
                return _done(
                    request, change.account_id, f"Proposal disputed; {change.account.name} keeps its tier."
                )
        context["form"] = form
        response = render(request, "segmentation/dispute_form.html", context, status=422)
        return reswap(retarget(response, DIALOG_BODY), "innerHTML") if request.htmx else response
    context["form"] = DisputeForm()
    return render(request, "segmentation/dispute_form.html", context)


@leaders_only
@require_POST
def override_decide(request: HtmxHttpRequest, override_id: int) -> HttpResponse:
    """Approve or decline a pending override from the approvals inbox (inline)."""
    override = get_object_or_404(
        TierOverride.objects.select_related("account", "requested_by"), pk=override_id
    )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose approve or decline.", status=400, content_type="text/plain")
    try:
        if form.cleaned_data["decision"] == "approve":
            tier_override_approve(
                override=override, by=authorization.signed_in(request.user), note=form.cleaned_data["note"]
            )
            notice = f"Override of {override.account.name} to {override.tier_code} approved."
        else:
            tier_override_decline(
                override=override, by=authorization.signed_in(request.user), note=form.cleaned_data["note"]
            )
            notice = f"Override of {override.account.name} declined."
    except ValidationError as exc:
        message = _conflict_message(exc)
        if message:
            return conflict(message)
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    override.refresh_from_db()
    if request.htmx:
        response = render(request, "segmentation/override_decided.html", {"override": override})
        trigger_notice(response, notice)
        return trigger_client_event(response, "approvalsChanged")
    from django.contrib import messages

    messages.success(request, notice)
    return redirect("engagement:approvals")
