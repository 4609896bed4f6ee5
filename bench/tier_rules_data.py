"""Setup shared by the rule review benches: a policy with three signal rules over a book where
every account has 26 weeks of usage, the week's usage moved for every account, and the floor
(one hand-written SQL statement computing the same tiers).

Each step is set-based SQL (not timed). ``activated()`` makes the bench policy the active one for
the bench and gives the active role back to the policy that had it afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.common import vacuum_as_autovacuum_would

BENCH_POLICY_NAME = "Bench: usage, seats and tickets"
# Promote a tier when seats are nearly all in use, demote when active users fell by a quarter in
# 90 days, keep at least Mid-Market Tier 2 for a support-heavy account.
SEATS_FULL = 0.9
USAGE_FALLING = -25
TICKETS_HEAVY = 15
FLOOR_TIER = "MM2"
RULES: list[dict[str, Any]] = [
    {
        "name": "Seats nearly full",
        "when": [{"signal": "seat_utilisation", "op": ">=", "value": SEATS_FULL}],
        "effect": {"type": "promote", "ranks": 1},
    },
    {
        "name": "Usage falling",
        "when": [{"signal": "active_users_trend_90d", "op": "<=", "value": USAGE_FALLING}],
        "effect": {"type": "demote", "ranks": 1},
    },
    {
        "name": "Support-heavy",
        "when": [{"signal": "support_tickets_30d", "op": ">=", "value": TICKETS_HEAVY}],
        "effect": {"type": "floor", "tier": FLOOR_TIER},
    },
]
EVERY_NTH_ACV = 20


def _execute(statement: str, params: Any = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def bench_policy() -> Any:
    """The bench's policy (created once): the active policy's tiers and settings, and RULES."""
    from segmentation.models import PolicyStatus, Tier, TierPolicy

    policy = TierPolicy.objects.filter(name=BENCH_POLICY_NAME).first()
    if policy is not None:
        return policy
    active = TierPolicy.objects.prefetch_related("tiers").get(status=PolicyStatus.ACTIVE)
    with transaction.atomic():
        policy = TierPolicy.objects.create(
            version=(TierPolicy.objects.order_by("-version").values_list("version", flat=True).first() or 0)
            + 1,
            name=BENCH_POLICY_NAME,
            status=PolicyStatus.DRAFT,
            rules=RULES,
            hysteresis_band=active.hysteresis_band,
            downgrade_after_consecutive_reviews=active.downgrade_after_consecutive_reviews,
        )
        Tier.objects.bulk_create(
            Tier(
                policy=policy,
                code=t.code,
                name=t.name,
                rank=t.rank,
                touch_model=t.touch_model,
                min_acv=t.min_acv,
            )
            for t in active.tiers.all()
        )
    return policy


@contextmanager
def activated() -> Iterator[Any]:
    """The bench policy is the active one inside the block; the previous one is again after."""
    from segmentation.models import PolicyStatus, TierPolicy

    policy = bench_policy()
    previous = TierPolicy.objects.get(status=PolicyStatus.ACTIVE)
    if previous.pk != policy.pk:
        with transaction.atomic():
            TierPolicy.objects.filter(pk=previous.pk).update(status=PolicyStatus.RETIRED)
            TierPolicy.objects.filter(pk=policy.pk).update(status=PolicyStatus.ACTIVE)
    try:
        yield policy
    finally:
        if previous.pk != policy.pk:
            with transaction.atomic():
                TierPolicy.objects.filter(pk=policy.pk).update(status=PolicyStatus.DRAFT)
                TierPolicy.objects.filter(pk=previous.pk).update(status=PolicyStatus.ACTIVE)


def move_the_week() -> tuple[int, int]:
    """What a week does to a book: the latest week's active users and tickets move by one for
    every account (so every account's seat utilisation and 90-day trend change), and every 20th
    account's ACV moves across thresholds, beyond the hysteresis band. Returns (usage rows, ACVs)."""
    with transaction.atomic():
        usage = _execute(
            """
            UPDATE accounts_usagesnapshot
            SET active_users = active_users + CASE WHEN mod(active_users, 2) = 0 THEN 1 ELSE -1 END,
                support_tickets = support_tickets + CASE WHEN mod(support_tickets, 2) = 0 THEN 1 ELSE -1 END
            WHERE period_start = (SELECT max(period_start) FROM accounts_usagesnapshot)
            """
        )
        acvs = _execute(
            "UPDATE accounts_account SET acv = CASE WHEN tier_code = 'ENT' THEN 10000 ELSE 90000 END "
            "WHERE mod(id, %s) = 0",
            [EVERY_NTH_ACV],
        )
    # As autovacuum does between two nightly reviews: the last review rewrote hundreds of thousands
    # of accounts and states, and without the space of their old versions every write of the next
    # review (and of the baseline) would move its row and touch every index of the table. Any other
    # table past autovacuum's own threshold is vacuumed too, as autovacuum would have.
    for table in ("accounts_usagesnapshot", "accounts_account", "segmentation_accounttierstate"):
        _execute(f"VACUUM (ANALYZE) {table}")
    vacuum_as_autovacuum_would()
    return usage, acvs


def raw_sql_baseline(policy_id: int, today: dt.date, parts: int = 1) -> float:
    """One UPDATE computing every account's tier from its ACV and usage under RULES (rank
    arithmetic: promote, then demote, then the floor, clamped to the policy's tiers), writing
    those that differ; rolled back. It explains nothing and keeps no history or state.

    PostgreSQL runs no data-modifying statement in parallel, so with ``parts`` > 1 the statement
    runs once per id range (``parts`` equal ranges) on as many connections at once: the floor of
    the same work spread over as many processes as the review's workers."""
    statement = """
        UPDATE accounts_account a
        SET tier_code = t.code, tier_name = t.name, tier_rank = t.rank, tier_updated_at = now()
        FROM (
            SELECT s.id,
                   CASE WHEN s.tickets >= %(tickets)s THEN LEAST(s.demoted, %(floor_rank)s) ELSE s.demoted END
                       AS rank
            FROM (
                SELECT b.id, b.tickets,
                       LEAST(%(max_rank)s,
                             GREATEST(%(min_rank)s, b.base - CASE WHEN b.util >= %(seats)s THEN 1 ELSE 0 END)
                             + CASE WHEN b.trend <= %(falling)s THEN 1 ELSE 0 END) AS demoted
                FROM (
                    SELECT a.id, COALESCE(u.tickets, 0) AS tickets,
                           {base_rank} AS base,
                           CASE WHEN u.seats > 0 THEN round(u.users::numeric / u.seats, 3) END AS util,
                           CASE WHEN u.periods >= 2 AND u.base_users > 0
                                THEN round((u.users - u.base_users) * 100.0 / u.base_users, 1) END AS trend
                    FROM accounts_account a
                    LEFT JOIN (
                        SELECT p.account_id, count(*) AS periods,
                               max(p.active_users) FILTER (WHERE p.period_start = p.latest) AS users,
                               max(p.licensed_seats) FILTER (WHERE p.period_start = p.latest) AS seats,
                               COALESCE(
                                   (array_agg(p.active_users ORDER BY p.period_start DESC)
                                        FILTER (WHERE p.period_start <= p.latest - 90))[1],
                                   (array_agg(p.active_users ORDER BY p.period_start))[1]) AS base_users,
                               sum(p.support_tickets) FILTER (WHERE p.period_start >= %(ticket_since)s)
                                   AS tickets
                        FROM (SELECT u.*, max(u.period_start) OVER (PARTITION BY u.account_id) AS latest
                              FROM accounts_usagesnapshot u WHERE u.period_start >= %(usage_since)s
                              AND u.account_id > %(lower)s AND u.account_id <= %(upper)s) p
                        GROUP BY p.account_id
                    ) u ON u.account_id = a.id
                    WHERE a.id > %(lower)s AND a.id <= %(upper)s
                ) b
            ) s
        ) r
        JOIN segmentation_tier t ON t.policy_id = %(policy)s AND t.rank = r.rank
        WHERE a.id = r.id AND a.tier_code IS DISTINCT FROM t.code
    """
    from segmentation.models import Tier

    tiers = list(
        Tier.objects.filter(policy_id=policy_id).order_by("rank").values_list("code", "rank", "min_acv")
    )
    min_rank, max_rank = tiers[0][1], tiers[-1][1]
    floor_rank = next(rank for code, rank, _ in tiers if code == FLOOR_TIER)
    base_rank = (
        "CASE "
        + " ".join(f"WHEN a.acv >= {min_acv} THEN {rank}" for _, rank, min_acv in tiers[:-1])
        + f" ELSE {max_rank} END"
    )
    statement = statement.replace("{base_rank}", base_rank)
    params: dict[str, Any] = {
        "policy": policy_id,
        "min_rank": min_rank,
        "max_rank": max_rank,
        "floor_rank": floor_rank,
        "seats": SEATS_FULL,
        "falling": USAGE_FALLING,
        "tickets": TICKETS_HEAVY,
        "ticket_since": today - dt.timedelta(days=30),
        "usage_since": today - dt.timedelta(days=120),
    }
    from django.db.models import Max, Min

    from accounts.models import Account

    bounds = Account.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"] - 1, bounds["high"]
    step = -(-(high - low) // parts)
    ranges = [(start, min(start + step, high)) for start in range(low, high, step)]

    def part(lower: int, upper: int) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, {**params, "lower": lower, "upper": upper})
                transaction.set_rollback(True)
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        for future in [pool.submit(part, lower, upper) for lower, upper in ranges]:
            future.result()
    return time.perf_counter() - started


def start_review_for_workers() -> int:
    """Queue a review as ``tier_review_start`` does; its tasks stay out of the broker (the bench's
    worker processes take the review instead). Returns its id."""
    from bench.common import follow_ups_dropped, reviews_left_open_failed
    from segmentation.services.reviews import tier_review_start

    reviews_left_open_failed()
    with follow_ups_dropped():
        review = tier_review_start()
    return review.pk


def run_workers(review_id: int, workers: int) -> dict[str, Any]:
    """Run the review with ``workers`` worker processes (each runs the service loop the Celery
    task runs); wall time from their start to the last one's exit."""
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.tier_rules_data", "--worker", str(review_id)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    outputs = [process.communicate() for process in processes]
    elapsed = time.perf_counter() - started
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        if process.returncode != 0:
            raise RuntimeError(f"a review worker failed: {stderr[-2000:]}")
    figures = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    return {"seconds": elapsed, "rss_mb": max(f["rss_mb"] for f in figures), "workers": figures}


def review_figures(review_id: int) -> dict[str, Any]:
    from django.db.models import Max, Sum

    from segmentation.models import TierReview, TierReviewChunk

    review = TierReview.objects.get(pk=review_id)
    chunks = TierReviewChunk.objects.filter(review_id=review_id).aggregate(
        n=Sum("evaluated"), last=Max("done_at")
    )
    evaluated = chunks["n"] or 0
    return {
        # The chunks (parallel) and the summaries written once at the end (serial).
        "chunks_seconds": (chunks["last"] - review.started_at).total_seconds(),
        "summaries_seconds": (review.finished_at - chunks["last"]).total_seconds(),
        "status": review.status,
        "accounts_done": review.accounts_done,
        "changes_applied": review.changes_applied,
        "evaluated": evaluated,
        "chunks": TierReviewChunk.objects.filter(review_id=review_id).count(),
    }


def worker(review_id: int) -> None:
    """One worker process: the service loop of the ``run_tier_review`` task; prints its figures."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csplatform.settings")
    import django

    django.setup()
    from django.conf import settings

    from bench.common import Context, follow_ups_dropped
    from segmentation.services.reviews import tier_review_run

    settings.DEBUG = False
    # Work the review hands to other apps' tasks is dropped (see bench_tier_review).
    with follow_ups_dropped():
        started = time.perf_counter()
        tier_review_run(review_id=review_id, today=timezone.localdate())
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rss_mb": Context.peak_rss_mb()}))


if __name__ == "__main__" and "--worker" in sys.argv:
    worker(int(sys.argv[sys.argv.index("--worker") + 1]))
