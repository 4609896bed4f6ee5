"""PostgreSQL restarted under a running server: 503 during the gap, 200 afterwards, no app restart.

A real gunicorn process with production settings (persistent connections, ``CONN_HEALTH_CHECKS``)
serves pages, an HTMX fragment and the API from a private PostgreSQL cluster, which the test stops
and starts again.
"""

from __future__ import annotations

import json
import re

import pytest
import requests

from tests.ops.conftest import production_env
from tests.ops.servers import app_env, manage, start_gunicorn, wait_until

pytestmark = pytest.mark.slow

SETUP = """
from csplatform import roles
from csplatform.models import User
from csplatform.services import api_token_issue
from django.contrib.auth.models import Group
from accounts.models import Account
leader = User.objects.create_user("lena", password="a-long-test-password-1")
leader.groups.add(Group.objects.get(name=roles.CS_LEADERSHIP))
ivan = User.objects.create_user("ivan", password="a-long-test-password-2")
ivan.groups.add(Group.objects.get(name=roles.INTEGRATION))
account = Account.objects.create(crm_source="salesforce", external_id="X-1", name="Northwind", acv=62000)
_, key = api_token_issue(user=ivan, read_only=False)
import json
print(json.dumps({"key": key, "account": account.pk}))
"""


class Browser:
    """A minimal signed-in browser: cookies kept by hand (production cookies are Secure-only)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(
            method, self.base + path, cookies=self.cookies, allow_redirects=False, timeout=30, **kwargs
        )
        self.cookies.update(response.cookies.get_dict())
        return response

    def login(self, username: str, password: str) -> None:
        page = self.request("GET", "/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        response = self.request(
            "POST", "/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302, response.text[:2000]


def test_requests_fail_cleanly_while_postgres_is_down_and_recover_without_restarting(
    private_postgres, app_database, collected_static, tmp_path
):
    env = app_env(
        tmp_path,
        **production_env(),
        DATABASE_URL=app_database,
        CELERY_BROKER_URL="memory://",
        STATIC_ROOT=str(collected_static),
        CONN_MAX_AGE="600",
    )
    setup = json.loads(manage(env, "shell", "-c", SETUP).stdout.strip().splitlines()[-1])
    server, base = start_gunicorn(env, tmp_path, workers=1, threads=2)
    try:
        browser = Browser(base)
        browser.login("lena", "a-long-test-password-1")
        api_headers = {"Authorization": f"Token {setup['key']}"}
        account_path = f"/accounts/{setup['account']}/"
        api_path = f"/api/v1/accounts/{setup['account']}/"

        def statuses() -> dict[str, int]:
            return {
                "home": browser.request("GET", "/").status_code,
                "page": browser.request("GET", account_path).status_code,
                "fragment": browser.request("GET", account_path, headers={"HX-Request": "true"}).status_code,
                "api": requests.get(base + api_path, headers=api_headers, timeout=30).status_code,
                "api-write": requests.patch(
                    base + api_path, json={"vertical": "media"}, headers=api_headers, timeout=30
                ).status_code,
                "health": requests.get(base + "/health/", timeout=30).status_code,
            }

        before = statuses()
        assert before == {
            "home": 200,
            "page": 200,
            "fragment": 200,
            "api": 200,
            "api-write": 200,
            "health": 200,
        }

        private_postgres.stop()
        during = statuses()
        assert during == {k: 503 for k in during}, during
        outage_page = browser.request("GET", account_path)
        assert "temporarily unavailable" in outage_page.text and outage_page.headers["Retry-After"]
        outage_api = requests.get(base + api_path, headers=api_headers, timeout=30)
        assert outage_api.json() == {"detail": "The database is unavailable; try again shortly."}

        private_postgres.start()
        # The first requests after the restart already succeed: stale connections are replaced.
        after = statuses()
        assert after == before, after
        assert server.alive()
        log = server.output()
        assert '"status_code": 500' not in log and "WORKER TIMEOUT" not in log, log[-4000:]
    finally:
        server.stop()


def test_readiness_reports_the_database(private_postgres, app_database, tmp_path):
    env = app_env(tmp_path, DATABASE_URL=app_database, CELERY_BROKER_URL="memory://", DEBUG="true")
    server, base = start_gunicorn(env, tmp_path, workers=1, threads=1)
    try:
        assert requests.get(base + "/ready/", timeout=30).status_code == 200
        private_postgres.stop()
        response = requests.get(base + "/ready/", timeout=30)
        assert response.status_code == 503
        assert response.json()["checks"]["database"] is False
        private_postgres.start()
        wait_until(
            lambda: requests.get(base + "/ready/", timeout=30).status_code == 200,
            timeout=20,
            what="readiness after the restart",
        )
    finally:
        server.stop()


def test_static_files_collect_in_production_mode(collected_static):
    # Manifest storage fails the whole collectstatic on one dangling reference (a source map).
    manifest = json.loads((collected_static / "staticfiles.json").read_text())
    assert {"js/htmx.min.js", "js/app.js", "css/app.css"} <= set(manifest["paths"])
