from __future__ import annotations

from django import forms

from .models import WebhookEventType


class WebhookEndpointForm(forms.Form):
    """The fields of an endpoint; the rules (URL, events) are the service's."""

    url = forms.CharField(
        label="URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://crm.example.com/hooks/csplatform"}),
        help_text="http(s), no credentials in it; deliveries are signed instead.",
    )
    description = forms.CharField(max_length=500, required=False)
    events = forms.MultipleChoiceField(
        choices=[(value, f"{value} — {label}") for value, label in WebhookEventType.choices],
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(required=False, initial=True, label="Active (deliveries are sent)")
