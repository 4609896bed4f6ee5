"""Two beats running at once: every due job is sent twice, but each time slot's work runs once.

Real processes: two ``celery beat`` (database scheduler) and a worker on a private Redis and
PostgreSQL. The nightly tier review is rescheduled to fire every second, so both beats send it
many times within its one-day slot; ``claim_slot`` lets exactly one delivery start a review.
"""

from __future__ import annotations

import json

import pytest

from tests.ops.servers import VENV_BIN, Process, app_env, manage, start_worker, wait_until

pytestmark = pytest.mark.slow

SETUP = """
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from accounts.models import Account
for n in range(5):
    Account.objects.create(
        crm_source="salesforce", external_id=f"B-{n}", name=f"Beat {n}", acv=20000 + n * 20000
    )
every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
PeriodicTask.objects.exclude(task="segmentation.nightly_review").update(enabled=False)
PeriodicTask.objects.filter(task="segmentation.nightly_review").update(interval=every_second, crontab=None)
"""

COUNTS = """
import json
from csplatform.models import ScheduledRun
from segmentation.models import TierReview
print(json.dumps({
    "runs": ScheduledRun.objects.filter(job="segmentation.nightly_review").count(),
    "reviews": TierReview.objects.count(),
    "finished": TierReview.objects.filter(status="finished").count(),
}))
"""


def _beat(env, tmp_path, name: str) -> Process:
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
        tmp_path / f"{name}.log",
    )


def test_two_beats_do_not_run_a_slot_twice(private_postgres, app_database, private_redis, tmp_path):
    env = app_env(
        tmp_path, DATABASE_URL=app_database, CELERY_BROKER_URL=private_redis.url(), LOG_LEVEL="INFO"
    )
    manage(env, "shell", "-c", SETUP)
    worker = start_worker(env, tmp_path, concurrency=2)
    beats = [_beat(env, tmp_path, "beat-1"), _beat(env, tmp_path, "beat-2")]
    try:

        def sent(beat: Process) -> int:
            return beat.output().count("Sending due task") if beat.alive() else -1

        def settled() -> bool:
            deliveries = worker.output().count("segmentation.nightly_review") // 2  # received + succeeded
            return all(sent(beat) >= 3 for beat in beats) and deliveries >= 6

        wait_until(settled, timeout=90, interval=1, what="both beats to send the job several times")
    finally:
        for beat in beats:
            beat.stop()
    try:
        wait_until(lambda: "succeeded" in worker.output(), timeout=30, what="the worker to finish")
        counts = wait_until(
            lambda: (
                (c := json.loads(manage(env, "shell", "-c", COUNTS).stdout.strip().splitlines()[-1]))[
                    "finished"
                ]
                and c
            ),
            timeout=60,
            interval=1,
            what="the review to finish",
        )
    finally:
        worker.stop()
    assert all(beat.output().count("Sending due task") >= 3 for beat in beats)
    assert counts == {"runs": 1, "reviews": 1, "finished": 1}, (counts, worker.output()[-3000:])
