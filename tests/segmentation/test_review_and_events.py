"""A sync's re-evaluation while a tier review runs, for real: two threads, two connections.

The event re-evaluation goes to a queue of its own (``interactive``) that the review's chunk
tasks never fill. When both evaluate the same account, the evaluation begun later wins, in
either order of their writes: a review chunk that read an account before a sync changed it never
overwrites the re-evaluation that read the change.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from celery import current_app
from django.conf import settings
from django.db import connections

from accounts.models import Account
from accounts.services.sync import accounts_sync
from segmentation.models import AccountTierState, TierChange, TierReview
from segmentation.services import reviews
from segmentation.services.evaluation import tier_evaluate_accounts
from tests.factories import AccountFactory
from tests.segmentation.test_review_workers import _active_policy

WAIT = 30


def _queue_of(task_name: str) -> str:
    return current_app.amqp.router.route({}, task_name)["queue"].name


def test_event_reevaluation_goes_to_the_interactive_queue_and_review_chunks_do_not():
    assert _queue_of("segmentation.reevaluate_accounts") == settings.INTERACTIVE_QUEUE == "interactive"
    assert _queue_of("segmentation.compute_health_accounts") == "interactive"
    assert _queue_of("segmentation.run_tier_review") == "celery"
    assert _queue_of("segmentation.nightly_health") == "celery"
    # A worker started without -Q consumes both queues; the Procfile runs one that takes only
    # the interactive queue, so review chunks never occupy it.
    assert {queue.name for queue in current_app.conf.task_queues} == {"celery", "interactive"}


transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _tiered_account(acv: int) -> Account:
    _active_policy()
    account = AccountFactory(acv=Decimal(acv), crm_source="crm", external_id="A-1")
    tier_evaluate_accounts(account_ids=[account.pk])
    account.refresh_from_db()
    return account


def _sync_acv(acv: int) -> None:
    record = {"external_id": "A-1", "acv": Decimal(acv)}  # as the sync endpoint validated it
    result = accounts_sync(crm_source="crm", records=[(0, record)], actor=None)
    assert not result.failed, result.failed


def _in_thread(target: Any, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@transactional
def test_a_review_chunk_that_read_the_account_before_a_sync_does_not_overwrite_its_reevaluation(
    monkeypatch,
):
    account = _tiered_account(20000)
    assert account.tier_code == "MM2"
    Account.objects.filter(pk=account.pk).update(acv=Decimal(90000))  # the review will move it to ENT
    review = TierReview.objects.create(policy=_active_policy(), accounts_total=1)
    read, synced = threading.Event(), threading.Event()
    real_facts = reviews.candidate_facts

    def candidate_facts(*args: Any) -> Any:
        candidates = real_facts(*args)
        read.set()  # the chunk holds ACV 90000; now the CRM moves it back
        assert synced.wait(WAIT)
        return candidates

    monkeypatch.setattr(reviews, "candidate_facts", candidate_facts)
    errors: list[BaseException] = []
    worker = _in_thread(lambda: reviews.tier_review_run(review_id=review.pk), errors)
    try:
        assert read.wait(WAIT)
        _sync_acv(20000)  # commits; its re-evaluation runs on commit (eager) and commits too
    finally:
        synced.set()
    worker.join(WAIT)
    assert not worker.is_alive() and not errors, errors

    account.refresh_from_db()
    state = AccountTierState.objects.get(account=account)
    assert (account.acv, account.tier_code) == (Decimal(20000), "MM2")
    assert (state.evaluated_acv, state.policy_tier_code) == (Decimal(20000), "MM2")
    assert not TierChange.objects.filter(account=account, review=review).exists()
    review.refresh_from_db()
    assert (review.status, review.accounts_done, review.changes_applied) == ("finished", 1, 0)


@transactional
def test_a_sync_during_a_chunk_write_waits_for_its_commit_and_then_its_reevaluation_wins(monkeypatch):
    account = _tiered_account(20000)
    Account.objects.filter(pk=account.pk).update(acv=Decimal(90000))
    review = TierReview.objects.create(policy=_active_policy(), accounts_total=1)
    written, release = threading.Event(), threading.Event()
    real_evaluate = reviews.evaluate_batch

    def evaluate_batch(**kwargs: Any) -> Any:
        outcome = real_evaluate(**kwargs)
        written.set()  # the chunk wrote ENT and holds the account's row until it commits
        assert release.wait(WAIT)
        return outcome

    monkeypatch.setattr(reviews, "evaluate_batch", evaluate_batch)
    errors: list[BaseException] = []
    worker = _in_thread(lambda: reviews.tier_review_run(review_id=review.pk), errors)
    try:
        assert written.wait(WAIT)
        sync = _in_thread(lambda: _sync_acv(5000), errors)
        sync.join(0.5)
        assert sync.is_alive()  # waiting for the chunk's transaction, not overwriting under it
    finally:
        release.set()
    worker.join(WAIT)
    sync.join(WAIT)
    assert not worker.is_alive() and not sync.is_alive() and not errors, errors

    account.refresh_from_db()
    assert (account.acv, account.tier_code) == (Decimal(5000), "MM3")
    changes = list(TierChange.objects.filter(account=account).order_by("id").values_list("source", "to_code"))
    assert changes[-2:] == [("review", "ENT"), ("event", "MM3")]
    assert AccountTierState.objects.get(account=account).evaluated_acv == Decimal(5000)


def _pause_sync_holding_its_locks(
    monkeypatch: pytest.MonkeyPatch, held: threading.Event, release: threading.Event
):
    from accounts.services import sync as sync_module

    real = sync_module.roles_prefetch

    def roles_prefetch(*args: Any, **kwargs: Any) -> Any:
        held.set()  # called right after the sync locked its accounts
        assert release.wait(WAIT)
        return real(*args, **kwargs)

    monkeypatch.setattr(sync_module, "roles_prefetch", roles_prefetch)
    return lambda: _sync_acv(5000)


def _pause_review_holding_its_locks(
    monkeypatch: pytest.MonkeyPatch, held: threading.Event, release: threading.Event
):
    review = TierReview.objects.create(policy=_active_policy(), accounts_total=1)
    real = reviews.evaluate_batch

    def evaluate_batch(**kwargs: Any) -> Any:
        outcome = real(**kwargs)
        held.set()
        assert release.wait(WAIT)
        return outcome

    monkeypatch.setattr(reviews, "evaluate_batch", evaluate_batch)
    return lambda: reviews.tier_review_run(review_id=review.pk)


@transactional
@pytest.mark.parametrize("writer", [_pause_sync_holding_its_locks, _pause_review_holding_its_locks])
def test_a_row_referencing_an_account_another_writer_holds_commits_without_waiting(monkeypatch, writer):
    """Writers lock accounts ``FOR NO KEY UPDATE``: a transaction that only references an account
    (its foreign-key check takes ``FOR KEY SHARE``) never waits for them. Under ``FOR UPDATE`` it
    waited, and one that referenced several accounts out of id order deadlocked with a sync that
    locked them in id order (the load bench's one error)."""
    from django.db import connection, transaction

    from tests.engagement.factories import TaskFactory

    account = _tiered_account(20000)
    Account.objects.filter(pk=account.pk).update(acv=Decimal(90000))
    held, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    thread = _in_thread(writer(monkeypatch, held, release), errors)
    try:
        assert held.wait(WAIT)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the reference now
            task = TaskFactory(account=account)
        assert thread.is_alive()  # the writer still holds the account
    finally:
        release.set()
    thread.join(WAIT)
    assert not thread.is_alive() and not errors, errors
    assert task.account_id == account.pk and Account.objects.get(pk=account.pk).acv != Decimal(20000)
