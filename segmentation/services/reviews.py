"""Tier reviews: one run of the active policy over every account, in primary-key chunks.

Each chunk commits its tier writes, its TierChanges and the review's progress together, so a
review whose worker died resumes after the last committed chunk and applies nothing twice. Only
one review is open at a time (a partial unique constraint on ``TierReview.is_open``).

When the policy has no signal rules, a chunk first asks SQL which accounts could change at all:
those not evaluated since by this policy and engine at their current ACV, or touched since, or
held by hysteresis, a proposal or an override (``queries.reviews``); only those few are evaluated
in Python.
Policies with rules evaluate every account of a chunk in Python, with signals fetched per chunk in
a handful of queries.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, reset_queries, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Account
from csplatform.dispatch import enqueue

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
)
from ..queries import reviews as reviews_sql
from .evaluation import evaluate_batch, load_facts
from .summaries import review_summaries_write

if TYPE_CHECKING:
    from csplatform.models import User

logger = logging.getLogger(__name__)

# Accounts per chunk. SQL-filtered chunks scan 50k accounts in one statement and evaluate the
# few that may change (a few hundred ms per chunk); Python chunks hold 5k accounts and their usage
# rows (a few MB). Candidates are evaluated at most CANDIDATE_BATCH at a time, so a chunk where
# everything changes (a first review, a new policy) stays within ~100 MB.
SQL_CHUNK_IDS = 50_000
PYTHON_CHUNK_IDS = 5_000
CANDIDATE_BATCH = 10_000
# A running review whose worker has not reported for this long is presumed dead.
STALE_AFTER = dt.timedelta(minutes=10)
# A review is resumed at most this many times; then it is marked failed.
MAX_ATTEMPTS = 3


class ReviewInProgress(Exception):
    """Another review is queued or running; ``review`` is that one."""

    def __init__(self, review: TierReview) -> None:
        super().__init__(f"Tier review #{review.pk} is {review.status}.")
        self.review = review


def open_review() -> TierReview | None:
    return TierReview.objects.filter(is_open=True).select_related("policy").first()


def tier_review_start(*, requested_by: User | None = None, trigger: str = ReviewTrigger.MANUAL) -> TierReview:
    """Queue a review of all accounts under the active policy; its task starts on commit.

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
            from ..jobs import run_tier_review

            enqueue(run_tier_review, review_id=review.pk)
    except IntegrityError:
        running = open_review()
        if running is None:  # it finished between the insert and this read: try once more
            return tier_review_start(requested_by=requested_by, trigger=trigger)
        raise ReviewInProgress(running) from None
    return review


