"""Engagement pages: the CSM worklist (home), inline actions, AE handoffs, account sections."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Account
from csplatform.models import User
from accounts.selectors_web import visible_account_or_404, visible_accounts
from csplatform import roles
from csplatform.htmx import (
    add_service_errors,
    add_trigger,
    conflict,
    is_htmx,
    querystring,
    render_fragment,
    render_page_or_fragment,
    retarget_to_dialog,
)
from playbooks.models import ServiceModule
from playbooks.selectors import entitlements_for_account

from . import selectors_web
from .forms import CommitmentForm, SnoozeForm, TouchpointForm, WorklistFilterForm
from .models import HandoffCommitment, Task
from .selectors import accounts_for_worklist, csm_capacity
from .services.commitments import commitment_check, commitment_log
from .services.tasks import task_complete, task_snooze
from .services.touchpoints import touchpoint_log

WORKLIST = "engagement/worklist.html"


def _worklist_csm(request: HttpRequest, filters: dict[str, object]) -> Any:
    """Whose worklist: a CSM's own; leadership may open any CSM's (``?csm=<id>``)."""
    if roles.is_leader(request.user) and filters.get("csm"):
        return get_object_or_404(User, pk=filters["csm"])
    if roles.is_csm(request.user):
        return request.user
    if roles.is_leader(request.user):
        return request.user  # a leader without a portfolio sees an empty worklist and the filter
    raise PermissionDenied("The worklist is for CSMs.")


def worklist(request: HttpRequest) -> HttpResponse:
    """The CSM's home: their accounts in priority order, with why, capacity and coverage on top."""
    if not (roles.is_csm(request.user) or roles.is_leader(request.user)):
        raise PermissionDenied("The worklist is for CSMs.")
    today = selectors_web.local_today()
    form = WorklistFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    csm = _worklist_csm(request, filters)
    entries = accounts_for_worklist(
        csm=csm, flag_kind=filters.get("flag"), search=filters.get("q"), today=today
    )
    form.set_tier_choices(selectors_web.tier_choices(entries))
    if filters.get("tier") and filters["tier"] != "none":
        entries = [e for e in entries if e.account.tier_code == filters["tier"]]
    entries = selectors_web.filter_entries(entries, filters, today=today)
    page_number = (form.cleaned_data.get("page") if form.is_bound and form.is_valid() else None) or 1
    size = selectors_web.WORKLIST_PAGE_SIZE
    start = (page_number - 1) * size
    context = {
        "form": form,
        "filters": filters,
        "worklist_csm": csm,
        "rows": selectors_web.worklist_rows(entries[start : start + size], today=today),
        "total": len(entries),
        "page": page_number,
        "has_next": len(entries) > start + size,
        "next_query": querystring(filters, page=page_number + 1),
        "previous_query": querystring(filters, page=page_number - 1),
        "today": today,
        **ACTIONS,
    }
    return render_page_or_fragment(request, WORKLIST, "results", context)


def worklist_capacity(request: HttpRequest) -> HttpResponse:
    """The capacity and on-time coverage cards at the top of the worklist (its own fragment)."""
    if not (roles.is_csm(request.user) or roles.is_leader(request.user)):
        raise PermissionDenied("The worklist is for CSMs.")
    form = WorklistFilterForm(request.GET or None)
    csm = _worklist_csm(request, form.filters() if form.is_bound else {})
    capacity = next(iter(csm_capacity(csm_ids=[csm.pk])), None)
    context = {
        "capacity": capacity,
        "utilisation_percent": round(100 * capacity.utilisation) if capacity and capacity.utilisation else 0,
        "coverage": selectors_web.on_time_coverage_for_csm(csm.pk),
    }
    return render_fragment(request, WORKLIST, "capacity", context)


# The inline actions the worklist rows offer (each URL exists once its service does).
ACTIONS = {"touchpoint_urls": True, "task_urls": True}


def worklist_row_response(request: HttpRequest, account_id: int, *, notice: str) -> HttpResponse:
    """One refreshed worklist row (after an inline action), closing the dialog and saying what happened."""
    today = selectors_web.local_today()
    account = Account.objects.filter(pk=account_id).only("csm").first()
    csm = account.csm if account is not None and account.csm_id else None
    entry = None
    if csm is not None:
        entry = next(
            (e for e in accounts_for_worklist(csm=csm, today=today) if e.account.pk == account_id), None
        )
    if entry is None:  # an account without a CSM is on nobody's worklist
        response = HttpResponse(status=204)
    else:
        row = selectors_web.worklist_rows([entry], today=today)[0]
        response = render_fragment(
            request, WORKLIST, "row", {"row": row, "updated": True, "today": today, **ACTIONS}
        )
    return add_trigger(response, {"closeDialog": True, "notice": notice, "accountChanged": account_id})


def _after_action(request: HttpRequest, account_id: int, notice: str) -> HttpResponse:
    """HTMX from the worklist: the refreshed row; from elsewhere: events only (the account page
    reloads its sections); a plain form post: back to the account page."""
    if is_htmx(request):
        if request.POST.get("from") == "worklist":
            return worklist_row_response(request, account_id, notice=notice)
        return add_trigger(
            HttpResponse(status=204), {"closeDialog": True, "notice": notice, "accountChanged": account_id}
        )
    from django.contrib import messages

    messages.success(request, notice)
    return redirect("accounts:detail", account_id=account_id)


