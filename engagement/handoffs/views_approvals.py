"""Leadership's approvals inbox: overrides, changes to tier inputs, AE commitments exceeding the
tier and add-on modules, each decided inline, or several at once with one bulk decision.

A bulk decision runs the single decision's service function on each ticked row (``decide_each``),
so the rules are the same; the section answers with every waiting row plus the ticked ones, each
showing what the batch did to it next to it (decided, or why not), and a summary above."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from csplatform import authorization
from csplatform.bulk import MAX_BULK_ROWS, RowResult
from csplatform.htmx import HtmxHttpRequest, leaders_only, render_fragment, trigger_notice
from playbooks.forms import BulkAddOnDecisionForm
from playbooks.models import AccountAddOn
from playbooks.services.catalogue import addons_decide_many
from segmentation.forms import BulkOverrideDecisionForm
from segmentation.selectors import overrides_awaiting_approval
from segmentation.services.overrides import tier_overrides_decide_many

from .forms import BulkDecisionForm
from .selectors import commitments_awaiting_decision, pending_add_ons
from .services import commitments_decide_many

if TYPE_CHECKING:
    from django import forms

TEMPLATE = "engagement/approvals.html"


def _waiting_add_ons() -> QuerySet[AccountAddOn]:
    return pending_add_ons().order_by("created_at", "pk")


@require_GET
@leaders_only
def approvals(request: HtmxHttpRequest) -> HttpResponse:
    """Overrides needing approval, changes to tier inputs, commitments exceeding the tier, add-on
    modules: decide inline, one by one or the ticked ones at once."""
    return render(request, TEMPLATE, _page_context(request))


def _page_context(request: HtmxHttpRequest) -> dict[str, Any]:
    from accounts.selectors import input_proposals_pending

    overrides = list(overrides_awaiting_approval()[:MAX_BULK_ROWS])
    commitments = list(commitments_awaiting_decision()[:MAX_BULK_ROWS])
    add_ons = list(_waiting_add_ons()[:MAX_BULK_ROWS])
    return {
        "overrides": overrides,
        "overrides_waiting": len(overrides),
        "input_proposals": list(input_proposals_pending(user=request.user)[:MAX_BULK_ROWS]),
        "commitments": commitments,
        "commitments_waiting": len(commitments),
        "add_ons": add_ons,
        "add_ons_waiting": len(add_ons),
    }


def _form_error(form: forms.Form) -> str:
    """The refused batch's reason, naming the field (``Reason: say why...``)."""
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        label = label or {"ids": "Ticked rows", "__all__": ""}.get(name, name)
        message = " ".join(str(error) for error in errors)
        parts.append(f"{label}: {message}" if label else message)
    return " ".join(parts)


def _bulk_answer(
    request: HtmxHttpRequest,
    *,
    key: str,
    waiting: QuerySet[Any],
    results: Sequence[RowResult[Any]],
    verb: str,
    noun: str,
    form_error: str = "",
    ticked: frozenset[int] = frozenset(),
) -> HttpResponse:
    """The section of ``key`` after a bulk decision: the waiting rows and the ticked ones (fresh
    from the database), each ticked row carrying its result; a summary that counts both."""
    batch = [r.pk for r in results]
    model: type[Model] = waiting.model
    rows = list(
        (waiting | model._default_manager.filter(pk__in=batch)).order_by("created_at", "pk")[:MAX_BULK_ROWS]
    )
    by_pk = {r.pk: r for r in results}
    for row in rows:
        row.bulk_result = by_pk.get(row.pk)
        # A refused batch keeps its ticks, to fix the reason and decide again.
        row.bulk_ticked = row.pk in ticked
    done = sum(1 for r in results if r.ok)
    failed = [r for r in results if not r.ok]
    summary = f"{done} {noun if done != 1 else noun.rstrip('s')} {verb}." if results else ""
    if failed:
        summary += (
            f" {len(failed)} not decided: the reason is next to {'each' if len(failed) > 1 else 'its'} row."
        )
    if results and not request.htmx:
        (messages.error if failed else messages.success)(request, summary)
        return redirect("engagement:approvals")
    context = {
        key: rows,
        f"{key}_waiting": waiting.count(),
        f"{key}_summary": summary,
        f"{key}_failed": bool(failed),
        f"{key}_error": form_error,
    }
    response = render_fragment(
        request, TEMPLATE, f"{key}_section", context, status=422 if form_error else 200
    )
    return trigger_notice(response, summary) if summary and not failed else response


def _bulk_decide(
    request: HtmxHttpRequest,
    *,
    key: str,
    form_class: type[forms.Form],
    waiting: Callable[[], QuerySet[Any]],
    decide_many: Callable[[forms.Form], list[RowResult[Any]]],
    verbs: tuple[str, str],
    noun: str,
) -> HttpResponse:
    form = form_class(request.POST)
    if not form.is_valid():
        ticked = frozenset(int(v) for v in request.POST.getlist("ids") if v.isdigit() and len(v) < 19)
        if not request.htmx:  # the whole page, the refusal in its section, nothing decided
            context = _page_context(request)
            for row in context[key]:
                row.bulk_ticked = row.pk in ticked
            context[f"{key}_error"] = _form_error(form)
            return render(request, TEMPLATE, context, status=422)
        return _bulk_answer(
            request,
            key=key,
            waiting=waiting(),
            results=[],
            verb="",
            noun=noun,
            form_error=_form_error(form),
            ticked=ticked,
        )
    results = decide_many(form)
    verb = verbs[0] if form.cleaned_data["decision"] == "approve" else verbs[1]
    return _bulk_answer(request, key=key, waiting=waiting(), results=results, verb=verb, noun=noun)


@leaders_only
@require_POST
def overrides_bulk_decide(request: HtmxHttpRequest) -> HttpResponse:
    """One decision (approve, or decline with a reason) for every override ticked in the inbox."""
    return _bulk_decide(
        request,
        key="overrides",
        form_class=BulkOverrideDecisionForm,
        waiting=overrides_awaiting_approval,
        decide_many=lambda form: tier_overrides_decide_many(
            by=authorization.signed_in(request.user),
            override_ids=form.cleaned_data["ids"],
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
        ),
        verbs=("approved", "declined"),
        noun="overrides",
    )


@leaders_only
@require_POST
def commitments_bulk_decide(request: HtmxHttpRequest) -> HttpResponse:
    """One decision for every commitment ticked in the inbox (accepted as exceptions until a
    date, or declined with a reason)."""
    return _bulk_decide(
        request,
        key="commitments",
        form_class=BulkDecisionForm,
        waiting=commitments_awaiting_decision,
        decide_many=lambda form: commitments_decide_many(
            by=authorization.signed_in(request.user),
            commitment_ids=form.cleaned_data["ids"],
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
            until=form.cleaned_data["until"],
        ),
        verbs=("accepted as exceptions", "declined"),
        noun="commitments",
    )


@leaders_only
@require_POST
def addons_bulk_decide(request: HtmxHttpRequest) -> HttpResponse:
    """One decision (approve, or decline with a reason) for every add-on ticked in the inbox."""
    return _bulk_decide(
        request,
        key="add_ons",
        form_class=BulkAddOnDecisionForm,
        waiting=_waiting_add_ons,
        decide_many=lambda form: addons_decide_many(
            by=authorization.signed_in(request.user),
            add_on_ids=form.cleaned_data["ids"],
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        ),
        verbs=("approved", "declined"),
        noun="add-ons",
    )
