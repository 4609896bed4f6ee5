"""Set-based writes of a health batch: the day's AccountHealth rows and the latest health on accounts.

SQL because a batch (up to ``HEALTH_CHUNK`` accounts) is written with one statement each: arrays
are bound once and unnested, instead of one UPDATE per account. Neither mirrors a rule; the rows
were scored in Python (``segmentation.health``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import AccountHealth


@dataclass(frozen=True)
class HealthRow:
    account_id: int
    score: int
    band: str
    explanation: list[list[Any]]  # as ``health.explanation_kept`` keeps it
    summary: str


def account_health_upsert(*, rows: Sequence[HealthRow], date: dt.date, scorecard_id: int) -> None:
    """One AccountHealth row per account for ``date``; a recompute the same day replaces it."""
    if not rows:
        return
    query = sql.SQL("""
        INSERT INTO {health}
            (account_id, date, score, band, scorecard_id, explanation, summary, computed_at)
        SELECT v.account_id, %(date)s, v.score, v.band, %(scorecard_id)s, v.explanation::jsonb,
               v.summary, now()
        FROM unnest(%(account_ids)s::bigint[], %(scores)s::int[], %(bands)s::text[],
                    %(explanations)s::text[], %(summaries)s::text[])
             AS v(account_id, score, band, explanation, summary)
        ON CONFLICT (account_id, date) DO UPDATE SET
            score = EXCLUDED.score, band = EXCLUDED.band, scorecard_id = EXCLUDED.scorecard_id,
            explanation = EXCLUDED.explanation, summary = EXCLUDED.summary, computed_at = EXCLUDED.computed_at
    """).format(health=sql.Identifier(AccountHealth._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(
            query.as_string(None),
            {
                "date": date,
                "scorecard_id": scorecard_id,
                "account_ids": [r.account_id for r in rows],
                "scores": [r.score for r in rows],
                "bands": [r.band for r in rows],
                "explanations": [json.dumps(r.explanation) for r in rows],
                "summaries": [r.summary for r in rows],
            },
        )


def accounts_latest_health_update(*, rows: Sequence[HealthRow], date: dt.date) -> None:
    """Keep the latest health on the accounts (for lists, ordering and tier rules), unless an
    account already holds a later day's health."""
    if not rows:
        return
    query = sql.SQL("""
        UPDATE {accounts} AS a
        SET health_score = v.score, health_band = v.band, health_on = %(date)s
        FROM unnest(%(account_ids)s::bigint[], %(scores)s::int[], %(bands)s::text[]) AS v(id, score, band)
        WHERE a.id = v.id AND (a.health_on IS NULL OR a.health_on <= %(date)s)
    """).format(accounts=sql.Identifier(Account._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(
            query.as_string(None),
            {
                "date": date,
                "account_ids": [r.account_id for r in rows],
                "scores": [r.score for r in rows],
                "bands": [r.band for r in rows],
            },
        )
