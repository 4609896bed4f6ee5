"""Reads of the engagement app, shaped for pages and endpoints. All query-count work lives here.

The HTML pages and the API call these; none of them writes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Least
from django.utils import timezone

from accounts.models import Account
from csplatform import roles
from csplatform.models import User
from playbooks.models import AccountAddOn, AddOnStatus
from playbooks.selectors import entitlements_by_tier_code, entitlements_for_account
from segmentation.models import ChangeStatus, TierChange

from .models import (
    CommitmentStatus,
    CsmPortfolioSummary,
    EntitlementCoverage,
    Flag,
    FlagStatus,
    HandoffCommitment,
    ModuleDelivery,
    Task,
    TaskStatus,
    Touchpoint,
)

# ---------------------------------------------------------------------------------------------
# Worklist
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------------


@dataclass
class CoverageLine:
    module_code: str
    module_name: str
    cadence_days: int | None
    source: str
    last_delivered_on: dt.date | None
    next_due_on: dt.date | None
    overdue: bool


def coverage_for_account(*, account: Account, today: dt.date | None = None) -> list[CoverageLine]:
    """Each entitlement of the account with its last delivery and next due day (three queries)."""
    today = today or timezone.localdate()
    rows = {row.module_id: row for row in EntitlementCoverage.objects.filter(account=account)}
    last = dict(
        ModuleDelivery.objects.filter(account=account)
        .values("module_id")
        .annotate(last=Max("delivered_on"))
        .values_list("module_id", "last")
    )
    lines = []
    for entitlement in entitlements_for_account(account=account, on=today):
        row = rows.get(entitlement.module_id)
        next_due = row.next_due_on if row and entitlement.cadence_days else None
        lines.append(
            CoverageLine(
                module_code=entitlement.module_code,
                module_name=entitlement.module_name,
                cadence_days=entitlement.cadence_days,
                source=entitlement.source,
                last_delivered_on=last.get(entitlement.module_id),
                next_due_on=next_due,
                overdue=bool(next_due and next_due < today),
            )
        )
    return lines


@dataclass
class CoverageShare:
    key: str
    planned: Decimal
    delivered_on_time: Decimal
    overdue: int

    @property
    def share(self) -> float | None:
        return float(self.delivered_on_time / self.planned) if self.planned else None


def coverage_share(*, group_by: str, today: dt.date | None = None) -> list[CoverageShare]:
    """Share of entitlements delivered on time over the trailing window, per CSM or per tier.

    ``group_by`` is ``"csm"`` (key: username) or ``"tier"`` (key: tier code). One query over the
    materialised coverage table.
    """
    today = today or timezone.localdate()
    column = {"csm": "account__csm__username", "tier": "account__tier_code"}[group_by]
    rows = (
        EntitlementCoverage.objects.values(column)
        .annotate(
            planned=Sum("planned_in_window"),
            delivered=Sum(
                Least(
                    Cast("delivered_in_window", DecimalField(max_digits=8, decimal_places=3)),
                    "planned_in_window",
                    output_field=DecimalField(max_digits=8, decimal_places=3),
                )
            ),
            overdue=Count("pk", filter=Q(next_due_on__lt=today)),
        )
        .order_by(column)
    )
    return [
        CoverageShare(
            key=row[column] or "",
            planned=Decimal(row["planned"] or 0),
            delivered_on_time=Decimal(row["delivered"] or 0),
            overdue=row["overdue"],
        )
        for row in rows
    ]


def coverage_share_for_period(*, start: dt.date, end: dt.date, group_by: str) -> list[CoverageShare]:
    """Share delivered on time from ``start`` to ``end`` (inclusive), per CSM or per tier, computed
    from the delivery ledger in one query (for drill-downs; dashboards read ``coverage_share``).

    Entitlements are today's (tier and add-ons); a period in the past is measured against them.
    """
    from django.db import connection

    from engagement.services.coverage import coverage_params, coverage_select_sql
    from playbooks.selectors import active_policy

    if end < start:
        raise ValueError("The period ends before it starts.")
    policy = active_policy()
    if policy is None:
        return []
    column = {"csm": "u.username", "tier": "a.tier_code"}[group_by]
    params = coverage_params(today=end, policy_id=policy.pk, window_days=(end - start).days + 1)
    sql = f"""
        SELECT {column} AS key, SUM(c.planned_in_window) AS planned,
               SUM(CASE WHEN c.delivered_in_window < c.planned_in_window
                        THEN c.delivered_in_window ELSE c.planned_in_window END) AS delivered,
               SUM(CASE WHEN c.next_due_on < %(today)s THEN 1 ELSE 0 END) AS overdue
        FROM ({coverage_select_sql(scope="1 = 1")}) c
        JOIN accounts_account a ON a.id = c.account_id
        LEFT JOIN {User._meta.db_table} u ON u.id = a.csm_id
        WHERE {"a.csm_id IS NOT NULL" if group_by == "csm" else "1 = 1"}
        GROUP BY {column} ORDER BY {column}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        CoverageShare(
            key=key or "",
            planned=Decimal(str(planned or 0)).quantize(Decimal("0.001")),
            delivered_on_time=Decimal(str(delivered or 0)).quantize(Decimal("0.001")),
            overdue=int(overdue or 0),
        )
        for key, planned, delivered, overdue in rows
    ]


