"""Retention by segment, in SQL: the renewal outcomes of a period with the segment each fell in.

SQL because a year of outcomes is ~250k rows over a book of 1M accounts, and every dimension is a
question about history ("which tier did the account hold on its renewal date?", "was an override
active that day?", "what was its health 90 days before?") that the database answers with one
indexed lateral look-up per outcome; the same in Python would read the tier history, the override
log, the health history and the delivery ledger into memory. Only the look-up that the requested
dimension needs is joined, so the report by vertical reads no history at all.

The formulas (GRR, NRR, logo churn) are not here: this module sums, ``services`` divides.

What each dimension means (``group`` of a row):

- ``tier``: ``to_code`` of the latest *applied* ``TierChange`` applied by the end of the renewal
  day (local time, ``settings.TIME_ZONE``); ``unknown`` when the account had none yet.
- ``touch_model``: the touch model of that tier, looked up in the policy that applied the change
  (an override's change carries no policy: the active policy's tier of that code, else the newest).
- ``csm``: the username of the account's CSM today (ownership history is not kept per outcome);
  ``unassigned`` when none.
- ``vertical``, ``region``: the account's, ``unknown`` when blank.
- ``coverage``: ``late`` or ``on_time``. Past due dates are not stored (``EntitlementCoverage`` is
  today's snapshot), so they are rebuilt from the delivery ledger and the cadences: the recurring
  entitlements are those of the tier held on the renewal date (add-ons are not counted); for each,
  the points are the last delivery on or before the window start (else the window start itself),
  every delivery in the 365 days up to the renewal date, and the renewal date. An entitlement was
  kept on time when no two consecutive points lie more than its cadence apart, i.e. no occurrence
  fell due in the window without a delivery by its due day. An outcome is ``on_time`` when every
  entitlement was (also when the tier has none: nothing fell due).
- ``override``: ``overridden`` when an override was in force at the end of the renewal day (it had
  been activated, had not been ended, and ``expires_on`` — its last day — had not passed), else
  ``policy``.
- ``override_reason``: that override's reason, else ``policy``; ``policy_tier`` then says the
  tier the policy gave (the override's ``policy_tier_code``, or the tier held for ``policy`` rows),
  which is how overridden accounts are compared with their policy-tier peers.
- ``health_band``: the band of the latest ``AccountHealth`` row dated on or before 90 days before
  the renewal date; ``unknown`` when there is none.

The historical dimensions (all but ``csm``, ``vertical`` and ``region``, which are the account's
today) do not change once the renewal day has ended: history is appended at "now". So
``renewal_segments_settle`` answers them once per outcome and keeps the answers in
``RenewalOutcome.segments_at_renewal``; the report reads that column and runs the look-ups only for
the outcomes without it (renewal day not ended yet, just recorded, or forgotten because history
was written into the past, see ``accounts.services.renewals.renewal_segments_forget``). A year of
250,000 outcomes is then one scan instead of 250,000 history look-ups per request. Both paths use
the same look-up SQL below, and a test holds the settled report equal to the live one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection
from psycopg import sql

from accounts.models import Account, RenewalOutcome, RenewalOutcomeKind
from csplatform.models import User
from playbooks.models import TierEntitlement
from segmentation.models import (
    AccountHealth,
    ChangeStatus,
    OverrideStatus,
    Tier,
    TierChange,
    TierOverride,
    TierPolicy,
)

from ...models import ModuleDelivery, RetentionDaySums
from ...sql import table

DIMENSIONS = ("tier", "touch_model", "csm", "vertical", "region", "coverage", "override", "health_band")
# Not offered by the API: the override feedback report groups on it.
OVERRIDE_REASON = "override_reason"
# Not offered by the API either: the override reason (or ``policy``) and the policy tier together,
# ``GROUP_SEPARATOR`` between them, so the feedback report compares each reason with its
# policy-tier peers from the day sums instead of reading a year of outcomes.
OVERRIDE_REASON_TIER = "override_reason_tier"
GROUP_SEPARATOR = "\x1f"
COVERAGE_WINDOW_DAYS = 365
HEALTH_LEAD_DAYS = 90


class RetentionOutcome(NamedTuple):
    """One renewal outcome with the group it falls in."""

    id: int
    account_id: int
    account_name: str
    renewal_date: dt.date
    outcome: str
    arr_before: Decimal
    arr_after: Decimal
    group: str
    policy_tier: str | None


class RetentionSums(NamedTuple):
    """The sums of one group, from which ``services`` computes the ratios."""

    group: str
    renewals: int
    arr_before: Decimal
    arr_after: Decimal
    arr_kept: Decimal  # Σ min(arr_after, arr_before)
    churned: int


# The end of the renewal day in the product's time zone, as a timestamptz.
_END_OF_DAY = sql.SQL("((o.renewal_date + 1)::timestamp AT TIME ZONE %(time_zone)s)")

_TIER_HELD = sql.SQL("""
    LEFT JOIN LATERAL (
        SELECT tc.to_code,
               (SELECT t.id FROM {tiers} t JOIN {policies} p ON p.id = t.policy_id
                WHERE t.code = tc.to_code
                ORDER BY (t.policy_id IS NOT DISTINCT FROM tc.policy_id) DESC,
                         (p.status = %(policy_active)s) DESC, p.version DESC
                LIMIT 1) AS tier_id
        FROM {changes} tc
        WHERE tc.account_id = o.account_id AND tc.status = %(change_applied)s
          AND tc.applied_at < {end_of_day}
        ORDER BY tc.applied_at DESC, tc.id DESC
        LIMIT 1
    ) held ON TRUE""")

_TOUCH_MODEL = sql.SQL("LEFT JOIN {tiers} held_tier ON held_tier.id = held.tier_id")

_OVERRIDE = sql.SQL("""
    LEFT JOIN LATERAL (
        SELECT ov.reason, NULLIF(ov.policy_tier_code, '') AS policy_tier_code
        FROM {overrides} ov
        WHERE ov.account_id = o.account_id AND ov.status = ANY(%(override_statuses)s)
          AND ov.activated_at < {end_of_day} AND ov.expires_on >= o.renewal_date
          AND (ov.ended_at IS NULL OR ov.ended_at >= {end_of_day})
        ORDER BY ov.activated_at DESC, ov.id DESC
        LIMIT 1
    ) active_override ON TRUE""")

_HEALTH = sql.SQL("""
    LEFT JOIN LATERAL (
        SELECT h.band FROM {health} h
        WHERE h.account_id = o.account_id AND h.date <= o.renewal_date - %(health_lead_days)s
        ORDER BY h.date DESC
        LIMIT 1
    ) health ON TRUE""")

_COVERAGE = sql.SQL("""
    LEFT JOIN LATERAL (
        SELECT bool_or(kept.widest_gap > e.cadence_days) AS late
        FROM {entitlements} e
        CROSS JOIN LATERAL (
            SELECT MAX(points.day - points.previous_day) AS widest_gap
            FROM (
                SELECT day, LAG(day) OVER (ORDER BY day) AS previous_day
                FROM (
                    SELECT COALESCE(
                        (SELECT MAX(d.delivered_on) FROM {deliveries} d
                         WHERE d.account_id = o.account_id AND d.module_id = e.module_id
                           AND d.delivered_on <= o.renewal_date - %(coverage_days)s),
                        o.renewal_date - %(coverage_days)s) AS day
                    UNION ALL
                    SELECT d.delivered_on FROM {deliveries} d
                    WHERE d.account_id = o.account_id AND d.module_id = e.module_id
                      AND d.delivered_on > o.renewal_date - %(coverage_days)s
                      AND d.delivered_on <= o.renewal_date
                    UNION ALL
                    SELECT o.renewal_date
                ) AS all_points
            ) AS points
        ) AS kept
        WHERE e.tier_id = held.tier_id AND e.cadence_days IS NOT NULL
    ) coverage ON TRUE""")

_CSM = sql.SQL("LEFT JOIN {users} csm_user ON csm_user.id = o.csm_id")

# Per dimension: the look-ups it joins (in order) and the expression of its group.
_DIMENSION_SQL: dict[str, tuple[tuple[sql.SQL, ...], str]] = {
    "tier": ((_TIER_HELD,), "COALESCE(NULLIF(held.to_code, ''), 'unknown')"),
    "touch_model": ((_TIER_HELD, _TOUCH_MODEL), "COALESCE(held_tier.touch_model, 'unknown')"),
    "csm": ((_CSM,), "COALESCE(csm_user.username, 'unassigned')"),
    "vertical": ((), "COALESCE(NULLIF(o.vertical, ''), 'unknown')"),
    "region": ((), "COALESCE(NULLIF(o.region, ''), 'unknown')"),
    "coverage": ((_TIER_HELD, _COVERAGE), "CASE WHEN coverage.late THEN 'late' ELSE 'on_time' END"),
    "override": (
        (_OVERRIDE,),
        "CASE WHEN active_override.reason IS NULL THEN 'policy' ELSE 'overridden' END",
    ),
    OVERRIDE_REASON: ((_TIER_HELD, _OVERRIDE), "COALESCE(active_override.reason, 'policy')"),
    OVERRIDE_REASON_TIER: (
        (_TIER_HELD, _OVERRIDE),
        "COALESCE(active_override.reason, 'policy') || chr(31) || COALESCE(CASE WHEN "
        "active_override.reason IS NULL THEN held.to_code ELSE active_override.policy_tier_code END, '')",
    ),
    "health_band": ((_HEALTH,), "COALESCE(health.band, 'unknown')"),
}
# Dimensions answered from history, kept per outcome once its renewal day has ended.
HISTORICAL = (
    "tier",
    "touch_model",
    "coverage",
    "override",
    OVERRIDE_REASON,
    OVERRIDE_REASON_TIER,
    "health_band",
)
# The key under which ``segments_at_renewal`` keeps the policy tier of OVERRIDE_REASON rows.
POLICY_TIER_KEY = "policy_tier"
_POLICY_TIER = {
    OVERRIDE_REASON: "CASE WHEN active_override.reason IS NULL THEN held.to_code "
    "ELSE active_override.policy_tier_code END"
}

# The outcomes of the period, with what the report needs of each; {account_columns} and
# {account_join} add the account's name, vertical, region and CSM only when they are read.
_OUTCOMES = sql.SQL("""
        SELECT r.id, r.account_id, r.renewal_date, r.outcome, r.arr_before, r.arr_after,
               r.segments_at_renewal{account_columns}
        FROM {outcomes} r {account_join}
        WHERE r.renewal_date BETWEEN %(date_from)s AND %(date_to)s AND {scope}""")

_ACCOUNT_COLUMNS = sql.SQL(", a.name AS account_name, a.vertical, a.region, a.csm_id")
_NO_ACCOUNT_COLUMNS = sql.SQL(
    ", NULL::text AS account_name, NULL::text AS vertical, NULL::text AS region, NULL::bigint AS csm_id"
)

# A current dimension, or a historical one without settled answers: the look-ups for every row.
_BASE = sql.SQL("""
    WITH grouped AS (
        SELECT o.*, {group_expr} AS grp, {policy_tier_expr} AS policy_tier
        FROM ({outcomes_sql}) o {lookups}
    )
