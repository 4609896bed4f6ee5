"""Journey emails through the outbox against Django's own ``send_messages`` on the same backend.

50,000 enrolments whose step is due are turned into outbox rows (decided, rendered, stored:
``journey_schedule``), then the due rows are dispatched by the outbox sender (claim
``pending → sending``, build the message with its unsubscribe headers, send, record ``sent``
with the message id) to the locmem email backend (``journey_dispatch``). The baseline hands
the very same messages, already built, to the same backend's ``send_messages`` in one call: the
cost of the backend alone. The ratio says what share of the backend's speed survives the
outbox's bookkeeping (higher is better).

Data is written under a throwaway CRM source and journey code and deleted afterwards.
``BENCH_JOURNEY_EMAILS`` makes the run shorter while developing.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from bench.common import Context, Result

ORDER = 60
GOAL = 0.5
SOURCE = "bench-journeys"
CONTACTS_PER_ACCOUNT = 10


def _cleanup() -> None:
    from accounts.models import Account
    from engagement.models import JourneyEnrolment, OutboundEmail
    from playbooks.models import Journey

    journeys = Journey.objects.filter(code=SOURCE)
    OutboundEmail.objects.filter(journey__in=journeys).delete()
    JourneyEnrolment.objects.filter(journey__in=journeys).delete()
    journeys.delete()
    Account.objects.filter(crm_source=SOURCE).delete()


def _prepare(count: int, now: dt.datetime) -> None:
    """``count`` contacts with their only step due now, in a window that is always open."""
    from accounts.models import Account, Contact
    from engagement.models import JourneyEnrolment
    from playbooks.models import Journey, JourneyStep

    journey = Journey.objects.create(
        code=SOURCE,
        name="Bench journey",
        send_on_weekends=True,
        send_window_start=dt.time(0, 0),
        send_window_end=dt.time(23, 59, 59),
    )
    step = JourneyStep.objects.create(
        journey=journey,
        position=1,
        name="Welcome",
        delay_from="enrolment",
        subject_template="Welcome to {{ account.name }}, {{ contact.first_name }}",
        body_text_template=(
            'Hi {{ contact.first_name|default:"there" }},\n\nwelcome on board! Three things for your first '
            "30 minutes:\n\n  1. Connect your data source\n  2. Create a workspace\n"
            "  3. Invite a colleague\n\n"
            'Guide: {{ links.help_center }}\n\n{{ csm.first_name|default:"The team" }}\n\n'
            "Unsubscribe: {{ links.unsubscribe }}\n"
        ),
    )
    accounts = Account.objects.bulk_create(
        (
            Account(crm_source=SOURCE, external_id=str(n), name=f"Bench Customer {n}", region="EMEA")
            for n in range(count // CONTACTS_PER_ACCOUNT)
        ),
        batch_size=2000,
    )
    contacts = Contact.objects.bulk_create(
        (
            Contact(account=a, email=f"p{i}.{a.pk}@bench.example", name=f"Person {i}")
            for a in accounts
            for i in range(CONTACTS_PER_ACCOUNT)
        ),
        batch_size=5000,
    )
    JourneyEnrolment.objects.bulk_create(
        (
            JourneyEnrolment(
                journey=journey,
                contact=c,
                account_id=c.account_id,
                source="bench",
                enrolled_at=now,
                next_position=step.position,
                next_due_at=now,
            )
            for c in contacts
        ),
        batch_size=5000,
    )


def run(ctx: Context) -> list[Result]:
    from django.core import mail
    from django.core.mail import get_connection
    from django.test.utils import override_settings
    from django.utils import timezone

    from engagement.journeys import schedule as journey_services
    from engagement.journeys.sending import outbound_dispatch, outbound_message
    from engagement.models import OutboundEmail

    count = int(os.environ.get("BENCH_JOURNEY_EMAILS", "50000"))
    _cleanup()
    now = timezone.now()
    _prepare(count, now)
    enqueue = journey_services.enqueue
    journey_services.enqueue = lambda *args, **kwargs: None  # the bench runs the sender itself
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            started = time.perf_counter()
            scheduled = journey_services.journey_due_steps_schedule(now=now)
            schedule_seconds = time.perf_counter() - started
            started = time.perf_counter()
            sent = outbound_dispatch()
            outbox_seconds = time.perf_counter() - started
            delivered = len(mail.outbox)

            rows = list(OutboundEmail.objects.filter(journey__code=SOURCE).order_by("id"))
            connection = get_connection()
            messages = [outbound_message(row, connection=connection) for row in rows]
            mail.outbox = []
            started = time.perf_counter()
            connection.send_messages(messages)
            baseline_seconds = time.perf_counter() - started
            mail.outbox = []
    finally:
        journey_services.enqueue = enqueue
        _cleanup()

    assert scheduled["queued"] == count and sent["sent"] == count and delivered == count, (scheduled, sent)
    rate = count / outbox_seconds
    baseline = count / baseline_seconds
    schedule_rate = count / schedule_seconds
    return [
        Result(
            "journey_dispatch",
            round(rate, 1),
            "emails/s",
            ratio=rate / baseline,
            goal=GOAL,
            higher_is_better=True,
            note=(
                f"{count} due outbox rows claimed, sent and recorded in {outbox_seconds:.1f} s; "
                f"send_messages of the same messages on the same backend: {baseline:.0f}/s"
            ),
        ),
        Result(
            "journey_schedule",
            round(schedule_rate, 1),
            "steps/s",
            ratio=schedule_rate / baseline,
            higher_is_better=True,
            note=(
                f"{count} due steps decided (window, cap, skip), rendered and queued "
                f"in {schedule_seconds:.1f} s; "
                "ratio to the same send_messages baseline"
            ),
        ),
    ]
