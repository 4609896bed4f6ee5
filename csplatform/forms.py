"""Form pieces shared by several apps' pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

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


def _attrs_html(attrs: dict[str, Any]) -> str:
    """Django's ``django/forms/widgets/attrs.html``: `` name="value"`` in order, a true value as
    the bare name, a false one left out."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(format(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class FilterSelect(forms.Select):
    """``forms.Select`` with Django's own markup (``select.html``, ``select_option.html``), made
    in Python: the template renders an include per option and another for its attributes, and the
    selects of a list's filter bar cost more than a page of its rows."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>']
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            parts.extend(
                f'\n  <option value="{conditional_escape(format(option["value"]))}"'
                f"{_attrs_html(option['attrs'])}>{conditional_escape(option['label'])}</option>\n"
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
