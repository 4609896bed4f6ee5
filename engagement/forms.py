"""Forms of the engagement pages: worklist filters and the inline actions' inputs."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.forms import AccountFilterForm

from .models import FlagKind, TouchpointKind


class WorklistFilterForm(AccountFilterForm):
    flag = forms.ChoiceField(label="Flag", required=False, choices=[("", "Any flag"), *FlagKind.choices])


def module_choices() -> list[tuple[str, str]]:
    from playbooks.models import ServiceModule

    return [("", "— none —"), *ServiceModule.objects.filter(is_active=True).values_list("code", "name")]


class TouchpointForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=TouchpointKind.choices)
    occurred_at = forms.DateTimeField(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    minutes = forms.IntegerField(label="Minutes", min_value=0, max_value=24 * 60, initial=30)
    module = forms.ChoiceField(
        label="Delivers", required=False, help_text="The entitled service this touchpoint delivers, if any."
    )
    notes = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"].choices = module_choices()  # type: ignore[attr-defined]


class SnoozeForm(forms.Form):
    until = forms.DateField(label="Snooze until", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="Reason", max_length=255)


class CommitmentForm(forms.Form):
    module = forms.ChoiceField(label="Service promised", required=False)
    cadence_days = forms.IntegerField(
        label="Every (days)",
        required=False,
        min_value=1,
        max_value=3650,
        help_text="Leave empty for a one-off.",
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
