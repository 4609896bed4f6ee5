"""The worklist: a CSM's portfolio ordered by what needs attention, with the reasons.

Scored in SQL over the filtered portfolio (``engagement.worklist.queries``); reasons are built only
for the page's rows, by the same rule (``engagement.worklist.services``). The page's rows add what
their inline actions need (``worklist_rows``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import number_format

from accounts.models import Account
from accounts.selectors import active_book
from csplatform.htmx import url_pattern
from csplatform.models import User
from segmentation.models import HealthBand
from segmentation.selectors_health import BAND_BADGES

from ..models import Flag, FlagStatus
from .queries import worklist_scored_accounts
from .services import PRIORITY, WORKLIST_POINTS, ScorePart, worklist_score_parts


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
    health_band: str | None = None,
    no_tier: bool = False,
    account_id: int | None = None,
    today: dt.date,
) -> QuerySet[Account]:
    """The worklist's accounts (not churned; the CSM's, or every CSM's with ``csm=None``), filtered,
    without the score: count the worklist with it, ``worklist_accounts`` orders it."""
    accounts = active_book()
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
    if health_band:
        accounts = accounts.filter(health_band=health_band)
    if renewal_within is not None:
        accounts = accounts.filter(
            renewal_date__gte=today, renewal_date__lte=today + dt.timedelta(days=renewal_within)
        )
    return accounts


def worklist_accounts(
    *,
    order: str = PRIORITY,
    limit: int | None = None,
    offset: int = 0,
    needs_attention: bool = False,
    today: dt.date | None = None,
    with_tiers: bool = False,
    **filters: Any,
) -> list[Any]:
    """The portfolio (``worklist_portfolio``'s filters) in ``order`` (most urgent first unless
    asked otherwise), each account carrying ``score``, the counts behind its reasons, its open
    flags' kinds and the list's ``total``. One query whatever the portfolio size; with ``limit``
    only that page is read. Overdue entitlements come from the materialised coverage table
    (``coverage_recompute``)."""
    today = today or timezone.localdate()
    return worklist_scored_accounts(
        portfolio=worklist_portfolio(today=today, **filters),
        points=WORKLIST_POINTS,
        today=today,
        renewal_days=int(settings.WORKLIST_RENEWAL_DAYS),
        order=order,
        needs_attention=needs_attention,
        limit=limit,
        offset=offset,
        with_tiers=with_tiers,
    )


# The filters that narrow the page but not the tier filter's choices (``worklist_tiers`` offers
# every tier of the portfolio searched and flag-filtered, whatever tier, stage, renewal window or
# health band is picked).
_PAGE_ONLY_FILTERS = ("tier_code", "no_tier", "lifecycle", "renewal_within", "health_band")


def worklist_page_and_tiers(
    *, order: str = PRIORITY, limit: int, offset: int = 0, **filters: Any
) -> tuple[list[Any], list[tuple[str, str]]]:
    """The page of ``worklist_accounts`` and the tier choices of ``worklist_tiers`` for the same
    filters. When no filter narrows the page beyond the tiers' portfolio and the page has a row,
    the tiers come with the page (one query); otherwise they are read on their own."""
    with_tiers = not any(filters.get(name) for name in _PAGE_ONLY_FILTERS)
    accounts = worklist_accounts(order=order, limit=limit, offset=offset, with_tiers=with_tiers, **filters)
    if with_tiers and accounts:
        return accounts, _tier_choices(accounts[0].portfolio_tiers)
    tiers = worklist_tiers(
        csm=filters.get("csm"), flag_kind=filters.get("flag_kind"), search=filters.get("search")
    )
    return accounts, tiers


def worklist_entries(accounts: Iterable[Any], *, today: dt.date | None = None) -> list[WorklistEntry]:
    """Entries with their reasons for accounts read from ``worklist_accounts`` (no query: the
    accounts carry what the reasons need)."""
    today = today or timezone.localdate()
    return [_worklist_entry(account, list(account.flag_kinds), today) for account in accounts]


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
    return _tier_choices(rows)


def _tier_choices(rows: Iterable[Sequence[Any]]) -> list[tuple[str, str]]:
    """(code, name) per tier code, highest rank first, from distinct (code, name, rank) rows."""
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

    ``csm=None`` lists every account with a CSM (leadership view). One query whatever the
    portfolio size: the database orders and slices; only the returned rows are built in Python.
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


# --- The page's rows ---------------------------------------------------------------------------

WORKLIST_PAGE_SIZE = 25
HEALTH_BAND_LABELS: dict[str, str] = dict(HealthBand.choices)


def reason_kind(reason: str) -> str:
    """The badge colour of a worklist reason."""
    text = reason.lower()
    if "overdue" in text:
        return "bad"
    if text.startswith(("flag", "renews")):
        return "warn"
    return "info"


@dataclass(frozen=True)
class RowProposal:
    """The tier proposal a row offers to accept or dispute."""

    id: int
    explanation: str

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True)
class RowTask:
    """The next open task a row offers to complete or snooze."""

    id: int
    title: str
    due_on: dt.date
    snoozed_until: dt.date | None

    @property
    def pk(self) -> int:
        return self.id


@dataclass
class WorklistRow:
    entry: WorklistEntry
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (badge kind, text)
    proposal: RowProposal | None = None
    task: RowTask | None = None
    last_touch_at: dt.datetime | None = None
    urls: dict[str, str] = field(default_factory=dict)
    today: dt.date = field(default_factory=timezone.localdate)

    # Dates as the page shows them, made here: the template's date filter costs more per row.
    @property
    def renews_on(self) -> str:
        renewal = self.entry.account.renewal_date
        return renewal.isoformat() if renewal else ""

    @property
    def last_touch_on(self) -> str:
        return timezone.localtime(self.last_touch_at).date().isoformat() if self.last_touch_at else ""

    @property
    def account(self) -> Any:
        return self.entry.account

    # Made once here rather than by template filters and lookups in each row (a row's template
    # nodes are what a page of rows costs).
    @property
    def acv(self) -> str:
        return number_format(self.entry.account.acv, 0, force_grouping=True)

    @property
    def lifecycle(self) -> str:
        return str(self.entry.account.get_lifecycle_stage_display())

    @property
    def task_due_on(self) -> str:
        return self.task.due_on.isoformat() if self.task else ""

    @property
    def task_overdue(self) -> bool:
        return bool(self.task and self.task.due_on < self.today)

    @property
    def health(self) -> tuple[str, str] | None:
        """(badge kind, "score · band") of the account's latest health, or None before the first."""
        account = self.entry.account
        if account.health_score is None:
            return None
        badge = BAND_BADGES.get(account.health_band, "outline")
        return badge, f"{account.health_score} · {HEALTH_BAND_LABELS.get(account.health_band, '—')}"


