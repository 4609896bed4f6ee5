"""Form pieces shared by several apps' pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.safestring import SafeString, mark_safe

from .bulk import MAX_BULK_ROWS
from .markup import escape_html as _escape


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


# --- Filter widgets rendered in Python --------------------------------------------------------
# A list page's filter bar holds half a dozen selects; the form renderer draws each option through
# two template includes, which cost the page more than its query. These widgets give the markup
# of Django's own templates (``django/forms/widgets/select.html``, ``input.html``), escaped as
# those templates escape it.


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: ``True`` is a bare attribute, ``False`` none."""
    return "".join(
        f" {_escape(name)}" if value is True else f' {_escape(name)}="{_escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class Select(forms.Select):
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, group_choices, _ in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_escape(group_name)}">')
            parts.extend(
                f'\n  <option value="{_escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f"{_escape(option['label'])}</option>\n"
                for option in group_choices
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


class _InputMarkup:
    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        shown = "" if widget["value"] is None else f' value="{_escape(str(widget["value"]))}"'
        return mark_safe(  # noqa: S308 - every value is escaped
            f'<input type="{_escape(widget["type"])}" name="{_escape(widget["name"])}"{shown}'
            f"{_attrs(widget['attrs'])}>"
        )


class TextInput(_InputMarkup, forms.TextInput):
    pass


class HiddenInput(_InputMarkup, forms.HiddenInput):
    pass
