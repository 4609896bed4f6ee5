"""Redis stopped and restarted while CRM syncs and tier reviews are under way.

Real processes on a private Redis and PostgreSQL: gunicorn (production settings), a worker and a
beat whose outbox sweeper runs every two seconds. While the broker is down the web keeps serving
(syncs, pages, starting a review) without hanging on the broker; the work those requests enqueued
waits in the outbox table and runs once the broker is back: the re-evaluated tier shows up, the
review started during the outage finishes, and the outbox drains.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.ops.conftest import production_env
from tests.ops.servers import VENV_BIN, Process, app_env, manage, start_gunicorn, start_worker, wait_until

pytestmark = pytest.mark.slow

SETUP = """
import json
from django.contrib.auth.models import Group
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from csplatform import roles
from csplatform.models import User
from csplatform.services import api_token_issue
ivan = User.objects.create_user("ivan", password="a-long-test-password-2")
ivan.groups.add(Group.objects.get(name=roles.INTEGRATION))
lena = User.objects.create_user("lena", password="a-long-test-password-1")
lena.groups.add(Group.objects.get(name=roles.CS_LEADERSHIP))
every_two_seconds, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
PeriodicTask.objects.exclude(task="csplatform.dispatch_sweep").update(enabled=False)
PeriodicTask.objects.filter(task="csplatform.dispatch_sweep").update(interval=every_two_seconds)
print(json.dumps({"ivan": api_token_issue(user=ivan)[1], "lena": api_token_issue(user=lena)[1]}))
"""

OUTBOX = """
from csplatform.models import PendingDispatch
print(sorted(PendingDispatch.objects.values_list("task_name", flat=True)))
"""


def _beat(env, tmp_path) -> Process:
    return Process(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "csplatform",
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile=",
            "--max-interval",
            "1",
        ],
        env,
        tmp_path / "beat.log",
    )


def _records(start: int, count: int, acv: str) -> list[dict]:
    return [
        {"external_id": f"R-{n}", "name": f"Outage Co {n}", "acv": acv} for n in range(start, start + count)
    ]


def test_work_enqueued_while_the_broker_is_down_runs_after_it_restarts(
    private_postgres, app_database, private_redis, collected_static, tmp_path
):
    env = app_env(
        tmp_path,
        **production_env(),
        DATABASE_URL=app_database,
        CELERY_BROKER_URL=private_redis.url(),
        STATIC_ROOT=str(collected_static),
        DISPATCH_SWEEP_GRACE_SECONDS="1",
        LOG_LEVEL="INFO",
    )
    tokens = json.loads(manage(env, "shell", "-c", SETUP).stdout.strip().splitlines()[-1])
    integration = {"Authorization": f"Token {tokens['ivan']}"}
    leader = {"Authorization": f"Token {tokens['lena']}"}
    web, base = start_gunicorn(env, tmp_path, workers=1, threads=4)
    worker = start_worker(env, tmp_path, concurrency=2)
    beat = _beat(env, tmp_path)

    def api(method: str, path: str, headers: dict, **kwargs) -> requests.Response:
        return requests.request(method, base + path, headers=headers, timeout=30, **kwargs)

    def sync(records: list[dict]) -> requests.Response:
        return api(
            "POST", "/api/v1/accounts/sync/", integration, json={"crm_source": "crm", "records": records}
        )

    def tiers() -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        url = "/api/v1/accounts/?page_size=500"
        while url:
            page = api("GET", url, integration).json()
            found.update({a["external_id"]: (a["tier"] or {}).get("code") for a in page["results"]})
            url = page["next"] and page["next"].replace(base, "")
        return found

    def review(review_id: int) -> dict:
        return api("GET", f"/api/v1/tier-reviews/{review_id}/", leader).json()

    try:
        # Broker up: accounts are created and tiered by the worker; a review runs.
        assert sync(_records(0, 40, "20000.00")).json()["created"] == 40
        wait_until(lambda: set(tiers().values()) == {"MM2"}, timeout=90, what="initial tiers from the worker")
        first = api("POST", "/api/v1/tier-reviews/", leader)
        assert first.status_code == 202, first.text
        wait_until(
            lambda: review(first.json()["id"])["status"] == "finished", timeout=60, what="first review"
        )

        private_redis.stop()

        # Broker down: syncs, pages and a new review are all accepted, without waiting on the broker.
        started = time.monotonic()
        outage = sync(_records(0, 10, "90000.00"))
        assert outage.status_code == 200 and outage.json()["updated"] == 10, outage.text
        second = api("POST", "/api/v1/tier-reviews/", leader)
        assert second.status_code == 202, second.text
        assert api("GET", "/api/v1/accounts/?page_size=5", integration).status_code == 200
        assert requests.get(base + "/login/", timeout=30).status_code == 200
        assert time.monotonic() - started < 10  # kombu's default retries alone took ~6 s per publish
        health = requests.get(base + "/health/", timeout=30)
        assert health.status_code == 503 and health.json()["checks"]["broker"] is False

        waiting = manage(env, "shell", "-c", OUTBOX).stdout
        assert "segmentation.reevaluate_accounts" in waiting and "segmentation.run_tier_review" in waiting
        assert review(second.json()["id"])["status"] == "queued"
        time.sleep(3)  # beat and worker keep trying meanwhile; nothing may be dropped
        assert set(list(tiers().values())[:10]) == {"MM2"}

        private_redis.start()

        # Broker back: the sweeper re-publishes, the worker runs the kept work.
        wait_until(
            lambda: list(tiers().values()).count("ENT") == 10,
            timeout=120,
            interval=1,
            what="re-evaluation enqueued during the outage",
        )
        wait_until(
            lambda: review(second.json()["id"])["status"] == "finished",
            timeout=120,
            interval=1,
            what="the review started during the outage",
        )
        wait_until(
            lambda: "[]" in manage(env, "shell", "-c", OUTBOX).stdout, timeout=30, what="the outbox to drain"
        )
        assert requests.get(base + "/health/", timeout=30).status_code == 200
        assert web.alive() and worker.alive() and beat.alive()
    finally:
        beat.stop()
        worker.stop()
        web.stop()
