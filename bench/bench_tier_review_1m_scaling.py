"""The same rule review of 1,000,000 accounts (``bench_tier_review_1m_rules``) on two worker
processes against one: each chunk is held by one worker (a session advisory lock), so workers share
a review without coordination.

Measured: wall time from starting the worker processes (each runs the service loop of the
``run_tier_review`` task, Django start-up included) to the last one's exit, for one review on
one worker and the next on two. Before each (not timed) the week moves as in the rules bench, so
both reviews have the same kind and amount of work (the note gives both counts).
Goal: two workers at least 1.4x faster than one, on a 2-core machine where PostgreSQL shares the
cores with the workers.
"""

from __future__ import annotations

import os

from bench.common import Context, Result

ORDER = 42
ACCOUNTS = int(os.environ.get("BENCH_TIER_ACCOUNTS", "1000000"))
GOAL_SPEEDUP = 1.4


def run(ctx: Context) -> list[Result]:
    from accounts.seeding import ensure_accounts
    from bench import tier_rules_data
    from bench.health_data import ensure_usage_for_all

    ensure_accounts(ACCOUNTS)
    ensure_usage_for_all()
    with tier_rules_data.activated():
        warm = tier_rules_data.run_workers(tier_rules_data.start_review_for_workers(), 2)
        runs = {}
        for workers in (1, 2):
            tier_rules_data.move_the_week()
            review_id = tier_rules_data.start_review_for_workers()
            runs[workers] = {
                **tier_rules_data.run_workers(review_id, workers),
                **tier_rules_data.review_figures(review_id),
            }
            if runs[workers]["status"] != "finished":
                raise RuntimeError(f"the review on {workers} worker(s) ended {runs[workers]['status']}")
    one, two = runs[1], runs[2]
    return [
        Result(
            name="tier_review_1m_scaling",
            value=two["seconds"],
            unit="s",
            ratio=one["seconds"] / two["seconds"],
            goal=GOAL_SPEEDUP,
            higher_is_better=True,
            note=(
                f"speed-up of 2 workers over 1: 1 worker {one['seconds']:.1f} s "
                f"({one['evaluated']:,} evaluated, {one['changes_applied']:,} changes), "
                f"2 workers {two['seconds']:.1f} s ({two['evaluated']:,} evaluated, "
                f"{two['changes_applied']:,} changes), {two['chunks']} chunks; chunks alone "
                f"{one['chunks_seconds']:.1f} s vs {two['chunks_seconds']:.1f} s, then the summaries "
                f"{one['summaries_seconds']:.1f} s vs {two['summaries_seconds']:.1f} s (by one worker); "
                f"warm-up review {warm['seconds']:.1f} s"
            ),
        )
    ]
