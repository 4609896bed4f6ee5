"""Playbooks pages: the entitlements part of the policy editor and add-on decisions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from csplatform.authorization import signed_in
from csplatform.htmx import HtmxHttpRequest, conflict, leaders_only, trigger_notice
from segmentation.models import PolicyStatus, Tier, TierPolicy

from .forms import AddOnDecisionForm, EntitlementForm
from .models import AccountAddOn, TierEntitlement
from .services.catalogue import addon_decide, entitlement_remove, entitlement_set

TEMPLATE = "playbooks/policy_entitlements.html"


def _entitlements_context(policy: TierPolicy, form: EntitlementForm | None = None) -> dict[str, object]:
    tiers = list(Tier.objects.filter(policy=policy).order_by("rank"))
    rows = (
        TierEntitlement.objects.filter(tier__policy=policy).select_related("module").order_by("module__name")
    )
    by_tier: dict[int, list[TierEntitlement]] = {t.pk: [] for t in tiers}
    for row in rows:
        by_tier.setdefault(row.tier_id, []).append(row)
    return {
        "policy": policy,
        "tiers": [(t, by_tier.get(t.pk, [])) for t in tiers],
        "editable": policy.status == PolicyStatus.DRAFT,
        "form": form or EntitlementForm(),
    }


@leaders_only
@require_http_methods(["GET", "POST"])
def policy_entitlements(request: HtmxHttpRequest, policy_id: int) -> HttpResponse:
    """What each tier of the policy entitles accounts to; a draft's entitlements are edited here."""
    policy = get_object_or_404(TierPolicy, pk=policy_id)
    if request.method == "POST":
        if policy.status != PolicyStatus.DRAFT:
            return conflict(f"v{policy.version} is {policy.status}; only a draft's entitlements can change.")
        form = EntitlementForm(request.POST)
        if form.is_valid():
            tier = get_object_or_404(
                Tier.objects.select_related("policy"), pk=form.cleaned_data["tier"], policy=policy
            )
            try:
                if request.POST.get("action") == "remove":
                    entitlement_remove(
                        by=signed_in(request.user), tier=tier, module_code=form.cleaned_data["module"]
                    )
                else:
                    entitlement_set(
                        by=signed_in(request.user),
                        tier=tier,
                        module_code=form.cleaned_data["module"],
                        cadence_days=form.cleaned_data["cadence_days"],
                    )
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(name if name in form.fields else None, message)
            else:
                if not request.htmx:
                    return redirect("segmentation:policy-detail", policy_id=policy.pk)
                return render(request, TEMPLATE, _entitlements_context(policy))
        return render(request, TEMPLATE, _entitlements_context(policy, form), status=422)
    return render(request, TEMPLATE, _entitlements_context(policy))


@leaders_only
@require_POST
def addon_decide_view(request: HtmxHttpRequest, add_on_id: int) -> HttpResponse:
    """Approve or decline an add-on module from the approvals inbox (inline)."""
    add_on = get_object_or_404(AccountAddOn.objects.select_related("account", "module"), pk=add_on_id)
    form = AddOnDecisionForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose approve or decline.", status=400, content_type="text/plain")
    try:
        add_on = addon_decide(
            by=signed_in(request.user),
            add_on=add_on,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        if "status" in exc.message_dict:
            return conflict(" ".join(exc.message_dict["status"]))
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
    notice = f"Add-on {add_on.module.name} for {add_on.account.name} {add_on.get_status_display().lower()}."
    if request.htmx:
        response = render(request, "playbooks/addon_decided.html", {"add_on": add_on})
        return trigger_notice(response, notice)
    from django.contrib import messages

    messages.success(request, notice)
    return redirect("engagement:approvals")
