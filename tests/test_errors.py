"""``errors_by_field``: the one reading of a service's ValidationError that the API's error
answers and the pages' 422s share."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from csplatform.errors import errors_by_field


def test_errors_raised_by_field_keep_their_fields() -> None:
    error = ValidationError({"action": ["Choose one."], "claim_token": ["Unknown.", "Gone."]})
    assert errors_by_field(error, without_field="decision") == {
        "action": ["Choose one."],
        "claim_token": ["Unknown.", "Gone."],
    }


def test_errors_raised_without_a_field_go_under_the_name_given() -> None:
    plain = ValidationError("Not now.")
    assert errors_by_field(plain, without_field="decision") == {"decision": ["Not now."]}
    listed = ValidationError(["One.", "Two."])
    assert errors_by_field(listed, without_field="non_field_errors") == {"non_field_errors": ["One.", "Two."]}
