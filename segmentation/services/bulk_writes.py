"""Set-based writes of a batch's outcome: account tiers, tier state, tier changes.

On PostgreSQL, batches of COPY_THRESHOLD rows and more are streamed with COPY into a temporary
table and applied with one statement each (``UPDATE ... FROM``, ``INSERT ... ON CONFLICT``,
``INSERT ... SELECT ... RETURNING``): about ten times faster than binding thousands of query
parameters. Smaller batches (events, overrides) and SQLite use plain statements.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection

from accounts.models import Account

from ..models import AccountTierState, TierChange

COPY_THRESHOLD = 200
# Rows per VALUES statement on the small path: 8 parameters each stays below driver limits.
VALUES_BATCH = 1000

STATE_COLUMNS = (
    "account_id",
    "policy_id",
    "policy_tier_code",
    "policy_tier_rank",
    "pending_downgrade_reviews",
    "last_review_id",
    "steps",
    "flags",
    "evaluated_at",
)
CHANGE_COLUMNS = (
    "account_id",
    "policy_id",
    "review_id",
    "override_id",
    "from_code",
    "from_name",
    "from_rank",
    "to_code",
    "to_name",
    "to_rank",
    "explanation",
    "steps",
    "source",
    "status",
    "by_id",
    "created_at",
    "applied_at",
    "decided_by_id",
    "decided_at",
    "decision_note",
)


@dataclass(slots=True)
class StateRow:
    """One AccountTierState row to upsert (a plain object: a model instance costs 10x more)."""

    account_id: int
    policy_id: int | None
    policy_tier_code: str
    policy_tier_rank: int | None
    pending_downgrade_reviews: int
    last_review_id: int | None
    steps: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    evaluated_at: dt.datetime


@dataclass(slots=True)
class ChangeRow:
    """One TierChange row to insert; ``pk`` is set once inserted."""

    account_id: int
    policy_id: int | None
    review_id: int | None
    override_id: int | None
    from_code: str
    from_name: str
    from_rank: int | None
    to_code: str
    to_name: str
    to_rank: int
    explanation: str
    steps: list[dict[str, Any]]
    source: str
    status: str
    by_id: int | None
    created_at: dt.datetime | None = None
    applied_at: dt.datetime | None = None
    decided_by_id: int | None = None
    decided_at: dt.datetime | None = None
    decision_note: str = ""
    pk: int | None = None


class JsonCache:
    """Encodes each steps list once, though the state row and the change row both store it."""

    def __init__(self) -> None:
        self._encoded: dict[int, tuple[Any, str]] = {}

    def dumps(self, value: Any) -> str:
        hit = self._encoded.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        text = json.dumps(value)
        self._encoded[id(value)] = (value, text)
        return text


def _use_copy(rows: Sequence[Any]) -> bool:
    return connection.vendor == "postgresql" and len(rows) >= COPY_THRESHOLD


def _stage(
    cursor: Any,
    name: str,
    select_sql: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    joined: bool = False,
) -> None:
    """Fill a transaction-scoped temporary table shaped by ``select_sql`` with ``rows`` via COPY."""
    # Created once per connection; its rows vanish at each commit.
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS {select_sql} WITH NO DATA"
    )
    cursor.execute(f"DELETE FROM {name}")
    with cursor.cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    if joined:
        # Fresh statistics: otherwise the planner guesses the size and may loop over the big table.
        cursor.execute(f"ANALYZE {name}")


def write_account_tiers(rows: list[tuple[Any, ...]], now: dt.datetime) -> list[int]:
    """Write tiers where the account still has the tier the batch read; returns the ids written.

    Rows: (id, code, name, rank, source, explanation, old_code, old_source).
    """
    if not rows:
        return []
    table = Account._meta.db_table
    assignments = (
        "tier_code = v.code, tier_name = v.name, tier_rank = CAST(v.rank AS smallint), "
        "tier_source = v.source, tier_explanation = v.explanation, tier_updated_at = %s"
    )
    guard = f"{table}.id = v.id AND {table}.tier_code = v.old_code AND {table}.tier_source = v.old_source"
    written: list[int] = []
    with connection.cursor() as cursor:
        if _use_copy(rows):
            _stage(
                cursor,
                "segmentation_stage_tiers",
                "SELECT id, tier_code AS code, tier_name AS name, tier_rank AS rank, tier_source AS source, "
                "tier_explanation AS explanation, tier_code AS old_code, tier_source AS old_source "
                f"FROM {table}",
                ("id", "code", "name", "rank", "source", "explanation", "old_code", "old_source"),
                rows,
                joined=True,
            )
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM segmentation_stage_tiers v "
                f"WHERE {guard} RETURNING {table}.id",
                [now],
            )
            return [row[0] for row in cursor.fetchall()]
        for start in range(0, len(rows), VALUES_BATCH):
            batch = rows[start : start + VALUES_BATCH]
            placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch))
            cursor.execute(
                "WITH v(id, code, name, rank, source, explanation, old_code, old_source) "
                f"AS (VALUES {placeholders}) UPDATE {table} SET {assignments} FROM v WHERE {guard} "
                f"RETURNING {table}.id",
                [*(value for row in batch for value in row), now],
            )
            written.extend(row[0] for row in cursor.fetchall())
    return written


def upsert_states(states: list[StateRow], json_cache: JsonCache | None = None) -> None:
    if not states:
        return
    if not _use_copy(states):
        AccountTierState.objects.bulk_create(
            [AccountTierState(**asdict(state)) for state in states],
            batch_size=VALUES_BATCH,
            update_conflicts=True,
            unique_fields=["account"],
            update_fields=[c.removesuffix("_id") if c == "policy_id" else c for c in STATE_COLUMNS[1:]],
        )
        return
    table = AccountTierState._meta.db_table
    cache = json_cache or JsonCache()
    rows = [
        (
            s.account_id,
            s.policy_id,
            s.policy_tier_code,
            s.policy_tier_rank,
            s.pending_downgrade_reviews,
            s.last_review_id,
            cache.dumps(s.steps),
            json.dumps(s.flags),
            s.evaluated_at,
        )
        for s in states
    ]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in STATE_COLUMNS[1:])
    with connection.cursor() as cursor:
        _stage(
            cursor,
            "segmentation_stage_states",
            f"SELECT {', '.join(STATE_COLUMNS)} FROM {table}",
            STATE_COLUMNS,
            rows,
        )
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(STATE_COLUMNS)}) "
            f"SELECT {', '.join(STATE_COLUMNS)} FROM segmentation_stage_states "
            f"ON CONFLICT (account_id) DO UPDATE SET {updates}"
        )


def insert_changes(
    changes: list[ChangeRow], now: dt.datetime, json_cache: JsonCache | None = None
) -> list[ChangeRow]:
    """Insert ``changes``; the returned rows carry their primary keys."""
    if not changes:
        return []
    if not _use_copy(changes):
        fields = [c for c in CHANGE_COLUMNS if c != "created_at"]
        created = TierChange.objects.bulk_create(
            [TierChange(**{f: getattr(c, f) for f in fields}) for c in changes], batch_size=VALUES_BATCH
        )
        for change, model in zip(changes, created, strict=True):
            change.pk = model.pk
            change.created_at = model.created_at
        return changes
    table = TierChange._meta.db_table
    cache = json_cache or JsonCache()
    rows = [
        (
            c.account_id,
            c.policy_id,
            c.review_id,
            c.override_id,
            c.from_code,
            c.from_name,
            c.from_rank,
            c.to_code,
            c.to_name,
            c.to_rank,
            c.explanation,
            cache.dumps(c.steps),
            c.source,
            c.status,
            c.by_id,
            now,
            c.applied_at,
            c.decided_by_id,
            c.decided_at,
            c.decision_note,
        )
        for c in changes
    ]
    columns = ", ".join(CHANGE_COLUMNS)
    with connection.cursor() as cursor:
        _stage(cursor, "segmentation_stage_changes", f"SELECT {columns} FROM {table}", CHANGE_COLUMNS, rows)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM segmentation_stage_changes "
            "ORDER BY account_id RETURNING id, account_id"
        )
        ids = dict((account_id, pk) for pk, account_id in cursor.fetchall())
    for change in changes:
        change.pk = ids[change.account_id]
        change.created_at = now
    return changes
