"""Coverage recompute of 100,000 accounts on the next day, against a hand-written SQL aggregate.

Measured: the nightly job's unit of work, ``coverage_rewrite`` over one chunk of 100,000 accounts
(the first 100,000 ids; the bench database may hold a million), run as of the day after the
figures were last computed, so it really rewrites rows (the window moves past deliveries, due
days pass and a young entitlement's planned deliveries grow with them). Three consecutive days
are timed (tomorrow, the day after, the one after), the best reported; the note says how many
stored rows each run rewrote, counted from the row versions before and after. The table
outside the chunk is not touched.

Baseline, same run, same accounts, same day: one hand-written SELECT computing the same figures
(cadence, last delivery, next due, deliveries in the window and those due so far in it) and
aggregating them, so nothing is written: the ratio is the price of materialising. Goal: at most
3x.

Accounts come from ``accounts.seeding.ensure_accounts``; accounts of the chunk without a tier get
one from the default ACV thresholds (only where empty), and a delivery ledger of about three
deliveries per recurring entitlement is generated once for the chunk (source ``manual`` without a
source id). ``BENCH_COVERAGE_ACCOUNTS`` makes the run smaller while developing.
"""

from __future__ import annotations

import datetime as dt
import os

from bench.common import Context, Result

ORDER = 61
GOAL = 3.0
DAYS = 3

BASELINE_SQL = """
    WITH ent AS (
        SELECT a.id AS account_id, e.module_id, e.cadence_days,
               COALESCE(a.tier_updated_at::date, a.created_at::date) AS since
        FROM accounts_account a
        JOIN segmentation_tier t ON t.code = a.tier_code AND t.policy_id = %(policy_id)s
        JOIN playbooks_tierentitlement e ON e.tier_id = t.id AND e.cadence_days IS NOT NULL
        WHERE a.id BETWEEN %(low)s AND %(high)s AND a.lifecycle_stage <> 'churned'
    ), last AS (
        SELECT account_id, module_id, MAX(delivered_on) AS last_on,
               COUNT(*) FILTER (WHERE delivered_on > %(window_start)s) AS in_window
        FROM engagement_moduledelivery
        WHERE delivered_on <= %(today)s AND account_id BETWEEN %(low)s AND %(high)s
        GROUP BY account_id, module_id
    )
    SELECT COUNT(*), MIN(COALESCE(l.last_on, ent.since) + ent.cadence_days),
           SUM(COALESCE(l.in_window, 0)),
           SUM(LEAST(%(window_days)s::numeric / ent.cadence_days,
                     GREATEST(0, %(today)s - ent.since) / ent.cadence_days))
    FROM ent LEFT JOIN last l ON l.account_id = ent.account_id AND l.module_id = ent.module_id
"""


def _prepare(low: int, high: int) -> None:
    from django.db import connection, transaction

    scope = {"low": low, "high": high}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE accounts_account SET
                tier_code = CASE WHEN acv >= 70000 THEN 'ENT' WHEN acv >= 50000 THEN 'MM1'
                                 WHEN acv >= 15000 THEN 'MM2' ELSE 'MM3' END,
                tier_rank = CASE WHEN acv >= 70000 THEN 1 WHEN acv >= 50000 THEN 2
                                 WHEN acv >= 15000 THEN 3 ELSE 4 END,
                tier_updated_at = now() - interval '200 days'
            WHERE tier_code = '' AND id BETWEEN %(low)s AND %(high)s
            """,
            scope,
        )
        entitled = """
            FROM accounts_account a
            JOIN segmentation_tier t ON t.code = a.tier_code
            JOIN segmentation_tierpolicy p ON p.id = t.policy_id AND p.status = 'active'
            JOIN playbooks_tierentitlement e ON e.tier_id = t.id AND e.cadence_days IS NOT NULL
            WHERE a.id BETWEEN %(low)s AND %(high)s
        """
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM engagement_moduledelivery WHERE source = 'manual' "
            "AND source_id IS NULL AND account_id BETWEEN %(low)s AND %(high)s), "
            f"3 * (SELECT COUNT(*) {entitled})",
            scope,
        )
        generated, wanted = cursor.fetchone()
        if generated < wanted:
            cursor.execute(
                "DELETE FROM engagement_moduledelivery WHERE source = 'manual' AND source_id IS NULL "
                "AND account_id BETWEEN %(low)s AND %(high)s",
                scope,
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
                    SELECT now() - ((a.id * 7 + e.module_id * 13 + g * 61) %% 180) * interval '1 day' AS at
                    FROM generate_series(1, 3) AS g
                ) d
                WHERE a.id BETWEEN %(low)s AND %(high)s
                """,
                scope,
            )
        cursor.execute("ANALYZE engagement_moduledelivery")
        cursor.execute("ANALYZE engagement_entitlementcoverage")
        cursor.execute("ANALYZE accounts_account")


def _row_versions(low: int, high: int) -> dict[tuple[int, int], str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, module_id, xmin::text FROM engagement_entitlementcoverage "
            "WHERE account_id BETWEEN %s AND %s",
            [low, high],
        )
        return {(a, m): x for a, m, x in cursor.fetchall()}


def run(ctx: Context) -> list[Result]:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Account
    from accounts.seeding import ensure_accounts
    from engagement.coverage.queries import coverage_rewrite
    from engagement.models import EntitlementCoverage
    from playbooks.selectors import active_policy

    n = int(os.environ.get("BENCH_COVERAGE_ACCOUNTS", "100000"))
    ensure_accounts(n)
    ids = Account.objects.order_by("id").values_list("id", flat=True)
    low, high = ids[0], ids[n - 1]
    _prepare(low, high)
    policy = active_policy()
    assert policy is not None
    window_days = settings.COVERAGE_WINDOW_DAYS
    today = timezone.localdate()
    # The steady state: the chunk's figures as of today are stored (untimed).
    coverage_rewrite(policy_id=policy.pk, today=today, window_days=window_days, id_range=(low, high))
    baseline = recompute = float("inf")
    rewritten: list[int] = []
    rows = 0
    for offset in range(1, DAYS + 1):
        day = today + dt.timedelta(days=offset)
        params = {
            "policy_id": policy.pk,
            "today": day,
            "window_start": day - dt.timedelta(days=window_days),
            "window_days": window_days,
            "low": low,
            "high": high,
        }
        with ctx.timer() as elapsed, connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, params)
            (rows, *_figures) = cursor.fetchone()
        baseline = min(baseline, elapsed())
        before = _row_versions(low, high)
        with ctx.timer() as elapsed:
            coverage_rewrite(policy_id=policy.pk, today=day, window_days=window_days, id_range=(low, high))
        recompute = min(recompute, elapsed())
        after = _row_versions(low, high)
        rewritten.append(sum(1 for key, version in after.items() if before.get(key) != version))
    stored = EntitlementCoverage.objects.filter(account_id__gte=low, account_id__lte=high).count()
    assert stored == rows, f"coverage holds {stored} rows for the chunk, the aggregate counts {rows}"
    return [
        Result(
            "coverage_recompute_100k",
            recompute,
            "s",
            ratio=recompute / baseline,
            goal=GOAL,
            note=(
                f"{n:,} accounts (ids {low}-{high}), {rows:,} coverage rows; next-day runs rewrote "
                f"{', '.join(f'{r:,}' for r in rewritten)} rows; hand-written aggregate {baseline:.3f} s"
            ),
        )
    ]
