"""Hand-written SQL for the demo's past (PostgreSQL only)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import ChangeSource, ChangeStatus, TierChange


def initial_tiers_date_at_contract_start(*, crm_source: str, at: dt.time) -> int:
    """Date each initial tier change of ``crm_source`` accounts at ``at`` on the account's
    contract start (server time zone), and the day those still in that tier took it. Mirrors no
    rule. Returns the tier changes dated."""
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
    # An account whose only applied change is its initial tier has held it since then.
    held_since = sql.SQL("""
        UPDATE {accounts} AS a SET tier_updated_at = tc.applied_at
        FROM {changes} AS tc
        WHERE tc.account_id = a.id AND a.crm_source = %(crm_source)s AND tc.source = %(initial)s
          AND tc.status = %(applied)s AND NOT EXISTS (
              SELECT 1 FROM {changes} later WHERE later.account_id = a.id AND later.id > tc.id
                AND later.status = %(applied)s)
    """).format(
        changes=sql.Identifier(TierChange._meta.db_table), accounts=sql.Identifier(Account._meta.db_table)
    )
    params = {
        "at": at.isoformat(),
        "crm_source": crm_source,
        "initial": ChangeSource.INITIAL.value,
        "applied": ChangeStatus.APPLIED.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        dated = cursor.rowcount
        cursor.execute(held_since, params)
        return dated
