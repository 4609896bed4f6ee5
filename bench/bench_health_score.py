"""Scoring the health of 1,000,000 accounts with the active (default) scorecard, on PostgreSQL.

Measured: ``health_compute_book()``, the nightly run (the real service: primary-key chunks of
2,000, the usage and engagement inputs read set-based, each account scored and explained in
Python by the reference, the day's AccountHealth rows upserted and the accounts' latest health
updated, one committed transaction per chunk, ``health_band_changed`` sent for band changes).
Follow-up work it hands to engagement (flags for accounts falling into at risk) stays in the
outbox and is discarded afterwards: it is not the scoring's.

Baseline, same run, same data: ONE hand-written SQL statement that computes the same weighted
score from the same inputs, with the scorecard's step points, missing points, weights and bands
generated from the active scorecard: usage over the last 120 days (latest seat utilisation, the
90-day active-user trend, tickets over 30 days), coverage kept, open flags and days since the last
touch, then writes the day's AccountHealth rows (upsert) and the accounts' latest health in a
data-modifying CTE. It explains nothing (no explanation list, no sentence) and sends no signal:
the floor. It runs after the service, is rolled back, and its scores are compared with the
service's (the note gives how many differ). Goal: the service takes at most 3x as long.

Setup (not timed): ``ensure_accounts(n)``; 26 weeks of usage for every account (one INSERT ...
SELECT, see ``bench.health_data``); two touchpoints for 80% of accounts and an open flag for 5%.
``BENCH_HEALTH_ACCOUNTS`` sets n for development runs.
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench.common import Context, Result, follow_ups_dropped

ORDER = 45
ACCOUNTS = int(os.environ.get("BENCH_HEALTH_ACCOUNTS", "1000000"))
GOAL_RATIO = 3.0

# Per signal: the SQL expression of its value over the joined inputs (NULL: no value).
SIGNAL_SQL = {
    "active_users_trend_90d": "CASE WHEN u.periods >= 2 AND u.base_users > 0 "
    "THEN round((u.latest_users - u.base_users) * 100.0 / u.base_users, 1) END",
    "seat_utilisation": "CASE WHEN u.latest_seats > 0 "
    "THEN round(u.latest_users::numeric / u.latest_seats, 3) END",
    "support_tickets_30d": "COALESCE(u.tickets, 0)",
    "coverage_kept": "round(c.kept / NULLIF(c.planned, 0), 3)",
    "open_flags": "COALESCE(f.open, 0)",
    # GREATEST ignores NULLs: no touch must stay no value, not 0 days.
    "days_since_last_touch": "CASE WHEN t.last_day IS NOT NULL "
    "THEN GREATEST(0, %(today)s::date - t.last_day) END",
}

INPUTS_SQL = """
    usage_rows AS (
        SELECT account_id, period_start, active_users, licensed_seats, support_tickets,
               MAX(period_start) OVER (PARTITION BY account_id) AS latest_date
        FROM accounts_usagesnapshot WHERE period_start >= %(usage_since)s
    ),
    u AS (
        SELECT account_id, COUNT(*) AS periods,
               (array_agg(active_users ORDER BY period_start DESC))[1] AS latest_users,
               (array_agg(licensed_seats ORDER BY period_start DESC))[1] AS latest_seats,
               COALESCE((array_agg(active_users ORDER BY period_start DESC)
                            FILTER (WHERE period_start <= latest_date - %(trend_days)s))[1],
                        (array_agg(active_users ORDER BY period_start))[1]) AS base_users,
               SUM(support_tickets) FILTER (WHERE period_start >= %(ticket_since)s) AS tickets
        FROM usage_rows GROUP BY account_id
    ),
    c AS (
        SELECT account_id, SUM(planned_in_window) AS planned,
               SUM(LEAST(delivered_in_window::numeric, planned_in_window)) AS kept
        FROM engagement_entitlementcoverage GROUP BY account_id
    ),
    f AS (
        SELECT account_id, COUNT(*) AS open FROM engagement_flag WHERE status = 'open' GROUP BY account_id
    ),
    t AS (
        SELECT tp.account_id, (MAX(tp.occurred_at) AT TIME ZONE {zone})::date AS last_day
        FROM engagement_touchpoint tp JOIN accounts_account ta ON ta.id = tp.account_id
        GROUP BY tp.account_id, ta.region
    )
