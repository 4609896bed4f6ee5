"""RecordValidator's fast path and DRF's serializer answer the same for every record."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from accounts.api.serializers import AccountRecordSerializer, RenewalRecordSerializer
from csplatform.api_records import RecordValidator

AWKWARD_TEXT = ["", " ", " x", "x ", "a\x00b", "\ud800", "é", "x" * 100, "x" * 101, "x" * 255, "x" * 256]
AWKWARD_MONEY = [
    "0.00",
    "0",
    "1.5",
    "62000.00",
    "62000",
    "0000062000",
    "99999999999",
    "999999999999",
    "1234567890123",
    "062000.00",
    "9999999999.99",
    "10000000000.00",
    "99999999999.99",
    "-1.00",
    " 1.00",
    "1.001",
    "NaN",
    "1e3",
    "abc",
    "",
    12,
    12.5,
    True,
]
AWKWARD_DATES = [
    "2027-03-31",
    "1970-01-01",
    "1969-12-31",
    "2199-12-31",
    "2200-01-01",
    "2027-02-30",
    "20270331",
    "2027-3-31",
    "2027-03-31T00:00:00",
    "",
    20270331,
]
OTHER: list[Any] = [None, True, 0, 1.5, [], {}, "retail", "EMEA", "adopting", "renewed", "budget", "maria"]


def _values(*extra: list[Any]) -> st.SearchStrategy[Any]:
    pool = [value for values in extra for value in values] + OTHER
    return st.one_of(st.sampled_from(pool), st.text(max_size=12))


def _records(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    value = _values(AWKWARD_TEXT, AWKWARD_MONEY, AWKWARD_DATES)
    return st.dictionaries(st.sampled_from(names), value, max_size=len(names))


def _answer(run: Any, record: Any) -> tuple[str, Any]:
    try:
        return ("valid", run(record))
    except serializers.ValidationError as exc:
        return ("invalid", exc.detail)


def _agree(serializer: serializers.Serializer, record: dict[str, Any]) -> None:
    validator = RecordValidator(serializer)
    assert validator.plan is not None
    fast = validator._fast(record)
    expected = _answer(serializer.run_validation, record)
    if fast is not None:
        # The fast path accepts only what DRF accepts, with the same data (types included).
        assert expected[0] == "valid", (record, expected)
        assert fast == expected[1]
        assert [type(v) for v in fast.values()] == [type(v) for v in expected[1].values()]
        # The same spelling too: 62000 is quantized to 62000.00 by both.
        assert [str(v) for v in fast.values()] == [str(v) for v in expected[1].values()]
        assert list(fast) == list(expected[1])
    assert _answer(validator.validate, record) == expected


ACCOUNT_FIELDS = list(AccountRecordSerializer().fields)
RENEWAL_FIELDS = list(RenewalRecordSerializer().fields)


@settings(max_examples=400, deadline=None)
@given(_records(ACCOUNT_FIELDS))
def test_account_records_agree(record: dict[str, Any]) -> None:
    _agree(AccountRecordSerializer(), record)


@settings(max_examples=300, deadline=None)
@given(_records(RENEWAL_FIELDS))
def test_renewal_records_agree(record: dict[str, Any]) -> None:
    _agree(RenewalRecordSerializer(), record)


def test_a_plain_record_takes_the_fast_path() -> None:
    record = {
        "external_id": "0015g00000XyZ12AAB",
        "name": "Northwind Retail",
        "acv": "62000.00",
        "domain": "northwind.example",
        "vertical": "retail",
        "region": "EMEA",
        "lifecycle_stage": "adopting",
        "renewal_date": "2027-03-31",
        "csm": "maria",
        "ae": None,
    }
    serializer = AccountRecordSerializer()
    assert RecordValidator(serializer)._fast(record) == serializer.run_validation(record)


def test_each_awkward_value_agrees_field_by_field() -> None:
    base = {"external_id": "X-1", "name": "Acme"}
    for name in ACCOUNT_FIELDS:
        for value in [*AWKWARD_TEXT, *AWKWARD_MONEY, *AWKWARD_DATES, *OTHER]:
            _agree(AccountRecordSerializer(), {**base, name: value})


def test_a_whole_number_amount_takes_the_fast_path_quantized() -> None:
    # CRMs send amounts as whole numbers; DRF quantizes them to the field's places.
    record = {"external_id": "X-1", "acv": "62000"}
    serializer = AccountRecordSerializer()
    fast = RecordValidator(serializer)._fast(record)
    assert fast is not None
    assert str(fast["acv"]) == "62000.00" == str(serializer.run_validation(record)["acv"])
