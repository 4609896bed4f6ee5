"""The worklist: a CSM's portfolio ordered by what needs attention, with the reasons.

Scored in SQL over the filtered portfolio (``engagement.worklist.queries``); reasons are built only
for the page's rows, by the same rule (``engagement.worklist.services``). The page's rows add what
their inline actions need (``worklist_rows``).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString
from django.utils.text import Truncator

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
    )


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


class WorklistRow(TypedDict):
    """A row on screen as the page shows it, every value made once here as HTML-escaped text.

    A page of rows costs what its template nodes cost: each node here reads one key of this dict
    (the template language's cheapest lookup), and no filter, property, number formatting,
    localisation or escaping runs per node.
    """

    id: str
    url_row: str
    url_account: str
    url_touchpoint: str
    url_override: str
    name: str
    lifecycle: str
    renews_on: str  # empty without a renewal date
    last_touch_on: str
    tier_code: str  # empty without a tier
    tier_name: str
    tier_rank: str  # the badge's rank class, "none" without a rank
    override: bool
    health_badge: str
    health: str  # "score · band", empty before the first health
    acv: str
    reasons: list[tuple[str, str]]  # (badge kind, text)
    # The proposal the row offers to accept or dispute (every value empty without one).
    proposal_id: str
    proposal_text: str
    url_proposal_accept: str
    url_proposal_dispute: str
    # The next open task the row offers to complete or snooze (every value empty without one).
    task_id: str
    task_title: str
    task_due_on: str
    task_class: str  # "badge badge-bad" when overdue
    task_snoozed_until: str
    url_task_complete: str
    url_task_snooze: str


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


def _html(text: str) -> SafeString:
    """``text`` escaped as the template would escape it on output, once here for the row rather
    than by every template node showing it (the escaping is most of what a node costs)."""
    return SafeString(html.escape(text))


def worklist_rows(entries: list[WorklistEntry], *, today: dt.date) -> list[WorklistRow]:
    """The rows on screen with what their inline actions need, read with the accounts
    (``worklist_accounts``): no query, and no reverse() per link."""
    urls = _URLS
    rows: list[WorklistRow] = []
    for entry in entries:
        account: Any = entry.account  # read by worklist_accounts, with the columns below
        pk = account.pk
        renewal = account.renewal_date
        last_touch = account.last_touch_at
        health_score = account.health_score
        proposal = account.proposal_id
        task = account.task_id
        task_due = account.task_due_on
        snoozed = account.task_snoozed_until
        rows.append(
            {
                "id": _html(str(pk)),
                "url_row": _html(urls["row"](pk)),
                "url_account": _html(urls["account"](pk)),
                "url_touchpoint": _html(urls["touchpoint"](pk)),
                "url_override": _html(urls["override"](pk)),
                "name": _html(account.name),
                "lifecycle": _html(str(account.get_lifecycle_stage_display())),
                "renews_on": _html(renewal.isoformat() if renewal else ""),
                "last_touch_on": _html(
                    timezone.localtime(last_touch).date().isoformat() if last_touch else "never"
                ),
                "tier_code": _html(account.tier_code),
                "tier_name": _html(account.tier_name),
                "tier_rank": _html(str(account.tier_rank) if account.tier_rank else "none"),
                "override": account.tier_source == "override",
                "health_badge": _html(BAND_BADGES.get(account.health_band, "outline")),
                "health": _html(
                    f"{health_score} · {HEALTH_BAND_LABELS.get(account.health_band, '—')}"
                    if health_score is not None
                    else ""
                ),
                "acv": _html(number_format(account.acv, 0, force_grouping=True)),
                "reasons": [(_html(reason_kind(r)), _html(r)) for r in entry.reasons],
                "proposal_id": _html(str(proposal) if proposal else ""),
                "proposal_text": _html(
                    Truncator(account.proposal_explanation).chars(110) if proposal else ""
                ),
                "url_proposal_accept": _html(urls["proposal_accept"](proposal) if proposal else ""),
                "url_proposal_dispute": _html(urls["proposal_dispute"](proposal) if proposal else ""),
                "task_id": _html(str(task) if task else ""),
                "task_title": _html(account.task_title if task else ""),
                "task_due_on": _html(task_due.isoformat() if task else ""),
                "task_class": _html("badge badge-bad" if task and task_due < today else "muted"),
                "task_snoozed_until": _html(snoozed.isoformat() if task and snoozed else ""),
                "url_task_complete": _html(urls["task_complete"](task) if task else ""),
                "url_task_snooze": _html(urls["task_snooze"](task) if task else ""),
            }
        )
    return rows
