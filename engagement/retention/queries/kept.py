"""The writers of the retention report's kept answers: an outcome's historical segments once its
renewal day has ended (``RenewalOutcome.segments_at_renewal``), forgotten when a late fact changes
them, and the per-day sums (``RetentionDaySums``) the report reads. The look-ups they keep are the
report's own (``engagement.retention.queries``), so a kept answer and a live one cannot differ."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection
from psycopg import sql

from accounts.models import RenewalOutcome, RenewalOutcomeKind

from ...models import RetentionDaySums
from ...sql import table
from . import (
    _DIMENSION_SQL,
    _POLICY_TIER,
    HISTORICAL,
    OVERRIDE_REASON,
    OVERRIDE_REASON_TIER,
    POLICY_TIER_KEY,
    _lookups,
    _params,
)

# Every historical answer of the outcomes whose renewal day has ended and that have none yet
# (optionally of some accounts), written into ``segments_at_renewal`` in one statement.
_SETTLE = sql.SQL("""
    UPDATE {outcomes} r SET segments_at_renewal = settled.segments
    FROM (
        SELECT o.id, jsonb_build_object({pairs}) AS segments
        FROM (
            SELECT r.id, r.account_id, r.renewal_date FROM {outcomes} r
            WHERE r.segments_at_renewal IS NULL AND r.renewal_date < %(ended_before)s AND {scope}
        ) o {lookups}
    ) settled
    WHERE r.id = settled.id""")


def renewal_segments_settle_sql(*, ended_before: dt.date, account_ids: Sequence[int] | None) -> list[dt.date]:
    """Answer the historical dimensions of the outcomes dated before ``ended_before`` that have no
    answers yet; returns the renewal date of each outcome settled."""
    pairs: list[sql.Composable] = []
    for dimension in HISTORICAL:
        pairs += [sql.Literal(dimension), sql.SQL(_DIMENSION_SQL[dimension][1])]  # type: ignore[arg-type]
    pairs += [sql.Literal(POLICY_TIER_KEY), sql.SQL(_POLICY_TIER[OVERRIDE_REASON])]  # type: ignore[arg-type]
    statement = _SETTLE.format(
        outcomes=table(RenewalOutcome),
        pairs=sql.SQL(", ").join(pairs),
        scope=sql.SQL("r.account_id = ANY(%(account_ids)s)") if account_ids is not None else sql.SQL("TRUE"),
        lookups=_lookups(HISTORICAL),
    )
    params = _params(
        ended_before=ended_before, account_ids=list(account_ids) if account_ids is not None else None
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(None) + " RETURNING r.renewal_date", params)
        return [row[0] for row in cursor.fetchall()]


def renewal_segments_forget_sql(
    *, account_ids: Sequence[int] | None, renewed_from: dt.date | None
) -> list[dt.date]:
    """Drop the kept segments of the outcomes of ``account_ids`` (None: all) dated on or after
    ``renewed_from`` (None: any day); returns the renewal date of each outcome forgotten."""
    statement = sql.SQL("""
        UPDATE {outcomes} SET segments_at_renewal = NULL
        WHERE segments_at_renewal IS NOT NULL
          AND (%(account_ids)s::bigint[] IS NULL OR account_id = ANY(%(account_ids)s::bigint[]))
          AND (%(renewed_from)s::date IS NULL OR renewal_date >= %(renewed_from)s::date)
        RETURNING renewal_date""").format(outcomes=table(RenewalOutcome))
    params = {
        "account_ids": list(account_ids) if account_ids is not None else None,
        "renewed_from": renewed_from,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(None), params)
        return [row[0] for row in cursor.fetchall()]


# The day sums of some renewal days (every day: ``dates`` NULL), rebuilt from the kept segments.
# One rebuild at a time (a transaction-scoped advisory lock): two writers of the same day would
# otherwise each delete and insert its rows.
_DAY_SUMS_LOCK = sql.SQL("SELECT pg_advisory_xact_lock(hashtext('engagement.retention_day_sums'))")
_DAY_SUMS_DELETE = sql.SQL(
    "DELETE FROM {day_sums} WHERE %(dates)s::date[] IS NULL OR renewal_date = ANY(%(dates)s::date[])"
)
_DAY_SUMS_INSERT = sql.SQL("""
    INSERT INTO {day_sums}
        (renewal_date, dimension, grp, renewals, arr_before, arr_after, arr_kept, churned)
    SELECT r.renewal_date, kept.key, kept.value, COUNT(*), SUM(r.arr_before), SUM(r.arr_after),
           SUM(LEAST(r.arr_after, r.arr_before)), COUNT(*) FILTER (WHERE r.outcome = %(churned)s)
    FROM {outcomes} r
    CROSS JOIN LATERAL jsonb_each_text(r.segments_at_renewal) kept
    WHERE r.segments_at_renewal IS NOT NULL AND kept.key = ANY(%(dimensions)s)
      AND (%(dates)s::date[] IS NULL OR r.renewal_date = ANY(%(dates)s::date[]))
    GROUP BY r.renewal_date, kept.key, kept.value""")


def renewal_segments_add_override_reason_tier_sql() -> None:
    """Add ``OVERRIDE_REASON_TIER`` to the segments kept before it existed, from the reason and
    policy tier they already keep (the same answers its look-up gives), then rebuild every day's
    sums. Once, when the dimension was introduced."""
    statement = sql.SQL("""
        UPDATE {outcomes} SET segments_at_renewal = segments_at_renewal || jsonb_build_object(
            %(dimension)s::text,
            (segments_at_renewal ->> %(reason)s) || chr(31) || COALESCE(segments_at_renewal ->> %(tier)s, ''))
        WHERE segments_at_renewal IS NOT NULL AND NOT segments_at_renewal ? %(dimension)s""").format(
        outcomes=table(RenewalOutcome)
    )
    params = {"dimension": OVERRIDE_REASON_TIER, "reason": OVERRIDE_REASON, "tier": POLICY_TIER_KEY}
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(None), params)
    retention_day_sums_rebuild_sql(dates=None)


def retention_day_sums_rebuild_sql(*, dates: Sequence[dt.date] | None) -> None:
    names = {"day_sums": table(RetentionDaySums), "outcomes": table(RenewalOutcome)}
    params = {
        "dates": sorted(set(dates)) if dates is not None else None,
        "churned": RenewalOutcomeKind.CHURNED.value,
        "dimensions": list(HISTORICAL),
    }
    with connection.cursor() as cursor:
        cursor.execute(_DAY_SUMS_LOCK.as_string(None))
        cursor.execute(_DAY_SUMS_DELETE.format(**names).as_string(None), params)
        cursor.execute(_DAY_SUMS_INSERT.format(**names).as_string(None), params)
