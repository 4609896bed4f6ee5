"""Validate many flat records with one DRF serializer, fast for the plain case, exact for the rest.

A sync request holds up to a thousand records. DRF's generic path (``run_validation`` per field,
``run_validators`` per validator, error collection) costs a few hundred microseconds a record,
more than writing it. ``RecordValidator`` takes the serializer's own fields and, for a record
whose values are plainly valid (strings within length with no stray whitespace, a listed choice,
a decimal with exactly the field's places, an ISO date), builds the same validated data directly
and runs the same limits. Anything else, every error included, goes through the serializer
itself: a bad record gets DRF's answer word for word, and nothing passes that DRF would refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.core import validators as django_validators
from rest_framework import ISO_8601, fields, serializers
from rest_framework.settings import api_settings
from rest_framework.validators import ProhibitSurrogateCharactersValidator

# A parser returns the validated value, or SLOW when the value needs DRF's own path.
SLOW = object()
Parser = Callable[[Any], Any]

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NULL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")


def _limits(field: fields.Field, inlined: tuple[type, ...]) -> tuple[dict[type, Any], bool]:
    """The limits of the field's validators of the ``inlined`` kinds (the parsers check them
    themselves), and whether it has any other validator (then it is left to DRF)."""
    limits: dict[type, Any] = {}
    others = False
    for validator in field.validators:
        kind = type(validator)
        limit = getattr(validator, "limit_value", None)
        if kind in inlined and not callable(limit) and kind not in limits:
            limits[kind] = limit
        else:
            others = True
    return limits, others


def _char_parser(field: fields.CharField) -> Parser | None:
    if field.min_length is not None:
        return None
    limits, others = _limits(
        field,
        (
            django_validators.MaxLengthValidator,
            django_validators.ProhibitNullCharactersValidator,
            ProhibitSurrogateCharactersValidator,
        ),
    )
    if others:
        return None
    max_length = limits.get(django_validators.MaxLengthValidator)
    allow_blank = field.allow_blank
    trim = field.trim_whitespace

    def parse(value: Any) -> Any:
        if type(value) is not str:
            return SLOW
        if value == "":
            return "" if allow_blank else SLOW
        if trim and value.strip() != value:
            return SLOW
        if max_length is not None and len(value) > max_length:
            return SLOW
        if _NULL_OR_SURROGATE.search(value):
            return SLOW
        return value

    return parse


def _choice_parser(field: fields.ChoiceField) -> Parser | None:
    if field.validators:
        return None
    choices = field.choice_strings_to_values
    allow_blank = field.allow_blank

    def parse(value: Any) -> Any:
        if type(value) is not str:
            return SLOW
        if value == "" and allow_blank:
            return ""
        return choices.get(value, SLOW)

    return parse


def _decimal_parser(field: fields.DecimalField) -> Parser | None:
    places = field.decimal_places
    if places is None or field.max_digits is None or field.localize:
        return None
    limits, others = _limits(
        field, (django_validators.MinValueValidator, django_validators.MaxValueValidator)
    )
    if others:
        return None
    low = limits.get(django_validators.MinValueValidator)
    high = limits.get(django_validators.MaxValueValidator)
    # Exactly the field's places, which DRF's quantize leaves as they are, or none (a whole
    # number, as CRMs send amounts): quantized here by appending the zeros, as DRF would.
    pattern = re.compile(
        rf"[0-9]{{1,{field.max_digits}}}(\.[0-9]{{{places}}})?" if places else r"[0-9]{1,30}"
    )
    whole_digits = field.max_digits - places
    zeros = "." + "0" * places

    def parse(value: Any) -> Any:
        if type(value) is not str:
            return SLOW
        match = pattern.fullmatch(value)
        if match is None:
            return SLOW
        number = Decimal(value if not places or match.group(1) else value + zeros)
        if len(number.as_tuple().digits) - places > whole_digits:
            return SLOW
        if (low is not None and number < low) or (high is not None and number > high):
            return SLOW
        return number

    return parse


def _date_parser(field: fields.DateField) -> Parser | None:
    formats = getattr(field, "input_formats", None) or api_settings.DATE_INPUT_FORMATS
    if list(formats) != [ISO_8601]:
        return None
    checks: list[Any] = list(field.validators)
    if any(getattr(check, "requires_context", False) for check in checks):
        return None

    def parse(value: Any) -> Any:
        if type(value) is not str or not _DATE.fullmatch(value):
            return SLOW
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            return SLOW
        for check in checks:
            try:
                check(date)
            except Exception:  # any refusal: DRF's path words it
                return SLOW
        return date

    return parse


def _parser(field: fields.Field) -> Parser | None:
    """A fast parser for the field, or None when its kind is not one this module mirrors."""
    kind = type(field)
    # Subclasses count only when they change nothing of the parsing.
    if (
        issubclass(kind, fields.ChoiceField)
        and kind.to_internal_value is fields.ChoiceField.to_internal_value
        and kind.run_validation is fields.ChoiceField.run_validation
    ):
        return _choice_parser(field)  # type: ignore[arg-type]
    if (
        issubclass(kind, fields.CharField)
        and not issubclass(kind, (fields.EmailField, fields.RegexField))
        and kind.to_internal_value is fields.CharField.to_internal_value
        and kind.run_validation is fields.CharField.run_validation
    ):
        return _char_parser(field)  # type: ignore[arg-type]
    if kind is fields.DecimalField:
        return _decimal_parser(field)  # type: ignore[arg-type]
    if kind is fields.DateField:
        return _date_parser(field)  # type: ignore[arg-type]
    return None


class RecordValidator:
    """``validate(record)`` answers what ``serializer.run_validation(record)`` answers."""

    def __init__(self, serializer: serializers.Serializer) -> None:
        self.serializer = serializer
        self.plan: list[tuple[str, bool, bool, Parser]] | None = self._plan(serializer)

    @staticmethod
    def _plan(serializer: serializers.Serializer) -> list[tuple[str, bool, bool, Parser]] | None:
        kind = type(serializer)
        if (
            kind.validate is not serializers.Serializer.validate
            or kind.to_internal_value is not serializers.Serializer.to_internal_value
            or kind.run_validation is not serializers.Serializer.run_validation
            or serializer.validators
            or serializer.partial
        ):
            return None
        plan = []
        for field in serializer._writable_fields:
            parser = _parser(field)
            if (
                parser is None
                or field.default is not fields.empty
                or field.source_attrs != [field.field_name]
                or hasattr(serializer, f"validate_{field.field_name}")
            ):
                return None
            plan.append((str(field.field_name), field.required, field.allow_null, parser))
        return plan

    def validate(self, record: Any) -> Any:
        """The validated data of ``record``; raises DRF's ValidationError when it is invalid."""
        if self.plan is not None and type(record) is dict:
            validated = self._fast(record)
            if validated is not None:
                return validated
        return self.serializer.run_validation(record)

    def _fast(self, record: Mapping[str, Any]) -> dict[str, Any] | None:
        validated: dict[str, Any] = {}
        for name, required, allow_null, parse in self.plan or ():
            if name not in record:
                if required:
                    return None
                continue
            value = record[name]
            if value is None:
                if not allow_null:
                    return None
                validated[name] = None
                continue
            parsed = parse(value)
            if parsed is SLOW:
                return None
            validated[name] = parsed
        return validated
