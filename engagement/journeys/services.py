"""Journey enrolment and exits, settings, recipient time, and the rendering every path shares.

The preview, the dry run and the sender all render through ``step_render``; the scheduler and
the dry run decide through ``engagement.journeys.schedule``. What is previewed is what is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import REGION_TIME_ZONES, Account, Contact
from csplatform import authorization
from playbooks.journey_templates import RenderedEmail, journey_links, render_email
from playbooks.models import DelayFrom, Journey, JourneyStep, JourneyStepKind

from ..models import (
    EnrolmentStatus,
    JourneyEnrolment,
    JourneySettings,
    OutboundEmail,
    OutboundStatus,
    StopReason,
)
from .unsubscribe import unsubscribe_url

if TYPE_CHECKING:
    from csplatform.models import User

logger = logging.getLogger(__name__)


# --- Settings and time ------------------------------------------------------------------------


def journey_settings() -> JourneySettings:
    row, _ = JourneySettings.objects.get_or_create(
        pk=1, defaults={"weekly_cap": getattr(settings, "JOURNEY_WEEKLY_CAP", 2)}
    )
    return row


def journey_settings_update(
    *, user: User, sending_paused: bool, paused_reason: str = "", weekly_cap: int
) -> None:
    """Global kill switch and frequency cap; CS Leadership only."""
    if not authorization.may_manage_policies(user):
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
    """Render ``step`` for ``contact``: the preview shows exactly what would be sent.

    A survey step's email carries, after its body, the question with one link per score."""
    rendered = render_email(
        subject=step.subject_template,
        body_text=step.body_text_template,
        body_html=step.body_html_template,
        context=email_context(contact=contact, account=account),
    )
    if step.kind != JourneyStepKind.SURVEY:
        return rendered
    from ..surveys.services import survey_block, survey_for_step

    text, html = survey_block(survey=survey_for_step(step), contact_id=contact.pk)
    return RenderedEmail(
        subject=rendered.subject,
        body_text=f"{rendered.body_text.rstrip()}\n\n{text}",
        body_html=f"{rendered.body_html}\n{html}",
    )


# --- Enrolment and exits ----------------------------------------------------------------------


def _first_due(journey_steps: list[JourneyStep], *, now: dt.datetime, zone: ZoneInfo) -> dt.datetime | None:
    if not journey_steps:
        return None
    return step_due_at(step=journey_steps[0], enrolled_at=now, previous_at=now, zone=zone)


def _enrolments_create(
    *, journey: Journey, contacts: Iterable[Contact], source: str, user: User | None = None, now: dt.datetime
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


def _require_account_access(user: User, account: Account) -> None:
    if not authorization.may_do_cs_work(user, account):
        raise PermissionDenied("Only the account's CSM or CS Leadership may change its journeys.")


@transaction.atomic
def enrolment_start(
    *, user: User, journey: Journey, contact: Contact, source: str = "manual"
) -> JourneyEnrolment:
    """Enrol one contact by hand. Refuses contacts that may not be mailed, and second enrolments."""
    _require_account_access(user, contact.account)
    problem = contact_problem(contact)
    if problem:
        raise ValidationError({"contact": [f"{contact} cannot be enrolled: {StopReason(problem).label}."]})
    if journey.tier_code and contact.account.tier_code != journey.tier_code:
        raise ValidationError(
            {
                "journey": [
                    f"{journey.name} is for {journey.tier_code} accounts; this account is "
                    f"{contact.account.tier_code or 'not tiered'}."
                ]
            }
        )
    if JourneyEnrolment.objects.filter(journey=journey, contact=contact).exists():
        raise ValidationError({"contact": [f"{contact} is already enrolled in {journey.name}."]})
    created = _enrolments_create(
        journey=journey, contacts=[contact], source=source, user=user, now=timezone.now()
    )
    if not created:
        raise ValidationError({"journey": [f"{journey.name} has no steps yet."]})
    return created[0]


def enrolments_stop_where(
    queryset: QuerySet[JourneyEnrolment], *, reason: str, user: User | None = None
) -> int:
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
def enrolment_stop(*, user: User, enrolment: JourneyEnrolment) -> int:
    """A CSM stops an enrolment from the account page."""
    _require_account_access(user, enrolment.account)
    return enrolments_stop_where(
        JourneyEnrolment.objects.filter(pk=enrolment.pk), reason=StopReason.STOPPED_BY_CSM, user=user
    )


@transaction.atomic
def enrolments_stop_for_account(*, user: User, account: Account) -> int:
    _require_account_access(user, account)
    return enrolments_stop_where(
        JourneyEnrolment.objects.filter(account=account), reason=StopReason.STOPPED_BY_CSM, user=user
    )


@transaction.atomic
def enrolments_stop_for_tier_change(*, account_id: int, to_code: str) -> int:
    """The account left a journey's tier: its enrolments in journeys bound to other tiers stop."""
    queryset = JourneyEnrolment.objects.filter(account_id=account_id).exclude(journey__tier_code="")
    return enrolments_stop_where(queryset.exclude(journey__tier_code=to_code), reason=StopReason.TIER_LEFT)


@transaction.atomic
def contact_unsubscribe(*, contact_id: int) -> bool:
    """Unsubscribe a contact from all journeys at once. True when this call unsubscribed them.

    The opt-out is kept on the contact; the CRM sync never clears it.
    """
    now = timezone.now()
    changed = Contact.objects.filter(pk=contact_id, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now, email_opt_out=True, updated_at=now
    )
    of_contact = JourneyEnrolment.objects.filter(contact_id=contact_id)
    enrolments_stop_where(of_contact, reason=StopReason.UNSUBSCRIBED)
    return bool(changed)


@transaction.atomic
def contact_bounced(*, contact_id: int) -> None:
    """A hard bounce (e.g. from an email provider's webhook): stop mailing the address."""
    now = timezone.now()
    Contact.objects.filter(pk=contact_id, bounced_at__isnull=True).update(bounced_at=now, updated_at=now)
    enrolments_stop_where(JourneyEnrolment.objects.filter(contact_id=contact_id), reason=StopReason.BOUNCED)
