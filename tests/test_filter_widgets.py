"""The filter bar's widgets drawn in Python give the markup of Django's own widget templates."""

from __future__ import annotations

import pytest
from django import forms

from csplatform.forms import HiddenInput, Select, TextInput
from engagement.worklist.forms import WorklistFilterForm

CHOICES = [
    [("", "Any"), ("a<b", 'A & "B"'), ("x", "X")],
    [("Group <1>", [("1", "one"), ("2", "two")]), ("3", "three")],
    [(1, "int"), (2, "two")],
]


@pytest.mark.parametrize("choices", CHOICES)
@pytest.mark.parametrize("value", [None, "", "a<b", "1", 1, "missing"])
@pytest.mark.parametrize("attrs", [None, {"id": "id_f", "required": True, "disabled": False, "data-x": 'q"'}])
def test_select_markup_is_djangos(choices, value, attrs):
    ours = Select(choices=choices).render("f<", value, attrs)
    assert ours == forms.Select(choices=choices).render("f<", value, attrs)


@pytest.mark.parametrize("value", [None, "", "<script>'&\"", 0, 12])
@pytest.mark.parametrize("attrs", [None, {"id": "id_q", "placeholder": "Name <x>", "maxlength": 100}])
def test_input_markup_is_djangos(value, attrs):
    ours, djangos = TextInput(attrs={"type": "search"}), forms.TextInput(attrs={"type": "search"})
    assert ours.render("q", value, attrs) == djangos.render("q", value, attrs)
    assert HiddenInput().render("csm", value, attrs) == forms.HiddenInput().render("csm", value, attrs)


def test_the_worklist_filter_bar_shows_the_choice_made_and_marks_a_bad_one():
    form = WorklistFilterForm({"flag": "usage_drop", "tier": "bad tier!", "q": "<b>", "csm": "7"})
    form.set_tier_choices([("ENT", "Enterprise")])
    form.is_valid()

    assert '<option value="usage_drop" selected>Usage drop</option>' in str(form["flag"])
    assert 'aria-invalid="true"' in str(form["tier"])
    assert 'value="&lt;b&gt;"' in str(form["q"])
    assert str(form["csm"]) == '<input type="hidden" name="csm" value="7" id="id_csm">'
