"""Setup shared by the health and retention benches: usage for every account, renewal outcomes,
tier history and older usage for the backtest. Each step is set-based SQL (not timed), detects
what a previous run left and does only what is missing, and returns a count for the notes.

The figures follow ``accounts.seeding._usage_rows`` (seats from ACV, a trend per account: growing,
flat, declining or spiky, weekly noise, exponential tickets), with the random draws replaced by
hashes of the account id and week so that every run produces the same rows. Outcomes lean on the
same trend (declining accounts churn and contract more often), as a real book would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

BENCH_SOURCE = "bench"
# Retention: one account in four renews in the year: 250,000 outcomes over 1,000,000 accounts,
# 25,000 among the first 100,000 (the backtest's share).
OUTCOME_EVERY_NTH = 4
# Accounts whose tier moved during the year (a review change after the initial tiering).
TIER_MOVE_EVERY_NTH = 20
# The backtest scores accounts 90 days before each renewal over the last 12 months, reading 120
# days of usage: weekly usage back to ~19 months ago for the accounts it reads.
BACKTEST_WEEKS = 84

# A uniform draw in [0, 1) from an integer key (deterministic, unlike random()).
_U = "((hashint8(({key})::bigint) & 2147483647)::numeric / 2147483648)"


def _u(key: str) -> str:
    return _U.format(key=key)


def _usage_insert(where: str) -> str:
    """INSERT ... SELECT of weekly usage rows for the accounts matching ``where`` (alias ``a``),
    for the weeks in ``%(weeks)s``; rows already there are kept."""
    trend = f"""CASE WHEN a.lifecycle_stage = 'churned' THEN 'declining'
                     WHEN {_u("a.id * 7 + 1")} < 0.30 THEN 'growing'
                     WHEN {_u("a.id * 7 + 1")} < 0.65 THEN 'flat'
                     WHEN {_u("a.id * 7 + 1")} < 0.85 THEN 'declining' ELSE 'spiky' END"""
    return f"""
        INSERT INTO accounts_usagesnapshot
            (account_id, period_start, active_users, licensed_seats, feature_adoption,
             support_tickets, created_at, updated_at)
        SELECT s.id, w.period_start,
               round(s.seats * LEAST(1.0, s.base_use * f.factor)),
               s.seats,
               round(LEAST(1.0, s.base_adoption * (0.5 + f.factor / 2)), 3),
               floor(-ln(1 - f.u_ticket) * s.tickets_per_week
                     * CASE WHEN f.spike OR s.trend = 'declining' THEN 2.5 ELSE 1 END),
               now(), now()
        FROM (
            SELECT a.id, {trend} AS trend,
                   GREATEST(5, LEAST(20000, floor(a.acv / 400)))::int AS seats,
                   0.35 + {_u("a.id * 7 + 2")} * 0.5 AS base_use,
                   0.2 + {_u("a.id * 7 + 3")} * 0.5 AS base_adoption,
                   0.3 + GREATEST(5, LEAST(20000, floor(a.acv / 400))) / 150.0 AS tickets_per_week
            FROM accounts_account a WHERE {where}
        ) s
        CROSS JOIN unnest(%(weeks)s::date[]) AS w(period_start)
        CROSS JOIN LATERAL (
            SELECT (w.period_start - %(first_week)s::date) / 7 AS n,
                   {_u("s.id * 1000 + (w.period_start - '2000-01-03'::date) / 7")} AS u_spike,
                   {_u("s.id * 1000 + (w.period_start - '2000-01-03'::date) / 7 + 500")} AS u_noise,
                   LEAST(0.999999, {_u("s.id * 3000 + (w.period_start - '2000-01-03'::date) / 7")})
                       AS u_ticket
        ) d
        CROSS JOIN LATERAL (
            SELECT d.u_ticket,
                   s.trend = 'spiky' AND d.u_spike < 0.18 AS spike,
                   (CASE s.trend
                        WHEN 'growing' THEN 0.6 + 0.7 * d.n / %(last)s
                        WHEN 'declining' THEN 1.15 - 0.75 * d.n / %(last)s
                        WHEN 'spiky' THEN CASE WHEN d.u_spike < 0.18 THEN 1.6 ELSE 0.75 END
                        ELSE 1.0 END) * (0.95 + d.u_noise * 0.1) AS factor
        ) f
        ON CONFLICT (account_id, period_start) DO NOTHING
    """


def _weeks(count: int, *, before: int = 0) -> list[dt.date]:
    """Mondays of ``count`` complete weeks ending ``before`` weeks before the current week."""
    today = timezone.localdate()
    this_monday = today - dt.timedelta(days=today.weekday())
    return [this_monday - dt.timedelta(weeks=before + count - offset) for offset in range(count)]


def _execute(sql: str, params: Any = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _scalar(sql: str, params: Any = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def ensure_usage_for_all(weeks: int = 26) -> int:
    """Give every account without usage ``weeks`` weeks of it (ensure_accounts gives usage to a
    few thousand only); returns the rows inserted (0 when every account has usage)."""
    missing = _scalar(
        "SELECT EXISTS (SELECT 1 FROM accounts_account a WHERE NOT EXISTS "
        "(SELECT 1 FROM accounts_usagesnapshot u WHERE u.account_id = a.id))"
    )
    if not missing:
        return 0
    periods = _weeks(weeks)
    with transaction.atomic():
        inserted = _execute(
            _usage_insert("NOT EXISTS (SELECT 1 FROM accounts_usagesnapshot u WHERE u.account_id = a.id)"),
            {"weeks": periods, "first_week": periods[0], "last": max(1, weeks - 1)},
        )
    _execute("ANALYZE accounts_usagesnapshot")
    return inserted


def _tier_case(column: str) -> tuple[str, list[Any]]:
    from segmentation.models import TierPolicy

    policy = TierPolicy.objects.prefetch_related("tiers").get(status="active")
    tiers = sorted(policy.tiers.all(), key=lambda t: t.rank)
    whens = " ".join("WHEN a.acv >= %s THEN %s" for _ in tiers[:-1])
    params: list[Any] = []
    for tier in tiers[:-1]:
        params += [tier.min_acv, getattr(tier, column)]
    return f"CASE {whens} ELSE %s END", [*params, getattr(tiers[-1], column)]


def ensure_tier_history() -> int:
    """Applied tier changes dated in the past, so "the tier held on the renewal date" is a real
    look-up: every account's initial tiering about two years ago, and for one account in twenty
    a review change to the next tier down (or up, for the lowest) on a day of the last year.
    (A first tier review would apply its changes today, after every renewal of the year.)
    Accounts without a tier get the one their initial change gave. Returns the rows inserted."""
    from segmentation.models import TierPolicy

    if _scalar("SELECT EXISTS (SELECT 1 FROM segmentation_tierchange WHERE explanation = 'bench history')"):
        return 0
    policy_id = TierPolicy.objects.get(status="active").pk
    code, code_params = _tier_case("code")
    name, name_params = _tier_case("name")
    rank, rank_params = _tier_case("rank")
    max_rank = _scalar("SELECT MAX(rank) FROM segmentation_tier WHERE policy_id = %s", [policy_id])
    with transaction.atomic():
        inserted = _execute(
            f"""
            INSERT INTO segmentation_tierchange
                (account_id, policy_id, from_code, from_name, to_code, to_name, to_rank, explanation,
                 steps, source, status, created_at, applied_at, decision_note)
            SELECT a.id, %s, '', '', {code}, {name}, {rank}, 'bench history', '[]'::jsonb,
                   'initial', 'applied', t.at, t.at, ''
            FROM accounts_account a
            CROSS JOIN LATERAL (SELECT now() - interval '700 days'
                                       - ({_u("a.id * 11")} * 200)::float8 * interval '1 day' AS at) t
            """,
            [policy_id, *code_params, *name_params, *rank_params],
        )
        moved = f"""
            INSERT INTO segmentation_tierchange
                (account_id, policy_id, from_code, from_name, from_rank, to_code, to_name, to_rank,
                 explanation, steps, source, status, created_at, applied_at, decision_note)
            SELECT a.id, %(policy)s, c.to_code, c.to_name, c.to_rank, t.code, t.name, t.rank,
                   'bench history', '[]'::jsonb, 'review', 'applied', m.at, m.at, ''
            FROM accounts_account a
            JOIN segmentation_tierchange c ON c.account_id = a.id AND c.explanation = 'bench history'
            JOIN segmentation_tier t ON t.policy_id = %(policy)s
                 AND t.rank = CASE WHEN c.to_rank = %(max_rank)s THEN c.to_rank - 1 ELSE c.to_rank + 1 END
            CROSS JOIN LATERAL (SELECT now() - ({_u("a.id * 13")} * 365)::float8 * interval '1 day' AS at) m
            WHERE mod(a.id, %(every)s) = 0
        """
        inserted += _execute(moved, {"policy": policy_id, "max_rank": max_rank, "every": TIER_MOVE_EVERY_NTH})
        # The account holds the tier of its latest change.
        _execute(
            """
            UPDATE accounts_account a SET tier_code = c.to_code, tier_name = c.to_name,
                   tier_rank = c.to_rank, tier_updated_at = c.applied_at
            FROM (SELECT DISTINCT ON (account_id) account_id, to_code, to_name, to_rank, applied_at
                  FROM segmentation_tierchange WHERE explanation = 'bench history'
                  ORDER BY account_id, applied_at DESC) c
            WHERE a.id = c.account_id AND a.tier_code = ''
            """
        )
    # As autovacuum would soon: statistics, and the visibility map for index-only look-ups.
    _execute("VACUUM (ANALYZE) segmentation_tierchange")
    _execute("ANALYZE accounts_account")
    return inserted


def ensure_outcomes() -> int:
    """One renewal outcome in the last year for every fourth account (250,000 of 1,000,000),
    consistent with the outcome rules; declining accounts churn and contract more often.
    Returns the outcomes there (inserted now or before)."""
    wanted = _scalar(f"SELECT COUNT(*) FROM accounts_account WHERE mod(id, {OUTCOME_EVERY_NTH}) = 0")
    there = _scalar("SELECT COUNT(*) FROM accounts_renewaloutcome WHERE source = %s", [BENCH_SOURCE])
    if there >= wanted:
        return there
    today = timezone.localdate()
    with transaction.atomic():
        _execute("DELETE FROM accounts_renewaloutcome WHERE source = %s", [BENCH_SOURCE])
        inserted = _execute(
            f"""
            INSERT INTO accounts_renewaloutcome
                (account_id, renewal_date, outcome, arr_before, arr_after, churn_reason, note, source,
                 created_at, updated_at)
            SELECT id, renewal_date, outcome, arr_before,
                   CASE outcome WHEN 'churned' THEN 0
                                WHEN 'expanded' THEN round(arr_before * (1.05 + u * 0.25), 2) + 1
                                WHEN 'contracted' THEN round(arr_before * (0.6 + u * 0.3), 2)
                                ELSE arr_before END,
                   CASE WHEN outcome = 'churned'
                        THEN (ARRAY['budget', 'product_fit', 'competitor', 'champion_left',
                                    'acquired', 'service', 'other'])[1 + floor(u * 7)::int]
                        ELSE '' END,
                   '', %(source)s, now(), now()
            FROM (
                SELECT a.id, %(today)s::date - 1 - floor({_u("a.id * 17")} * 365)::int AS renewal_date,
                       a.acv AS arr_before, {_u("a.id * 19")} AS u,
                       CASE WHEN p.r < p.churn THEN 'churned'
                            WHEN p.r < p.churn + p.contract AND a.acv > 0 THEN 'contracted'
                            WHEN p.r > 0.78 THEN 'expanded'
                            ELSE 'renewed' END AS outcome
                FROM accounts_account a
                CROSS JOIN LATERAL (
                    SELECT {_u("a.id * 23")} AS r,
                           CASE WHEN a.lifecycle_stage = 'churned'
                                     OR {_u("a.id * 7 + 1")} BETWEEN 0.65 AND 0.85
                                THEN 0.30 ELSE 0.07 END AS churn,
                           CASE WHEN {_u("a.id * 7 + 1")} BETWEEN 0.65 AND 0.85 THEN 0.20 ELSE 0.08 END
                               AS contract
                ) p
                WHERE mod(a.id, {OUTCOME_EVERY_NTH}) = 0
            ) o
            """,
            {"source": BENCH_SOURCE, "today": today},
        )
    _execute("ANALYZE accounts_renewaloutcome")
    return inserted


def ensure_backtest_usage(first_accounts: int) -> int:
    """Weekly usage before the usual 26 weeks, back to ``BACKTEST_WEEKS`` weeks ago, for the
    accounts among the first ``first_accounts`` that have an outcome: the backtest scores them as
    they were 90 days before renewals up to a year ago. Returns the rows inserted."""
    older = _weeks(BACKTEST_WEEKS - 26, before=26)
    limit_id = _scalar(
        "SELECT MAX(id) FROM (SELECT id FROM accounts_account ORDER BY id LIMIT %s) first", [first_accounts]
    )
    if _scalar(
        "SELECT EXISTS (SELECT 1 FROM accounts_usagesnapshot WHERE period_start = %s AND account_id <= %s)",
        [older[0], limit_id],
    ):
        return 0
    # The trend runs over the whole history: week n of BACKTEST_WEEKS.
    every = _weeks(BACKTEST_WEEKS)
    with transaction.atomic():
        inserted = _execute(
            _usage_insert(f"a.id <= %(limit_id)s AND mod(a.id, {OUTCOME_EVERY_NTH}) = 0"),
            {"weeks": older, "first_week": every[0], "last": BACKTEST_WEEKS - 1, "limit_id": limit_id},
        )
    _execute("ANALYZE accounts_usagesnapshot")
    return inserted


def ensure_engagement_inputs() -> tuple[int, int]:
    """Touchpoints and open flags, so two of health's engagement inputs read real rows: four
    accounts in five have two touchpoints in the last 200 days (notes ``bench``), one in twenty an
    open flag (explanation ``bench``). Entitlement coverage is left to the coverage bench (an
    account without coverage earns the component's missing points). Returns (touchpoints, flags)
    inserted now."""
    touchpoints = flags = 0
    if not _scalar("SELECT EXISTS (SELECT 1 FROM engagement_touchpoint WHERE notes = 'bench')"):
        with transaction.atomic():
            touchpoints = _execute(
                f"""
                INSERT INTO engagement_touchpoint
                    (account_id, kind, occurred_at, minutes, notes, crm_source, external_id,
                     created_at, updated_at)
                SELECT a.id, (ARRAY['call', 'meeting', 'email', 'qbr'])[1 + k],
                       now() - ({_u("a.id * 4 + k")} * 200)::float8 * interval '1 day', 30, 'bench',
                       '', '', now(), now()
                FROM accounts_account a CROSS JOIN generate_series(0, 1) AS k
                WHERE {_u("a.id * 29")} < 0.8
                """
            )
    if not _scalar("SELECT EXISTS (SELECT 1 FROM engagement_flag WHERE explanation = 'bench')"):
        with transaction.atomic():
            flags = _execute(
                f"""
                INSERT INTO engagement_flag (account_id, kind, status, explanation, detail, raised_at,
                                             expires_at, resolution_note)
                SELECT a.id, 'usage_drop', 'open', 'bench', '{{}}'::jsonb, now() - interval '3 days',
                       now() + interval '11 days', ''
                FROM accounts_account a
                WHERE {_u("a.id * 31")} < 0.05
                ON CONFLICT DO NOTHING
                """
            )
    _execute("ANALYZE engagement_touchpoint")
    _execute("ANALYZE engagement_flag")
    return touchpoints, flags
