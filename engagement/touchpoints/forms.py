"""The touchpoint dialog's inputs."""

from __future__ import annotations

from typing import Any

from django import forms

from csplatform import bounds

from ..models import TouchpointKind


def module_choices() -> list[tuple[str, str]]:
    from playbooks.models import ServiceModule

    return [("", "— none —"), *ServiceModule.objects.filter(is_active=True).values_list("code", "name")]


class TouchpointForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=TouchpointKind.choices)
    occurred_at = bounds.BUSINESS_DATE.form_datetime_field(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    minutes = bounds.TOUCHPOINT_MINUTES.form_field(label="Minutes", initial=30)
    module = forms.ChoiceField(
        label="Delivers", required=False, help_text="The entitled service this touchpoint delivers, if any."
    )
    notes = forms.CharField(
        label="Notes", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["module"].choices = module_choices()  # type: ignore[attr-defined]
