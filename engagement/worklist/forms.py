"""The worklist's filters."""

from __future__ import annotations

from django import forms

from accounts.forms import AccountFilterForm
from segmentation.models import HealthBand

from ..models import FlagKind


class WorklistFilterForm(AccountFilterForm):
    flag = forms.ChoiceField(label="Flag", required=False, choices=[("", "Any flag"), *FlagKind.choices])
    health = forms.ChoiceField(
        label="Health", required=False, choices=[("", "Any health"), *HealthBand.choices]
    )
