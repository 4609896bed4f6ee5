"""/health/ and /ready/ answer 503 when the broker is down and 200 once it is back."""

from __future__ import annotations

import pytest

from csplatform.celery import app as celery_app

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def broker(private_redis, monkeypatch):
    """Point the Celery app (as the web process uses it) at the private Redis.

    Celery reads the CELERY_BROKER_URL environment variable before its configuration, so both
    are pointed at the private server (CI sets the variable to the shared Redis).
    """
    previous = celery_app.conf.broker_url  # read before the variable changes what it answers
    monkeypatch.setenv("CELERY_BROKER_URL", private_redis.url())
    celery_app.conf.broker_url = private_redis.url()
    try:
        yield private_redis
    finally:
        celery_app.conf.broker_url = previous


@pytest.mark.parametrize("path", ["/health/", "/ready/"])
def test_health_and_readiness_follow_the_broker(client, broker, path):
    response = client.get(path)
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"] is True

    broker.stop()
    response = client.get(path)
    assert response.status_code == 503
    assert response.json()["checks"] == {**response.json()["checks"], "broker": False, "database": True}
    assert response["Cache-Control"].startswith("max-age=0")

    broker.start()
    assert client.get(path).status_code == 200


def test_health_needs_no_login_and_reveals_nothing_else(client, broker):
    body = client.get("/health/").json()
    assert body == {"status": "ok", "checks": {"database": True, "broker": True}}
