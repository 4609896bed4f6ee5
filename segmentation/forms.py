"""Forms of the segmentation pages. Types are checked here; every rule is checked by the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from csplatform import bounds
from csplatform.forms import TickedIdsField

from .models import ApplyMode, OverrideReason, TouchModel


def _default_expiry() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=90)


class OverrideForm(forms.Form):
    tier = forms.ChoiceField(label="Tier")
    reason = forms.ChoiceField(label="Reason", choices=[("", "— choose —"), *OverrideReason.choices])
    note = forms.CharField(
        label="Why, in a few words",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the account and in the feedback loop.",
    )
    expires_on = forms.DateField(
        label="Expires on",
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=_default_expiry,
        help_text="Default 90 days; the policy's tier returns afterwards.",
    )

    def __init__(self, *args: Any, tiers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [("", "— choose —"), *tiers]  # type: ignore[attr-defined]


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=[("", "— choose —"), *OverrideReason.choices])
    note = forms.CharField(
        label="Why the account should keep its tier",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    expires_on = forms.DateField(
        label="Keep it until", widget=forms.DateInput(attrs={"type": "date"}), initial=_default_expiry
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    note = forms.CharField(label="Reason", required=False, max_length=2000)


class BulkOverrideDecisionForm(DecisionForm):
    """The same decision for the overrides ticked in the approvals inbox."""

    ids = TickedIdsField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "decline" and not (data.get("note") or "").strip():
            self.add_error("note", "Say why the overrides are declined; the requesters read it.")
        return data


class PolicySettingsForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    hysteresis_band = forms.DecimalField(
        label="Hysteresis band",
        min_value=0,
        max_value=0.999,
        decimal_places=3,
        help_text="No downgrade while ACV is within this share below the threshold (0.10 = 10%).",
    )
    downgrade_after_consecutive_reviews = forms.IntegerField(
        label="Downgrade after N consecutive reviews", min_value=1, max_value=12
    )
    apply_mode = forms.ChoiceField(label="Apply mode", choices=ApplyMode.choices)
    notes = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    rules = bounds.BoundedJSONField(
        label="Signal rules (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "code"}),
        help_text="A list of rules in the policy's rule vocabulary; validated when you save.",
    )


class TierRowForm(forms.Form):
    code = forms.CharField(label="Code", max_length=10)
    name = forms.CharField(label="Name", max_length=80)
    rank = forms.IntegerField(label="Rank", min_value=1, max_value=20)
    touch_model = forms.ChoiceField(label="Touch model", choices=TouchModel.choices)
    min_acv = bounds.MONEY.form_field(label="Minimum ACV")


TierFormSet = forms.formset_factory(
    TierRowForm, extra=0, can_delete=True, min_num=1, validate_min=True, max_num=12
)


class EntitlementForm(forms.Form):
    module = forms.ChoiceField(label="Service module")
    cadence_days = bounds.CADENCE_DAYS.form_field(label="Every (days)", required=False)

    def __init__(self, *args: Any, modules: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"].choices = modules  # type: ignore[attr-defined]
