"""The preferences form: the choices offered depend on the person's roles."""

from __future__ import annotations

from typing import Any

from django import forms

from ..models import DigestFrequency, NotificationKind
from .digests import DIGEST_ITEMS


class PreferencesForm(forms.Form):
    digest_frequency = forms.ChoiceField(choices=DigestFrequency.choices, label="Email digest")
    digest_hour = forms.TypedChoiceField(
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        label="Sent at (your time zone)",
    )
    digest_items = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="The digest tells me about"
    )
    in_app = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=NotificationKind.choices,
        label="The bell shows",
    )

    def __init__(self, *args: Any, items: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["digest_items"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(key, DIGEST_ITEMS[key][0]) for key in items]
        # A preference that does not exist is refused with the ones that do.
        field.error_messages["invalid_choice"] = f"Unknown: %(value)s. Choose among: {', '.join(items)}."
        kinds = self.fields["in_app"]
        kinds.error_messages["invalid_choice"] = (
            f"Unknown: %(value)s. Choose among: {', '.join(NotificationKind.values)}."
        )
