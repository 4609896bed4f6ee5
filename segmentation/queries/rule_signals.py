"""A review chunk's signals and evaluation keys, computed in one statement; the accounts whose
outcome may have moved, with their signals.

Mirrors two Python rules, each held against it by tests/segmentation/test_rule_signals_agree.py:

- ``account_metrics.signals_for`` (the usage signals of the last 120 days: seat utilisation and
  the 90-day trend of active users rounded half to even as ``Decimal.quantize`` does, feature
  adoption of the latest period, tickets of the last 30 days), the account's own columns;
- ``rule_inputs.evaluation_key`` (which conditions held in which matched rules, with their values).

The signals are computed once per account in a materialised CTE (inlined, each rule condition
would compute its signal again). It renders nothing and decides no tier: the accounts it
returns are evaluated by the engine with the signals it computed, and the engine writes the
explanation. A skipped account has what ``queries.reviews.review_candidates`` asks of one, and
the key its state kept equals the key of today's signals.

SQL because a chunk holds 20,000 accounts and 17 weekly usage rows each: reading them into Python
costs ten times the aggregate.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from psycopg import sql

from accounts.models import Account, TierSource, UsageSnapshot

from ..account_metrics import TICKET_DAYS, TREND_DAYS, USAGE_LOOKBACK_DAYS
from ..models import AccountTierState, ChangeStatus, OverrideStatus, TierChange, TierOverride
from ..rules import SIGNALS


def _half_even(numerator: str, denominator: str) -> str:
    """SQL: the integer nearest to numerator / denominator (bigint expressions, denominator > 0),
    ties to even: Python's default Decimal rounding, where PostgreSQL's round() goes away from 0."""
    a, d = f"abs({numerator})", f"({denominator})"
    q, r = f"({a} / {d})", f"mod({a}, {d})"
    nearest = f"({q} + CASE WHEN 2 * {r} > {d} THEN 1 WHEN 2 * {r} = {d} THEN mod({q}, 2) ELSE 0 END)"
    return f"(CASE WHEN {numerator} < 0 THEN -1 ELSE 1 END * {nearest})"


# Each signal as an expression over the account ``a`` and its usage aggregate ``u`` (see below).
_SIGNAL_SQL = {
    "acv": "a.acv",
    "lifecycle_stage": "a.lifecycle_stage",
    "days_to_renewal": "(a.renewal_date - %(today)s::date)",
    "health_score": "a.health_score",
    "health_band": "NULLIF(a.health_band, '')",
    "feature_adoption": "u.adoption",
    "support_tickets_30d": "COALESCE(u.tickets, 0)",
    "seat_utilisation": (
        "CASE WHEN u.seats > 0 THEN round("
        + _half_even("u.users::bigint * 1000", "u.seats::bigint")
        + "::numeric / 1000, 3) END"
    ),
    "active_users_trend_90d": (
        "CASE WHEN u.periods >= 2 AND u.base_users > 0 THEN round("
        + _half_even("(u.users::bigint - u.base_users) * 1000", "u.base_users::bigint")
        + "::numeric / 10, 1) END"
    ),
}
_USAGE_SIGNALS = frozenset(
    {"feature_adoption", "support_tickets_30d", "seat_utilisation", "active_users_trend_90d"}
)


def _condition(condition: dict[str, Any], expression: str, params: dict[str, Any], name: str) -> str:
    """SQL for ``engine.condition_holds``: false when the value is missing."""
    op, value = condition["op"], condition["value"]
    kind = SIGNALS[condition["signal"]].kind
    if op == "between":
        params[f"{name}_low"], params[f"{name}_high"] = (Decimal(str(v)) for v in value)
        test = f"{expression} BETWEEN %({name}_low)s::numeric AND %({name}_high)s::numeric"
    elif op == "in":
        params[name] = list(value)
        test = f"{expression} = ANY(%({name})s)"
    elif kind == "number":
        params[name] = Decimal(str(value))
        test = f"{expression} {'=' if op == '==' else op} %({name})s::numeric"
    else:  # == on a text or boolean signal
        params[name] = value
        test = f"{expression} = %({name})s"
    return f"COALESCE({test}, false)"


def _key(rules: tuple[dict[str, Any], ...], params: dict[str, Any]) -> str:
    """SQL for ``rule_inputs.evaluation_key`` over the signals of ``s``."""
    entries: list[str] = []
    for r_index, rule in enumerate(rules):
        conditions = rule["when"]
        holds = [
            _condition(c, f"s.{c['signal']}", params, f"r{r_index}_c{c_index}")
            for c_index, c in enumerate(conditions)
        ]
        matched = "(" + (" AND " if rule.get("match", "all") == "all" else " OR ").join(holds) + ")"
        entries.extend(
            f"CASE WHEN {matched} AND {held} THEN to_jsonb(s.{c['signal']}) END"
            for c, held in zip(conditions, holds, strict=True)
        )
    return "jsonb_build_array(" + ", ".join(entries) + ")" if entries else "'[]'::jsonb"


def _signals_select(needed: set[str], *, with_usage: bool) -> str:
    columns = ", ".join(f"{_SIGNAL_SQL[name]} AS {name}" for name in sorted(needed))
    usage = (
        # Per account, through the usage index (account, period start): the latest period, the
        # one ~90 days before it (else the first), the count and the tickets of 30 days. Five
        # index probes an account took a third of the time of one scan of the chunk's usage
        # rows with a window and ordered aggregates (which sorted every account's rows).
        """
        LEFT JOIN LATERAL (
            SELECT lt.latest, lt.users, lt.seats, lt.adoption,
                   (SELECT count(*) FROM {usage} c
                    WHERE c.account_id = a.id AND c.period_start >= %(usage_since)s) AS periods,
                   COALESCE(
                       (SELECT b.active_users FROM {usage} b
                        WHERE b.account_id = a.id AND b.period_start >= %(usage_since)s
                          AND b.period_start <= lt.latest - %(trend_days)s::int
                        ORDER BY b.period_start DESC LIMIT 1),
                       (SELECT f.active_users FROM {usage} f
                        WHERE f.account_id = a.id AND f.period_start >= %(usage_since)s
                        ORDER BY f.period_start LIMIT 1))::bigint AS base_users,
                   (SELECT sum(t.support_tickets) FROM {usage} t
                    WHERE t.account_id = a.id AND t.period_start >= %(usage_since)s
                      AND t.period_start >= %(ticket_since)s) AS tickets
            FROM (
                SELECT l.period_start AS latest, l.active_users AS users, l.licensed_seats AS seats,
                       l.feature_adoption AS adoption
                FROM {usage} l
                WHERE l.account_id = a.id AND l.period_start >= %(usage_since)s
                ORDER BY l.period_start DESC LIMIT 1
            ) lt
        ) u ON true
        """
        if with_usage
        else ""
    )
    return f"SELECT a.id, {columns} FROM {{accounts}} a {usage} WHERE a.id > %(lower)s AND a.id <= %(upper)s"


def _base_params(lower: int, upper: int, today: dt.date) -> dict[str, Any]:
    return {
        "lower": lower,
        "upper": upper,
        "today": today,
        "trend_days": TREND_DAYS,
        "ticket_since": today - dt.timedelta(days=TICKET_DAYS),
        "usage_since": today - dt.timedelta(days=USAGE_LOOKBACK_DAYS),
    }


def _format(statement: str) -> sql.Composed:
    return sql.SQL(statement).format(
        accounts=sql.Identifier(Account._meta.db_table),
        usage=sql.Identifier(UsageSnapshot._meta.db_table),
        states=sql.Identifier(AccountTierState._meta.db_table),
        changes=sql.Identifier(TierChange._meta.db_table),
        overrides=sql.Identifier(TierOverride._meta.db_table),
    )


def _needed(rules: tuple[dict[str, Any], ...]) -> set[str]:
    # ACV and the lifecycle stage are always given to the engine, as signals_for does.
    return {c["signal"] for rule in rules for c in rule["when"]} | {"acv", "lifecycle_stage"}


def _chunk_settings(cursor: Any) -> None:
    """For the rest of the chunk's transaction: no JIT (the statement's cost estimate makes
    PostgreSQL compile it, which took 1.5 s of 2 s on 20,000 accounts), no parallel workers (a
    review's parallelism is its worker processes, each on one chunk: parallel scans of one chunk
    made it 2-3 times slower under two workers), and room to hash and sort the chunk's accounts in
    memory instead of on disk."""
    if connection.in_atomic_block:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SET LOCAL work_mem = '64MB'")


def _rows_to_signals(names: list[str], rows: list[tuple[Any, ...]]) -> dict[int, dict[str, Any]]:
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def chunk_signals(
    *, lower: int, upper: int, rules: tuple[dict[str, Any], ...], today: dt.date
) -> dict[int, dict[str, Any]]:
    """{account id: {signal: value}} for the accounts with ``lower < id <= upper``: the signals the
    rules read (and ACV, lifecycle stage), valued as ``signals_for`` values them."""
    needed = _needed(rules)
    select = _signals_select(needed, with_usage=bool(needed & _USAGE_SIGNALS))
    with connection.cursor() as cursor:
        cursor.execute(_format(select + " ORDER BY a.id"), _base_params(lower, upper, today))
        return _rows_to_signals(sorted(needed), cursor.fetchall())


def chunk_keys(
    *, lower: int, upper: int, rules: tuple[dict[str, Any], ...], today: dt.date
) -> dict[int, Any]:
    """{account id: evaluation key of today's signals} (for the agreement test and the bench)."""
    params = _base_params(lower, upper, today)
    needed = _needed(rules)
    select = _signals_select(needed, with_usage=bool(needed & _USAGE_SIGNALS))
    statement = f"WITH s AS MATERIALIZED ({select}) SELECT s.id, {_key(rules, params)} FROM s ORDER BY s.id"
    with connection.cursor() as cursor:
        _chunk_settings(cursor)
        cursor.execute(_format(statement), params)
        return {pk: json.loads(key) if isinstance(key, str) else key for pk, key in cursor.fetchall()}


def rule_review_candidates(
    *,
    lower: int,
    upper: int,
    fingerprint: str,
    rules: tuple[dict[str, Any], ...],
    today: dt.date,
    fields: Sequence[str] = ("id",),
) -> tuple[list[tuple[Any, ...]], dict[int, dict[str, Any]], dict[int, list[Any]]]:
    """([the account's ``fields``], {account id: signals}, {account id: evaluation key}) of the
    accounts with ``lower < id <= upper`` a review must evaluate under a policy with ``rules``
    (``rule_inputs.compiles_to_sql``), in id order. The account's own columns come with its
    signals, from the join the pre-filter makes anyway.

    Skipped: tier from the policy; the state says this fingerprint evaluated it at its current
    ACV, with the evaluation key of today's signals; nothing wrote its tier since; the policy gave
    the tier it holds with no downgrade being counted; no open proposal, no active override.
    The id range is repeated on each joined table, as in ``queries.reviews``."""
    params = _base_params(lower, upper, today)
    params.update(
        {
            "fingerprint": fingerprint,
            "policy": TierSource.POLICY.value,
            "proposed": ChangeStatus.PROPOSED.value,
            "active": OverrideStatus.ACTIVE.value,
        }
    )
    needed = _needed(rules)
    names = sorted(needed)
    key = _key(rules, params)
    select = _signals_select(needed, with_usage=bool(needed & _USAGE_SIGNALS))
    statement = f"""
        WITH s AS MATERIALIZED ({select})
        SELECT {", ".join(["s.id", *(f"s.{name}" for name in names), *(f"a.{field}" for field in fields)])},
               {key}
        FROM s
        JOIN {{accounts}} a ON a.id = s.id AND a.id > %(lower)s AND a.id <= %(upper)s
        LEFT JOIN {{states}} st ON st.account_id = s.id
                               AND st.account_id > %(lower)s AND st.account_id <= %(upper)s
        LEFT JOIN (SELECT DISTINCT c.account_id FROM {{changes}} c
                   WHERE c.status = %(proposed)s AND c.account_id > %(lower)s AND c.account_id <= %(upper)s
                  ) proposal ON proposal.account_id = s.id
        LEFT JOIN (SELECT o.account_id FROM {{overrides}} o
                   WHERE o.status = %(active)s AND o.account_id > %(lower)s AND o.account_id <= %(upper)s
                  ) override ON override.account_id = s.id
        WHERE NOT COALESCE(
                a.tier_source = %(policy)s
                AND st.evaluated_with = %(fingerprint)s
                AND st.evaluated_acv = a.acv
                AND st.tier_written_at = a.tier_updated_at
                AND st.policy_tier_code = a.tier_code
                AND st.pending_downgrade_reviews = 0
                AND st.evaluated_signals = {key}
                AND proposal.account_id IS NULL
                AND override.account_id IS NULL,
              false)
        ORDER BY s.id
    """
    with connection.cursor() as cursor:
        _chunk_settings(cursor)
        cursor.execute(_format(statement), params)
        rows = cursor.fetchall()
    keys = {row[0]: json.loads(row[-1]) if isinstance(row[-1], str) else row[-1] for row in rows}
    signals_end = 1 + len(names)
    facts = [row[signals_end:-1] for row in rows]
    return facts, _rows_to_signals(names, [row[:signals_end] for row in rows]), keys


def accounts_in_range(*, lower: int, upper: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            _format("SELECT count(*) FROM {accounts} WHERE id > %(lower)s AND id <= %(upper)s"),
            {"lower": lower, "upper": upper},
        )
        return int(cursor.fetchone()[0])
