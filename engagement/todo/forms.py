"""Snoozing a task."""

from __future__ import annotations

from django import forms

from csplatform import bounds


class SnoozeForm(forms.Form):
    until = bounds.BUSINESS_DATE.form_field(
        label="Snooze until", widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label="Reason", max_length=255)
