"""Shared fixtures: named people whose roles say who may do what, API clients, eager Celery.

alice and bob are CSMs, tom and tina Account Executives, lena is CS Leadership and
ivan the integration user. Other apps add fixtures in tests/<app>/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from csplatform import roles
from csplatform.celery import app as celery_app
from csplatform.models import User
from csplatform.services import api_token_issue
from tests.browser_fixtures import browser, migration_data, page_for, screenshot  # noqa: F401
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_and_eager(settings: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run in-process during tests; worker behaviour has its own tests with real workers.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
    }
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def alice(db: None) -> User:
    return UserFactory(username="alice", role=roles.CSM)


@pytest.fixture
def bob(db: None) -> User:
    return UserFactory(username="bob", role=roles.CSM)


@pytest.fixture
def tom(db: None) -> User:
    return UserFactory(username="tom", role=roles.ACCOUNT_EXECUTIVE)


@pytest.fixture
def tina(db: None) -> User:
    return UserFactory(username="tina", role=roles.ACCOUNT_EXECUTIVE)


@pytest.fixture
def lena(db: None) -> User:
    return UserFactory(username="lena", role=roles.CS_LEADERSHIP)


@pytest.fixture
def ivan(db: None) -> User:
    return UserFactory(username="ivan", role=roles.INTEGRATION)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def token_client(db: None) -> Callable[..., APIClient]:
    """token_client(user, read_only=False) -> an APIClient sending that user's new token."""

    def make(user: User, *, read_only: bool = False) -> APIClient:
        _, key = api_token_issue(user=user, read_only=read_only)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def integration_client(ivan: User, token_client: Callable[..., APIClient]) -> APIClient:
    return token_client(ivan)
