"""Set-based writes of a batch's outcome: account tiers, tier state, tier changes.

Batches of COPY_THRESHOLD rows and more are streamed with COPY into a temporary table and
applied with one statement each (``queries.bulk_writes``): about ten times faster than binding
thousands of query parameters. Smaller batches (events, overrides) use plain statements.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from ..models import AccountTierState, TierChange
from ..queries import bulk_writes as bulk_sql

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
    "evaluated_with",
    "evaluated_acv",
    "tier_written_at",
    "evaluated_signals",
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
    evaluated_with: str = ""
    evaluated_acv: Decimal | None = None
    tier_written_at: dt.datetime | None = None
    evaluated_signals: list[Any] | None = None


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


STATE_FIELDS = fields(StateRow)


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


def _list_json(value: list[Any]) -> str:
    # Most accounts have no flags and, under a policy without rules, no evaluation key: a review
    # writes tens of thousands of these.
    return "[]" if not value else json.dumps(value)


def _streamed(rows: Sequence[Any]) -> bool:
    return len(rows) >= COPY_THRESHOLD


def write_account_tiers(rows: list[tuple[Any, ...]], now: dt.datetime) -> list[int]:
    """Write tiers where the account still has the tier the batch read; returns the ids written.

    Rows: (id, code, name, rank, source, explanation, old_code, old_source).
    """
    if _streamed(rows):
        return bulk_sql.account_tiers_update_streamed(rows=rows, now=now)
    written: list[int] = []
    for start in range(0, len(rows), VALUES_BATCH):
        written += bulk_sql.account_tiers_update(rows=rows[start : start + VALUES_BATCH], now=now)
    return written


def upsert_states(states: list[StateRow], json_cache: JsonCache | None = None) -> None:
    if not states:
        return
    if not _streamed(states):
        AccountTierState.objects.bulk_create(
            # Field by field, not ``asdict``: it deep-copies every steps list (0.4 s of a review).
            [AccountTierState(**{f.name: getattr(state, f.name) for f in STATE_FIELDS}) for state in states],
            batch_size=VALUES_BATCH,
            update_conflicts=True,
            unique_fields=["account"],
            update_fields=[c.removesuffix("_id") if c == "policy_id" else c for c in STATE_COLUMNS[1:]],
        )
        return
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
            _list_json(s.flags),
            s.evaluated_at,
            s.evaluated_with,
            s.evaluated_acv,
            s.tier_written_at,
            None if s.evaluated_signals is None else _list_json(s.evaluated_signals),
        )
        for s in states
    ]
    bulk_sql.tier_states_upsert_streamed(columns=STATE_COLUMNS, rows=rows)


def insert_changes(
    changes: list[ChangeRow], now: dt.datetime, json_cache: JsonCache | None = None
) -> list[ChangeRow]:
    """Insert ``changes``; the returned rows carry their primary keys."""
    if not changes:
        return []
    if not _streamed(changes):
        fields = [c for c in CHANGE_COLUMNS if c != "created_at"]
        created = TierChange.objects.bulk_create(
            [TierChange(**{f: getattr(c, f) for f in fields}) for c in changes], batch_size=VALUES_BATCH
        )
        for change, model in zip(changes, created, strict=True):
            change.pk = model.pk
            change.created_at = model.created_at
        return changes
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
    ids = bulk_sql.tier_changes_insert_streamed(columns=CHANGE_COLUMNS, rows=rows)
    for change in changes:
        change.pk = ids[change.account_id]
        change.created_at = now
    return changes