def tier_review_recover_stale(*, now: dt.datetime | None = None) -> TierReview | None:
    """Resume (re-enqueue) an open review whose worker stopped reporting, or fail it after
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
            f"The worker stopped {stale.attempts} times; "
            f"the last committed chunk ended at account {stale.last_account_id}.",
        )
        stale.refresh_from_db()
        return stale
    from ..jobs import run_tier_review

    with transaction.atomic():
        enqueue(run_tier_review, review_id=stale.pk)
    return stale


def _fail(review_id: int, error: str) -> None:
    TierReview.objects.filter(pk=review_id, is_open=True).update(
        status=ReviewStatus.FAILED, is_open=None, finished_at=timezone.now(), error=error[:4000]
    )


def _claim(review_id: int, now: dt.datetime) -> bool:
    """Only one worker runs a review: the one whose conditional UPDATE counted."""
    return bool(
        TierReview.objects.filter(pk=review_id, is_open=True)
        .filter(
            Q(status=ReviewStatus.QUEUED)
            | Q(heartbeat_at__isnull=True)
            | Q(heartbeat_at__lt=now - STALE_AFTER)
        )
        .update(
            status=ReviewStatus.RUNNING,
            started_at=Coalesce(F("started_at"), now),
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )


@dataclass
class ChunkPlan:
    policy: PolicySnapshot
    set_based: bool
    chunk_ids: int


def tier_review_run(*, review_id: int, today: dt.date | None = None) -> TierReview | None:
    """Run (or resume) a review: chunk after chunk from ``last_account_id``. Safe to call twice."""
    if not _claim(review_id, timezone.now()):
        return None
    review = TierReview.objects.select_related("policy").get(pk=review_id)
    policy = PolicySnapshot.from_policy(TierPolicy.objects.prefetch_related("tiers").get(pk=review.policy_id))
    set_based = not policy.rules
    plan = ChunkPlan(policy, set_based, SQL_CHUNK_IDS if set_based else PYTHON_CHUNK_IDS)
    today = today or timezone.localdate()
    max_id = Account.objects.aggregate(top=Max("id"))["top"] or 0
    last = review.last_account_id
    try:
        while last < max_id:
            upper = min(last + plan.chunk_ids, max_id)
            if not _run_chunk(review_id, plan, last, upper, today):
                return None  # another worker took the review over
            last = upper
        review_summaries_write(review_id=review_id, today=today)
        last_change_id = TierChange.objects.aggregate(top=Max("id"))["top"] or 0
        TierReview.objects.filter(pk=review_id, is_open=True).update(
            status=ReviewStatus.FINISHED,
            is_open=None,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            last_change_id=last_change_id,
        )
    except Exception as exc:
        logger.exception("tier review %s failed", review_id)
        _fail(review_id, f"{type(exc).__name__}: {exc}")
        raise
    return TierReview.objects.get(pk=review_id)


def _run_chunk(review_id: int, plan: ChunkPlan, lower: int, upper: int, today: dt.date) -> bool:
    """Evaluate accounts with lower < id ≤ upper and commit them with the review's progress."""
    reset_queries()  # with DEBUG on (embedded mode), a long review must not keep every query
    with transaction.atomic():
        review = (
            TierReview.objects.select_for_update()
            .filter(pk=review_id, status=ReviewStatus.RUNNING, last_account_id=lower)
            .first()
        )
        if review is None:
            return False
        if plan.set_based:
            done, facts = candidate_facts(plan, lower, upper)
        else:
            facts = [
                AccountFacts(*row)
                for row in Account.objects.filter(id__gt=lower, id__lte=upper)
                .order_by("id")
                .values_list(*ACCOUNT_FACT_FIELDS)
            ]
            done = len(facts)
        applied = proposed = 0
        for start in range(0, len(facts), CANDIDATE_BATCH):
            outcome = evaluate_batch(
                policy=plan.policy,
                facts=facts[start : start + CANDIDATE_BATCH],
                source=ChangeSource.REVIEW,
                review_id=review_id,
                today=today,
            )
            applied += outcome.applied
            proposed += outcome.proposed
        TierReview.objects.filter(pk=review_id).update(
            last_account_id=upper,
            accounts_done=F("accounts_done") + done,
            changes_applied=F("changes_applied") + applied,
            changes_proposed=F("changes_proposed") + proposed,
            heartbeat_at=timezone.now(),
        )
    return True


def candidate_facts(plan: ChunkPlan, lower: int, upper: int) -> tuple[int, list[AccountFacts]]:
    """(accounts in the range, facts of those that may change) for a policy without rules.

    ``queries.reviews`` skips the accounts evaluated since by this very policy and engine at
    their current ACV, and untouched since; only the others are read into Python."""
    total, candidate_ids = reviews_sql.review_candidates(
        lower=lower, upper=upper, fingerprint=plan.policy.fingerprint
    )
    return total, load_facts(candidate_ids) if candidate_ids else []


def tier_assign_initial() -> int:
    """Give every account without a tier its first tier (source ``initial``), chunk by chunk.

    Used after demo data is seeded. Returns how many accounts got a tier.
    """
    policy = PolicySnapshot.from_policy(
        TierPolicy.objects.prefetch_related("tiers").get(status=PolicyStatus.ACTIVE)
    )
    last, assigned = 0, 0
    while True:
        with transaction.atomic():
            ids = list(
                Account.objects.filter(id__gt=last, tier_code="")
                .order_by("id")
                .values_list("id", flat=True)[:PYTHON_CHUNK_IDS]
            )
            if not ids:
                return assigned
            facts = [
                AccountFacts(*row)
                for row in Account.objects.filter(id__in=ids).order_by("id").values_list(*ACCOUNT_FACT_FIELDS)
            ]
            outcome = evaluate_batch(policy=policy, facts=facts, source=ChangeSource.INITIAL)
            assigned += outcome.applied
            last = ids[-1]
