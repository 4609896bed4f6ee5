"""Reads of touchpoints and the account timeline they lead (touchpoints, emails, tier changes,
overrides, commitments and flags, newest first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from csplatform import authorization
from segmentation.models import ChangeStatus, TierChange, TierOverride

from ..models import CommitmentStatus, Flag, HandoffCommitment, OutboundEmail, OutboundStatus, Touchpoint

if TYPE_CHECKING:
    from csplatform.models import AnyUser


def touchpoints_for(*, user: AnyUser, account_id: int | None = None) -> QuerySet[Touchpoint]:
    """Touchpoints the user may read, newest first, ready for the timeline."""
    touchpoints = Touchpoint.objects.filter(authorization.account_scope(user, via="account__"))
    if account_id is not None:
        touchpoints = touchpoints.filter(account_id=account_id)
    return touchpoints.select_related("logged_by", "module", "account").prefetch_related("participants")


@dataclass
class TimelineItem:
    at: dt.datetime
    kind: str
    text: str
    badge: str = "outline"


TIMELINE_LIMIT = 40

TIER_CHANGE_LABELS: dict[str, str] = {
    ChangeStatus.APPLIED: "Tier change",
    ChangeStatus.PROPOSED: "Tier proposal",
    ChangeStatus.REJECTED: "Proposal rejected",
}


def account_timeline(account_id: int, *, limit: int = TIMELINE_LIMIT) -> list[TimelineItem]:
    """Touchpoints, emails, tier changes, overrides, commitments and flags, newest first (6 queries)."""
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
    sent = OutboundEmail.objects.filter(account_id=account_id, status=OutboundStatus.SENT)
    for e in sent.order_by("-sent_at")[:limit]:
        items.append(TimelineItem(e.sent_at or e.created_at, "Email", f"“{e.subject}” to {e.to_email}"))
    for c in (
        TierChange.objects.filter(account_id=account_id)
        .exclude(status=ChangeStatus.SUPERSEDED)
        .select_related("by")
        .order_by("-id")[:limit]
    ):
        label = TIER_CHANGE_LABELS.get(c.status, "Tier")
        items.append(
            TimelineItem(
                c.applied_at or c.created_at,
                label,
                f"{c.from_code or '—'} → {c.to_code}: {c.explanation}",
                "ok" if c.status == ChangeStatus.APPLIED else "outline",
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
                "bad" if h.status == CommitmentStatus.EXCEEDS_TIER else "outline",
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
