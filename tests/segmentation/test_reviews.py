"""Reviews through the API and the service: chunks, hysteresis over consecutive reviews, crash
and resume, a racing override, one review at a time, summaries and query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from segmentation.account_metrics import AccountFacts
from segmentation.models import (
    AccountTierState,
    QuadrantSummary,
    TierChange,
    TierMigration,
    TierPolicy,
    TierReview,
    TierSummary,
)
from segmentation.services import evaluation, reviews
from segmentation.services.overrides import tier_override_request
from tests.factories import AccountFactory, ContactFactory, UsageSnapshotFactory
from tests.segmentation.factories import set_active_rules


def tiers(*accounts: Account) -> list[str]:
    return [Account.objects.get(pk=a.pk).tier_code for a in accounts]


def test_leadership_starts_a_review_and_polls_it(
    lena, token_client, account_with, django_capture_on_commit_callbacks
):
    big, small = account_with(80000), account_with(9000)
    client = token_client(lena)
    with django_capture_on_commit_callbacks(execute=True):  # the worker picks it up after commit
        response = client.post(reverse("api:tier-reviews-list"))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert set(body) == {
        "id",
        "status",
        "policy_version",
        "accounts_total",
        "accounts_done",
        "changes_applied",
        "changes_proposed",
        "started_at",
        "finished_at",
    }
    assert body["policy_version"] == 1 and body["accounts_total"] == 2
    polled = client.get(reverse("api:tier-reviews-detail", args=[body["id"]])).json()
    assert polled["status"] == "finished"
    assert (polled["accounts_done"], polled["changes_applied"]) == (2, 2)
    assert tiers(big, small) == ["ENT", "MM3"]


def test_integration_may_start_a_review(integration_client, db):
    assert integration_client.post(reverse("api:tier-reviews-list")).status_code == 202


@pytest.mark.parametrize("who", ["alice", "tom"])
def test_csms_and_aes_may_not_start_or_read_reviews(request, token_client, who):
    client = token_client(request.getfixturevalue(who))
    assert client.post(reverse("api:tier-reviews-list")).status_code == 403
    review = TierReview.objects.create(policy=TierPolicy.objects.get(status="active"))
    assert client.get(reverse("api:tier-reviews-detail", args=[review.pk])).status_code == 403


def test_a_read_only_token_may_not_start_a_review(lena, token_client):
    assert token_client(lena, read_only=True).post(reverse("api:tier-reviews-list")).status_code == 403


def test_anonymous_gets_401(api_client, db):
    assert api_client.post(reverse("api:tier-reviews-list")).status_code == 401


def test_starting_a_review_while_one_runs_answers_409_with_the_running_one(lena, token_client):
    running = TierReview.objects.create(
        policy=TierPolicy.objects.get(status="active"), status="running", heartbeat_at=timezone.now()
    )
    response = token_client(lena).post(reverse("api:tier-reviews-list"))
    assert response.status_code == 409
    assert response.json()["id"] == running.pk
    assert response.json()["status"] == "running"
    assert TierReview.objects.count() == 1


def test_a_second_review_without_changes_changes_nothing(run_review, account_with):
    accounts = [account_with(acv) for acv in (80000, 62000, 20000, 100, "15000.50")]
    first = run_review()
    assert first.changes_applied == 5
    explanations = [Account.objects.get(pk=a.pk).tier_explanation for a in accounts]
    second = run_review()
    assert (second.accounts_done, second.changes_applied) == (5, 0)
    assert [Account.objects.get(pk=a.pk).tier_explanation for a in accounts] == explanations
    assert TierChange.objects.count() == 5


def test_a_drop_inside_the_band_downgrades_at_the_second_consecutive_review(run_review, account_with):
    account = account_with(80000)
    run_review()
    Account.objects.filter(pk=account.pk).update(acv=Decimal("66000"))
    first = run_review()
    account.refresh_from_db()
    assert account.tier_code == "ENT"
    assert account.tier_explanation == (
        "ACV 66,000 ≥ 50,000 → Mid-Market Tier 1; ACV 66,000 within 10% below the Enterprise threshold of "
        "70,000 → stays Enterprise (downgrade held: 1 of 2 consecutive reviews)."
    )
    assert first.changes_applied == 0
    run_review()
    account.refresh_from_db()
    assert account.tier_code == "MM1"
    change = TierChange.objects.filter(account=account).first()
    assert (change.from_code, change.to_code, change.source) == ("ENT", "MM1", "review")
    assert change.explanation.endswith("downgrade indicated at 2 consecutive reviews → Mid-Market Tier 1.")


def test_a_recovered_acv_resets_the_consecutive_count(run_review, account_with):
    account = account_with(80000)
    run_review()
    Account.objects.filter(pk=account.pk).update(acv=Decimal("66000"))
    run_review()
    Account.objects.filter(pk=account.pk).update(acv=Decimal("71000"))
    run_review()
    assert AccountTierState.objects.get(account=account).pending_downgrade_reviews == 0
    Account.objects.filter(pk=account.pk).update(acv=Decimal("66000"))
    run_review()
    assert tiers(account) == ["ENT"]


def test_a_drop_beyond_the_band_downgrades_at_once(run_review, account_with):
    account = account_with(80000)
    run_review()
    Account.objects.filter(pk=account.pk).update(acv=Decimal("62999"))
    run_review()
    assert tiers(account) == ["MM1"]


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing in the worker gets to clean up."""


