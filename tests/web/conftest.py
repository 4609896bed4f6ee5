"""Fixtures for the page tests: signed-in clients for each named person."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def signed_in(db: None) -> Callable[[Any], Client]:
    """signed_in(user) -> a test client with that person's session."""

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def htmx_headers() -> dict[str, str]:
    return {"HX-Request": "true", "HX-Current-URL": "http://testserver/"}
