"""Reads for the journey screens: delivery results, account enrolments, timeline events."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.urls import reverse

from playbooks.models import Journey, JourneyStep

from ..models import (
    EmailEvent,
    EnrolmentStatus,
    JourneyEnrolment,
    OutboundEmail,
    OutboundEmailRecord,
    OutboundStatus,
    StopReason,
)
from .sending import outbound_stuck

CAP_PREFIX = "Frequency cap"


@dataclass
class StepResults:
    step: JourneyStep
    counts: Counter = field(default_factory=Counter)
    reported: Counter = field(default_factory=Counter)


@dataclass
class JourneyResults:
    journey: Journey
    enrolled: int = 0
    active: int = 0
    completed: int = 0
    stopped: int = 0
    capped_times: int = 0
    counts: Counter = field(default_factory=Counter)
    steps: list[StepResults] = field(default_factory=list)
    # What the email provider reported: emails with at least one report of each kind.
    reported: Counter = field(default_factory=Counter)


def journeys_overview() -> list[JourneyResults]:
    """Every journey with its totals: a handful of grouped queries, whatever the number of rows."""
    journeys = list(Journey.objects.annotate(step_count=Count("steps")).order_by("name"))
    results = {j.pk: JourneyResults(journey=j) for j in journeys}
    enrolments = JourneyEnrolment.objects.values_list("journey_id", "status").annotate(
        n=Count("id"), capped=Sum("capped_count")
    )
    for journey_id, status, n, capped in enrolments:
        result = results[journey_id]
        result.enrolled += n
        result.capped_times += capped or 0
        setattr(result, status, getattr(result, status) + n)
    # Archived emails count as much as those still in the outbox.
    emails = OutboundEmailRecord.objects.values_list("journey_id", "status").annotate(n=Count("id"))
    for journey_id, status, n in emails:
        results[journey_id].counts[status] += n
    unsubscribed = (
        JourneyEnrolment.objects.filter(stop_reason=StopReason.UNSUBSCRIBED)
        .values_list("journey_id")
        .annotate(n=Count("id"))
    )
    for journey_id, n in unsubscribed:
        results[journey_id].counts["unsubscribed"] = n
    return [results[j.pk] for j in journeys]


def journey_results(*, journey: Journey) -> JourneyResults:
    """Per step: sent, skipped, failed, pending, sending, capped now, and unsubscribes after it."""
    result = next(r for r in journeys_overview() if r.journey.pk == journey.pk)
    steps = {s.pk: StepResults(step=s) for s in journey.steps.order_by("position")}
    by_position = {s.step.position: s for s in steps.values()}
    for row in (
        OutboundEmailRecord.objects.filter(journey=journey)
        .values("step_id", "status")
        .annotate(n=Count("id"))
    ):
        steps[row["step_id"]].counts[row["status"]] += row["n"]
    capped = (
        JourneyEnrolment.objects.filter(
            journey=journey, status=EnrolmentStatus.ACTIVE, waiting_reason__startswith=CAP_PREFIX
        )
        .values_list("next_position")
        .annotate(n=Count("id"))
    )
    for position, n in capped:
        if position in by_position:
            by_position[position].counts["capped"] = n
    # An unsubscribe is counted against the last step the contact received before it.
    last_sent = (
        OutboundEmailRecord.objects.filter(
            journey=journey, status=OutboundStatus.SENT, enrolment__stop_reason=StopReason.UNSUBSCRIBED
        )
        .values_list("enrolment_id")
        .annotate(position=Max("step__position"))
    )
    for _enrolment_id, last_position in last_sent:
        if last_position in by_position:
            by_position[last_position].counts["unsubscribed"] += 1
    reports = (
        EmailEvent.objects.filter(journey=journey, outbound__isnull=False)
        .values_list("outbound__step_id", "kind")
        .annotate(n=Count("outbound", distinct=True))
    )
    for step_id, kind, n in reports:
        if step_id not in steps:  # the email (and its contact) deleted since the report
            continue
        steps[step_id].reported[kind] += n
        result.reported[kind] += n
    result.steps = list(steps.values())
    return result


def account_enrolments(*, account_id: int) -> QuerySet[JourneyEnrolment]:
    return (
        JourneyEnrolment.objects.filter(account_id=account_id)
        .select_related("journey", "contact")
        .order_by("status", "journey__name", "contact__name")
    )


def journey_enrolments(
    *, journey: Journey, csm_id: int | None = None, limit: int = 200
) -> QuerySet[JourneyEnrolment]:
    """The latest enrolments; with ``csm_id`` only those of that CSM's accounts."""
    enrolments = JourneyEnrolment.objects.filter(journey=journey)
    if csm_id is not None:
        enrolments = enrolments.filter(account__csm_id=csm_id)
    return enrolments.select_related("contact", "account").order_by("-enrolled_at", "-id")[:limit]


