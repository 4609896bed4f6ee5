"""A worker killed (SIGKILL) in the middle of a tier review: the review resumes, nothing twice.

Real processes on a private Redis and PostgreSQL. 100,000 accounts without a tier make a review
of two 50,000-account chunks; a chunk commits its tier writes, TierChanges and counters together
in batches of ``CANDIDATE_BATCH`` accounts, and marks itself done with its last batch. The worker
is killed once a chunk is done, most likely part-way through the next one; PostgreSQL releases the
chunk it held, and the batches it committed stay.
A second worker receives the review's messages again (late acknowledgement: Redis redelivers an
unacknowledged message after the visibility timeout, 5 s here) and evaluates the chunk not yet
done; the ten minutes without a heartbeat are simulated by moving the heartbeat back, so the
review counts as resumed.

(``tests/segmentation/test_reviews.py`` covers the same rule in-process, with a simulated death;
this is the same promise with a real kill, a real broker and real redelivery.)
"""

from __future__ import annotations

import json
import signal

import pytest

from segmentation.services.reviews import CANDIDATE_BATCH
from tests.ops.servers import app_env, manage, start_worker, wait_until

pytestmark = pytest.mark.slow

ACCOUNTS = 100_000

SETUP = f"""
from django_celery_beat.models import PeriodicTask
from accounts.seeding import ensure_accounts
PeriodicTask.objects.update(enabled=False)
ensure_accounts({ACCOUNTS}, detail_limit=0)
from segmentation.services.reviews import tier_review_start
print(tier_review_start().pk)
"""

STATE = """
import json
from django.db import connection
from segmentation.models import TierChange, TierReview
review = TierReview.objects.get(pk={review_id})
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT count(*) FROM (SELECT account_id FROM segmentation_tierchange WHERE review_id = %s "
        "GROUP BY account_id HAVING count(*) > 1) AS twice", [review.pk]
    )
    twice = cursor.fetchone()[0]
    cursor.execute("SELECT count(*) FROM accounts_account WHERE tier_code = '' OR tier_code IS NULL")
    untiered = cursor.fetchone()[0]
print(json.dumps({{
    "status": review.status, "done": review.accounts_done, "total": review.accounts_total,
    "last": review.last_account_id, "applied": review.changes_applied, "attempts": review.attempts,
    "changes": TierChange.objects.filter(review=review).count(), "twice": twice, "untiered": untiered,
}}))
"""

AGE_HEARTBEAT = """
from datetime import timedelta
from django.utils import timezone
from segmentation.models import TierReview
TierReview.objects.filter(pk={review_id}).update(heartbeat_at=timezone.now() - timedelta(minutes=11))
"""


def test_a_review_whose_worker_was_killed_resumes_and_applies_nothing_twice(
    private_postgres, app_database, private_redis, tmp_path
):
    env = app_env(
        tmp_path,
        DATABASE_URL=app_database,
        CELERY_BROKER_URL=private_redis.url(),
        CELERY_VISIBILITY_TIMEOUT="5",
        LOG_LEVEL="INFO",
    )
    # The review is queued (its message published) before any worker runs.
    review_id = int(manage(env, "shell", "-c", SETUP, timeout=600).stdout.strip().splitlines()[-1])

    def state() -> dict:
        return json.loads(
            manage(env, "shell", "-c", STATE.format(review_id=review_id)).stdout.strip().splitlines()[-1]
        )

    first = start_worker(env, tmp_path, name="first")
    try:
        killed_at = wait_until(
            lambda: (s := state())["done"] > 0 and s,
            timeout=300,
            interval=0.3,
            what="a first committed chunk",
        )
        first.kill(signal.SIGKILL)
        first.process.wait(timeout=30)
    finally:
        first.stop()
    after_kill = state()
    assert after_kill["status"] == "running", (killed_at, after_kill)
    assert 0 < after_kill["done"] < after_kill["total"] == ACCOUNTS
    # Every committed batch counted its changes with them; the chunk in progress at the kill may
    # have committed some batches, never a part of one.
    assert after_kill["changes"] == after_kill["applied"]
    assert after_kill["done"] <= after_kill["applied"] < after_kill["total"]
    assert (after_kill["applied"] - after_kill["done"]) % CANDIDATE_BATCH == 0

    # Nothing moves while no worker runs; ten minutes later the review counts as stale.
    manage(env, "shell", "-c", AGE_HEARTBEAT.format(review_id=review_id))
    second = start_worker(env, tmp_path, name="second")
    try:
        final = wait_until(
            lambda: (s := state())["status"] in ("finished", "failed") and s,
            timeout=300,
            interval=1,
            what="the review to be resumed and finished",
        )
    finally:
        second.stop()
    assert final["status"] == "finished", (final, second.output()[-3000:])
    assert final["done"] == final["total"] == ACCOUNTS
    assert final["attempts"] == 2
    # Every account got exactly one change from this review; the resumed run redid no chunk.
    assert final["twice"] == 0
    assert final["changes"] == final["applied"] == ACCOUNTS
    assert final["untiered"] == 0
    assert "segmentation.run_tier_review" in second.output()