""")

# A historical dimension: the settled answer where there is one, the look-ups for the rest.
_BASE_SETTLED = sql.SQL("""
    WITH grouped AS (
        SELECT o.*, o.segments_at_renewal ->> %(by)s AS grp, {settled_policy_tier} AS policy_tier
        FROM ({outcomes_sql}) o
        WHERE o.segments_at_renewal IS NOT NULL
        UNION ALL
        SELECT o.*, {group_expr} AS grp, {policy_tier_expr} AS policy_tier
        FROM ({outcomes_sql}) o {lookups}
        WHERE o.segments_at_renewal IS NULL
    )
""")

_PER_OUTCOME = sql.SQL("""
    SELECT id, account_id, account_name, renewal_date, outcome, arr_before, arr_after, grp, policy_tier
    FROM grouped WHERE {only_group}
    ORDER BY grp, renewal_date, id""")

_SUMS = sql.SQL("""
    SELECT grp, COUNT(*), SUM(arr_before), SUM(arr_after), SUM(LEAST(arr_after, arr_before)),
           COUNT(*) FILTER (WHERE outcome = %(churned)s)
    FROM grouped WHERE {only_group}
    GROUP BY grp
    ORDER BY grp""")


def _names() -> dict[str, Any]:
    return {
        "tiers": table(Tier),
        "policies": table(TierPolicy),
        "changes": table(TierChange),
        "overrides": table(TierOverride),
        "health": table(AccountHealth),
        "entitlements": table(TierEntitlement),
        "deliveries": table(ModuleDelivery),
        "users": table(User),
        "end_of_day": _END_OF_DAY,
    }


def _lookups(dimensions: Sequence[str]) -> sql.Composable:
    """The look-ups the dimensions need, each joined once, in a valid order."""
    names = _names()
    needed: list[sql.SQL] = []
    for dimension in dimensions:
        for lookup in _DIMENSION_SQL[dimension][0]:
            if lookup not in needed:
                needed.append(lookup)
    return sql.SQL("\n").join(lookup.format(**names) for lookup in needed)


# Every account's sums of a historical dimension: the day sums of the kept outcomes, plus each
# outcome without kept segments looked up from history (few: renewal days not ended yet, or
# outcomes just recorded or forgotten; a partial index finds them).
_SUMS_FROM_DAYS = sql.SQL("""
    SELECT grp, SUM(renewals)::int, SUM(arr_before), SUM(arr_after), SUM(arr_kept), SUM(churned)::int
    FROM (
        SELECT s.grp, s.renewals, s.arr_before, s.arr_after, s.arr_kept, s.churned
        FROM {day_sums} s
        WHERE s.dimension = %(by)s AND s.renewal_date BETWEEN %(date_from)s AND %(date_to)s
        UNION ALL
        SELECT {group_expr}, 1, o.arr_before, o.arr_after, LEAST(o.arr_after, o.arr_before),
               (o.outcome = %(churned)s)::int
        FROM ({outcomes_sql}) o {lookups}
        WHERE o.segments_at_renewal IS NULL
    ) per_day
    GROUP BY grp
    ORDER BY grp""")


def _statement(
    *, by: str, csm_id: int | None, account_ids: Sequence[int] | None, group: str | None, summed: bool
) -> sql.Composed:
    if by not in _DIMENSION_SQL:
        raise ValueError(f"Unknown retention dimension {by!r}.")
    if summed and by in HISTORICAL and csm_id is None and account_ids is None and group is None:
        return _SUMS_FROM_DAYS.format(
            day_sums=table(RetentionDaySums),
            group_expr=sql.SQL(_DIMENSION_SQL[by][1]),  # type: ignore[arg-type]
            outcomes_sql=_OUTCOMES.format(
                outcomes=table(RenewalOutcome),
                account_columns=_NO_ACCOUNT_COLUMNS,
                account_join=sql.SQL(""),
                scope=sql.SQL("r.segments_at_renewal IS NULL"),
            ),
            lookups=_lookups([by]),
        )
    group_expr = _DIMENSION_SQL[by][1]
    if account_ids is not None:
        scope = sql.SQL("r.account_id = ANY(%(account_ids)s)")
    elif csm_id is not None:
        scope = sql.SQL("a.csm_id = %(csm_id)s")
    else:
        scope = sql.SQL("TRUE")
    # The sums of a historical dimension read nothing of the account unless the scope does.
    reads_account = not summed or by not in HISTORICAL or csm_id is not None
    outcomes_sql = _OUTCOMES.format(
        outcomes=table(RenewalOutcome),
        account_columns=_ACCOUNT_COLUMNS if reads_account else _NO_ACCOUNT_COLUMNS,
        account_join=sql.SQL("JOIN {} a ON a.id = r.account_id").format(table(Account))
        if reads_account
        else sql.SQL(""),
        scope=scope,
    )
    base = (_BASE_SETTLED if by in HISTORICAL else _BASE).format(
        outcomes_sql=outcomes_sql,
        group_expr=sql.SQL(group_expr),  # type: ignore[arg-type]  # a constant of this module
        policy_tier_expr=sql.SQL(_POLICY_TIER.get(by, "NULL::text")),  # type: ignore[arg-type]
        lookups=_lookups([by]),
        settled_policy_tier=sql.SQL("o.segments_at_renewal ->> %(policy_tier_key)s")
        if by in _POLICY_TIER
        else sql.SQL("NULL::text"),
    )
    only_group = sql.SQL("grp = %(group)s") if group is not None else sql.SQL("TRUE")
    tail = (_SUMS if summed else _PER_OUTCOME).format(only_group=only_group)
    return sql.Composed([base, tail])


def _params(**extra: Any) -> dict[str, Any]:
    return {
        "time_zone": settings.TIME_ZONE,
        "policy_active": "active",
        "change_applied": ChangeStatus.APPLIED.value,
        "override_statuses": [
            OverrideStatus.ACTIVE.value,
            OverrideStatus.EXPIRED.value,
            OverrideStatus.ENDED.value,
        ],
        "health_lead_days": HEALTH_LEAD_DAYS,
        "coverage_days": COVERAGE_WINDOW_DAYS,
        "churned": RenewalOutcomeKind.CHURNED.value,
        "policy_tier_key": POLICY_TIER_KEY,
        **extra,
    }


def retention_outcomes(
    *,
    date_from: dt.date,
    date_to: dt.date,
    by: str,
    csm_id: int | None = None,
    account_ids: Sequence[int] | None = None,
    group: str | None = None,
    summed: bool = False,
) -> list[RetentionOutcome] | list[RetentionSums]:
    """The renewal outcomes dated in ``[date_from, date_to]`` with their group under ``by``.

    ``summed=False``: one ``RetentionOutcome`` per outcome (drill-downs, exports, the Python
    reference of the formulas). ``summed=True``: one ``RetentionSums`` per group (the report).
    ``account_ids`` or ``csm_id`` narrow to the accounts a person may see (neither: every account);
    ``group`` keeps one group (a drill-down). The dimensions are described in the module docstring.
    """
    params = _params(
        date_from=date_from,
        date_to=date_to,
        csm_id=csm_id,
        account_ids=list(account_ids) if account_ids is not None else None,
        group=group,
        by=by,
    )
    statement = _statement(by=by, csm_id=csm_id, account_ids=account_ids, group=group, summed=summed)
    with connection.cursor() as cursor:
        cursor.execute(statement.as_string(None), params)
        rows = cursor.fetchall()
    if summed:
        return [RetentionSums(*row) for row in rows]
    return [RetentionOutcome(*row) for row in rows]
