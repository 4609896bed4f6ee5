"""Structured logs: one JSON object per line, each carrying the request id echoed to the client."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from csplatform.logging import JsonFormatter, RequestIdFilter


@pytest.fixture
def json_log():
    """The root logger's records, formatted as production formats them (JSON + request id)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@pytest.mark.django_db
def test_a_request_log_record_carries_the_id_that_is_echoed(client, json_log):
    response = client.get("/login/", HTTP_X_REQUEST_ID="req-1234-abcd")
    assert response["X-Request-ID"] == "req-1234-abcd"
    records = [r for r in json_log() if r["logger"] == "csplatform.request"]
    assert records, json_log()
    record = records[-1]
    assert record["request_id"] == "req-1234-abcd"
    assert record["path"] == "/login/" and record["status"] == 200 and record["method"] == "GET"
    assert record["view"] == "login"
    assert isinstance(record["duration_ms"], float)


@pytest.mark.django_db
@pytest.mark.parametrize("incoming", ["", "x" * 65, "bad\nid"])
def test_a_missing_or_unsafe_id_is_replaced_by_a_new_one(client, incoming):
    headers = {"HTTP_X_REQUEST_ID": incoming} if incoming else {}
    response = client.get("/login/", **headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_logs_written_during_the_request_carry_its_id(client, json_log):
    # django-axes logs failed sign-ins from inside the view.
    client.post("/login/", {"username": "nobody", "password": "wrong"}, HTTP_X_REQUEST_ID="req-axes")
    inside = [r for r in json_log() if r["logger"].startswith("axes")]
    assert inside and all(r["request_id"] == "req-axes" for r in inside)


@pytest.mark.django_db
def test_responses_carry_server_timing(client):
    response = client.get("/login/")
    assert re.fullmatch(r"app;dur=\d+\.\d", response["Server-Timing"])


def test_server_errors_logged_after_the_middleware_keep_the_request_id(json_log, rf):
    request = rf.get("/x/")
    request.request_id = "req-late"
    logging.getLogger("django.request").error("Service Unavailable: /x/", extra={"request": request})
    assert json_log()[-1]["request_id"] == "req-late"
