"""Journey enrolment, exits and scheduling, and the preview and dry run that share its code.

Timing lives in the database: an enrolment stores when its next step is due (``next_due_at``)
and a beat task every minute turns due steps into outbox rows (``OutboundEmail``). No Celery
countdown carries a journey delay (Redis would redeliver long-delayed messages).

One decision function (``_decide``) says what happens to a due step — skip it, wait for the send
window, wait for the frequency cap, or queue it — and the scheduler, the dry run and the preview
all go through it and through ``step_render``. What the dry run shows is what the sender does.
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import REGION_TIME_ZONES, Account, Contact
from csplatform import roles
from csplatform.dispatch import enqueue
from playbooks.journey_templates import RenderedEmail, journey_links, render_email
from playbooks.models import DelayFrom, Journey, JourneyStep
from playbooks.services.journeys import skip_conditions_for_accounts

from ..models import (
    EnrolmentStatus,
    JourneyEnrolment,
    JourneySettings,
    OutboundEmail,
    OutboundStatus,
    StopReason,
)
from ..unsubscribe import unsubscribe_url

logger = logging.getLogger(__name__)

CAP_WINDOW = dt.timedelta(days=7)
# Rows that count towards the frequency cap: queued, in flight or delivered.
CAP_STATUSES = (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.SENT)
# Enrolments handled per transaction by the scheduler: ~1 s of rendering, short row locks.
SCHEDULE_BATCH_SIZE = 500
DISPATCH_TASK = "engagement.journeys_dispatch"


# --- Settings and time ------------------------------------------------------------------------


def journey_settings() -> JourneySettings:
    row, _ = JourneySettings.objects.get_or_create(
        pk=1, defaults={"weekly_cap": getattr(settings, "JOURNEY_WEEKLY_CAP", 2)}
    )
    return row


def journey_settings_update(
    *, user: Any, sending_paused: bool, paused_reason: str = "", weekly_cap: int
) -> None:
    """Global kill switch and frequency cap; CS Leadership only."""
    if not roles.is_leader(user):
        raise PermissionDenied("Only CS Leadership may change journey settings.")
    if not 1 <= weekly_cap <= 14:
        raise ValidationError({"weekly_cap": ["Choose between 1 and 14 emails per 7 days."]})
    journey_settings()
    JourneySettings.objects.filter(pk=1).update(
        sending_paused=sending_paused,
        paused_reason=paused_reason[:255] if sending_paused else "",
        weekly_cap=weekly_cap,
        updated_by=user,
        updated_at=timezone.now(),
    )


def recipient_zone(*, contact: Contact, account: Account) -> ZoneInfo:
    """The contact's own time zone, else the account region's, else UTC."""
    for name in (contact.time_zone, REGION_TIME_ZONES.get(account.region, "")):  # type: ignore[call-overload]
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def step_due_at(
    *, step: JourneyStep, enrolled_at: dt.datetime, previous_at: dt.datetime, zone: ZoneInfo
) -> dt.datetime:
    """When ``step`` is due. Days are calendar days in the recipient's zone (a 7-day delay keeps
    the local time of day across a DST change); hours are elapsed hours."""
    base = enrolled_at if step.delay_from == DelayFrom.ENROLMENT else previous_at
    local = base.astimezone(zone) + dt.timedelta(days=step.delay_days)  # wall-clock arithmetic
    return local.astimezone(dt.UTC) + dt.timedelta(hours=step.delay_hours)


def window_opening(*, journey: Journey, zone: ZoneInfo, at: dt.datetime) -> dt.datetime:
    """``at`` when the send window is open then; otherwise the next moment it opens."""
    local = at.astimezone(zone)
    for days_ahead in range(0, 8):
        day = local.date() + dt.timedelta(days=days_ahead)
        if not journey.send_on_weekends and day.weekday() >= 5:
            continue
        opens = dt.datetime.combine(day, journey.send_window_start, tzinfo=zone)
        closes = dt.datetime.combine(day, journey.send_window_end, tzinfo=zone)
        if local < closes:
            return max(local, opens).astimezone(dt.UTC)
    return at  # unreachable with a valid window; never postpone forever


def contact_problem(contact: Contact) -> str:
    """The StopReason that forbids mailing ``contact``, or "" when it may be mailed."""
    if contact.unsubscribed_at is not None:
        return StopReason.UNSUBSCRIBED
    if contact.email_opt_out:
        return StopReason.OPTED_OUT
    if contact.bounced_at is not None:
        return StopReason.BOUNCED
    try:
        validate_email(contact.email)
    except ValidationError:
        return StopReason.INVALID_ADDRESS
    return ""


# --- Rendering (shared by preview, dry run and send) -----------------------------------------


def email_context(*, contact: Contact, account: Account) -> dict[str, dict[str, str]]:
    csm = account.csm
    first_name = (contact.name or "").split(" ")[0] if contact.name else ""
    return {
        "contact": {"name": contact.name, "first_name": first_name, "email": contact.email},
        "account": {"name": account.name},
        "csm": {
            "name": csm.get_full_name() or csm.username if csm else "",
            "first_name": (csm.first_name or csm.username) if csm else "",
            "email": csm.email if csm else "",
        },
        "tier": {"code": account.tier_code, "name": account.tier_name},
        "links": {**journey_links(), "unsubscribe": unsubscribe_url(contact_id=contact.pk)},
    }


def step_render(*, step: JourneyStep, contact: Contact, account: Account) -> RenderedEmail:
    """Render ``step`` for ``contact``: the preview shows exactly what would be sent."""
    return render_email(
        subject=step.subject_template,
        body_text=step.body_text_template,
        body_html=step.body_html_template,
        context=email_context(contact=contact, account=account),
    )


# --- Enrolment and exits ----------------------------------------------------------------------


def _first_due(journey_steps: list[JourneyStep], *, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    if not journey_steps:
        return None
    return step_due_at(step=journey_steps[0], enrolled_at=now, previous_at=now, zone=zone)


def _enrolments_create(
    *, journey: Journey, contacts: Iterable[Contact], source: str, user: Any = None, now: dt.datetime
) -> list[JourneyEnrolment]:
    """Enrol the mailable ``contacts`` not enrolled yet; returns the new enrolments."""
    steps = list(journey.steps.order_by("position"))
    if not steps:
        return []
    # A journey bound to a tier only takes accounts in that tier (a late enrolment task must not
    # enrol an account that has already moved on).
    in_tier = [c for c in contacts if not journey.tier_code or c.account.tier_code == journey.tier_code]
    contacts = [contact for contact in in_tier if not contact_problem(contact)]
    already = JourneyEnrolment.objects.filter(journey=journey, contact__in=contacts)
    enrolled = set(already.values_list("contact_id", flat=True))
    new = [
        JourneyEnrolment(
            journey=journey,
            contact=contact,
            account_id=contact.account_id,
            source=source[:80],
            enrolled_at=now,
            enrolled_by=user,
            next_position=steps[0].position,
            next_due_at=_first_due(
                steps, now=now, zone=recipient_zone(contact=contact, account=contact.account)
            ),
        )
        for contact in contacts
        if contact.pk not in enrolled
    ]
    # A concurrent enrolment of the same contact loses on the unique constraint: never twice.
    JourneyEnrolment.objects.bulk_create(new, ignore_conflicts=True)
    return new


@transaction.atomic
def enrolment_start_for_account(*, journey_code: str, account_id: int, source: str) -> int:
    """Enrol the account's mailable contacts in the journey; returns how many were enrolled."""
    journey = Journey.objects.filter(code=journey_code).first()
    if journey is None:
        raise ValidationError({"journey_code": [f"Unknown journey “{journey_code}”."]})
    contacts = Contact.objects.filter(account_id=account_id).select_related("account").order_by("id")
    return len(_enrolments_create(journey=journey, contacts=contacts, source=source, now=timezone.now()))


