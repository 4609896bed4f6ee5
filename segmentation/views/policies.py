"""Policy editor and what-if simulation (CS Leadership only)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from csplatform.authorization import signed_in
from csplatform.htmx import HtmxHttpRequest, add_service_errors, conflict, leaders_only, render_fragment

from ..forms import PolicySettingsForm, TierFormSet
from ..forms_rules import RuleFormSet, rows_from_rules, rules_from_rows
from ..models import PolicyStatus, TierPolicy
from ..selectors import active_policy, policies_list, policy_with_tiers
from ..services.policies import policy_errors, tier_policy_activate, tier_policy_clone, tier_policy_update
from ..services.simulation import tier_policy_simulate

EDITOR = "segmentation/policy_detail.html"


def _policy_or_404(policy_id: int) -> TierPolicy:
    try:
        return policy_with_tiers(policy_id)
    except TierPolicy.DoesNotExist:
        raise Http404("No such policy.") from None


@require_GET
@leaders_only
def policy_list(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "segmentation/policy_list.html", {"policies": list(policies_list())})


@leaders_only
@require_POST
def policy_new_draft(request: HtmxHttpRequest) -> HttpResponse:
    """Start a draft from the active policy (or from the policy named in the form)."""
    source_id = request.POST.get("from")
    source = _policy_or_404(int(source_id)) if source_id and source_id.isdigit() else active_policy()
    draft = tier_policy_clone(policy=source, by=signed_in(request.user))
    messages.success(request, f"Draft v{draft.version} created from v{source.version}.")
    return redirect("segmentation:policy-detail", policy_id=draft.pk)


def _forms_for(policy: TierPolicy, data: Any = None) -> tuple[PolicySettingsForm, Any]:
    initial = {
        "name": policy.name,
        "hysteresis_band": policy.hysteresis_band,
        "downgrade_after_consecutive_reviews": policy.downgrade_after_consecutive_reviews,
        "apply_mode": policy.apply_mode,
        "notes": policy.notes,
        "rules": policy.rules,
    }
    tiers = [
        {"code": t.code, "name": t.name, "rank": t.rank, "touch_model": t.touch_model, "min_acv": t.min_acv}
        for t in policy.tiers.all()
    ]
    codes = [str(t["code"]) for t in tiers]
    if data is None:
        rule_forms = RuleFormSet(
            initial=rows_from_rules(policy.rules) or [], prefix="rules", tier_codes=codes
        )
    else:
        rule_forms = RuleFormSet(data, prefix="rules", tier_codes=codes)
        # The builder's rows are the rules unless the person edited the JSON (app.js marks it).
        if data.get("rules_source", "builder") == "builder" and "rules-TOTAL_FORMS" in data:
            data = data.copy()
            data["rules"] = json.dumps(rules_from_rows(rule_forms))
    settings_form = PolicySettingsForm(data, initial=initial)
    tier_forms = TierFormSet(data, initial=tiers, prefix="tiers")
    settings_form.rule_forms = rule_forms  # type: ignore[attr-defined]
    return settings_form, tier_forms


def _editor_context(policy: TierPolicy, settings_form: PolicySettingsForm, tier_forms: Any) -> dict[str, Any]:
    return {
        "policy": policy,
        "settings_form": settings_form,
        "tier_forms": tier_forms,
        "rule_forms": settings_form.rule_forms,  # type: ignore[attr-defined]
        "builder_fits": rows_from_rules(policy.rules) is not None,
        "editable": policy.status == PolicyStatus.DRAFT,
        "rules_json": json.dumps(policy.rules, indent=2),
    }


@leaders_only
@require_http_methods(["GET", "POST"])
def policy_detail(request: HtmxHttpRequest, policy_id: int) -> HttpResponse:
    """A policy; a draft is edited here (tiers, thresholds, rules, hysteresis) with errors inline."""
    policy = _policy_or_404(policy_id)
    if request.method == "POST":
        if policy.status != PolicyStatus.DRAFT:
            return conflict(
                f"v{policy.version} is {policy.status} now and can no longer be edited; reload the page."
            )
        settings_form, tier_forms = _forms_for(policy, request.POST)
        if settings_form.is_valid() and tier_forms.is_valid():
            data = settings_form.cleaned_data
            tiers = [
                {**f.cleaned_data, "min_acv": Decimal(f.cleaned_data["min_acv"])}
                for f in tier_forms.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            for tier in tiers:
                tier.pop("DELETE", None)
            try:
                policy = tier_policy_update(
                    policy=policy,
                    by=signed_in(request.user),
                    tiers=tiers,
                    name=data["name"],
                    hysteresis_band=data["hysteresis_band"],
                    downgrade_after_consecutive_reviews=data["downgrade_after_consecutive_reviews"],
                    apply_mode=data["apply_mode"],
                    notes=data["notes"],
                    rules=data["rules"] if data["rules"] is not None else [],
                )
            except ValidationError as exc:
                if "status" in getattr(exc, "message_dict", {}):
                    return conflict(" ".join(exc.message_dict["status"]))
                add_service_errors(settings_form, exc)
            else:
                policy = _policy_or_404(policy.pk)
                settings_form, tier_forms = _forms_for(policy)
                context = _editor_context(policy, settings_form, tier_forms)
                context["saved"] = True
                if request.htmx:
                    return render_fragment(request, EDITOR, "editor", context)
                messages.success(request, "Draft saved.")
                return redirect("segmentation:policy-detail", policy_id=policy.pk)
        context = _editor_context(policy, settings_form, tier_forms)
        if request.htmx:
            return render_fragment(request, EDITOR, "editor", context, status=422)
        return render(request, EDITOR, context, status=422)
    settings_form, tier_forms = _forms_for(policy)
    return render(request, EDITOR, _editor_context(policy, settings_form, tier_forms))


@leaders_only
@require_POST
def policy_validate(request: HtmxHttpRequest, policy_id: int) -> HttpResponse:
    """Inline validation while editing: the same checks as saving, on the values in the form,
    without saving anything."""
    policy = _policy_or_404(policy_id)
    settings_form, tier_forms = _forms_for(policy, request.POST)
    problems: list[str] = []
    if not settings_form.is_valid():
        problems += [
            f"{name}: {' '.join(str(e) for e in errors)}" for name, errors in settings_form.errors.items()
        ]
    if not tier_forms.is_valid():
        problems += [str(e) for e in tier_forms.non_form_errors()]
        for index, errors in enumerate(tier_forms.errors, start=1):
            problems += [f"tier {index}.{name}: {' '.join(messages)}" for name, messages in errors.items()]
    if not problems:
        data = settings_form.cleaned_data
        candidate = TierPolicy(
            version=policy.version,
            name=data["name"],
            rules=data["rules"] if data["rules"] is not None else [],
            hysteresis_band=data["hysteresis_band"],
            downgrade_after_consecutive_reviews=data["downgrade_after_consecutive_reviews"],
            apply_mode=data["apply_mode"],
        )
        tiers = [
            {k: v for k, v in f.cleaned_data.items() if k != "DELETE"}
            for f in tier_forms.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        for name, messages in policy_errors(candidate, tiers).items():
            problems += [m if m.startswith(name) else f"{name}: {m}" for m in messages]
    return render_fragment(request, EDITOR, "validation", {"problems": problems, "checked": True})


@leaders_only
@require_POST
def policy_simulate(request: HtmxHttpRequest, policy_id: int) -> HttpResponse:
    """What-if: the policy on today's accounts — before/after per tier, transitions, CSM hours."""
    policy = _policy_or_404(policy_id)
    result = tier_policy_simulate(policy=policy)
    codes = sorted(
        {code for pair in result.matrix for code in pair},
        key=lambda c: next((t.rank or 99 for t in result.tiers if t.code == c), 99),
    )
    matrix = [[result.matrix.get((f, t), 0) for t in codes] for f in codes]
    chart = {
        "type": "bar",
        "labels": [t.code for t in result.tiers],
        "yLabel": "accounts",
        "datasets": [
            {"label": "Today", "data": [t.accounts_before for t in result.tiers], "color": "#8fb0ef"},
            {"label": f"Under v{policy.version}", "data": [t.accounts_after for t in result.tiers]},
        ],
    }
    context = {
        "policy": policy,
        "result": result,
        "codes": codes,
        "matrix_rows": zip(codes, matrix, strict=True),
        "chart": chart,
    }
    if request.htmx:
        return render_fragment(request, "segmentation/simulation.html", "result", context)
    return render(request, "segmentation/simulation.html", context)


@leaders_only
@require_POST
def policy_activate(request: HtmxHttpRequest, policy_id: int) -> HttpResponse:
    """Activate a draft (after a confirmation on the page); the next review applies it."""
    policy = _policy_or_404(policy_id)
    try:
        tier_policy_activate(policy=policy, by=signed_in(request.user))
    except ValidationError as exc:
        if "status" in getattr(exc, "message_dict", {}):
            return conflict(" ".join(exc.message_dict["status"]))
        messages.error(request, "The draft cannot be activated: " + "; ".join(exc.messages))
        return redirect("segmentation:policy-detail", policy_id=policy.pk)
    messages.success(request, f"v{policy.version} is now the active policy. Start a review to apply it.")
    return redirect("segmentation:policy-detail", policy_id=policy.pk)
