"""Demo journeys: low-touch accounts of the seed are enrolled in their tier's journey, some weeks
ago, with the emails already due sent (the outbox as the worker would have left it).

Bounded (``DEMO_JOURNEY_ACCOUNTS`` accounts per journey) and derived from the seed; safe to run
twice (nothing happens once any enrolment exists).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Contact
from accounts.seeding import DEMO_CRM_SOURCE
from playbooks.models import Journey, JourneyStep

from ..journeys.services import contact_problem, recipient_zone, step_due_at, step_render, window_opening
from ..models import EnrolmentStatus, JourneyEnrolment, OutboundEmail, OutboundStatus

DEMO_JOURNEY_ACCOUNTS = 300
DEMO_SOURCE = "demo: entered the tier"


@transaction.atomic
def demo_journeys_create(*, seed: int, now: dt.datetime | None = None) -> int:
    """Enrol demo accounts of each tier-bound journey; returns the enrolments created."""
    if JourneyEnrolment.objects.filter(source=DEMO_SOURCE).exists():
        return 0
    now = now or timezone.now()
    rng = random.Random(f"csplatform-demo-journeys:{seed}")
    created = 0
    for journey in Journey.objects.exclude(tier_code="").order_by("pk"):
        steps = list(journey.steps.order_by("position"))
        if not steps:
            continue
        contacts = list(
            Contact.objects.filter(
                account__crm_source=DEMO_CRM_SOURCE,
                account__tier_code=journey.tier_code,
                account__in=_first_accounts(journey.tier_code),
            )
            .select_related("account", "account__csm")
            .order_by("account_id", "id")
        )
        by_account: dict[int, list[Contact]] = {}
        for contact in contacts:
            if not contact_problem(contact):
                by_account.setdefault(contact.account_id, []).append(contact)
        for account_contacts in by_account.values():
            enrolled_at = now - dt.timedelta(days=rng.randint(1, 75), hours=rng.randint(0, 12))
            for contact in account_contacts:
                created += _enrol(journey, steps, contact, enrolled_at=enrolled_at, now=now)
    return created


def _first_accounts(tier_code: str) -> list[int]:
    from accounts.models import Account

    return list(
        Account.objects.filter(crm_source=DEMO_CRM_SOURCE, tier_code=tier_code)
        .order_by("pk")
        .values_list("pk", flat=True)[:DEMO_JOURNEY_ACCOUNTS]
    )


def _enrol(
    journey: Journey,
    steps: list[JourneyStep],
    contact: Contact,
    *,
    enrolled_at: dt.datetime,
    now: dt.datetime,
) -> int:
    zone = recipient_zone(contact=contact, account=contact.account)
    try:
        # A playbook may have enrolled the contact meanwhile (the demo's review moved its account).
        with transaction.atomic():
            enrolment = JourneyEnrolment.objects.create(
                journey=journey,
                contact=contact,
                account_id=contact.account_id,
                source=DEMO_SOURCE,
                enrolled_at=enrolled_at,
                status=EnrolmentStatus.COMPLETED,
                next_position=None,
                next_due_at=None,
            )
    except IntegrityError:
        return 0
    previous = enrolled_at
    emails = []
    for step in steps:
        due = window_opening(
            journey=journey,
            zone=zone,
            at=step_due_at(step=step, enrolled_at=enrolled_at, previous_at=previous, zone=zone),
        )
        if due > now:
            enrolment.status = EnrolmentStatus.ACTIVE
            enrolment.next_position = step.position
            enrolment.next_due_at = due
            break
        rendered = step_render(step=step, contact=contact, account=contact.account)
        emails.append(
            OutboundEmail(
                enrolment=enrolment,
                step=step,
                journey=journey,
                account_id=contact.account_id,
                contact=contact,
                status=OutboundStatus.SENT,
                to_email=contact.email,
                to_name=" ".join(contact.name.split())[:200],
                subject=rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
                module_code=step.module_code,
                attempts=1,
                created_at=due,
                claimed_at=due,
                sent_at=due,
                message_id=f"<demo-{enrolment.pk}-{step.position}@csplatform.demo>",
            )
        )
        previous = due
    enrolment.save(update_fields=["status", "next_position", "next_due_at"])
    OutboundEmail.objects.bulk_create(emails)
    return 1
