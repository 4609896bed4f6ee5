"""The API's anonymous rate limit holds across gunicorn workers when they share the Redis cache.

A real production-settings gunicorn with three worker processes, a private Redis as the cache
(``CACHE_URL``) and a low anonymous rate. Requests go one connection each, so the master hands them
to whichever worker accepts first; with a per-process count every worker would let its own quota
through. The deployment's shared cache makes the limit one limit.
"""

from __future__ import annotations

import pytest
import requests

from tests.ops.conftest import production_env
from tests.ops.servers import app_env, start_gunicorn

pytestmark = pytest.mark.slow

LIMIT = 4
WORKERS = 3


def status_of(url: str) -> int:
    # A new connection for each request (no session, "Connection: close"), so each can land on
    # another worker.
    return requests.get(url, headers={"Connection": "close"}, timeout=60).status_code


def test_the_anonymous_limit_holds_across_workers(tmp_path, app_database, private_redis, collected_static):
    env = app_env(
        tmp_path,
        **production_env(),
        DATABASE_URL=app_database,
        CELERY_BROKER_URL=private_redis.url(0),
        CACHE_URL=private_redis.url(1),
        API_THROTTLE_ANON=f"{LIMIT}/minute",
        STATIC_ROOT=str(collected_static),
    )
    server, base = start_gunicorn(env, tmp_path, workers=WORKERS, threads=1)
    try:
        schema = [status_of(f"{base}/api/schema/") for _ in range(3 * LIMIT)]
    finally:
        server.stop()
    assert schema.count(200) == LIMIT, schema
    assert schema[LIMIT:] == [429] * (2 * LIMIT), schema
