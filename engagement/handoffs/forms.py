"""A commitment logged by the AE, and leadership's decision on one that exceeds the tier."""

from __future__ import annotations

from typing import Any

from django import forms

from csplatform import bounds
from csplatform.forms import TickedIdsField

from ..touchpoints.forms import module_choices


class CommitmentForm(forms.Form):
    module = forms.ChoiceField(label="Service promised", required=False)
    cadence_days = bounds.CADENCE_DAYS.form_field(
        label="Every (days)", required=False, help_text="Leave empty for a one-off."
    )
    description = forms.CharField(
        label="Or describe the promise",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    deal_reference = forms.CharField(label="Deal reference", required=False, max_length=120)
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"].choices = module_choices()  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    reason = forms.CharField(label="Reason", required=False, max_length=2000)
    until = forms.DateField(
        label="Exception until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "decline" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why; the requester sees it.")
        return data


class BulkDecisionForm(DecisionForm):
    """The same decision for the commitments ticked in the approvals inbox."""

    ids = TickedIdsField()


class HandoffSearchForm(forms.Form):
    """The AE's accounts on the handoffs page: a search and a page number."""

    q = forms.CharField(
        label="Search my accounts",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, domain or CRM id"}),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)
