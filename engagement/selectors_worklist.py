"""The worklist: a CSM's portfolio ordered by what needs attention, with the reasons.

Scored in SQL over the filtered portfolio (``engagement.queries.worklist``); reasons are built only
for the page's rows, by the same rule (``engagement.services.worklist_score``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone

from accounts.models import Account
from csplatform.models import User

from .models import Flag, FlagStatus
from .queries.worklist import worklist_scored_accounts
from .services.worklist_score import WORKLIST_POINTS, ScorePart, worklist_score_parts


@dataclass
class WorklistEntry:
    account: Account
    score: int
    reasons: list[str] = field(default_factory=list)
    score_parts: list[ScorePart] = field(default_factory=list)  # the points behind ``score``
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
    return worklist_scored_accounts(
        portfolio=worklist_portfolio(today=today, **filters),
        points=WORKLIST_POINTS,
        today=today,
        renewal_days=int(settings.WORKLIST_RENEWAL_DAYS),
        needs_attention=needs_attention,
        limit=limit,
        offset=offset,
    )


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
    parts = worklist_score_parts(
        overdue_entitlements=account.overdue_entitlements,
        oldest_due=account.oldest_due,
        flag_kinds=flag_kinds,
        renewal_date=account.renewal_date,
        renewal_days=int(settings.WORKLIST_RENEWAL_DAYS),
        pending_proposal=bool(account.pending_proposal),
        pending_commitments=account.pending_commitments,
        overdue_tasks=account.overdue_tasks,
        tier_rank=account.tier_rank,
        today=today,
    )
    renewal = account.renewal_date
    return WorklistEntry(
        account=account,
        score=account.score,
        reasons=[part.reason for part in parts if part.reason],
        score_parts=parts,
        overdue_entitlements=account.overdue_entitlements,
        open_flags=flag_kinds,
        overdue_tasks=account.overdue_tasks,
        open_tasks=account.open_tasks,
        pending_commitments=account.pending_commitments,
        pending_proposal=bool(account.pending_proposal),
        days_to_renewal=(renewal - today).days if renewal and renewal >= today else None,
    )