def _dies_in_second_chunk(monkeypatch):
    """The worker dies (SIGKILL) while it evaluates its second chunk, holding the chunk's lock."""
    real = reviews.candidate_facts
    calls = {"n": 0}

    def candidate_facts(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerDied
        return real(*args, **kwargs)

    monkeypatch.setattr(reviews, "candidate_facts", candidate_facts)
    return lambda: monkeypatch.setattr(reviews, "candidate_facts", real)


def test_a_review_whose_worker_died_in_a_chunk_is_finished_by_another_worker_nothing_twice(
    monkeypatch, account_with
):
    accounts = [account_with(acv) for acv in (80000, 60000, 20000, 5000, 75000, 51000)]
    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 2)
    review = TierReview.objects.create(policy=TierPolicy.objects.get(status="active"), accounts_total=6)
    revive = _dies_in_second_chunk(monkeypatch)
    with pytest.raises(WorkerDied):
        reviews.tier_review_run(review_id=review.pk)
    review.refresh_from_db()
    # The first chunk committed; the second rolled back with the dead worker's transaction.
    assert (review.status, review.accounts_done, review.changes_applied) == ("running", 2, 2)
    chunks = [(c.lower, c.upper, c.done_at is None) for c in review.chunks.all()]
    first_id = accounts[0].pk - 1
    assert chunks == [
        (first_id, first_id + 2, False),
        (first_id + 2, first_id + 4, True),
        (first_id + 4, first_id + 6, True),
    ]

    # Another worker (any delivery of the review's task) takes the chunks left, at once.
    revive()
    finished = reviews.tier_review_run(review_id=review.pk)
    assert finished is not None
    assert (finished.status, finished.accounts_done, finished.changes_applied, finished.attempts) == (
        "finished",
        6,
        6,
        1,
    )
    assert (
        list(
            TierChange.objects.filter(review=review)
            .values("account")
            .annotate(n=Count("id"))
            .values_list("n", flat=True)
        )
        == [1] * 6
    )
    assert tiers(*accounts) == ["ENT", "MM1", "MM2", "MM3", "ENT", "MM1"]
    assert TierSummary.objects.filter(review=review).count() == 4
    # A late delivery finds nothing to do.
    assert reviews.tier_review_run(review_id=review.pk) is None


def test_a_review_whose_workers_all_stopped_is_resumed_by_the_next_start(
    monkeypatch, account_with, time_machine, django_capture_on_commit_callbacks
):
    accounts = [account_with(acv) for acv in (80000, 60000, 20000, 5000)]
    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 2)
    review = TierReview.objects.create(policy=TierPolicy.objects.get(status="active"), accounts_total=4)
    revive = _dies_in_second_chunk(monkeypatch)
    with pytest.raises(WorkerDied):
        reviews.tier_review_run(review_id=review.pk)
    revive()

    # Ten minutes without a heartbeat: the next start resumes it (eager tasks run at once).
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(reviews.ReviewInProgress):
        reviews.tier_review_start()
    review.refresh_from_db()
    assert (review.status, review.accounts_done, review.changes_applied, review.attempts) == (
        "finished",
        4,
        4,
        2,
    )
    assert TierChange.objects.filter(review=review).count() == 4
    assert tiers(*accounts) == ["ENT", "MM1", "MM2", "MM3"]


