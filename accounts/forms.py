"""Forms of the account pages. Filters are validated like any input: a bad value is an error."""

from __future__ import annotations

from typing import Any

from django import forms

from csplatform import bounds
from csplatform.forms import HiddenInput, Select, TextInput

from .models import ChurnReason, LifecycleStage, RenewalOutcomeKind
from .sorting import ACCOUNT_SORT_LABELS

RENEWAL_WINDOWS = [
    ("", "Any time"),
    ("30", "Next 30 days"),
    ("60", "Next 60 days"),
    ("90", "Next 90 days"),
    ("180", "Next 180 days"),
]
ORDER_CHOICES = list(ACCOUNT_SORT_LABELS.items())
# "Active" is every stage but churned: the book the leadership panels count.
ACTIVE_BOOK = "active"


class AccountFilterForm(forms.Form):
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=TextInput(attrs={"type": "search", "placeholder": "Name, domain or CRM id"}),
    )
    # Drill-down links may name any tier code (one not in the list any more still filters).
    tier = forms.RegexField(label="Tier", required=False, regex=r"^[A-Za-z0-9_-]{1,10}$", widget=Select)
    lifecycle = forms.ChoiceField(
        label="Lifecycle",
        required=False,
        choices=[("", "Any stage"), (ACTIVE_BOOK, "Active (not churned)"), *LifecycleStage.choices],
        widget=Select,
    )
    renewal_within = forms.TypedChoiceField(
        label="Renewal",
        required=False,
        choices=RENEWAL_WINDOWS,
        coerce=int,
        empty_value=None,
        widget=Select,
    )
    order = forms.ChoiceField(label="Order by", required=False, choices=ORDER_CHOICES, widget=Select)
    csm = bounds.DATABASE_ID.form_field(required=False, widget=HiddenInput)
    ae = bounds.DATABASE_ID.form_field(required=False, widget=HiddenInput)
    page = forms.IntegerField(required=False, widget=HiddenInput, min_value=1, max_value=100_000)

    def __init__(self, *args: Any, tier_choices: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_tier_choices(tier_choices or [])

    def set_tier_choices(self, tier_choices: list[tuple[str, str]]) -> None:
        choices = [
            ("", "Any tier"),
            *((code, f"{code} · {name}") for code, name in (tier_choices or [])),
            ("none", "No tier yet"),
        ]
        wanted = self.data.get("tier") if self.is_bound else None
        if wanted and wanted not in {code for code, _ in choices}:
            choices.append((wanted, wanted))
        self.fields["tier"].widget.choices = choices

    def filters(self) -> dict[str, Any]:
        """The valid filters. A value that is not understood is left out (the list shows without
        it and the field is marked invalid), never a 500 and never an empty list by mistake."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            k: v for k, v in cleaned.items() if k != "page" and k not in self.errors and v not in (None, "")
        }

    def page_number(self) -> int:
        self.is_valid()
        return (getattr(self, "cleaned_data", {}).get("page") if "page" not in self.errors else None) or 1


class RenewalOutcomeForm(forms.Form):
    """Record a renewal outcome; the outcome rules are the service's and come back next to the field."""

    renewal_date = forms.DateField(label="Renewal date", widget=forms.DateInput(attrs={"type": "date"}))
    outcome = forms.ChoiceField(choices=RenewalOutcomeKind.choices)
    arr_before = bounds.MONEY.form_field(label="ARR before")
    arr_after = bounds.MONEY.form_field(label="ARR after", help_text="0 when the account churned.")
    churn_reason = forms.ChoiceField(
        label="Churn reason",
        choices=[("", "—"), *ChurnReason.choices],
        required=False,
        help_text="Only for a churned renewal.",
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)


class InputProposalDecisionForm(forms.Form):
    """Approve or decline a change to an account's tier inputs, with an optional note."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("decline", "Decline")])
    note = forms.CharField(required=False, max_length=2000)
