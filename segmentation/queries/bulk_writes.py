"""Set-based writes of an evaluation batch: account tiers, tier state rows, tier changes.

Large batches (a review chunk) are streamed with COPY into a transaction-scoped temporary table and
applied with one statement each (``UPDATE ... FROM``, ``INSERT ... ON CONFLICT``, ``INSERT ...
SELECT ... RETURNING``): about ten times faster than binding thousands of query parameters. None
of these mirrors a rule; the rows were decided in Python (``services.evaluation``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account

from ..models import AccountTierState, TierChange

# (id, code, name, rank, source, explanation, old code, old source) of an account tier write.
TIER_WRITE_COLUMNS = ("id", "code", "name", "rank", "source", "explanation", "old_code", "old_source")


def _columns(names: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(name) for name in names)


def _stage(
    cursor: Any,
    *,
    name: str,
    shape: sql.Composable,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    joined: bool = False,
) -> None:
    """Fill the temporary table ``name``, shaped like the SELECT ``shape``, with ``rows`` via COPY."""
    table = sql.Identifier(name)
    # Created once per connection; its rows vanish at each commit.
    cursor.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS {} WITH NO DATA").format(
            table, shape
        )
    )
    cursor.execute(sql.SQL("DELETE FROM {}").format(table))
    with cursor.cursor.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(table, _columns(columns))) as copy:
        for row in rows:
            copy.write_row(row)
    if joined:
        # Fresh statistics: otherwise the planner guesses the size and may loop over the big table.
        cursor.execute(sql.SQL("ANALYZE {}").format(table))


def _tier_update(source: sql.Composable) -> sql.Composed:
    """UPDATE the accounts from ``source`` (rows shaped like TIER_WRITE_COLUMNS, aliased v) where
    the account still has the tier the batch read; RETURNING the ids written."""
    return sql.SQL(
        """
        UPDATE {accounts} a SET tier_code = v.code, tier_name = v.name,
               tier_rank = CAST(v.rank AS smallint), tier_source = v.source,
               tier_explanation = v.explanation, tier_updated_at = %(now)s
        FROM {source}
        WHERE a.id = v.id AND a.tier_code = v.old_code AND a.tier_source = v.old_source
        RETURNING a.id
        """
    ).format(accounts=sql.Identifier(Account._meta.db_table), source=source)


def account_tiers_update(*, rows: Sequence[Sequence[Any]], now: dt.datetime) -> list[int]:
    """Write a few account tiers (rows shaped like TIER_WRITE_COLUMNS) with one VALUES list;
    an account whose tier moved since the batch read it is left alone. Returns the ids written."""
    if not rows:
        return []
    values = sql.SQL(", ").join(
        sql.SQL("({})").format(
            sql.SQL(", ").join(sql.Placeholder(f"{column}_{index}") for column in TIER_WRITE_COLUMNS)
        )
        for index in range(len(rows))
    )
    source = sql.SQL("(VALUES {}) AS v ({})").format(values, _columns(TIER_WRITE_COLUMNS))
    params: dict[str, Any] = {"now": now}
    for index, row in enumerate(rows):
        params.update(
            {f"{column}_{index}": value for column, value in zip(TIER_WRITE_COLUMNS, row, strict=True)}
        )
    with connection.cursor() as cursor:
        cursor.execute(_tier_update(source), params)
        return [row[0] for row in cursor.fetchall()]


def account_tiers_update_streamed(*, rows: Sequence[Sequence[Any]], now: dt.datetime) -> list[int]:
    """``account_tiers_update`` for a large batch: the rows go through COPY and a staging table."""
    shape = sql.SQL(
        "SELECT id, tier_code AS code, tier_name AS name, tier_rank AS rank, tier_source AS source, "
        "tier_explanation AS explanation, tier_code AS old_code, tier_source AS old_source FROM {}"
    ).format(sql.Identifier(Account._meta.db_table))
    with connection.cursor() as cursor:
        _stage(
            cursor,
            name="segmentation_stage_tiers",
            shape=shape,
            columns=TIER_WRITE_COLUMNS,
            rows=rows,
            joined=True,
        )
        cursor.execute(_tier_update(sql.SQL("segmentation_stage_tiers v")), {"now": now})
        return [row[0] for row in cursor.fetchall()]


def tier_states_upsert_streamed(*, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert or replace AccountTierState rows (values in ``columns`` order, account_id first)
    through COPY and a staging table."""
    table = sql.Identifier(AccountTierState._meta.db_table)
    with connection.cursor() as cursor:
        _stage(
            cursor,
            name="segmentation_stage_states",
            shape=sql.SQL("SELECT {} FROM {}").format(_columns(columns), table),
            columns=columns,
            rows=rows,
        )
        updates = sql.SQL(", ").join(
            sql.SQL("{column} = EXCLUDED.{column}").format(column=sql.Identifier(column))
            for column in columns[1:]
        )
        cursor.execute(
            sql.SQL(
                "INSERT INTO {table} ({columns}) SELECT {columns} FROM segmentation_stage_states "
                "ON CONFLICT (account_id) DO UPDATE SET {updates}"
            ).format(table=table, columns=_columns(columns), updates=updates)
        )


def tier_changes_insert_streamed(*, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[int, int]:
    """Insert TierChange rows (values in ``columns`` order, one per account) through COPY and a
    staging table; returns {account id: new change id}."""
    table = sql.Identifier(TierChange._meta.db_table)
    with connection.cursor() as cursor:
        _stage(
            cursor,
            name="segmentation_stage_changes",
            shape=sql.SQL("SELECT {} FROM {}").format(_columns(columns), table),
            columns=columns,
            rows=rows,
        )
        cursor.execute(
            sql.SQL(
                "INSERT INTO {table} ({columns}) SELECT {columns} FROM segmentation_stage_changes "
                "ORDER BY account_id RETURNING id, account_id"
            ).format(table=table, columns=_columns(columns))
        )
        return {account_id: pk for pk, account_id in cursor.fetchall()}


def tier_changes_analyze() -> None:
    """Refresh the planner's statistics of the tier-change table.

    A review writes changes (proposals above all) much faster than autovacuum analyses the table:
    on a million-row table it waits for about a hundred thousand new rows. Until then the planner
    believes no proposal exists, and a read that filters by status (the worklist's "tier proposal
    waiting") picks a plan that reads every proposal; ANALYZE samples a fixed number of rows, so
    running it as a review writes costs about the same whatever the table's size.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(TierChange._meta.db_table)))
