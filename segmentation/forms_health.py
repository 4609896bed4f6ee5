"""Forms of the health scorecard editor: the bands and settings, and one row per component whose
points steps are written as ``value:points`` lines."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from .health_signals import health_signal_labels
from .models import PointsDirection


class ScorecardSettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    watch_from = forms.IntegerField(label="Watch from (score)", min_value=0, max_value=100)
    healthy_from = forms.IntegerField(label="Healthy from (score)", min_value=0, max_value=100)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


def steps_text(points: list[dict[str, Any]]) -> str:
    """Stored steps as the editor shows them: one ``value:points`` a line."""
    return "\n".join(f"{step['from']}:{step['points']}" for step in points)


def _number(text: str) -> int | float:
    number = Decimal(text)
    if not number.is_finite():
        raise InvalidOperation
    return int(number) if number == number.to_integral_value() else float(number)


class ComponentForm(forms.Form):
    signal = forms.ChoiceField(choices=())
    weight = forms.DecimalField(min_value=0, max_digits=6, decimal_places=3)
    steps = forms.CharField(
        label="Points steps",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One value:points a line, ascending values, e.g. 0.5:50.",
    )
    direction = forms.ChoiceField(choices=PointsDirection.choices, initial=PointsDirection.ANY)
    missing_points = forms.IntegerField(label="Points when missing", min_value=0, max_value=100, initial=50)
    DELETE = forms.BooleanField(label="Remove", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = health_signal_labels()
        signals = sorted(labels.items(), key=lambda item: item[1])
        self.fields["signal"].choices = [("", "—"), *signals]  # type: ignore[attr-defined]

    def clean_steps(self) -> list[dict[str, Any]]:
        steps = []
        for number, line in enumerate(self.cleaned_data["steps"].splitlines(), start=1):
            if not line.strip():
                continue
            value, sep, points = line.partition(":")
            try:
                if not sep:
                    raise ValueError
                steps.append({"from": _number(value.strip()), "points": int(points.strip())})
            except (ValueError, InvalidOperation):
                raise forms.ValidationError(
                    f"Line {number} ({line.strip()}): write value:points, e.g. 0.5:50."
                ) from None
        if not steps:
            raise forms.ValidationError("Give at least one value:points step.")
        return steps


class BaseComponentFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def components(self) -> list[dict[str, Any]]:
        """The rows kept (not removed, with a signal) as the services take components."""
        kept = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("signal"):
                continue
            kept.append(
                {
                    "signal": data["signal"],
                    "weight": Decimal(data["weight"]),
                    "points": data["steps"],
                    "direction": data["direction"],
                    "missing_points": data["missing_points"],
                }
            )
        return kept


ComponentFormSet = forms.formset_factory(ComponentForm, formset=BaseComponentFormSet, extra=1)
