"""Hand-written SQL for the demo's past (PostgreSQL only)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import ChangeSource, TierChange


def initial_tiers_date_at_contract_start(*, crm_source: str, at: dt.time) -> int:
    """Date each initial tier change of ``crm_source`` accounts at ``at`` on the account's
    contract start (server time zone), in one statement. Mirrors no rule. Returns rows updated."""
    statement = sql.SQL("""
        UPDATE {changes} AS tc
        SET applied_at = (a.contract_start + %(at)s::time)::timestamp
                         AT TIME ZONE current_setting('TIMEZONE'),
            created_at = (a.contract_start + %(at)s::time)::timestamp
                         AT TIME ZONE current_setting('TIMEZONE')
        FROM {accounts} AS a
        WHERE a.id = tc.account_id AND a.crm_source = %(crm_source)s
          AND a.contract_start IS NOT NULL AND tc.source = %(initial)s
    """).format(
        changes=sql.Identifier(TierChange._meta.db_table), accounts=sql.Identifier(Account._meta.db_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            statement, {"at": at.isoformat(), "crm_source": crm_source, "initial": ChangeSource.INITIAL.value}
        )
        return cursor.rowcount
