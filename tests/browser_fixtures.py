"""Playwright fixtures: Debian's Chromium, headless, against pytest-django's live server.

Registered once in tests/conftest.py so every browser test shares ONE session-wide Playwright:
a second ``sync_playwright()`` while the first one's event loop lives fails.

Playwright's sync API runs an event loop in this thread, which Django's async-safety check would
take for async code; the live server and the ORM calls in the tests are synchronous, so the
check is switched off from the moment the browser starts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page_for(browser: Any, live_server: Any) -> Iterator[Any]:
    """page_for(username) -> a new browser page signed in through the login form."""
    contexts: list[Any] = []

    def make(username: str, password: str = "correct-horse-battery", width: int = 1366) -> Any:  # noqa: S107
        context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield make
    for context in contexts:
        context.close()
    wait_for_requests_to_finish()


def wait_for_requests_to_finish(timeout: float = 10.0) -> None:
    """Wait until no other connection to the test database is working or inside a transaction.

    A page may still be loading what the test's last action triggered (sections refreshed after
    a dialog closes) when the last assertion passes; the live server finishes such a request
    after the browser is gone. The database flush that ends the test would meet that request's
    locks, and PostgreSQL would end one of the two as a deadlock.
    """
    import time

    from django.db import connection

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


@pytest.fixture
def screenshot() -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def migration_data(transactional_db: None) -> None:
    """Browser tests run on a flushed (transactional) database: put back what data migrations
    create (roles, the default policy, the service catalogue, the default health scorecard) when an
    earlier test flushed it."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    from playbooks.models import ServiceModule
    from segmentation.models import HealthScorecard, TierPolicy

    steps = [
        (Group.objects.exists, "csplatform.migrations.0002_roles", "create_roles"),
        (TierPolicy.objects.exists, "segmentation.migrations.0002_default_policy", "create_default_policy"),
        (ServiceModule.objects.exists, "playbooks.migrations.0002_default_catalogue", "create_catalogue"),
        (
            HealthScorecard.objects.exists,
            "segmentation.migrations.0009_default_health_scorecard",
            "create_default_scorecard",
        ),
    ]
    for present, module, function in steps:
        if not present():
            getattr(importlib.import_module(module), function)(apps, None)
