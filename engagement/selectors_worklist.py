"""The worklist: a CSM's portfolio ordered by what needs attention, with the reasons.

Scored in SQL over the filtered portfolio; reasons are built only for the page's rows.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from accounts.models import Account
from csplatform.models import User
from segmentation.models import ChangeStatus, TierChange

from .models import (
    CommitmentStatus,
    EntitlementCoverage,
    Flag,
    FlagStatus,
    HandoffCommitment,
    Task,
    TaskStatus,
)

# Points per reason; the worklist orders by their sum. Overdue service and risk flags weigh most
# because they are what the tier promised and what signals churn; tier rank breaks ties.
SCORE_OVERDUE_ENTITLEMENT = 30
SCORE_OVERDUE_PER_DAY = 1  # plus one point per day the oldest entitlement is overdue (capped)
SCORE_OVERDUE_DAYS_CAP = 30
SCORE_FLAG = 25
SCORE_RISK_FLAG = 35  # usage drop, champion left, ticket surge
SCORE_RENEWAL_SOON = 30  # within 30 days
SCORE_RENEWAL = 15  # within settings.WORKLIST_RENEWAL_DAYS
SCORE_PENDING_PROPOSAL = 20
SCORE_PENDING_COMMITMENT = 15
SCORE_OVERDUE_TASK = 10
SCORE_PER_TIER_RANK = 5  # (5 - rank) x 5: Enterprise +20 … Tier 3 +5

RISK_FLAGS = {"usage_drop", "champion_left", "ticket_surge"}


@dataclass
class WorklistEntry:
    account: Account
    score: int
    reasons: list[str] = field(default_factory=list)
    overdue_entitlements: int = 0
    open_flags: list[str] = field(default_factory=list)
    overdue_tasks: int = 0
    open_tasks: int = 0
    pending_commitments: int = 0
    pending_proposal: bool = False
    days_to_renewal: int | None = None


def worklist_portfolio(
    *,
    csm: User | None,
    tier_code: str | None = None,
    flag_kind: str | None = None,
    search: str | None = None,
    lifecycle: str | None = None,
    renewal_within: int | None = None,
    no_tier: bool = False,
    account_id: int | None = None,
    today: dt.date,
) -> QuerySet[Account]:
    """The worklist's accounts (not churned; the CSM's, or every CSM's with ``csm=None``), filtered,
    without the score: count the worklist with it, ``worklist_accounts`` orders it."""
    accounts = Account.objects.exclude(lifecycle_stage="churned")
    accounts = accounts.filter(csm=csm) if csm is not None else accounts.filter(csm__isnull=False)
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    if no_tier:
        accounts = accounts.filter(tier_code="")
    if tier_code:
        accounts = accounts.filter(tier_code=tier_code)
    if search:
        accounts = accounts.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    if flag_kind:
        accounts = accounts.filter(
            Exists(Flag.objects.filter(account_id=OuterRef("pk"), status=FlagStatus.OPEN, kind=flag_kind))
        )
    if lifecycle:
        accounts = accounts.filter(lifecycle_stage=lifecycle)
    if renewal_within is not None:
        accounts = accounts.filter(
            renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=renewal_within)
        )
    return accounts


def _worklist_sql(portfolio_sql: str, *, needs_attention: bool, paged: bool) -> str:
    """The score as SQL over the filtered portfolio, so the database orders and pages the worklist.

    Written as SQL (not ORM expressions): building and compiling a dozen nested expressions cost
    more per request than running the query. The counts it selects are the ones
    ``_worklist_entry`` turns into reasons. Parameters, in order: today ×7, the portfolio's,
    then (when ``paged``) limit and offset.
    """
    postgres = connection.vendor == "postgresql"
    days_overdue = (
        "(%s::date - w.oldest_due)"
        if postgres
        else "CAST(julianday(%s) - julianday(w.oldest_due) AS INTEGER)"
    )
    name_order = 's.name COLLATE "C"' if postgres else "s.name"  # code-point order, as Python sorts
    risk = ", ".join(f"'{kind}'" for kind in sorted(RISK_FLAGS))
    tables = {
        "cov": EntitlementCoverage._meta.db_table,
        "flag": Flag._meta.db_table,
        "task": Task._meta.db_table,
        "commitment": HandoffCommitment._meta.db_table,
        "change": TierChange._meta.db_table,
    }
    open_task = (
        f"t.account_id = a.id AND t.status = '{TaskStatus.OPEN.value}' "
        "AND (t.snoozed_until IS NULL OR t.snoozed_until <= %s)"
    )
    return f"""
        SELECT s.*, s.attention + CASE WHEN s.tier_rank > 0 AND s.tier_rank < 5
                                       THEN (5 - s.tier_rank) * {SCORE_PER_TIER_RANK} ELSE 0 END AS score
        FROM (
          SELECT w.*,
            CASE WHEN w.overdue_entitlements > 0
                 THEN {SCORE_OVERDUE_ENTITLEMENT} + {SCORE_OVERDUE_PER_DAY}
                      * CASE WHEN w.oldest_due IS NULL THEN 0
                             WHEN {days_overdue} > {SCORE_OVERDUE_DAYS_CAP} THEN {SCORE_OVERDUE_DAYS_CAP}
                             ELSE {days_overdue} END
                 ELSE 0 END
            + w.flag_points
            + CASE WHEN w.renewal_date IS NULL OR w.renewal_date < %s THEN 0
                   WHEN w.renewal_date <= %s THEN {SCORE_RENEWAL_SOON}
                   WHEN w.renewal_date <= %s THEN {SCORE_RENEWAL}
                   ELSE 0 END
            + CASE WHEN w.pending_proposal THEN {SCORE_PENDING_PROPOSAL} ELSE 0 END
            + CASE WHEN w.pending_commitments > 0 THEN {SCORE_PENDING_COMMITMENT} ELSE 0 END
            + CASE WHEN w.overdue_tasks > 0 THEN {SCORE_OVERDUE_TASK} ELSE 0 END AS attention
          FROM (
            SELECT a.*,
              (SELECT COUNT(*) FROM {tables["cov"]} c
                WHERE c.account_id = a.id AND c.next_due_on < %s) AS overdue_entitlements,
              (SELECT MIN(c.next_due_on) FROM {tables["cov"]} c
                WHERE c.account_id = a.id AND c.next_due_on < %s) AS oldest_due,
              COALESCE((SELECT SUM(CASE WHEN f.kind IN ({risk}) THEN {SCORE_RISK_FLAG} ELSE {SCORE_FLAG} END)
                FROM {tables["flag"]} f
                WHERE f.account_id = a.id AND f.status = '{FlagStatus.OPEN.value}'), 0) AS flag_points,
              (SELECT COUNT(*) FROM {tables["task"]} t WHERE {open_task} AND t.due_on < %s) AS overdue_tasks,
              (SELECT COUNT(*) FROM {tables["task"]} t WHERE {open_task}) AS open_tasks,
              (SELECT COUNT(*) FROM {tables["commitment"]} h
                WHERE h.account_id = a.id
                  AND h.status = '{CommitmentStatus.EXCEEDS_TIER.value}') AS pending_commitments,
              EXISTS (SELECT 1 FROM {tables["change"]} x
                WHERE x.account_id = a.id AND x.status = '{ChangeStatus.PROPOSED.value}') AS pending_proposal
            FROM ({portfolio_sql}) a
          ) w
        ) s
        {"WHERE s.attention > 0" if needs_attention else ""}
        ORDER BY score DESC, CASE WHEN s.tier_rank > 0 THEN s.tier_rank ELSE 99 END, {name_order}, s.id
        {"LIMIT %s OFFSET %s" if paged else ""}
    """


def worklist_accounts(
    *,
    limit: int | None = None,
    offset: int = 0,
    needs_attention: bool = False,
    today: dt.date | None = None,
    **filters: Any,
) -> list[Account]:
    """The portfolio (``worklist_portfolio``'s filters) most urgent first, each account carrying
    ``score`` and the counts behind its reasons. One query whatever the portfolio size; with
    ``limit`` only that page is read. Overdue entitlements come from the materialised coverage
    table (``coverage_recompute``)."""
    today = today or timezone.localdate()
    portfolio = worklist_portfolio(today=today, **filters).order_by()
    portfolio_sql, portfolio_params = portfolio.query.sql_with_params()
    params: list[Any] = [
        today,  # days overdue (twice)
        today,
        today,  # renewal window
        today + dt.timedelta(days=30),
        today + dt.timedelta(days=int(settings.WORKLIST_RENEWAL_DAYS)),
        today,  # overdue entitlements, oldest due
        today,
        today,  # overdue tasks: snoozed, due
        today,
        today,  # open tasks: snoozed
        *portfolio_params,
    ]
    if limit:
        params += [limit, offset]
    sql = _worklist_sql(portfolio_sql, needs_attention=needs_attention, paged=bool(limit))
    accounts: list[Any] = list(Account.objects.raw(sql, params))  # with the counts as attributes
    for account in accounts:
        if isinstance(account.oldest_due, str):  # SQLite returns dates of raw columns as text
            account.oldest_due = dt.date.fromisoformat(account.oldest_due)
    if offset and not limit:
        accounts = accounts[offset:]
    return accounts


def worklist_entries(accounts: Iterable[Any], *, today: dt.date | None = None) -> list[WorklistEntry]:
    """Entries with their reasons for accounts read from ``worklist_accounts`` (one query for the
    open flags' kinds, only for the accounts given: read a page, not the whole portfolio)."""
    today = today or timezone.localdate()
    rows = list(accounts)
    flagged = [a.pk for a in rows if a.flag_points]  # points only when a flag is open
    kinds: dict[int, list[str]] = defaultdict(list)
    if flagged:
        for account_id, kind in (
            Flag.objects.filter(account_id__in=flagged, status=FlagStatus.OPEN)
            .order_by("raised_at")
            .values_list("account_id", "kind")
        ):
            kinds[account_id].append(kind)
    return [_worklist_entry(account, kinds.get(account.pk, []), today) for account in rows]


def worklist_tiers(
    *, csm: User | None, flag_kind: str | None = None, search: str | None = None
) -> list[tuple[str, str]]:
    """The tiers present in the (searched) portfolio, highest first, as (code, name) (one query)."""
    accounts = worklist_portfolio(csm=csm, flag_kind=flag_kind, search=search, today=timezone.localdate())
    rows = (
        accounts.exclude(tier_code="")
        .order_by()
        .values_list("tier_code", "tier_name", "tier_rank")
        .distinct()
    )
    seen: dict[str, tuple[int, str]] = {}
    for code, name, rank in sorted(rows, key=lambda r: (r[2] or 99, r[0], r[1])):
        seen.setdefault(code, (rank or 99, name))
    return [(code, name) for code, (_, name) in seen.items()]


def accounts_for_worklist(
    *,
    csm: User | None,
    tier_code: str | None = None,
    flag_kind: str | None = None,
    search: str | None = None,
    needs_attention: bool = False,
    limit: int | None = None,
    offset: int = 0,
    today: dt.date | None = None,
) -> list[WorklistEntry]:
    """A CSM's portfolio ordered by what needs attention, each with the reasons for its place.

    ``csm=None`` lists every account with a CSM (leadership view). Two queries whatever the
    portfolio size: the ordered accounts with their counts as subqueries, then the open flags'
    kinds. The database orders and slices; only the returned rows are built in Python.
    """
    accounts = worklist_accounts(
        csm=csm,
        tier_code=tier_code,
        flag_kind=flag_kind,
        search=search,
        needs_attention=needs_attention,
        limit=limit,
        offset=offset,
        today=today,
    )
    return worklist_entries(accounts, today=today)


def _worklist_entry(account: Any, flag_kinds: list[str], today: dt.date) -> WorklistEntry:
    from .models import FlagKind

    entry = WorklistEntry(
        account=account,
        score=account.score,
        overdue_entitlements=account.overdue_entitlements,
        open_flags=flag_kinds,
        overdue_tasks=account.overdue_tasks,
        open_tasks=account.open_tasks,
        pending_commitments=account.pending_commitments,
        pending_proposal=bool(account.pending_proposal),
    )
    if account.overdue_entitlements:
        days = (today - account.oldest_due).days if account.oldest_due else 0
        noun = "entitlement" if account.overdue_entitlements == 1 else "entitlements"
        entry.reasons.append(f"{account.overdue_entitlements} {noun} overdue (oldest by {days} days)")
    for kind in flag_kinds:
        entry.reasons.append(f"Flag: {FlagKind(kind).label}")
    if account.renewal_date and account.renewal_date >= today:
        days_left = (account.renewal_date - today).days
        entry.days_to_renewal = days_left
        if days_left <= max(30, settings.WORKLIST_RENEWAL_DAYS):
            entry.reasons.append(f"Renews in {days_left} days")
    if entry.pending_proposal:
        entry.reasons.append("Tier proposal waiting for review")
    if account.pending_commitments:
        entry.reasons.append(f"{account.pending_commitments} AE commitment(s) beyond the tier")
    if account.overdue_tasks:
        entry.reasons.append(f"{account.overdue_tasks} overdue task(s)")
    return entry
