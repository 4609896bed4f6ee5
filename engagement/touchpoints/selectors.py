"""Reads of touchpoints and the account timeline they lead (touchpoints, emails, tier changes,
overrides, commitments, flags, renewal outcomes and health band changes, newest first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F, QuerySet, Window
from django.db.models.functions import Lag
from django.utils import timezone

from accounts.models import RenewalOutcome, RenewalOutcomeKind
from csplatform import authorization
from segmentation.models import AccountHealth, ChangeStatus, HealthBand, TierChange, TierOverride

from ..models import (
    CommitmentStatus,
    EmailEvent,
    EmailEventKind,
    Flag,
    HandoffCommitment,
    OutboundEmailRecord,
    OutboundStatus,
    SurveyKind,
    Touchpoint,
)

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


RENEWAL_BADGES: dict[str, str] = {
    RenewalOutcomeKind.RENEWED: "ok",
    RenewalOutcomeKind.EXPANDED: "ok",
    RenewalOutcomeKind.CONTRACTED: "warn",
    RenewalOutcomeKind.CHURNED: "bad",
}
HEALTH_BAND_BADGES: dict[str, str] = {
    HealthBand.HEALTHY: "ok",
    HealthBand.WATCH: "warn",
    HealthBand.AT_RISK: "bad",
}


def _start_of(day: dt.date) -> dt.datetime:
    """A dated event (a renewal, a day's health) placed at the start of its day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def account_timeline(account_id: int, *, limit: int = TIMELINE_LIMIT) -> list[TimelineItem]:
    """Touchpoints, emails, tier changes, overrides, commitments, flags, renewal outcomes and health
    band changes, the email provider's reports and survey answers, newest first (one query per kind)."""
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
    sent = OutboundEmailRecord.objects.filter(account_id=account_id, status=OutboundStatus.SENT)
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
    items.extend(_email_event_items(account_id, limit=limit))
    items.extend(_renewal_items(account_id, limit=limit))
    items.extend(_health_band_items(account_id, limit=limit))
    items.extend(_survey_items(account_id, limit=limit))
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


EMAIL_EVENT_BADGES: dict[str, str] = {
    EmailEventKind.BOUNCED: "bad",
    EmailEventKind.REJECTED: "bad",
    EmailEventKind.COMPLAINED: "bad",
    EmailEventKind.UNSUBSCRIBED: "warn",
    EmailEventKind.OPENED: "ok",
    EmailEventKind.CLICKED: "ok",
}


def _email_event_items(account_id: int, *, limit: int) -> list[TimelineItem]:
    """The email provider's reports about the account's emails (delivered, bounced, opened, ...)."""
    items = []
    for e in (
        EmailEvent.objects.filter(account_id=account_id)
        .select_related("outbound")
        .order_by("-occurred_at")[:limit]
    ):
        subject = f"“{e.outbound.subject}” " if e.outbound else ""
        detail = f": {e.detail[:160]}" if e.detail else ""
        items.append(
            TimelineItem(
                e.occurred_at,
                f"Email {e.get_kind_display().lower()}",
                f"{subject}to {e.recipient}{detail}",
                EMAIL_EVENT_BADGES.get(e.kind, "outline"),
            )
        )
    return items


def _renewal_items(account_id: int, *, limit: int) -> list[TimelineItem]:
    """Each renewal outcome: date, outcome, ARR before → after and, for a churn, the reason."""
    items = []
    for r in RenewalOutcome.objects.filter(account_id=account_id).order_by("-renewal_date")[:limit]:
        reason = f" · {r.get_churn_reason_display()}" if r.churn_reason else ""
        note = f": {r.note[:120]}" if r.note else ""
        items.append(
            TimelineItem(
                _start_of(r.renewal_date),
                "Renewal",
                f"{r.get_outcome_display()} on {r.renewal_date.isoformat()}, "
                f"ARR {r.arr_before:,.2f} → {r.arr_after:,.2f}{reason}{note}",
                RENEWAL_BADGES.get(r.outcome, "outline"),
            )
        )
    return items


def _health_band_items(account_id: int, *, limit: int) -> list[TimelineItem]:
    """A row for each day whose health band differs from the day before it in the history (the
    database compares each day with the previous one; the first day is not a change)."""
    changes = (
        AccountHealth.objects.filter(account_id=account_id)
        .annotate(previous_band=Window(Lag("band"), order_by=F("date").asc()))
        .filter(previous_band__isnull=False)
        .exclude(previous_band=F("band"))
        .order_by("-date")
        .values_list("date", "score", "band", "previous_band", "summary")[:limit]
    )
    labels = dict(HealthBand.choices)
    items = []
    for day, score, band, previous, summary in changes:
        why = f": {summary[:160]}" if summary else ""
        items.append(
            TimelineItem(
                _start_of(day),
                "Health",
                f"{labels.get(previous, previous)} → {labels.get(band, band)} (score {score}){why}",
                HEALTH_BAND_BADGES.get(band, "outline"),
            )
        )
    return items


def _survey_items(account_id: int, *, limit: int) -> list[TimelineItem]:
    """Each survey answer: kind, score, who answered, after what, and the comment."""
    from ..surveys.selectors import survey_timeline_rows

    items = []
    for r in survey_timeline_rows(account_id, limit=limit):
        touchpoint = r.survey.touchpoint
        after = (
            f" after the {touchpoint.get_kind_display()} of {touchpoint.occurred_at:%Y-%m-%d}"
            if touchpoint
            else f" in {r.journey.name}"
            if r.journey
            else ""
        )
        comment = f": “{r.comment[:160]}”" if r.comment else ""
        if r.kind == SurveyKind.NPS:
            badge = "ok" if r.score >= 9 else "bad" if r.score <= 6 else "warn"
        else:
            badge = "ok" if r.score >= 4 else "bad" if r.score <= 2 else "warn"
        who = r.contact.name or r.contact.email
        items.append(
            TimelineItem(
                r.responded_at, "Survey", f"{r.kind.upper()} {r.score} from {who}{after}{comment}", badge
            )
        )
    return items
