"""The tier review's pre-filter: which accounts of a chunk could change at all.

The SQL renders nothing and decides no tier. Python (``segmentation.engine.evaluate``) works out,
for each distinct ACV of the chunk, the tier and explanation an account with that ACV settles at
under a policy without rules; this statement only compares each account with that outcome,
column for column. So the explanation and the thresholds live once, in the engine, and a change
there cannot leave an account skipped with a stale explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account, TierSource

from ..models import AccountTierState, ChangeStatus, OverrideStatus, TierChange, TierOverride


@dataclass(frozen=True)
class SettledTier:
    """What the engine gives an account with this ACV that no rule, hysteresis hold, override or
    proposal touches."""

    acv: Decimal
    code: str
    name: str
    rank: int
    explanation: str


def review_candidates(
    *, lower: int, upper: int, settled: Sequence[SettledTier], fields: Sequence[str]
) -> list[tuple[Any, ...]]:
    """``fields`` of the accounts with ``lower < id <= upper`` that are not settled, by id.

    An account is settled (and skipped) when its tier comes from the policy, its tier and
    explanation are exactly the ``settled`` outcome for its ACV, the policy said that same tier
    last time (so hysteresis has nothing to hold), and it has neither an open proposal nor an
    active override. Those are the only accounts an evaluation would leave unchanged without
    looking further; tests/segmentation/test_queries_agree.py checks that against the engine.

    SQL because a review chunk holds 50,000 accounts, of which a handful change: one scan
    instead of reading every account into Python."""
    statement = sql.SQL(
        """
        WITH settled (acv, code, name, rank, explanation) AS (
            SELECT * FROM unnest(%(acvs)s::numeric[], %(codes)s::text[], %(names)s::text[],
                                 %(ranks)s::int[], %(explanations)s::text[])
        )
        SELECT {fields} FROM {accounts} a
        LEFT JOIN settled s ON s.acv = a.acv
        -- The id range is repeated on the states: the planner does not carry a range across a
        -- join, and without it every chunk hashed the whole table (1M rows) to use 50,000.
        LEFT JOIN {states} st ON st.account_id = a.id
                             AND st.account_id > %(lower)s AND st.account_id <= %(upper)s
        WHERE a.id > %(lower)s AND a.id <= %(upper)s
          AND NOT COALESCE(
                a.tier_source = %(policy)s
                AND a.tier_code = s.code AND a.tier_name = s.name AND a.tier_rank = s.rank
                AND a.tier_explanation = s.explanation
                AND (st.account_id IS NULL OR st.policy_tier_code = a.tier_code)
                AND NOT EXISTS (SELECT 1 FROM {changes} c
                                WHERE c.account_id = a.id AND c.status = %(proposed)s)
                AND NOT EXISTS (SELECT 1 FROM {overrides} o
                                WHERE o.account_id = a.id AND o.status = %(active)s),
              false)
        ORDER BY a.id
        """
    ).format(
        fields=sql.SQL(", ").join(sql.Identifier("a", field) for field in fields),
        accounts=sql.Identifier(Account._meta.db_table),
        states=sql.Identifier(AccountTierState._meta.db_table),
        changes=sql.Identifier(TierChange._meta.db_table),
        overrides=sql.Identifier(TierOverride._meta.db_table),
    )
    params: dict[str, Any] = {
        "acvs": [s.acv for s in settled],
        "codes": [s.code for s in settled],
        "names": [s.name for s in settled],
        "ranks": [s.rank for s in settled],
        "explanations": [s.explanation for s in settled],
        "lower": lower,
        "upper": upper,
        "policy": TierSource.POLICY.value,
        "proposed": ChangeStatus.PROPOSED.value,
        "active": OverrideStatus.ACTIVE.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return list(cursor.fetchall())
