"""The tier review's pre-filter: which accounts of a chunk could change at all.

The SQL renders nothing and decides no tier. Each evaluation keeps in ``AccountTierState`` what it
was computed from (the policy's fingerprint: its content and the engine's code; the ACV) and the
account's ``tier_updated_at`` after its write. Under a policy without rules an evaluation's outcome
depends on nothing else but the hysteresis memory, an open proposal and an active override, so an
account whose state still matches, that the policy placed in the tier it holds, with neither a
proposal nor an override, would come out of a new evaluation exactly as it is: the review skips
it. The explanation and the thresholds live once, in the engine; a release that changes them
changes the fingerprint, and every account is evaluated again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account, TierSource

from ..models import AccountTierState, ChangeStatus, OverrideStatus, TierChange, TierOverride


def review_candidates(
    *, lower: int, upper: int, fingerprint: str, fields: Sequence[str]
) -> tuple[int, list[tuple[Any, ...]]]:
    """(accounts with ``lower < id <= upper``, the ``fields`` of those a review must evaluate, in
    id order; ``fields`` begin with "id"). The candidates' rows are read in the same statement,
    by primary key.

    A skipped account: tier from the policy; its state says it was last evaluated with
    ``fingerprint`` at its current ACV, nothing wrote its tier since (``tier_written_at``), and the
    policy gave the tier it holds with no downgrade being counted (hysteresis holds nothing); no
    open proposal, no active override. tests/segmentation/test_queries_agree.py holds that against the engine.

    SQL because a review chunk holds 50,000 accounts, of which a handful change: one scan of the
    range, joined with the states of the same range in id order, instead of reading every account
    into Python. The id range is repeated on each joined table: the planner does not carry a range
    across a join, and without it each chunk would read every state of the table."""
    statement = sql.SQL(
        """
        WITH pick AS (
        SELECT COUNT(*) AS total, array_agg(a.id) FILTER (WHERE NOT COALESCE(
                a.tier_source = %(policy)s
                AND st.evaluated_with = %(fingerprint)s
                AND st.evaluated_acv = a.acv
                AND st.tier_written_at = a.tier_updated_at
                AND st.policy_tier_code = a.tier_code
                AND st.pending_downgrade_reviews = 0
                AND proposal.account_id IS NULL
                AND override.account_id IS NULL,
              false)) AS ids
        FROM {accounts} a
        LEFT JOIN {states} st ON st.account_id = a.id
                             AND st.account_id > %(lower)s AND st.account_id <= %(upper)s
        LEFT JOIN (SELECT DISTINCT c.account_id FROM {changes} c
                   WHERE c.status = %(proposed)s AND c.account_id > %(lower)s AND c.account_id <= %(upper)s
                  ) proposal ON proposal.account_id = a.id
        LEFT JOIN (SELECT o.account_id FROM {overrides} o
                   WHERE o.status = %(active)s AND o.account_id > %(lower)s AND o.account_id <= %(upper)s
                  ) override ON override.account_id = a.id
        WHERE a.id > %(lower)s AND a.id <= %(upper)s
        )
        SELECT pick.total, {fields} FROM pick LEFT JOIN {accounts} f ON f.id = ANY(pick.ids)
        """
    ).format(
        fields=sql.SQL(", ").join(sql.Identifier("f", field) for field in fields),
        accounts=sql.Identifier(Account._meta.db_table),
        states=sql.Identifier(AccountTierState._meta.db_table),
        changes=sql.Identifier(TierChange._meta.db_table),
        overrides=sql.Identifier(TierOverride._meta.db_table),
    )
    params: dict[str, Any] = {
        "fingerprint": fingerprint,
        "lower": lower,
        "upper": upper,
        "policy": TierSource.POLICY.value,
        "proposed": ChangeStatus.PROPOSED.value,
        "active": OverrideStatus.ACTIVE.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    # One row with NULL fields when nothing is a candidate (the LEFT JOIN keeps the count).
    candidates = sorted((row[1:] for row in rows if row[1] is not None), key=lambda row: row[0])
    return rows[0][0], candidates


# The first key of the session advisory locks that hold review chunks (the second is the chunk's
# id): a constant of this application, so no other advisory lock can collide with a chunk's.
_CHUNK_LOCK_CLASS = 0x7C5E


def _key(chunk_id: int) -> int:
    # The lock's keys are 32-bit; ids that far apart never belong to the same review.
    return chunk_id & 0x7FFFFFFF


def review_chunk_try_hold(*, chunk_id: int) -> bool:
    """Hold the chunk for this connection, unless another holds it: a session advisory lock, so it
    outlives the chunk's transactions (a chunk commits its writes in batches) and is released
    when the connection ends, a dead worker's included."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_CHUNK_LOCK_CLASS, _key(chunk_id)])
        return bool(cursor.fetchone()[0])


def review_chunk_release(*, chunk_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_CHUNK_LOCK_CLASS, _key(chunk_id)])
