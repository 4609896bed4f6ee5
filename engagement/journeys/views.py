"""Journey screens: list and results, the editor, preview, dry run, the review list, account side,
and the public one-click unsubscribe endpoint.

Views parse, check the role and the object, and call a service or a selector. CS Leadership
edits journeys and settings; a CSM sees journeys and acts on the accounts they own.
"""

from __future__ import annotations

import uuid
from typing import Any

from csp.decorators import csp_replace, csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Account, Contact
from csplatform import authorization, bounds
from csplatform.errors import errors_by_field
from csplatform.htmx import (
    HtmxHttpRequest,
    add_service_errors,
    leaders_only,
    register_account_section,
    require_permission,
)
from playbooks.journey_templates import PLACEHOLDERS
from playbooks.models import Journey, JourneyStep, ServiceModule
from playbooks.services.journeys import (
    journey_pause,
    journey_resume,
    journey_save,
    journey_step_save,
    skip_condition_label,
)

from ..models import JourneyEnrolment, OutboundEmail
from .forms import JourneyForm, SettingsForm, StepForm
from .schedule import journey_plan
from .selectors import (
    account_enrolments,
    journey_enrolments,
    journey_results,
    journeys_overview,
    outbound_for_account,
    stuck_batches_for_review,
    stuck_for_review,
)
from .sending import REVIEW_ACTIONS, outbound_review_resolve, outbound_review_resolve_batch
from .services import (
    contact_problem,
    contact_unsubscribe,
    enrolment_start,
    enrolment_stop,
    enrolments_stop_for_account,
    journey_settings,
    journey_settings_update,
    step_render,
)
from .unsubscribe import InvalidUnsubscribeToken, contact_id_from_token

leaders_and_csms = require_permission(authorization.may_keep_worklist)


# --- Journeys: list, editor, pause ------------------------------------------------------------


@require_GET
@leaders_and_csms
def journey_list(request: HtmxHttpRequest) -> HttpResponse:
    config = journey_settings()
    context = {
        "overview": journeys_overview(),
        "config": config,
        "settings_form": SettingsForm(
            initial={
                "sending_paused": config.sending_paused,
                "paused_reason": config.paused_reason,
                "weekly_cap": config.weekly_cap,
            }
        ),
        "stuck_count": stuck_for_review().count() if authorization.may_manage_policies(request.user) else 0,
    }
    return render(request, "journeys/list.html", context)