def _row_urls(row: WorklistRow) -> dict[str, str]:
    """The row's links, built without a reverse() per link (25 rows x 9 links add up)."""
    pk = row.account.pk
    urls = {name: _URLS[name](pk) for name in ("account", "row", "touchpoint", "override")}
    if row.proposal is not None:
        urls["proposal_accept"] = _URLS["proposal_accept"](row.proposal.pk)
        urls["proposal_dispute"] = _URLS["proposal_dispute"](row.proposal.pk)
    if row.task is not None:
        urls["task_complete"] = _URLS["task_complete"](row.task.pk)
        urls["task_snooze"] = _URLS["task_snooze"](row.task.pk)
    return urls


class _LazyUrls(dict):  # type: ignore[type-arg]
    """URL builders made on first use (the URLconf is not ready when this module is imported)."""

    NAMES = {
        "account": "accounts:detail",
        "row": "engagement:worklist-row",
        "touchpoint": "engagement:touchpoint-new",
        "override": "segmentation:override-new",
        "proposal_accept": "segmentation:proposal-accept",
        "proposal_dispute": "segmentation:proposal-dispute",
        "task_complete": "engagement:task-complete",
        "task_snooze": "engagement:task-snooze",
    }

    def __missing__(self, key: str) -> Any:
        builder = url_pattern(self.NAMES[key])
        self[key] = builder
        return builder


_URLS = _LazyUrls()


def worklist_rows(entries: list[WorklistEntry], *, today: dt.date) -> list[WorklistRow]:
    """The rows on screen with what their inline actions need, read with the accounts
    (``worklist_accounts``): no query."""
    rows = []
    for entry in entries:
        account: Any = entry.account  # read by worklist_accounts, with the columns below
        row = WorklistRow(
            entry=entry,
            reasons=[(reason_kind(r), r) for r in entry.reasons],
            proposal=(
                RowProposal(account.proposal_id, account.proposal_explanation)
                if account.proposal_id
                else None
            ),
            task=(
                RowTask(account.task_id, account.task_title, account.task_due_on, account.task_snoozed_until)
                if account.task_id
                else None
            ),
            last_touch_at=account.last_touch_at,
            today=today,
        )
        row.urls = _row_urls(row)
        rows.append(row)
    return rows