def _require_account_access(user: Any, account: Account) -> None:
    if roles.is_leader(user):
        return
    if roles.is_csm(user) and account.csm_id == user.pk:
        return
    raise PermissionDenied("Only the account's CSM or CS Leadership may change its journeys.")


@transaction.atomic
def enrolment_start(
    *, user: Any, journey: Journey, contact: Contact, source: str = "manual"
) -> JourneyEnrolment:
    """Enrol one contact by hand. Refuses contacts that may not be mailed, and second enrolments."""
    _require_account_access(user, contact.account)
    problem = contact_problem(contact)
    if problem:
        raise ValidationError({"contact": [f"{contact} cannot be enrolled: {StopReason(problem).label}."]})
    if journey.tier_code and contact.account.tier_code != journey.tier_code:
        raise ValidationError(
            {"journey": [f"{journey.name} is for {journey.tier_code} accounts; this account is "
                         f"{contact.account.tier_code or 'not tiered'}."]}
        )
    if JourneyEnrolment.objects.filter(journey=journey, contact=contact).exists():
        raise ValidationError({"contact": [f"{contact} is already enrolled in {journey.name}."]})
    created = _enrolments_create(
        journey=journey, contacts=[contact], source=source, user=user, now=timezone.now()
    )
    if not created:
        raise ValidationError({"journey": [f"{journey.name} has no steps yet."]})
    return created[0]