def test_a_review_that_keeps_dying_is_marked_failed(db, time_machine):
    review = TierReview.objects.create(
        policy=TierPolicy.objects.get(status="active"),
        status="running",
        attempts=3,
        heartbeat_at=timezone.now(),
    )
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=11))
    reviews.tier_review_recover_stale()
    review.refresh_from_db()
    assert review.status == "failed" and review.is_open is None
    assert "stopped 3 times" in review.error


def test_an_override_racing_a_review_wins_and_nothing_is_lost(monkeypatch, lena, run_review, account_with):
    raced, other = account_with(62000), account_with(20000)
    run_review()
    Account.objects.filter(pk__in=[raced.pk, other.pk]).update(acv=Decimal("90000"))
    real_signals_for = evaluation.signals_for
    state = {"raced": False}

    def override_arrives_mid_chunk(*args, **kwargs):
        # The review has read the accounts; a leader overrides one before it writes.
        if not state["raced"]:
            state["raced"] = True
            tier_override_request(
                account=raced, by=lena, tier_code="MM2", reason="at_risk", note="Escalation open with legal"
            )
        return real_signals_for(*args, **kwargs)

    monkeypatch.setattr(evaluation, "signals_for", override_arrives_mid_chunk)
    review = run_review()
    raced.refresh_from_db()
    assert (raced.tier_code, raced.tier_source) == ("MM2", "override")
    assert raced.tier_explanation.startswith("Overridden to MM2 by lena until ")
    assert not TierChange.objects.filter(review=review, account=raced).exists()
    assert TierChange.objects.filter(account=raced, source="override", to_code="MM2").count() == 1
    assert tiers(other) == ["ENT"]
    assert review.status == "finished" and review.changes_applied == 1


def test_reviews_write_summary_tables(run_review, account_with):
    a, b, c = account_with(80000), account_with(60000), account_with(60000)
    run_review()
    Account.objects.filter(pk=c.pk).update(acv=Decimal("75000"))
    review = run_review()
    summary = {s.tier_code: (s.accounts, s.acv_sum) for s in TierSummary.objects.filter(review=review)}
    assert summary == {"ENT": (2, Decimal("155000")), "MM1": (1, Decimal("60000"))}
    assert [(m.from_code, m.to_code, m.accounts) for m in TierMigration.objects.filter(review=review)] == [
        ("MM1", "ENT", 1)
    ]
    quadrants = {q.quadrant: q.accounts for q in QuadrantSummary.objects.filter(review=review)}
    assert quadrants == {"high_revenue_low_cost": 3}
    del a, b


def test_a_chunk_with_rules_reads_signals_in_a_fixed_number_of_queries(django_assert_max_num_queries, db):
    set_active_rules(
        [
            {
                "name": "Sponsor floor",
                "when": [{"signal": "has_executive_sponsor", "op": "==", "value": True}],
                "effect": {"type": "floor", "tier": "MM2"},
            },
            {
                "name": "Growth",
                "when": [{"signal": "active_users_trend_90d", "op": ">=", "value": 30}],
                "effect": {"type": "promote", "ranks": 1},
            },
        ]
    )
    policy = evaluation.active_policy_snapshot()
    today = timezone.localdate()

    def chunk(n: int) -> list[AccountFacts]:
        created = AccountFactory.create_batch(n, acv=Decimal("9000"))
        for account in created:
            ContactFactory(account=account, is_executive=True)
            UsageSnapshotFactory(
                account=account, period_start=today - dt.timedelta(days=100), active_users=10
            )
            UsageSnapshotFactory(account=account, period_start=today - dt.timedelta(days=3), active_users=20)
        return evaluation.load_facts([a.pk for a in created])

    for size in (5, 60):
        facts = chunk(size)
        # states, overrides, proposals, usage, contacts, the accounts' row locks, evaluations begun
        # since, account update, state upsert, change insert, and whether a webhook endpoint
        # listens for tier changes
        with django_assert_max_num_queries(13):
            outcome = evaluation.evaluate_batch(policy=policy, facts=facts, source="review", review_id=None)
        assert outcome.applied == size
    assert set(Account.objects.values_list("tier_code", flat=True)) == {"MM1"}


