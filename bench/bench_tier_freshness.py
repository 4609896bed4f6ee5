"""Tier freshness: how long after a CRM sync changes an ACV is the new tier visible in the API,
while a full tier review of the book runs?

Real Celery workers run on Redis (``CELERY_BROKER_URL``) as the Procfile starts them
(``bench.workers``: the default worker, which the review's chunk tasks fill, and the interactive
worker, which consumes the event re-evaluations' queue). A full review of every account
(1,000,000 on the bench database) is started first, with every 20th account's ACV moved across
a threshold so it has real work; once its workers have committed a batch (so the changes meet
its writes, not only its planning), this process pushes 50 ACV changes, one at a time, through
``POST /api/v1/accounts/sync/`` as an integration user and polls ``GET /api/v1/accounts/{id}/``
until the account shows its new tier. ``BENCH_FRESHNESS_ACCOUNTS`` shrinks the book while
developing. When the review ends before the 50 changes are done, another one is started (the ACVs moved
back), so every change is measured with a review running; the note says how many were. The
figure is the 95th percentile of the 50 waits. Goal: 2 seconds.

Baseline, same run: the time of the sync request alone (the floor of any freshness figure), so
the ratio is how many sync round trips the re-evaluation adds.
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import ExitStack
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse

from bench import workers as bench_workers
from bench.common import Context, Result

ORDER = 45
CHANGES = 50
GOAL_SECONDS = 2.0
EVERY_NTH_CHANGES = 20
ACCOUNTS = int(os.environ.get("BENCH_FRESHNESS_ACCOUNTS", "1000000"))
TIMEOUT_SECONDS = 60.0
POLL_INTERVAL = 0.02
CRM_SOURCE = "bench-freshness"


def _client() -> Any:
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from csplatform import roles
    from csplatform.models import User
    from csplatform.services import api_token_issue

    user, _ = User.objects.get_or_create(username="bench-freshness-integration")
    user.groups.add(Group.objects.get(name=roles.INTEGRATION))
    _, key = api_token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _push(client: Any, external_id: str, acv: Decimal) -> float:
    started = time.perf_counter()
    response = client.post(
        reverse("api:accounts-sync"),
        {
            "crm_source": CRM_SOURCE,
            "records": [{"external_id": external_id, "name": f"Freshness {external_id}", "acv": str(acv)}],
        },
        format="json",
    )
    if response.status_code != 200 or response.json()["failed"]:
        raise RuntimeError(f"sync failed: {response.status_code} {response.content[:300]!r}")
    return time.perf_counter() - started


def _wait_for_tier(client: Any, account_id: int, code: str) -> bool:
    deadline = time.perf_counter() + TIMEOUT_SECONDS
    url = reverse("api:accounts-detail", args=[account_id])
    while time.perf_counter() < deadline:
        tier = client.get(url).json().get("tier") or {}
        if tier.get("code") == code:
            return True
        time.sleep(POLL_INTERVAL)
    return False


def _start_review() -> int:
    """Move every 20th account across a threshold and queue a full review (published on commit)."""
    from django.db import connection, transaction

    from bench.common import reviews_left_open_failed
    from segmentation.services.reviews import tier_review_start

    reviews_left_open_failed()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE accounts_account SET acv = CASE WHEN tier_code = 'ENT' THEN 10000 ELSE 90000 END "
                "WHERE id %% %s = 0 AND crm_source <> %s",
                [EVERY_NTH_CHANGES, CRM_SOURCE],
            )
        return tier_review_start().pk


def _review_running(review_id: int) -> bool:
    from segmentation.models import TierReview

    return TierReview.objects.filter(pk=review_id, status__in=("queued", "running")).exists()


def _review_writing(review_id: int) -> bool:
    """Whether a chunk of the review has committed a batch (its counters commit with it)."""
    from django.db.models import Q

    from segmentation.models import TierReviewChunk

    committed = Q(done_at__isnull=False) | Q(evaluated__gt=0) | Q(changes_applied__gt=0)
    return TierReviewChunk.objects.filter(committed, review_id=review_id).exists()


def _review_progress(review_ids: list[int]) -> tuple[int, int]:
    """(accounts in the reviews' finished chunks, changes their committed batches applied): a
    chunk of 50,000 accounts commits its changes a batch at a time, so the second shows the
    review writing while no chunk has finished yet."""
    from django.db.models import Sum

    from segmentation.models import TierReviewChunk

    chunks = TierReviewChunk.objects.filter(review_id__in=review_ids)
    done = chunks.filter(done_at__isnull=False).aggregate(n=Sum("accounts_done"))["n"] or 0
    return done, chunks.aggregate(n=Sum("changes_applied"))["n"] or 0


def run(ctx: Context) -> list[Result]:
    from accounts.models import Account
    from accounts.seeding import ensure_accounts
    from segmentation.models import TierReview

    total = ensure_accounts(ACCOUNTS)
    client = _client()
    external_ids = [f"F-{i:03d}" for i in range(CHANGES)]
    env = {**os.environ, "VAR_DIR": os.environ.get("VAR_DIR") or str(settings.VAR_DIR)}
    bench_workers.purge(env)
    workers = ExitStack()
    workers.enter_context(bench_workers.procfile_workers(prefix="freshness", env=env))
    try:
        # Create the accounts (and wait until the worker tiered the last one: it is ready then).
        for external_id in external_ids:
            _push(client, external_id, Decimal("20000"))
        accounts = dict(
            Account.objects.filter(crm_source=CRM_SOURCE, external_id__in=external_ids).values_list(
                "external_id", "id"
            )
        )
        if not _wait_for_tier(client, accounts[external_ids[-1]], "MM2"):
            raise RuntimeError("the worker did not tier the new accounts within a minute")
        waits: list[float] = []
        syncs: list[float] = []
        reviews = [_start_review()]
        deadline = time.perf_counter() + TIMEOUT_SECONDS
        # Until the review writes: "running" covers its planning too, which the syncs could
        # otherwise fill (seen: 50 changes done before its first chunk committed).
        while not _review_writing(reviews[-1]):
            if time.perf_counter() > deadline:
                raise RuntimeError("the workers did not commit a batch of the review within a minute")
            time.sleep(0.2)
        reviewed_before, applied_before = _review_progress(reviews)
        during = 0
        for index, external_id in enumerate(external_ids):
            if not _review_running(reviews[-1]):
                reviews.append(_start_review())
            current = Account.objects.get(pk=accounts[external_id]).tier_code
            acv, code = (Decimal("9000"), "MM3") if current != "MM3" else (Decimal("80000"), "ENT")
            started = time.perf_counter()
            syncs.append(_push(client, external_id, acv))
            if not _wait_for_tier(client, accounts[external_id], code):
                raise RuntimeError(f"change {index} was not visible after {TIMEOUT_SECONDS} s")
            waits.append(time.perf_counter() - started)
            during += _review_running(reviews[-1])
        reviewed, applied = _review_progress(reviews)
        reviewed, applied = reviewed - reviewed_before, applied - applied_before
    finally:
        TierReview.objects.filter(is_open=True).update(
            status="failed", is_open=None, error="Stopped at the end of the freshness benchmark."
        )
        workers.close()
        Account.objects.filter(crm_source=CRM_SOURCE).delete()
    p95 = statistics.quantiles(waits, n=20)[-1]
    sync_median = statistics.median(syncs)
    return [
        Result(
            name="tier_freshness_p95",
            value=p95,
            unit="s",
            goal=GOAL_SECONDS,
            note=(
                f"{CHANGES} ACV changes via sync, Procfile workers ({bench_workers.describe()}) on "
                f"{settings.CELERY_BROKER_URL.split('@')[-1]}; a full review of {total:,} accounts running "
                f"during {during} of them (review(s) #{', #'.join(map(str, reviews))}, "
                f"during the changes they finished chunks of {reviewed:,} accounts and applied "
                f"{applied:,} tier changes); "
                f"median {statistics.median(waits):.2f} s, max {max(waits):.2f} s; "
                f"sync request alone median {sync_median:.3f} s (x{p95 / sync_median:.1f})"
            ),
        )
    ]