@require_http_methods(["GET", "POST"])
def touchpoint_new(request: HttpRequest, account_id: int) -> HttpResponse:
    """Log a touchpoint: a dialog form (GET), saved by the touchpoint service (POST)."""
    account = visible_account_or_404(request.user, account_id)
    if request.method == "POST":
        form = TouchpointForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                touchpoint_log(
                    by=request.user,
                    account=account,
                    kind=data["kind"],
                    occurred_at=data["occurred_at"],
                    minutes=data["minutes"],
                    module_code=data["module"] or None,
                    notes=data["notes"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _after_action(request, account.pk, f"Touchpoint logged on {account.name}.")
        context = {"form": form, "account": account, "origin": request.POST.get("from", "")}
        response = render(request, "engagement/touchpoint_form.html", context, status=422)
        return retarget_to_dialog(response) if is_htmx(request) else response
    form = TouchpointForm(initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)})
    context = {"form": form, "account": account, "origin": request.GET.get("from", "")}
    return render(request, "engagement/touchpoint_form.html", context)


def _visible_task(request: HttpRequest, task_id: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("account").filter(account__in=visible_accounts(request.user)), pk=task_id
    )


@require_POST
def task_complete_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    try:
        task_complete(by=request.user, task=task)
    except ValidationError as exc:
        return conflict(" ".join(exc.messages))
    return _after_action(request, task.account_id, f"Task done: {task.title}.")


@require_http_methods(["GET", "POST"])
def task_snooze_view(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    if request.method == "POST":
        form = SnoozeForm(request.POST)
        if form.is_valid():
            try:
                task_snooze(
                    by=request.user,
                    task=task,
                    until=form.cleaned_data["until"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                if "status" in getattr(exc, "message_dict", {}):
                    return conflict(" ".join(exc.message_dict["status"]))
                add_service_errors(form, exc)
            else:
                return _after_action(request, task.account_id, f"Task snoozed: {task.title}.")
        context = {"form": form, "task": task, "origin": request.POST.get("from", "")}
        response = render(request, "engagement/snooze_form.html", context, status=422)
        return retarget_to_dialog(response) if is_htmx(request) else response
    context = {"form": SnoozeForm(), "task": task, "origin": request.GET.get("from", "")}
    return render(request, "engagement/snooze_form.html", context)


def register_pages() -> None:
    from csplatform.home import register_home

    register_home(roles.CSM, worklist)
    register_home(roles.ACCOUNT_EXECUTIVE, handoffs)


# --- AE handoffs ------------------------------------------------------------------------------


def _require_ae_or_leader(user: object) -> None:
    if not (roles.is_account_executive(user) or roles.is_leader(user)):
        raise PermissionDenied("Handoffs are for Account Executives.")


def handoffs(request: HttpRequest) -> HttpResponse:
    """The AE's home: my accounts, and the status of the commitments I logged."""
    _require_ae_or_leader(request.user)
    accounts = list(
        visible_accounts(request.user).filter(ae=request.user).select_related("csm").order_by("name")[:500]
    )
    commitments = list(
        HandoffCommitment.objects.filter(logged_by=request.user)
        .select_related("account", "module", "decided_by")
        .order_by("-created_at")[:200]
    )
    return render(request, "engagement/handoffs.html", {"accounts": accounts, "commitments": commitments})


def _handoff_context(request: HttpRequest, account: Account, form: CommitmentForm) -> dict[str, object]:
    today = selectors_web.local_today()
    return {
        "account": account,
        "form": form,
        "entitlements": entitlements_for_account(account=account, on=today),
        "commitments": list(
            account.commitments.select_related("module", "logged_by", "decided_by").order_by("-created_at")
        ),
    }


@require_http_methods(["GET", "POST"])
def handoff_account(request: HttpRequest, account_id: int) -> HttpResponse:
    """Log a commitment on one of my accounts, with the tier's entitlements beside the form."""
    _require_ae_or_leader(request.user)
    account = visible_account_or_404(request.user, account_id, related=("csm", "ae"))
    if not roles.is_leader(request.user) and account.ae_id != request.user.pk:
        raise Http404("No such account among your handoffs.")
    form = CommitmentForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                commitment = commitment_log(
                    by=request.user,
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
                if is_htmx(request):
                    return render_fragment(request, "engagement/handoff_account.html", "workspace", context)
                return render(request, "engagement/handoff_account.html", context)
        context = _handoff_context(request, account, form)
        if is_htmx(request):
            return render_fragment(
                request, "engagement/handoff_account.html", "workspace", context, status=422
            )
        return render(request, "engagement/handoff_account.html", context, status=422)
    return render(request, "engagement/handoff_account.html", _handoff_context(request, account, form))


@require_POST
def handoff_check(request: HttpRequest, account_id: int) -> HttpResponse:
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
        entitlements=entitlements_for_account(account=account, on=selectors_web.local_today()),
        module=module,
        cadence_days=data.get("cadence_days"),
    )
    return render_fragment(
        request,
        "engagement/handoff_account.html",
        "check",
        {"check_status": status, "check_explanation": explanation},
    )