def test_a_large_batch_is_written_in_bulk_with_the_same_outcome(run_review, db):
    # 250 accounts: above the size where PostgreSQL writes through COPY and a staging table.
    AccountFactory.create_batch(125, acv=Decimal("80000"))
    AccountFactory.create_batch(125, acv=Decimal("12000"))
    review = run_review()
    assert (review.accounts_done, review.changes_applied) == (250, 250)
    assert dict(Account.objects.values_list("tier_code").annotate(n=Count("id"))) == {"ENT": 125, "MM3": 125}
    change = TierChange.objects.filter(account__acv=Decimal("12000")).first()
    assert (change.from_code, change.to_code, change.explanation) == (
        "",
        "MM3",
        "ACV 12,000 < 15,000 → Mid-Market Tier 3.",
    )
    assert change.steps[0]["effect"] == {"type": "base", "to": "MM3", "threshold": "0.00"}
    assert change.steps[0]["inputs"] == {"acv": "12000.00"}
    assert AccountTierState.objects.filter(policy_tier_code="ENT").count() == 125
    assert run_review().changes_applied == 0


def test_a_review_refreshes_the_tier_change_statistics_as_it_proposes(run_review, account_with, monkeypatch):
    """Pages that read proposals (the worklist) plan with the statistics: a review proposing faster
    than autovacuum analyses must not leave the planner believing no proposal waits. Applied
    changes alone do not make it analyse (nothing reads them by status)."""
    from django.db import connection

    def estimated_changes() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'segmentation_tierchange'")
            return cursor.fetchone()[0]

    monkeypatch.setattr(reviews, "SQL_CHUNK_IDS", 2)
    monkeypatch.setattr(reviews, "ANALYZE_CHANGES_EVERY", 3)
    before = estimated_changes()
    accounts = [account_with(acv) for acv in (80000, 62000, 20000, 100, 15000)]
    assert run_review().changes_applied == 5
    # Five applied changes, none proposed: the statistics were not refreshed.
    assert before <= 0 and estimated_changes() <= 0
    set_active_rules([], apply_mode="propose")
    for account, acv in zip(accounts, (100, 100, 100, 80000, 80000), strict=True):
        Account.objects.filter(pk=account.pk).update(acv=acv)
    review = run_review()
    assert review.changes_proposed == 5
    # Chunks of two accounts: refreshed once 3 proposals were written (4 then), with the 5 applied.
    assert estimated_changes() >= 9


def test_tier_moves_count_each_account_from_its_first_change_to_its_last(db):
    from segmentation.queries.summaries import tier_move_account_ids, tier_moves_since

    twice, back_and_forth, once, proposed = (AccountFactory(acv=Decimal(v)) for v in (1, 2, 3, 4))

    def change(account: Account, from_code: str, to_code: str, **extra: object) -> int:
        fields = {"source": "event", "status": "applied", "applied_at": timezone.now(), **extra}
        if fields["status"] != "applied":
            fields["applied_at"] = None
        return TierChange.objects.create(
            account=account,
            from_code=from_code,
            to_code=to_code,
            to_name=to_code,
            to_rank=1,
            explanation="moved",
            **fields,
        ).pk

    before = change(once, "", "MM2", source="initial")  # the initial tiering is not a move
    change(twice, "MM3", "MM2")
    change(back_and_forth, "MM1", "ENT")
    change(once, "MM2", "MM1")
    change(twice, "MM2", "MM1")
    change(proposed, "MM2", "ENT", status="proposed")  # not applied: not a move
    last = change(back_and_forth, "ENT", "MM1")

    moves = {(f, t): (n, acv) for f, t, n, acv in tier_moves_since(after_change_id=before)}
    assert moves == {("MM3", "MM1"): (1, Decimal(1)), ("MM2", "MM1"): (1, Decimal(3))}
    assert tier_move_account_ids(
        after_change_id=before, upto_change_id=last, from_code="MM3", to_code="MM1"
    ) == [twice.pk]
    assert tier_moves_since(after_change_id=last) == []
