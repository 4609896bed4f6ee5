"""Several workers on one review, for real: threads and a process against PostgreSQL.

Each chunk is held under a session advisory lock while it is evaluated, so concurrent workers
never evaluate the same chunk; a chunk commits its writes in batches, so the accounts of a
committed batch are free while the next is evaluated; a worker killed in a chunk (before its
first batch or between two) releases it with its connection, another worker finishes the
review from the last committed batch, and no account gets two changes.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection, connections
from django.db.models import Count

from accounts.models import Account
from segmentation.models import TierChange, TierPolicy, TierReview, TierReviewChunk
from segmentation.services import reviews
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parents[2]
ACVS = (80000, 60000, 20000, 5000, 75000, 51000, 16000, 900, 70000, 49999, 15000, 120000)
EXPECTED = ["ENT", "MM1", "MM2", "MM3", "ENT", "MM1", "MM2", "MM3", "ENT", "MM2", "MM2", "ENT"]


def _accounts() -> list[Account]:
    return [AccountFactory(acv=Decimal(acv)) for acv in ACVS]


def _active_policy() -> TierPolicy:
    # A transactional test that ran before this one may have flushed what the migrations created.
    if not TierPolicy.objects.filter(status="active").exists():
        migration = importlib.import_module("segmentation.migrations.0002_default_policy")
        migration.create_default_policy(django_apps, None)
    return TierPolicy.objects.get(status="active")


def _review() -> TierReview:
    return TierReview.objects.create(policy=_active_policy(), accounts_total=len(ACVS))


def _worker_process(script: str, review: TierReview) -> subprocess.Popen[str]:
    """A worker process running ``script`` on the test's database, its stdout piped."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "csplatform.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-c", script, str(review.pk)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def _finish_once_released(review: TierReview) -> TierReview:
    """Run the review in this process until it finishes: PostgreSQL releases a killed worker's
    chunk when it notices the connection is gone, a moment after the kill."""
    for _ in range(50):
        finished = reviews.tier_review_run(review_id=review.pk)
        if finished is not None:
            return finished
        time.sleep(0.1)
    raise AssertionError("the review did not finish after the worker was killed")


def _changes_per_account(review: TierReview) -> list[int]:
    return list(
        TierChange.objects.filter(review=review)
        .values("account")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )


def test_three_workers_at_once_split_the_chunks_and_evaluate_none_twice(monkeypatch):
    accounts = _accounts()
    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 2)
    review = _review()
    real_facts, real_summaries = reviews.candidate_facts, reviews.review_summaries_write
    guard = threading.Lock()
    in_flight: set[int] = set()
    evaluated: list[tuple[str, int]] = []
    overlaps: list[int] = []
    summaries: list[str] = []

    def candidate_facts(plan: Any, lower: int, upper: int, today: Any) -> Any:
        with guard:
            if lower in in_flight:
                overlaps.append(lower)
            in_flight.add(lower)
            evaluated.append((threading.current_thread().name, lower))
        time.sleep(0.3)  # long enough for the other workers to try the same chunk
        try:
            return real_facts(plan, lower, upper, today)
        finally:
            with guard:
                in_flight.discard(lower)

    def review_summaries_write(**kwargs: Any) -> None:
        summaries.append(threading.current_thread().name)
        real_summaries(**kwargs)

    monkeypatch.setattr(reviews, "candidate_facts", candidate_facts)
    monkeypatch.setattr(reviews, "review_summaries_write", review_summaries_write)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            reviews.tier_review_run(review_id=review.pk)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=work, name=f"worker-{n}") for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors

    lowers = [lower for _, lower in evaluated]
    assert overlaps == []
    assert sorted(lowers) == sorted(set(lowers)) and len(lowers) == 6  # each chunk once
    assert len({name for name, _ in evaluated}) >= 2  # the work was shared
    assert len(summaries) == 1  # written once, by the worker that finished
    review.refresh_from_db()
    assert (review.status, review.accounts_done, review.changes_applied, review.attempts) == (
        "finished",
        12,
        12,
        1,
    )
    assert _changes_per_account(review) == [1] * 12
    assert [Account.objects.get(pk=a.pk).tier_code for a in accounts] == EXPECTED


CHILD = """
import os, sys, time
import django
django.setup()
from segmentation.services import reviews
reviews.SQL_CHUNK_IDS = 2
real = reviews.candidate_facts
calls = {"n": 0}
def candidate_facts(*args, **kwargs):
    calls["n"] += 1
    if calls["n"] == 2:
        print("holding", flush=True)
        time.sleep(600)
    return real(*args, **kwargs)
reviews.candidate_facts = candidate_facts
reviews.tier_review_run(review_id=int(sys.argv[1]))
"""


