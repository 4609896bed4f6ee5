"""The worklist's filters and orders."""

from __future__ import annotations

from django import forms

from accounts.forms import AccountFilterForm
from accounts.sorting import ACCOUNT_SORT_LABELS
from csplatform.forms import Select
from segmentation.models import HealthBand

from ..models import FlagKind
from .services import PRIORITY

# The worklist's own order first (the default), then every order of the accounts list.
WORKLIST_ORDER_CHOICES = [
    (PRIORITY, "Priority, most urgent first"),
    (f"-{PRIORITY}", "Priority, least urgent first"),
    *ACCOUNT_SORT_LABELS.items(),
]
# The columns whose header sorts the worklist ("Why it is here" sorts by priority).
WORKLIST_SORTABLE_COLUMNS = (PRIORITY, "name", "tier", "acv")


class WorklistFilterForm(AccountFilterForm):
    flag = forms.ChoiceField(
        label="Flag", required=False, choices=[("", "Any flag"), *FlagKind.choices], widget=Select
    )
    health = forms.ChoiceField(
        label="Health", required=False, choices=[("", "Any health"), *HealthBand.choices], widget=Select
    )
    order = forms.ChoiceField(label="Order by", required=False, choices=WORKLIST_ORDER_CHOICES, widget=Select)
