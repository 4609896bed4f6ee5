"""The sane range of every number, date and duration the product accepts, declared once.

Each ``Bound`` is used in three places, so a form, the API and a service refuse the same values
with the same words:

- on the model field, as ``validators=BOUND.validators()`` (model forms and the admin check them);
- in API serializers and plain forms, as ``BOUND.serializer_field(...)`` / ``BOUND.form_field(...)``;
- in services, as ``BOUND.check(value, field=...)``, which raises a field-keyed ``ValidationError``.

The ranges are what a real customer-success team could mean, with room to spare: a touchpoint
lasts at most a day, a cadence at most ten years, a journey step waits at most a year. A value
beyond them is a typo or a probe; stored, it would break the sums, dates and schedules built on it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms.fields import InvalidJSONInput
from rest_framework import serializers

Number = int | Decimal


@dataclass(frozen=True)
class Bound:
    """A closed range ``[low, high]`` of whole numbers (or of decimals with ``decimal_places``)."""

    low: Number
    high: Number
    unit: str = ""
    decimal_places: int | None = None

    @property
    def max_digits(self) -> int | None:
        if self.decimal_places is None:
            return None
        return len(str(int(self.high))) + self.decimal_places

    def message(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"Ensure this value is from {self.low:,} to {self.high:,}{unit}."

    def validators(self) -> list[Any]:
        return [
            MinValueValidator(self.low, message=self.message()),
            MaxValueValidator(self.high, message=self.message()),
        ]

    def check(self, value: Any, *, field: str) -> Any:
        """``value`` as it is when in range (None passes); else a ValidationError on ``field``."""
        if value is None:
            return None
        try:
            number = Decimal(value) if self.decimal_places is not None else int(value)
        except (TypeError, ValueError, ArithmeticError):
            raise ValidationError({field: ["A valid number is required."]}) from None
        if isinstance(number, Decimal) and not number.is_finite():
            raise ValidationError({field: ["A valid number is required."]})
        if not self.low <= number <= self.high:
            raise ValidationError({field: [self.message()]})
        return number

    def _error_messages(self) -> dict[str, str]:
        # Below the range, the frameworks' own words ("greater than or equal to 0") say it; above
        # it, the range itself is the useful answer.
        return {"max_value": self.message()}

    def serializer_field(self, **kwargs: Any) -> serializers.Field:
        kwargs.setdefault("error_messages", self._error_messages())
        if self.decimal_places is not None:
            return serializers.DecimalField(
                max_digits=self.max_digits,
                decimal_places=self.decimal_places,
                min_value=self.low,
                max_value=self.high,
                **kwargs,
            )
        return serializers.IntegerField(min_value=int(self.low), max_value=int(self.high), **kwargs)

    def form_field(self, **kwargs: Any) -> forms.Field:
        kwargs.setdefault("error_messages", self._error_messages())
        if self.decimal_places is not None:
            return forms.DecimalField(
                max_digits=self.max_digits,
                decimal_places=self.decimal_places,
                min_value=self.low,
                max_value=self.high,
                **kwargs,
            )
        return forms.IntegerField(min_value=int(self.low), max_value=int(self.high), **kwargs)


@dataclass(frozen=True)
class DateBound:
    """Calendar dates a business record may carry: a year 1 or 9999 is a typo, and arithmetic on
    it (a cadence, a reminder, a window) would leave the calendar."""

    low: dt.date
    high: dt.date

    def message(self) -> str:
        return f"Give a date between {self.low.isoformat()} and {self.high.isoformat()}."

    def contains(self, value: dt.date | dt.datetime) -> bool:
        """Whether ``value`` (a date, or a moment: its UTC date) lies in the range."""
        if isinstance(value, dt.datetime):
            try:
                value = value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
            except OverflowError:  # a moment whose UTC date leaves the calendar (year 0 or 10000)
                return False
        return self.low <= value <= self.high

    def check(self, value: dt.date | dt.datetime | None, *, field: str) -> Any:
        if value is None:
            return None
        if not self.contains(value):
            raise ValidationError({field: [self.message()]})
        return value

    def validators(self) -> list[Any]:
        return [_DateRangeValidator(self)]

    def serializer_field(self, **kwargs: Any) -> serializers.DateField:
        return serializers.DateField(validators=[_serializer_check(self)], **kwargs)

    def serializer_datetime_field(self, **kwargs: Any) -> serializers.DateTimeField:
        return serializers.DateTimeField(validators=[_serializer_check(self)], **kwargs)

    def form_field(self, **kwargs: Any) -> forms.DateField:
        return forms.DateField(validators=self.validators(), **kwargs)

    def form_datetime_field(self, **kwargs: Any) -> forms.DateTimeField:
        return forms.DateTimeField(validators=self.validators(), **kwargs)


class _DateRangeValidator:
    def __init__(self, bound: DateBound) -> None:
        self.bound = bound

    def __call__(self, value: Any) -> None:
        if value is not None and not self.bound.contains(value):
            raise ValidationError(self.bound.message(), code="date_range")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _DateRangeValidator) and other.bound == self.bound

    def __hash__(self) -> int:
        return hash(self.bound)

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return ("csplatform.bounds.business_date_validator", (), {})


def business_date_validator() -> _DateRangeValidator:
    """The validator of ``BUSINESS_DATE`` (how migrations name it)."""
    return _DateRangeValidator(BUSINESS_DATE)


def _serializer_check(bound: DateBound) -> Any:
    def check(value: Any) -> None:
        if value is not None and not bound.contains(value):
            raise serializers.ValidationError(bound.message())

    return check


# --- The product's ranges --------------------------------------------------------------------------

# Minutes of one touchpoint: at most a day.
TOUCHPOINT_MINUTES = Bound(0, 24 * 60, "minutes")
# A task's estimate (by hand or from a playbook step): at most a working week.
ESTIMATED_MINUTES = Bound(0, 40 * 60, "minutes")
# How often a module is delivered (entitlements, add-ons, commitments): daily to once in ten years.
CADENCE_DAYS = Bound(1, 3650, "days")
# How long a journey step waits (from enrolment or the previous step): up to a year, plus hours.
JOURNEY_DELAY_DAYS = Bound(0, 365, "days")
JOURNEY_DELAY_HOURS = Bound(0, 7 * 24, "hours")
# Money: ACV, ARR, tier thresholds. Below ten billion in the base currency.
MONEY = Bound(Decimal("0"), Decimal("9999999999.99"), decimal_places=2)
# Usage counts of one period (active users, seats, tickets).
USAGE_COUNT = Bound(0, 10_000_000)
# A database id (bigint): what an id in a filter or a body may be at all.
DATABASE_ID = Bound(1, 2**63 - 1)
# Dates of contracts, renewals, tasks, snoozes, usage periods and touchpoints.
BUSINESS_DATE = DateBound(dt.date(1970, 1, 1), dt.date(2199, 12, 31))


def database_id_param(raw: str | None, *, field: str) -> int | None:
    """An id from a query string: None when absent, else a whole number that can be an id.

    Raises ValidationError naming ``field`` for text, 0, negatives or numbers beyond 64 bits: a
    filter that can match nothing is a mistake worth saying, not an empty list.
    """
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({field: ["A valid integer is required."]}) from None
    return int(DATABASE_ID.check(value, field=field))


# --- Parsing ---------------------------------------------------------------------------------------

# Deeper JSON than this is refused before it is parsed (API bodies by ``JsonDepthLimitMiddleware``,
# JSON typed into a form by ``BoundedJSONField``): nothing the product reads nests beyond a handful
# of levels, and Python's parser recurses once per level (about a thousand end in a RecursionError).
MAX_JSON_DEPTH = 32
JSON_TOO_DEEP = f"nested deeper than {MAX_JSON_DEPTH} levels."
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPENING = frozenset(b"[{")


def _outside_strings(body: bytes) -> bytes:
    """``body`` without its JSON strings. Without a backslash, quotes pair up plainly and every
    other piece between them is a string: splitting is many times faster than the pattern over a
    sync batch of a thousand records."""
    if b"\\" not in body:
        pieces = body.split(b'"')
        if len(pieces) % 2:  # an even number of quotes (an unclosed one is left to the pattern)
            return b"".join(pieces[::2])
    return _JSON_STRING.sub(b"", body)


def json_depth(text: bytes | str) -> int:
    """How deeply ``text`` nests arrays and objects, read without parsing it (strings skipped)."""
    body = text.encode() if isinstance(text, str) else text
    depth = deepest = 0
    for byte in _outside_strings(body).translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BoundedJSONField(forms.JSONField):
    """A form's JSON field that refuses JSON nested beyond ``MAX_JSON_DEPTH`` before parsing it."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and json_depth(value) > MAX_JSON_DEPTH:
            raise ValidationError(f"This JSON is {JSON_TOO_DEEP}", code="invalid")
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Re-showing the form parses what was typed again: show it as typed instead.
        if isinstance(data, str) and json_depth(data) > MAX_JSON_DEPTH:
            return InvalidJSONInput(data)
        return super().bound_data(data, initial)
