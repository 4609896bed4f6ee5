"""The initial tiering of a fresh book, written set-based.

A fresh account (no tier, no tier state, no active override, no open proposal) comes out of an
evaluation depending only on its ACV and, under rules, on its signals through the evaluation key:
``services.initial_tiers`` evaluates each distinct outcome once in the engine and stages the
outcomes here (rendered by the engine, never in SQL), with which outcome each account gets. One
statement per chunk then writes the accounts' tiers, their tier states and their TierChanges, as
``services.evaluation.evaluate_batch`` writes them one account at a time. None of these mirrors a
rule: the SQL only copies what the engine decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import AccountTierState, ChangeStatus, OverrideStatus, TierChange, TierOverride

# One staged outcome: what the engine decided for every account that gets it.
OUTCOME_COLUMNS = (
    "outcome",
    "code",
    "name",
    "rank",
    "explanation",
    "steps",
    "flags",
    "policy_tier_code",
    "policy_tier_rank",
    "evaluated_signals",
)


def _identifiers() -> dict[str, sql.Identifier]:
    return {
        "accounts": sql.Identifier(Account._meta.db_table),
        "states": sql.Identifier(AccountTierState._meta.db_table),
        "changes": sql.Identifier(TierChange._meta.db_table),
        "overrides": sql.Identifier(TierOverride._meta.db_table),
    }


def untiered_accounts(*, lower: int, upper: int) -> tuple[list[tuple[int, Decimal]], list[int]]:
    """([(id, ACV)] of the fresh accounts with ``lower < id <= upper``, [ids] of the other
    accounts without a tier there), both in id order.

    Fresh: no tier, no tier state, no active override, no open proposal; what decides an
    evaluation besides the ACV and the signals is then the same for all of them (nothing held by
    hysteresis, nothing overridden or proposed). The id range is repeated on each joined table,
    as in ``queries.reviews``."""
    statement = sql.SQL(
        """
        SELECT a.id, a.acv, (st.account_id IS NULL AND o.account_id IS NULL AND p.account_id IS NULL)
        FROM {accounts} a
        LEFT JOIN {states} st ON st.account_id = a.id
                             AND st.account_id > %(lower)s AND st.account_id <= %(upper)s
        LEFT JOIN (SELECT DISTINCT account_id FROM {overrides}
                   WHERE status = %(active)s AND account_id > %(lower)s AND account_id <= %(upper)s
                  ) o ON o.account_id = a.id
        LEFT JOIN (SELECT DISTINCT account_id FROM {changes}
                   WHERE status = %(proposed)s AND account_id > %(lower)s AND account_id <= %(upper)s
                  ) p ON p.account_id = a.id
        WHERE a.id > %(lower)s AND a.id <= %(upper)s AND a.tier_code = ''
        ORDER BY a.id
        """
    ).format(**_identifiers())
    params: dict[str, Any] = {
        "lower": lower,
        "upper": upper,
        "active": OverrideStatus.ACTIVE.value,
        "proposed": ChangeStatus.PROPOSED.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    fresh = [(pk, acv) for pk, acv, is_fresh in rows if is_fresh]
    others = [pk for pk, _, is_fresh in rows if not is_fresh]
    return fresh, others


def _stage(cursor: Any, name: str, definition: str, columns: Sequence[str], rows: Sequence[Any]) -> None:
    table = sql.Identifier(name)
    # Created once per connection; its rows vanish at each commit.
    cursor.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
            table, sql.SQL(definition)
        )
    )
    cursor.execute(sql.SQL("DELETE FROM {}").format(table))
    columns_sql = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    with cursor.cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, columns_sql)) as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(sql.SQL("ANALYZE {}").format(table))


def initial_tiers_write(
    *,
    outcomes: Sequence[Sequence[Any]],
    assignments: Sequence[tuple[int, int]],
    policy_id: int | None,
    fingerprint: str,
    source: str,
    now: dt.datetime,
) -> list[tuple[int, int]]:
    """Write the staged outcomes (rows in OUTCOME_COLUMNS order, steps/flags/signals as JSON
    text) to the accounts of ``assignments`` ([(account id, outcome)]) that still have no tier:
    the account's tier and explanation, its tier state, an applied TierChange from its (empty)
    tier. Returns [(change id, account id)] in account order; an account that got a tier since it
    was read is left alone."""
    statement = sql.SQL(
        """
        WITH before AS (
            -- the tier columns the update replaces (every part of the statement reads the
            -- snapshot it started with)
            SELECT a.id, a.tier_name, a.tier_rank FROM {accounts} a
            JOIN segmentation_initial_assignments x ON x.account_id = a.id
        ), written AS (
            UPDATE {accounts} a
            SET tier_code = o.code, tier_name = o.name, tier_rank = o.rank, tier_source = 'policy',
                tier_explanation = o.explanation, tier_updated_at = %(now)s
            FROM segmentation_initial_assignments x
            JOIN segmentation_initial_outcomes o ON o.outcome = x.outcome
            WHERE a.id = x.account_id AND a.tier_code = ''
            RETURNING a.id, a.acv, o.outcome
        ), state AS (
            INSERT INTO {states} (account_id, policy_id, policy_tier_code, policy_tier_rank,
                                  pending_downgrade_reviews, last_review_id, steps, flags, evaluated_at,
                                  evaluated_with, evaluated_acv, tier_written_at, evaluated_signals)
            SELECT w.id, %(policy)s, o.policy_tier_code, o.policy_tier_rank, 0, NULL, o.steps, o.flags,
                   -- evaluated_at is when the facts were read, the transaction's start, as
                   -- evaluate_batch keeps it: a later evaluation of the account must win over it.
                   transaction_timestamp(), %(fingerprint)s, w.acv, %(now)s, o.evaluated_signals
            FROM written w JOIN segmentation_initial_outcomes o ON o.outcome = w.outcome
            ON CONFLICT (account_id) DO UPDATE SET
                policy_id = EXCLUDED.policy_id, policy_tier_code = EXCLUDED.policy_tier_code,
                policy_tier_rank = EXCLUDED.policy_tier_rank,
                pending_downgrade_reviews = EXCLUDED.pending_downgrade_reviews,
                last_review_id = EXCLUDED.last_review_id, steps = EXCLUDED.steps, flags = EXCLUDED.flags,
                evaluated_at = EXCLUDED.evaluated_at, evaluated_with = EXCLUDED.evaluated_with,
                evaluated_acv = EXCLUDED.evaluated_acv, tier_written_at = EXCLUDED.tier_written_at,
                evaluated_signals = EXCLUDED.evaluated_signals
        )
        INSERT INTO {changes} (account_id, policy_id, review_id, override_id, from_code, from_name,
                               from_rank, to_code, to_name, to_rank, explanation, steps, source, status,
                               by_id, created_at, applied_at, decided_by_id, decided_at, decision_note)
        SELECT w.id, %(policy)s, NULL, NULL, '', b.tier_name, b.tier_rank, o.code, o.name, o.rank,
               o.explanation, o.steps, %(source)s, %(applied)s, NULL, %(now)s, %(now)s, NULL, NULL, ''
        FROM written w JOIN segmentation_initial_outcomes o ON o.outcome = w.outcome
        JOIN before b ON b.id = w.id
        ORDER BY w.id
        RETURNING id, account_id
        """
    ).format(**_identifiers())
    with connection.cursor() as cursor:
        _stage(
            cursor,
            "segmentation_initial_outcomes",
            "outcome integer PRIMARY KEY, code varchar(10), name varchar(80), rank smallint, "
            "explanation text, steps jsonb, flags jsonb, policy_tier_code varchar(10), "
            "policy_tier_rank smallint, evaluated_signals jsonb",
            OUTCOME_COLUMNS,
            outcomes,
        )
        _stage(
            cursor,
            "segmentation_initial_assignments",
            "account_id bigint PRIMARY KEY, outcome integer",
            ("account_id", "outcome"),
            assignments,
        )
        cursor.execute(
            statement,
            {
                "now": now,
                "policy": policy_id,
                "fingerprint": fingerprint,
                "source": source,
                "applied": ChangeStatus.APPLIED.value,
            },
        )
        return [(change_id, account_id) for change_id, account_id in cursor.fetchall()]
