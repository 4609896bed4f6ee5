"""SQL behind the summary tables a finished review writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import ChangeSource, ChangeStatus, TierChange

# Each account's first and last applied change in the range, the initial tiering left out (an
# account's first tier is where it starts, not a move). Shared by the summary and its drill-down,
# so the number and the accounts it opens are one rule.
# Each account's tier before its first applied change and after its last, in one pass over the
# changes (read through the primary key, in id order): ordered aggregates per account instead of
# two lookups of the first and last change by id, which cost twice as much for a review that
# moved 200,000 accounts.
_MOVES = """
    SELECT c.account_id, c.from_code, c.to_code
    FROM (SELECT account_id,
                 (array_agg(from_code ORDER BY id))[1] AS from_code,
                 (array_agg(to_code ORDER BY id DESC))[1] AS to_code
          FROM {changes}
          WHERE id > %(after_change_id)s AND (%(upto_change_id)s::bigint IS NULL OR id <= %(upto_change_id)s)
            AND status = %(applied)s AND source <> %(initial)s
          GROUP BY account_id) c
    WHERE c.from_code <> c.to_code
"""


def _moves_params(after_change_id: int, upto_change_id: int | None) -> dict[str, Any]:
    return {
        "after_change_id": after_change_id,
        "upto_change_id": upto_change_id,
        "applied": ChangeStatus.APPLIED.value,
        "initial": ChangeSource.INITIAL.value,
    }


def tier_moves_since(*, after_change_id: int) -> list[tuple[str, str, int, Decimal | None]]:
    """[(tier before, tier after, accounts, ACV sum)] of accounts that changed tier after
    ``after_change_id``: from the tier before their first applied change to the tier after their
    last one, when the two differ. The initial tiering is not a move.

    Mirrors no Python rule. SQL because it takes each account's first and last change since the
    previous review in one pass over the changes, read through the primary key."""
    statement = sql.SQL(
        "SELECT m.from_code, m.to_code, COUNT(*), SUM(a.acv) FROM (" + _MOVES + ") m "
        "JOIN {accounts} a ON a.id = m.account_id GROUP BY m.from_code, m.to_code"
    ).format(
        changes=sql.Identifier(TierChange._meta.db_table),
        accounts=sql.Identifier(Account._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, _moves_params(after_change_id, None))
        return list(cursor.fetchall())


def tier_move_account_ids(
    *, after_change_id: int, upto_change_id: int, from_code: str, to_code: str
) -> list[int]:
    """The accounts behind one cell of ``tier_moves_since`` for the review whose changes end at
    ``upto_change_id`` (the drill-down opens exactly the accounts the number counts)."""
    statement = sql.SQL(
        "SELECT m.account_id FROM (" + _MOVES + ") m "
        "WHERE m.from_code = %(from_code)s AND m.to_code = %(to_code)s ORDER BY m.account_id"
    ).format(changes=sql.Identifier(TierChange._meta.db_table))
    params = {**_moves_params(after_change_id, upto_change_id), "from_code": from_code, "to_code": to_code}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]