def test_a_worker_process_killed_in_a_chunk_releases_it_and_another_finishes_nothing_twice(monkeypatch):
    accounts = _accounts()
    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 2)
    review = _review()
    child = _worker_process(CHILD, review)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "holding"  # it committed one chunk, holds the second
        held = TierReviewChunk.objects.filter(review=review).order_by("lower")[1]

        # Meanwhile this worker takes every other chunk, never the held one, and cannot finish.
        assert reviews.tier_review_run(review_id=review.pk) is None
        assert list(TierReviewChunk.objects.filter(review=review, done_at__isnull=True)) == [held]

        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    # PostgreSQL rolled the dead worker's transaction back and released its chunk.
    finished = _finish_once_released(review)
    assert (finished.status, finished.accounts_done, finished.changes_applied) == ("finished", 12, 12)
    assert _changes_per_account(review) == [1] * 12
    assert [Account.objects.get(pk=a.pk).tier_code for a in accounts] == EXPECTED


def test_a_committed_batch_frees_its_accounts_while_the_chunk_goes_on(monkeypatch):
    accounts = _accounts()
    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 100)  # one chunk for the 12 accounts
    monkeypatch.setattr(reviews, "CANDIDATE_BATCH", 4)
    review = _review()
    real_evaluate = reviews.evaluate_batch
    seen_from_outside: list[tuple[str, str]] = []

    def evaluate_batch(**kwargs: Any) -> Any:
        if kwargs["facts"] and kwargs["facts"][0].id == accounts[4].pk:  # the second batch
            first = accounts[0].pk
            outcome: list[Any] = []

            def sync_meanwhile() -> None:
                # What a sync of an account of the first batch does: lock it, without waiting.
                try:
                    with connections["default"].cursor() as cursor:
                        cursor.execute("BEGIN")
                        cursor.execute(
                            "SELECT tier_code FROM accounts_account WHERE id = %s FOR UPDATE NOWAIT", [first]
                        )
                        outcome.append(("locked", cursor.fetchone()[0]))
                        cursor.execute("ROLLBACK")
                except Exception as exc:  # reported in the test's thread
                    outcome.append(("blocked", type(exc).__name__))
                finally:
                    connections.close_all()

            thread = threading.Thread(target=sync_meanwhile)
            thread.start()
            thread.join(timeout=30)
            seen_from_outside.extend(outcome)
        return real_evaluate(**kwargs)

    monkeypatch.setattr(reviews, "evaluate_batch", evaluate_batch)
    finished = reviews.tier_review_run(review_id=review.pk)

    # The first batch's account was free and already held its new tier, committed.
    assert seen_from_outside == [("locked", EXPECTED[0])]
    assert finished is not None
    chunk = TierReviewChunk.objects.get(review=review)
    assert (chunk.accounts_done, chunk.evaluated, chunk.changes_applied) == (12, 12, 12)
    assert (finished.accounts_done, finished.changes_applied) == (12, 12)
    assert _changes_per_account(review) == [1] * 12


CHILD_BETWEEN_BATCHES = """
import sys, time
import django
django.setup()
from segmentation.services import reviews
reviews.SQL_CHUNK_IDS = 100
reviews.CANDIDATE_BATCH = 4
real = reviews.evaluate_batch
calls = {"n": 0}
def evaluate_batch(**kwargs):
    calls["n"] += 1
    if calls["n"] == 2:  # the first batch is committed; die before the second writes anything
        print("holding", flush=True)
        time.sleep(600)
    return real(**kwargs)
reviews.evaluate_batch = evaluate_batch
reviews.tier_review_run(review_id=int(sys.argv[1]))
"""


def test_a_worker_killed_between_batches_leaves_the_rest_of_its_chunk_to_another(monkeypatch):
    accounts = _accounts()
    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 100)
    monkeypatch.setattr(reviews, "CANDIDATE_BATCH", 4)
    review = _review()
    child = _worker_process(CHILD_BETWEEN_BATCHES, review)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "holding"
        # The first batch is committed with its counters; the chunk is held, not done.
        chunk = TierReviewChunk.objects.get(review=review)
        assert (chunk.done_at, chunk.evaluated, chunk.changes_applied) == (None, 4, 4)
        assert [Account.objects.get(pk=a.pk).tier_code for a in accounts[:4]] == EXPECTED[:4]
        assert reviews.tier_review_run(review_id=review.pk) is None  # held: this worker skips it

        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    finished = _finish_once_released(review)
    chunk.refresh_from_db()
    # The taker-over evaluated only the 8 the dead worker had not committed.
    assert (chunk.accounts_done, chunk.evaluated, chunk.changes_applied) == (12, 12, 12)
    assert (finished.status, finished.accounts_done, finished.changes_applied) == ("finished", 12, 12)
    assert _changes_per_account(review) == [1] * 12
    assert [Account.objects.get(pk=a.pk).tier_code for a in accounts] == EXPECTED
