"""Engagement pages: the CSM worklist (home), inline actions, AE handoffs, account sections."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from accounts.models import Account
from accounts.selectors import accounts_visible_to
from accounts.selectors_web import visible_account_or_404
from csplatform import authorization, roles
from csplatform.htmx import (
    DIALOG_BODY,
    HtmxHttpRequest,
    add_service_errors,
    conflict,
    leaders_only,
    querystring,
    render_fragment,
    render_page_or_fragment,
    trigger_notice,
)
from csplatform.models import User
from playbooks.models import ServiceModule
from playbooks.selectors import entitlements_for_account

from . import selectors_web
from .forms import CommitmentForm, DecisionForm, SnoozeForm, TouchpointForm, WorklistFilterForm
from .models import HandoffCommitment
from .selectors import (
    commitments_awaiting_decision,
    commitments_for,
    coverage_for_account,
    coverage_share,
    csm_capacity,
    pending_add_ons,
    tasks_for_account,
    tasks_visible_to,
    worklist_accounts,
    worklist_entries,
    worklist_portfolio,
    worklist_tiers,
)
from .services.commitments import commitment_accept, commitment_check, commitment_decline, commitment_log
from .services.tasks import task_complete, task_snooze
from .services.touchpoints import touchpoint_log

WORKLIST = "engagement/worklist.html"


def _worklist_csm(request: HtmxHttpRequest, filters: dict[str, object]) -> Any:
    """Whose worklist: a CSM's own; leadership may open any CSM's (``?csm=<id>``)."""
    if not authorization.may_keep_worklist(request.user):
        raise PermissionDenied("The worklist is for CSMs.")
    if authorization.may_lead(request.user) and filters.get("csm"):  # leadership opens any CSM's
        return get_object_or_404(User, pk=filters["csm"])
    # A CSM's own; a leader without a portfolio sees an empty worklist and the filter.
    return request.user


@require_GET
def worklist(request: HtmxHttpRequest) -> HttpResponse:
    """The CSM's home: their accounts in priority order, with why, capacity and coverage on top."""
    if not authorization.may_keep_worklist(request.user):
        raise PermissionDenied("The worklist is for CSMs.")
    today = selectors_web.local_today()
    form = WorklistFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else {}
    csm = _worklist_csm(request, filters)
    form.set_tier_choices(worklist_tiers(csm=csm, flag_kind=filters.get("flag"), search=filters.get("q")))
    tier = filters.get("tier")
    renewal_within = filters.get("renewal_within")
    filter_args: dict[str, Any] = {
        "csm": csm,
        "tier_code": tier if tier != "none" else None,
        "no_tier": tier == "none",
        "flag_kind": filters.get("flag"),
        "search": filters.get("q"),
        "lifecycle": filters.get("lifecycle"),
        "renewal_within": int(renewal_within) if renewal_within else None,
        "today": today,
    }
    # Counted without the score; the database orders and pages: only the page's rows are built.
    total = worklist_portfolio(**filter_args).count()
    page_number = (form.cleaned_data.get("page") if form.is_bound and form.is_valid() else None) or 1
    size = selectors_web.WORKLIST_PAGE_SIZE
    start = (page_number - 1) * size
    entries = (
        worklist_entries(worklist_accounts(limit=size, offset=start, **filter_args), today=today)
        if start < total
        else []
    )
    context = {
        "form": form,
        "filters": filters,
        "worklist_csm": csm,
        "rows": selectors_web.worklist_rows(entries, today=today),
        "total": total,
        "page": page_number,
        "has_next": total > start + size,
        "next_query": querystring(filters, page=page_number + 1),
        "previous_query": querystring(filters, page=page_number - 1),
        "today": today,
        **ACTIONS,
    }
    return render_page_or_fragment(request, WORKLIST, "results", context)


@require_GET
def worklist_capacity(request: HtmxHttpRequest) -> HttpResponse:
    """The capacity and on-time coverage cards at the top of the worklist (its own fragment)."""
    if not authorization.may_keep_worklist(request.user):
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
ACTIONS = {"touchpoint_urls": True, "task_urls": True, "proposal_urls": True, "override_urls": True}


