"""The journey scheduler, and the dry run that shares its decisions.

Timing lives in the database: an enrolment stores when its next step is due (``next_due_at``)
and a beat task every minute turns due steps into outbox rows (``OutboundEmail``). No Celery
countdown carries a journey delay (Redis would redeliver long-delayed messages).

One decision function (``_decide``) says what happens to a due step — skip it, wait for the send
window, wait for the frequency cap, or queue it — and the scheduler and the dry run both go
through it and through ``step_render``. What the dry run shows is what the sender does.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Contact
from csplatform.dispatch import enqueue
from playbooks.models import Journey, JourneyStep
from playbooks.services.journeys import skip_conditions_for_accounts

from ..models import EnrolmentStatus, JourneyEnrolment, OutboundEmail, OutboundStatus, StopReason
from .queries import journey_enrolments_write_progress
from .services import (
    contact_problem,
    enrolments_stop_where,
    journey_settings,
    recipient_zone,
    step_due_at,
    step_render,
    window_opening,
)

logger = logging.getLogger(__name__)

CAP_WINDOW = dt.timedelta(days=7)
# Rows that count towards the frequency cap: queued, in flight or delivered.
CAP_STATUSES = (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.SENT)
# Enrolments handled per transaction by the scheduler: ~1 s of rendering, short row locks.
SCHEDULE_BATCH_SIZE = 500
DISPATCH_TASK = "engagement.journeys_dispatch"


# --- Deciding what happens to a due step ------------------------------------------------------


@dataclass
class Decision:
    kind: str  # "send" | "skip" | "wait" | "stop" | "complete"
    at: dt.datetime
    reason: str = ""
    capped: bool = False


@dataclass
class PlanState:
    """What decisions need beyond the enrolment: cap history, cached conditions, steps."""

    cap: int
    steps: dict[int, list[JourneyStep]]
    # contact_id -> times of emails counting towards the cap (ascending).
    recent: dict[int, list[dt.datetime]] = field(default_factory=lambda: defaultdict(list))
    conditions: dict[tuple[str, int], bool] = field(default_factory=dict)

    @classmethod
    def load(cls, *, enrolments: list[JourneyEnrolment], now: dt.datetime, cap: int) -> PlanState:
        journey_ids = {e.journey_id for e in enrolments}
        steps: dict[int, list[JourneyStep]] = defaultdict(list)
        for step in JourneyStep.objects.filter(journey_id__in=journey_ids).order_by("journey_id", "position"):
            steps[step.journey_id].append(step)
        state = cls(cap=cap, steps=dict(steps))
        contact_ids = {e.contact_id for e in enrolments}
        rows = (
            OutboundEmail.objects.filter(
                contact_id__in=contact_ids, status__in=CAP_STATUSES, created_at__gt=now - CAP_WINDOW
            )
            .order_by("created_at")
            .values_list("contact_id", "created_at")
        )
        for contact_id, created_at in rows:
            state.recent[contact_id].append(created_at)
        conditions: dict[str, set[int]] = defaultdict(set)
        for enrolment in enrolments:
            for step in state.steps.get(enrolment.journey_id, []):
                if step.skip_condition:
                    conditions[step.skip_condition].add(enrolment.account_id)
        for condition, account_ids in conditions.items():
            for account_id, holds in skip_conditions_for_accounts(
                condition=condition, account_ids=sorted(account_ids)
            ).items():
                state.conditions[(condition, account_id)] = holds
        return state

    def step(self, journey_id: int, position: int | None) -> JourneyStep | None:
        if position is None:
            return None
        return next((s for s in self.steps.get(journey_id, []) if s.position == position), None)

    def step_after(self, step: JourneyStep) -> JourneyStep | None:
        return next((s for s in self.steps.get(step.journey_id, []) if s.position > step.position), None)


def _decide(
    enrolment: JourneyEnrolment, step: JourneyStep | None, *, at: dt.datetime, state: PlanState
) -> Decision:
    if step is None:
        return Decision("complete", at)
    problem = contact_problem(enrolment.contact)
    if problem:
        return Decision("stop", at, reason=problem)
    if enrolment.journey.tier_code and enrolment.account.tier_code != enrolment.journey.tier_code:
        return Decision("stop", at, reason=StopReason.TIER_LEFT)
    if step.skip_condition and state.conditions.get((step.skip_condition, enrolment.account_id), False):
        return Decision("skip", at, reason=f"Skipped: “{step.skip_condition}” holds for the account.")
    zone = recipient_zone(contact=enrolment.contact, account=enrolment.account)
    journey = enrolment.journey
    opening = window_opening(journey=journey, zone=zone, at=at)
    if opening > at:
        window = f"{journey.send_window_start:%H:%M}–{journey.send_window_end:%H:%M} {zone.key}"
        return Decision(
            "wait", opening, reason=f"Outside the send window ({window}); sends at {_local(opening, zone)}."
        )
    recent = [t for t in state.recent.get(enrolment.contact_id, []) if t > at - CAP_WINDOW]
    if len(recent) >= state.cap:
        free = window_opening(journey=journey, zone=zone, at=recent[len(recent) - state.cap] + CAP_WINDOW)
        return Decision(
            "wait",
            free,
            capped=True,
            reason=(
                f"Frequency cap: {len(recent)} automated emails to this contact in 7 days "
                f"(at most {state.cap}); waits for the next free slot at {_local(free, zone)}."
            ),
        )
    return Decision("send", at)


def _local(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %d %b %H:%M %Z")


def _advance(enrolment: JourneyEnrolment, step: JourneyStep, *, at: dt.datetime, state: PlanState) -> None:
    following = state.step_after(step)
    enrolment.waiting_reason = ""
    if following is None:
        enrolment.status = EnrolmentStatus.COMPLETED
        enrolment.next_position = None
        enrolment.next_due_at = None
        return
    zone = recipient_zone(contact=enrolment.contact, account=enrolment.account)
    enrolment.next_position = following.position
    enrolment.next_due_at = step_due_at(
        step=following, enrolled_at=enrolment.enrolled_at, previous_at=at, zone=zone
    )


def _outbound(
    enrolment: JourneyEnrolment, step: JourneyStep, *, status: str, at: dt.datetime, detail: str = ""
) -> OutboundEmail:
    contact = enrolment.contact
    row = OutboundEmail(
        enrolment=enrolment,
        step=step,
        journey_id=enrolment.journey_id,
        account_id=enrolment.account_id,
        contact=contact,
        status=status,
        to_email=contact.email,
        to_name=" ".join(contact.name.split())[:200],
        module_code=step.module_code,
        detail=detail,
        created_at=at,
    )
    if status == OutboundStatus.PENDING:
        rendered = step_render(step=step, contact=contact, account=enrolment.account)
        row.subject, row.body_text, row.body_html = rendered.subject, rendered.body_text, rendered.body_html
    return row


# --- The scheduler ----------------------------------------------------------------------------


def journey_due_steps_schedule(
    *, now: dt.datetime | None = None, batch_size: int = SCHEDULE_BATCH_SIZE
) -> Counter:
    """Turn every due step into an outbox row (or a skip, a wait, a stop). Safe to run twice:
    rows are locked while decided, and (enrolment, step) is unique in the outbox."""
    now = now or timezone.now()
    counts: Counter = Counter()
    config = journey_settings()
    if config.sending_paused:
        counts["globally_paused"] = 1
        return counts
    while True:
        with transaction.atomic():
            batch = list(
                JourneyEnrolment.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=EnrolmentStatus.ACTIVE, next_due_at__lte=now, journey__is_paused=False)
                .select_related("journey", "contact", "account", "account__csm")
                .order_by("next_due_at", "id")[:batch_size]
            )
            if not batch:
                break
            _schedule_batch(batch, now=now, cap=config.weekly_cap, counts=counts)
    if counts["queued"]:
        parallel = max(1, int(getattr(settings, "JOURNEY_DISPATCH_PARALLELISM", 2)))
        for _ in range(min(parallel, counts["queued"])):
            enqueue(DISPATCH_TASK)
    return counts


def _schedule_batch(batch: list[JourneyEnrolment], *, now: dt.datetime, cap: int, counts: Counter) -> None:
    state = PlanState.load(enrolments=batch, now=now, cap=cap)
    rows: list[OutboundEmail] = []
    stops: dict[str, list[int]] = defaultdict(list)
    changed: list[JourneyEnrolment] = []
    for enrolment in batch:
        step = state.step(enrolment.journey_id, enrolment.next_position)
        decision = _decide(enrolment, step, at=now, state=state)
        if decision.kind == "stop":
            if decision.reason == StopReason.INVALID_ADDRESS and step is not None:
                rows.append(
                    _outbound(
                        enrolment,
                        step,
                        status=OutboundStatus.SKIPPED,
                        at=now,
                        detail=f"Invalid email address “{enrolment.contact.email}”.",
                    )
                )
                counts["invalid_address"] += 1
            stops[decision.reason].append(enrolment.pk)
            counts["stopped"] += 1
            continue
        if decision.kind == "complete":
            enrolment.status, enrolment.next_position, enrolment.next_due_at = (
                EnrolmentStatus.COMPLETED,
                None,
                None,
            )
            counts["completed"] += 1
        elif decision.kind == "wait":
            enrolment.next_due_at, enrolment.waiting_reason = decision.at, decision.reason[:255]
            enrolment.capped_count += int(decision.capped)
            counts["capped" if decision.capped else "outside_window"] += 1
        elif decision.kind == "skip":
            assert step is not None
            rows.append(
                _outbound(enrolment, step, status=OutboundStatus.SKIPPED, at=now, detail=decision.reason)
            )
            _advance(enrolment, step, at=now, state=state)
            counts["skipped"] += 1
        else:
            assert step is not None
            rows.append(_outbound(enrolment, step, status=OutboundStatus.PENDING, at=now))
            state.recent[enrolment.contact_id].append(now)
            _advance(enrolment, step, at=now, state=state)
            counts["queued"] += 1
        changed.append(enrolment)
    OutboundEmail.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    journey_enrolments_write_progress(enrolments=changed)
    for reason, ids in stops.items():
        enrolments_stop_where(JourneyEnrolment.objects.filter(id__in=ids), reason=reason)


# --- Preview and dry run ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEmail:
    at: dt.datetime
    enrolment_id: int
    contact: Contact
    account_name: str
    journey_name: str
    step: JourneyStep
    outcome: str  # "send" | "skip" | "queued"
    subject: str
    note: str


def journey_plan(
    *,
    journey: Journey | None = None,
    account: Account | None = None,
    days: int = 7,
    now: dt.datetime | None = None,
) -> list[PlannedEmail]:
    """Who gets what in the next ``days`` days, decided by the sender's own rules.

    Skip conditions use today's signals. Waits for the send window and the cap are followed, so
    a capped step appears at its next free slot, with the reason in ``note``.
    """
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=days)
    enrolments = JourneyEnrolment.objects.filter(status=EnrolmentStatus.ACTIVE).select_related(
        "journey", "contact", "account", "account__csm"
    )
    if journey is not None:
        enrolments = enrolments.filter(journey=journey)
    if account is not None:
        enrolments = enrolments.filter(account=account)
    batch = list(enrolments.order_by("next_due_at", "id")[:5000])
    config = journey_settings()
    state = PlanState.load(enrolments=batch, now=now, cap=config.weekly_cap)
    planned: list[PlannedEmail] = []
    queued = OutboundEmail.objects.filter(status=OutboundStatus.PENDING).select_related(
        "contact", "account", "step", "journey"
    )
    if journey is not None:
        queued = queued.filter(journey=journey)
    if account is not None:
        queued = queued.filter(account=account)
    for row in queued[:1000]:
        planned.append(
            PlannedEmail(
                now,
                row.enrolment_id,
                row.contact,
                row.account.name,
                row.journey.name,
                row.step,
                "queued",
                row.subject,
                "Queued; sends within a minute.",
            )
        )
    heap: list[tuple[dt.datetime, int, int]] = []
    for index, enrolment in enumerate(batch):
        if enrolment.next_due_at is not None:
            heapq.heappush(heap, (max(enrolment.next_due_at, now), enrolment.pk, index))
    while heap:
        at, _, index = heapq.heappop(heap)
        if at > horizon:
            break
        enrolment = batch[index]
        step = state.step(enrolment.journey_id, enrolment.next_position)
        decision = _decide(enrolment, step, at=at, state=state)
        if decision.kind in ("stop", "complete") or step is None:
            continue
        if decision.kind == "wait":
            note = decision.reason
            if decision.at <= horizon:
                enrolment.next_due_at, enrolment.waiting_reason = decision.at, note
                heapq.heappush(heap, (decision.at, enrolment.pk, index))
            continue
        if decision.kind == "skip":
            subject, outcome = "", "skip"
        else:
            subject = step_render(step=step, contact=enrolment.contact, account=enrolment.account).subject
            outcome = "send"
            state.recent[enrolment.contact_id].append(at)
        planned.append(
            PlannedEmail(
                at,
                enrolment.pk,
                enrolment.contact,
                enrolment.account.name,
                enrolment.journey.name,
                step,
                outcome,
                subject,
                enrolment.waiting_reason or decision.reason,
            )
        )
        enrolment.waiting_reason = ""
        _advance(enrolment, step, at=at, state=state)
        if enrolment.next_due_at is not None:
            heapq.heappush(heap, (enrolment.next_due_at, enrolment.pk, index))
    planned.sort(key=lambda p: (p.at, p.enrolment_id))
    return planned
