"""Forms of the playbooks pages: tier entitlements in the policy editor, add-on decisions."""

from __future__ import annotations

from typing import Any

from django import forms

from csplatform import bounds
from csplatform.forms import TickedIdsField

from .models import ServiceModule


class EntitlementForm(forms.Form):
    tier = forms.IntegerField(widget=forms.HiddenInput)
    module = forms.ChoiceField(label="Service module")
    cadence_days = bounds.CADENCE_DAYS.form_field(
        label="Every (days)", required=False, help_text="Empty: not recurring."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"].choices = list(  # type: ignore[attr-defined]
            ServiceModule.objects.filter(is_active=True).values_list("code", "name")
        )


class AddOnDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    reason = forms.CharField(label="Reason", required=False, max_length=2000)


class BulkAddOnDecisionForm(AddOnDecisionForm):
    """The same decision for the add-ons ticked in the approvals inbox."""

    ids = TickedIdsField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "decline" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the add-ons are declined.")
        return data
