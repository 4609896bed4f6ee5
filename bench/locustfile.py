"""Locust scenario for ``bench/bench_load.py``: CSMs, leaders, API readers and CRM syncs at once.

Run by the bench (headless); the bench writes a JSON config (people, tokens, account ids) and
reads back the server-side time of every request (``Server-Timing: app;dur=``, set by
``csplatform.middleware.RequestIdMiddleware``), so the figures are not distorted by the load
generator sharing the machine's cores. A trivial view (the sign-in form) runs in the same mix
as the baseline for ratios.

What counts as a failure (``STATUS`` keys starting with ``error``): a request that raised (a
timeout of ``REQUEST_TIMEOUT`` seconds included), any answer other than 2xx (a redirect to the
sign-in form is a failure, not a page), and every request still running when the users were
stopped (the run's end plus a stop timeout as long as ``REQUEST_TIMEOUT``: ``error:unfinished``),
so a page that never answers within the run cannot vanish from the figures. Client-side times
(queueing in gunicorn included) are kept too, for the slowest request.

Locust's own stop ends some users in the middle of a request even with a stop timeout (seen: a
request in flight at the run's end ended by ``GreenletExit`` while its user was running, one to
six a run against a plain HTTP server answering within 0.4 s), which counted as unfinished
requests the server never failed. So when the test stops, no request starts any more, and the
stop waits until the requests in flight have answered, up to ``REQUEST_TIMEOUT``: what is still
running then is a request the server did not answer in time, and is counted as unfinished.

Production cookies are ``Secure``; the bench talks plain HTTP on loopback, so the session
cookie is sent by hand.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

import gevent
import gevent.pool
from locust import HttpUser, between, events, task
from locust.exception import StopUser

CONFIG: dict[str, Any] = json.loads(open(os.environ["CSPLATFORM_LOAD_CONFIG"]).read())  # noqa: SIM115
SERVER_MS: dict[str, list[float]] = defaultdict(list)
STATUS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
CLIENT_MS: dict[str, list[float]] = defaultdict(list)
IN_FLIGHT: dict[str, int] = defaultdict(int)
TIMING = re.compile(r"app;dur=([0-9.]+)")
REQUEST_TIMEOUT = 30
# Connections a browser opens to one host (HTTP/1.1): how many panels load at once.
BROWSER_CONNECTIONS = 6
STOPPING = False
# Answers that are the expected outcome of a request that is not a page (signing in redirects).
EXPECTED = {"sign in": {"302"}}


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float = 0.0,
    response: Any = None,
    exception: Any = None,
    **_: Any,
) -> None:
    IN_FLIGHT[name] -= 1
    status = str(getattr(response, "status_code", 0) or 0)
    if exception is not None:
        key = f"error:{status}:{type(exception).__name__}"
    elif status.startswith("2") or status in EXPECTED.get(name, ()):
        key = status
    else:
        key = f"error:{status}"
    STATUS[name][key] += 1
    CLIENT_MS[name].append(float(response_time or 0.0))
    header = getattr(response, "headers", {}).get("Server-Timing", "") if response is not None else ""
    match = TIMING.search(header or "")
    if match and not key.startswith("error"):
        SERVER_MS[name].append(float(match.group(1)))


@events.test_stopping.add_listener
def _drain(**_: Any) -> None:
    global STOPPING
    STOPPING = True
    deadline = time.monotonic() + REQUEST_TIMEOUT
    while any(running > 0 for running in IN_FLIGHT.values()) and time.monotonic() < deadline:
        gevent.sleep(0.05)


@events.quitting.add_listener
def _write(environment: Any, **_: Any) -> None:
    for name, running in IN_FLIGHT.items():
        if running > 0:
            STATUS[name]["error:unfinished"] += running
    with open(os.environ["CSPLATFORM_LOAD_OUT"], "w") as out:
        json.dump({"server_ms": SERVER_MS, "client_ms": CLIENT_MS, "status": STATUS}, out)


def _started(name: str) -> None:
    if STOPPING:
        raise StopUser()
    IN_FLIGHT[name] += 1


class SignedInUser(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    role = ""

    def on_start(self) -> None:
        self.username = random.choice(CONFIG["people"][self.role])
        self.cookie = ""
        _started("sign-in form")
        page = self.client.get("/login/", name="sign-in form", timeout=REQUEST_TIMEOUT)
        csrf = page.cookies.get("csrftoken", "")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        _started("sign in")
        response = self.client.post(
            "/login/",
            timeout=REQUEST_TIMEOUT,
            data={
                "username": self.username,
                "password": CONFIG["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Cookie": f"csrftoken={csrf}"},
            allow_redirects=False,
            name="sign in",
        )
        self.cookie = f"sessionid={response.cookies.get('sessionid', '')}"
        self.client.cookies.clear()

    def page(self, path: str, name: str, **headers: str) -> None:
        _started(name)
        self.client.get(
            path,
            name=name,
            headers={"Cookie": self.cookie, **headers},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )


class Csm(SignedInUser):
    weight = 20
    role = "csm"

    @task(3)
    def worklist(self) -> None:
        self.page("/", "worklist")

    @task(3)
    def account_page(self) -> None:
        account_id = random.choice(CONFIG["accounts_by_csm"][self.username])
        self.page(f"/accounts/{account_id}/", "account page")


class Leader(SignedInUser):
    """A leader opens the overview, whose every panel then loads as the browser loads them: all
    at once on the page's load (``hx-trigger="load"``), at most six at a time, as many as a browser
    opens to one host over HTTP/1.1."""

    weight = 5
    role = "leader"

    @task
    def overview(self) -> None:
        self.page("/", "leadership overview")
        panels = gevent.pool.Pool(BROWSER_CONNECTIONS)
        for panel in CONFIG["panels"]:
            panels.spawn(self.page, panel, f"panel {panel}", **{"HX-Request": "true"})
        panels.join(raise_error=True)


class ApiClient(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)

    def api_get(self, path: str, name: str) -> None:
        _started(name)
        self.client.get(
            path,
            name=name,
            headers={"Authorization": f"Token {CONFIG['token']}"},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )


class ApiReader(ApiClient):
    weight = 15

    @task(2)
    def list_accounts(self) -> None:
        self.api_get("/api/v1/accounts/?page_size=50", "api accounts list")

    @task(3)
    def account_detail(self) -> None:
        self.api_get(f"/api/v1/accounts/{random.choice(CONFIG['account_ids'])}/", "api account detail")

    @task(1)
    def tier_history(self) -> None:
        account_id = random.choice(CONFIG["account_ids"])
        self.api_get(f"/api/v1/accounts/{account_id}/tier-history/", "api tier history")


class CrmSync(ApiClient):
    weight = 5

    @task
    def sync_batch(self) -> None:
        external_ids = random.sample(CONFIG["external_ids"], 50)
        records = [
            {"external_id": eid, "acv": str(Decimal(random.randint(1000, 120000)))} for eid in external_ids
        ]
        _started("api sync (50 records)")
        self.client.post(
            "/api/v1/accounts/sync/",
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
            json={"crm_source": CONFIG["crm_source"], "records": records},
            headers={"Authorization": f"Token {CONFIG['token']}"},
            name="api sync (50 records)",
        )


class Baseline(HttpUser):
    """The trivial view: the anonymous sign-in form (no database query)."""

    weight = 5
    wait_time = between(0.2, 1.0)

    @task
    def trivial(self) -> None:
        _started("trivial view")
        self.client.get("/login/", name="trivial view", timeout=REQUEST_TIMEOUT)