@require_POST
@leaders_only
def settings_update(request: HtmxHttpRequest) -> HttpResponse:
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            journey_settings_update(user=authorization.signed_in(request.user), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            state = "paused" if form.cleaned_data["sending_paused"] else "on"
            messages.success(request, f"Journey settings saved: sending is {state}.")
            return redirect("journeys:list")
    problems = "; ".join(str(e) for errs in form.errors.values() for e in errs)
    messages.error(request, f"Settings not saved: {problems}")
    return redirect("journeys:list")


@leaders_only
def journey_new(request: HtmxHttpRequest) -> HttpResponse:
    form = JourneyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            journey = journey_save(user=authorization.signed_in(request.user), data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Journey “{journey.name}” created. Add its first step.")
            return redirect("journeys:detail", journey_id=journey.pk)
    status = 422 if form.errors else 200
    return render(request, "journeys/journey_form.html", {"form": form}, status=status)


def _example_contact(journey: Journey) -> Contact:
    """Who the steps are shown to when nobody the person works with fits the journey: an example
    (never saved, never mailed), so the page still shows an email rather than its placeholders."""
    account = Account(name="Example Co", tier_code=journey.tier_code)
    return Contact(pk=0, name="Alex Example", email="alex@example.com", account=account)


def _steps_as_read(request: HtmxHttpRequest, journey: Journey) -> tuple[list[dict[str, Any]], Contact]:
    """Each step as the email a contact will read (rendered for one sample contact), with its
    timing, skip condition and module in words. The page shows each body in a sandboxed frame
    loaded from ``step_email``, so the page itself keeps the strict CSP (no inline styles)."""
    steps = list(journey.steps.order_by("position"))
    contact = _sample_contact(request, journey) or _example_contact(journey)
    codes = {step.module_code for step in steps if step.module_code}
    modules = dict(ServiceModule.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    return [
        {
            "step": step,
            "rendered": step_render(step=step, contact=contact, account=contact.account),
            "skip_label": skip_condition_label(condition=step.skip_condition),
            "module_name": modules.get(step.module_code, step.module_code.replace("_", " ")),
        }
        for step in steps
    ], contact


@leaders_and_csms
def journey_detail(request: HtmxHttpRequest, journey_id: int) -> HttpResponse:
    if request.method == "POST" and not authorization.may_manage_policies(request.user):
        raise PermissionDenied("Only CS Leadership may edit journeys.")  # whether it exists or not
    journey = get_object_or_404(Journey, pk=journey_id)
    form = JourneyForm(request.POST or None, instance=journey)
    if request.method == "POST" and form.is_valid():
        try:
            journey_save(user=authorization.signed_in(request.user), data=form.cleaned_data, journey=journey)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Journey saved.")
            return redirect("journeys:detail", journey_id=journey.pk)
    steps, contact = _steps_as_read(request, journey)
    context = {
        "journey": journey,
        "form": form,
        "steps": steps,
        "sample_contact": contact,
        # A CSM sees the enrolments of their own accounts only.
        "enrolments": journey_enrolments(
            journey=journey,
            csm_id=None if authorization.may_lead(request.user) else request.user.pk,
            limit=50,
        ),
        "can_edit": authorization.may_manage_policies(request.user),
    }
    return render(request, "journeys/detail.html", context, status=422 if form.errors else 200)


@require_POST
@leaders_only
def journey_pause_view(request: HtmxHttpRequest, journey_id: int) -> HttpResponse:
    journey = get_object_or_404(Journey, pk=journey_id)
    journey_pause(
        user=authorization.signed_in(request.user), journey=journey, reason=request.POST.get("reason", "")
    )
    messages.warning(request, f"“{journey.name}” is paused: nothing of it is scheduled or sent.")
    return redirect("journeys:detail", journey_id=journey.pk)


@require_POST
@leaders_only
def journey_resume_view(request: HtmxHttpRequest, journey_id: int) -> HttpResponse:
    journey = get_object_or_404(Journey, pk=journey_id)
    journey_resume(user=authorization.signed_in(request.user), journey=journey)
    messages.success(request, f"“{journey.name}” is sending again.")
    return redirect("journeys:detail", journey_id=journey.pk)


@leaders_only
def step_edit(request: HtmxHttpRequest, journey_id: int, step_id: int | None = None) -> HttpResponse:
    journey = get_object_or_404(Journey, pk=journey_id)
    step = get_object_or_404(JourneyStep, pk=step_id, journey=journey) if step_id else None
    form = StepForm(request.POST or None, instance=step)
    if request.method == "POST" and form.is_valid():
        try:
            saved = journey_step_save(
                user=authorization.signed_in(request.user), journey=journey, data=form.cleaned_data, step=step
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Step {saved.position} “{saved.name}” saved.")
            return redirect("journeys:detail", journey_id=journey.pk)
    context = {"journey": journey, "step": step, "form": form, "placeholders": PLACEHOLDERS}
    return render(request, "journeys/step_form.html", context, status=422 if form.errors else 200)


# --- Preview, dry run, results, review ---------------------------------------------------------


def _sample_contact(request: HtmxHttpRequest, journey: Journey) -> Contact | None:
    """A contact the person may preview for: of the journey's tier when it has one."""
    contacts = Contact.objects.filter(authorization.cs_work_scope(request.user, via="account__"))
    if journey.tier_code:
        contacts = contacts.filter(account__tier_code=journey.tier_code)
    return contacts.select_related("account", "account__csm").order_by("account_id", "id").first()


def _module_name(code: str) -> str:
    if not code:
        return ""
    return ServiceModule.objects.filter(code=code).values_list("name", flat=True).first() or code


def _contact_from_query(request: HtmxHttpRequest) -> Contact | None:
    """The contact to preview with, by id or email, among the contacts of accounts the person works
    on. Anyone else's contact reads as no match, exactly like an address no customer has: the
    preview must not tell whether an email address belongs to some customer."""
    wanted = request.GET.get("contact", "").strip()
    if not wanted:
        return None
    contacts = Contact.objects.filter(
        authorization.cs_work_scope(request.user, via="account__")
    ).select_related("account", "account__csm")
    if wanted.isdigit():
        try:
            contact_id = bounds.database_id_param(wanted, field="contact")
        except ValidationError:
            return None  # no contact has that id either
        return contacts.filter(pk=contact_id).first() if contact_id is not None else None
    return contacts.filter(email__iexact=wanted).first()


# The email is shown as the contact will read it: its HTML in a sandboxed frame (no scripts, no
# forms, its own origin). The frame's document is the page's srcdoc and inherits the page's CSP:
# emails style with inline styles and load images from anywhere, so this page alone allows both.
# (django-csp types a view as taking the request alone, hence the ignore.)
@csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["https:"]})  # type: ignore[arg-type]
@require_GET
@leaders_and_csms
def step_preview(request: HtmxHttpRequest, journey_id: int, step_id: int) -> HttpResponse:
    step = get_object_or_404(JourneyStep.objects.select_related("journey"), pk=step_id, journey_id=journey_id)
    contact = _contact_from_query(request)
    if contact is None and not request.GET.get("contact"):
        contact = _sample_contact(request, step.journey)
    context: dict[str, Any] = {
        "journey": step.journey,
        "step": step,
        "contact": contact,
        "query": request.GET.get("contact", "") or (str(contact.pk) if contact else ""),
        "module_name": _module_name(step.module_code),
    }
    if contact is not None:
        context["rendered"] = step_render(step=step, contact=contact, account=contact.account)
        context["problem"] = contact_problem(contact)
    elif context["query"]:
        context["not_found"] = True
    return render(request, "journeys/preview.html", context)


# The body of a step's email, alone, for the frames of the journey page: a document of its own
# with a CSP of its own (inline styles and https images as emails use them; no script, no form,
# sandboxed) that only this site may frame. The journey page itself stays strict.
@csp_replace(  # type: ignore[arg-type]
    {
        "default-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["https:", "data:"],
        "script-src": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'self'"],
        "sandbox": [""],
    }
)
@xframe_options_sameorigin
@require_GET
@leaders_and_csms
def step_email(request: HtmxHttpRequest, journey_id: int, step_id: int) -> HttpResponse:
    step = get_object_or_404(JourneyStep.objects.select_related("journey"), pk=step_id, journey_id=journey_id)
    contact = _contact_from_query(request) if request.GET.get("contact") else None
    if contact is None:
        contact = _sample_contact(request, step.journey) or _example_contact(step.journey)
    rendered = step_render(step=step, contact=contact, account=contact.account)
    body = rendered.body_html
    if "<html" not in body.lower():  # a body part alone: give it the document around it
        head = f'<meta charset="utf-8"><title>{escape(rendered.subject)}</title>'
        body = f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>'
    return HttpResponse(body, content_type="text/html; charset=utf-8")


@require_GET
@leaders_only
def journey_dry_run(request: HtmxHttpRequest, journey_id: int) -> HttpResponse:
    journey = get_object_or_404(Journey, pk=journey_id)
    plan = journey_plan(journey=journey, days=7)
    return render(request, "journeys/dry_run.html", {"journey": journey, "plan": plan, "scope": journey.name})


@require_GET
@leaders_only
def journey_results_view(request: HtmxHttpRequest, journey_id: int) -> HttpResponse:
    journey = get_object_or_404(Journey, pk=journey_id)
    context = {"journey": journey, "results": journey_results(journey=journey)}
    return render(request, "journeys/results.html", context)


def _review_page(request: HtmxHttpRequest, *, status: int = 200) -> HttpResponse:
    context = {
        "rows": stuck_for_review()[:500],
        "batches": stuck_batches_for_review(),
        "actions": REVIEW_ACTIONS,
    }
    return render(request, "journeys/review.html", context, status=status)


def _refused(request: HtmxHttpRequest, exc: ValidationError) -> HttpResponse:
    """The review page again, 422, with what was wrong and in which field; nothing was changed."""
    for field, errors in errors_by_field(exc, without_field="decision").items():
        messages.error(request, f"{field}: {' '.join(errors)}")
    return _review_page(request, status=422)


@require_GET
@leaders_only
def review_list(request: HtmxHttpRequest) -> HttpResponse:
    return _review_page(request)


@require_POST
@leaders_only
def review_resolve(request: HtmxHttpRequest, outbound_id: int) -> HttpResponse:
    row = get_object_or_404(OutboundEmail, pk=outbound_id)
    try:
        outbound_review_resolve(
            user=authorization.signed_in(request.user), outbound=row, action=request.POST.get("action", "")
        )
    except ValidationError as exc:
        return _refused(request, exc)
    messages.success(request, f"Email to {row.to_email} resolved.")
    return redirect("journeys:review")


@require_POST
@leaders_only
def review_resolve_batch(request: HtmxHttpRequest, claim_token: uuid.UUID) -> HttpResponse:
    """One decision for every email still stuck from one interrupted claim."""
    try:
        resolved = outbound_review_resolve_batch(
            user=authorization.signed_in(request.user),
            claim_token=claim_token,
            action=request.POST.get("action", ""),
        )
    except ValidationError as exc:
        return _refused(request, exc)
    messages.success(request, f"{resolved} interrupted email(s) resolved.")
    return redirect("journeys:review")


# --- The account side -------------------------------------------------------------------------


def _account_for(request: HtmxHttpRequest, account_id: int) -> Account:
    """The account to act on: one the person may not see is "not found", exactly like one that
    does not exist; one they see but may not work on (its AE) is refused."""
    visible = Account.objects.filter(authorization.account_scope(request.user)).select_related("csm")
    account = get_object_or_404(visible, pk=account_id)
    if not authorization.may_do_cs_work(request.user, account):
        raise PermissionDenied("Only the account's CSM or CS Leadership may see its journeys.")
    return account


@require_GET
def account_journeys(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    """The account's enrolments, recent journey emails and the next 7 days (page or HTMX section).

    Whoever may open the account sees it (its AE too); only its CSM and leadership act on it.
    """
    from accounts.selectors_web import visible_account_or_404

    account = visible_account_or_404(request.user, account_id, related=("csm",))
    context = {
        "account": account,
        "can_act": authorization.may_do_cs_work(request.user, account),
        "enrolments": account_enrolments(account_id=account.pk),
        "emails": outbound_for_account(account_id=account.pk, limit=20),
        "plan": journey_plan(account=account, days=7),
        "journeys": Journey.objects.order_by("name"),
        "contacts": account.contacts.order_by("name"),
    }
    template = "journeys/account.html#section" if request.htmx else "journeys/account.html"
    return render(request, template, context)


@require_POST
def account_enrol(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = _account_for(request, account_id)
    journey = Journey.objects.filter(pk=request.POST.get("journey") or 0).first()
    contact = account.contacts.filter(pk=request.POST.get("contact") or 0).select_related("account").first()
    if journey is None or contact is None:
        messages.error(request, "Choose a journey and a contact of this account.")
        return redirect("journeys:account-journeys", account_id=account.pk)
    try:
        enrolment_start(user=authorization.signed_in(request.user), journey=journey, contact=contact)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{contact} enrolled in {journey.name}.")
    return redirect("journeys:account-journeys", account_id=account.pk)


@require_POST
def enrolment_stop_view(request: HtmxHttpRequest, enrolment_id: int) -> HttpResponse:
    enrolments = JourneyEnrolment.objects.select_related("account", "contact", "journey").filter(
        authorization.account_scope(request.user, via="account__")
    )
    enrolment = get_object_or_404(enrolments, pk=enrolment_id)
    _account_for(request, enrolment.account_id)
    enrolment_stop(user=authorization.signed_in(request.user), enrolment=enrolment)
    messages.success(request, f"{enrolment.contact} will get no more emails from {enrolment.journey.name}.")
    return redirect("journeys:account-journeys", account_id=enrolment.account_id)


@require_POST
def account_stop_all(request: HtmxHttpRequest, account_id: int) -> HttpResponse:
    account = _account_for(request, account_id)
    stopped = enrolments_stop_for_account(user=authorization.signed_in(request.user), account=account)
    messages.success(request, f"Stopped {stopped} journey enrolment(s) of {account.name}.")
    return redirect("journeys:account-journeys", account_id=account.pk)


def register_pages() -> None:
    register_account_section("journeys", "Journeys", "journeys:account-journeys", order=60, wide=True)


# --- One-click unsubscribe (RFC 8058): POST unsubscribes, GET only asks -------------------------
# Mail providers POST ``List-Unsubscribe=One-Click`` to the link without cookies or a session, so
# this one view needs no login and no CSRF token; the signed token in the URL is the proof. A GET
# (a person clicking the link, or a link scanner) only shows a page with a button.


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


@login_not_required
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        contact_id = contact_id_from_token(token)
    except InvalidUnsubscribeToken:
        return render(request, "unsubscribe/invalid.html", status=400)
    contact = Contact.objects.filter(pk=contact_id).only("id", "email", "unsubscribed_at").first()
    if contact is None:
        return render(request, "unsubscribe/invalid.html", status=400)
    if request.method == "POST":
        contact_unsubscribe(contact_id=contact.pk)
        return render(request, "unsubscribe/done.html", {"email": _masked(contact.email)})
    return render(
        request,
        "unsubscribe/confirm.html",
        {"email": _masked(contact.email), "already": contact.unsubscribed_at is not None},
    )
