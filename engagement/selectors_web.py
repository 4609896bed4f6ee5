"""Page-shaped reads for the engagement pages, on top of ``engagement.selectors``.

The worklist's order and reasons come from ``worklist_accounts`` and ``worklist_entries`` (the
one place that rule lives); this module adds what the page's inline actions need for the rows on screen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, F, Max, Sum, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from csplatform.htmx import url_pattern
from segmentation.models import TierChange

from .models import EntitlementCoverage, Task, TaskStatus, Touchpoint
from .selectors import WorklistEntry

WORKLIST_PAGE_SIZE = 25


def local_today() -> dt.date:
    return timezone.localdate()


def reason_kind(reason: str) -> str:
    """The badge colour of a worklist reason."""
    text = reason.lower()
    if "overdue" in text:
        return "bad"
    if text.startswith(("flag", "renews")):
        return "warn"
    return "info"


@dataclass
class WorklistRow:
    entry: WorklistEntry
    reasons: list[tuple[str, str]] = field(default_factory=list)  # (badge kind, text)
    proposal: TierChange | None = None
    task: Task | None = None
    last_touch_at: dt.datetime | None = None
    urls: dict[str, str] = field(default_factory=dict)

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
    """What the inline actions need for the rows on screen: 3 queries for the whole page."""
    ids = [e.account.pk for e in entries]
    proposals = {c.account_id: c for c in TierChange.objects.filter(account_id__in=ids, status="proposed")}
    first_task: dict[int, Task] = {}
    for task in Task.objects.filter(account_id__in=ids, status=TaskStatus.OPEN).order_by("due_on", "pk"):
        first_task.setdefault(task.account_id, task)
    last_touch = dict(
        Touchpoint.objects.filter(account_id__in=ids)
        .values("account_id")
        .annotate(last=Max("occurred_at"))
        .values_list("account_id", "last")
    )
    rows = [
        WorklistRow(
            entry=entry,
            reasons=[(reason_kind(r), r) for r in entry.reasons],
            proposal=proposals.get(entry.account.pk),
            task=first_task.get(entry.account.pk),
            last_touch_at=last_touch.get(entry.account.pk),
        )
        for entry in entries
    ]
    for row in rows:
        row.urls = _row_urls(row)
    return rows


@dataclass
class OnTimeCoverage:
    delivered: Decimal
    planned: Decimal
    overdue_accounts: int = 0

    @property
    def percent(self) -> int | None:
        if not self.planned:
            return None
        return min(100, round(100 * self.delivered / self.planned))


def on_time_coverage_for_csm(csm_id: int) -> OnTimeCoverage:
    """Share of the CSM's entitled deliveries made on time in the trailing window (one query)."""
    totals = EntitlementCoverage.objects.filter(account__csm_id=csm_id).aggregate(
        delivered=Coalesce(
            Sum(Least(F("delivered_in_window"), F("planned_in_window"), output_field=DecimalField())),
            Value(Decimal(0)),
            output_field=DecimalField(),
        ),
        planned=Coalesce(Sum("planned_in_window"), Value(Decimal(0)), output_field=DecimalField()),
    )
    return OnTimeCoverage(delivered=Decimal(totals["delivered"]), planned=Decimal(totals["planned"]))


def group_by_account(items: list[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for item in items:
        grouped[item.account_id].append(item)
    return grouped


@dataclass
class TimelineItem:
    at: dt.datetime
    kind: str
    text: str
    badge: str = "outline"


TIMELINE_LIMIT = 40


def account_timeline(account_id: int, *, limit: int = TIMELINE_LIMIT) -> list[TimelineItem]:
    """Touchpoints, emails, tier changes, overrides, commitments and flags, newest first (6 queries)."""
    from segmentation.models import TierOverride

    from .models import Flag, HandoffCommitment, OutboundEmail

    items: list[TimelineItem] = []
    for t in (
        Touchpoint.objects.filter(account_id=account_id)
        .select_related("logged_by", "module")
        .order_by("-occurred_at")[:limit]
    ):
        who = t.logged_by.display_name if t.logged_by else "someone"
        delivers = f" · delivers {t.module.name}" if t.module else ""
        note = f": {t.notes[:120]}" if t.notes else ""
        items.append(
            TimelineItem(
                t.occurred_at,
                "Touchpoint",
                f"{t.get_kind_display()} by {who}, {t.minutes} min{delivers}{note}",
                "info",
            )
        )
    for e in OutboundEmail.objects.filter(account_id=account_id, status="sent").order_by("-sent_at")[:limit]:
        items.append(TimelineItem(e.sent_at or e.created_at, "Email", f"“{e.subject}” to {e.to_email}"))
    for c in (
        TierChange.objects.filter(account_id=account_id)
        .exclude(status="superseded")
        .select_related("by")
        .order_by("-id")[:limit]
    ):
        label = {"applied": "Tier change", "proposed": "Tier proposal", "rejected": "Proposal rejected"}.get(
            c.status, "Tier"
        )
        items.append(
            TimelineItem(
                c.applied_at or c.created_at,
                label,
                f"{c.from_code or '—'} → {c.to_code}: {c.explanation}",
                "ok" if c.status == "applied" else "outline",
            )
        )
    for o in (
        TierOverride.objects.filter(account_id=account_id)
        .select_related("requested_by")
        .order_by("-id")[:limit]
    ):
        items.append(
            TimelineItem(
                o.created_at,
                "Override",
                (
                    f"to {o.tier_code} for {o.get_reason_display()} by {o.requested_by.display_name} "
                    f"({o.get_status_display().lower()}): {o.note[:120]}"
                ),
                "warn",
            )
        )
    for h in (
        HandoffCommitment.objects.filter(account_id=account_id)
        .select_related("module")
        .order_by("-id")[:limit]
    ):
        what = h.module.name if h.module else h.description[:80]
        items.append(
            TimelineItem(
                h.created_at,
                "Commitment",
                f"{what} ({h.get_status_display().lower()})",
                "bad" if h.status == "exceeds_tier" else "outline",
            )
        )
    for f in Flag.objects.filter(account_id=account_id).order_by("-raised_at")[:limit]:
        items.append(
            TimelineItem(
                f.raised_at,
                "Flag",
                f"{f.get_kind_display()} ({f.get_status_display().lower()}): {f.explanation}",
                "warn",
            )
        )
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]
