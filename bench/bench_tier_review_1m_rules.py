"""A full tier review of 1,000,000 accounts under a policy with three signal rules (seat
utilisation, 90-day usage trend, support tickets), every account with 26 weeks of usage.

Measured: ``tier_review_start()``, then its chunks on two worker processes (each runs the service
loop of the ``run_tier_review`` task; two is Celery's default concurrency on this 2-core machine):
chunks whose signals and evaluation keys SQL computes, the engine evaluating the accounts whose
outcome may have moved, tier writes, state, TierChanges, summaries.
``bench_tier_review_1m_scaling`` times the same review on one.

Before it (not timed): usage for every account (``health_data.ensure_usage_for_all``), the bench
policy made active (``tier_rules_data``), an untimed review so every account is current, then a
week moves: every account's latest active users and tickets move by one (so every account's
utilisation and trend differ from the last review), and every 20th account's ACV crosses
thresholds. The note says how many accounts the engine evaluated.

Baseline, same run, same data: one hand-written SQL statement computing the same tiers from ACV
and usage (``UPDATE ... FROM`` an aggregate of the usage, rank arithmetic for the rules), writing
those that differ, rolled back: the floor, which explains nothing and keeps no history. PostgreSQL
runs no data-modifying statement in parallel, so the statement runs on as many connections at once
as the review has workers, each over its share of the ids: both sides use both cores.
Goal: the review takes at most 3x as long; peak RSS of the review's process ≤ 300 MB.
"""

from __future__ import annotations

import os

from django.utils import timezone

from bench.common import Context, Result

ORDER = 41
ACCOUNTS = int(os.environ.get("BENCH_TIER_ACCOUNTS", "1000000"))
GOAL_RATIO = 3.0
GOAL_RSS_MB = 300.0
WORKERS = 2


def run(ctx: Context) -> list[Result]:
    from accounts.seeding import ensure_accounts
    from bench import tier_rules_data
    from bench.health_data import ensure_usage_for_all

    total = ensure_accounts(ACCOUNTS)
    ensure_usage_for_all()
    with tier_rules_data.activated() as policy:
        # Every account current under the bench policy.
        warm = tier_rules_data.run_workers(tier_rules_data.start_review_for_workers(), WORKERS)
        usage_rows, acvs = tier_rules_data.move_the_week()
        today = timezone.localdate()
        baseline = min(
            tier_rules_data.raw_sql_baseline(policy.pk, today, parts=WORKERS),
            tier_rules_data.raw_sql_baseline(policy.pk, today, parts=WORKERS),
        )
        review_id = tier_rules_data.start_review_for_workers()
        review = tier_rules_data.run_workers(review_id, WORKERS)
        figures = tier_rules_data.review_figures(review_id)
    if figures["status"] != "finished":
        raise RuntimeError(f"the review ended {figures['status']}")
    seconds = review["seconds"]
    return [
        Result(
            name="tier_review_1m_rules",
            value=seconds,
            unit="s",
            ratio=seconds / baseline,
            goal=GOAL_RATIO,
            note=(
                f"{WORKERS} workers; {figures['accounts_done']:,} of {total:,} accounts, "
                f"{figures['evaluated']:,} evaluated "
                f"by the engine, {figures['changes_applied']:,} changes ({usage_rows:,} usage rows and "
                f"{acvs:,} ACVs moved); baseline one UPDATE ... FROM usage aggregate on "
                f"{WORKERS} connections {baseline:.2f} s; "
                f"warm-up review {warm['seconds']:.1f} s"
            ),
        ),
        Result(
            name="tier_review_1m_rules_peak_rss",
            value=review["rss_mb"],
            unit="MB",
            goal=GOAL_RSS_MB,
            note="peak RSS of the largest worker process",
        ),
    ]