# ---------------------------------------------------------------------------------------------
# Capacity
# ---------------------------------------------------------------------------------------------


@dataclass
class CsmCapacity:
    csm: User
    accounts: int
    capacity_hours: Decimal
    entitlement_hours: Decimal
    task_hours: Decimal

    @property
    def required_hours(self) -> Decimal:
        return self.entitlement_hours + self.task_hours

    @property
    def utilisation(self) -> float | None:
        return float(self.required_hours / self.capacity_hours) if self.capacity_hours else None

    @property
    def overloaded(self) -> bool:
        return self.required_hours > self.capacity_hours

    @property
    def spare_hours(self) -> Decimal:
        return self.capacity_hours - self.required_hours


def _hours(minutes: float) -> Decimal:
    return (Decimal(str(minutes)) / 60).quantize(Decimal("0.01"))


def csm_capacity(
    *, csm_ids: list[int] | None = None, today: dt.date | None = None, from_summary: bool = False
) -> list[CsmCapacity]:
    """Weekly hours each CSM's portfolio needs against their capacity (a constant number of queries).

    required = Σ over the portfolio of entitled module minutes × 7 / cadence days (tier and add-on
    entitlements; an add-on counts only what it adds over the tier's cadence) + the estimates of
    open tasks due within the next 7 days (overdue included).

    ``from_summary`` reads the accounts per CSM and tier from ``CsmPortfolioSummary`` (kept by
    ``csm_portfolio_refresh`` when portfolios change, and nightly) instead of grouping every
    CSM-owned account: dashboards over all CSMs use it, so their cost does not grow with the book.
    """
    today = today or timezone.localdate()
    csms = User.objects.filter(groups__name=roles.CSM, is_active=True).order_by("username")
    if csm_ids is not None:
        csms = csms.filter(pk__in=csm_ids)
    csms_list = list(csms.distinct())
    ids = [u.pk for u in csms_list]
    by_tier = entitlements_by_tier_code()
    per_tier = {code: sum(e.weekly_minutes for e in entitlements) for code, entitlements in by_tier.items()}
    per_module = {
        (code, e.module_id): e.weekly_minutes for code, entitlements in by_tier.items() for e in entitlements
    }
    minutes: dict[int, float] = defaultdict(float)
    accounts: dict[int, int] = defaultdict(int)
    portfolio: Any
    if from_summary:
        portfolio = CsmPortfolioSummary.objects.filter(csm_id__in=ids).values_list(
            "csm_id", "tier_code", "accounts"
        )
    else:
        portfolio = (
            Account.objects.filter(csm_id__in=ids)
            .exclude(lifecycle_stage="churned")
            .values("csm_id", "tier_code")
            .annotate(n=Count("pk"))
            .values_list("csm_id", "tier_code", "n")
        )
    for csm_id, tier_code, n in portfolio:
        minutes[csm_id] += per_tier.get(tier_code, 0.0) * n
        accounts[csm_id] += n
    add_ons = (
        AccountAddOn.objects.filter(
            account__csm_id__in=ids,
            status=AddOnStatus.APPROVED,
            starts_on__lte=today,
            cadence_days__isnull=False,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values_list(
            "account__csm_id", "account__tier_code", "module_id", "module__expected_minutes", "cadence_days"
        )
    )
    for csm_id, tier_code, module_id, expected, cadence in add_ons:
        assert cadence  # filtered above
        # An add-on replaces the tier's cadence for its module when it is more frequent.
        minutes[csm_id] += max(0.0, expected * 7 / cadence - per_module.get((tier_code, module_id), 0.0))
    task_minutes = dict(
        Task.objects.filter(
            assignee_id__in=ids, status=TaskStatus.OPEN, due_on__lte=today + dt.timedelta(days=7)
        )
        .values("assignee_id")
        .annotate(m=Sum("estimated_minutes"))
        .values_list("assignee_id", "m")
    )
    return [
        CsmCapacity(
            csm=user,
            accounts=accounts[user.pk],
            capacity_hours=Decimal(user.weekly_capacity_hours),
            entitlement_hours=_hours(minutes[user.pk]),
            task_hours=_hours(task_minutes.get(user.pk) or 0),
        )
        for user in csms_list
    ]


def csm_suggestions_for_account(*, account: Account, today: dt.date | None = None) -> list[CsmCapacity]:
    """CSMs ordered by the room they would have left after taking ``account`` (most room first);
    only CSMs who would stay within capacity are suggested."""
    today = today or timezone.localdate()
    load = Decimal(0)
    for entitlement in entitlements_for_account(account=account, on=today):
        load += Decimal(str(entitlement.weekly_minutes)) / 60
    candidates = [c for c in csm_capacity(today=today) if c.csm.pk != account.csm_id]
    fitting = [c for c in candidates if c.spare_hours - load >= 0]
    return sorted(fitting, key=lambda c: (-(c.spare_hours - load), c.csm.username))


# ---------------------------------------------------------------------------------------------
# Lists for pages and the API
# ---------------------------------------------------------------------------------------------


def visible_accounts(*, user: Any) -> QuerySet[Account]:
    """Accounts whose engagement records ``user`` may read: all for leaders and integrations,
    the owned ones for CSMs and AEs."""
    if roles.is_leader(user) or roles.is_integration(user):
        return Account.objects.all()
    return Account.objects.filter(Q(csm_id=user.pk) | Q(ae_id=user.pk))


def touchpoints_for(*, user: Any, account_id: int | None = None) -> QuerySet[Touchpoint]:
    """Touchpoints the user may read, newest first, ready for the timeline."""
    touchpoints = Touchpoint.objects.filter(account__in=visible_accounts(user=user))
    if account_id is not None:
        touchpoints = touchpoints.filter(account_id=account_id)
    return touchpoints.select_related("logged_by", "module", "account").prefetch_related("participants")


def tasks_for_csm(
    *, csm: User, include_snoozed: bool = False, today: dt.date | None = None
) -> QuerySet[Task]:
    today = today or timezone.localdate()
    tasks = Task.objects.filter(assignee=csm, status=TaskStatus.OPEN)
    if not include_snoozed:
        tasks = tasks.filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today))
    return tasks.select_related("account", "module").order_by("due_on", "pk")


