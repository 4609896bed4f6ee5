"""API throttling: over the rate a client gets 429 with Retry-After; rates follow the settings."""

from __future__ import annotations

import pytest
from django.core.cache import cache

SCHEMA = "/api/schema/"


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "3/minute"},
    }
    cache.clear()
    yield
    cache.clear()


def test_a_token_client_over_the_user_rate_gets_429_with_retry_after(low_rates, ivan, token_client):
    client = token_client(ivan)
    statuses = [client.get(SCHEMA).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = client.get(SCHEMA)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert b"throttled" in response.content.lower()


def test_anonymous_clients_are_throttled_per_address(low_rates, api_client):
    for _ in range(2):
        assert api_client.get(SCHEMA, REMOTE_ADDR="203.0.113.5").status_code == 200
    assert api_client.get(SCHEMA, REMOTE_ADDR="203.0.113.5").status_code == 429
    # Another address has its own budget.
    assert api_client.get(SCHEMA, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_one_users_burst_does_not_throttle_another_user(low_rates, ivan, lena, token_client):
    first, second = token_client(ivan), token_client(lena)
    for _ in range(3):
        first.get(SCHEMA)
    assert first.get(SCHEMA).status_code == 429
    assert second.get(SCHEMA).status_code == 200
