"""Form pieces shared by several apps' pages."""

from __future__ import annotations

from typing import Any

from django import forms

from .bulk import MAX_BULK_ROWS


class TickedIdsField(forms.Field):
    """The ids of the rows ticked for a bulk action (``ids=1&ids=2``). Any id is accepted here:
    one decided or deleted meanwhile gets its own result next to its row, not a refusal of all."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Tick at least one.",
        "invalid": "The ticked rows must be given by their ids.",
        "too_many": f"Tick at most {MAX_BULK_ROWS} at once.",
    }

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(pk <= 0 or pk > 2**63 - 1 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(set(ids)) > MAX_BULK_ROWS:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        return sorted(set(ids))

    def validate(self, value: list[int]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