def tasks_for_account(*, account: Account) -> QuerySet[Task]:
    return (
        Task.objects.filter(account=account)
        .select_related("module", "assignee")
        .order_by("status", "due_on", "pk")
    )


def tasks_visible_for_account(*, account_id: int, user: Any) -> QuerySet[Task]:
    """The account's tasks if ``user`` may see the account, otherwise none (for the API filter)."""
    return (
        Task.objects.filter(account_id=account_id, account__in=visible_accounts(user=user))
        .select_related("module", "assignee")
        .order_by("status", "due_on", "pk")
    )


def commitments_for(*, user: Any, account_id: int | None = None) -> QuerySet[HandoffCommitment]:
    """Commitments the user may read: leaders all, AEs and CSMs those on their accounts."""
    commitments = HandoffCommitment.objects.filter(account__in=visible_accounts(user=user))
    if account_id is not None:
        commitments = commitments.filter(account_id=account_id)
    return commitments.select_related("account", "module", "logged_by", "decided_by")


def commitments_awaiting_decision() -> QuerySet[HandoffCommitment]:
    """The leadership queue: commitments that exceed the tier, oldest first."""
    return (
        HandoffCommitment.objects.filter(status=CommitmentStatus.EXCEEDS_TIER)
        .select_related("account", "module", "logged_by")
        .order_by("created_at", "pk")
    )


def open_flags_for_account(*, account: Account) -> QuerySet[Flag]:
    return Flag.objects.filter(account=account, status=FlagStatus.OPEN).order_by("-raised_at")


def pending_add_ons() -> QuerySet[Any]:
    return AccountAddOn.objects.filter(status=AddOnStatus.PENDING).select_related(
        "account", "module", "requested_by"
    )
