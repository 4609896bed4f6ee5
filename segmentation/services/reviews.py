"""Tier reviews: one run of the active policy over every account, in primary-key chunks that any
number of workers evaluate at once.

The first worker plans the chunks (``TierReviewChunk``); every worker then holds a chunk nobody
holds (a session advisory lock on its id), evaluates it and commits its tier writes and
TierChanges in batches, each with the chunk's and the review's counters, the chunk's ``done_at``
with the last, until no chunk is left. A worker that dies releases its chunk with its
connection, and another takes it over from its last committed batch; nothing is applied twice.
The worker that commits the last chunk writes the summaries and closes the review. Only one
review is open at a time (a partial unique constraint on ``is_open``).

A chunk first asks SQL which accounts could change at all, and only those are evaluated in
Python: under a policy without rules, those not evaluated since by this policy and engine at
their current ACV, or touched since, or held by hysteresis, a proposal or an override
(``queries.reviews``); under a policy with rules, also those whose signals, computed for the
whole chunk in one statement, give another evaluation key than the one kept
(``queries.rule_signals``, ``rule_inputs``). A policy whose rules read signals SQL does not
compute is evaluated in Python for every account.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, reset_queries, transaction
from django.db.models import F, Max, Min, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import Account
from csplatform.dispatch import enqueue
from csplatform.queries import commit_without_flush_wait

from ..account_metrics import ACCOUNT_FACT_FIELDS, AccountFacts
from ..engine import PolicySnapshot
from ..models import (
    ChangeSource,
    PolicyStatus,
    ReviewStatus,
    ReviewTrigger,
    TierChange,
    TierPolicy,
    TierReview,
    TierReviewChunk,
)
from ..queries import bulk_writes as bulk_writes_sql
from ..queries import evaluation as evaluation_sql
from ..queries import reviews as reviews_sql
from ..queries import rule_signals as rule_signals_sql
from ..rule_inputs import compiles_to_sql
from ..signals import review_failed, review_finished
from .evaluation import BatchOutcome, evaluate_batch
from .summaries import review_summaries_write

if TYPE_CHECKING:
    from csplatform.models import User

logger = logging.getLogger(__name__)

# Accounts per chunk. ACV-only chunks scan 50k accounts in one statement and evaluate the few
# that may change (a few hundred ms per chunk); rule chunks aggregate 20k accounts' usage (about
# 350k rows) in one statement; Python chunks hold 5k accounts and their usage rows (a few MB).
# Candidates are evaluated and committed at most CANDIDATE_BATCH at a time: a chunk where
# everything changes (a first review, a new policy) stays within ~100 MB, and the accounts a batch
# writes are locked for a fraction of a second. (At 10,000 a batch held its accounts 2-3 s under
# load, and half of the 50-record syncs of the load bench met one of them. At 2,500 the syncs
# of the load bench that met a batch still waited up to 3.3 s (p95 1.9 s); at 1,000, p95 0.7 s,
# p99 1.0 s, while the rules review took as long as at 2,500, in half the memory.)
SQL_CHUNK_IDS = 50_000
RULES_CHUNK_IDS = 10_000
PYTHON_CHUNK_IDS = 5_000
CANDIDATE_BATCH = 1_000
# A running review whose worker has not reported for this long is presumed dead.
STALE_AFTER = dt.timedelta(minutes=10)
# A review is resumed at most this many times; then it is marked failed.
MAX_ATTEMPTS = 3
# A worker refreshes the tier-change table's statistics each time it has proposed this many changes
# (``bulk_writes.tier_changes_analyze``): pages that read proposals keep their plans mid-review.
# Applied changes do not count: no read filters on them, and an ANALYZE of a million-row table
# costs about 0.7 s.
ANALYZE_CHANGES_EVERY = 20_000


class ReviewInProgress(Exception):
    """Another review is queued or running; ``review`` is that one."""

    def __init__(self, review: TierReview) -> None:
        super().__init__(f"Tier review #{review.pk} is {review.status}.")
        self.review = review


def open_review() -> TierReview | None:
    return TierReview.objects.filter(is_open=True).select_related("policy").first()


def tier_review_start(*, requested_by: User | None = None, trigger: str = ReviewTrigger.MANUAL) -> TierReview:
    """Queue a review of all accounts under the active policy; its tasks start on commit.

    Raises ReviewInProgress with the open review if one is queued or running (a stale one is
    resumed or failed first, see ``tier_review_recover_stale``).
    """
    tier_review_recover_stale()
    policy = TierPolicy.objects.get(status=PolicyStatus.ACTIVE)
    try:
        with transaction.atomic():
            review = TierReview.objects.create(
                policy=policy,
                trigger=trigger,
                requested_by=requested_by if getattr(requested_by, "pk", None) else None,
                accounts_total=Account.objects.count(),
            )
            _enqueue_workers(review.pk)
    except IntegrityError:
        running = open_review()
        if running is None:  # it finished between the insert and this read: try once more
            return tier_review_start(requested_by=requested_by, trigger=trigger)
        raise ReviewInProgress(running) from None
    return review


def _enqueue_workers(review_id: int) -> None:
    """TIER_REVIEW_TASKS tasks for the review: each works on it until no chunk is left."""
    from ..jobs import run_tier_review

    for _ in range(max(1, settings.TIER_REVIEW_TASKS)):
        enqueue(run_tier_review, review_id=review_id)


def tier_review_recover_stale(*, now: dt.datetime | None = None) -> TierReview | None:
    """Resume (re-enqueue) an open review whose workers stopped reporting, or fail it after
    MAX_ATTEMPTS. Returns the stale review, if any."""
    now = now or timezone.now()
    stale = (
        TierReview.objects.filter(is_open=True)
        .filter(
            Q(status=ReviewStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
            | Q(status=ReviewStatus.QUEUED, created_at__lt=now - STALE_AFTER)
        )
        .first()
    )
    if stale is None:
        return None
    if stale.attempts >= MAX_ATTEMPTS:
        _fail(
            stale.pk,
            f"The workers stopped {stale.attempts} times; "
            f"{stale.accounts_done:,} of {stale.accounts_total:,} accounts were reviewed.",
        )
        stale.refresh_from_db()
        return stale
    with transaction.atomic():
        _enqueue_workers(stale.pk)
    return stale


def _fail(review_id: int, error: str) -> None:
    """Mark the review failed, once: the worker that marks it tells the follow-ups."""
    with transaction.atomic():
        failed = TierReview.objects.filter(pk=review_id, is_open=True).update(
            status=ReviewStatus.FAILED, is_open=None, finished_at=timezone.now(), error=error[:4000]
        )
        if failed:
            review_failed.send(sender=TierReview, review_id=review_id)


@dataclass
class ChunkPlan:
    policy: PolicySnapshot
    # "acv": no rules, the ACV pre-filter; "rules": rules computed in SQL, the key pre-filter;
    # "python": every account evaluated in Python.
    mode: str
    chunk_ids: int


def chunk_plan(policy: PolicySnapshot) -> ChunkPlan:
    if not policy.rules:
        return ChunkPlan(policy, "acv", SQL_CHUNK_IDS)
    if compiles_to_sql(policy.rules):
        return ChunkPlan(policy, "rules", RULES_CHUNK_IDS)
    return ChunkPlan(policy, "python", PYTHON_CHUNK_IDS)


def _join(review_id: int, plan_for: Callable[[TierReview], ChunkPlan]) -> TierReview | None:
    """Start the review (plan its chunks), resume it (its workers stopped reporting) or join it;
    None when it is no longer open."""
    now = timezone.now()
    with transaction.atomic():
        review = TierReview.objects.select_for_update().filter(pk=review_id, is_open=True).first()
        if review is None:
            return None
        if review.status == ReviewStatus.QUEUED:
            _plan_chunks(review, plan_for(review).chunk_ids)
            review.status, review.started_at = ReviewStatus.RUNNING, review.started_at or now
            review.attempts += 1
        elif review.heartbeat_at is None or review.heartbeat_at < now - STALE_AFTER:
            review.attempts += 1  # its workers stopped: this one resumes it
        review.heartbeat_at = now
        review.save(update_fields=["status", "started_at", "attempts", "heartbeat_at"])
    return review


def _plan_chunks(review: TierReview, chunk_ids: int) -> None:
    bounds = Account.objects.aggregate(low=Min("id"), top=Max("id"))
    if bounds["top"] is None:
        return
    lower, top = bounds["low"] - 1, bounds["top"]
    TierReviewChunk.objects.bulk_create(
        TierReviewChunk(review=review, lower=low, upper=min(low + chunk_ids, top))
        for low in range(lower, top, chunk_ids)
    )


def tier_review_run(*, review_id: int, today: dt.date | None = None) -> TierReview | None:
    """Work on a review beside any number of other workers: claim a chunk nobody holds, evaluate
    and commit it, until none is left. Returns the review when this worker finished it (it
    committed the last chunk, or found them all done), None otherwise. Safe to call any number of
    times, from any number of processes."""
    plans: dict[int, ChunkPlan] = {}

    def plan_for(review: TierReview) -> ChunkPlan:
        if review.policy_id not in plans:
            policy = TierPolicy.objects.prefetch_related("tiers").get(pk=review.policy_id)
            plans[review.policy_id] = chunk_plan(PolicySnapshot.from_policy(policy))
        return plans[review.policy_id]

    review = _join(review_id, plan_for)
    if review is None:
        return None
    plan = plan_for(review)
    today = today or timezone.localdate()
    try:
        proposed = 0
        while (chunk_proposed := _run_next_chunk(review_id, plan, today)) is not None:
            proposed += chunk_proposed
            if proposed >= ANALYZE_CHANGES_EVERY:
                bulk_writes_sql.tier_changes_analyze()
                proposed = 0
        return _finish_when_done(review_id, today)
    except Exception as exc:
        logger.exception("tier review %s failed", review_id)
        _fail(review_id, f"{type(exc).__name__}: {exc}")
        raise


def _run_next_chunk(review_id: int, plan: ChunkPlan, today: dt.date) -> int | None:
    """Hold, evaluate and commit one chunk: the changes it proposed; None when no chunk is left
    to hold."""
    reset_queries()  # with DEBUG on (embedded mode), a long review must not keep every query
    chunk = _hold_next_chunk(review_id)
    if chunk is None:
        return None
    try:
        return _run_chunk(review_id, chunk, plan, today)
    finally:
        reviews_sql.review_chunk_release(chunk_id=chunk.pk)


def _hold_next_chunk(review_id: int) -> TierReviewChunk | None:
    """The first chunk of the review that no worker holds or finished, now held by this one."""
    waiting = list(
        TierReviewChunk.objects.filter(
            review_id=review_id, done_at__isnull=True, review__status=ReviewStatus.RUNNING
        )
        .order_by("lower")
        .values_list("pk", flat=True)
    )
    for chunk_id in waiting:
        if not reviews_sql.review_chunk_try_hold(chunk_id=chunk_id):
            continue
        # Another worker may have finished it between the read and the hold.
        chunk = TierReviewChunk.objects.filter(pk=chunk_id, done_at__isnull=True).first()
        if chunk is not None:
            return chunk
        reviews_sql.review_chunk_release(chunk_id=chunk_id)
    return None


def _run_chunk(review_id: int, chunk: TierReviewChunk, plan: ChunkPlan, today: dt.date) -> int:
    """Evaluate a held chunk's candidates and commit them CANDIDATE_BATCH at a time, each batch
    with its counters, ``done_at`` with the last: the accounts a batch writes stay locked for that
    batch's writes only, not for the whole chunk (a sync or an override of one of them waits a
    second, not the chunk's half-minute). A worker that takes over an interrupted chunk reads its
    candidates again, and the pre-filter leaves out what the committed batches evaluated."""
    with transaction.atomic():
        read_at = evaluation_sql.facts_read_at()
        candidates = candidate_facts(plan, chunk.lower, chunk.upper, today)
    facts = candidates.facts
    batches = [facts[start : start + CANDIDATE_BATCH] for start in range(0, len(facts), CANDIDATE_BATCH)]
    proposed = 0
    for number, batch in enumerate(batches or [[]], start=1):
        with transaction.atomic():
            commit_without_flush_wait()
            outcome = evaluate_batch(
                policy=plan.policy,
                facts=batch,
                source=ChangeSource.REVIEW,
                review_id=review_id,
                today=today,
                signals=candidates.signals,
                evaluation_keys=candidates.keys,
                read_at=read_at,
            )
            last = number >= len(batches)
            _count_batch(review_id, chunk, outcome, total=candidates.total if last else None)
        proposed += outcome.proposed
    return proposed


def _count_batch(review_id: int, chunk: TierReviewChunk, outcome: BatchOutcome, *, total: int | None) -> None:
    """Add a committed batch to its chunk's and its review's counters; ``total`` (the accounts in
    the chunk's range) with the chunk's last batch, which marks the chunk done."""
    now = timezone.now()
    chunk_done: dict[str, Any] = {} if total is None else {"done_at": now, "accounts_done": total}
    TierReviewChunk.objects.filter(pk=chunk.pk).update(
        evaluated=F("evaluated") + outcome.evaluated,
        changes_applied=F("changes_applied") + outcome.applied,
        changes_proposed=F("changes_proposed") + outcome.proposed,
        **chunk_done,
    )
    review_done: dict[str, Any] = (
        {}
        if total is None
        else {
            "last_account_id": Greatest(F("last_account_id"), chunk.upper),
            "accounts_done": F("accounts_done") + total,
        }
    )
    # Last, so the review's row stays locked only for the commit.
    TierReview.objects.filter(pk=review_id).update(
        changes_applied=F("changes_applied") + outcome.applied,
        changes_proposed=F("changes_proposed") + outcome.proposed,
        heartbeat_at=now,
        **review_done,
    )


def _finish_when_done(review_id: int, today: dt.date) -> TierReview | None:
    """Write the summaries and close the review once every chunk is committed; the review's row
    lock makes that happen once, whichever worker gets here first."""
    with transaction.atomic():
        review = (
            TierReview.objects.select_for_update().filter(pk=review_id, status=ReviewStatus.RUNNING).first()
        )
        if (
            review is None
            or TierReviewChunk.objects.filter(review_id=review_id, done_at__isnull=True).exists()
        ):
            return None
        review_summaries_write(review_id=review_id, today=today)
        now = timezone.now()
        TierReview.objects.filter(pk=review_id).update(
            status=ReviewStatus.FINISHED,
            is_open=None,
            finished_at=now,
            heartbeat_at=now,
            last_change_id=TierChange.objects.aggregate(top=Max("id"))["top"] or 0,
        )
        review_finished.send(sender=TierReview, review_id=review_id)
    return TierReview.objects.get(pk=review_id)


@dataclass
class ChunkCandidates:
    """What a chunk must evaluate: ``total`` accounts in its range, the ``facts`` of those whose
    outcome may have moved, and, when SQL computed them, their signals and evaluation keys."""

    total: int
    facts: list[AccountFacts]
    signals: dict[int, dict[str, Any]] | None = None
    keys: dict[int, list[Any]] | None = None


def candidate_facts(plan: ChunkPlan, lower: int, upper: int, today: dt.date) -> ChunkCandidates:
    """The accounts of ``lower < id <= upper`` a review must evaluate.

    ``queries.reviews`` and ``queries.rule_signals`` skip the accounts evaluated since by this very
    policy and engine at their current ACV (and, under rules, with the same evaluation key), and
    untouched since; only the others are read into Python."""
    if plan.mode == "acv":
        total, rows = reviews_sql.review_candidates(
            lower=lower, upper=upper, fingerprint=plan.policy.fingerprint, fields=ACCOUNT_FACT_FIELDS
        )
        return ChunkCandidates(total, [AccountFacts(*row) for row in rows])
    if plan.mode == "rules":
        rows, signals, keys = rule_signals_sql.rule_review_candidates(
            lower=lower,
            upper=upper,
            fingerprint=plan.policy.fingerprint,
            rules=plan.policy.rules,
            today=today,
            fields=ACCOUNT_FACT_FIELDS,
        )
        total = rule_signals_sql.accounts_in_range(lower=lower, upper=upper)
        return ChunkCandidates(total, [AccountFacts(*row) for row in rows], signals, keys)
    chunk = (
        Account.objects.filter(id__gt=lower, id__lte=upper).order_by("id").values_list(*ACCOUNT_FACT_FIELDS)
    )
    facts = [AccountFacts(*row) for row in chunk]
    return ChunkCandidates(len(facts), facts)