def stuck_for_review() -> QuerySet[OutboundEmail]:
    return (
        outbound_stuck().select_related("journey", "step", "account", "contact").order_by("claimed_at", "id")
    )


def stuck_batches_for_review() -> list[dict[str, Any]]:
    """The interrupted claims: per claim token, when it was claimed, how many of its emails are
    still stuck and of how many journeys, oldest first (one crashed sender, one batch)."""
    batches = (
        outbound_stuck()
        .filter(claim_token__isnull=False)
        .values("claim_token")
        .annotate(
            claimed_at=Min("claimed_at"),
            emails=Count("id"),
            journeys=Count("journey_id", distinct=True),
        )
        .order_by("claimed_at", "claim_token")
    )
    return [dict(batch) for batch in batches]


def journey_events_for_account(account_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """Journey emails of an account as timeline events, newest first (for the account timeline).

    Each event: ``at`` (datetime), ``kind`` ("journey_email"), ``title``, ``detail``, ``status``,
    ``url`` (the account's journeys screen).
    """
    rows = (
        OutboundEmailRecord.objects.filter(account_id=account_id)
        .exclude(status=OutboundStatus.CANCELLED)
        .select_related("journey", "step")
        .order_by("-created_at", "-id")[:limit]
    )
    url = reverse("journeys:account-journeys", kwargs={"account_id": account_id})
    events: list[dict[str, Any]] = []
    for row in rows:
        at: dt.datetime = row.sent_at or row.created_at
        verbs: dict[str, str] = {
            OutboundStatus.SENT: "Email sent",
            OutboundStatus.SKIPPED: "Email skipped",
            OutboundStatus.FAILED: "Email failed",
            OutboundStatus.PENDING: "Email queued",
            OutboundStatus.SENDING: "Email sending",
        }
        verb = verbs.get(row.status, row.status)
        events.append(
            {
                "at": at,
                "kind": "journey_email",
                "title": f"{verb}: {row.subject or row.step.name}",
                "detail": f"{row.journey.name}, step {row.step.position} to {row.to_email}"
                + (f" — {row.detail}" if row.detail else ""),
                "status": row.status,
                "url": url,
            }
        )
    return events


def outbound_for_account(*, account_id: int, limit: int = 100) -> QuerySet[OutboundEmailRecord]:
    """The account's latest journey emails, archived or not."""
    return (
        OutboundEmailRecord.objects.filter(account_id=account_id)
        .select_related("journey", "step", "contact")
        .order_by("-created_at", "-id")[:limit]
    )


def delivery_totals() -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in OutboundEmailRecord.objects.values("status").annotate(n=Count("id")):
        totals[row["status"]] = row["n"]
    totals["stuck"] = outbound_stuck().count()
    totals["unsubscribed"] = JourneyEnrolment.objects.filter(Q(stop_reason=StopReason.UNSUBSCRIBED)).count()
    return dict(totals)
