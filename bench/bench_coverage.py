"""Coverage recompute over 100k accounts against a hand-written SQL aggregate of the same figures.

``coverage_recompute()`` (the nightly job) upserts ``EntitlementCoverage`` set-based and deletes
rows no longer entitled. The baseline is one hand-written SELECT computing the same figures
(cadence, last delivery, next due, deliveries and planned occurrences in the window) and
aggregating them, so nothing is written: the ratio is the price of materialising.

Accounts come from ``accounts.seeding.ensure_accounts``; accounts without a tier get one from
the default ACV thresholds (only where empty), and a delivery ledger of about three deliveries per
recurring entitlement is generated once (source ``manual`` without a source id).
``BENCH_COVERAGE_ACCOUNTS`` makes the run smaller while developing.
"""

from __future__ import annotations

import datetime as dt
import os

from bench.common import Context, Result

ORDER = 61
GOAL = 3.0

BASELINE_SQL = """
    WITH ent AS (
        SELECT a.id AS account_id, e.module_id, e.cadence_days,
               COALESCE(a.tier_updated_at::date, a.created_at::date) AS since
        FROM accounts_account a
        JOIN segmentation_tier t ON t.code = a.tier_code AND t.policy_id = %(policy_id)s
        JOIN playbooks_tierentitlement e ON e.tier_id = t.id AND e.cadence_days IS NOT NULL
    ), last AS (
        SELECT account_id, module_id, MAX(delivered_on) AS last_on,
               COUNT(*) FILTER (WHERE delivered_on > %(window_start)s) AS in_window
        FROM engagement_moduledelivery WHERE delivered_on <= %(today)s GROUP BY account_id, module_id
    )
    SELECT COUNT(*), MIN(COALESCE(l.last_on, ent.since) + ent.cadence_days),
           SUM(COALESCE(l.in_window, 0)),
           SUM(LEAST(%(window_days)s, GREATEST(0, %(today)s - ent.since))::numeric / ent.cadence_days)
    FROM ent LEFT JOIN last l ON l.account_id = ent.account_id AND l.module_id = ent.module_id
"""


def _prepare(n: int) -> None:
    from django.db import connection, transaction

    from accounts.seeding import ensure_accounts

    ensure_accounts(n)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE accounts_account SET
                tier_code = CASE WHEN acv >= 70000 THEN 'ENT' WHEN acv >= 50000 THEN 'MM1'
                                 WHEN acv >= 15000 THEN 'MM2' ELSE 'MM3' END,
                tier_rank = CASE WHEN acv >= 70000 THEN 1 WHEN acv >= 50000 THEN 2
                                 WHEN acv >= 15000 THEN 3 ELSE 4 END,
                tier_updated_at = now() - interval '200 days'
            WHERE tier_code = ''
            """
        )
        cursor.execute(
            """
            SELECT (SELECT COUNT(*) FROM engagement_moduledelivery
                    WHERE source = 'manual' AND source_id IS NULL),
                   3 * (SELECT COUNT(*) FROM accounts_account a
                        JOIN segmentation_tier t ON t.code = a.tier_code
                        JOIN segmentation_tierpolicy p ON p.id = t.policy_id AND p.status = 'active'
                        JOIN playbooks_tierentitlement e ON e.tier_id = t.id AND e.cadence_days IS NOT NULL)
            """
        )
        generated, wanted = cursor.fetchone()
        if generated < wanted:
            cursor.execute(
                "DELETE FROM engagement_moduledelivery WHERE source = 'manual' AND source_id IS NULL"
            )
            # ~3 deliveries per recurring entitlement, spread over the last 180 days.
            cursor.execute(
                """
                INSERT INTO engagement_moduledelivery
                    (account_id, module_id, delivered_at, delivered_on, source, source_id, created_at)
                SELECT a.id, e.module_id, d.at, d.at::date, 'manual', NULL, now()
                FROM accounts_account a
                JOIN segmentation_tier t ON t.code = a.tier_code
                JOIN segmentation_tierpolicy p ON p.id = t.policy_id AND p.status = 'active'
                JOIN playbooks_tierentitlement e ON e.tier_id = t.id AND e.cadence_days IS NOT NULL
                CROSS JOIN LATERAL (
                    SELECT now() - ((a.id * 7 + e.module_id * 13 + g * 61) % 180) * interval '1 day' AS at
                    FROM generate_series(1, 3) AS g
                ) d
                """
            )
        cursor.execute("ANALYZE engagement_moduledelivery")
        cursor.execute("ANALYZE accounts_account")


def run(ctx: Context) -> list[Result]:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from engagement.coverage.services import coverage_recompute
    from engagement.models import EntitlementCoverage
    from playbooks.selectors import active_policy

    n = int(os.environ.get("BENCH_COVERAGE_ACCOUNTS", "100000"))
    _prepare(n)
    policy = active_policy()
    assert policy is not None
    today = timezone.localdate()
    params = {
        "policy_id": policy.pk,
        "today": today,
        "window_start": today - dt.timedelta(days=settings.COVERAGE_WINDOW_DAYS),
        "window_days": settings.COVERAGE_WINDOW_DAYS,
    }
    coverage_recompute()  # first run fills the table; the nightly run is the steady state
    baseline = recompute = float("inf")
    for _ in range(3):
        with ctx.timer() as elapsed, connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, params)
            (rows, *_figures) = cursor.fetchone()
        baseline = min(baseline, elapsed())
        with ctx.timer() as elapsed:
            coverage_recompute()
        recompute = min(recompute, elapsed())
    stored = EntitlementCoverage.objects.count()
    assert stored == rows, f"coverage holds {stored} rows, the aggregate counts {rows}"
    return [
        Result(
            "coverage_recompute_100k",
            recompute,
            "s",
            ratio=recompute / baseline,
            goal=GOAL,
            note=f"{n} accounts, {rows} coverage rows; hand-written aggregate {baseline:.3f} s",
        )
    ]