def worklist_row_response(request: HtmxHttpRequest, account_id: int, *, notice: str | None) -> HttpResponse:
    """One refreshed worklist row (after an inline action), closing the dialog and saying what happened."""
    today = selectors_web.local_today()
    account = Account.objects.filter(pk=account_id).only("csm").first()
    csm = account.csm if account is not None and account.csm_id else None
    entry = None
    if csm is not None:
        accounts = worklist_accounts(csm=csm, account_id=account_id, today=today)
        entry = next(iter(worklist_entries(accounts, today=today)), None)
    if entry is None:  # an account without a CSM is on nobody's worklist
        response = HttpResponse(status=204)
    else:
        row = selectors_web.worklist_rows([entry], today=today)[0]
        response = render_fragment(
            request, WORKLIST, "row", {"row": row, "updated": True, "today": today, **ACTIONS}
        )
    if notice is None:
        return response
    return _account_changed_events(response, account_id, notice)


def _account_changed_events(response: HttpResponse, account_id: int, notice: str) -> HttpResponse:
    """Close the dialog, flash the notice; the account's sections on the page reload themselves."""
    trigger_client_event(response, "closeDialog")
    trigger_notice(response, notice)
    return trigger_client_event(response, "accountChanged", {"account": account_id})


def _after_action(request: HtmxHttpRequest, account_id: int, notice: str) -> HttpResponse:
    """HTMX from the worklist: the refreshed row; from elsewhere: events only (the account page
    reloads its sections); a plain form post: back to the account page."""
    if request.htmx:
        if request.POST.get("from") == "worklist":
            return worklist_row_response(request, account_id, notice=notice)
        return _account_changed_events(HttpResponse(status=204), account_id, notice)
    from django.contrib import messages

    messages.success(request, notice)
    return redirect("accounts:detail", account_id=account_id)


@require_http_methods(["GET", "POST"])
def touchpoint_new(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
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
        return reswap(retarget(response, DIALOG_BODY), "innerHTML") if request.htmx else response
    form = TouchpointForm(initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)})
    context = {"form": form, "account": account, "origin": request.GET.get("from", "")}
    return render(request, "engagement/touchpoint_form.html", context)