def _stop(queryset: QuerySet[JourneyEnrolment], *, reason: str, user: Any = None) -> int:
    now = timezone.now()
    ids = list(queryset.filter(status=EnrolmentStatus.ACTIVE).values_list("id", flat=True))
    if not ids:
        return 0
    stopped = JourneyEnrolment.objects.filter(id__in=ids, status=EnrolmentStatus.ACTIVE).update(
        status=EnrolmentStatus.STOPPED,
        stop_reason=reason,
        stopped_at=now,
        stopped_by=user,
        next_due_at=None,
        next_position=None,
        waiting_reason="",
    )
    # Queued but unsent emails of a stopped enrolment are never sent.
    OutboundEmail.objects.filter(enrolment_id__in=ids, status=OutboundStatus.PENDING).update(
        status=OutboundStatus.CANCELLED, detail=f"Enrolment stopped: {StopReason(reason).label}."
    )
    return stopped


@transaction.atomic
def enrolment_stop(*, user: Any, enrolment: JourneyEnrolment) -> int:
    """A CSM stops an enrolment from the account page."""
    _require_account_access(user, enrolment.account)
    return _stop(
        JourneyEnrolment.objects.filter(pk=enrolment.pk), reason=StopReason.STOPPED_BY_CSM, user=user
    )


@transaction.atomic
def enrolments_stop_for_account(*, user: Any, account: Account) -> int:
    _require_account_access(user, account)
    return _stop(
        JourneyEnrolment.objects.filter(account=account), reason=StopReason.STOPPED_BY_CSM, user=user
    )


@transaction.atomic
def enrolments_stop_for_tier_change(*, account_id: int, to_code: str) -> int:
    """The account left a journey's tier: its enrolments in journeys bound to other tiers stop."""
    queryset = JourneyEnrolment.objects.filter(account_id=account_id).exclude(journey__tier_code="")
    return _stop(queryset.exclude(journey__tier_code=to_code), reason=StopReason.TIER_LEFT)


@transaction.atomic
def contact_unsubscribe(*, contact_id: int) -> bool:
    """Unsubscribe a contact from all journeys at once. True when this call unsubscribed them.

    The opt-out is kept on the contact; the CRM sync never clears it.
    """
    now = timezone.now()
    changed = Contact.objects.filter(pk=contact_id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now, email_opt_out=True, updated_at=now
    )
    _stop(JourneyEnrolment.objects.filter(contact_id=contact_id), reason=StopReason.UNSUBSCRIBED)
    return bool(changed)


@transaction.atomic
def contact_bounced(*, contact_id: int) -> None:
    """A hard bounce (e.g. from an email provider's webhook): stop mailing the address."""
    now = timezone.now()
    Contact.objects.filter(pk=contact_id, bounced_at__isnull=True).update(bounced_at=now, updated_at=now)
    _stop(JourneyEnrolment.objects.filter(contact_id=contact_id), reason=StopReason.BOUNCED)


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
    _enrolments_write_progress(changed)
    for reason, ids in stops.items():
        _stop(JourneyEnrolment.objects.filter(id__in=ids), reason=reason)


def _enrolments_write_progress(enrolments: list[JourneyEnrolment]) -> None:
    """Write each enrolment's new position, due time and wait reason in one statement.

    ``UPDATE ... FROM (VALUES ...)`` (PostgreSQL, SQLite ≥ 3.33): ORM ``bulk_update`` builds a
    CASE per column and row and costs more than the rendering of the emails themselves.
    """
    if not enrolments:
        return
    ops = connection.ops
    table = connection.ops.quote_name(JourneyEnrolment._meta.db_table)
    cast = "::bigint" if connection.vendor == "postgresql" else ""
    rows: list[str] = []
    params: list[Any] = []
    for e in enrolments:
        rows.append("(%s, %s, %s, %s, %s, %s)")
        params += [e.pk, e.status, e.next_position, ops.adapt_datetimefield_value(e.next_due_at),
                   e.waiting_reason, e.capped_count]
    cast_int = "::integer" if connection.vendor == "postgresql" else ""
    cast_time = "::timestamptz" if connection.vendor == "postgresql" else ""
    sql = (
        f"WITH v(id, status, next_position, next_due_at, waiting_reason, capped_count) AS "
        f"(VALUES {', '.join(rows)}) "
        f"UPDATE {table} SET status = v.status, next_position = v.next_position{cast_int}, "
        f"next_due_at = v.next_due_at{cast_time}, waiting_reason = v.waiting_reason, "
        f"capped_count = v.capped_count{cast_int} FROM v WHERE {table}.id = v.id{cast}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


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