"""


def _points_sql(component: Any, value: str) -> str:
    whens = " ".join(f"WHEN v >= {start} THEN {points}" for start, points in reversed(component.steps[1:]))
    return (
        f"(SELECT CASE WHEN v IS NULL THEN {component.missing_points} {whens} "
        f"ELSE {component.steps[0][1]} END FROM (SELECT ({value})::numeric AS v) x)"
    )


def baseline_statement(scorecard: Any) -> str:
    """The floor: one statement scoring every non-churned account and writing both places."""
    from django.conf import settings

    from accounts.models import REGION_TIME_ZONES

    unknown = scorecard.signals - set(SIGNAL_SQL)
    if unknown:
        raise RuntimeError(f"the baseline has no SQL for the signals {sorted(unknown)}")
    zone = (
        "CASE ta.region "
        + " ".join(f"WHEN '{region}' THEN '{zone}'" for region, zone in REGION_TIME_ZONES.items())
        + f" ELSE '{settings.TIME_ZONE}' END"
    )
    weighted = " + ".join(
        f"{_points_sql(c, SIGNAL_SQL[c.signal])} * {c.weight}" for c in scorecard.components
    )
    return f"""
        WITH {INPUTS_SQL.format(zone=zone)},
        scored AS (
            SELECT a.id, LEAST(100, GREATEST(0, round(({weighted}) / {scorecard.total_weight})))::int AS score
            FROM accounts_account a
            LEFT JOIN u ON u.account_id = a.id
            LEFT JOIN c ON c.account_id = a.id
            LEFT JOIN f ON f.account_id = a.id
            LEFT JOIN t ON t.account_id = a.id
            WHERE a.lifecycle_stage <> 'churned'
        ),
        written AS (
            INSERT INTO segmentation_accounthealth
                (account_id, date, score, band, scorecard_id, explanation, summary, computed_at)
            SELECT id, %(today)s, score,
                   CASE WHEN score >= {scorecard.healthy_from} THEN 'healthy'
                        WHEN score >= {scorecard.watch_from} THEN 'watch' ELSE 'at_risk' END,
                   {scorecard.id}, '[]'::jsonb, '', now()
            FROM scored
            ON CONFLICT (account_id, date) DO UPDATE SET
                score = EXCLUDED.score, band = EXCLUDED.band, scorecard_id = EXCLUDED.scorecard_id,
                explanation = EXCLUDED.explanation, summary = EXCLUDED.summary,
                computed_at = EXCLUDED.computed_at
            RETURNING account_id, score, band
        )
        UPDATE accounts_account a SET health_score = w.score, health_band = w.band, health_on = %(today)s
        FROM written w
        WHERE a.id = w.account_id AND (a.health_on IS NULL OR a.health_on <= %(today)s)
    """


def raw_sql_baseline(today: Any) -> tuple[float, int, int]:
    """Run the floor (rolled back): (seconds, accounts scored, scores or bands that differ from
    the service's rows of the same day)."""
    import datetime as dt

    from django.db import connection, transaction

    from segmentation.account_metrics import TICKET_DAYS, TREND_DAYS, USAGE_LOOKBACK_DAYS
    from segmentation.services.health import active_scorecard_snapshot

    scorecard = active_scorecard_snapshot()
    statement = baseline_statement(scorecard)
    params = {
        "today": today,
        "usage_since": today - dt.timedelta(days=USAGE_LOOKBACK_DAYS),
        "ticket_since": today - dt.timedelta(days=TICKET_DAYS),
        "trend_days": TREND_DAYS,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_service_health ON COMMIT DROP AS "
            "SELECT account_id, score, band FROM segmentation_accounthealth WHERE date = %s",
            [today],
        )
        started = time.perf_counter()
        cursor.execute(statement, params)
        elapsed = time.perf_counter() - started
        scored = cursor.rowcount
        cursor.execute(
            "SELECT COUNT(*) FROM bench_service_health s JOIN segmentation_accounthealth h "
            "ON h.account_id = s.account_id AND h.date = %s WHERE h.score <> s.score OR h.band <> s.band",
            [today],
        )
        differ = cursor.fetchone()[0]
        transaction.set_rollback(True)
    return elapsed, scored, differ


def run_service(today: Any) -> tuple[float, int]:
    from django.conf import settings

    from segmentation.services.health import health_compute_book

    debug = settings.DEBUG
    settings.DEBUG = False  # as in production: no query log kept in memory
    try:
        with follow_ups_dropped():  # the follow-ups are other apps' work, not the scoring's
            started = time.perf_counter()
            scored = health_compute_book(today=today)
            elapsed = time.perf_counter() - started
    finally:
        settings.DEBUG = debug
    return elapsed, scored


def run(ctx: Context) -> list[Result]:
    from django.utils import timezone

    from accounts.seeding import ensure_accounts
    from bench import health_data

    setup_started = time.perf_counter()
    total = ensure_accounts(ACCOUNTS)
    usage_rows = health_data.ensure_usage_for_all()
    touchpoints, flags = health_data.ensure_engagement_inputs()
    setup = time.perf_counter() - setup_started
    today = timezone.localdate()
    seconds, scored = run_service(today)
    baseline, baseline_scored, differ = raw_sql_baseline(today)
    return [
        Result(
            name="health_score_1m",
            value=seconds,
            unit="s",
            ratio=seconds / baseline,
            goal=GOAL_RATIO,
            note=(
                f"{scored:,} of {total:,} accounts scored (service {seconds:.1f} s, "
                f"{scored / seconds:,.0f}/s); baseline one INSERT ... SELECT + UPDATE {baseline:.1f} s "
                f"for {baseline_scored:,} accounts, {differ:,} scores/bands differ from the service's; "
                f"setup {setup:.0f} s ({usage_rows:,} usage rows, {touchpoints:,} touchpoints, "
                f"{flags:,} flags added now)"
            ),
        )
    ]
