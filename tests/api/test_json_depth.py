"""json_depth's fast string skipping counts exactly what the plain pattern over the body counts."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from csplatform.bounds import json_depth

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def _reference_depth(body: bytes) -> int:
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRING.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([b"[", b"]", b"{", b"}", b'"', b"\\", b"a", b",", b":", b" ", b"\n"])))
def test_json_depth_agrees_with_the_pattern(pieces: list[bytes]) -> None:
    body = b"".join(pieces)
    assert json_depth(body) == _reference_depth(body)
    assert json_depth(body.decode()) == _reference_depth(body)


def test_a_sync_batch_is_shallow_and_a_deep_one_is_not() -> None:
    record = b'{"external_id": "X-1", "name": "Acme [x] {y}", "acv": "1.00"}'
    assert json_depth(b'{"records": [' + b", ".join([record] * 1000) + b"]}") == 3
    assert json_depth(b"[" * 40 + b'"]"' + b"]" * 40) == 40
