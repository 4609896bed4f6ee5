"""SQL behind the summary tables a finished review writes."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import ChangeStatus, TierChange


def tier_moves_since(*, after_change_id: int) -> list[tuple[str, str, int, Decimal | None]]:
    """[(from tier, tier now, accounts, ACV sum)] of accounts whose first tier change applied
    after ``after_change_id`` took them from another tier than the one they are in now.

    Mirrors no Python rule. SQL because it joins each account's first change since the previous
    review (a MIN per account, read through the primary key) to its current tier in one pass."""
    statement = sql.SQL(
        """
        SELECT c.from_code, a.tier_code, COUNT(*), SUM(a.acv)
        FROM {changes} c
        JOIN (SELECT account_id, MIN(id) AS first_id FROM {changes}
              WHERE id > %(after_change_id)s AND status = %(applied)s GROUP BY account_id) f
          ON c.id = f.first_id
        JOIN {accounts} a ON a.id = c.account_id
        WHERE c.from_code <> a.tier_code
        GROUP BY c.from_code, a.tier_code
        """
    ).format(
        changes=sql.Identifier(TierChange._meta.db_table),
        accounts=sql.Identifier(Account._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, {"after_change_id": after_change_id, "applied": ChangeStatus.APPLIED.value})
        return list(cursor.fetchall())
