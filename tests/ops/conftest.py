"""Fixtures for fault tests: private PostgreSQL/Redis servers and csplatform processes using them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.servers import PrivatePostgres, PrivateRedis, app_env, manage

TEMPLATE_DATABASE = "csplatform_migrated"


@pytest.fixture(scope="session")
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of our own, with a migrated template database to copy per test."""
    server = PrivatePostgres()
    server.init()
    server.start()
    tmp = tmp_path_factory.mktemp("pg-template")
    url = server.create_database(TEMPLATE_DATABASE)
    manage(app_env(tmp, DATABASE_URL=url, CELERY_BROKER_URL="memory://"), "migrate", "--noinput")
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def app_database(private_postgres: PrivatePostgres, request: pytest.FixtureRequest) -> str:
    """A fresh migrated database for this test in the private cluster; returns its URL."""
    name = "t_" + "".join(ch for ch in request.node.name.lower() if ch.isalnum())[:40]
    return private_postgres.create_database(name, template=TEMPLATE_DATABASE)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Static files collected once, as production serves them (manifest storage, whitenoise)."""
    root = tmp_path_factory.mktemp("static")
    manage(
        app_env(
            root,
            **production_env(),
            STATIC_ROOT=str(root / "static"),
            # collectstatic never connects; the URL only has to name PostgreSQL.
            DATABASE_URL="postgres://postgres@127.0.0.1:9/unused",
        ),
        "collectstatic",
        "--noinput",
        "--verbosity",
        "0",
    )
    return root / "static"


def production_env() -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SITE_URL": "http://127.0.0.1",
    }
