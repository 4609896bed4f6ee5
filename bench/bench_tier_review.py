"""A full tier review of 1,000,000 accounts with about 5% changing tier, on PostgreSQL.

Measured: ``tier_review_start()`` then ``tier_review_run()`` as one worker runs it (the real
service path: chunks claimed one by one, SQL pre-filter, Python evaluation of the candidates,
tier writes, tier state, TierChanges, progress per chunk, summary tables). It runs in a child
process so that its peak RSS is the review's alone (goal ≤ 300 MB).

Baseline, same run, same table and data: one hand-written SQL statement computing the same
ACV-threshold tiers (``UPDATE ... SET tier = CASE ... WHERE tier IS DISTINCT FROM CASE ...``),
rolled back. That is the practical floor: it explains nothing and keeps no history. Goal: the
review takes at most 3x as long.

Reference, no budget (``tier_review_1m_history_floor``): the history a review keeps for each
account that moves (its tier and a one-line explanation, a TierChange, its AccountTierState),
written by hand-written set-based SQL in one transaction, the deferred foreign-key checks fired
as a commit would, rolled back. It evaluates nothing in Python and explains little, so it is the
floor of any review that keeps this history; its ratio says how much of the budget the writes
alone take. It runs after the timed review, on the same moved ACVs (moved again inside its own
transaction), so the timed review's tables are as before.

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

from bench.common import Context, Result, reviews_left_open_failed, vacuum_as_autovacuum_would

ORDER = 40
# The BENCH lines this module prints: ``--only tier_review_1m`` selects it alone.
BENCHES = ("tier_review_1m", "tier_review_1m_peak_rss", "tier_review_1m_history_floor")
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


def _tier_cases() -> tuple[str, str, str, list[Any]]:
    """The ACV-threshold CASE of the tier's code, name and rank, and the parameters of a statement
    that uses them in that order, then the code's once more (``WHERE tier_code IS DISTINCT FROM``):
    both baselines select the accounts that move with the same rule."""
    code, code_params = _tier_case("code")
    name, name_params = _tier_case("name")
    rank, rank_params = _tier_case("rank")
    return code, name, rank, [*code_params, *name_params, *rank_params, *code_params]


def raw_sql_baseline() -> float:
    """One UPDATE computing code, name and rank by ACV where they differ; rolled back."""
    code, name, rank, params = _tier_cases()
    sql = (
        f"UPDATE accounts_account SET tier_code = {code}, tier_name = {name}, "
        f"tier_rank = {rank}, tier_updated_at = now() WHERE tier_code IS DISTINCT FROM {code}"
    )
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


# The columns a review writes, from the moved accounts (``moved``: id, acv, the old tier and the
# new): what ``services.bulk_writes`` writes per account that changes tier, in hand-written SQL.
_HISTORY_STATEMENTS = (
    """
    UPDATE accounts_account a SET tier_code = m.code, tier_name = m.name, tier_rank = m.rank,
           tier_source = 'policy', tier_explanation = m.explanation, tier_updated_at = now()
    FROM moved m WHERE a.id = m.id
    """,
    """
    INSERT INTO segmentation_tierchange (account_id, policy_id, review_id, from_code, from_name,
        from_rank, to_code, to_name, to_rank, explanation, steps, source, status, created_at,
        applied_at, decision_note)
    SELECT id, %(policy)s, %(review)s, old_code, old_name, old_rank, code, name, rank, explanation,
           steps, 'review', 'applied', now(), now(), ''
    FROM moved ORDER BY id
    """,
    """
    INSERT INTO segmentation_accounttierstate (account_id, policy_id, policy_tier_code,
        policy_tier_rank, pending_downgrade_reviews, last_review_id, steps, flags, evaluated_at,
        evaluated_with, evaluated_acv, tier_written_at, evaluated_signals)
    SELECT id, %(policy)s, code, rank, 0, %(review)s, steps, '[]', now(), %(fingerprint)s, acv,
           now(), '[]'
    FROM moved
    ON CONFLICT (account_id) DO UPDATE SET policy_id = EXCLUDED.policy_id,
        policy_tier_code = EXCLUDED.policy_tier_code, policy_tier_rank = EXCLUDED.policy_tier_rank,
        pending_downgrade_reviews = EXCLUDED.pending_downgrade_reviews,
        last_review_id = EXCLUDED.last_review_id, steps = EXCLUDED.steps, flags = EXCLUDED.flags,
        evaluated_at = EXCLUDED.evaluated_at, evaluated_with = EXCLUDED.evaluated_with,
        evaluated_acv = EXCLUDED.evaluated_acv, tier_written_at = EXCLUDED.tier_written_at,
        evaluated_signals = EXCLUDED.evaluated_signals
    """,
)
# What the commit would do: the deferred foreign-key checks of the rows written.
_DEFERRED_CHECKS = "SET CONSTRAINTS ALL IMMEDIATE"


def history_sql_baseline() -> tuple[float, int, list[int]]:
    """(seconds, accounts moved, rows each history statement wrote): the history a review keeps
    for the accounts whose ACV tier differs, written by hand-written SQL; every 20th account's ACV
    is moved first (untimed) in the same transaction, and all of it is rolled back."""
    from segmentation.models import ReviewStatus, TierPolicy, TierReview

    code, name, rank, case_params = _tier_cases()
    # An explanation sentence and steps of the size the engine writes (about 35 and 170 characters).
    moved = (
        f"CREATE TEMP TABLE moved ON COMMIT DROP AS "
        f"SELECT id, acv, tier_code AS old_code, tier_name AS old_name, tier_rank AS old_rank, "
        f"{code} AS code, {name} AS name, {rank} AS rank FROM accounts_account "
        f"WHERE tier_code IS DISTINCT FROM {code}"
    )
    columns = "ALTER TABLE moved ADD COLUMN explanation text, ADD COLUMN steps jsonb"
    described = (
        "UPDATE moved SET explanation = name || ': ACV ' || acv || ' meets its threshold', "
        "steps = jsonb_build_array(jsonb_build_object('kind', 'acv', 'tier', code, 'acv', acv, "
        "'text', 'ACV ' || acv || ' is at or above the threshold of ' || name), "
        "jsonb_build_object('kind', 'hysteresis', 'held', false))"
    )
    with transaction.atomic():
        move_every_nth_account()
        policy = TierPolicy.objects.get(status="active")
        review = TierReview.objects.create(policy=policy, status=ReviewStatus.FINISHED, is_open=None)
        params = {"policy": policy.pk, "review": review.pk, "fingerprint": "history-floor"}
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(moved, case_params)
            accounts = cursor.rowcount
            cursor.execute(columns)
            cursor.execute(described)
            written = []
            for statement in _HISTORY_STATEMENTS:
                cursor.execute(statement, params)
                written.append(cursor.rowcount)
            cursor.execute(_DEFERRED_CHECKS)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed, accounts, written


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
    reviews_left_open_failed()
    warm = run_review_in_child()  # brings every account up to date (slow only the first time)
    moved = move_every_nth_account()
    vacuum_between_nightly_reviews()
    baseline = min(raw_sql_baseline(), raw_sql_baseline())
    review = run_review_in_child()
    if review["status"] != "finished":
        raise RuntimeError(f"the review ended {review['status']}")
    seconds = review["seconds"]
    # After the timed review, so that its tables are as in every earlier run; the dead rows the
    # two rolled-back runs leave are vacuumed as autovacuum would.
    history, history_accounts, _ = min(history_sql_baseline(), history_sql_baseline())
    vacuum_as_autovacuum_would()
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
        Result(
            name="tier_review_1m_history_floor",
            value=history,
            unit="s",
            ratio=history / baseline,
            note=(
                f"reference: hand-written SQL writing the tier, a TierChange and a tier state for "
                f"each of {history_accounts:,} moved accounts, deferred checks included, rolled "
                f"back; ratio to the one-UPDATE baseline; the review takes {seconds / history:.2f}x this"
            ),
        ),
    ]


if __name__ == "__main__" and "--child" in sys.argv:
    child()