@require_POST
def task_complete_view(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(tasks_visible_to(user=request.user), pk=task_id)
    try:
        task_complete(by=request.user, task=task)
    except ValidationError as exc:
        return conflict(" ".join(exc.messages))
    return _after_action(request, task.account_id, f"Task done: {task.title}.")


@require_http_methods(["GET", "POST"])
def task_snooze_view(request: HtmxHttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(tasks_visible_to(user=request.user), pk=task_id)
    if not authorization.may_do_cs_work(request.user, task.account, assignee_id=task.assignee_id):
        raise PermissionDenied("Only the account's CSM, the assignee or CS Leadership may snooze tasks.")
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
        return reswap(retarget(response, DIALOG_BODY), "innerHTML") if request.htmx else response
    context = {"form": SnoozeForm(), "task": task, "origin": request.GET.get("from", "")}
    return render(request, "engagement/snooze_form.html", context)


def register_pages() -> None:
    from csplatform.home import register_home
    from csplatform.htmx import register_account_section, register_overview_panel

    register_home(roles.CSM, worklist)
    register_home(roles.ACCOUNT_EXECUTIVE, handoffs)
    register_account_section("coverage", "Entitlements vs delivered", "engagement:account-coverage", order=20)
    register_account_section("tasks", "Open tasks", "engagement:account-tasks", order=30)
    register_account_section("commitments", "AE commitments", "engagement:account-commitments", order=40)
    register_account_section("timeline", "Timeline", "engagement:account-timeline", order=50, wide=True)
    register_overview_panel("coverage", "Coverage by tier and CSM", "engagement:panel-coverage", order=30)
    register_overview_panel(
        "commitments", "Commitments awaiting a decision", "engagement:panel-commitments", order=50
    )
    register_overview_panel("capacity", "CSM capacity", "engagement:panel-capacity", order=60)


# --- AE handoffs ------------------------------------------------------------------------------


def _require_ae_or_leader(user: object) -> None:
    if not authorization.may_log_handoffs(user):
        raise PermissionDenied("Handoffs are for Account Executives.")


@require_GET
def handoffs(request: HtmxHttpRequest) -> HttpResponse:
    """The AE's home: my accounts, and the status of the commitments I logged."""
    _require_ae_or_leader(request.user)
    accounts = list(
        accounts_visible_to(user=request.user)
        .filter(ae_id=request.user.pk)
        .order_by("name")[:500]
    )
    commitments = list(
        HandoffCommitment.objects.filter(logged_by_id=request.user.pk)
        .select_related("account", "module", "decided_by")
        .order_by("-created_at")[:200]
    )
    return render(request, "engagement/handoffs.html", {"accounts": accounts, "commitments": commitments})


def _handoff_context(request: HtmxHttpRequest, account: Account, form: CommitmentForm) -> dict[str, object]:
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


@require_GET
def worklist_row(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """One worklist row, re-read after something changed on the account (``account-changed-<id>``)."""
    visible_account_or_404(request.user, account_id)
    return worklist_row_response(request, account_id, notice=None)


# --- Account page sections -------------------------------------------------------------------

SECTIONS = "engagement/account_sections.html"


@require_GET
def account_coverage(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    lines = coverage_for_account(account=account, today=selectors_web.local_today())
    return render_fragment(request, SECTIONS, "coverage", {"account": account, "lines": lines})


@require_GET
def account_tasks(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    tasks = [t for t in tasks_for_account(account=account) if t.status == "open"]
    return render_fragment(
        request, SECTIONS, "tasks", {"account": account, "tasks": tasks, "today": selectors_web.local_today()}
    )


@require_GET
def account_commitments(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    commitments = list(commitments_for(user=request.user, account_id=account.pk).order_by("-created_at"))
    return render_fragment(request, SECTIONS, "commitments", {"account": account, "commitments": commitments})


@require_GET
def account_timeline(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = visible_account_or_404(request.user, account_id)
    items = selectors_web.account_timeline(account.pk)
    return render_fragment(request, SECTIONS, "timeline", {"account": account, "items": items})


# --- Approvals inbox (CS Leadership) --------------------------------------------------------


@require_GET
@leaders_only
def approvals(request: HtmxHttpRequest) -> HttpResponse:
    """Overrides needing approval, commitments exceeding the tier, add-on modules: decide inline."""
    from segmentation.selectors import overrides_awaiting_approval

    context = {
        "overrides": list(overrides_awaiting_approval()[:200]),
        "commitments": list(commitments_awaiting_decision()[:200]),
        "add_ons": list(pending_add_ons().order_by("created_at")[:200]),
    }
    return render(request, "engagement/approvals.html", context)


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
                by=request.user, commitment=commitment, until=data["until"], note=data["reason"]
            )
        else:
            commitment = commitment_decline(by=request.user, commitment=commitment, reason=data["reason"])
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


# --- Leadership panels owned by engagement --------------------------------------------------

PANELS = "engagement/panels.html"


@require_GET
@leaders_only
def coverage_panel(request: HtmxHttpRequest) -> HttpResponse:
    today = selectors_web.local_today()
    by_tier = coverage_share(group_by="tier", today=today)
    by_csm = coverage_share(group_by="csm", today=today)
    return render_fragment(request, PANELS, "coverage", {"by_tier": by_tier, "by_csm": by_csm})


@require_GET
@leaders_only
def commitments_panel(request: HtmxHttpRequest) -> HttpResponse:
    waiting = commitments_awaiting_decision()
    return render_fragment(
        request, PANELS, "commitments", {"commitments": list(waiting[:8]), "count": waiting.count()}
    )


@require_GET
@leaders_only
def capacity_panel(request: HtmxHttpRequest) -> HttpResponse:
    # Every CSM: accounts per tier come from the portfolio summary, not a GROUP BY of the book.
    rows = csm_capacity(today=selectors_web.local_today(), from_summary=True)
    chart = {
        "type": "bar",
        "horizontal": True,
        "labels": [r.csm.display_name for r in rows],
        "xLabel": "% of weekly capacity",
        "datasets": [
            {"label": "Utilisation %", "data": [round(100 * (r.utilisation or 0)) for r in rows]},
        ],
    }
    return render_fragment(request, PANELS, "capacity", {"rows": rows, "chart": chart})
