"""The journey editor's forms; each reports the service's validation next to the field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from csplatform.htmx import add_service_errors
from playbooks.models import Journey, JourneyStep, JourneyStepKind
from playbooks.services.journeys import JOURNEY_FIELDS, STEP_FIELDS, journey_validate

from ..touchpoints.forms import module_choices


class JourneyForm(forms.ModelForm):
    class Meta:
        model = Journey
        fields = list(JOURNEY_FIELDS)
        widgets = {
            "send_window_start": forms.TimeInput(attrs={"type": "time"}),
            "send_window_end": forms.TimeInput(attrs={"type": "time"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            journey_validate(data=cleaned)  # the service's rule, reported next to the field
        except ValidationError as exc:
            add_service_errors(self, exc)
        return cleaned


class StepForm(forms.ModelForm):
    class Meta:
        model = JourneyStep
        fields = list(STEP_FIELDS)
        widgets = {
            "body_text_template": forms.Textarea(attrs={"rows": 14, "class": "mono"}),
            "body_html_template": forms.Textarea(attrs={"rows": 6, "class": "mono"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A step is an email unless it says it is a survey.
        self.fields["kind"].required = False
        # Labels a person reads; the module is picked by its name, not typed as a code.
        labels = {
            "subject_template": "Subject",
            "body_text_template": "Email (plain text)",
            "body_html_template": "Email (HTML)",
            "delay_from": "Counted from",
            "skip_condition": "Skip the step when",
        }
        for name, label in labels.items():
            if name in self.fields:
                self.fields[name].label = label
        if "skip_condition" in self.fields:
            self.fields[
                "skip_condition"
            ].help_text = (
                "A signal, an operator and a value, e.g. “seat_utilisation >= 0.6”; blank: never skipped."
            )
        if "module_code" in self.fields:
            choices = module_choices()
            current = self.initial.get("module_code") or getattr(self.instance, "module_code", "")
            if current and current not in dict(choices):
                choices.append((current, f"{current.replace('_', ' ')} (no longer offered)"))
            # A list to pick from; the service still checks the code (an unknown one is named).
            field = self.fields["module_code"]
            field.widget = forms.Select(choices=choices)
            field.label = "Counts as a delivery of"
            field.help_text = "Sending the step counts as delivering this module (coverage)."

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or JourneyStepKind.EMAIL


class SettingsForm(forms.Form):
    sending_paused = forms.BooleanField(required=False, label="Pause all journey email (global kill switch)")
    paused_reason = forms.CharField(required=False, max_length=255)
    weekly_cap = forms.IntegerField(min_value=1, max_value=14, label="Emails per contact per 7 days")
