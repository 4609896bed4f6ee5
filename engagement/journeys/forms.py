"""The journey editor's forms; each reports the service's validation next to the field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from csplatform.htmx import add_service_errors
from playbooks.models import Journey, JourneyStep, JourneyStepKind
from playbooks.services.journeys import JOURNEY_FIELDS, STEP_FIELDS, journey_validate


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

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or JourneyStepKind.EMAIL


class SettingsForm(forms.Form):
    sending_paused = forms.BooleanField(required=False, label="Pause all journey email (global kill switch)")
    paused_reason = forms.CharField(required=False, max_length=255)
    weekly_cap = forms.IntegerField(min_value=1, max_value=14, label="Emails per contact per 7 days")
