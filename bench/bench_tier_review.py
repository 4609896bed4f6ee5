"""A full tier review of 1,000,000 accounts with about 5% changing tier, on PostgreSQL.

Measured: ``tier_review_start()`` then ``tier_review_run()`` as one worker runs it (the real
service path: chunks claimed one by one, SQL pre-filter, Python evaluation of the candidates,
tier writes, tier state, TierChanges, progress per chunk, summary tables). It runs in a child
process so that its peak RSS is the review's alone (goal ≤ 300 MB).

Baseline, same run, same table and data: one hand-written SQL statement computing the same
ACV-threshold tiers (``UPDATE ... SET tier = CASE ... WHERE tier IS DISTINCT FROM CASE ...``),
rolled back. That is the practical floor: it explains nothing and keeps no history. Goal: the
review takes at most 3x as long.

Setup (not timed): ``ensure_accounts(n)``, an untimed review so every account is current, then
every 20th account's ACV is moved across thresholds (beyond the hysteresis band), then the
tables are vacuumed as autovacuum would have done since the last nightly review. The untimed
review also counts the kept cost-to-serve inputs in full (the nightly job's work in production);
the timed review's economics summary counts only what a write marked since, then reads them.
``BENCH_TIER_ACCOUNTS`` sets n for development runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from django.db import connection, transaction

from bench.common import Context, Result, vacuum_as_autovacuum_would

ORDER = 40
# The BENCH lines this module prints: ``--only tier_review_1m`` selects it alone.
BENCHES = ("tier_review_1m", "tier_review_1m_peak_rss")
ACCOUNTS = int(os.environ.get("BENCH_TIER_ACCOUNTS", "1000000"))
GOAL_RATIO = 3.0
GOAL_RSS_MB = 300.0
EVERY_NTH_CHANGES = 20


def _tier_case(column: str) -> tuple[str, list[Any]]:
    from segmentation.models import TierPolicy

    policy = TierPolicy.objects.prefetch_related("tiers").get(status="active")
    tiers = sorted(policy.tiers.all(), key=lambda t: t.rank)
    whens = " ".join("WHEN acv >= %s THEN %s" for _ in tiers[:-1])
    params: list[Any] = []
    for tier in tiers[:-1]:
        params += [tier.min_acv, getattr(tier, column)]
    return f"CASE {whens} ELSE %s END", [*params, getattr(tiers[-1], column)]


def raw_sql_baseline() -> float:
    """One UPDATE computing code, name and rank by ACV where they differ; rolled back."""
    code_case, code_params = _tier_case("code")
    name_case, name_params = _tier_case("name")
    rank_case, rank_params = _tier_case("rank")
    sql = (
        f"UPDATE accounts_account SET tier_code = {code_case}, tier_name = {name_case}, "
        f"tier_rank = {rank_case}, tier_updated_at = now() WHERE tier_code IS DISTINCT FROM {code_case}"
    )
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*code_params, *name_params, *rank_params, *code_params])
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def move_every_nth_account() -> int:
    """Push every 20th account across thresholds: Enterprise drops to 10,000, the others jump to
    90,000 (both beyond the hysteresis band, so each one changes tier at this review)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_account SET acv = CASE WHEN tier_code = 'ENT' THEN 10000 ELSE 90000 END "
            "WHERE id %% %s = 0",
            [EVERY_NTH_CHANGES],
        )
        return cursor.rowcount


def vacuum_between_nightly_reviews() -> None:
    """As autovacuum does between two nightly reviews (this machine runs without it): the warm-up
    review rewrote up to every account and state, and without the space of their old versions
    every write of the timed review, and of the baseline, would scan past dead rows and move its
    row to a new page; so would any other table past autovacuum's threshold (the kept cost
    inputs, rewritten at every review). Both are timed on the same vacuumed tables."""
    with connection.cursor() as cursor:
        for table in ("accounts_account", "segmentation_accounttierstate", "segmentation_tierchange"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    vacuum_as_autovacuum_would()


def run_review_in_child() -> dict[str, Any]:
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_tier_review", "--child"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def child() -> None:
    """Run one review in this process, as a worker would, and print its figures as JSON.

    Work that the review hands to other tasks (higher apps' reactions to ``tier_changes_applied``)
    is left in the outbox and discarded afterwards: it is not the review's, and those apps
    measure it in their own benches.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    import django

    django.setup()
    from django.conf import settings

    from bench.common import Context, follow_ups_dropped
    from segmentation.models import TierReview
    from segmentation.services.reviews import tier_review_run, tier_review_start

    settings.DEBUG = False  # as in production: no query log kept in memory
    with follow_ups_dropped():
        started = time.perf_counter()
        review = tier_review_start()
        tier_review_run(review_id=review.pk)
        elapsed = time.perf_counter() - started
    review = TierReview.objects.get(pk=review.pk)
    print(
        json.dumps(
            {
                "review_id": review.pk,
                "seconds": elapsed,
                "rss_mb": Context.peak_rss_mb(),
                "status": review.status,
                "accounts_done": review.accounts_done,
                "changes_applied": review.changes_applied,
            }
        )
    )


def run(ctx: Context) -> list[Result]:
    from accounts.seeding import ensure_accounts

    total = ensure_accounts(ACCOUNTS)
    warm = run_review_in_child()  # brings every account up to date (slow only the first time)
    moved = move_every_nth_account()
    vacuum_between_nightly_reviews()
    baseline = min(raw_sql_baseline(), raw_sql_baseline())
    review = run_review_in_child()
    if review["status"] != "finished":
        raise RuntimeError(f"the review ended {review['status']}")
    seconds = review["seconds"]
    return [
        Result(
            name="tier_review_1m",
            value=seconds,
            unit="s",
            ratio=seconds / baseline,
            goal=GOAL_RATIO,
            note=(
                f"{review['accounts_done']:,} of {total:,} accounts, {review['changes_applied']:,} changes "
                f"({moved:,} ACVs moved); baseline one UPDATE ... CASE {baseline:.2f} s; "
                f"warm-up review {warm['seconds']:.1f} s"
            ),
        ),
        Result(
            name="tier_review_1m_peak_rss",
            value=review["rss_mb"],
            unit="MB",
            goal=GOAL_RSS_MB,
            note="peak RSS of the process that ran the review",
        ),
    ]


if __name__ == "__main__" and "--child" in sys.argv:
    child()
